"""Storage policies: a Swift configured with none has one, ``Policy-0``, the default, and says
so in ``/info`` (Horizon's container form picks from that list) and on every container."""

from __future__ import annotations

import json
import subprocess

import pytest
from bench.peers.swift import SWIFT_VENV, installed
from swiftclient import client as swift

from ocx.swift.info import policies
from tests.object.conftest import Landlord

IMPLICIT = [{"name": "Policy-0", "aliases": "Policy-0", "default": True}]


def test_info_lists_the_implicit_default_policy_that_containers_are_in(
    landlord: Landlord, alice_conn: swift.Connection
) -> None:
    info = alice_conn.get_capabilities()
    assert info["swift"]["policies"] == IMPLICIT
    alice_conn.put_container("notes")
    policy = alice_conn.head_container("notes")["x-storage-policy"]
    assert policy in {p["name"] for p in info["swift"]["policies"]}


@pytest.mark.skipif(not installed(), reason="no real Swift (bench/peers/install-swift.sh)")
def test_the_list_is_what_real_swift_builds_for_its_implicit_policy() -> None:
    # Swift's proxy registers ``policies=POLICIES.get_policy_info()`` in /info; with no
    # swift.conf, POLICIES holds the implicit Policy-0.
    code = (
        "import json; from swift.common import storage_policy as sp, utils;"
        "utils.SWIFT_CONF_FILE = '/nonexistent/swift.conf'; sp.reload_storage_policies();"
        "print(json.dumps(sp.POLICIES.get_policy_info()))"
    )
    python = str(SWIFT_VENV / "bin" / "python")
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == policies() == IMPLICIT
