"""Horizon under gunicorn, from its own venv, on a Unix socket: started on first use.

Horizon takes seconds to import and a few workers' worth of memory, so a landlord that runs the
dashboard starts it when the first page is asked for, not at ``ocx up`` (tests that start the
default exchange never pay for it). Its code sees only the ``ocx`` package (through a directory
of one symlink on its ``PYTHONPATH``), never the rest of OCX's venv, whose libraries it must
not mix with its own pins.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import json
import logging
import os
import signal
from pathlib import Path

import httpx

import ocx
from ocx.dashboard.settings import DashboardSettings

log = logging.getLogger("ocx.dashboard")

INSTALL_HINT = "bash scripts/install-horizon.sh"
START_TIMEOUT = 120.0


class HorizonMissing(RuntimeError):
    """Horizon's venv is not installed where the settings say."""


class HorizonProcess:
    """One gunicorn serving Horizon for this landlord; started once, stopped with the part."""

    def __init__(self, settings: DashboardSettings):
        self.settings = settings
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        self._ready = False

    @property
    def _host(self) -> str:
        return httpx.URL(self.settings.public_url).netloc.decode()

    @property
    def gunicorn(self) -> Path:
        return self.settings.horizon_venv / "bin" / "gunicorn"

    async def ensure_started(self) -> None:
        """Start Horizon if it is not running, and wait until it answers."""
        if self._ready and self._proc is not None and self._proc.returncode is None:
            return
        async with self._lock:
            if self._proc is None or self._proc.returncode is not None:
                self._ready = False
                await self._spawn()
            if not self._ready:
                await self._wait_answering()
                self._ready = True

    async def _spawn(self) -> None:
        if not self.gunicorn.exists():
            raise HorizonMissing(
                f"Horizon is not installed at {self.settings.horizon_venv}: run {INSTALL_HINT}"
            )
        data = self.settings.data_dir
        data.mkdir(parents=True, exist_ok=True)
        config = data / "horizon.json"
        config.write_text(json.dumps(self.settings.horizon_config()))
        config.chmod(0o600)
        self.settings.socket_path.unlink(missing_ok=True)
        log_file = open(data / "horizon.log", "ab")  # noqa: SIM115  (the child keeps it)
        with log_file:
            self._proc = await asyncio.create_subprocess_exec(
                str(self.gunicorn),
                "--bind",
                f"unix:{self.settings.socket_path}",
                "--workers",
                str(self.settings.workers),
                "--timeout",
                "120",
                "--no-control-socket",
                "--preload",  # the workers fork from a warmed master (horizon/wsgi.py)
                "--access-logfile",
                "-",
                "ocx.dashboard.horizon.wsgi:application",
                env=self._environment(config),
                stdout=log_file,
                stderr=log_file,
                preexec_fn=_die_with_parent,
            )
        log.info("Horizon starting (pid %s), log in %s", self._proc.pid, data / "horizon.log")

    def _environment(self, config: Path) -> dict[str, str]:
        """Horizon's environment: our package alone on its path, our settings module."""
        only_ocx = self.settings.data_dir / "horizon-path"
        only_ocx.mkdir(exist_ok=True)
        link = only_ocx / "ocx"
        package = Path(ocx.__file__).resolve().parent
        if not link.is_symlink() or link.resolve() != package:
            link.unlink(missing_ok=True)
            link.symlink_to(package)
        keep = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update(
            PYTHONPATH=str(only_ocx),
            DJANGO_SETTINGS_MODULE="ocx.dashboard.horizon.settings",
            OCX_DASHBOARD_CONFIG=str(config),
        )
        return env

    async def _wait_answering(self) -> None:
        transport = httpx.AsyncHTTPTransport(uds=str(self.settings.socket_path))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT
        async with httpx.AsyncClient(transport=transport, timeout=30.0) as client:
            while True:
                if self._proc is not None and self._proc.returncode is not None:
                    raise RuntimeError(
                        f"Horizon exited with {self._proc.returncode}; see "
                        f"{self.settings.data_dir / 'horizon.log'}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    await client.get("http://horizon/auth/login/", headers={"Host": self._host})
                    return
                if loop.time() > deadline:
                    raise RuntimeError(f"Horizon did not answer within {START_TIMEOUT:.0f}s")
                await asyncio.sleep(0.2)

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        self._ready = False
        if proc is None or proc.returncode is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def _die_with_parent() -> None:
    """Linux: gunicorn gets SIGTERM when its landlord process dies, so none is left behind."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
