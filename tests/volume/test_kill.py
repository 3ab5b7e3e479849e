"""The stor landlord's process killed (SIGKILL, alone, as a crash would) while it clones a volume
and serves an export: the export dies with it, the supervisor starts stor again, and the restart
leaves no half volume and no stray file, and brings the attachment's export back with its data."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from keystoneauth1 import session as ks_session

from ocx.supervisor import pid_of
from tests.ocx_up import answers, running, session, wait_until
from tests.volume.nbdtools import nbdcopy, nbdinfo, uri

TOPOLOGY = """
[exchange]
base_port = 0
password_hash = { time_cost = 1, memory_kib = 1024, parallelism = 1 }

[[landlords]]
name = "stor"
parts = ["identity", "volume"]

[[landlords]]
name = "harvard"
parts = ["identity"]
"""
V3 = {"OpenStack-API-Version": "volume 3.67"}
MIB = 1024 * 1024


def call(sess: ks_session.Session, method: str, path: str, body: object = None) -> dict:  # type: ignore[type-arg]
    url = sess.get_endpoint(service_type="block-storage", interface="public") + path
    resp = sess.request(url, method, json=body, headers=V3, raise_exc=False)
    assert resp.status_code < 300, resp.text
    return resp.json() if resp.content else {}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text(errors="replace")
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def export_pids(exports: Path) -> list[int]:
    return [int(p.read_text()) for p in exports.glob("*.pid") if p.read_text().strip()]


def test_stor_killed_during_a_clone_comes_back_whole(tmp_path: Path) -> None:
    with running(tmp_path, TOPOLOGY) as up:
        data, clouds = up.data, up.clouds
        sess, harvard = session(clouds["stor"]), session(clouds["harvard"])
        source = call(sess, "POST", "/volumes", {"volume": {"size": 1, "name": "source"}})
        source = source["volume"]
        body = {"volume_uuid": source["id"], "connector": {"host": "c1"}}
        att = call(sess, "POST", "/attachments", {"attachment": body})["attachment"]
        call(sess, "POST", f"/attachments/{att['id']}/action", {"os-complete": None})
        target = uri(att["connection_info"], tmp_path)
        payload = tmp_path / "payload"
        payload.write_bytes(os.urandom(128 * MIB))
        assert nbdcopy(str(payload), target).returncode == 0
        exports = data / "stor" / "volume" / "exports"
        (export_pid,) = export_pids(exports)
        stor_pid = pid_of(data, "stor")
        clone = call(sess, "POST", "/volumes", {"volume": {"source_volid": source["id"]}})
        clone = clone["volume"]

        os.kill(stor_pid, signal.SIGKILL)
        # The export was the killed process's child: it goes with it (--exit-with-parent).
        wait_until(lambda: not alive(export_pid), "the export outlived its landlord", 30)
        # The rest of the exchange never stopped.
        assert up.proc.poll() is None and harvard.get_token()
        wait_until(lambda: pid_of(data, "stor") != stor_pid, "stor not restarted")
        versions = sess.get_endpoint(service_type="block-storage", interface="public") + "/"
        wait_until(lambda: answers(sess, versions), "stor's block storage not back")

        sess.invalidate()
        volumes = {v["id"]: v for v in call(sess, "GET", "/volumes/detail")["volumes"]}
        assert volumes[source["id"]]["status"] == "in-use"
        assert volumes[clone["id"]]["status"] in ("available", "error")
        cloned = volumes[clone["id"]]["status"] == "available"
        folder = data / "stor" / "volume" / "volumes"
        kept = [source["id"]] + ([clone["id"]] if cloned else [])
        assert sorted(p.name for p in folder.iterdir()) == sorted(f"{v}.img" for v in kept)
        if cloned:
            with open(folder / f"{clone['id']}.img", "rb") as handle:
                assert handle.read(128 * MIB) == payload.read_bytes()
        # The attachment is as it was, served again by one new export, with the same URI and
        # key, and its data intact.
        shown = call(sess, "GET", f"/attachments/{att['id']}")["attachment"]
        assert shown["status"] == "attached"
        (again,) = export_pids(exports)
        assert again != export_pid and alive(again)
        assert nbdinfo(target, "--size").stdout.strip() == str(1024 * MIB)
        back = tmp_path / "back.raw"
        assert nbdcopy(target, str(back)).returncode == 0
        with open(back, "rb") as handle:
            assert handle.read(128 * MIB) == payload.read_bytes()
        call(sess, "DELETE", f"/volumes/{clone['id']}")
    assert "stor stopped unexpectedly (killed by SIGKILL); restarting" in up.log
    leftovers = subprocess.run(["pgrep", "-f", str(exports)], capture_output=True, text=True)
    assert leftovers.stdout.strip() == ""
