"""Three landlords with compute, block storage and images behind harvard's proxy, and the
real clients (the ``openstack`` CLI, openstacksdk) pointed at region ``ocx``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openstack
import requests

from ocx import clouds
from ocx.runner import Exchange

OPENSTACK = str(Path(sys.executable).with_name("openstack"))
ALL = ["identity", "compute", "image", "volume"]
THREE: dict[str, Any] = {
    "harvard": {"parts": [*ALL, "proxy"], "demo_users": ["alice", "bob"], "trusts": ["mit"]},
    "mit": {"parts": ALL, "demo_users": ["carol"], "trusts": ["harvard"]},
    "stor": {"parts": ["identity", "volume", "compute", "image"], "trusts": ["harvard"]},
}


@dataclass
class Cloud:
    exchange: Exchange
    config: Path

    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "OCX_"))}
        return {**keep, "OS_CLIENT_CONFIG_FILE": str(self.config), "COLUMNS": "200"}

    def cli(
        self, *args: str, cloud: str = "harvard-alice", region: str = "ocx", ok: bool = True
    ) -> Any:
        """``openstack --os-cloud CLOUD --os-region-name REGION ARGS``; JSON when -f json."""
        command = [OPENSTACK, "--os-cloud", cloud, "--os-region-name", region, *args]
        done = subprocess.run(command, env=self.env(), capture_output=True, text=True, timeout=240)
        if not ok:
            assert done.returncode != 0, done.stdout
            return done.stderr
        assert done.returncode == 0, f"{' '.join(args)}\n{done.stderr}{done.stdout}"
        return json.loads(done.stdout) if "json" in args else done.stdout

    def sdk(
        self, cloud: str = "harvard-alice", region: str = "ocx"
    ) -> openstack.connection.Connection:
        entry = clouds.entries(self.exchange)["clouds"][cloud]
        return openstack.connect(
            auth_type=entry["auth_type"], auth=entry["auth"], region_name=region
        )

    @property
    def proxy_url(self) -> str:
        return self.exchange.landlords["harvard"].base_urls["proxy"]

    def raw(self, method: str, path: str, token: str, **kw: Any) -> requests.Response:
        headers = {"X-Auth-Token": token, **kw.pop("headers", {})}
        return requests.request(method, self.proxy_url + path, headers=headers, timeout=60, **kw)


def make(exchange: Exchange, tmp: Path) -> Cloud:
    return Cloud(exchange, clouds.write(exchange, tmp / "clouds.yaml"))
