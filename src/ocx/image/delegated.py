"""Requests made with an image delegation (:mod:`ocx.common.delegation`): another landlord's
compute reading one image, its record and its bytes, to boot a customer's server from it.

The token must verify as this landlord's ``ocx-delegation+jwt`` for ``<landlord>:image``, come
with a fresh proof from the key it names, and ask ``GET`` of that one image or of its file;
anything else is refused with 403. The caller is then the customer who asked for the
delegation, so the image must still be one that customer may see.
"""

from __future__ import annotations

from fastapi import Request

from ocx.common import delegation, errors
from ocx.common.auth import Principal, TokenVerifier

READS = ("/v2/images/{image_id}", "/v2/images/{image_id}/file")


async def admit(
    request: Request, verifier: TokenVerifier, landlord: str, proofs: delegation.ProofChecker
) -> Principal:
    token = request.headers.get("x-auth-token", "")
    who = await verifier.verify_typed(
        token, delegation.TYP_DELEGATION, delegation.audience(landlord, "image")
    )
    limits = delegation.constraints_of(who.claims)
    proofs.check(
        request.headers.get(delegation.PROOF_HEADER),
        token,
        limits.jkt,
        request.method,
        str(request.url),
    )
    path = getattr(request.scope.get("route"), "path", "")
    wanted = request.path_params.get("image_id")
    if request.method != "GET" or path not in READS or wanted != limits.image_id:
        raise errors.Forbidden(
            f"This delegation allows only reading image {limits.image_id} and its data."
        )
    return who
