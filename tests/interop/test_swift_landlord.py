"""A landlord that runs the real OpenStack Swift (the PyPI release, bench/peers/swift.py) as
its object store, under keystonemiddleware's ``auth_token`` pointed at the landlord's own OCX
identity service, as an OpenStack operator would deploy it.

``rack`` runs only OCX identity; its operator, over the Keystone API, makes Swift's service
user (role ``service``) and lists Swift in the catalog. rack trusts harvard, so the mix-and-
match proxy at harvard combines rack's real Swift with harvard's own OCX object store: alice
reaches both with python-swiftclient through region ``ocx``, the proxy getting her a token at
rack through K2K, and Swift checking that token at rack like any Keystone token.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from bench.peers.swift import KeystoneAuth, SwiftPeer, installed, running_swift, xattr_missing
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from swiftclient import client as swift
from swiftclient.exceptions import ClientException

from ocx.landlord import Landlord
from ocx.runner import Exchange
from tests.conftest import ExchangeFactory
from tests.proxy.conftest import placed


def _why_skip() -> str | None:
    if not installed():
        return "no Swift venv (bash bench/peers/install-swift.sh)"
    return None


SKIP = _why_skip()
pytestmark = pytest.mark.skipif(SKIP is not None, reason=f"real Swift: {SKIP}")

LANDLORDS: dict[str, Any] = {
    "harvard": {"parts": ["identity", "object", "proxy"], "demo_users": ["alice"]},
    "rack": {"parts": ["identity"], "trusts": ["harvard"]},
}
SERVICE_PASSWORD = "swift's service password"
DAVE_PASSWORD = "dave's password at rack"


@dataclass
class Rack:
    exchange: Exchange
    swift: SwiftPeer
    admin: ks_session.Session

    @property
    def landlord(self) -> Landlord:
        return self.exchange.landlords["rack"]

    def dave(self) -> v3.Password:
        """rack's own user, member of ``dave-project``."""
        return v3.Password(
            auth_url=self.landlord.auth_url,
            username="dave",
            password=DAVE_PASSWORD,
            user_domain_id="default",
            project_name="dave-project",
            project_domain_id="default",
        )

    def dave_swift(self) -> swift.Connection:
        """python-swiftclient as dave: Keystone v3 auth at rack, Swift from the catalog."""
        return swift.Connection(
            authurl=self.landlord.auth_url,
            user="dave",
            key=DAVE_PASSWORD,
            auth_version="3",
            os_options={
                "project_name": "dave-project",
                "project_domain_id": "default",
                "user_domain_id": "default",
            },
            retries=0,
        )


@pytest.fixture
def rack(
    exchange_factory: ExchangeFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Rack]:
    workdir = tmp_path_factory.mktemp("swift")
    if problem := xattr_missing(workdir):
        pytest.skip(problem)
    exchange = exchange_factory(LANDLORDS)
    landlord = exchange.landlords["rack"]
    admin = _admin(landlord)
    service = _post(admin, landlord, "projects", "project", {"name": "service"})
    swift_user = _post(
        admin,
        landlord,
        "users",
        "user",
        {"name": "swift", "password": SERVICE_PASSWORD, "default_project_id": service},
    )
    _grant(admin, landlord, service, swift_user, _role(admin, landlord, "service"))
    dave_project = _post(admin, landlord, "projects", "project", {"name": "dave-project"})
    dave = _post(admin, landlord, "users", "user", {"name": "dave", "password": DAVE_PASSWORD})
    _grant(admin, landlord, dave_project, dave, _role(admin, landlord, "member"))
    # No token cache in keystonemiddleware: every request is checked at rack, so a revoked
    # token is refused at once (with the default cache, after up to token_cache_time).
    auth = KeystoneAuth(landlord.auth_url, "swift", SERVICE_PASSWORD, token_cache_time=-1)
    with running_swift(workdir, keystone=auth) as peer:
        store = _post(
            admin, landlord, "services", "service", {"type": "object-store", "name": "swift"}
        )
        endpoint = {"service_id": store, "interface": "public", "url": peer.catalog_url}
        _post(admin, landlord, "endpoints", "endpoint", {**endpoint, "region_id": "RegionOne"})
        yield Rack(exchange, peer, admin)


def _admin(landlord: Landlord) -> ks_session.Session:
    auth = v3.Password(
        auth_url=landlord.auth_url,
        username="admin",
        password=landlord.admin_password,
        project_name="admin",
        user_domain_id="default",
        project_domain_id="default",
    )
    return ks_session.Session(auth=auth)


def _post(
    admin: ks_session.Session, landlord: Landlord, path: str, key: str, body: dict[str, Any]
) -> str:
    resp = admin.post(f"{landlord.auth_url}/{path}", json={key: body})
    return str(resp.json()[key]["id"])


def _role(admin: ks_session.Session, landlord: Landlord, name: str) -> str:
    found = admin.get(f"{landlord.auth_url}/roles?name={name}").json()["roles"]
    if found:
        return str(found[0]["id"])
    return _post(admin, landlord, "roles", "role", {"name": name})


def _grant(
    admin: ks_session.Session, landlord: Landlord, project: str, user: str, role: str
) -> None:
    admin.put(f"{landlord.auth_url}/projects/{project}/users/{user}/roles/{role}")


def test_rack_user_works_with_real_swift_on_ocx_tokens(rack: Rack) -> None:
    conn = rack.dave_swift()
    conn.put_container("papers")
    conn.put_object("papers", "a/b.txt", b"kept by real Swift", content_type="text/plain")
    headers, body = conn.get_object("papers", "a/b.txt")
    assert body == b"kept by real Swift"
    assert headers["content-type"] == "text/plain"
    # Swift chose the account from the token's project, which it read from OCX identity.
    sess = ks_session.Session(auth=rack.dave())
    assert conn.url == rack.swift.account_url(str(sess.get_project_id()))
    assert [c["name"] for c in conn.get_account()[1]] == ["papers"]
    assert [o["name"] for o in conn.get_container("papers")[1]] == ["a/b.txt"]
    conn.delete_object("papers", "a/b.txt")
    conn.delete_container("papers")


def _status(url: str, token: str | None) -> requests.Response:
    headers = {"X-Auth-Token": token} if token is not None else {}
    return requests.get(url, headers=headers, timeout=30)


def test_keystonemiddleware_takes_valid_and_refuses_expired_and_revoked(rack: Rack) -> None:
    sess = ks_session.Session(auth=rack.dave())
    token, project = str(sess.get_token()), str(sess.get_project_id())
    account = rack.swift.account_url(project)
    assert _status(account, token).status_code == 204  # valid: the owner's empty account

    # Expired: a token from an application credential that ends two seconds from now.
    ends = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    user = str(sess.get_user_id())
    cred = sess.post(
        f"{rack.landlord.auth_url}/users/{user}/application_credentials",
        json={"application_credential": {"name": "brief", "expires_at": ends.isoformat()}},
    ).json()["application_credential"]
    brief = v3.ApplicationCredential(
        auth_url=rack.landlord.auth_url,
        application_credential_id=cred["id"],
        application_credential_secret=cred["secret"],
    )
    short = str(ks_session.Session(auth=brief).get_token())
    assert _status(account, short).status_code == 204
    while dt.datetime.now(dt.UTC) < ends + dt.timedelta(seconds=1):
        time.sleep(0.1)
    expired = _status(account, short)

    # Revoked: dave logs out (DELETE /v3/auth/tokens with his own token).
    revoke = requests.delete(
        rack.landlord.auth_url + "/auth/tokens",
        headers={"X-Auth-Token": token, "X-Subject-Token": token},
        timeout=30,
    )
    assert revoke.status_code == 204
    revoked = _status(account, token)

    # Forged, and another landlord's: harvard's admin token means nothing at rack.
    forged = _status(account, token[:-4] + ("BBBB" if token.endswith("AAAA") else "AAAA"))
    harvard = _admin(rack.exchange.landlords["harvard"])
    foreign = _status(account, str(harvard.get_token()))
    anonymous = _status(account, None)
    for refused in (expired, revoked, forged, foreign, anonymous):
        # keystonemiddleware marked the token invalid (not "identity unreachable": that
        # would be 503) and Swift's keystoneauth refused the request.
        assert refused.status_code == 401, (refused.status_code, refused.text)
        # keystonemiddleware's challenge (www_authenticate_uri), after Swift's own.
        challenge = refused.headers["Www-Authenticate"]
        assert challenge.endswith(f'Keystone uri="{rack.landlord.auth_url}"'), challenge
    # Each was refused as invalid at rack (a 404 there), not because rack "rejected the
    # service's authorization" (a 401 there), which keystonemiddleware takes for an identity
    # outage: it logs this, and without delay_auth_decision it answers 503.
    assert "Unable to validate token" not in rack.swift.logs(lines=1000)


def test_proxy_combines_real_swift_with_ocx_object_storage(rack: Rack) -> None:
    harvard = rack.exchange.landlords["harvard"]
    alice = swift.Connection(
        authurl=harvard.auth_url,
        user="alice",
        key=harvard.demo_passwords["alice"],
        auth_version="3",
        os_options={
            "project_name": "alice-project",
            "project_domain_id": "default",
            "user_domain_id": "default",
            "region_name": "ocx",
        },
        retries=0,
    )
    assert placed(alice, "notes", "harvard")["x-ocx-landlord"] == "harvard"
    assert placed(alice, "archive", "rack")["x-ocx-landlord"] == "rack"
    alice.put_object("notes", "n.txt", b"at harvard (OCX)")
    big = bytes(range(256)) * 4096  # 1 MiB through the proxy into real Swift
    alice.put_object("archive", "dir/big.bin", big)
    headers, listing = alice.get_account()
    assert [(c["name"], c["landlord"]) for c in listing] == [
        ("archive", "rack"),
        ("notes", "harvard"),
    ]
    # Real Swift counts a container's objects in its account listing only when the
    # container-updater daemon (not run here) passes by; the container itself knows at once.
    assert alice.head_container("archive")["x-container-object-count"] == "1"
    assert headers["x-ocx-landlords"] == "harvard, rack"
    assert alice.get_object("archive", "dir/big.bin")[1] == big
    assert [o["name"] for o in alice.get_container("archive")[1]] == ["dir/big.bin"]
    # In real Swift, in the account of alice's project at rack (made by rack's mapping).
    k2k = ks_session.Session(
        auth=v3.Keystone2Keystone(
            v3.Password(
                auth_url=harvard.auth_url,
                username="alice",
                password=harvard.demo_passwords["alice"],
                user_domain_id="default",
                project_name="alice-project",
                project_domain_id="default",
            ),
            "rack",
            project_name="harvard-alice",
            project_domain_name="harvard-federated",
        )
    )
    url = k2k.get_endpoint(service_type="object-store", interface="public")
    assert url == rack.swift.account_url(str(k2k.get_project_id()))
    direct = swift.Connection(preauthurl=url, preauthtoken=k2k.get_token(), retries=0)
    assert [c["name"] for c in direct.get_account()[1]] == ["archive"]
    assert direct.get_object("archive", "dir/big.bin")[1] == big
    with pytest.raises(ClientException) as missing:
        alice.get_object("archive", "nope")
    assert missing.value.http_status == 404
    alice.delete_object("archive", "dir/big.bin")
    alice.delete_container("archive")
    assert direct.get_account()[1] == []
