"""What Keystone does and Tempest checks (issue #10), through keystoneauth1 and openstacksdk."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openstack
import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from openstack import exceptions as sdk_exc
from openstack.connection import Connection

from tests.identity.conftest import Admin


@pytest.fixture
def conn(clouds_yaml: Path) -> Iterator[Connection]:
    connection = openstack.connect(cloud="harvard")
    yield connection
    connection.close()


def test_invalid_subject_token_is_404(admin: Admin) -> None:
    project, _ = admin.customer("ada")
    token = admin.user_session("ada", project["id"]).get_token()
    admin.session.delete(admin.url + "/auth/tokens", headers={"X-Subject-Token": token})
    for method in ("GET", "HEAD"):
        resp = admin.session.request(
            admin.url + "/auth/tokens", method, headers={"X-Subject-Token": token}, raise_exc=False
        )
        assert resp.status_code == 404
    resp = admin.session.get(
        admin.url + "/auth/tokens", headers={"X-Subject-Token": "garbage"}, raise_exc=False
    )
    assert resp.status_code == 404
    assert resp.json()["error"]["title"] == "Not Found"


def test_application_credential_expiry_is_echoed(conn: Connection) -> None:
    expires = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1)
    cred = conn.identity.create_application_credential(
        user=conn.current_user_id, name="soon", expires_at=expires.isoformat()
    )
    assert cred.expires_at == expires.isoformat()
    again = conn.identity.get_application_credential(conn.current_user_id, cred.id)
    assert again.expires_at == expires.isoformat()


def test_application_credential_sees_roles_granted_after_the_token(admin: Admin) -> None:
    project, user = admin.customer("ben", role="reader")
    sess = admin.user_session("ben", project["id"])
    sess.get_token()  # the token holds reader only
    admin.grant(project["id"], user["id"], "member")
    resp = sess.post(
        admin.url + f"/users/{user['id']}/application_credentials",
        json={"application_credential": {"name": "later", "roles": [{"name": "member"}]}},
    )
    assert resp.status_code == 201
    assert [r["name"] for r in resp.json()["application_credential"]["roles"]] == ["member"]


def test_extra_attributes_of_users_and_groups_are_kept(admin: Admin) -> None:
    user = admin.call(
        "POST",
        "/users",
        {"user": {"name": "xu", "password": "pw", "project_id": "p-1", "colour": "red"}},
        ok=201,
    )["user"]
    assert (user["project_id"], user["colour"]) == ("p-1", "red")
    assert admin.call("GET", f"/users/{user['id']}", ok=200)["user"]["colour"] == "red"
    group = admin.call("POST", "/groups", {"group": {"name": "g", "team": "blue"}}, ok=201)
    group_id = group["group"]["id"]
    assert group["group"]["team"] == "blue"
    # An update body may repeat the resource's own id, and extra attributes merge.
    body = {"group": {"id": group_id, "name": "g2", "floor": 3}}
    changed = admin.call("PATCH", f"/groups/{group_id}", body, ok=200)["group"]
    assert (changed["name"], changed["team"], changed["floor"]) == ("g2", "blue", 3)
    body = {"user": {"id": user["id"], "email": "xu@example.org"}}
    assert admin.call("PATCH", f"/users/{user['id']}", body, ok=200)["user"]["colour"] == "red"
    resp = admin.session.patch(
        admin.url + f"/users/{user['id']}", json={"user": {"id": "other"}}, raise_exc=False
    )
    assert resp.status_code == 400
    assert resp.json()["error"]["message"] == "Cannot change the ID of a resource."


def test_legacy_region_field_and_put_region(admin: Admin, conn: Connection) -> None:
    region = admin.call("PUT", "/regions/north", {"region": {"description": "cold"}}, ok=201)
    assert region["region"]["id"] == "north"
    assert conn.identity.get_region("north").description == "cold"
    resp = admin.session.put(admin.url + "/regions/north", json={"region": {}}, raise_exc=False)
    assert resp.status_code == 409
    service = conn.identity.create_service(type="thing", name="thing")
    body = {
        "endpoint": {
            "service_id": service.id,
            "interface": "public",
            "url": "http://thing.example",
            "region": "south",
        }
    }
    made = admin.call("POST", "/endpoints", body, ok=201)["endpoint"]
    assert (made["region"], made["region_id"]) == ("south", "south")
    assert conn.identity.get_region("south").id == "south"


def test_domain_and_project_names_are_at_most_64(conn: Connection) -> None:
    with pytest.raises(sdk_exc.BadRequestException):
        conn.identity.create_domain(name="d" * 65)
    with pytest.raises(sdk_exc.BadRequestException):
        conn.identity.create_project(name="p" * 65, domain_id="default")
    assert conn.identity.create_project(name="p" * 64, domain_id="default").name == "p" * 64


def test_unscoped_token_has_no_catalog(admin: Admin) -> None:
    project, _ = admin.customer("cy")
    unscoped = v3.Password(
        auth_url=admin.url,
        username="cy",
        password="cy-pw",
        user_domain_id="default",
        unscoped=True,
    )
    access = unscoped.get_access(ks_session.Session())
    assert access.project_id is None
    assert not access.has_service_catalog()
    scoped = admin.user_session("cy", project["id"]).auth.get_access(ks_session.Session())
    assert scoped.has_service_catalog()


def test_implied_roles(admin: Admin, conn: Connection) -> None:
    boss = conn.identity.create_role(name="boss")
    worker = conn.identity.create_role(name="worker")
    path = f"/roles/{boss.id}/implies/{worker.id}"
    made = admin.call("PUT", path, ok=201)["role_inference"]
    assert (made["prior_role"]["name"], made["implies"]["name"]) == ("boss", "worker")
    assert admin.session.head(admin.url + path).status_code == 204
    listed = admin.call("GET", f"/roles/{boss.id}/implies", ok=200)["role_inference"]
    assert [r["name"] for r in listed["implies"]] == ["worker"]
    rules = admin.call("GET", "/role_inferences", ok=200)["role_inferences"]
    assert {(r["prior_role"]["name"], r["implies"][0]["name"]) for r in rules} >= {
        ("boss", "worker"),
        ("admin", "member"),
    }
    resp = admin.session.put(admin.url + f"/roles/{worker.id}/implies/{boss.id}", raise_exc=False)
    assert resp.status_code == 400  # no cycles
    # A token of a boss holds worker too.
    project, _user = admin.customer("dee", role="boss")
    roles = (
        admin.user_session("dee", project["id"]).auth.get_access(ks_session.Session()).role_names
    )
    assert set(roles) == {"boss", "worker"}
    admin.call("DELETE", path, ok=204)
    assert admin.session.head(admin.url + path, raise_exc=False).status_code == 404


def test_effective_assignments_include_inherited_ones(admin: Admin) -> None:
    project, user = admin.customer("eli")
    role = admin.role_id("reader")
    path = f"/OS-INHERIT/domains/default/users/{user['id']}/roles/{role}/inherited_to_projects"
    admin.call("PUT", path, ok=204)
    query = f"/role_assignments?effective&user.id={user['id']}&scope.project.id={project['id']}"
    rows = admin.call("GET", query, ok=200)["role_assignments"]
    assert {(r["role"]["id"], r["scope"]["project"]["id"]) for r in rows} >= {(role, project["id"])}


def test_endpoint_enabled_must_be_a_real_boolean(admin: Admin, conn: Connection) -> None:
    service = conn.identity.create_service(type="thing", name="thing")
    body = {
        "endpoint": {
            "service_id": service.id,
            "interface": "public",
            "url": "http://thing.example",
            "enabled": "True",
        }
    }
    resp = admin.session.post(admin.url + "/endpoints", json=body, raise_exc=False)
    assert resp.status_code == 400


def test_project_tags(admin: Admin) -> None:
    project, _ = admin.customer("fox")
    base = f"/projects/{project['id']}/tags"
    assert admin.session.put(admin.url + base + "/blue", json={}).status_code == 201
    assert admin.session.get(admin.url + base + "/blue").status_code == 204
    replaced = admin.call("PUT", base, {"tags": ["a", "b", "c"]}, ok=200)["tags"]
    assert sorted(replaced) == ["a", "b", "c"]
    assert sorted(admin.call("GET", base, ok=200)["tags"]) == ["a", "b", "c"]
    assert admin.call("GET", f"/projects/{project['id']}", ok=200)["project"]["tags"] == [
        "a",
        "b",
        "c",
    ]
    admin.call("DELETE", base + "/a", ok=204)
    assert admin.session.get(admin.url + base + "/a", raise_exc=False).status_code == 404
    resp = admin.session.put(admin.url + base, json={"tags": ["x,y"]}, raise_exc=False)
    assert resp.status_code == 400
    admin.call("DELETE", base, ok=204)
    assert admin.call("GET", base, ok=200)["tags"] == []
    # A member of the project reads its tags but cannot change them.
    member = admin.user_session("fox", project["id"])
    assert member.get(admin.url + base).status_code == 200
    assert member.put(admin.url + base + "/mine", json={}, raise_exc=False).status_code == 403


def test_effective_assignments_list_implied_roles(admin: Admin) -> None:
    project, user = admin.customer("gia", role="admin")
    query = f"/role_assignments?effective&user.id={user['id']}&scope.project.id={project['id']}"
    rows = admin.call("GET", query, ok=200)["role_assignments"]
    names = {admin.call("GET", f"/roles/{r['role']['id']}", ok=200)["role"]["name"] for r in rows}
    assert names == {"admin", "member", "reader"}
    member = admin.role_id("member")
    only = admin.call("GET", query + f"&role.id={member}", ok=200)["role_assignments"]
    assert [r["role"]["id"] for r in only] == [member]
    plain = f"/role_assignments?user.id={user['id']}&scope.project.id={project['id']}"
    assert len(admin.call("GET", plain, ok=200)["role_assignments"]) == 1


def test_domain_specific_roles_only_name_the_global_roles_they_imply(admin: Admin) -> None:
    project, user = admin.customer("gus", role="reader")
    local = admin.call(
        "POST", "/roles", {"role": {"name": "editor", "domain_id": "default"}}, ok=201
    )["role"]
    member = admin.role_id("member")
    admin.call("PUT", f"/roles/{local['id']}/implies/{member}", ok=201)
    refused = admin.call("PUT", f"/roles/{member}/implies/{local['id']}", ok=403)
    assert "domain-specific" in refused["error"]["message"]
    admin.call("PUT", f"/projects/{project['id']}/users/{user['id']}/roles/{local['id']}", ok=204)
    sess = admin.user_session("gus", project["id"])
    token = sess.auth.get_access(sess)
    assert "editor" not in token.role_names
    assert "member" in token.role_names
    found = admin.call(
        "GET",
        f"/role_assignments?effective&scope.project.id={project['id']}&user.id={user['id']}",
        ok=200,
    )["role_assignments"]
    assert local["id"] not in {row["role"]["id"] for row in found}
    assert member in {row["role"]["id"] for row in found}
