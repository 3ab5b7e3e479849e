"""The ``openstack volume …`` commands a customer types, against a live landlord."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.image.helpers import REGIONS
from tests.volume.conftest import Customer, Landlord
from tests.volume.stub_compute import stub_compute

# Each test as the landlord's own volume service sees it, and through its proxy (region ocx).
pytestmark = pytest.mark.parametrize("region", REGIONS)


def as_json(customer: Customer, *args: str) -> Any:
    return json.loads(customer.openstack(*args, "-f", "json").stdout)


def wait_available(customer: Customer, name: str) -> None:
    for _ in range(200):
        if as_json(customer, "volume", "show", name)["status"] == "available":
            return
    raise AssertionError(f"{name} never became available")


def test_volume_commands(stor: Landlord, alice: Customer) -> None:
    made = as_json(alice, "volume", "create", "--size", "1", "v1")
    assert made["name"] == "v1" and made["size"] == 1
    rows = as_json(alice, "volume", "list", "--long")
    assert [(r["Name"], r["Size"], r["Bootable"]) for r in rows] == [("v1", 1, False)]
    shown = as_json(alice, "volume", "show", "v1")
    assert shown["status"] == "available" and shown["type"] == "__DEFAULT__"
    alice.openstack("volume", "set", "--size", "2", "--property", "k=v", "v1")
    shown = as_json(alice, "volume", "show", "v1")
    assert shown["size"] == 2 and shown["properties"] == {"k": "v"}
    snap = as_json(alice, "volume", "snapshot", "create", "--volume", "v1", "s1")
    assert snap["name"] == "s1"
    assert as_json(alice, "volume", "snapshot", "show", "s1")["status"] == "available"
    as_json(alice, "volume", "create", "--snapshot", "s1", "v2")
    wait_available(alice, "v2")
    assert as_json(alice, "volume", "show", "v2")["size"] == 2
    refused = alice.openstack("volume", "delete", "v1", ok=False)
    assert refused.returncode != 0 and "dependent snapshots" in refused.stderr
    alice.openstack("volume", "snapshot", "delete", "s1")
    alice.openstack("volume", "delete", "v1", "v2")
    assert as_json(alice, "volume", "list") == []


def test_types_quota_limits_commands(stor: Landlord, alice: Customer) -> None:
    operator = stor.admin_customer()
    made = as_json(operator, "volume", "type", "create", "--property", "tier=fast", "fast")
    assert made["name"] == "fast"
    names = {r["Name"] for r in as_json(alice, "volume", "type", "list")}
    assert {"__DEFAULT__", "ssd", "fast"} <= names
    as_json(alice, "volume", "create", "--size", "3", "--type", "ssd", "big")
    rows = as_json(alice, "quota", "show")
    quota = {r["Resource"]: r["Limit"] for r in rows}
    assert quota["volumes"] == 10 and quota["gigabytes"] == 1000, rows
    rows = as_json(alice, "limits", "show", "--absolute")
    limits = {r["Name"]: r["Value"] for r in rows}
    # OSC shows the SDK's attribute names for Cinder's maxTotalVolumes, totalGigabytesUsed, ...
    assert limits["max_total_volumes"] == 10, rows
    assert limits["total_gigabytes_used"] == 3 and limits["total_volumes_used"] == 1, rows


def test_attachment_commands(stor: Landlord, alice: Customer) -> None:
    server = str(uuid.uuid4())
    with stub_compute({server: "vm1"}) as nova:
        stor.add_compute(nova)
        alice.openstack("volume", "create", "--size", "1", "v1")
        v327 = ("--os-volume-api-version", "3.27")
        made = as_json(alice, *v327, "volume", "attachment", "create", "v1", "--server", server)
        assert made["Status"] == "reserved" and made["Instance ID"] == server
        listed = as_json(alice, *v327, "volume", "attachment", "list")
        assert [r["ID"] for r in listed] == [made["ID"]]
        assert as_json(alice, "volume", "show", "v1")["status"] == "reserved"
        alice.openstack(*v327, "volume", "attachment", "delete", made["ID"])
        assert as_json(alice, *v327, "volume", "attachment", "list") == []
        assert as_json(alice, "volume", "show", "v1")["status"] == "available"


def test_extension_list(stor: Landlord, alice: Customer, region: str) -> None:
    rows = as_json(alice, "extension", "list", "--volume")
    aliases = {r["Alias"] for r in rows}
    assert {"os-quota-sets", "os-volume-actions", "os-types-manage", "os-used-limits"} <= aliases
    # A landlord has no zones to list; the proxy lists its landlords as zones.
    assert ("os-availability-zone" in aliases) == (region == "ocx"), rows
    assert "os-volume-transfer" not in aliases and "backups" not in aliases
