"""What OpenStack's Tempest found OCX's Swift doing differently from Swift, each fixed and
checked here with python-swiftclient (``docs/interop.md`` has the Tempest counts)."""

from __future__ import annotations

import re

import pytest
from swiftclient import client as swift
from swiftclient.exceptions import ClientException

TRANS_ID = re.compile(r"^tx[0-9a-f]{21}-[0-9a-f]{10}$")


def test_every_response_carries_a_swift_transaction_id(alice_conn: swift.Connection) -> None:
    alice_conn.put_container("tx")
    headers = alice_conn.head_container("tx")
    assert TRANS_ID.match(headers["x-trans-id"])
    assert headers["x-openstack-request-id"] == headers["x-trans-id"]
    with pytest.raises(ClientException) as missing:
        alice_conn.head_object("tx", "missing")
    assert missing.value.http_status == 404
    error_id = missing.value.http_response_headers["x-trans-id"]
    assert TRANS_ID.match(error_id)
    assert error_id != headers["x-trans-id"]
