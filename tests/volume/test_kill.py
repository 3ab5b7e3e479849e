"""A landlord killed (SIGKILL) while it clones a volume and serves an export: its exports die
with it, and the restart leaves no half volume, no stray file, and the export back."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from keystoneauth1 import session as ks_session

from tests.test_ocx_up import session, start, stop, wait_for_clouds
from tests.volume.nbdtools import nbdcopy, nbdinfo, uri

TOPOLOGY = """
[exchange]
base_port = 0
password_hash = { time_cost = 1, memory_kib = 1024, parallelism = 1 }

[[landlords]]
name = "stor"
parts = ["identity", "volume"]
"""
V3 = {"OpenStack-API-Version": "volume 3.67"}


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


def test_kill_during_clone_and_restart(tmp_path: Path) -> None:
    topology = tmp_path / "topology.toml"
    topology.write_text(TOPOLOGY)
    data = tmp_path / "data"
    clouds_path = data / "clouds.yaml"
    proc = start(data, topology)
    sess = session(wait_for_clouds(clouds_path, proc)["stor"])
    source = call(sess, "POST", "/volumes", {"volume": {"size": 1, "name": "source"}})["volume"]
    body = {"volume_uuid": source["id"], "connector": {"host": "c1"}}
    att = call(sess, "POST", "/attachments", {"attachment": body})["attachment"]
    call(sess, "POST", f"/attachments/{att['id']}/action", {"os-complete": None})
    target = uri(att["connection_info"], tmp_path)
    payload = tmp_path / "payload"
    payload.write_bytes(os.urandom(128 * 1024 * 1024))
    assert nbdcopy(str(payload), target).returncode == 0
    exports = data / "stor" / "volume" / "exports"
    (pidfile,) = exports.glob("*.pid")
    export_pid = int(pidfile.read_text())
    clone = call(sess, "POST", "/volumes", {"volume": {"source_volid": source["id"]}})["volume"]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    deadline = time.time() + 30
    while alive(export_pid) and time.time() < deadline:
        time.sleep(0.05)
    assert not alive(export_pid), "the export outlived its landlord"

    mtime = clouds_path.stat().st_mtime
    proc = start(data, topology)
    try:
        sess = session(wait_for_clouds(clouds_path, proc, mtime)["stor"])
        volumes = {v["id"]: v for v in call(sess, "GET", "/volumes/detail")["volumes"]}
        assert volumes[source["id"]]["status"] == "in-use"
        assert volumes[clone["id"]]["status"] in ("available", "error")
        folder = data / "stor" / "volume" / "volumes"
        names = sorted(p.name for p in folder.iterdir())
        kept = [source["id"]] + (
            [clone["id"]] if volumes[clone["id"]]["status"] == "available" else []
        )
        assert names == sorted(f"{v}.img" for v in kept)
        # The attachment's export is back, on the same port with the same key.
        assert nbdinfo(target, "--size").returncode == 0
        call(sess, "DELETE", f"/volumes/{clone['id']}")
    finally:
        stop(proc)
    leftovers = subprocess.run(["pgrep", "-f", str(exports)], capture_output=True, text=True)
    assert leftovers.stdout.strip() == ""
