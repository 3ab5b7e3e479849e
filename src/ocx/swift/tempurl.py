"""Temporary URLs: HMAC signatures over method, expiry and path, checked without a token.

A signature is ``hmac(key, "METHOD\\nEXPIRES\\nPATH")`` with SHA-256 or SHA-512, hex or
``<digest>:<base64url>``; the keys are the account's and the container's
``Temp-URL-Key`` and ``Temp-URL-Key-2`` metadata. ``temp_url_prefix`` signs a name prefix
(``prefix:/v1/AUTH_x/c/prefix``) instead of one object. Expiry is a Unix time or ISO 8601.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from ocx.common import errors
from ocx.swift.faults import fault

DIGESTS = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}
HEX_LENGTHS = {64: "sha256", 128: "sha512"}
METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")
KEY_NAMES = ("temp-url-key", "temp-url-key-2")


@dataclass(frozen=True)
class TempUrl:
    signature: str
    expires: int
    prefix: str | None
    filename: str | None
    inline: bool

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> TempUrl:
        if "temp_url_expires" not in query:
            raise invalid()
        return cls(
            signature=query["temp_url_sig"],
            expires=parse_expires(query["temp_url_expires"]),
            prefix=query.get("temp_url_prefix"),
            filename=query.get("filename"),
            inline="inline" in query,
        )


def invalid() -> errors.OCXError:
    return fault(errors.Unauthorized, "Temp URL invalid")


def parse_expires(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return int(datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").timestamp())
    except ValueError as exc:
        raise invalid() from exc


def keys_of(meta: Mapping[str, str]) -> list[str]:
    return [meta[name] for name in KEY_NAMES if meta.get(name)]


def sign(key: str, method: str, expires: int, path: str, digest: str = "sha256") -> str:
    message = f"{method}\n{expires}\n{path}".encode()
    return hmac.new(key.encode(), message, DIGESTS[digest]).hexdigest()


def _split(signature: str) -> tuple[str, bytes]:
    if ":" in signature:
        name, _, encoded = signature.partition(":")
        if name not in DIGESTS:
            raise invalid()
        try:
            return name, base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except ValueError as exc:
            raise invalid() from exc
    name = HEX_LENGTHS.get(len(signature), "")
    try:
        return name, bytes.fromhex(signature)
    except ValueError as exc:
        raise invalid() from exc


def verify(
    temp: TempUrl,
    method: str,
    account: str,
    container: str,
    obj: str,
    keys: Iterable[tuple[str, str | None]],
) -> str | None:
    """The scope of the key (``(key, scope)`` pairs) whose signature ``temp`` carries for
    ``method`` on this object; 401 if none."""
    if temp.expires < time.time() or method not in METHODS:
        raise invalid()
    digest, given = _split(temp.signature)
    if digest not in DIGESTS:
        raise invalid()
    if temp.prefix is not None:
        if not obj.startswith(temp.prefix):
            raise invalid()
        path = f"prefix:/v1/{account}/{container}/{temp.prefix}"
    else:
        path = f"/v1/{account}/{container}/{obj}"
    # As in Swift, whoever may GET, PUT or POST an object may also look at it with HEAD.
    methods = ("HEAD", "GET", "PUT", "POST") if method == "HEAD" else (method,)
    for key, scope in keys:
        for signed in methods:
            message = f"{signed}\n{temp.expires}\n{path}".encode()
            expected = hmac.new(key.encode(), message, DIGESTS[digest]).digest()
            if hmac.compare_digest(expected, given):
                return scope
    raise invalid()
