"""The write path without a network: a provider that fails after taking a whole share
(the last part's body included) fails the write by name, and the write never hangs."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import pytest

from ocx.vault import crypto
from ocx.vault.codec import Codec
from ocx.vault.errors import ProviderFailed
from ocx.vault.manifest import Manifest
from ocx.vault.providers import Offering
from ocx.vault.store import Access, Store, StoreError
from ocx.vault.writer import Plan, Writer


class MemoryStore(Store):
    def __init__(self, landlord: str, fail_after_body: bool = False):
        super().__init__(landlord, lambda renew: Access("http://unused", "t"))
        self.objects: dict[str, bytes] = {}
        self.fail_after_body = fail_after_body

    def ensure(self) -> None:
        pass

    def put(self, name: str, content: bytes | Iterable[bytes]) -> None:
        body = content if isinstance(content, bytes) else b"".join(content)
        if self.fail_after_body and name.startswith("d/"):
            raise StoreError(self.landlord, "unreachable", "507 after the body")
        self.objects[name] = body

    def list(self, prefix: str) -> list[str]:
        return [n for n in self.objects if n.startswith(prefix)]

    def delete(self, name: str) -> None:
        self.objects.pop(name, None)


@pytest.mark.parametrize("segments", [1, 3, 4])
def test_a_provider_failing_after_the_last_part_fails_the_write(segments: int) -> None:
    stores = [MemoryStore("a"), MemoryStore("b", fail_after_body=True), MemoryStore("c")]
    offers = tuple(Offering(s.landlord, s.landlord, s.landlord) for s in stores)
    outcome: list[BaseException] = []

    def write() -> None:
        with ThreadPoolExecutor(1) as pool:
            writer = Writer(
                list(stores), Codec(2, 3), pool, crypto.Signer.generate(), crypto.new_key(), None
            )
            plan = Plan("n", "id", 1, 1024, 2, 2, offers)
            try:
                writer.write(plan, io.BytesIO(b"x" * 1024 * segments))
            except ProviderFailed as exc:
                outcome.append(exc)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the write hung"
    assert len(outcome) == 1 and "write failed at b: unreachable" in str(outcome[0])
    assert all(not s.list("d/") and not s.list("m/") for s in stores)  # nothing left behind


def write_with(stores: list[MemoryStore], k: int, quorum: int) -> Manifest:
    offers = tuple(Offering(s.landlord, s.landlord, s.landlord) for s in stores)
    with ThreadPoolExecutor(1) as pool:
        writer = Writer(
            list(stores), Codec(k, len(stores)), pool, crypto.Signer.generate(), b"m" * 32, None
        )
        plan = Plan("n", "id", 1, 1024, 2, k, offers, quorum)
        return writer.write(plan, io.BytesIO(b"x" * 5000))


def test_a_write_goes_on_without_a_provider_while_the_quorum_remains() -> None:
    stores = [MemoryStore("a"), MemoryStore("b", fail_after_body=True), MemoryStore("c")]
    stores.append(MemoryStore("d"))
    manifest = write_with(stores, k=2, quorum=3)
    assert [bool(s.root) for s in manifest.shares] == [True, False, True, True]
    assert [s.key_share_hash for s in manifest.shares][1] == ""
    assert stores[1].objects == {}  # its half share removed, no manifest, no key share
    assert all(s.list("m/") and s.list("t/") and s.list("d/") for s in stores if s.landlord != "b")


def test_a_write_below_its_quorum_fails_naming_every_failed_provider() -> None:
    stores = [MemoryStore("a"), MemoryStore("b", fail_after_body=True)]
    stores += [MemoryStore("c", fail_after_body=True), MemoryStore("d")]
    with pytest.raises(ProviderFailed, match=r"write failed at b: unreachable .*; c: unreachable"):
        write_with(stores, k=2, quorum=3)
    assert all(s.objects == {} for s in stores)
