"""Identity test helpers: keystoneauth1 sessions and an admin client for set-up."""

from __future__ import annotations

from typing import Any

import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from ocx.runner import Exchange
from tests.conftest import cloud_auth


def admin_session(exchange: Exchange, landlord: str = "harvard") -> ks_session.Session:
    return ks_session.Session(auth=v3.Password(**cloud_auth(exchange, landlord)))


class Admin:
    """Raw Keystone calls as the landlord's admin, for setting up what a test needs."""

    def __init__(self, exchange: Exchange, landlord: str = "harvard"):
        self.landlord = exchange.landlords[landlord]
        self.url = self.landlord.auth_url
        self.session = admin_session(exchange, landlord)

    def call(self, method: str, path: str, json: Any = None, ok: int | None = None) -> Any:
        resp = self.session.request(self.url + path, method, json=json, raise_exc=False)
        if ok is not None:
            assert resp.status_code == ok, resp.text
        return resp.json() if resp.content else None

    def project(self, name: str) -> dict[str, Any]:
        return self.call(
            "POST", "/projects", {"project": {"name": name, "domain_id": "default"}}, ok=201
        )["project"]

    def user(self, name: str, password: str, project_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "password": password, "domain_id": "default"}
        if project_id:
            body["default_project_id"] = project_id
        return self.call("POST", "/users", {"user": body}, ok=201)["user"]

    def role_id(self, name: str) -> str:
        roles = self.call("GET", f"/roles?name={name}", ok=200)["roles"]
        return str(roles[0]["id"])

    def grant(self, project_id: str, user_id: str, role: str) -> None:
        self.call(
            "PUT", f"/projects/{project_id}/users/{user_id}/roles/{self.role_id(role)}", ok=204
        )

    def customer(self, name: str, role: str = "member") -> tuple[dict[str, Any], dict[str, Any]]:
        """A project and a user holding ``role`` on it; the password is ``name + '-pw'``."""
        project = self.project(name + "-project")
        user = self.user(name, name + "-pw", project["id"])
        self.grant(project["id"], user["id"], role)
        return project, user

    def user_session(self, user: str, project_id: str | None) -> ks_session.Session:
        kwargs: dict[str, Any] = {
            "auth_url": self.url,
            "username": user,
            "password": user + "-pw",
            "user_domain_id": "default",
        }
        if project_id:
            kwargs["project_id"] = project_id
        return ks_session.Session(auth=v3.Password(**kwargs))


@pytest.fixture
def admin(exchange: Exchange) -> Admin:
    return Admin(exchange)
