"""How long `ocx up` takes to start the default exchange: until clouds.yaml is written.

Runs the default topology on free ports (base_port = 0), first on a fresh data directory
(migrations, keys, demo users), then again on the same one (a restart), and prints both.
The goal is under 10 s for the fresh start. On a shared machine the wall time grows with the
load, so the load average is printed beside it, and so is the CPU time `ocx up` and all its
processes had used when clouds.yaml appeared (from /proc): that figure hardly depends on the load.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

OCX = str(Path(sys.executable).with_name("ocx"))


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by ``root`` and every process under it (Linux /proc)."""
    parents: dict[int, int] = {}
    times: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        # after the name: state ppid ... utime(14) stime cutime cstime, counted from 1
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = sum(int(f) for f in fields[11:15])
    tree = {root}
    grown = True
    while grown:
        more = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        grown = bool(more)
        tree |= more
    return sum(times.get(pid, 0) for pid in tree) / os.sysconf("SC_CLK_TCK")


def start_once(data: Path, topology: Path) -> tuple[float, float]:
    """Seconds until clouds.yaml is written, and the CPU seconds used until then."""
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
        cpu = tree_cpu(proc.pid)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    return took, cpu


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
