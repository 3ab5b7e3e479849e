"""A real OpenStack Swift (the PyPI release) on loopback ports: a benchmark and interop peer.

Swift lives in its own venv (``.venv-swift``, made by ``install-swift.sh``, together with
keystonemiddleware) so its eventlet and oslo.* pins never meet the project's.
:func:`running_swift` lays out one small cluster in a private directory: ``swift.conf``, one
ring each for accounts, containers and objects (``swift-ring-builder``: one partition, one
replica, one device), the device directory ``srv/d1`` (no mount point: ``mount_check =
false``; ``disable_fallocate = true``), and the account, container, object and proxy servers,
each one process (``workers = 0``), plus a memcached from Debian when one is installed.

Swift keeps an object's metadata in extended attributes (``user.swift.metadata``), so the
directory must be on a filesystem that has them (ext4, xfs, btrfs and tmpfs do);
:func:`xattr_missing` says why not.

Authentication is either Swift's own ``tempauth`` (one user, for benchmarks) or, with
``keystone=KeystoneAuth(…)``, keystonemiddleware's ``auth_token`` validating every token at
that identity service (an OCX landlord's, or a real Keystone) and Swift's ``keystoneauth``
deciding from the roles: the way Swift is deployed in an OpenStack cloud.

    with running_swift(tmp_path) as swift:
        conn = swiftclient.Connection(swift.auth_url, swift.user, swift.key)
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = Path(__file__).resolve().parent / "install-swift.sh"
SWIFT_VENV = Path(os.environ.get("SWIFT_VENV", REPO / ".venv-swift"))
SWIFT_VERSION = "2.38.3"  # keep in step with install-swift.sh
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
SERVERS = ("account", "container", "object")
TEMPAUTH_USER = ("bench:bench", "bench")


class SwiftError(RuntimeError):
    """Swift could not be installed, set up or started; the message carries its logs."""


@dataclass(frozen=True)
class KeystoneAuth:
    """Where keystonemiddleware validates tokens, and the service user it does it as."""

    auth_url: str  # the identity service's v3 base, e.g. http://127.0.0.1:40100/v3
    username: str
    password: str
    project_name: str = "service"
    # Swift's keystoneauth: holders of these roles on a project own its account AUTH_<id>.
    operator_roles: str = "admin, member"
    # keystonemiddleware remembers a validated token this long; -1: ask every time.
    token_cache_time: int = 300


@dataclass(frozen=True)
class SwiftPeer:
    url: str  # the proxy server, e.g. http://127.0.0.1:40123
    workdir: Path
    startup_seconds: float
    keystone: KeystoneAuth | None

    @property
    def auth_url(self) -> str:
        """tempauth's v1.0 auth URL (only without ``keystone``)."""
        return self.url + "/auth/v1.0"

    @property
    def user(self) -> str:
        return TEMPAUTH_USER[0]

    @property
    def key(self) -> str:
        return TEMPAUTH_USER[1]

    def account_url(self, project_id: str) -> str:
        return f"{self.url}/v1/AUTH_{project_id}"

    @property
    def catalog_url(self) -> str:
        """The object-store endpoint an identity service's catalog should hold."""
        return self.url + "/v1/AUTH_$(project_id)s"

    def logs(self, lines: int = 30) -> str:
        return _logs(self.workdir, lines)


def xattr_missing(directory: Path) -> str | None:
    """Why Swift could not keep its metadata under ``directory``, or None if it can."""
    probe = directory / ".xattr-probe"
    try:
        probe.write_bytes(b"")
        os.setxattr(probe, "user.swift.probe", b"x" * 254)
        return None
    except OSError as exc:
        return f"{directory} has no user extended attributes ({exc.strerror})"
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()


def ensure_swift_venv() -> Path:
    """Install Swift into .venv-swift if it is not there yet; returns its bin directory."""
    result = subprocess.run(
        ["bash", str(INSTALL_SCRIPT)],
        env={**os.environ, "SWIFT_VENV": str(SWIFT_VENV)},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SwiftError(f"installing Swift failed:\n{result.stdout}{result.stderr}")
    return SWIFT_VENV / "bin"


def installed() -> bool:
    return (SWIFT_VENV / ".ocx-installed").exists()


@contextlib.contextmanager
def running_swift(
    workdir: Path, *, keystone: KeystoneAuth | None = None, proxy_workers: int = 0
) -> Iterator[SwiftPeer]:
    """Swift serving on 127.0.0.1 from ``workdir`` (fresh) until the block ends."""
    started = time.monotonic()
    bin_dir = ensure_swift_venv()
    workdir = workdir.resolve()
    (workdir / "srv" / "d1").mkdir(parents=True, exist_ok=True)
    if problem := xattr_missing(workdir / "srv" / "d1"):
        raise SwiftError(problem)
    (workdir / "swift.conf").write_text(SWIFT_CONF)
    with contextlib.ExitStack() as stack:
        cache = stack.enter_context(_memcached(workdir))
        for name in SERVERS:
            port = _free_port()
            _ring(bin_dir, workdir, name, port)
            conf = workdir / f"{name}-server.conf"
            conf.write_text(SERVER_CONF.format(root=workdir, port=port, name=name))
            stack.enter_context(_server(bin_dir, workdir, name, conf))
        port = _free_port()
        conf = workdir / "proxy-server.conf"
        conf.write_text(_proxy_conf(workdir, port, cache, keystone, proxy_workers))
        stack.enter_context(_server(bin_dir, workdir, "proxy", conf))
        url = f"http://127.0.0.1:{port}"
        _wait_until_serving(url, workdir)
        yield SwiftPeer(url, workdir, time.monotonic() - started, keystone)


SWIFT_CONF = """\
[swift-hash]
swift_hash_path_suffix = ocx-peer
[storage-policy:0]
name = Policy-0
default = yes
"""

# Logging: WARNING and worse to the console (``-v``), which is the server's log file; the
# syslog socket is pointed nowhere so nothing reaches the machine's syslog.
SERVER_CONF = """\
[DEFAULT]
devices = {root}/srv
mount_check = false
disable_fallocate = true
bind_ip = 127.0.0.1
bind_port = {port}
workers = 0
swift_dir = {root}
log_level = WARNING
log_address = {root}/no-syslog
[pipeline:main]
pipeline = {name}-server
[app:{name}-server]
use = egg:swift#{name}
"""

PROXY_HEAD = """\
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {port}
workers = {workers}
swift_dir = {root}
log_level = WARNING
log_address = {root}/no-syslog
[pipeline:main]
pipeline = catch_errors healthcheck proxy-logging {cache}{auth} proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
"""

TEMPAUTH = """\
[filter:tempauth]
use = egg:swift#tempauth
user_bench_bench = bench .admin
"""

KEYSTONE = """\
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
www_authenticate_uri = {k.auth_url}
auth_url = {k.auth_url}
auth_type = password
interface = public
username = {k.username}
password = {k.password}
project_name = {k.project_name}
user_domain_id = default
project_domain_id = default
delay_auth_decision = true
include_service_catalog = false
token_cache_time = {k.token_cache_time}
service_token_roles_required = true
{cache_option}
[filter:keystoneauth]
use = egg:swift#keystoneauth
operator_roles = {k.operator_roles}
"""


def _proxy_conf(
    root: Path, port: int, cache: int | None, keystone: KeystoneAuth | None, workers: int
) -> str:
    auth = "authtoken keystoneauth" if keystone else "tempauth"
    text = PROXY_HEAD.format(
        port=port, workers=workers, root=root, cache="cache " if cache else "", auth=auth
    )
    if cache:
        text += f"[filter:cache]\nuse = egg:swift#memcache\nmemcache_servers = 127.0.0.1:{cache}\n"
    if keystone is None:
        return text + TEMPAUTH
    cache_option = "cache = swift.cache" if cache else ""
    return text + KEYSTONE.format(k=keystone, cache_option=cache_option)


def _ring(bin_dir: Path, root: Path, name: str, port: int) -> None:
    builder = str(root / f"{name}.builder")
    tool = str(bin_dir / "swift-ring-builder")
    # One partition (power 0), one replica, no minimum hours between moves; one device.
    steps = (["create", "0", "1", "0"], ["add", f"r1z1-127.0.0.1:{port}/d1", "1"], ["rebalance"])
    for step in steps:
        result = subprocess.run([tool, builder, *step], capture_output=True, text=True)
        # rebalance exits 1 with a warning ("balance is not optimal") on a one-device ring.
        if result.returncode not in (0, 1) or not (root / f"{name}.builder").exists():
            raise SwiftError(f"swift-ring-builder {' '.join(step)}: {result.stdout}")
    if not (root / f"{name}.ring.gz").exists():
        raise SwiftError(f"swift-ring-builder made no {name}.ring.gz")


@contextlib.contextmanager
def _memcached(root: Path) -> Iterator[int | None]:
    """A memcached of its own (Swift's and keystonemiddleware's cache), if one is installed."""
    binary = shutil.which("memcached") or "/usr/bin/memcached"
    if not os.path.exists(binary):
        yield None
        return
    port = _free_port()
    cmd = [binary, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "64"]
    if os.geteuid() == 0:
        cmd += ["-u", "root"]
    with _process(cmd, root / "memcached.log"):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            time.sleep(0.02)
        yield port


@contextlib.contextmanager
def _server(bin_dir: Path, root: Path, name: str, conf: Path) -> Iterator[None]:
    cmd = [str(bin_dir / f"swift-{name}-server"), str(conf), "-v"]
    with _process(cmd, root / f"{name}-server.log"):
        yield


@contextlib.contextmanager
def _process(cmd: list[str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
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
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            return


def _free_port() -> int:
    # Swift's servers bind their own sockets, so the port is chosen here and then given to
    # them: a small window in which another process could take it (startup then fails).
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_serving(url: str, root: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    port = int(url.rsplit(":", 1)[1])
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthcheck")
            if conn.getresponse().status == 200:
                conn.close()
                return
        time.sleep(0.05)
    raise SwiftError(f"Swift did not answer {url} in {STARTUP_TIMEOUT:.0f}s\n{_logs(root)}")


def _logs(root: Path, lines: int = 30) -> str:
    parts = []
    for path in sorted(root.glob("*.log")):
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"--- {path} (last {len(tail)} lines)\n" + "\n".join(tail))
    return "\n".join(parts)


def main() -> None:
    """Smoke check: start Swift with tempauth in a temporary directory, put and get one object."""
    import tempfile

    with (
        tempfile.TemporaryDirectory(prefix="ocx-swift-") as tmp,
        running_swift(Path(tmp)) as swift,
    ):
        conn = http.client.HTTPConnection("127.0.0.1", int(swift.url.rsplit(":", 1)[1]))
        conn.request(
            "GET", "/auth/v1.0", headers={"X-Auth-User": swift.user, "X-Auth-Key": swift.key}
        )
        resp = conn.getresponse()
        resp.read()
        token, account = resp.headers["X-Auth-Token"], resp.headers["X-Storage-Url"]
        path = account.split(swift.url, 1)[1]
        for method, where, body in (
            ("PUT", "/c", None),
            ("PUT", "/c/o", b"hello"),
            ("GET", "/c/o", None),
        ):
            conn.request(method, path + where, body=body, headers={"X-Auth-Token": token})
            got = conn.getresponse()
            print(method, where, got.status, got.read()[:20])
        print(f"Swift {SWIFT_VERSION} at {swift.url} ({swift.startup_seconds:.1f}s)")


if __name__ == "__main__":
    main()
