"""Driving an attachment's NBD export with libnbd's own tools (nbdinfo, nbdcopy)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any


def uri(info: dict[str, Any], folder: Path, *, key: str | None = None) -> str:
    """The connection info's URI with a PSK file the way libnbd reads it."""
    data = info["data"]
    psk = folder / f"{data['psk_identity']}.psk"
    psk.write_text(f"{data['psk_identity']}:{key or data['psk_key']}\n")
    psk.chmod(0o600)
    return f"{data['uri']}?tls-psk-file={psk}"


def nbdinfo(target: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["nbdinfo", *args, target], capture_output=True, text=True, timeout=60)


def nbdcopy(source: str, dest: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["nbdcopy", source, dest], capture_output=True, text=True, timeout=120)
