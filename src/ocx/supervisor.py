"""Each landlord in an OS process of its own, supervised: what `ocx up` and `ocx serve` run.

The supervisor binds every part's listening socket, then starts one process per landlord
(:mod:`ocx.process`; for ``ocx serve --workers N``, N processes of one part sharing its
socket) and waits until every endpoint answers. A process that dies is reported and started
again on the same sockets, so its URLs stay and clients that connect meanwhile wait in the
backlog; one that cannot start the first time stops the whole start with an error. Stopping
sends SIGTERM to every process and SIGKILL to any still there after a grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path

import ocx.process
from ocx import parts, runner
from ocx.common import serving
from ocx.landlord import Landlord
from ocx.process import Spec
from ocx.topology import Topology

log = logging.getLogger("ocx.supervisor")

STOP_GRACE = 10.0


def preload(modules: list[str]) -> None:
    """Have the fork server import ``modules`` (the parts' builders) once, before its first
    fork; call before the first process starts."""
    _CONTEXT.set_forkserver_preload(["ocx.process", *modules])


_CONTEXT = multiprocessing.get_context("forkserver")


class Forked:
    """A landlord process forked by :mod:`multiprocessing`'s fork server, awaited like
    :class:`asyncio.subprocess.Process`."""

    def __init__(self, process: BaseProcess):
        self.process = process
        self.pid: int = process.pid or 0
        self.returncode: int | None = None
        self._exited: asyncio.Future[int] | None = None

    @classmethod
    def start(cls, spec_json: str, sockets: dict[str, socket.socket]) -> Forked:
        """Blocking (the first start waits for the fork server's imports): run in a thread."""
        process = _CONTEXT.Process(
            target=ocx.process.forked, args=(spec_json, sockets), name="ocx-landlord"
        )
        process.start()
        return cls(process)

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    async def wait(self) -> int:
        if self._exited is None:
            loop = asyncio.get_running_loop()
            self._exited = loop.create_future()
            sentinel = self.process.sentinel
            exited = self._exited

            def readable() -> None:
                loop.remove_reader(sentinel)
                self.process.join()
                code = self.process.exitcode
                self.returncode = code if code is not None else -1
                self.process.close()
                if not exited.done():
                    exited.set_result(self.returncode)

            loop.add_reader(sentinel, readable)
        return await asyncio.shield(self._exited)


@dataclass
class Child:
    """One supervised process: a landlord's parts (or one worker of one part)."""

    landlord: Landlord
    sockets: dict[str, socket.socket]
    worker: int = 0
    proc: Forked | None = None
    restarts: int = 0
    watch: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.landlord.name if not self.worker else f"{self.landlord.name}#{self.worker}"

    @property
    def urls(self) -> list[str]:
        return [self.landlord.url(part) for part in self.sockets]

    @property
    def pid_file(self) -> Path:
        suffix = f"-{self.worker}" if self.worker else ""
        return self.landlord.data_dir / f"process{suffix}.pid"


class Supervisor:
    def __init__(
        self,
        topology: Topology,
        data_dir: Path,
        database_url: str | None = None,
        *,
        log_json: bool = False,
        log_level: str = "INFO",
    ):
        self.topology = topology
        self.data_dir = data_dir
        self.database_url = database_url
        self.log_json = log_json
        self.log_level = log_level
        self.landlords: dict[str, Landlord] = {}
        self.oidc_clients: dict[tuple[str, str], dict[str, str]] = {}
        self.children: list[Child] = []
        self.sockets: dict[tuple[str, str], socket.socket] = {}
        self.stopping = False

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    # --- ocx up: every landlord, each in its own process --------------------------------

    async def start_exchange(self) -> None:
        self.landlords = runner.landlords(self.topology, self.data_dir, self.database_url)
        preload(_builders({p for ll in self.landlords.values() for p in ll.config.parts}))
        self.sockets = runner.bind_all(self.topology, self.landlords)
        for landlord in self.landlords.values():
            mine = {part: self.sockets[(landlord.name, part)] for part in landlord.config.parts}
            self.children.append(Child(landlord, mine))
        await self._start_all()
        self.oidc_clients = await runner.wire(self.landlords)

    # --- ocx serve: one part of one landlord, in N worker processes ---------------------

    async def start_part(
        self, landlord_name: str, part: str, workers: int, port: int | None = None
    ) -> str:
        """Serve ``part`` of one landlord alone; its URL. Its siblings' URLs come from the
        topology's ports (so ``base_port`` must not be 0)."""
        self.landlords = runner.landlords(self.topology, self.data_dir, self.database_url)
        landlord = self.landlords[landlord_name]
        preload(_builders({part}))
        host = self.topology.exchange.host
        runner.topology_urls(self.topology, landlord)
        if port is None:
            port = self.topology.port(landlord.index, part)
        sock = serving.bind(host, port)
        self.sockets[(landlord_name, part)] = sock
        landlord.base_urls[part] = f"http://{host}:{sock.getsockname()[1]}"
        self.children = [Child(landlord, {part: sock}, worker=i + 1) for i in range(workers)]
        await self._start_all()
        return landlord.base_urls[part]

    # --- both ---------------------------------------------------------------------------

    async def _start_all(self) -> None:
        try:
            for child in self.children:
                await self._spawn(child)
            await asyncio.gather(*(self._until_ready(child) for child in self.children))
        except BaseException:
            await self.stop()
            raise
        for child in self.children:
            child.watch = asyncio.create_task(self._watch(child))

    def _spec(self, child: Child) -> Spec:
        landlord = child.landlord
        log_name = (
            landlord.name if not child.worker else f"{landlord.name}-{next(iter(child.sockets))}"
        )
        return Spec(
            topology=self.topology,
            landlord=landlord.name,
            data_dir=landlord.data_dir,
            database_url=self.database_url,
            admin_password=landlord.admin_password,
            demo_passwords=landlord.demo_passwords,
            base_urls=landlord.base_urls,
            peers=landlord.peers,
            sockets={part: sock.fileno() for part, sock in child.sockets.items()},
            log_file=self.log_dir / f"{log_name}.jsonl",
            log_json=self.log_json,
            log_level=self.log_level,
            worker=child.worker,
        )

    async def _spawn(self, child: Child) -> None:
        # Started by the fork server, which imported every part once: a process started
        # afresh (`python -m ocx.process`) spends seconds of CPU importing its parts again.
        spec = self._spec(child).model_dump_json()
        child.proc = await asyncio.to_thread(Forked.start, spec, child.sockets)
        # Atomic: a reader (an operator's script, a test) never sees an empty or half file.
        runner.write_private(child.pid_file, f"{child.proc.pid}\n")

    async def _until_ready(self, child: Child) -> None:
        """Until the child's endpoints answer; RuntimeError if it dies or takes too long."""
        assert child.proc is not None
        timeout = self.topology.exchange.start_timeout
        ready = asyncio.ensure_future(runner.wait_ready(child.urls, timeout))
        died = asyncio.ensure_future(child.proc.wait())
        await asyncio.wait([ready, died], return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await ready
            raise RuntimeError(f"{child.name} could not start ({_exit(died.result())})")
        died.cancel()
        try:
            ready.result()
        except RuntimeError as exc:
            raise RuntimeError(
                f"{child.name} did not answer within {timeout:g} s ({exc}); on a"
                " loaded machine give it longer: --start-timeout SECONDS, or start_timeout"
                " under [exchange] in the topology"
            ) from exc

    async def _watch(self, child: Child) -> None:
        """Start the child again whenever it dies, until the supervisor stops."""
        while True:
            assert child.proc is not None
            code = await child.proc.wait()
            if self.stopping:
                return
            log.warning("%s stopped unexpectedly (%s); restarting", child.name, _exit(code))
            delay = min(10.0, 0.5 * 2 ** min(child.restarts, 5))
            await asyncio.sleep(delay)
            child.restarts += 1
            if self.stopping:
                return
            await self._spawn(child)
            try:
                await self._until_ready(child)
            except RuntimeError as exc:
                log.error("%s", exc)
                continue
            log.warning("%s is back (restart %d)", child.name, child.restarts)

    async def wait(self) -> None:
        """Until every child's watch ends (that is, until :meth:`stop`)."""
        await asyncio.gather(*(c.watch for c in self.children if c.watch is not None))

    async def stop(self) -> None:
        self.stopping = True
        running = [
            c.proc for c in self.children if c.proc is not None and c.proc.returncode is None
        ]
        for proc in running:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        if running:
            _done, late = await asyncio.wait(
                [asyncio.ensure_future(p.wait()) for p in running], timeout=STOP_GRACE
            )
            if late:
                for proc in running:
                    if proc.returncode is None:
                        log.warning("process %d did not stop in time; killing it", proc.pid)
                        with contextlib.suppress(ProcessLookupError):
                            proc.kill()
                await asyncio.gather(*(p.wait() for p in running))
        for child in self.children:
            if child.watch is not None:
                child.watch.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await child.watch
            with contextlib.suppress(OSError):
                child.pid_file.unlink()
        for sock in self.sockets.values():
            sock.close()
        self.sockets.clear()


def _builders(names: set[str]) -> list[str]:
    return sorted({parts.spec(name).builder.partition(":")[0] for name in names})


def _exit(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def pid_of(data_dir: Path, landlord: str) -> int:
    """The process id of a landlord's process under `ocx up` (for operators and tests)."""
    return int((data_dir / landlord / "process.pid").read_text())
