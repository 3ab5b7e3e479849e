"""Who may do what: every refusal is Keystone's 403 with a clear message, and nothing changes."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from ocx.runner import Exchange
from tests.identity.conftest import Admin


def as_user(
    admin: Admin, sess: ks_session.Session, method: str, path: str, json: Any = None
) -> tuple[int, dict[str, Any]]:
    resp = sess.request(admin.url + path, method, json=json, raise_exc=False)
    return resp.status_code, (resp.json() if resp.content else {})


def message(doc: dict[str, Any]) -> str:
    return str(doc["error"]["message"])


def test_member_cannot_administer_the_landlord(admin: Admin) -> None:
    project, _ = admin.customer("alice")
    sess = admin.user_session("alice", project["id"])
    status, doc = as_user(admin, sess, "POST", "/projects", {"project": {"name": "mine"}})
    assert status == 403
    assert message(doc) == (
        "You are not authorized to perform the requested action: identity:create_project."
    )
    assert as_user(admin, sess, "GET", "/users")[0] == 403
    assert as_user(admin, sess, "GET", "/projects")[0] == 403
    assert as_user(admin, sess, "POST", "/roles", {"role": {"name": "boss"}})[0] == 403
    names = [p["name"] for p in admin.call("GET", "/projects", ok=200)["projects"]]
    assert "mine" not in names


def test_admin_of_a_customer_project_is_not_a_landlord_admin(admin: Admin) -> None:
    project, user = admin.customer("carl", role="admin")
    sess = admin.user_session("carl", project["id"])
    assert as_user(admin, sess, "GET", "/users")[0] == 403
    status, _doc = as_user(admin, sess, "PATCH", f"/users/{user['id']}", {"user": {"name": "root"}})
    assert status == 403
    # Nor can it grant itself admin on the landlord's admin project.
    admin_project = admin.call("GET", "/projects?name=admin", ok=200)["projects"][0]
    role = admin.role_id("admin")
    status, _ = as_user(
        admin, sess, "PUT", f"/projects/{admin_project['id']}/users/{user['id']}/roles/{role}"
    )
    assert status == 403
    status, _ = as_user(admin, sess, "PUT", f"/system/users/{user['id']}/roles/{role}")
    assert status == 403
    rows = admin.call("GET", f"/role_assignments?user.id={user['id']}", ok=200)
    assert [r["scope"] for r in rows["role_assignments"]] == [{"project": {"id": project["id"]}}]


def test_users_cannot_read_each_others_things(admin: Admin) -> None:
    p1, u1 = admin.customer("ann")
    p2, u2 = admin.customer("ben")
    ann = admin.user_session("ann", p1["id"])
    status, doc = as_user(admin, ann, "GET", f"/projects/{p2['id']}")
    assert (status, message(doc)) == (403, "You are not authorized to read this project.")
    assert as_user(admin, ann, "GET", f"/users/{u2['id']}")[0] == 403
    assert as_user(admin, ann, "GET", f"/users/{u2['id']}/application_credentials")[0] == 403
    assert as_user(admin, ann, "GET", f"/users/{u2['id']}/projects")[0] == 403
    status, doc = as_user(admin, ann, "GET", f"/role_assignments?user.id={u2['id']}")
    assert (status, message(doc)) == (403, "You may list only your own role assignments.")
    # Their own things they can read.
    assert as_user(admin, ann, "GET", f"/projects/{p1['id']}")[0] == 200
    assert as_user(admin, ann, "GET", f"/users/{u1['id']}")[0] == 200
    mine = as_user(admin, ann, "GET", "/auth/projects")[1]["projects"]
    assert [p["id"] for p in mine] == [p1["id"]]


def test_validating_someone_elses_token_needs_a_reader(admin: Admin) -> None:
    p1, _ = admin.customer("cat")
    p2, _ = admin.customer("dan")
    cat, dan = admin.user_session("cat", p1["id"]), admin.user_session("dan", p2["id"])
    resp = cat.get(
        admin.url + "/auth/tokens", headers={"X-Subject-Token": dan.get_token()}, raise_exc=False
    )
    assert resp.status_code == 403
    own = cat.get(admin.url + "/auth/tokens", headers={"X-Subject-Token": cat.get_token()})
    assert own.status_code == 200


def test_app_credential_cannot_delegate_roles_not_held(admin: Admin) -> None:
    project, user = admin.customer("eve", role="reader")
    sess = admin.user_session("eve", project["id"])
    status, doc = as_user(
        admin,
        sess,
        "POST",
        f"/users/{user['id']}/application_credentials",
        {"application_credential": {"name": "x", "roles": [{"name": "admin"}]}},
    )
    assert (status, message(doc)) == (
        403,
        "You cannot delegate role admin: you do not hold it on the project.",
    )
    assert (
        admin.call("GET", f"/users/{user['id']}/application_credentials", ok=200)[
            "application_credentials"
        ]
        == []
    )


def _token_status(admin: Admin, token: str) -> int:
    resp = admin.session.get(
        admin.url + "/auth/tokens", headers={"X-Subject-Token": token}, raise_exc=False
    )
    return int(resp.status_code)


def test_disabling_user_or_project_ends_their_tokens(admin: Admin) -> None:
    project, user = admin.customer("fay")
    token = admin.user_session("fay", project["id"]).get_token()
    assert _token_status(admin, token) == 200
    admin.call("PATCH", f"/users/{user['id']}", {"user": {"enabled": False}}, ok=200)
    assert _token_status(admin, token) == 404
    with pytest.raises(ks_exc.Unauthorized):
        admin.user_session("fay", project["id"]).get_token()
    admin.call("PATCH", f"/users/{user['id']}", {"user": {"enabled": True}}, ok=200)
    token = admin.user_session("fay", project["id"]).get_token()
    assert _token_status(admin, token) == 200
    admin.call("PATCH", f"/projects/{project['id']}", {"project": {"enabled": False}}, ok=200)
    assert _token_status(admin, token) == 404
    with pytest.raises(ks_exc.Unauthorized):
        admin.user_session("fay", project["id"]).get_token()


def test_removing_a_grant_ends_tokens_on_that_project(admin: Admin) -> None:
    project, user = admin.customer("gus")
    token = admin.user_session("gus", project["id"]).get_token()
    role = admin.role_id("member")
    admin.call("DELETE", f"/projects/{project['id']}/users/{user['id']}/roles/{role}", ok=204)
    assert _token_status(admin, token) == 404
    with pytest.raises(ks_exc.Unauthorized):
        admin.user_session("gus", project["id"]).get_token()


def test_deleting_or_disabling_ends_application_credentials(admin: Admin) -> None:
    project, user = admin.customer("hal")
    sess = admin.user_session("hal", project["id"])
    cred = sess.post(
        f"{admin.url}/users/{user['id']}/application_credentials",
        json={"application_credential": {"name": "c"}},
    ).json()["application_credential"]
    app = ks_session.Session(
        auth=v3.ApplicationCredential(
            auth_url=admin.url,
            application_credential_id=cred["id"],
            application_credential_secret=cred["secret"],
        )
    )
    token = app.get_token()
    sess.delete(f"{admin.url}/users/{user['id']}/application_credentials/{cred['id']}")
    assert _token_status(admin, token) == 404
    again = ks_session.Session(
        auth=v3.ApplicationCredential(
            auth_url=admin.url,
            application_credential_id=cred["id"],
            application_credential_secret=cred["secret"],
        )
    )
    with pytest.raises(ks_exc.Unauthorized):
        again.get_token()


def test_expired_application_credential_is_refused(admin: Admin) -> None:
    project, user = admin.customer("ida")
    sess = admin.user_session("ida", project["id"])
    soon = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 2))
    cred = sess.post(
        f"{admin.url}/users/{user['id']}/application_credentials",
        json={"application_credential": {"name": "c", "expires_at": soon}},
    ).json()["application_credential"]
    time.sleep(2.5)
    app = ks_session.Session(
        auth=v3.ApplicationCredential(
            auth_url=admin.url,
            application_credential_id=cred["id"],
            application_credential_secret=cred["secret"],
        )
    )
    with pytest.raises(ks_exc.Unauthorized):
        app.get_token()


def test_password_change_needs_the_old_password_and_ends_old_tokens(admin: Admin) -> None:
    project, user = admin.customer("jo")
    token = admin.user_session("jo", project["id"]).get_token()
    bad = admin.session.post(
        f"{admin.url}/users/{user['id']}/password",
        authenticated=False,
        json={"user": {"password": "new", "original_password": "wrong"}},
        raise_exc=False,
    )
    assert bad.status_code == 401
    ok = admin.session.post(
        f"{admin.url}/users/{user['id']}/password",
        authenticated=False,
        json={"user": {"password": "new-pw", "original_password": "jo-pw"}},
    )
    assert ok.status_code == 204
    assert _token_status(admin, token) == 404
    fresh = ks_session.Session(
        auth=v3.Password(
            auth_url=admin.url,
            username="jo",
            password="new-pw",
            user_domain_id="default",
            project_id=project["id"],
        )
    )
    assert fresh.get_token()


def test_key_rotation_keeps_live_tokens(exchange: Exchange, admin: Admin) -> None:
    project, _ = admin.customer("kim")
    old = admin.user_session("kim", project["id"]).get_token()
    identity = next(
        r.service for r in exchange.running if r.part == "identity" and r.landlord == "harvard"
    )
    svc = identity.service  # type: ignore[attr-defined]
    before = svc.keys.primary_kid
    jwks_url = exchange.landlords["harvard"].identity_url + "/.well-known/jwks.json"
    published = {k["kid"] for k in admin.session.get(jwks_url).json()["keys"]}
    exchange.background.call(svc.rotate_keys())  # type: ignore[attr-defined]
    # The new primary was published (staged) before it signed anything.
    assert svc.keys.primary_kid in published
    assert svc.keys.primary_kid != before
    new = admin.user_session("kim", project["id"]).get_token()
    assert new.split(".")[0] != old.split(".")[0]
    assert _token_status(admin, old) == 200
    assert _token_status(admin, new) == 200
    now_published = {k["kid"] for k in admin.session.get(jwks_url).json()["keys"]}
    assert {before, svc.keys.primary_kid} < now_published
    assert len(now_published) == 3  # the retired, the primary and the next staged key


def test_disabling_a_domain_ends_its_users_tokens_on_other_domains(admin: Admin) -> None:
    """Issue #17 S3: the user's own domain counts, not only the domain of the token's scope."""
    domain = admin.call("POST", "/domains", {"domain": {"name": "outsiders"}}, ok=201)["domain"]
    user = admin.call(
        "POST",
        "/users",
        {"user": {"name": "oz", "password": "oz-pw", "domain_id": domain["id"]}},
        ok=201,
    )["user"]
    project = admin.project("oz-in-default")  # a project of another domain (default)
    admin.grant(project["id"], user["id"], "member")
    sess = ks_session.Session(
        auth=v3.Password(
            auth_url=admin.url,
            user_id=user["id"],
            password="oz-pw",
            project_id=project["id"],
        )
    )
    token = sess.get_token()
    assert _token_status(admin, token) == 200
    admin.call("PATCH", f"/domains/{domain['id']}", {"domain": {"enabled": False}}, ok=200)
    assert _token_status(admin, token) == 404
    resp = httpx.get(admin.url + "/auth/projects", headers={"X-Auth-Token": token})
    assert (resp.status_code, resp.json()["error"]["message"]) == (
        401,
        "The token has been revoked.",
    )
    with pytest.raises(ks_exc.Unauthorized):
        ks_session.Session(
            auth=v3.Password(
                auth_url=admin.url, user_id=user["id"], password="oz-pw", project_id=project["id"]
            )
        ).get_token()
    # Another domain's users keep their tokens.
    other, _ = admin.customer("ivy")
    assert _token_status(admin, admin.user_session("ivy", other["id"]).get_token()) == 200


def test_operator_domain_admins_are_landlord_admins_and_customers_cannot_enter(
    exchange_factory,  # type: ignore[no-untyped-def]
) -> None:
    exchange = exchange_factory({"harvard": {"parts": ["identity"], "operator_domain": "ops"}})
    admin = Admin(exchange)
    ops = admin.call("GET", "/domains?name=ops", ok=200)["domains"][0]
    # The landlord admin makes a staff project and user in the operator domain.
    staff_project = admin.call(
        "POST", "/projects", {"project": {"name": "staff", "domain_id": ops["id"]}}, ok=201
    )["project"]
    staff = admin.call(
        "POST",
        "/users",
        {"user": {"name": "sam", "password": "sam-pw", "domain_id": ops["id"]}},
        ok=201,
    )["user"]
    admin.grant(staff_project["id"], staff["id"], "admin")
    sess = ks_session.Session(
        auth=v3.Password(
            auth_url=admin.url,
            user_id=staff["id"],
            password="sam-pw",
            project_id=staff_project["id"],
        )
    )
    assert as_user(admin, sess, "GET", "/users")[0] == 200
    # A customer's project admin, and a customer domain's admin, are not.
    project, user = admin.customer("carl", role="admin")
    carl = admin.user_session("carl", project["id"])
    assert as_user(admin, carl, "GET", "/users")[0] == 403
    body = {"project": {"name": "sneak", "domain_id": ops["id"]}}
    assert as_user(admin, carl, "POST", "/projects", body)[0] == 403
    role = admin.role_id("admin")
    admin.call("PUT", f"/domains/default/users/{user['id']}/roles/{role}", ok=204)
    domain_admin = ks_session.Session(
        auth=v3.Password(
            auth_url=admin.url,
            username="carl",
            password="carl-pw",
            user_domain_id="default",
            domain_id="default",
        )
    )
    assert as_user(admin, domain_admin, "POST", "/projects", body)[0] == 403
    path = f"/projects/{staff_project['id']}/users/{user['id']}/roles/{role}"
    assert as_user(admin, domain_admin, "PUT", path)[0] == 403


def test_a_member_in_the_operator_domain_is_an_ordinary_user(
    exchange_factory,  # type: ignore[no-untyped-def]
) -> None:
    exchange = exchange_factory({"harvard": {"parts": ["identity"], "operator_domain": "ops"}})
    admin = Admin(exchange)
    ops = admin.call("GET", "/domains?name=ops", ok=200)["domains"][0]
    body = {"project": {"name": "staff", "domain_id": ops["id"]}}
    project = admin.call("POST", "/projects", body, ok=201)["project"]
    body = {"user": {"name": "mo", "password": "mo-pw", "domain_id": ops["id"]}}
    user = admin.call("POST", "/users", body, ok=201)["user"]
    admin.grant(project["id"], user["id"], "member")
    sess = ks_session.Session(
        auth=v3.Password(
            auth_url=admin.url, user_id=user["id"], password="mo-pw", project_id=project["id"]
        )
    )
    assert as_user(admin, sess, "GET", "/users")[0] == 403
    assert as_user(admin, sess, "GET", "/projects")[0] == 403


def test_an_admin_of_the_default_domain_cannot_make_itself_a_landlord_admin(
    admin: Admin,
) -> None:
    """The admin project and the landlord's administrators live in the default domain, so an
    admin role there must not be enough to reach them."""
    _, user = admin.customer("dora")
    role = admin.role_id("admin")
    admin.call("PUT", f"/domains/default/users/{user['id']}/roles/{role}", ok=204)
    dora = ks_session.Session(
        auth=v3.Password(
            auth_url=admin.url,
            username="dora",
            password="dora-pw",
            user_domain_id="default",
            domain_id="default",
        )
    )
    admin_project = admin.call("GET", "/projects?name=admin", ok=200)["projects"][0]
    for path in (
        f"/projects/{admin_project['id']}/users/{user['id']}/roles/{role}",
        f"/OS-INHERIT/domains/default/users/{user['id']}/roles/{role}/inherited_to_projects",
    ):
        status, doc = as_user(admin, dora, "PUT", path)
        assert (status, message(doc)) == (
            403,
            "You are not authorized to perform the requested action: identity:create_grant.",
        )
    landlord = admin.call("GET", "/users?name=admin", ok=200)["users"][0]
    body = {"user": {"password": "taken-over"}}
    assert as_user(admin, dora, "PATCH", f"/users/{landlord['id']}", body)[0] == 403
    rows = admin.call("GET", f"/role_assignments?user.id={user['id']}", ok=200)
    scopes = sorted(str(r["scope"]) for r in rows["role_assignments"])
    assert len(scopes) == 2  # member on its project, admin on the domain: nothing new
