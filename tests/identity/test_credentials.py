"""``/v3/credentials`` (encrypted at rest), endpoint groups and policy blobs, through
openstacksdk and keystoneauth1, as Tempest's identity tests use them (issue #10)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import openstack
import pytest
from openstack import exceptions as sdk_exc
from openstack.connection import Connection
from sqlalchemy import select

from ocx.identity.credential_keys import KEY_FILE
from ocx.identity.models import Credential
from ocx.runner import Exchange
from tests.identity.conftest import Admin


@pytest.fixture
def conn(clouds_yaml: Path) -> Iterator[Connection]:
    connection = openstack.connect(cloud="harvard")
    yield connection
    connection.close()


def _stored_blobs(exchange: Exchange) -> list[str]:
    """The blob column as the database holds it."""
    identity = next(
        r.service for r in exchange.running if (r.landlord, r.part) == ("harvard", "identity")
    )

    async def read() -> list[str]:
        async with identity.service.db.session() as session:  # type: ignore[attr-defined]
            return list((await session.scalars(select(Credential.blob))).all())

    return list(exchange.background.call(read()))  # type: ignore[attr-defined]


def test_ec2_credential_lifecycle_and_encryption_at_rest(
    conn: Connection, admin: Admin, exchange: Exchange
) -> None:
    project, user = admin.customer("cora")
    blob = json.dumps({"access": "AKIA-cora", "secret": "very-secret-key"})
    cred = conn.identity.create_credential(
        type="ec2", blob=blob, user_id=user["id"], project_id=project["id"]
    )
    assert cred.id == hashlib.sha256(b"AKIA-cora").hexdigest()
    assert json.loads(cred.blob)["secret"] == "very-secret-key"
    stored = _stored_blobs(exchange)
    assert len(stored) == 1 and "very-secret-key" not in stored[0] and "AKIA" not in stored[0]
    assert (exchange.data_dir / "harvard" / KEY_FILE).stat().st_mode & 0o077 == 0
    new_blob = json.dumps({"access": "AKIA-cora-2", "secret": "rotated"})
    updated = conn.identity.update_credential(cred, blob=new_blob)
    assert json.loads(updated.blob)["secret"] == "rotated"
    assert updated.id == cred.id  # ids never change, as in Keystone
    assert [c.id for c in conn.identity.credentials(user_id=user["id"])] == [cred.id]
    assert [c.id for c in conn.identity.credentials(type="ec2")] == [cred.id]
    assert list(conn.identity.credentials(type="totp")) == []
    # Its owner sees it; another customer does not even learn that it exists.
    owner = admin.user_session("cora", project["id"])
    mine = owner.get(admin.url + "/credentials").json()["credentials"]
    assert [json.loads(c["blob"])["secret"] for c in mine] == ["rotated"]
    other_project, _ = admin.customer("dan")
    other = admin.user_session("dan", other_project["id"])
    assert other.get(admin.url + f"/credentials/{cred.id}", raise_exc=False).status_code == 404
    assert other.get(admin.url + "/credentials").json()["credentials"] == []
    forged = other.post(
        admin.url + "/credentials",
        json={"credential": {"type": "totp", "blob": "seed", "user_id": user["id"]}},
        raise_exc=False,
    )
    assert forged.status_code == 403
    conn.identity.delete_credential(cred)
    with pytest.raises(sdk_exc.NotFoundException):
        conn.identity.get_credential(cred.id)


def test_credential_refusals(conn: Connection, admin: Admin) -> None:
    project, user = admin.customer("eli")
    bad = [
        {"type": "ec2", "blob": "not json", "user_id": user["id"], "project_id": project["id"]},
        {"type": "ec2", "blob": json.dumps({"access": "x"}), "user_id": user["id"]},
        {"type": "totp", "blob": "", "user_id": user["id"]},
    ]
    for body in bad:
        resp = admin.session.post(
            admin.url + "/credentials", json={"credential": body}, raise_exc=False
        )
        assert resp.status_code == 400, body
        assert resp.json()["error"]["code"] == 400
    unknown_user = {"type": "totp", "blob": "seed", "user_id": "nobody"}
    resp = admin.session.post(
        admin.url + "/credentials", json={"credential": unknown_user}, raise_exc=False
    )
    assert resp.status_code == 404


def test_endpoint_groups_and_policy_blobs(conn: Connection, admin: Admin) -> None:
    service = conn.identity.create_service(type="thing", name="thing")
    url = admin.url + "/OS-EP-FILTER/endpoint_groups"
    body = {"name": "things", "description": "d", "filters": {"service_id": service.id}}
    group = admin.session.post(url, json={"endpoint_group": body}).json()["endpoint_group"]
    assert group["filters"] == {"service_id": service.id}
    assert admin.session.head(f"{url}/{group['id']}").status_code == 200
    patched = admin.session.patch(
        f"{url}/{group['id']}", json={"endpoint_group": {"filters": {"interface": "public"}}}
    ).json()["endpoint_group"]
    assert patched["filters"] == {"interface": "public"}
    wrong = {"name": "x", "filters": {"color": "red"}}
    assert (
        admin.session.post(url, json={"endpoint_group": wrong}, raise_exc=False).status_code == 400
    )
    project, _ = admin.customer("fay")
    customer = admin.user_session("fay", project["id"])
    assert customer.get(url, raise_exc=False).status_code == 403
    admin.session.delete(f"{url}/{group['id']}")
    assert admin.session.get(url).json()["endpoint_groups"] == []
    policy = conn.identity.create_policy(blob='{"a": 1}', type="application/json")
    conn.identity.update_policy(policy, type="text/plain")
    assert conn.identity.get_policy(policy.id).type == "text/plain"
    assert customer.get(admin.url + "/policies", raise_exc=False).status_code == 403
    conn.identity.delete_policy(policy)
    assert list(conn.identity.policies()) == []
