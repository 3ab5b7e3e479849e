"""One part of one landlord as a plain ASGI app, for any ASGI server and any number of workers.

    OCX_TOPOLOGY=/etc/ocx/topology.toml OCX_LANDLORD=harvard OCX_PART=object \\
    OCX_DATA_DIR=/var/lib/ocx OCX_DATABASE_URL=postgresql://ocx@db/ocx \\
        uvicorn --factory ocx.asgi:create --workers 4 --host 0.0.0.0 --port 15001

The app migrates and bootstraps its part at ASGI lifespan startup (one worker at a time:
they take a lock in the landlord's data directory) and releases it at shutdown. The other
parts' URLs come from the topology's ports. ``ocx serve`` does the same with OCX's own server
limits (:mod:`ocx.common.serving`); prefer it unless another server is required.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from ocx import runner, topology
from ocx.landlord import Landlord, Part, build
from ocx.process import start_lock


class PartApp:
    """An ASGI app that starts its part at lifespan startup and stops it at shutdown."""

    def __init__(self, part: Part, landlord: Landlord):
        self.part = part
        self.landlord = landlord

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.part.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    with start_lock(self.landlord.data_dir):
                        await self.part.start()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.part.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"ocx.asgi needs {name} in the environment")
    return value


def create() -> ASGIApp:
    """The app of ``$OCX_PART`` of ``$OCX_LANDLORD`` (see the module's docstring)."""
    topology_file = os.environ.get("OCX_TOPOLOGY")
    topo = topology.load(Path(topology_file) if topology_file else None)
    data_dir = Path(os.environ.get("OCX_DATA_DIR", "/var/lib/ocx")).expanduser()
    landlords = runner.landlords(topo, data_dir, os.environ.get("OCX_DATABASE_URL") or None)
    landlord = landlords[_env("OCX_LANDLORD")]
    runner.topology_urls(topo, landlord)
    return PartApp(build(landlord, _env("OCX_PART")), landlord)
