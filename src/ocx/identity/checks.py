"""Checks on what an administrator registers that other customers then depend on.

A service provider's URLs are followed by every client that takes a token there (and by the
mix-and-match proxy); an endpoint's URL is in every token's catalog; an identity provider's
JWKS URI and SAML certificate decide who gets in. Anything that cannot work is refused with a
400 that names the field, instead of failing later for everyone else.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from cryptography import x509

from ocx.common import errors

MAX_URL = 2048


def http_url(value: str, what: str) -> str:
    """``value`` if it is an absolute http(s) URL with a host; a 400 naming ``what`` if not."""
    problem = _url_problem(value)
    if problem:
        raise errors.ValidationError(f"Invalid {what} {value[:100]!r}: {problem}.")
    return value


def _url_problem(value: str) -> str | None:
    if len(value) > MAX_URL:
        return f"longer than {MAX_URL} characters"
    if any(c.isspace() or ord(c) < 0x20 or c == "\x7f" for c in value):
        return "it contains white space or control characters"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("http", "https"):
        return "it must be an absolute http:// or https:// URL"
    if not parts.hostname:
        return "it names no host"
    return None


def remote_ids(values: list[str]) -> list[str]:
    for value in values:
        if not value.strip():
            raise errors.ValidationError("An identity provider's remote ids must not be empty.")
    return values


def saml_certificate(pem: str) -> str:
    """A PEM X.509 certificate, as the IdP signs its assertions with; a 400 if it is not one."""
    try:
        x509.load_pem_x509_certificate(pem.encode())
    except ValueError as exc:
        raise errors.ValidationError(
            "Invalid saml_certificate: expected one PEM X.509 certificate "
            "(-----BEGIN CERTIFICATE-----)."
        ) from exc
    return pem
