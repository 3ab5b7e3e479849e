"""keystonemiddleware's ``auth_token`` (PyPI, the filter every OpenStack service runs) in front
of a tiny WSGI app (``ksm_app.py``), pointed at an OCX landlord's identity as at a Keystone.

A valid token reaches the app with the project and roles OCX issued; an expired, revoked,
forged or foreign token is refused with 401 and auth_token's challenge; nothing is ever a
503 (which is what auth_token answers when it thinks the identity service itself refused it).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from bench.peers.swift import SWIFT_VENV, installed
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from ocx.runner import Exchange
from tests.conftest import ExchangeFactory
from tests.identity.conftest import Admin

pytestmark = pytest.mark.skipif(
    not installed(), reason="keystonemiddleware: no venv (bash bench/peers/install-swift.sh)"
)
APP = Path(__file__).with_name("ksm_app.py")
SERVICE_PASSWORD = "the app's service password"


@pytest.fixture
def exchange(exchange_factory: ExchangeFactory) -> Exchange:
    return exchange_factory()  # harvard and mit, identity only


@pytest.fixture
def admin(exchange: Exchange) -> Admin:
    return Admin(exchange)


@pytest.fixture
def app(exchange: Exchange, admin: Admin, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The app's URL and its log; its service user holds ``service`` at harvard."""
    admin.call("POST", "/roles", {"role": {"name": "service"}}, ok=201)  # the operator's
    service, user = admin.customer("app-service", role="service")
    conf = {
        "auth_type": "password",
        "auth_url": admin.url,
        "www_authenticate_uri": admin.url,
        "username": user["name"],
        "password": "app-service-pw",
        "user_domain_id": "default",
        "project_id": service["id"],
        "interface": "public",
        "token_cache_time": "-1",  # see revocation at once (the default caches 300 s)
    }
    (tmp_path / "ksm.json").write_text(json.dumps(conf))
    log = tmp_path / "ksm.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [str(SWIFT_VENV / "bin" / "python"), str(APP), str(tmp_path / "ksm.json")],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        assert port.isdigit(), log.read_text()
        yield f"http://127.0.0.1:{port}/", log
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _call(url: str, token: str | None) -> requests.Response:
    return requests.get(url, headers={"X-Auth-Token": token} if token else {}, timeout=60)


def test_auth_token_passes_valid_tokens_and_refuses_the_rest(
    app: tuple[str, Path], admin: Admin, exchange: Exchange
) -> None:
    url, log = app
    project, user = admin.customer("kim", role="member")
    sess = admin.user_session("kim", project["id"])
    token = str(sess.get_token())
    valid = _call(url, token)
    assert valid.status_code == 200
    seen: dict[str, Any] = valid.json()
    assert seen["X-Identity-Status"] == "Confirmed"
    assert (seen["X-Project-Id"], seen["X-User-Id"]) == (project["id"], user["id"])
    assert "member" in seen["X-Roles"].split(",")

    # Expired: a token of an application credential that ends two seconds from now.
    ends = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    cred = sess.post(
        f"{admin.url}/users/{user['id']}/application_credentials",
        json={"application_credential": {"name": "brief", "expires_at": ends.isoformat()}},
    ).json()["application_credential"]
    brief = v3.ApplicationCredential(
        auth_url=admin.url,
        application_credential_id=cred["id"],
        application_credential_secret=cred["secret"],
    )
    short = str(ks_session.Session(auth=brief).get_token())
    assert _call(url, short).status_code == 200
    while dt.datetime.now(dt.UTC) < ends + dt.timedelta(seconds=1):
        time.sleep(0.1)
    expired = _call(url, short)

    # Revoked: kim logs out.
    out = requests.delete(
        admin.url + "/auth/tokens",
        headers={"X-Auth-Token": token, "X-Subject-Token": token},
        timeout=30,
    )
    assert out.status_code == 204
    revoked = _call(url, token)

    mit = Admin(exchange, "mit")
    foreign = _call(url, str(mit.session.get_token()))
    forged = _call(url, token[:-4] + ("BBBB" if token.endswith("AAAA") else "AAAA"))
    for refused in (expired, revoked, foreign, forged, _call(url, None)):
        assert refused.status_code == 401, (refused.status_code, refused.text)
        challenge = refused.headers["WWW-Authenticate"]
        assert challenge == f'Keystone uri="{admin.url}"', challenge
    assert "Unable to validate token" not in log.read_text()
