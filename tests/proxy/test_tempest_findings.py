"""What OpenStack's Tempest found the proxy (region ``ocx``) doing differently from Swift,
each fixed and checked here with python-swiftclient (``docs/interop.md``)."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import requests
from swiftclient import client as swift
from swiftclient.utils import generate_temp_url

from tests.proxy.conftest import Mixed, placed

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


def test_the_proxy_has_swifts_healthcheck(mixed: Mixed) -> None:
    answer = requests.get(mixed.proxy_url + "/healthcheck", timeout=30)
    assert (answer.status_code, answer.text) == (200, "OK")
    assert TRANS_ID.match(answer.headers["x-trans-id"])


def test_a_put_temp_url_allows_head_through_the_proxy(
    mixed: Mixed, alice: swift.Connection
) -> None:
    placed(alice, "temp", "harvard")  # anonymous requests go to the home landlord
    alice.post_account({"X-Account-Meta-Temp-URL-Key": "secret"})
    path = urlparse(alice.get_auth()[0]).path + "/temp/o"
    put = mixed.proxy_url + generate_temp_url(path, 60, "secret", "PUT")
    assert requests.put(put, data=b"data", timeout=30).status_code == 201
    assert requests.head(put, timeout=30).headers["content-length"] == "4"
    assert requests.delete(put, timeout=30).status_code == 401
