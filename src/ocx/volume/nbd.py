"""NBD exports: one nbdkit process per attachment, with a TLS-PSK key made for it alone.

Why one process per attachment (not per volume, not one for all): nbdkit 1.32's TLS-PSK
authenticates a client to the *server*, and plugins cannot see which PSK identity
connected, so any key a process accepts opens everything that process serves. A process
per attachment makes the key the attachment's own, and stopping the process at detach kills
the credentials *and* every connection made with them (removing a key line from a shared
PSK file would only refuse new connections).

Each process gets its listening socket from us (systemd socket activation: ``LISTEN_FDS``),
so the port is chosen and known before it starts, ``--exit-with-parent`` so a dead landlord
leaves no exports behind, ``--tls=require`` (no plaintext, ever), the ``limit`` filter
(connections at once), the ``exportname`` filter (only the volume's name is served), and
``-r`` for read-only attachments. Where the connector named the consumer's address, the
socket only ever admits that address (:mod:`ocx.volume.gate`: a kernel socket filter, as
Debian's nbdkit 1.32.5 ``ip`` filter refuses every address rule). Pid files let a restart
find and stop processes a crashed run left.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ocx.common import errors
from ocx.volume import gate

log = logging.getLogger("ocx.volume.nbd")

READY_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


@dataclass(frozen=True)
class ExportSpec:
    """What one attachment's export serves, to whom, with which key."""

    attachment_id: str
    path: Path
    export_name: str
    psk_identity: str
    psk_key: str
    readonly: bool = False
    allow_ip: str | None = None
    port: int = 0


def new_psk() -> tuple[str, str]:
    """A fresh PSK identity and 256-bit key (hex), as GnuTLS PSK files hold them."""
    return "att-" + secrets.token_hex(8), secrets.token_hex(32)


class Exports:
    """The running nbdkit processes of one landlord's block storage, by attachment id."""

    def __init__(
        self,
        runtime: Path,
        host: str,
        nbdkit: str = "nbdkit",
        max_connections: int = 8,
        *,
        ip_filter: bool = True,
    ):
        self.runtime = runtime
        self.ip_filter = ip_filter
        self.host = host
        self.nbdkit = nbdkit
        self.max_connections = max_connections
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._owner: int | None = None
        # When this process began serving exports: a reservation older than that was cut
        # off by the process that made it (ocx.volume.attachments.expire_stale).
        self.since = time.time()

    def prepare(self) -> None:
        self.runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.runtime, 0o700)
        self._claim()
        _write_private(self.runtime / "gnutls.conf", gnutls_config(_has_aes()))

    def _claim(self) -> None:
        """Hold the runtime folder for this process alone. Exports are this process's
        children: a second process on the same folder would reap them as stale and restart
        them elsewhere, and could not stop the ones the first made (``ocx.asgi`` under a
        server with several workers gets here; ``ocx serve`` refuses earlier)."""
        if self._owner is not None:
            return
        fd = os.open(self.runtime / "owner.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RuntimeError(
                f"another process already serves the NBD exports in {self.runtime}: "
                "a landlord's block storage runs in one process (--workers 1)"
            ) from None
        self._owner = fd

    def release(self) -> None:
        """Let another process serve the exports (after :meth:`stop_all`)."""
        if self._owner is not None:
            os.close(self._owner)
            self._owner = None

    def _environment(self) -> dict[str, str]:
        return {**os.environ, "GNUTLS_SYSTEM_PRIORITY_FILE": str(self.runtime / "gnutls.conf")}

    def running(self) -> dict[str, int]:
        """Attachment id → pid of every live export."""
        return {aid: p.pid for aid, p in self._procs.items() if p.poll() is None}

    async def start(self, spec: ExportSpec) -> int:
        """Serve ``spec``; returns the port. A port asked for but taken gets a new one."""
        await self.stop(spec.attachment_id)
        sock = _listen(self.host, spec.port)
        port = int(sock.getsockname()[1])
        self._guard(sock, spec)
        psk, pidfile, _log = self._files(spec.attachment_id)
        _write_private(psk, f"{spec.psk_identity}:{spec.psk_key}\n")
        pidfile.unlink(missing_ok=True)
        try:
            with open(self.runtime / f"{spec.attachment_id}.log", "wb") as stderr:
                proc = self._spawn(spec, sock, psk, pidfile, stderr)
        finally:
            sock.close()
        self._procs[spec.attachment_id] = proc
        try:
            await _until_ready(proc, pidfile, self.runtime / f"{spec.attachment_id}.log")
        except BaseException:
            await self.stop(spec.attachment_id)
            raise
        log.info("export for attachment %s on %s:%d", spec.attachment_id, self.host, port)
        return port

    def _guard(self, sock: socket.socket, spec: ExportSpec) -> None:
        gate.keep_alive(sock)
        consumer = gate.consumer_address(spec.allow_ip) if self.ip_filter else None
        if consumer is not None:
            gate.admit_only(sock, consumer)

    def _spawn(
        self, spec: ExportSpec, sock: socket.socket, psk: Path, pidfile: Path, stderr: IO[bytes]
    ) -> subprocess.Popen[bytes]:
        fd = sock.fileno()
        args = [
            self.nbdkit,
            "-f",
            "--exit-with-parent",
            "--tls=require",
            f"--tls-psk={psk}",
            f"--pidfile={pidfile}",
            "--filter=limit",
            "--filter=exportname",
        ]
        if spec.readonly:
            args.append("-r")
        args += ["file", str(spec.path), f"limit={self.max_connections}"]
        args += [f"exportname={spec.export_name}", "exportname-strict=true"]
        args.append(f"default-export={spec.export_name}")
        # Socket activation wants the listening socket as fd 3 and LISTEN_PID = nbdkit's pid:
        # the shell moves the fd, sets its own pid, then becomes nbdkit (exec keeps the pid).
        close = "" if fd == 3 else f" {fd}<&-"
        script = f'exec 3<&{fd}{close}; LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"'
        # Spawned from the event loop's own thread: --exit-with-parent is tied to the
        # spawning thread, which lives as long as the landlord.
        return subprocess.Popen(
            ["bash", "-c", script, "nbdkit", *args],
            pass_fds=(fd,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=self._environment(),
            start_new_session=True,
        )

    async def stop(self, attachment_id: str) -> None:
        """Stop the export and destroy its key; its connections die with the process."""
        proc = self._procs.pop(attachment_id, None)
        if proc is not None:
            await _terminate(proc)
        for path in self._files(attachment_id):
            path.unlink(missing_ok=True)

    async def stop_all(self) -> None:
        await asyncio.gather(*(self.stop(aid) for aid in list(self._procs)))

    def reap_stale(self) -> int:
        """Kill exports a previous run left (found by their pid files); how many."""
        killed = 0
        for pidfile in self.runtime.glob("*.pid"):
            with contextlib.suppress(ValueError, OSError):
                pid = int(pidfile.read_text().strip())
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                if b"nbdkit" in cmdline and str(self.runtime).encode() in cmdline:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
            pidfile.unlink(missing_ok=True)
        for pattern in ("*.psk", "*.log", ".*.tmp"):
            for stale in self.runtime.glob(pattern):
                stale.unlink(missing_ok=True)
        return killed

    def _files(self, attachment_id: str) -> tuple[Path, Path, Path]:
        names = (f"{attachment_id}.{ext}" for ext in ("psk", "pid", "log"))
        return tuple(self.runtime / name for name in names)  # type: ignore[return-value]


def gnutls_config(aes: bool) -> str:
    """GnuTLS's system overrides for the exports. Where the CPU has AES instructions, no
    ChaCha20: with PSK, GnuTLS 3.7 otherwise picks ChaCha20-Poly1305, whose generic code in
    nettle 3.8 costs ~3.5 CPU-seconds per GiB here, ten times AES-GCM's."""
    lines = ["[overrides]"]
    if aes:
        lines.append("tls-disabled-cipher = CHACHA20-POLY1305")
    return "\n".join(lines) + "\n"


def _has_aes() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " aes " in flags or flags.rstrip().endswith(" aes")


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in (port, 0) if port else (0,):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError:
            sock.close()
            continue
        sock.listen(64)
        return sock
    raise errors.ServiceUnavailable("No port is free for the volume's NBD export.")


async def _until_ready(proc: subprocess.Popen[bytes], pidfile: Path, logfile: Path) -> None:
    """nbdkit writes its pid file once it serves; fail if it exits or takes too long."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_TIMEOUT
    while not pidfile.exists():
        if proc.poll() is not None:
            stderr = logfile.read_text(errors="replace")[-2000:]
            log.error("nbdkit exited with %s: %s", proc.returncode, stderr.strip())
            raise errors.ServiceUnavailable("The volume's NBD export could not be started.")
        if loop.time() > deadline:
            raise errors.ServiceUnavailable("The volume's NBD export did not start in time.")
        await asyncio.sleep(0.01)


async def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_TIMEOUT
        while proc.poll() is None and loop.time() < deadline:
            await asyncio.sleep(0.01)
        if proc.poll() is None:
            proc.kill()
            await asyncio.to_thread(proc.wait)


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
