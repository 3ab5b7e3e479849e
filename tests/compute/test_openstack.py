"""The ``openstack server/flavor/…`` commands and openstacksdk against a live compute."""

from __future__ import annotations

from tests.image.helpers import User


def test_server_lifecycle_with_the_cli(alice: User, image_id: str) -> None:
    made = alice.cli("server", "create", "--flavor", "m1.tiny", "--image", "debian", "--nic",
                     "none", "--wait", "s1", "-f", "json")  # fmt: skip
    assert made["status"] == "ACTIVE"
    assert made["flavor"]["original_name"] == "m1.tiny"
    listed = alice.cli("server", "list", "--long", "-f", "json")
    assert [(s["Name"], s["Status"], s["Power State"]) for s in listed] == [("s1", "ACTIVE", 1)]
    shown = alice.cli("server", "show", "s1", "-f", "json")
    assert shown["id"] == made["id"] and shown["OS-EXT-STS:vm_state"] == "active"
    alice.cli("server", "stop", "s1")
    conn = alice.connect()
    conn.compute.wait_for_server(
        conn.compute.get_server(made["id"]), "SHUTOFF", wait=30, interval=0.2
    )
    alice.cli("server", "start", "s1")
    conn.compute.wait_for_server(
        conn.compute.get_server(made["id"]), "ACTIVE", wait=30, interval=0.2
    )
    alice.cli("server", "reboot", "--wait", "s1")
    log = alice.cli("console", "log", "show", "s1")
    assert "Booting s1" in log and "Rebooting" in log
    alice.cli("server", "delete", "--wait", "s1")
    assert alice.cli("server", "list", "-f", "json") == []


def test_bulk_create_with_the_cli(alice: User, image_id: str) -> None:
    alice.cli("server", "create", "--flavor", "m1.tiny", "--image", image_id, "--nic", "none",
              "--min", "1", "--max", "5", "many")  # fmt: skip
    names = sorted(s["Name"] for s in alice.cli("server", "list", "-f", "json"))
    assert names == [f"many-{i}" for i in range(1, 6)]


def test_flavors_limits_and_quotas_with_the_cli(root: User, alice: User) -> None:
    made = root.cli("flavor", "create", "--vcpus", "2", "--ram", "1024", "--disk", "10",
                    "--property", "hw:fpga=true", "fpga.small", "-f", "json")  # fmt: skip
    assert made["name"] == "fpga.small"
    listed = {f["Name"] for f in alice.cli("flavor", "list", "-f", "json")}
    assert {"m1.tiny", "m1.small", "fpga.small"} <= listed
    shown = alice.cli("flavor", "show", "fpga.small", "-f", "json")
    assert shown["properties"] == {"hw:fpga": "true"}
    alice.cli("flavor", "create", "--vcpus", "1", "--ram", "1", "mine", ok=False)
    limits = alice.cli("limits", "show", "--absolute", "-f", "json")
    assert {"Name": "instances", "Value": 10} in limits
    assert {"Name": "instances_used", "Value": 0} in limits
    quota = alice.cli("quota", "show", "-f", "json")
    assert any(q.get("Resource") == "instances" and q.get("Limit") == 10 for q in quota) or (
        isinstance(quota, dict) and quota.get("instances") == 10
    )


def test_sdk_create_server_wait_returns_active(alice: User, image_id: str) -> None:
    conn = alice.connect()
    server = conn.create_server("sdk1", image="debian", flavor="m1.tiny", wait=True, timeout=60)
    assert server.status == "ACTIVE"
    assert server.public_v4
    conn.delete_server("sdk1", wait=True, timeout=60)
