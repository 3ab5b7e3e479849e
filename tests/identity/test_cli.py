"""The `openstack` CLI and openstacksdk against a live landlord, from clouds.yaml."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import openstack

from ocx.runner import Exchange

OPENSTACK = str(Path(sys.executable).with_name("openstack"))


def osc(*args: str, cloud: str = "harvard", check: bool = True) -> Any:
    """Run the `openstack` CLI; JSON output parsed when there is any."""
    cmd = [OPENSTACK, "--os-cloud", cloud, *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if check:
        assert done.returncode == 0, done.stderr
    else:
        return done
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_openstack_cli_identity_workflow(clouds_yaml: Path, exchange: Exchange) -> None:
    token = osc("token", "issue", "-f", "json")
    assert token["project_id"] and token["user_id"] and token["expires"]

    created = osc("project", "create", "--description", "physics lab", "physics", "-f", "json")
    assert created["name"] == "physics" and created["description"] == "physics lab"
    shown = osc("project", "show", "physics", "-f", "json")
    assert shown["id"] == created["id"]
    names = {p["Name"] for p in osc("project", "list", "-f", "json")}
    assert names == {"admin", "physics"}

    user = osc(
        "user", "create", "--password", "s3cret-pw", "--project", "physics", "alice", "-f", "json"
    )
    assert user["name"] == "alice" and user["default_project_id"] == created["id"]
    assert {u["Name"] for u in osc("user", "list", "-f", "json")} == {"admin", "alice"}

    osc("role", "add", "--project", "physics", "--user", "alice", "member")
    rows = osc("role", "assignment", "list", "--names", "--project", "physics", "-f", "json")
    assert rows == [
        {
            "Role": "member",
            "User": "alice@Default",
            "Group": "",
            "Project": "physics@Default",
            "Domain": "",
            "System": "",
            "Inherited": False,
        }
    ]

    services = {row["Type"] for row in osc("catalog", "list", "-f", "json")}
    assert "identity" in services

    cred = osc("application", "credential", "create", "--role", "admin", "deploy", "-f", "json")
    assert cred["Name"] == "deploy" and cred["Secret"]
    assert cred["Project ID"] == token["project_id"]
    assert [r["name"] for r in cred["Roles"]] == ["admin"]


def test_cli_errors_are_keystones(clouds_yaml: Path, exchange: Exchange) -> None:
    osc("project", "create", "dup", "-f", "json")
    again = osc("project", "create", "dup", check=False)
    assert again.returncode == 1
    assert "Conflict occurred attempting to store project dup" in again.stderr
    missing = osc("project", "show", "no-such-project", check=False)
    assert missing.returncode == 1
    assert "No Project found for no-such-project" in missing.stderr


def test_openstacksdk_from_clouds_yaml(clouds_yaml: Path, exchange: Exchange) -> None:
    conn = openstack.connect(cloud="harvard")
    try:
        project = conn.identity.create_project(name="chem", domain_id="default")
        user = conn.identity.create_user(
            name="bob", password="pw-bob", domain_id="default", default_project_id=project.id
        )
        member = conn.identity.find_role("member")
        conn.identity.assign_project_role_to_user(project, user, member)
        assert conn.identity.validate_user_has_project_role(project, user, member)
        assert {p.name for p in conn.identity.projects()} == {"admin", "chem"}
        assert conn.identity.get_project(project.id).name == "chem"
        assigned = list(conn.identity.role_assignments(user_id=user.id))
        assert [(a.role["id"], a.scope["project"]["id"]) for a in assigned] == [
            (member.id, project.id)
        ]
        assert {s.type for s in conn.identity.services()} >= {"identity"}
        cred = conn.identity.create_application_credential(
            user=conn.current_user_id, name="sdk-cred", roles=[{"name": "reader"}]
        )
        assert cred.secret
        as_bob = openstack.connect(
            auth_url=exchange.landlords["harvard"].auth_url,
            username="bob",
            password="pw-bob",
            user_domain_id="default",
            project_id=project.id,
            project_domain_id="default",
        )
        assert as_bob.current_project_id == project.id
        as_bob.close()
    finally:
        conn.close()
