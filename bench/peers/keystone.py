"""A real OpenStack Keystone (the PyPI release) on a loopback port: a benchmark and interop peer.

Keystone lives in its own venv (``.venv-keystone``, made by ``install-keystone.sh``) so its
oslo.* pins never meet the project's. :func:`running_keystone` gives it a private directory:
keystone.conf, a SQLite database, fernet/receipt/credential key repositories, a gunicorn
config and two logs (``keystone.log`` is Keystone's own; ``server.log`` is the setup and
gunicorn output). The listening socket is bound here and handed to gunicorn as a file
descriptor, so the port is known before bootstrap writes it into the catalog and no other
process can take it in between.

With ``saml_idp=True`` Keystone is also a Keystone-to-Keystone identity provider: a fresh RSA
key and self-signed certificate in ``saml/``, the ``[saml]`` options, and the IdP metadata
that ``keystone-manage saml_idp_metadata`` writes, served at ``/v3/OS-FEDERATION/saml2/metadata``.
Keystone signs its assertions by running the ``xmlsec1`` program, which must be installed
(Debian: ``apt-get install xmlsec1``).

    with running_keystone(tmp_path, password_hash_rounds=4) as keystone:
        httpx.post(keystone.url + "/auth/tokens", json=keystone.password_auth())
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
INSTALL_SCRIPT = HERE / "install-keystone.sh"
DRIVER = HERE / "keystone_driver.py"
KEYSTONE_VENV = REPO / ".venv-keystone"
KEYSTONE_VERSION = "30.0.0"  # keep in step with install-keystone.sh
STARTUP_TIMEOUT = 90.0
STOP_TIMEOUT = 10.0
XMLSEC1 = "xmlsec1"


class KeystoneError(RuntimeError):
    """Keystone could not be installed, set up or started; the message carries its log."""


@dataclass(frozen=True)
class SamlIdp:
    """Keystone's identity provider side, as a service provider needs to know it."""

    entity_id: str  # the Issuer of its assertions
    certificate_pem: str  # what its assertions are signed with
    metadata_url: str


@dataclass(frozen=True)
class KeystonePeer:
    url: str  # the v3 base, e.g. http://127.0.0.1:40123/v3
    admin_user: str
    admin_password: str
    admin_project: str
    workdir: Path
    config: Path
    startup_seconds: dict[str, float]  # phase -> seconds: "setup", "serve", "total"
    saml: SamlIdp | None = None  # set when started with saml_idp=True

    @property
    def log(self) -> Path:
        return self.workdir / "keystone.log"

    def password_auth(self) -> dict[str, Any]:
        """The body of a project-scoped password ``POST /v3/auth/tokens`` for the admin."""
        return password_auth(self.admin_user, self.admin_password, self.admin_project)

    def hash_cost(self, samples: int = 20) -> dict[str, Any]:
        """Keystone's own hash_password/check_password timed under this keystone.conf."""
        out = _run_driver(["hash-cost", str(self.config), str(samples)], self.workdir)
        result: dict[str, Any] = json.loads(out)
        return result


def xmlsec1_missing() -> str | None:
    """Why Keystone could not sign SAML assertions here, or None if it can."""
    if shutil.which(XMLSEC1) is None:
        return f"{XMLSEC1} is not installed (Debian: apt-get install xmlsec1)"
    return None


def password_auth(user: str, password: str, project: str) -> dict[str, Any]:
    domain = {"id": "default"}
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": user, "domain": domain, "password": password}},
            },
            "scope": {"project": {"name": project, "domain": domain}},
        }
    }


def ensure_keystone_venv() -> Path:
    """Install Keystone into .venv-keystone if it is not there yet; returns its python."""
    result = subprocess.run(
        ["bash", str(INSTALL_SCRIPT)],
        env={**os.environ, "KEYSTONE_VENV": str(KEYSTONE_VENV)},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise KeystoneError(f"installing Keystone failed:\n{result.stdout}{result.stderr}")
    return KEYSTONE_VENV / "bin" / "python"


@contextlib.contextmanager
def running_keystone(
    workdir: Path,
    *,
    password_hash_algorithm: str = "bcrypt",
    password_hash_rounds: int | None = None,
    workers: int = 1,
    threads: int = 1,
    cache: bool = False,
    saml_idp: bool = False,
    assertion_lifetime: int = 300,
) -> Iterator[KeystonePeer]:
    """Keystone serving on 127.0.0.1 from ``workdir`` until the block ends.

    ``threads`` > 1 runs gunicorn's gthread worker with that many threads per process;
    ``cache`` turns on Keystone's in-process (oslo_cache.dict) cache, the stand-in for the
    memcached that production deployments put behind Keystone. That cache is per process:
    with ``workers`` > 1 a write in one worker is not seen by another until it expires, so
    interop tests that write should keep one worker (or the cache off). ``workdir`` should
    be fresh: the database, keys and logs are made there.

    ``saml_idp`` makes it a K2K identity provider whose assertions live ``assertion_lifetime``
    seconds (Keystone's default is an hour; five minutes is what OCX service providers take).
    """
    started = time.monotonic()
    ensure_keystone_venv()
    if saml_idp and (missing := xmlsec1_missing()):
        raise KeystoneError(f"Keystone cannot sign SAML assertions: {missing}")
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(18)
    with _listening_socket() as sock:
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = _write_keystone_conf(workdir, password_hash_algorithm, password_hash_rounds, cache)
        idp = _add_saml_idp(config, base, assertion_lifetime) if saml_idp else None
        _run_driver(
            ["setup", str(config), base + "/v3"], workdir, {"OS_BOOTSTRAP_PASSWORD": password}
        )
        set_up = time.monotonic()
        _write_gunicorn_conf(workdir, sock.fileno(), workers, threads)
        with _gunicorn(workdir, sock) as process:
            _wait_until_serving(base + "/v3", process, workdir)
            served = time.monotonic()
            yield KeystonePeer(
                url=base + "/v3",
                admin_user="admin",
                admin_password=password,
                admin_project="admin",
                workdir=workdir,
                config=config,
                startup_seconds={
                    "setup": set_up - started,
                    "serve": served - set_up,
                    "total": served - started,
                },
                saml=idp,
            )


@contextlib.contextmanager
def _listening_socket() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this; without it a keep-alive response split in two
        # writes waits ~40 ms for the client's delayed ACK (Nagle).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        yield sock
    finally:
        sock.close()


def _write_keystone_conf(workdir: Path, algorithm: str, rounds: int | None, cache: bool) -> Path:
    # keystone-manage makes these itself, mode 0700; made here, they would be world readable.
    repos = {name: workdir / name for name in ("fernet-keys", "receipt-keys", "credential-keys")}
    identity = f"password_hash_algorithm = {algorithm}\n"
    if algorithm == "bcrypt":
        # Keystone logs a warning on every bcrypt check unless passwords are capped at
        # bcrypt's 72 bytes; an operator silences it this way, so the benchmark does too.
        identity += "max_password_length = 72\n"
    if rounds is not None:
        identity += f"password_hash_rounds = {rounds}\n"
    text = f"""\
[DEFAULT]
log_file = {workdir / "keystone.log"}

[database]
connection = sqlite:///{workdir / "keystone.db"}

[token]
provider = fernet
expiration = 3600

[fernet_tokens]
key_repository = {repos["fernet-keys"]}

[fernet_receipts]
key_repository = {repos["receipt-keys"]}

[credential]
key_repository = {repos["credential-keys"]}

[identity]
{identity}
[cache]
enabled = {str(cache).lower()}
backend = oslo_cache.dict
"""
    path = workdir / "keystone.conf"
    path.write_text(text)
    return path


def _add_saml_idp(config: Path, base: str, lifetime: int) -> SamlIdp:
    """Key, certificate and ``[saml]`` options: what an operator sets up for K2K."""
    directory = config.parent / "saml"
    directory.mkdir(mode=0o700, exist_ok=True)
    key_pem, cert_pem = _self_signed("keystone-idp")
    (directory / "signing_key.pem").write_bytes(key_pem)
    (directory / "signing_cert.pem").write_bytes(cert_pem)
    (directory / "signing_key.pem").chmod(0o600)
    entity_id = f"{base}/v3/OS-FEDERATION/saml2/idp"
    with config.open("a") as conf:
        conf.write(
            f"""
[saml]
certfile = {directory / "signing_cert.pem"}
keyfile = {directory / "signing_key.pem"}
idp_entity_id = {entity_id}
idp_sso_endpoint = {base}/v3/OS-FEDERATION/saml2/sso
idp_metadata_path = {directory / "idp_metadata.xml"}
assertion_expiration_time = {lifetime}
xmlsec1_binary = {XMLSEC1}
"""
        )
    return SamlIdp(
        entity_id=entity_id,
        certificate_pem=cert_pem.decode(),
        metadata_url=f"{base}/v3/OS-FEDERATION/saml2/metadata",
    )


def _self_signed(common_name: str) -> tuple[bytes, bytes]:
    """(private key PEM, certificate PEM), made the way OCX makes its own SAML keys."""
    from ocx.identity.federation.saml import new_signing_key

    made = new_signing_key(common_name)
    return made.private_pem.encode(), made.cert_pem.encode()


def _write_gunicorn_conf(workdir: Path, fd: int, workers: int, threads: int) -> None:
    # Settings go in gunicorn.conf.py (read from the working directory), not on the command
    # line: Keystone parses sys.argv with oslo.config in each worker and rejects gunicorn's.
    worker_class = "gthread" if threads > 1 else "sync"
    (workdir / "gunicorn.conf.py").write_text(
        f"""\
bind = ["fd://{fd}"]
workers = {workers}
threads = {threads}
worker_class = "{worker_class}"
wsgi_app = "keystone.server.wsgi:initialize_public_application()"
graceful_timeout = 3
timeout = 120
loglevel = "warning"
"""
    )


@contextlib.contextmanager
def _gunicorn(workdir: Path, sock: socket.socket) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "OS_KEYSTONE_CONFIG_DIR": str(workdir), "PYTHONWARNINGS": "ignore"}
    with (workdir / "server.log").open("ab") as log:
        process = subprocess.Popen(
            [str(KEYSTONE_VENV / "bin" / "gunicorn")],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=[sock.fileno()],
            start_new_session=True,  # its own process group: stopped as one, no orphans
        )
    try:
        yield process
    finally:
        _stop_group(process)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(wait)
            _reap_group(process.pid)
            return


def _reap_group(pgid: int) -> None:
    # Workers whose master died first would linger in the group: make sure none is left.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], workdir: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise KeystoneError(f"gunicorn exited with {process.returncode}\n{_logs(workdir)}")
            with contextlib.suppress(httpx.HTTPError):
                if client.get(url).status_code == 200:
                    return
            time.sleep(0.05)
    raise KeystoneError(
        f"Keystone did not answer {url} in {STARTUP_TIMEOUT:.0f}s\n{_logs(workdir)}"
    )


def _run_driver(args: list[str], workdir: Path, env: dict[str, str] | None = None) -> str:
    python = KEYSTONE_VENV / "bin" / "python"
    with (workdir / "server.log").open("ab") as log:
        result = subprocess.run(
            # -I: without it the script's directory, holding this keystone.py, would shadow
            # the real keystone package.
            [str(python), "-I", str(DRIVER), *args],
            cwd=workdir,
            env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            check=False,
        )
    if result.returncode != 0:
        raise KeystoneError(f"keystone_driver {args[0]} failed\n{_logs(workdir)}")
    return result.stdout.decode()


def _logs(workdir: Path, lines: int = 40) -> str:
    parts = []
    for name in ("server.log", "keystone.log"):
        path = workdir / name
        if path.exists():
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path} (last {len(tail)} lines)\n" + "\n".join(tail))
    return "\n".join(parts)


def main() -> None:
    """Smoke check: start Keystone in a temporary directory, get a token with keystoneauth1."""
    import tempfile

    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    with (
        tempfile.TemporaryDirectory(prefix="ocx-keystone-") as tmp,
        running_keystone(Path(tmp), password_hash_rounds=4) as keystone,
    ):
        auth = v3.Password(
            auth_url=keystone.url,
            username=keystone.admin_user,
            password=keystone.admin_password,
            project_name=keystone.admin_project,
            user_domain_id="default",
            project_domain_id="default",
        )
        sess = session.Session(auth=auth)
        endpoint = sess.get_endpoint(service_type="identity", interface="public")
        phases = ", ".join(f"{k} {v:.1f}s" for k, v in keystone.startup_seconds.items())
        print(f"Keystone {KEYSTONE_VERSION} at {keystone.url} ({phases})")
        token = sess.get_token() or ""
        print(f"token {token[:12]}…, catalog identity endpoint {endpoint}")


if __name__ == "__main__":
    main()
