"""The ``swift`` command, openstacksdk and rclone through the proxy, with large objects."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openstack
import pytest

from tests.proxy.conftest import OCX, Mixed, placed

MIB = 1024 * 1024
SWIFT_CLI = str(Path(sys.executable).with_name("swift"))
RCLONE = shutil.which("rclone")


def write(path: Path, size: int, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    block = os.urandom(min(size, MIB)) if size else b""
    with path.open("wb") as out:
        out.write(bytes([seed]))
        left = size - 1
        while left > 0:
            out.write(block[: min(left, len(block))])
            left -= min(left, len(block))
    return path


def env(mixed: Mixed, user: str = "alice") -> dict[str, str]:
    home = mixed.exchange.landlords["harvard"]
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ST_", "RCLONE_"))}
    return {
        **keep,
        "OS_AUTH_URL": home.auth_url,
        "OS_USERNAME": user,
        "OS_PASSWORD": home.demo_passwords[user],
        "OS_PROJECT_NAME": f"{user}-project",
        "OS_PROJECT_DOMAIN_ID": "default",
        "OS_USER_DOMAIN_ID": "default",
        "OS_IDENTITY_API_VERSION": "3",
        "OS_REGION_NAME": OCX,
    }


def swift_cli(mixed: Mixed, *args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [SWIFT_CLI, "--auth-version", "3", *args],
        env=env(mixed),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def test_swift_cli_segmented_round_trip(mixed: Mixed, tmp_path: Path) -> None:
    placed(mixed.conn(), "films", "mit")
    source = write(tmp_path / "up" / "film.bin", 3 * MIB + 123, 7)
    swift_cli(mixed, "upload", "-S", str(MIB), "films", "film.bin", cwd=source.parent)
    assert swift_cli(mixed, "list", "films") == "film.bin\n"
    assert swift_cli(mixed, "list") == "films\nfilms_segments\n"
    down = tmp_path / "down"
    down.mkdir()
    swift_cli(mixed, "download", "films", "film.bin", cwd=down)
    assert filecmp.cmp(source, down / "film.bin", shallow=False)
    direct = mixed.direct("mit")
    assert [c["name"] for c in direct.get_account()[1]] == ["films", "films_segments"]
    assert len(direct.get_container("films_segments")[1]) == 4
    swift_cli(mixed, "delete", "films")
    assert [c["name"] for c in direct.get_account()[1] if direct.get_container(c["name"])[1]] == []


def test_openstacksdk_across_landlords(mixed: Mixed, tmp_path: Path) -> None:
    home = mixed.exchange.landlords["harvard"]
    conn = openstack.connect(
        auth_url=home.auth_url,
        username="bob",
        password=home.demo_passwords["bob"],
        project_name="bob-project",
        project_domain_id="default",
        user_domain_id="default",
        region_name=OCX,
    )
    store = conn.object_store
    for name, landlord in (("b-home", "harvard"), ("b-mit", "mit"), ("b-stor", "stor")):
        store.create_container(name=f"{name}@{landlord}")
        store.upload_object(container=name, name="hello", data=f"hi {landlord}".encode())
    assert sorted(c.name for c in store.containers()) == ["b-home", "b-mit", "b-stor"]
    assert store.download_object("hello", container="b-stor") == b"hi stor"
    big = write(tmp_path / "big.bin", 2 * MIB + 5, 3)
    conn.create_object("b-mit", "big.bin", filename=str(big), segment_size=MIB)
    assert store.download_object("big.bin", container="b-mit") == big.read_bytes()
    for name in ("b-home", "b-mit", "b-stor"):
        for obj in list(store.objects(name)):
            store.delete_object(obj, container=name)
        store.delete_container(name)
    assert list(store.containers()) == []
    conn.close()


def rclone(mixed: Mixed, *args: str, chunk: str = "1M") -> str:
    home = mixed.exchange.landlords["harvard"]
    variables = {
        "RCLONE_CONFIG": "/dev/null",
        "RCLONE_CONFIG_OCX_TYPE": "swift",
        "RCLONE_CONFIG_OCX_AUTH": home.auth_url,
        "RCLONE_CONFIG_OCX_AUTH_VERSION": "3",
        "RCLONE_CONFIG_OCX_USER": "alice",
        "RCLONE_CONFIG_OCX_KEY": home.demo_passwords["alice"],
        "RCLONE_CONFIG_OCX_DOMAIN": "Default",
        "RCLONE_CONFIG_OCX_TENANT": "alice-project",
        "RCLONE_CONFIG_OCX_TENANT_DOMAIN": "Default",
        "RCLONE_CONFIG_OCX_REGION": OCX,
        "RCLONE_CONFIG_OCX_CHUNK_SIZE": chunk,
    }
    assert RCLONE is not None
    done = subprocess.run(
        [RCLONE, "--retries", "1", "--low-level-retries", "1", *args],
        env={**env(mixed), **variables},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def tree(root: Path, big: int) -> Path:
    write(root / "readme.txt", 120, 1)
    write(root / "docs" / "a.md", 3000, 3)
    write(root / "docs" / "ünï cødé.txt", 10, 5)
    write(root / "big" / "large.bin", big, 6)
    return root


@pytest.mark.skipif(RCLONE is None, reason="rclone is not installed (apt-get install rclone)")
def test_rclone_copy_and_check_at_three_landlords(mixed: Mixed, tmp_path: Path) -> None:
    src = tree(tmp_path / "src", 3 * MIB + 7)
    placed(mixed.conn(), "r-mit", "mit")
    for remote in ("ocx:r-home", "ocx:r-mit", "ocx:r-stor@stor"):
        rclone(mixed, "copy", str(src), remote)
        rclone(mixed, "check", str(src), remote)
    back = tmp_path / "back"
    rclone(mixed, "copy", "ocx:r-stor@stor", str(back))
    rclone(mixed, "check", str(src), str(back), "--checksum")
    where = {c["name"]: c["landlord"] for c in mixed.conn().get_account()[1]}
    assert where["r-home"] == where["r-home_segments"] == "harvard"
    assert where["r-mit"] == where["r-mit_segments"] == "mit"
    assert where["r-stor"] == "stor"


@pytest.mark.slow
@pytest.mark.skipif(RCLONE is None, reason="rclone is not installed (apt-get install rclone)")
def test_rclone_300_mib_round_trip(mixed: Mixed, tmp_path: Path) -> None:
    src = tmp_path / "src"
    write(src / "huge.bin", 300 * MIB, 9)
    remote = "ocx:huge@stor"
    rclone(mixed, "copy", str(src), remote, chunk="64M")
    rclone(mixed, "check", str(src), remote, chunk="64M")
    back = tmp_path / "back"
    rclone(mixed, "copy", remote, str(back), chunk="64M")
    assert filecmp.cmp(src / "huge.bin", back / "huge.bin", shallow=False)
    direct = mixed.direct("stor")
    # A qualified name's segment container is named after it, literally, at that landlord.
    segments = direct.get_container("huge@stor_segments")[1]
    assert sum(o["bytes"] for o in segments) == 300 * MIB
