"""Scale through the proxy (issue 14, item 5): bench/scale.py at a size a test can afford.

Six landlords sharing three processes (two of them with block storage), 1,000 servers each
seeded through the compute domain layer, the proxy in a process of its own, 50 concurrent
calls for 10 s: every call type runs, and none fails (a listing missing a landlord counts as a
failure). ``make bench-scale`` runs the full size; docs/proxy.md has its figures.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
KINDS = {"list", "show", "find", "create", "delete", "attach", "detach"}


@pytest.mark.slow
def test_many_landlords_behind_one_proxy_under_concurrent_calls() -> None:
    command = [sys.executable, str(REPO / "bench" / "scale.py"), "--quick", "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    (load,) = result["loads"]
    assert load["failures"] == {}, load["samples"]
    assert {kind for kind, f in load["calls"].items() if f["count"] > 0} >= KINDS, load["calls"]
    (step,) = result["steps"]
    assert step["landlords"] == 6 and step["servers"] == 6000
    assert step["cost"]["proxied"]["failures"] == {} and step["cost"]["direct"]["failures"] == {}
    assert set(load["memory"]) == {"client", "proxy", "landlords", "nbdkit"}
    assert load["memory"]["landlords"]["processes"] == 2
