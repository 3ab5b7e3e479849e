"""Wire the trust the topology declares, through each landlord's public APIs, as the
landlords' own operators would: nothing here reaches into another landlord's database.

For a landlord S that trusts an identity provider I:
- at I: S is registered as a K2K service provider (audience S);
- at S: I becomes an identity provider, with I's SAML certificate (read from I's published
  metadata) and I's JWKS for OpenID Connect, its issuers as remote ids, and S's default
  mappings for the ``saml2`` and ``openid`` protocols.
S's default mappings give every user of I a project of their own at S, named
``<idp>-<user>``, with the ``member`` role, whatever roles the user holds at home: S decides.
A landlord that runs the exchange also admits I's administrators (a role on I's ``admin``
project, as I asserts it) to the project ``landlord-<idp>`` with the ``reader`` role: the
exchange reads I's own pages (its settlement) for them (``ocx.exchange.api.deps``).

When I is the exchange operator's identity (it runs the exchange), S admits I's users in a
namespace of their own instead (``exchange_customer_rules``): a project ``<idp>-<user id>``
per user, named by the user's id at I (unique there; a name is unique only within one of I's
domains, and I holds users of many IdPs: harvard's and mit's ``alice``), with ``member``.
The exchange's dashboard and proxy act for its customers at S so; the exchange asserts only
its own users, never a user of another IdP as that IdP would (S's ``<other idp>-<user>``
projects stay out of its reach), and a role at the exchange (its ``admin``, a landlord's
``reader`` project) is never more than ``member`` of the user's own project at S.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

log = logging.getLogger("ocx.federate")


def default_rules(idp: str, name_attr: str, id_attr: str) -> list[dict[str, Any]]:
    return [
        {
            "local": [
                {
                    "user": {"name": "{0}", "id": "{1}", "type": "ephemeral"},
                    "projects": [{"name": f"{idp}-{{0}}", "roles": [{"name": "member"}]}],
                }
            ],
            "remote": [{"type": name_attr}, {"type": id_attr}],
        }
    ]


def exchange_customer_rules(idp: str, protocol: str) -> list[dict[str, Any]]:
    """S's rule for the users of the exchange operator's identity ``idp``: each user (by id at
    ``idp``) a project ``<idp>-<user id>`` of their own with ``member``, nothing else."""
    name_attr, id_attr = ("openstack_user", "openstack_user_id")
    if protocol != "saml2":
        name_attr, id_attr = ("preferred_username", "sub")
    return [
        {
            "local": [
                {
                    "user": {"name": "{1}", "id": "{1}", "type": "ephemeral"},
                    "projects": [{"name": f"{idp}-{{1}}", "roles": [{"name": "member"}]}],
                }
            ],
            "remote": [{"type": name_attr}, {"type": id_attr}],
        }
    ]


def landlord_admin_rules(idp: str, protocol: str) -> list[dict[str, Any]]:
    """The exchange operator's rule for ``idp``'s administrators: the landlord's read-only
    project at the exchange. K2K (SAML) says the project and roles the user signed in with at
    home; OpenID Connect says every project the user holds a role on."""
    remote: list[dict[str, Any]]
    if protocol == "saml2":
        remote = [
            {"type": "openstack_user"},
            {"type": "openstack_user_id"},
            {"type": "openstack_project", "any_one_of": ["admin"]},
            {"type": "openstack_roles", "any_one_of": ["admin"]},
        ]
    else:
        remote = [
            {"type": "preferred_username"},
            {"type": "sub"},
            {"type": "projects", "any_one_of": ["admin"]},
        ]
    local = {
        "user": {"name": "{0}", "id": "{1}", "type": "ephemeral"},
        "projects": [{"name": f"landlord-{idp}", "roles": [{"name": "reader"}]}],
    }
    return [{"local": [local], "remote": remote}]


class Admin:
    """A landlord's admin over HTTP (Keystone API), for wiring."""

    def __init__(self, client: httpx.AsyncClient, identity_url: str, password: str):
        self.client = client
        self.base = identity_url
        self.password = password
        self.token = ""

    async def login(self) -> None:
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": "admin",
                            "domain": {"id": "default"},
                            "password": self.password,
                        }
                    },
                },
                "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
            }
        }
        resp = await self.client.post(self.base + "/v3/auth/tokens?nocatalog", json=body)
        resp.raise_for_status()
        self.token = resp.headers["X-Subject-Token"]

    async def request(self, method: str, path: str, json: Any = None) -> httpx.Response:
        return await self.client.request(
            method, self.base + path, json=json, headers={"X-Auth-Token": self.token}
        )

    async def put_or_patch(self, path: str, key: str, body: dict[str, Any]) -> None:
        """Create, or bring an existing resource to ``body`` (idempotent across restarts)."""
        resp = await self.request("PUT", path, {key: body})
        if resp.status_code == 409:
            resp = await self.request("PATCH", path, {key: body})
        if resp.status_code >= 400:
            raise RuntimeError(f"{self.base}{path}: {resp.status_code} {resp.text}")


async def trust(
    sp: Admin,
    sp_name: str,
    idp: Admin,
    idp_name: str,
    *,
    exchange: bool = False,
    idp_exchange: bool = False,
) -> None:
    """Make ``sp`` admit the users of ``idp`` (and register ``sp`` at ``idp`` for K2K); when
    ``sp`` runs the exchange, ``idp``'s administrators too (``landlord_admin_rules``); when
    ``idp`` runs it, its users each in a project of their own (``exchange_customer_rules``)."""
    fed = f"/v3/OS-FEDERATION/identity_providers/{idp_name}"
    await idp.put_or_patch(
        f"/v3/OS-FEDERATION/service_providers/{sp_name}",
        "service_provider",
        {
            "auth_url": f"{sp.base}{fed}/protocols/saml2/auth",
            "sp_url": f"{sp.base}{fed}/protocols/saml2/ecp",
            "audience": sp_name,
            "description": f"{sp_name}, trusting {idp_name}'s users",
        },
    )
    metadata = await idp.client.get(idp.base + "/v3/OS-FEDERATION/saml2/metadata")
    metadata.raise_for_status()
    # identity's module pulls in SQLAlchemy; `ocx up`'s supervisor needs only this function.
    from ocx.identity.federation.idp import certificate_from_metadata

    entity_id, certificate = certificate_from_metadata(metadata.content)
    await sp.put_or_patch(
        fed,
        "identity_provider",
        {
            "remote_ids": [entity_id, idp.base],
            "jwks_uri": idp.base + "/.well-known/jwks.json",
            "saml_certificate": certificate,
            "description": f"Users of {idp_name}",
        },
    )
    for protocol, name_attr, id_attr in (
        ("saml2", "openstack_user", "openstack_user_id"),
        ("openid", "preferred_username", "sub"),
    ):
        mapping_id = f"{idp_name}-{protocol}"
        if idp_exchange:
            rules = exchange_customer_rules(idp_name, protocol)
        else:
            rules = default_rules(idp_name, name_attr, id_attr)
        if exchange:
            rules += landlord_admin_rules(idp_name, protocol)
        await sp.put_or_patch(
            f"/v3/OS-FEDERATION/mappings/{mapping_id}", "mapping", {"rules": rules}
        )
        await sp.put_or_patch(f"{fed}/protocols/{protocol}", "protocol", {"mapping_id": mapping_id})
    log.info("%s now trusts %s (saml2, openid)", sp_name, idp_name)


async def oidc_client(idp: Admin, sp_name: str) -> dict[str, str]:
    """A confidential OIDC client at the IdP whose access tokens are for ``sp_name``.

    Made anew at every start (the secret is shown only once, and clouds.yaml is rewritten)."""
    path = f"/v3/OS-OCX/oidc/clients/{sp_name}"
    resp = await idp.request("DELETE", path)
    if resp.status_code not in (204, 404):
        raise RuntimeError(f"{idp.base}{path}: {resp.status_code} {resp.text}")
    body = {
        "client_id": sp_name,
        "name": f"access to {sp_name}",
        "audience": sp_name,
        "grant_types": ["password", "refresh_token"],
        "redirect_uris": [],
        "public": False,
    }
    resp = await idp.request("POST", "/v3/OS-OCX/oidc/clients", {"client": body})
    if resp.status_code != 201:
        raise RuntimeError(f"{idp.base}/v3/OS-OCX/oidc/clients: {resp.status_code} {resp.text}")
    client = resp.json()["client"]
    return {"client_id": client["client_id"], "client_secret": client["client_secret"]}


async def websso_client(idp: Admin, sp: Admin, sp_name: str) -> None:
    """The public OIDC client (PKCE, code flow) with which ``sp`` signs ``idp``'s users in to
    its dashboard through Keystone's WebSSO (``ocx.identity.federation.websso``)."""
    client_id = f"{sp_name}-websso"
    path = f"/v3/OS-OCX/oidc/clients/{client_id}"
    resp = await idp.request("DELETE", path)
    if resp.status_code not in (204, 404):
        raise RuntimeError(f"{idp.base}{path}: {resp.status_code} {resp.text}")
    body = {
        "client_id": client_id,
        "name": f"{sp_name}'s dashboard sign-in",
        "audience": sp_name,
        "grant_types": ["authorization_code"],
        "redirect_uris": [f"{sp.base}/v3/auth/OS-FEDERATION/websso/callback"],
        "public": True,
    }
    resp = await idp.request("POST", "/v3/OS-OCX/oidc/clients", {"client": body})
    if resp.status_code != 201:
        raise RuntimeError(f"{idp.base}/v3/OS-OCX/oidc/clients: {resp.status_code} {resp.text}")


async def demo_user(admin: Admin, name: str, password: str) -> None:
    """A user with a project of their own (``<name>-project``) and the member role on it."""
    project = await _ensure(admin, "/v3/projects", "project", {"name": f"{name}-project"})
    user = await _ensure(
        admin,
        "/v3/users",
        "user",
        {"name": name, "password": password, "default_project_id": project},
    )
    roles = (await admin.request("GET", "/v3/roles?name=member")).json()["roles"]
    resp = await admin.request("PUT", f"/v3/projects/{project}/users/{user}/roles/{roles[0]['id']}")
    resp.raise_for_status()


async def _ensure(admin: Admin, path: str, key: str, body: dict[str, Any]) -> str:
    resp = await admin.request("POST", path, {key: body})
    if resp.status_code == 201:
        return str(resp.json()[key]["id"])
    if resp.status_code != 409:
        raise RuntimeError(f"{admin.base}{path}: {resp.status_code} {resp.text}")
    found = (await admin.request("GET", f"{path}?name={body['name']}")).json()[f"{key}s"]
    return str(found[0]["id"])
