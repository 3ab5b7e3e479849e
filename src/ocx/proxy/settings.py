"""Proxy settings: typed, built once from the topology (or by hand) and passed in."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ocx.common.settings import VerifierSettings
from ocx.proxy.placement import Policy


class ProxySettings(BaseModel):
    """Where the proxy lives, whose tokens it accepts, and how patient it is with landlords."""

    model_config = ConfigDict(frozen=True)

    landlord: str
    public_url: str
    verifier: VerifierSettings
    # The identity service that issued the customers' tokens (the home landlord's).
    identity_url: str
    # This proxy's name in X-OCX-Proxy-Hops; every copy of one proxy shares it.
    proxy_id: str
    # The home landlord's object store, for requests without a token (temp URLs, public
    # containers): only the home account has the same path at the proxy and at the landlord.
    home_object_url: str | None = None
    # The home landlord's own endpoints by catalog type (compute, block-storage, image), for
    # version documents asked for without a token.
    home_endpoints: dict[str, str] = Field(default_factory=dict)
    # The same at the landlords that admit the home landlord's users (the topology's), by
    # catalog type: without a token, whose landlords they are is unknown, and cinderclient
    # (Horizon's) reads the version document without one and cannot take a 401.
    peer_endpoints: dict[str, list[str]] = Field(default_factory=dict)
    # The timeout policy (docs/proxy.md, "Timeouts"): a landlord has answer_timeout to begin
    # answering any request without an upload (a busy landlord is waited for, a silent one
    # not for long), and a fan-out (listing, account HEAD/POST, finding a container), which
    # can answer without one landlord, gives each landlord fanout_timeout for all its calls.
    # A landlord that keeps answering other requests meanwhile is busy, not silent: a request
    # waits for it up to read_timeout.
    # Finding or placing a container gives a landlord the customer has reached answer_timeout
    # (its silence would be a 503, so a busy one is waited for like the request itself).
    answer_timeout: float = Field(10.0, gt=0)
    fanout_timeout: float = Field(5.0, gt=0)
    # Getting a token at a landlord through federation (four calls) may take this long.
    federation_timeout: float = Field(10.0, gt=0)
    # Federations run at once (the rest wait their turn; the timeout starts with the turn).
    max_federations: int = Field(8, ge=1)
    connect_timeout: float = Field(3.0, gt=0)
    # Longest silence within a streamed body, either way (a landlord's response, or the
    # client's upload: then 408), and the wait for a landlord's answer after an upload.
    read_timeout: float = Field(60.0, gt=0)
    # Remote tokens are dropped this long before they (or the home token) expire.
    token_margin: float = Field(30.0, ge=0)
    # How long the home token's landlords (catalog, service providers) are remembered.
    landlords_ttl: float = Field(60.0, gt=0)
    # How long "the customer has no project there" is remembered.
    absent_ttl: float = Field(60.0, gt=0)
    # How long a landlord whose federation failed (identity down or silent) is not asked again.
    unreachable_ttl: float = Field(5.0, ge=0)
    route_ttl: float = Field(300.0, gt=0)
    # How long a landlord's listing page is served from the proxy's memory to the same
    # customer (ocx.proxy.pages: a write through the proxy drops it at once; 0: never kept),
    # and how many such pages are kept.
    page_ttl: float = Field(5.0, ge=0)
    page_cache_size: int = Field(2048, ge=1)
    # Requests of the OpenStack layers in flight to one landlord service at once (the rest
    # wait their turn at the proxy, up to read_timeout; ocx.proxy.lanes).
    max_in_flight: int = Field(8, ge=1)
    route_cache_size: int = Field(100_000, ge=1)
    token_cache_size: int = Field(10_000, ge=1)
    placement: Policy = Policy.HOME
    # The exchange whose broker ranks the landlords for ``cheapest`` (the landlord's market).
    exchange_url: str | None = None
    max_hops: int = Field(4, ge=1)
    # Idle keep-alive connections kept per landlord object store (the landlord closes one
    # idle past its keep_alive_timeout). With 64, 300 clients' requests through the proxy
    # opened a new connection for every second one (799 in 15 s, bench/load.py --diagnose):
    # a burst's connections went back past the cap and were closed, the next burst connected
    # again. 256 covers that while 4 proxies' idle ones stay far below a landlord part's
    # max_connections (2,000).
    max_idle_connections: int = Field(256, ge=1)


class ProxyOptions(BaseModel):
    """What a landlord's topology says of its proxy (``[landlords.options.proxy]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The placement of a create that names no landlord: ``cheapest`` asks the exchange's
    # broker (the landlord's ``market``) for compute, volumes and images.
    placement: Policy = Policy.HOME
    # ProxySettings.read_timeout: also how long a request may wait inside the proxy for its
    # turn at a landlord (under a load the machine cannot serve at once, calls queue).
    read_timeout: float = Field(60.0, gt=0)
