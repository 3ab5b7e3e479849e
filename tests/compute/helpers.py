"""Raw Nova calls at a chosen microversion, for what the clients hide."""

from __future__ import annotations

import time
from typing import Any

import requests

from tests.image.helpers import Cloud, User, raw


class Nova:
    def __init__(self, cloud: Cloud, user: User, version: str = "2.100"):
        self.url = cloud.urls["compute"] + "/v2.1"
        self.token = user.token()
        self.version = version

    def call(self, method: str, path: str, json: Any = None, **headers: str) -> requests.Response:
        hdrs = {"OpenStack-API-Version": f"compute {self.version}", **headers}
        return raw(method, self.url + path, self.token, json=json, headers=hdrs)

    def boot(self, name: str = "s", image: str = "", **server: Any) -> dict[str, Any]:
        body = {"name": name, "imageRef": image, "flavorRef": "1", "networks": "none", **server}
        resp = self.call("POST", "/servers", {"server": body})
        assert resp.status_code == 202, resp.text
        return dict(resp.json()["server"])

    def server(self, server_id: str) -> dict[str, Any]:
        resp = self.call("GET", f"/servers/{server_id}")
        assert resp.status_code == 200, resp.text
        return dict(resp.json()["server"])

    def wait(self, server_id: str, status: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.server(server_id)
            if found["status"] == status or time.monotonic() > deadline:
                assert found["status"] == status, found
                return found
            time.sleep(0.05)


def fault(resp: requests.Response, name: str, status: int) -> str:
    assert resp.status_code == status, resp.text
    doc = resp.json()
    assert list(doc) == [name], doc
    assert doc[name]["code"] == status
    return str(doc[name]["message"])
