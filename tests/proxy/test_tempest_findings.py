"""What OpenStack's Tempest found the proxy (region ``ocx``) doing differently from Swift,
each fixed and checked here with python-swiftclient (``docs/interop.md``)."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
import requests
from swiftclient import client as swift
from swiftclient.exceptions import ClientException
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


def test_container_quotas_hold_through_the_proxy(alice: swift.Connection) -> None:
    assert "container_quotas" in alice.get_capabilities()
    placed(alice, "q", "mit", **{"X-Container-Meta-Quota-Bytes": "5"})
    alice.put_object("q", "fits", b"12345")
    with pytest.raises(ClientException) as over:
        alice.put_object("q", "over", b"6")
    assert over.value.http_status == 413
