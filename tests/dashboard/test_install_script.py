"""The install script builds Horizon's static files under OCX's settings, with a horizon.json
of its own: it must name every key the settings read (CI failed once on a missing one)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ocx.dashboard.settings import DashboardSettings

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install-horizon.sh"


def test_the_builds_horizon_json_has_every_key_of_the_parts() -> None:
    text = SCRIPT.read_text()
    found = re.search(r"<<JSON\n(.*?)\nJSON\n", text, re.S)
    assert found is not None, "the script's horizon.json here-document"
    build = json.loads(re.sub(r"\$[A-Z_]+", "x", found.group(1)))
    part = DashboardSettings(
        landlord="market",
        public_url="http://localhost",
        data_dir=Path("/nonexistent"),
        keystone_url="http://localhost/v3",
        secret_key="k",
    ).horizon_config()
    assert set(build) == set(part)
