"""Share data is read over kept-alive connections: reused from one read to the next, and
replaced when the server has closed one meanwhile; a connection cut in the middle of a
share names that provider, and the read goes on from a spare."""

from __future__ import annotations

import socket

import pytest

from ocx.vault.store import Store, StoreError
from ocx.vault.vault import Vault
from tests.vault.helpers import SEGMENT, World, data, get, put, store_of

PAYLOAD = data(8 * SEGMENT + 3, seed=11)


@pytest.fixture
def vault(world: World) -> Vault:
    found = world.vault()
    put(found, "scan", PAYLOAD)
    return found


def kept(store: Store) -> list[socket.socket]:
    return [conn.sock for idle in store._bulk._idle.values() for conn in idle if conn.sock]


def test_reads_reuse_their_connections(vault: Vault) -> None:
    assert get(vault, "scan") == (PAYLOAD, [])
    first = {store.landlord: kept(store) for store in vault.stores}
    assert sum(len(s) for s in first.values()) == vault.config.k  # one per share read
    assert get(vault, "scan") == (PAYLOAD, [])
    for store in vault.stores:
        assert kept(store) == first[store.landlord]  # the very same sockets
    vault.close()


def test_a_connection_the_server_closed_is_replaced(vault: Vault) -> None:
    get(vault, "scan")
    for store in vault.stores:
        for sock in kept(store):
            sock.shutdown(socket.SHUT_RDWR)  # as a server closing an idle connection
    assert get(vault, "scan") == (PAYLOAD, [])
    vault.close()


def test_a_short_range_is_truncated_not_an_error(vault: Vault) -> None:
    store = store_of(vault, "harvard")
    name = next(n for n in store.list("d/"))
    size = len(store.get(name))
    with store.ranged(name, size - 10, 100) as read:
        assert len(read(100)) == 10
    with pytest.raises(StoreError) as caught, store.ranged(name, size + 5, 10) as read:
        read(10)
    assert caught.value.kind == "truncated"
    vault.close()
