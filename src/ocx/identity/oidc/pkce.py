"""PKCE (RFC 7636), S256 only: ``plain`` protects nothing once the request is seen."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from ocx.identity.oidc.errors import invalid_grant, invalid_request

S256 = "S256"
# A verifier is 43-128 unreserved characters; an S256 challenge is 43 base64url characters.
VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_challenge(challenge: str | None, method: str | None, *, required: bool) -> str | None:
    """The challenge to store with the code (invalid_request when missing or unusable)."""
    if challenge is None:
        if method is not None:
            raise invalid_request("code_challenge_method without code_challenge.")
        if required:
            raise invalid_request("A public client must use PKCE: send an S256 code_challenge.")
        return None
    if method != S256:
        raise invalid_request("code_challenge_method must be S256.")
    if not CHALLENGE.fullmatch(challenge):
        raise invalid_request("code_challenge is not an S256 challenge.")
    return challenge


def check_verifier(challenge: str | None, verifier: str | None) -> None:
    """The token request's verifier against the stored challenge (invalid_grant on mismatch).

    A verifier for a code issued without a challenge is refused too, so that an attacker's
    code cannot be slipped into a client doing PKCE (RFC 9700 §2.1.1).
    """
    if challenge is None:
        if verifier is not None:
            raise invalid_grant("code_verifier given, but the code was issued without PKCE.")
        return
    if verifier is None or not VERIFIER.fullmatch(verifier):
        raise invalid_grant("code_verifier is missing or malformed.")
    if not hmac.compare_digest(challenge_of(verifier), challenge):
        raise invalid_grant("code_verifier does not match the code_challenge.")
