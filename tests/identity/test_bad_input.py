"""Bad input gets Keystone's error document, the right status, and changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ocx.runner import Exchange
from tests.identity.conftest import Admin


def raw(
    admin: Admin,
    method: str,
    path: str,
    content: bytes | None = None,
    json: Any = None,
    token: bool = True,
) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["X-Auth-Token"] = admin.session.get_token()
    return httpx.request(method, admin.url + path, content=content, json=json, headers=headers)


def error(resp: httpx.Response) -> tuple[int, str, str]:
    doc = resp.json()["error"]
    assert doc["code"] == resp.status_code
    return resp.status_code, doc["title"], doc["message"]


def project_names(admin: Admin) -> list[str]:
    return sorted(p["name"] for p in admin.call("GET", "/projects", ok=200)["projects"])


def test_malformed_json(admin: Admin) -> None:
    resp = raw(admin, "POST", "/projects", content=b'{"project": {"name": "x",')
    status, title, message = error(resp)
    assert (status, title) == (400, "Bad Request")
    assert message.startswith("Invalid input for request: ")
    assert project_names(admin) == ["admin"]


def test_malformed_auth_json(admin: Admin) -> None:
    resp = raw(admin, "POST", "/auth/tokens", content=b"{nope", token=False)
    assert error(resp) == (400, "Bad Request", "The request body is not valid JSON.")


def test_unknown_field(admin: Admin) -> None:
    resp = raw(admin, "POST", "/projects", json={"project": {"name": "x", "colour": "red"}})
    status, _title, message = error(resp)
    assert status == 400
    assert message == "Invalid input for request: project.colour: Extra inputs are not permitted"
    assert project_names(admin) == ["admin"]


def test_missing_required_field(admin: Admin) -> None:
    resp = raw(admin, "POST", "/users", json={"user": {"password": "x"}})
    assert error(resp) == (
        400,
        "Bad Request",
        "Invalid input for request: user.name: Field required",
    )


def test_wrong_password(admin: Admin) -> None:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": "admin", "domain": {"id": "default"}, "password": "wrong"}
                },
            }
        }
    }
    resp = raw(admin, "POST", "/auth/tokens", json=body, token=False)
    assert error(resp) == (
        401,
        "Unauthorized",
        "The request you have made requires authentication.",
    )
    assert "X-Subject-Token" not in resp.headers


def test_unknown_user_looks_like_wrong_password(admin: Admin) -> None:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": "nobody", "domain": {"id": "default"}, "password": "x"}
                },
            }
        }
    }
    resp = raw(admin, "POST", "/auth/tokens", json=body, token=False)
    assert error(resp) == (
        401,
        "Unauthorized",
        "The request you have made requires authentication.",
    )


def test_unknown_project_in_scope(exchange: Exchange, admin: Admin) -> None:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": "admin",
                        "domain": {"id": "default"},
                        "password": exchange.landlords["harvard"].admin_password,
                    }
                },
            },
            "scope": {"project": {"id": "no-such-project"}},
        }
    }
    resp = raw(admin, "POST", "/auth/tokens", json=body, token=False)
    assert error(resp) == (401, "Unauthorized", "Could not find project: no-such-project.")


def test_unknown_project_by_id(admin: Admin) -> None:
    resp = raw(admin, "GET", "/projects/nope")
    assert error(resp) == (404, "Not Found", "Could not find project: nope.")


def test_duplicate_names_conflict_and_change_nothing(admin: Admin) -> None:
    first = admin.project("dup")
    resp = raw(admin, "POST", "/projects", json={"project": {"name": "dup", "description": "2"}})
    assert error(resp) == (
        409,
        "Conflict",
        "Conflict occurred attempting to store project dup in domain default.",
    )
    assert project_names(admin) == ["admin", "dup"]
    assert admin.call("GET", f"/projects/{first['id']}", ok=200)["project"]["description"] == ""
    admin.user("u1", "pw")
    resp = raw(admin, "POST", "/users", json={"user": {"name": "u1", "password": "other"}})
    assert error(resp)[0] == 409
    # The first user's password still works: nothing was overwritten.
    assert admin.user_session("u1", None) is not None


def test_rename_into_a_duplicate(admin: Admin) -> None:
    admin.project("a")
    b = admin.project("b")
    resp = raw(admin, "PATCH", f"/projects/{b['id']}", json={"project": {"name": "a"}})
    assert error(resp)[0] == 409
    assert project_names(admin) == ["a", "admin", "b"]


def test_unknown_route_and_method(admin: Admin) -> None:
    assert error(raw(admin, "GET", "/no-such-thing")) == (
        404,
        "Not Found",
        "The resource could not be found.",
    )
    assert error(raw(admin, "PUT", "/projects"))[0:2] == (405, "Method Not Allowed")


def test_missing_token(admin: Admin) -> None:
    resp = raw(admin, "GET", "/projects", token=False)
    assert error(resp) == (
        401,
        "Unauthorized",
        "The request you have made requires authentication.",
    )


@pytest.mark.parametrize("limit", ["x", "-1"])
def test_bad_pagination(admin: Admin, limit: str) -> None:
    assert error(raw(admin, "GET", f"/projects?limit={limit}"))[0] == 400


def test_pagination_follows_next_links(admin: Admin) -> None:
    for n in range(5):
        admin.project(f"p{n}")
    seen: list[str] = []
    url: str | None = "/projects?limit=2"
    while url:
        doc = admin.call("GET", url, ok=200)
        assert len(doc["projects"]) <= 2
        seen += [p["name"] for p in doc["projects"]]
        nxt = doc["links"]["next"]
        url = nxt[len(admin.url) :] if nxt else None
    assert sorted(seen) == ["admin", "p0", "p1", "p2", "p3", "p4"]
