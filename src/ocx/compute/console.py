"""Each server's console log: a file of lines, appended by the guest, capped in size."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path


class Consoles:
    def __init__(self, root: Path, max_bytes: int):
        self.root = root
        self.max_bytes = max_bytes

    def prepare(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, server_id: str) -> Path:
        return self.root / f"{server_id}.log"

    def write(self, server_id: str, lines: Iterable[str]) -> None:
        """Append ``lines``; once the log is full, older output is kept and new output dropped."""
        path = self.path(server_id)
        stamp = f"[{time.monotonic():12.6f}] "
        text = "".join(stamp + line.replace("\n", " ") + "\n" for line in lines).encode()
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            size = 0
        if size + len(text) > self.max_bytes:
            return
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, text)
        finally:
            os.close(fd)

    def read(self, server_id: str, length: int | None) -> str:
        try:
            text = self.path(server_id).read_text(errors="replace")
        except FileNotFoundError:
            return ""
        if length is None:
            return text
        lines = text.splitlines(keepends=True)
        return "".join(lines[-length:]) if length > 0 else ""

    def remove(self, server_id: str) -> None:
        self.path(server_id).unlink(missing_ok=True)
