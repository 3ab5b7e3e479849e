"""Run OpenStack's own test suite, Tempest, against a live OCX exchange: a reusable harness.

What it does, for any API family (a :class:`Suite`):

1. starts the default exchange (the one ``ocx up`` starts: harvard, mit, stor) in this process,
   on free ports, with its own data directory (``--keep DIR`` to look at it afterwards);
2. writes an honest ``tempest.conf`` (:func:`tempest_conf`) for one landlord: its identity URL,
   its real administrator, and every feature OCX lacks switched off with Tempest's own options;
3. runs ``tempest run --regex SUITE`` from the Tempest venv (``bench/peers/install-tempest.sh``
   makes it: PyPI ``tempest`` 47 in ``.venv-tempest``, apart from the project's venv) and
   prints ``passed/failed/skipped`` and the failing tests (:class:`Counts`).

Command line (``make interop-identity`` runs the first)::

    .venv/bin/python -m tests.interop.tempest identity
    .venv/bin/python -m tests.interop.tempest identity --regex 'tempest.api.identity.v3.test_tokens'
    .venv/bin/python -m tests.interop.tempest object-storage             # harvard's Swift
    .venv/bin/python -m tests.interop.tempest object-storage --region ocx  # through the proxy

From Python (a test, or another suite)::

    with tempest_exchange() as exchange:
        counts = run_suite(SUITES["identity"], exchange, workdir, regex=...)

A new API family is one more :class:`Suite` entry: its Tempest regex, the service it needs
switched on in ``[service_available]`` and its own ``tempest.conf`` sections (``extra``);
everything else (exchange, credentials, workspace, counting) is shared.

Tempest's admin tests use *dynamic* credentials: Tempest makes a fresh project and user with
``admin`` on it. OCX does not treat admin on a customer's project as the landlord's
administrator, so the harness runs Tempest as the landlord admin of an *operator domain*
(``operator_domain`` in the topology): every project Tempest makes lands in that domain, and
only landlord administrators can make projects or grants there. No customer gains anything.
"""

from __future__ import annotations

import argparse
import configparser
import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from ocx import topology
from ocx.landlord import Landlord
from ocx.runner import BackgroundExchange, Exchange

ROOT = Path(__file__).resolve().parents[2]
TEMPEST_VENV = Path(os.environ.get("TEMPEST_VENV", ROOT / ".venv-tempest"))
INSTALL = ROOT / "bench" / "peers" / "install-tempest.sh"
OPERATORS = "operators"
RESELLER = "ResellerAdmin"
# The parts Tempest is run against, and the exchange the landlords sell on (the topology
# needs it); the others would only slow the start on a busy machine.
STARTED_PARTS = ("identity", "object", "proxy", "exchange")
# Argon2 at its production cost would make Tempest's thousand logins the whole run time.
CHEAP_HASH = {"time_cost": 1, "memory_kib": 1024, "parallelism": 1}


@dataclass(frozen=True)
class Suite:
    """One API family's Tempest tests and what tempest.conf must say for them."""

    name: str
    regex: str
    services: tuple[str, ...] = ()
    extra: dict[str, dict[str, str]] = field(default_factory=dict)


SUITES = {
    "identity": Suite(
        "identity",
        r"^tempest\.api\.identity\.",
        extra={
            "identity-feature-enabled": {
                # What OCX does not have, switched off with Tempest's own options.
                "trust": "false",
                "access_rules": "false",
                "security_compliance": "false",
                "domain_specific_drivers": "false",
                "immutable_user_source": "false",
                "api_extensions": "OS-INHERIT,OS-FEDERATION,OS-REVOKE,OS-OAUTH1",
            },
        },
    ),
    "object-storage": Suite(
        "object-storage",
        r"^tempest\.api\.object_storage\.",
        services=("swift",),
        extra={
            "object-storage": {"operator_role": "member", "reseller_admin_role": RESELLER},
        },
    ),
}


@dataclass
class Counts:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)

    def line(self, label: str) -> str:
        return f"{label}: {self.passed} passed, {self.failed} failed, {self.skipped} skipped"


def install() -> Path:
    """The Tempest venv's ``tempest`` command, installing it first if need be."""
    subprocess.run(["bash", str(INSTALL)], check=True)
    return TEMPEST_VENV / "bin" / "tempest"


def harness_topology() -> topology.Topology:
    """The default exchange on free ports, cheap hashes, and harvard's operator domain.

    Only :data:`STARTED_PARTS` are started.
    """
    doc = topology.load(None).model_dump()
    doc["exchange"].update(base_port=0, password_hash=CHEAP_HASH)
    for landlord in doc["landlords"]:
        landlord["parts"] = [p for p in landlord["parts"] if p in STARTED_PARTS]
        landlord["options"] = {
            part: value for part, value in landlord["options"].items() if part in STARTED_PARTS
        }
    if "operator_domain" in topology.LandlordConfig.model_fields:
        for landlord in doc["landlords"]:
            landlord["operator_domain"] = OPERATORS
    return topology.Topology.model_validate(doc)


def credentials_domain() -> str:
    return OPERATORS if "operator_domain" in topology.LandlordConfig.model_fields else "Default"


@contextlib.contextmanager
def tempest_exchange(data_dir: Path | None = None) -> Iterator[Exchange]:
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ocx-tempest")))
        yield stack.enter_context(BackgroundExchange(harness_topology(), data_dir))


@dataclass(frozen=True)
class Operator:
    """The staff account Tempest runs as: admin on a project of the operator domain."""

    username: str
    password: str
    project: str
    domain: str


def provision_operator(exchange: Exchange, landlord: str = "harvard") -> Operator:
    """As the landlord's admin, make a staff user and project in the operator domain."""
    lord = exchange.landlords[landlord]
    if credentials_domain() != OPERATORS:
        return Operator("admin", lord.admin_password, "admin", "Default")
    admin = ks_session.Session(
        auth=v3.Password(
            auth_url=lord.auth_url,
            username="admin",
            password=lord.admin_password,
            user_domain_id="default",
            project_name="admin",
            project_domain_id="default",
        )
    )
    url = lord.auth_url

    def post(path: str, key: str, body: dict[str, object]) -> str:
        return str(admin.post(url + path, json={key: body}).json()[key]["id"])

    domain = admin.get(url + f"/domains?name={OPERATORS}").json()["domains"][0]["id"]
    password = secrets.token_urlsafe(16)
    project = post("/projects", "project", {"name": "tempest", "domain_id": domain})
    user = post("/users", "user", {"name": "tempest", "password": password, "domain_id": domain})
    role = admin.get(url + "/roles?name=admin").json()["roles"][0]["id"]
    admin.put(url + f"/projects/{project}/users/{user}/roles/{role}")
    # Swift's reseller role exists wherever Swift is deployed (Tempest grants it, never makes it).
    if not admin.get(url + f"/roles?name={RESELLER}").json()["roles"]:
        post("/roles", "role", {"name": RESELLER})
    return Operator("tempest", password, "tempest", OPERATORS)


def tempest_conf(
    exchange: Exchange,
    suite: Suite,
    landlord: str = "harvard",
    region: str | None = None,
    operator: Operator | None = None,
) -> configparser.ConfigParser:
    """An honest tempest.conf for ``landlord`` of a running exchange."""
    lord = exchange.landlords[landlord]
    op = operator or provision_operator(exchange, landlord)
    conf = configparser.ConfigParser(interpolation=None)
    conf.read_dict(
        {
            "DEFAULT": {"debug": "false", "use_stderr": "false"},
            "auth": {
                "use_dynamic_credentials": "true",
                "create_isolated_networks": "false",
                # Tempest's own projects and users go to the operator domain (see module doc).
                "admin_username": op.username,
                "admin_password": op.password,
                "admin_project_name": op.project,
                "admin_domain_name": op.domain,
                "admin_user_domain_name": op.domain,
                "admin_project_domain_name": op.domain,
                "default_credentials_domain_name": op.domain,
            },
            "identity": {
                "uri_v3": lord.auth_url,
                "auth_version": "v3",
                "region": region or exchange.topology.exchange.region,
                "v3_endpoint_type": "public",
                "admin_role": "admin",
                "default_domain_id": "default",
            },
            "service_available": {
                name: "true" if name in suite.services else "false"
                for name in ("swift", "nova", "cinder", "glance", "neutron", "placement")
            },
            "validation": {"run_validation": "false"},
            **suite.extra,
        }
    )
    if "swift" in suite.services:
        conf.read_dict({"object-storage-feature-enabled": swift_features(lord, region)})
        if region:
            conf.read_dict({"object-storage": {"region": region}})
    return conf


def swift_features(lord: Landlord, region: str | None) -> dict[str, str]:
    """What the Swift under test advertises in ``/info``, as Tempest's feature switches.

    Tempest's default is "every middleware is there"; a real deployment's conf lists what its
    proxy pipeline has, which is what ``/info`` says. Old-style container sync (a second
    cluster and a sync daemon) is not something OCX has.
    """
    base = lord.url("proxy" if region else "object")
    info = httpx.get(base + "/info", timeout=30).json()
    return {
        "discoverable_apis": ",".join(sorted(info)),
        "container_sync": "false",
        "object_versioning": str("versioned_writes" in info).lower(),
    }


def write_workspace(workdir: Path, conf: configparser.ConfigParser) -> Path:
    """A Tempest workspace: ``etc/tempest.conf`` and the ``.stestr.conf`` that finds the tests."""
    (workdir / "etc").mkdir(parents=True, exist_ok=True)
    with (workdir / "etc" / "tempest.conf").open("w") as fh:
        conf.write(fh)
    site = next((TEMPEST_VENV / "lib").glob("python3*/site-packages"))
    (workdir / ".stestr.conf").write_text(
        f"[DEFAULT]\ntest_path={site / 'tempest' / 'test_discover'}\ntop_dir={site}\n"
    )
    return workdir


def run_suite(
    suite: Suite,
    exchange: Exchange,
    workdir: Path,
    *,
    landlord: str = "harvard",
    region: str | None = None,
    regex: str | None = None,
    concurrency: int = 2,
) -> Counts:
    tempest = install()
    write_workspace(workdir, tempest_conf(exchange, suite, landlord, region))
    env = {
        **os.environ,
        "TEMPEST_CONFIG_DIR": str(workdir / "etc"),
        "TEMPEST_CONFIG": "tempest.conf",
        "OS_LOG_PATH": str(workdir),
    }
    env = {k: v for k, v in env.items() if not k.startswith("OS_") or k == "OS_LOG_PATH"}
    command = [str(tempest), "run", "--regex", regex or suite.regex]
    command += ["--concurrency", str(concurrency)]
    proc = subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, check=False
    )
    (workdir / "tempest-run.log").write_text(proc.stdout + proc.stderr)
    return parse_counts(proc.stdout + proc.stderr)


_TOTAL = re.compile(r"^ - (Passed|Skipped|Failed): (\d+)$", re.MULTILINE)
_FAILED = re.compile(
    r"^\{\d+\} (?:(setUpClass|tearDownClass) \((\S+)\)|(\S+?)(?:\[[^\]]*\])?)"
    r" \[[\d.]+s\] \.\.\. FAILED$",
    re.MULTILINE,
)


def parse_counts(output: str) -> Counts:
    """The ``Totals`` block and the FAILED lines of ``tempest run``'s output."""
    counts = Counts()
    for name, number in _TOTAL.findall(output):
        setattr(counts, name.lower(), int(number))
    found = _FAILED.findall(output)
    counts.failures = sorted(
        {f"{klass} ({stage})" if klass else test for stage, klass, test in found}
    )
    return counts


# ``make interop``: every run the issue asks for, each on a fresh exchange.
ALL = (("identity", None), ("object-storage", None), ("object-storage", "ocx"))


@dataclass(frozen=True)
class Run:
    suite: str
    region: str | None
    landlord: str
    regex: str | None
    concurrency: int
    keep: Path | None

    @property
    def label(self) -> str:
        return self.suite + (f" (region {self.region})" if self.region else "")


def run_one(run: Run) -> Counts:
    """One suite on its own exchange; prints its failures, counts and workspace."""
    workdir = run.keep or Path(tempfile.mkdtemp(prefix="ocx-tempest-ws"))
    with tempest_exchange(workdir / "data" if run.keep else None) as exchange:
        counts = run_suite(
            SUITES[run.suite],
            exchange,
            workdir,
            landlord=run.landlord,
            region=run.region,
            regex=run.regex,
            concurrency=run.concurrency,
        )
    for name in counts.failures:
        print("FAILED", name)
    print(counts.line(run.label), flush=True)
    print(f"workspace: {workdir}", flush=True)
    if run.keep is None and not counts.failures:
        shutil.rmtree(workdir, ignore_errors=True)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("suite", choices=[*sorted(SUITES), "all"])
    parser.add_argument("--landlord", default="harvard")
    parser.add_argument("--region", default=None, help="e.g. ocx, for the proxy")
    parser.add_argument("--regex", default=None)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="workspace to keep")
    args = parser.parse_args(argv)
    wanted = ALL if args.suite == "all" else ((args.suite, args.region),)
    lines = []
    for index, (suite, region) in enumerate(wanted):
        keep = args.keep / str(index) if args.keep and len(wanted) > 1 else args.keep
        run = Run(suite, region, args.landlord, args.regex, args.concurrency, keep)
        lines.append(run_one(run).line(run.label))
    if len(lines) > 1:
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
