"""Keystone's projects acting as domains (``is_domain``): a domain made and served through
``/v3/projects``, by a landlord administrator only (Tempest's test_create_is_domain_project,
issue #10)."""

from __future__ import annotations

from tests.identity.conftest import Admin


def test_project_acting_as_domain_is_a_domain(admin: Admin) -> None:
    made = admin.call(
        "POST", "/projects", {"project": {"name": "acme-corp", "is_domain": True}}, ok=201
    )["project"]
    assert made["is_domain"] is True and made["domain_id"] is None
    as_projects = admin.call("GET", "/projects?is_domain=true", ok=200)["projects"]
    assert made["id"] in [p["id"] for p in as_projects]
    assert all(p["is_domain"] for p in as_projects)
    plain = admin.call("GET", "/projects", ok=200)["projects"]
    assert made["id"] not in [p["id"] for p in plain]
    domain = admin.call("GET", f"/domains/{made['id']}", ok=200)["domain"]
    assert domain["name"] == "acme-corp"
    # It holds projects like any domain.
    admin.call(
        "POST", "/projects", {"project": {"name": "inside", "domain_id": made["id"]}}, ok=201
    )
    shown = admin.call("GET", f"/projects/{made['id']}", ok=200)["project"]
    assert shown["is_domain"] is True and shown["name"] == "acme-corp"
    admin.call("DELETE", f"/projects/{made['id']}", ok=403)  # enabled: disable it first
    admin.call("PATCH", f"/projects/{made['id']}", {"project": {"enabled": False}}, ok=200)
    assert admin.call("GET", f"/domains/{made['id']}", ok=200)["domain"]["enabled"] is False
    admin.call("DELETE", f"/projects/{made['id']}", ok=204)
    admin.call("GET", f"/domains/{made['id']}", ok=404)
    admin.call("GET", f"/projects/{made['id']}", ok=404)


def test_customer_project_admin_cannot_make_a_domain(admin: Admin) -> None:
    project, _user = admin.customer("yuri", "admin")
    session = admin.user_session("yuri", project["id"])
    body = {"project": {"name": "yuri-domain", "is_domain": True}}
    resp = session.post(admin.url + "/projects", json=body, raise_exc=False)
    assert resp.status_code == 403
    names = [d["name"] for d in admin.call("GET", "/domains", ok=200)["domains"]]
    assert "yuri-domain" not in names
    # Nor rename or disable an existing domain through /v3/projects.
    resp = session.patch(
        admin.url + "/projects/default", json={"project": {"enabled": False}}, raise_exc=False
    )
    assert resp.status_code == 403
    resp = session.delete(admin.url + "/projects/default", raise_exc=False)
    assert resp.status_code == 403


def test_is_domain_project_takes_no_parent(admin: Admin) -> None:
    body = {"project": {"name": "x", "is_domain": True, "domain_id": "default"}}
    admin.call("POST", "/projects", body, ok=400)
