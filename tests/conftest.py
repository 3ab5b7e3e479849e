"""Fixtures shared by every test: a live in-process exchange on ephemeral ports.

Each test gets a fresh exchange with fresh state. The backend is SQLite unless
``OCX_TEST_DATABASE=postgresql``, in which case every test gets its own new PostgreSQL
database on the local server (``OCX_TEST_PG_URL``, default ``postgresql://postgres@localhost``).
"""

from __future__ import annotations

import asyncio
import faulthandler
import os
import queue
import secrets
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import yaml

from ocx import clouds, topology
from ocx.runner import BackgroundExchange, Exchange

PG_URL = os.environ.get("OCX_TEST_PG_URL", "postgresql://postgres@localhost")
CHEAP_HASH = {"time_cost": 1, "memory_kib": 1024, "parallelism": 1}

ExchangeFactory = Callable[..., Exchange]


class _Dropper:
    """Drops the tests' PostgreSQL databases on a thread of its own, so no test waits for it
    (a forced drop costs about 0.3 s); the session's end waits for what is queued."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def drop(self, name: str) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="pg-drop", daemon=True)
            self._thread.start()
        self._queue.put(name)

    def _run(self) -> None:
        admin = psycopg2.connect(PG_URL + "/postgres")
        admin.autocommit = True
        with admin.cursor() as cur:
            while (name := self._queue.get()) is not None:
                try:
                    cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                except psycopg2.Error as exc:  # left on the server; the run goes on
                    print(f"could not drop test database {name}: {exc}", file=sys.stderr)
        admin.close()

    def finish(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()


_DROPPER = _Dropper()

# A test still running after WATCH_AFTER seconds gets every thread's stack and every task of
# its exchanges' loops written to stderr, which reaches the log under xdist too (the stack dump
# of pytest-timeout, which ends a hung test at 600 s, goes to the worker's stdout, and xdist
# drops that: a hang showed only "node down: Not properly terminated").
WATCH_AFTER = float(os.environ.get("OCX_TEST_WATCH_AFTER", "300"))
_RUNNING: list[BackgroundExchange] = []
_stderr = -1


def pytest_configure(config: pytest.Config) -> None:
    global _stderr
    try:
        fileno = sys.stderr.fileno()
    except (AttributeError, ValueError):  # replaced by pytest's capture
        fileno = sys.__stderr__.fileno()
    _stderr = os.dup(fileno)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    timer = threading.Timer(WATCH_AFTER, _dump_stacks, args=(item.nodeid,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _dump_stacks(nodeid: str) -> None:
    with open(os.dup(_stderr), "w") as out:
        print(f"\n+++ {nodeid} still running after {WATCH_AFTER:.0f} s", file=out, flush=True)
        faulthandler.dump_traceback(out, all_threads=True)
        for bg in list(_RUNNING):
            try:  # read from another thread: good enough to say where tasks wait
                tasks = list(asyncio.all_tasks(bg._loop))
            except RuntimeError:
                continue
            print(f"+++ {len(tasks)} tasks on the loop of {bg.exchange.data_dir}", file=out)
            for task in tasks:
                print(f"  {task.get_name()}: {' <- '.join(_awaiting(task.get_coro()))}", file=out)
        print("+++", file=out, flush=True)


def _awaiting(coro: Any) -> list[str]:
    """Where a task's coroutine is, innermost last: each await's function and line."""
    where = []
    while coro is not None and len(where) < 40:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "ag_frame", None)
        if frame is not None:
            where.append(f"{frame.f_code.co_name} ({frame.f_code.co_filename}:{frame.f_lineno})")
        coro = getattr(coro, "cr_await", None) or getattr(coro, "ag_await", None)
    return where


def pytest_sessionfinish(session: pytest.Session) -> None:
    _DROPPER.finish()


def _fresh_pg_database() -> tuple[str, Callable[[], None]]:
    name = "ocx_test_" + secrets.token_hex(6)
    admin = psycopg2.connect(PG_URL + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return f"{PG_URL}/{name}", lambda: _DROPPER.drop(name)


@pytest.fixture
def database_url() -> Iterator[str | None]:
    if os.environ.get("OCX_TEST_DATABASE", "sqlite") != "postgresql":
        yield None
        return
    url, drop = _fresh_pg_database()
    try:
        yield url
    finally:
        drop()


def make_topology(landlords: dict[str, Any], **exchange: Any) -> topology.Topology:
    """Landlords as ``{name: [parts]}`` or ``{name: {"parts": [...], "trusts": [...], ...}}``."""
    doc = {
        "exchange": {"base_port": 0, "password_hash": CHEAP_HASH, **exchange},
        "landlords": [
            {"name": name, **(spec if isinstance(spec, dict) else {"parts": spec})}
            for name, spec in landlords.items()
        ],
    }
    return topology.Topology.model_validate(doc)


@pytest.fixture
def exchange_factory(tmp_path: Path, database_url: str | None) -> Iterator[ExchangeFactory]:
    running: list[BackgroundExchange] = []

    def start(landlords: dict[str, Any] | None = None, **exchange: Any) -> Exchange:
        topo = make_topology(
            landlords or {"harvard": ["identity"], "mit": ["identity"]}, **exchange
        )
        bg = BackgroundExchange(topo, tmp_path / f"data{len(running)}", database_url)
        running.append(bg)
        _RUNNING.append(bg)
        started = bg.__enter__()
        started.background = bg  # type: ignore[attr-defined]
        return started

    yield start
    for bg in reversed(running):
        _RUNNING.remove(bg)
        bg.__exit__(None, None, None)


@pytest.fixture
def exchange(exchange_factory: ExchangeFactory) -> Exchange:
    return exchange_factory()


@pytest.fixture
def clouds_yaml(exchange: Exchange, monkeypatch: pytest.MonkeyPatch) -> Path:
    """clouds.yaml of the running exchange, where openstacksdk and the CLI look for it."""
    path = clouds.write(exchange, exchange.data_dir / "clouds.yaml")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    for name in [k for k in os.environ if k.startswith("OS_") and k != "OS_CLIENT_CONFIG_FILE"]:
        monkeypatch.delenv(name)
    return path


def cloud_auth(exchange: Exchange, landlord: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(yaml.safe_dump(clouds.entries(exchange)))
    return dict(doc["clouds"][landlord]["auth"])


# End-to-end runs, outside the default suite (its time budget is 20 minutes on two cores) and
# run by `make test-e2e`, which CI runs after it: the seed scenarios' walk-throughs, whole
# `ocx up` and `ocx serve` processes, landlords killed under load, and real OpenStack peers.
E2E = (
    "tests/compute/test_scenario.py",
    "tests/exchange/test_scenarios.py",
    "tests/proxy/test_scenario.py",
    "tests/vault/test_scenario.py",
    "tests/test_ocx_up.py",
    "tests/test_ocx_serve.py::test_two_workers_share_one_database_and_data_dir",
    "tests/volume/test_kill.py",
    "tests/proxy/test_landlord_killed.py",
    "tests/proxy/test_openstack_killed.py",
    "tests/interop/",
    # The live `openstack` CLI runs (a Python process per command, 1-3 s each) and the live
    # markets with several landlords and their meters: the SDK and API tests of the same paths
    # stay in the default run.
    "tests/compute/test_openstack.py",
    "tests/compute/test_remote_image.py",
    "tests/compute/test_delegation.py",
    "tests/compute/test_volumes.py::test_add_and_remove_volume_with_the_cli",
    "tests/compute/test_volumes.py::test_boot_from_a_volume_with_the_cli",
    "tests/proxy/test_openstack.py::test_the_cli_through_region_ocx",
    "tests/volume/test_cli.py",
    "tests/image/test_openstack.py",
    "tests/object/test_openstack.py::test_openstack_cli",
    "tests/identity/test_cli.py::test_openstack_cli_identity_workflow",
    "tests/exchange/test_cli.py",
    "tests/exchange/test_landlord_side.py",
    "tests/exchange/test_landlord_admins.py",
)

# Test folders whose fixtures make their own database (not through ``database_url``).
OWN_DATABASE_DIRS = ("tests/exchange/",)


def _reaches_a_database(item: pytest.Item) -> bool:
    return "database_url" in getattr(item, "fixturenames", ()) or item.nodeid.startswith(
        OWN_DATABASE_DIRS
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the end-to-end runs ``e2e``; on PostgreSQL, keep only the tests that reach a
    database (through ``database_url``, or a fixture of their folder's own).

    The others (pure functions, subprocess runs of ``ocx up`` on their own SQLite, the
    browser) would repeat the SQLite run's work exactly; leaving them out keeps the default
    suite within its time budget (``make test-postgres-all`` runs them too).
    """
    for item in items:
        if item.nodeid.startswith(E2E):
            item.add_marker(pytest.mark.e2e)
    if os.environ.get("OCX_TEST_DATABASE", "sqlite") != "postgresql":
        return
    if os.environ.get("OCX_TEST_PG_ALL"):
        return
    kept = [item for item in items if _reaches_a_database(item)]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept
