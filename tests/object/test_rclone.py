"""rclone (Debian's package) with its ``swift`` backend: copy, sync and check round trips."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.object.conftest import Customer, Landlord

MIB = 1024 * 1024
RCLONE = shutil.which("rclone")

pytestmark = pytest.mark.skipif(
    RCLONE is None, reason="rclone is not installed (apt-get install rclone)"
)


def rclone(customer: Customer, *args: str, chunk: str = "4M") -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RCLONE_", "OS_"))}
    env.update(
        RCLONE_CONFIG="/dev/null",
        RCLONE_CONFIG_OCX_TYPE="swift",
        RCLONE_CONFIG_OCX_AUTH=customer.auth_url,
        RCLONE_CONFIG_OCX_AUTH_VERSION="3",
        RCLONE_CONFIG_OCX_USER=customer.name,
        RCLONE_CONFIG_OCX_KEY=customer.password,
        RCLONE_CONFIG_OCX_DOMAIN="Default",
        RCLONE_CONFIG_OCX_TENANT_ID=customer.project_id,
        RCLONE_CONFIG_OCX_CHUNK_SIZE=chunk,
    )
    assert RCLONE is not None
    done = subprocess.run(
        [RCLONE, "--retries", "1", "--low-level-retries", "1", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def write(path: Path, size: int, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    block = os.urandom(MIB) if size >= MIB else os.urandom(size)
    with path.open("wb") as out:
        left = size
        while left > 0:
            piece = block[: min(left, len(block))]
            out.write(bytes([seed % 256]) + piece[1:] if piece else piece)
            left -= len(piece)


def tree(root: Path, big: int) -> None:
    write(root / "readme.txt", 120, 1)
    write(root / "empty", 0, 2)
    write(root / "docs" / "a.md", 3000, 3)
    write(root / "docs" / "deep" / "b.bin", 70_000, 4)
    write(root / "docs" / "ünï cødé.txt", 10, 5)
    write(root / "big" / "large.bin", big, 6)


def round_trip(alice: Customer, tmp_path: Path, big: int, chunk: str) -> None:
    src, back = tmp_path / "src", tmp_path / "back"
    tree(src, big)
    rclone(alice, "copy", str(src), "ocx:tree", chunk=chunk)
    rclone(alice, "check", str(src), "ocx:tree", chunk=chunk)
    (src / "readme.txt").unlink()
    write(src / "docs" / "a.md", 5000, 7)
    write(src / "new" / "c.txt", 42, 8)
    rclone(alice, "sync", str(src), "ocx:tree", chunk=chunk)
    rclone(alice, "check", str(src), "ocx:tree", chunk=chunk)
    rclone(alice, "copy", "ocx:tree", str(back), chunk=chunk)
    rclone(alice, "check", str(src), str(back), "--checksum")
    assert (back / "big" / "large.bin").read_bytes() == (src / "big" / "large.bin").read_bytes()


def test_rclone_round_trip_with_segments(
    alice: Customer, landlord: Landlord, tmp_path: Path
) -> None:
    round_trip(alice, tmp_path, 10 * MIB + 123, "4M")
    listed = rclone(alice, "lsf", "ocx:tree_segments", "-R", "--files-only")
    assert len(listed.split()) == 3  # the large file went up as a dynamic large object


def test_rclone_round_trip_of_hundreds_of_mib(alice: Customer, tmp_path: Path) -> None:
    round_trip(alice, tmp_path, 300 * MIB + 17, "64M")
