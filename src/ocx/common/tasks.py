"""Waiting for work that must not be abandoned half-way."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TypeVar

T = TypeVar("T")


async def uncancelled(running: asyncio.Future[T]) -> T:
    """``running``'s result; a caller cancelled meanwhile still waits for it to finish (and
    then is cancelled), as what it does to files, rows and sockets must be known to whoever
    cleans up after it."""
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        while not running.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([running])
        if not running.cancelled():
            running.exception()  # seen: the caller is gone, the cancellation is its answer
        raise
