"""What OpenStack's Tempest found the proxy (region ``ocx``) doing differently from Swift,
each fixed and checked here with python-swiftclient (``docs/interop.md``)."""

from __future__ import annotations

import re

from swiftclient import client as swift

from tests.proxy.conftest import placed

TRANS_ID = re.compile(r"^tx[0-9a-f]{21}-[0-9a-f]{10}$")


def test_the_proxy_answers_with_its_own_transaction_id(alice: swift.Connection) -> None:
    created = placed(alice, "tx", "mit")
    headers = alice.head_container("tx")
    assert TRANS_ID.match(headers["x-trans-id"])
    assert headers["x-openstack-request-id"] == headers["x-trans-id"]
    # The landlord's own id is kept apart, for tracing, and never doubles Swift's header.
    assert TRANS_ID.match(headers["x-ocx-upstream-request-id"])
    assert headers["x-ocx-upstream-request-id"] != headers["x-trans-id"]
    assert created["x-trans-id"] != headers["x-trans-id"]
