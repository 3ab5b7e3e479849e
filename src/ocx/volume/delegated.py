"""Requests made with a constrained delegation (:mod:`ocx.common.delegation`): who may do
what. The token must verify as this landlord's ``ocx-delegation+jwt`` for ``<landlord>:volume``,
come with a fresh proof from the key it names, and ask for one of the attach/detach steps on
the one volume it names; anything else is refused with 403.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from ocx.common import delegation, errors
from ocx.common.auth import Principal, TokenVerifier
from ocx.volume.models import Attachment

# (method, route path without the /v3 prefix) → what the step needs checked.
STEPS = {
    ("GET", "/volumes/{volume_id}"): "volume",
    ("POST", "/volumes/{volume_id}/action"): "begin_detaching",
    ("POST", "/attachments"): "create",
    ("GET", "/attachments/{attachment_id}"): "attachment",
    ("PUT", "/attachments/{attachment_id}"): "attachment",
    ("DELETE", "/attachments/{attachment_id}"): "attachment",
    ("POST", "/attachments/{attachment_id}/action"): "attachment",
}
DETACH_ACTIONS = ("os-begin_detaching", "os-roll_detaching")


async def admit(request: Request, verifier: TokenVerifier, landlord: str, db: Any) -> Principal:
    token = request.headers.get("x-auth-token", "")
    who = await verifier.verify_typed(
        token, delegation.TYP_DELEGATION, delegation.audience(landlord)
    )
    limits = delegation.constraints_of(who.claims)
    proofs: delegation.ProofChecker = _proofs(request)
    proofs.check(
        request.headers.get(delegation.PROOF_HEADER),
        token,
        limits.jkt,
        request.method,
        str(request.url),
    )
    await _allowed(request, limits, db)
    return who


def _proofs(request: Request) -> delegation.ProofChecker:
    found = getattr(request.app.state, "delegation_proofs", None)
    if found is None:
        found = delegation.ProofChecker()
        request.app.state.delegation_proofs = found
    return found


async def _allowed(request: Request, limits: delegation.Constraints, db: Any) -> None:
    route = request.scope.get("route")
    path = getattr(route, "path", "")
    for prefix in ("/v3/{url_project_id}", "/v3"):
        if path.startswith(prefix):
            path = path[len(prefix) :]
            break
    step = STEPS.get((request.method, path))
    refused = errors.Forbidden(
        f"This delegation allows only attaching and detaching volume {limits.volume_id}."
    )
    params = request.path_params
    if step is None:
        raise refused
    if step in ("volume", "begin_detaching") and params.get("volume_id") != limits.volume_id:
        raise refused
    if step == "begin_detaching":
        body = await request.json()
        if not isinstance(body, dict) or list(body) not in ([a] for a in DETACH_ACTIONS):
            raise refused
    if step == "create":
        body = await request.json()
        wanted = (body or {}).get("attachment", {}) if isinstance(body, dict) else {}
        if not isinstance(wanted, dict) or wanted.get("volume_uuid") != limits.volume_id:
            raise refused
    if step == "attachment":
        async with db.session() as session:
            row = await session.get(Attachment, params.get("attachment_id"))
        if row is None or row.volume_id != limits.volume_id:
            raise refused
