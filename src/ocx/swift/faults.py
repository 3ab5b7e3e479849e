"""Swift's fault texts on the common error tree.

Swift answers most faults with a fixed sentence per status; :func:`fault` builds the common
error (:mod:`ocx.common.errors`) with that sentence unless the caller gives a more precise one,
so handlers write ``raise fault(errors.NotFound)``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ocx.common import errors

TEXTS: dict[int, str] = {
    400: "The server could not comply with the request since it is either malformed "
    "or otherwise incorrect.",
    401: "This server could not verify that you are authorized to access the document "
    "you requested.",
    403: "Access was denied to this resource.",
    404: "The resource could not be found.",
    405: "The method is not allowed for this resource.",
    408: "The client did not produce a request within the time that the server was prepared "
    "to wait.",
    409: "There was a conflict when trying to complete your request.",
    411: "Length Required.",
    412: "A precondition for this request was not met.",
    413: "The body of your request was too large for this server.",
    416: "The Range requested is not available.",
    422: "Unable to process the contained instructions",
    503: "The server is currently unavailable. Please try again at a later time.",
}


def fault(
    cls: type[errors.OCXError],
    message: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> errors.OCXError:
    return cls(message or TEXTS.get(cls.status, cls.title), headers=headers)


def not_found() -> errors.OCXError:
    return fault(errors.NotFound)


def bad_request(message: str) -> errors.OCXError:
    return fault(errors.BadRequest, message)


def precondition(message: str | None = None) -> errors.OCXError:
    return fault(errors.PreconditionFailed, message)


def not_allowed(allow: str) -> errors.OCXError:
    return fault(errors.MethodNotAllowed, headers={"Allow": allow})
