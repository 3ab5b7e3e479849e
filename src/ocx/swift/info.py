"""What ``GET /info`` says about Swift itself: the version clients read, and the limits; and
``GET /healthcheck``, Swift's liveness probe for load balancers (the object store's and the
proxy's alike)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from ocx.swift.limits import Limits

SWIFT_VERSION = "2.34.0"

# The constraints advertised under ``swift`` by the object store and by the proxy alike.
ADVERTISED = (
    "max_file_size",
    "max_meta_name_length",
    "max_meta_value_length",
    "max_meta_count",
    "max_meta_overall_size",
    "max_header_size",
    "max_object_name_length",
    "max_container_name_length",
    "max_account_name_length",
    "container_listing_limit",
    "account_listing_limit",
)


# A Swift with no storage policy configured has one, implicitly: index 0, named ``Policy-0``,
# the default. Every OCX container is in it (``X-Storage-Policy``).
DEFAULT_POLICY = "Policy-0"


def policies() -> list[dict[str, object]]:
    """``/info``'s ``swift.policies`` for that one policy, as Swift lists it: the name, its
    aliases joined by ", " (the name alone), and ``default`` (listed only on the default)."""
    return [{"name": DEFAULT_POLICY, "aliases": DEFAULT_POLICY, "default": True}]


def advertised(limits: Limits) -> dict[str, int]:
    """The ``swift`` section's limits, in the order Swift lists them."""
    return {name: getattr(limits, name) for name in ADVERTISED}


async def healthcheck(_request: Request) -> Response:
    """``OK`` while the process serves: what Swift's healthcheck answers and probes expect."""
    return PlainTextResponse("OK")
