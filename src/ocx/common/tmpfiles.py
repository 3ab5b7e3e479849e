"""Temporary files that several worker processes of one part can share a directory with.

A part writes an upload under a temporary name and renames it into place once it is whole;
what a crash leaves behind is swept at the next start. With several workers (``ocx serve
--workers N``, or any ASGI server's) one worker starts while another is mid-upload, so a
sweep must remove only what a dead process left: every temporary name carries the host and
the process id that writes it, and :func:`sweep` keeps the files of live processes.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

log = logging.getLogger("ocx.tmpfiles")

_HOST = socket.gethostname().replace("-", "_")


def name(stem: str) -> str:
    """A temporary file name owned by this process: ``<host>-<pid>-<stem>``."""
    return f"{_HOST}-{os.getpid()}-{stem}"


def _owner_alive(filename: str) -> bool:
    host, _, rest = filename.partition("-")
    pid, _, _stem = rest.partition("-")
    if host != _HOST or not pid.isdigit():
        return False  # another host's, or an older name: left by a process long gone
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return int(pid) != 0


def sweep(directory: Path) -> int:
    """Remove what dead processes left in ``directory``; how many files went."""
    removed = 0
    for leftover in directory.iterdir():
        if _owner_alive(leftover.name):
            continue
        log.info("removing unfinished upload %s", leftover.name)
        leftover.unlink(missing_ok=True)
        removed += 1
    return removed
