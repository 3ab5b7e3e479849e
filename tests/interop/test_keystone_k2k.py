"""A real Keystone (the PyPI release, see bench/peers/keystone.py) as the Keystone-to-Keystone
identity provider of an OCX landlord: its user asks for a token at stor with keystoneauth1.

Both sides are wired as their operators would, over public APIs: Keystone gets stor as a
service provider; stor gets Keystone as an identity provider (its entity id, the certificate
from its published SAML metadata) with a mapping of its own.

Keystone 30's assertions are signed with RSA-SHA1 (hard-coded in keystone.federation.idp) and
carry no ``Conditions``: the service provider they are for is named only by the signed
``SubjectConfirmationData/@Recipient``, and their end only by its ``NotOnOrAfter``. stor
refuses them today; until it has a way to admit such an IdP, the full login is a strict xfail
and the refusal is pinned down exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from bench.peers.keystone import KEYSTONE_VENV, KeystonePeer, running_keystone, xmlsec1_missing
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from keystoneauth1.identity.v3 import Keystone2Keystone
from lxml import etree

from ocx.identity.federation import saml
from ocx.identity.federation.idp import certificate_from_metadata
from ocx.landlord import Landlord
from ocx.runner import Exchange
from tests.conftest import ExchangeFactory


def _why_skip() -> str | None:
    if not (KEYSTONE_VENV / ".ocx-installed").exists():
        return f"no Keystone venv at {KEYSTONE_VENV} (bash bench/peers/install-keystone.sh)"
    return xmlsec1_missing()


SKIP = _why_skip()
pytestmark = pytest.mark.skipif(SKIP is not None, reason=f"real Keystone K2K: {SKIP}")

IDP = "keystone"
PASSWORD = "alice's keystone password"
FED = f"/v3/OS-FEDERATION/identity_providers/{IDP}"
PAOS = "application/vnd.paos+xml"
RULES = [
    {
        "local": [
            {
                # A Keystone user is unique by name within a domain; Keystone sends no user id.
                "user": {"name": "{0}", "id": "{1}/{0}", "type": "ephemeral"},
                "projects": [{"name": f"{IDP}-{{0}}", "roles": [{"name": "member"}]}],
            }
        ],
        "remote": [{"type": "openstack_user"}, {"type": "openstack_user_domain"}],
    }
]


@pytest.fixture(scope="module")
def keystone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeystonePeer]:
    """One Keystone for the module (it takes seconds to start), with alice in it."""
    workdir = tmp_path_factory.mktemp("keystone")
    with running_keystone(workdir, password_hash_rounds=4, saml_idp=True) as peer:
        add_alice(peer)
        yield peer


@pytest.fixture
def sp_url(keystone: KeystonePeer, stor: Landlord) -> Iterator[str]:
    """Keystone's operator registers this test's stor as a service provider (enabled: Keystone's
    default is disabled); the registration goes when the test ends."""
    url = f"{stor.identity_url}{FED}/protocols/saml2/ecp"
    admin = admin_session(keystone.url, keystone.admin_password)
    body = {"auth_url": f"{stor.identity_url}{FED}/protocols/saml2/auth", "sp_url": url}
    sp = keystone.url + "/OS-FEDERATION/service_providers/stor"
    admin.put(sp, json={"service_provider": {**body, "enabled": True}})
    yield url
    admin.delete(sp)


@pytest.fixture
def stor(exchange_factory: ExchangeFactory) -> Landlord:
    exchange: Exchange = exchange_factory({"stor": {"parts": ["identity"]}})
    return exchange.landlords["stor"]


def admin_session(auth_url: str, password: str) -> ks_session.Session:
    auth = v3.Password(
        auth_url=auth_url,
        username="admin",
        password=password,
        project_name="admin",
        user_domain_id="default",
        project_domain_id="default",
    )
    return ks_session.Session(auth=auth)


def add_alice(keystone: KeystonePeer) -> None:
    """alice, admin of her own project at Keystone: stor's mapping, not her roles, decides."""
    admin = admin_session(keystone.url, keystone.admin_password)
    project = _post(admin, keystone.url + "/projects", "project", {"name": "alice-project"})
    user = _post(
        admin,
        keystone.url + "/users",
        "user",
        {"name": "alice", "password": PASSWORD, "default_project_id": project},
    )
    role = admin.get(keystone.url + "/roles?name=admin").json()["roles"][0]["id"]
    admin.put(f"{keystone.url}/projects/{project}/users/{user}/roles/{role}")


def alice_at_keystone(keystone: KeystonePeer) -> v3.Password:
    return v3.Password(
        auth_url=keystone.url,
        username="alice",
        password=PASSWORD,
        project_name="alice-project",
        user_domain_id="default",
        project_domain_id="default",
    )


def _post(sess: ks_session.Session, url: str, key: str, body: dict[str, Any]) -> str:
    return str(sess.post(url, json={key: body}).json()[key]["id"])


def trust_keystone_at_stor(keystone: KeystonePeer, stor: Landlord, sha1: bool = True) -> None:
    """stor's operator: Keystone's entity id and published certificate, and stor's mapping."""
    assert keystone.saml is not None
    metadata = ks_session.Session().get(keystone.saml.metadata_url)
    entity_id, certificate = certificate_from_metadata(metadata.content)
    assert entity_id == keystone.saml.entity_id
    admin = admin_session(stor.auth_url, stor.admin_password)
    idp = {"remote_ids": [entity_id], "saml_certificate": certificate, "saml_accept_sha1": sha1}
    admin.put(stor.identity_url + FED, json={"identity_provider": idp})
    mapping = f"{stor.identity_url}/v3/OS-FEDERATION/mappings/{IDP}-saml2"
    admin.put(mapping, json={"mapping": {"rules": RULES}})
    protocol = {"protocol": {"mapping_id": f"{IDP}-saml2"}}
    admin.put(f"{stor.identity_url}{FED}/protocols/saml2", json=protocol)


def test_keystone_user_gets_a_scoped_token_at_stor(
    keystone: KeystonePeer, stor: Landlord, sp_url: str
) -> None:
    home = alice_at_keystone(keystone)
    trust_keystone_at_stor(keystone, stor)
    k2k = Keystone2Keystone(
        home, "stor", project_name=f"{IDP}-alice", project_domain_name=f"{IDP}-federated"
    )
    sess = ks_session.Session(auth=k2k)
    access = k2k.get_access(sess)
    assert access.project_name == f"{IDP}-alice"
    assert access.role_names == ["member", "reader"]  # not Keystone's admin: stor decides
    assert access.is_federated
    assert access.user_domain_name == f"{IDP}-federated"
    assert access.service_catalog.url_for(service_type="identity") == stor.auth_url
    projects = sess.get(stor.auth_url + "/auth/projects").json()["projects"]
    assert [p["name"] for p in projects] == [f"{IDP}-alice"]


def test_stor_refuses_keystone_assertion_signed_with_sha1(
    keystone: KeystonePeer, stor: Landlord, sp_url: str
) -> None:
    home = ks_session.Session(auth=alice_at_keystone(keystone))
    trust_keystone_at_stor(keystone, stor, sha1=False)
    envelope = ecp_assertion(keystone, home)

    facts = keystone_format(envelope)
    assert facts.pop("lifetime") in range(299, 302)  # [saml] assertion_expiration_time = 300
    assert facts == {
        "signature": "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        "digest": "http://www.w3.org/2000/09/xmldsig#sha1",
        "conditions": False,  # so no AudienceRestriction either
        "recipient": sp_url,
    }

    refused = ks_session.Session().post(
        sp_url, data=envelope, headers={"Content-Type": PAOS}, raise_exc=False
    )
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == (
        "The SAML assertion's signature is not valid: "
        "Signature method RSA_SHA1 forbidden by configuration"
    )


def ecp_assertion(keystone: KeystonePeer, home: ks_session.Session) -> bytes:
    """What keystoneauth1's Keystone2Keystone fetches from Keystone for stor."""
    token = home.get_token()
    body = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": token}},
            "scope": {"service_provider": {"id": "stor"}},
        }
    }
    response = home.post(keystone.url + "/auth/OS-FEDERATION/saml2/ecp", json=body)
    return bytes(response.content)


def keystone_format(envelope: bytes) -> dict[str, Any]:
    """What stor has to go by in Keystone's assertion, all of it inside the signature."""
    assertion = saml.parse_document(envelope).find(".//saml:Assertion", saml.NS)
    assert assertion is not None
    signed_info = "ds:Signature/ds:SignedInfo/"
    confirmation = assertion.find(
        "saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", saml.NS
    )
    assert confirmation is not None
    issued = dt.datetime.fromisoformat(str(assertion.get("IssueInstant")))
    ends = dt.datetime.fromisoformat(str(confirmation.get("NotOnOrAfter")))
    return {
        "signature": _attribute(assertion, signed_info + "ds:SignatureMethod", "Algorithm"),
        "digest": _attribute(assertion, signed_info + "ds:Reference/ds:DigestMethod", "Algorithm"),
        "conditions": assertion.find("saml:Conditions", saml.NS) is not None,
        "recipient": confirmation.get("Recipient"),
        "lifetime": int((ends - issued).total_seconds()),
    }


def _attribute(node: etree._Element, path: str, name: str) -> str | None:
    found = node.find(path, saml.NS)
    return None if found is None else found.get(name)
