"""What every exchange handler needs: the service, the caller, and who pays."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ocx.common import errors
from ocx.common.auth import Principal, authenticate
from ocx.exchange.service import ExchangeService
from ocx.exchange.subscriptions import Customer


def service(request: Request) -> ExchangeService:
    svc: ExchangeService = request.app.state.service
    return svc


Service = Annotated[ExchangeService, Depends(service)]


async def caller(request: Request, svc: Service) -> Principal:
    return await authenticate(request, svc.verifier)


Caller = Annotated[Principal, Depends(caller)]


def is_operator(who: Principal) -> bool:
    """The exchange operator: admin on the system or on its own admin project."""
    admin_project = who.project_name == "admin" and who.project_domain_id == "default"
    return who.has_role("admin") and (who.system or admin_project)


def is_landlord_admin(who: Principal, landlord: str) -> bool:
    """An administrator of ``landlord``, for the landlord's read-only pages (its settlement):
    signed in here through federation from the landlord's own identity (the identity provider
    the topology names after it), scoped to ``landlord-<landlord>``, the project this
    identity's mapping gives only that provider's administrators (``ocx.federate``)."""
    federation = who.claims.get("OS-FEDERATION")
    idp = (
        federation.get("identity_provider", {}).get("id") if isinstance(federation, dict) else None
    )
    return (
        idp == landlord
        and who.project_name == f"landlord-{landlord}"
        and who.has_role("reader", "member", "admin")
    )


def operator(who: Caller) -> Principal:
    if not is_operator(who):
        raise errors.Forbidden("Only the exchange's operator may do that.")
    return who


def customer(who: Caller) -> Customer:
    if who.project_id is None or who.project_name is None:
        raise errors.Forbidden("A customer acts with a project-scoped token (the project pays).")
    return Customer(who.project_id, who.project_name, who.user_id)


Operator = Annotated[Principal, Depends(operator)]
Paying = Annotated[Customer, Depends(customer)]
