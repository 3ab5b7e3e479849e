"""Which headers cross the proxy, in each direction: pure functions.

Hop-by-hop headers stay on their hop. The client's token never leaves the proxy except to its
own home landlord: each landlord gets the token the proxy holds for the customer there. The
proxy's own headers (``X-OCX-*``) are for the proxy; it adds ``X-OCX-Proxy-Hops`` so that a
chain of proxies that loops back is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

HOPS = "x-ocx-proxy-hops"
LANDLORD = "x-ocx-landlord"
PLACEMENT = "x-ocx-placement"
LANDLORDS = "x-ocx-landlords"
MISSING = "x-ocx-missing-landlords"
UPSTREAM_REQUEST_ID = "x-ocx-upstream-request-id"

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
    }
)
NOT_FORWARDED = HOP_BY_HOP | {"host", "x-auth-token", "x-storage-token"}
NOT_RETURNED = HOP_BY_HOP | {"x-openstack-request-id", "x-trans-id", "date", "server"}


def hops_of(value: str | None) -> list[str]:
    return [h.strip() for h in (value or "").split(",") if h.strip()]


def outgoing(
    headers: Iterable[tuple[str, str]], token: str | None, hops: Sequence[str]
) -> list[tuple[str, str]]:
    """The request headers for a landlord: the client's, with this hop's token and hops."""
    out = [
        (name, value)
        for name, value in headers
        if name.lower() not in NOT_FORWARDED and not name.lower().startswith("x-ocx-")
    ]
    if token is not None:
        out.append(("x-auth-token", token))
    out.append((HOPS, ", ".join(hops)))
    return out


def incoming(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The response headers for the client: the landlord's, less hop-by-hop ones."""
    out: list[tuple[str, str]] = []
    for name, value in headers:
        lower = name.lower()
        if lower == "x-openstack-request-id":
            out.append((UPSTREAM_REQUEST_ID, value))
        elif lower not in NOT_RETURNED:
            out.append((lower, value))
    return out


def encode(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers]
