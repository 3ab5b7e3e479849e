"""The exchange URL table (JSON, OpenAPI at /openapi.json)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from ocx.exchange.api import billing, catalogue, contracts


def route(path: str, endpoint: Callable[..., Any], method: str, tag: str) -> APIRoute:
    return APIRoute(path, endpoint, methods=[method], tags=[tag], response_model=None)


TABLE: list[tuple[str, str, Callable[..., Any], str]] = [
    ("/v1", "GET", catalogue.discovery, "exchange"),
    ("/.well-known/jwks.json", "GET", catalogue.jwks, "exchange"),
    ("/v1/landlords", "POST", catalogue.enrol, "parties"),
    ("/v1/landlords", "GET", catalogue.list_landlords, "parties"),
    ("/v1/landlords/{name}", "GET", catalogue.get_landlord, "parties"),
    ("/v1/landlords/{landlord}/feed", "GET", contracts.feed, "subscriptions"),
    (
        "/v1/landlords/{landlord}/probe-credential",
        "PUT",
        catalogue.set_probe_credential,
        "parties",
    ),
    ("/v1/landlords/{landlord}/settlements/{period}", "GET", billing.settlement, "billing"),
    ("/v1/offerings", "POST", catalogue.publish, "offerings"),
    ("/v1/offerings", "GET", catalogue.list_offerings, "offerings"),
    ("/v1/offerings/{offering_id}", "GET", catalogue.get_offering, "offerings"),
    ("/v1/offerings/{offering_id}/prices", "GET", catalogue.price_history, "offerings"),
    ("/v1/offerings/{offering_id}/check", "POST", catalogue.check_now, "offerings"),
    ("/v1/broker/choose", "POST", catalogue.choose, "brokers"),
    ("/v1/subscriptions", "POST", contracts.subscribe, "subscriptions"),
    ("/v1/subscriptions", "GET", contracts.list_subscriptions, "subscriptions"),
    ("/v1/subscriptions/{sub_id}", "GET", contracts.get_subscription, "subscriptions"),
    ("/v1/subscriptions/{sub_id}", "DELETE", contracts.cancel_subscription, "subscriptions"),
    ("/v1/offers", "POST", contracts.add_offer, "leases"),
    ("/v1/offers", "GET", contracts.list_offers, "leases"),
    ("/v1/offers/{offer_id}", "GET", contracts.get_offer, "leases"),
    ("/v1/leases", "POST", contracts.claim, "leases"),
    ("/v1/leases", "GET", contracts.list_leases, "leases"),
    ("/v1/leases/{lease_id}", "GET", contracts.get_lease, "leases"),
    ("/v1/leases/{lease_id}", "PATCH", contracts.extend_lease, "leases"),
    ("/v1/leases/{lease_id}", "DELETE", contracts.delete_lease, "leases"),
    ("/v1/leases/{lease_id}/offers", "POST", contracts.sublease, "leases"),
    ("/v1/events", "GET", contracts.list_events, "events"),
    ("/v1/usage", "POST", billing.ingest, "billing"),
    ("/v1/usage", "GET", billing.list_usage, "billing"),
    ("/v1/usage/summary", "GET", billing.usage_summary, "billing"),
    ("/v1/invoices/{period}", "GET", billing.get_invoice, "billing"),
    ("/v1/invoices/{period}/issue", "POST", billing.issue_invoice, "billing"),
    ("/v1/budget", "GET", billing.get_budget, "billing"),
    ("/v1/budget", "PUT", billing.set_budget, "billing"),
]


@functools.cache  # built once per process: FastAPI's analysis of each handler is costly
def routes() -> list[BaseRoute]:
    return [route(path, endpoint, method, tag) for path, method, endpoint, tag in TABLE]
