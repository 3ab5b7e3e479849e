"""A small async client of a landlord's block storage, for another landlord's compute.

The compute holds a token the volume's landlord accepts (its own user's token there, a
K2K-federated one, or a delegated token limited to this volume) and the landlord's
block-storage endpoint (``…/v3`` from that landlord's catalog). :meth:`VolumeClient.attach`
runs the 3.44 flow (reserve → connect → complete) and returns the connection info;
:meth:`VolumeClient.detach` runs ``os-begin_detaching`` then deletes the attachment, which
stops the export and kills its key. Errors carry Cinder's status and message.

    async with VolumeClient(endpoint, token) as cinder:
        attached = await cinder.attach(volume_id, server_id, {"ip": ip, "host": host})
        psk = attached.info.write_psk(folder)          # identity:key, mode 0600
        uri = attached.info.libnbd_uri(psk)            # for nbdcopy / nbdinfo / libnbd
        ...
        await cinder.detach(volume_id, attached.attachment_id)
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from ocx.common import outbound

VERSION = "volume 3.67"

Token = str | Callable[[], Awaitable[str]]


class VolumeError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ConnectionInfo:
    """``driver_volume_type: nbd``: where the export is and the attachment's own PSK."""

    uri: str
    host: str
    port: int
    export: str
    psk_identity: str
    psk_key: str
    access_mode: str

    @classmethod
    def parse(cls, doc: dict[str, Any]) -> ConnectionInfo:
        if doc.get("driver_volume_type") != "nbd":
            raise VolumeError(500, f"unknown driver_volume_type {doc.get('driver_volume_type')!r}")
        data = doc["data"]
        return cls(
            uri=data["uri"],
            host=data["hosts"][0],
            port=int(data["ports"][0]),
            export=data["name"],
            psk_identity=data["psk_identity"],
            psk_key=data["psk_key"],
            access_mode=data.get("access_mode", "rw"),
        )

    def write_psk(self, folder: Path) -> Path:
        """The PSK file libnbd/GnuTLS read (``identity:hexkey``), readable by its owner only."""
        path = folder / f"{self.psk_identity}.psk"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"{self.psk_identity}:{self.psk_key}\n")
        return path

    def libnbd_uri(self, psk_file: Path) -> str:
        return f"{self.uri}?tls-psk-file={psk_file}"


@dataclass(frozen=True)
class Attached:
    attachment_id: str
    info: ConnectionInfo


class VolumeClient:
    def __init__(self, endpoint: str, token: Token, *, client: httpx.AsyncClient | None = None):
        self.endpoint = endpoint.rstrip("/")
        self._token = token
        self._client = client or outbound.async_client(timeout=30.0)
        self._own_client = client is None

    async def __aenter__(self) -> VolumeClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        token = self._token if isinstance(self._token, str) else await self._token()
        headers = {"X-Auth-Token": token, "OpenStack-API-Version": VERSION}
        resp = await self._client.request(method, self.endpoint + path, json=body, headers=headers)
        if resp.status_code >= 400:
            raise VolumeError(resp.status_code, _fault_message(resp))
        return resp.json() if resp.content else None

    async def volume(self, volume_id: str) -> dict[str, Any]:
        return dict((await self._call("GET", f"/volumes/{volume_id}"))["volume"])

    async def reserve(self, volume_id: str, instance_uuid: str, mode: str = "rw") -> str:
        body = {"attachment": {"volume_uuid": volume_id, "instance_uuid": instance_uuid}}
        if mode != "rw":
            body["attachment"]["mode"] = mode
        return str((await self._call("POST", "/attachments", body))["attachment"]["id"])

    async def connect(self, attachment_id: str, connector: dict[str, Any]) -> ConnectionInfo:
        doc = await self._call(
            "PUT", f"/attachments/{attachment_id}", {"attachment": {"connector": connector}}
        )
        return ConnectionInfo.parse(doc["attachment"]["connection_info"])

    async def complete(self, attachment_id: str) -> None:
        await self._call("POST", f"/attachments/{attachment_id}/action", {"os-complete": None})

    async def begin_detaching(self, volume_id: str) -> None:
        await self._call("POST", f"/volumes/{volume_id}/action", {"os-begin_detaching": None})

    async def delete_attachment(self, attachment_id: str) -> None:
        await self._call("DELETE", f"/attachments/{attachment_id}")

    async def attach(
        self, volume_id: str, instance_uuid: str, connector: dict[str, Any], mode: str = "rw"
    ) -> Attached:
        """reserve → connect → complete; on a failure after the reserve, the reserve goes."""
        attachment_id = await self.reserve(volume_id, instance_uuid, mode)
        try:
            info = await self.connect(attachment_id, connector)
            await self.complete(attachment_id)
        except BaseException:
            await self.delete_attachment(attachment_id)
            raise
        return Attached(attachment_id, info)

    async def detach(self, volume_id: str, attachment_id: str) -> None:
        await self.begin_detaching(volume_id)
        await self.delete_attachment(attachment_id)


def _fault_message(resp: httpx.Response) -> str:
    try:
        doc = resp.json()
        return str(next(iter(doc.values()))["message"])
    except (ValueError, StopIteration, KeyError, TypeError, AttributeError):
        return resp.text[:200]
