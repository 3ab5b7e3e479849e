"""How long `ocx up` takes to start the default exchange: until clouds.yaml is written.

Runs the default topology on free ports (base_port = 0), first on a fresh data directory
(migrations, keys, demo users), then again on the same one (a restart), and prints both.
The goal is under 10 s for the fresh start. On a shared machine the wall time grows with the
load, so the load average is printed beside it, and so is the CPU time `ocx up` and all its
processes used (start and stop): that figure hardly depends on the load.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

OCX = str(Path(sys.executable).with_name("ocx"))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def start_once(data: Path, topology: Path) -> tuple[float, float]:
    """Seconds until clouds.yaml is written, and CPU seconds of the whole run."""
    cpu = children_cpu()
    clouds = data / "clouds.yaml"
    before = clouds.stat().st_mtime if clouds.exists() else 0.0
    began = time.monotonic()
    proc = subprocess.Popen(
        [OCX, "up", "--data-dir", str(data), "--topology", str(topology)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not (clouds.exists() and clouds.stat().st_mtime > before):
            if proc.poll() is not None:
                raise SystemExit(f"ocx up exited with {proc.returncode}")
            time.sleep(0.02)
        took = time.monotonic() - began
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    return took, children_cpu() - cpu


def main() -> None:
    text = resources.files("ocx").joinpath("default_topology.toml").read_text()
    with tempfile.TemporaryDirectory() as tmp:
        topology = Path(tmp) / "topology.toml"
        topology.write_text(text.replace("base_port = 15000", "base_port = 0"))
        data = Path(tmp) / "data"
        load = os.getloadavg()[0]
        fresh, fresh_cpu = start_once(data, topology)
        again, again_cpu = start_once(data, topology)
        load = max(load, os.getloadavg()[0])
    print(
        f"ocx up, default exchange: fresh {fresh:.2f} s ({fresh_cpu:.1f} s CPU), "
        f"restart {again:.2f} s ({again_cpu:.1f} s CPU) (goal < 10 s); "
        f"load average {load:.1f} on {os.cpu_count()} cores"
    )
    if os.environ.get("OCX_BENCH_STRICT") and fresh >= 10:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
