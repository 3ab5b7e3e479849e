"""Dynamic large objects: ``X-Object-Manifest: <container>/<prefix>`` names the segments.

The object's body is every object under the prefix, in name order, at the time of the read;
its ETag is the quoted MD5 of the segments' ETags.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from urllib.parse import unquote

from ocx.object.models import Object
from ocx.swift.faults import bad_request


def parse(value: str) -> tuple[str, str]:
    """``(container, prefix)`` of a manifest header (percent-encoded, as clients send it)."""
    container, slash, prefix = unquote(value.strip()).lstrip("/").partition("/")
    if not container or not slash:
        raise bad_request("X-Object-Manifest must be in the format container/prefix")
    return container, prefix


def etag(segments: Sequence[Object]) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    for segment in segments:
        md5.update(segment.etag.encode())
    return md5.hexdigest()
