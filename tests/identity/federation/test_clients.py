"""Federation from clouds.yaml with the unmodified clients: the `openstack` CLI and openstacksdk."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import openstack
import yaml

from ocx import clouds
from ocx.runner import Exchange

OPENSTACK = str(Path(sys.executable).with_name("openstack"))


def write_clouds(exchange: Exchange) -> Path:
    return clouds.write(exchange, exchange.data_dir / "clouds.yaml")


def test_clouds_yaml_has_entries_per_protocol(federated: Exchange) -> None:
    doc = yaml.safe_load(write_clouds(federated).read_text())["clouds"]
    assert {"harvard", "mit", "stor", "harvard-alice", "alice-stor-k2k", "carol-stor-k2k"} <= set(
        doc
    )
    assert doc["alice-stor-k2k"]["auth_type"] == "v3ocxk2k"


def test_openstack_cli_k2k_from_clouds_yaml(federated: Exchange) -> None:
    path = write_clouds(federated)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["OS_CLIENT_CONFIG_FILE"] = str(path)
    for args in (
        ["token", "issue", "-f", "value", "-c", "project_id"],
        ["project", "list", "-f", "value", "-c", "Name"],
    ):
        done = subprocess.run(
            [OPENSTACK, "--os-cloud", "alice-stor-k2k", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["harvard-alice"]


def test_openstacksdk_k2k_from_clouds_yaml(federated: Exchange, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(write_clouds(federated)))
    conn = openstack.connect(cloud="carol-stor-k2k")
    try:
        assert conn.session.get_project_id()
        stor = federated.landlords["stor"]
        assert conn.session.get_endpoint(service_type="identity") == stor.auth_url
        projects = conn.session.get(stor.auth_url + "/auth/projects").json()["projects"]
        assert [p["name"] for p in projects] == ["mit-carol"]
    finally:
        conn.close()


def test_openstack_cli_native_k2k_flags(federated: Exchange) -> None:
    """The CLI's own K2K options, starting from the user's home entry."""
    path = write_clouds(federated)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["OS_CLIENT_CONFIG_FILE"] = str(path)
    done = subprocess.run(
        [
            OPENSTACK,
            "--os-cloud",
            "harvard-bob",
            "--os-service-provider",
            "stor",
            "--os-remote-project-name",
            "harvard-bob",
            "--os-remote-project-domain-name",
            "harvard-federated",
            "token",
            "issue",
            "-f",
            "value",
            "-c",
            "project_id",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip()) == 32


def test_openstack_cli_oidc_from_clouds_yaml(federated: Exchange) -> None:
    path = write_clouds(federated)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["OS_CLIENT_CONFIG_FILE"] = str(path)
    done = subprocess.run(
        [OPENSTACK, "--os-cloud", "bob-stor-oidc", "project", "list", "-f", "value", "-c", "Name"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["harvard-bob"]


def test_openstacksdk_oidc_from_clouds_yaml(federated: Exchange, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(write_clouds(federated)))
    conn = openstack.connect(cloud="carol-stor-oidc")
    try:
        access = conn.session.auth.get_access(conn.session)
        assert access.project_name == "mit-carol" and access.is_federated
    finally:
        conn.close()
