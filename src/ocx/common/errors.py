"""One error tree for every OCX part, rendered per API family in one place.

    OCXError                      500  (never raised bare; the catch-all for bugs)
    ├── BadRequest                400
    │   └── ValidationError       400  (malformed JSON, unknown or missing fields)
    ├── Unauthorized              401
    ├── Forbidden                 403
    ├── NotFound                  404
    ├── MethodNotAllowed          405
    ├── RequestTimeout            408
    ├── Conflict                  409
    ├── LengthRequired            411
    ├── PreconditionFailed        412
    ├── RequestEntityTooLarge     413
    ├── RangeNotSatisfiable       416
    ├── UnprocessableEntity       422
    ├── ClientDisconnected        499  (the client went away mid-request; nobody reads it)
    ├── NotImplementedYet         501
    └── ServiceUnavailable        503

Handlers only ``raise``; :func:`render` turns an error into the body each API family
expects: Keystone ``{"error": {"code", "title", "message"}}``, Nova/Cinder
``{"itemNotFound": {"code", "message"}}``, Swift a small HTML page (what the client sent,
quoted in a message, is escaped there).
"""

from __future__ import annotations

import enum
import html
import json
from collections.abc import Mapping


class Family(enum.Enum):
    KEYSTONE = "keystone"
    SWIFT = "swift"
    NOVA = "nova"
    OCX = "ocx"


class OCXError(Exception):
    status = 500
    title = "Internal Server Error"
    nova_name = "computeFault"

    def __init__(self, message: str | None = None, *, headers: Mapping[str, str] | None = None):
        super().__init__(message or self.title)
        self.message = message or self.title
        self.headers = dict(headers or {})


class BadRequest(OCXError):
    status, title, nova_name = 400, "Bad Request", "badRequest"


class ValidationError(BadRequest):
    pass


class Unauthorized(OCXError):
    status, title, nova_name = 401, "Unauthorized", "unauthorized"


class Forbidden(OCXError):
    status, title, nova_name = 403, "Forbidden", "forbidden"


class NotFound(OCXError):
    status, title, nova_name = 404, "Not Found", "itemNotFound"


class MethodNotAllowed(OCXError):
    status, title, nova_name = 405, "Method Not Allowed", "badMethod"


class RequestTimeout(OCXError):
    status, title, nova_name = 408, "Request Timeout", "requestTimeout"


class Conflict(OCXError):
    status, title, nova_name = 409, "Conflict", "conflictingRequest"


class LengthRequired(OCXError):
    status, title, nova_name = 411, "Length Required", "badRequest"


class PreconditionFailed(OCXError):
    status, title, nova_name = 412, "Precondition Failed", "badRequest"


class RequestEntityTooLarge(OCXError):
    status, title, nova_name = 413, "Request Entity Too Large", "overLimit"


class RangeNotSatisfiable(OCXError):
    status, title, nova_name = 416, "Requested Range Not Satisfiable", "badRequest"


class UnprocessableEntity(OCXError):
    status, title, nova_name = 422, "Unprocessable Entity", "badRequest"


class ClientDisconnected(OCXError):
    status, title, nova_name = 499, "Client Disconnect", "badRequest"


class NotImplementedYet(OCXError):
    status, title, nova_name = 501, "Not Implemented", "notImplemented"


class ServiceUnavailable(OCXError):
    status, title, nova_name = 503, "Service Unavailable", "serviceUnavailable"


_BY_STATUS: dict[int, type[OCXError]] = {
    cls.status: cls
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        RequestTimeout,
        Conflict,
        LengthRequired,
        PreconditionFailed,
        RequestEntityTooLarge,
        RangeNotSatisfiable,
        UnprocessableEntity,
        ClientDisconnected,
        NotImplementedYet,
        ServiceUnavailable,
    )
}


def from_status(status: int, message: str | None = None) -> OCXError:
    """The error for an HTTP status raised by the framework (unknown route, wrong method)."""
    cls = _BY_STATUS.get(status, OCXError)
    err = cls(message)
    err.status = status
    return err


def render(error: OCXError, family: Family) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of ``error`` in the fault format of ``family``."""
    headers = dict(error.headers)
    if family is Family.SWIFT:
        headers["Content-Type"] = "text/html; charset=UTF-8"
        body = (
            f"<html><h1>{error.title}</h1><p>{html.escape(error.message, quote=False)}</p></html>"
        )
        return error.status, headers, body.encode()
    headers["Content-Type"] = "application/json"
    doc: dict[str, object]
    if family is Family.NOVA:
        doc = {error.nova_name: {"code": error.status, "message": error.message}}
    else:
        doc = {"error": {"code": error.status, "title": error.title, "message": error.message}}
    return error.status, headers, json.dumps(doc).encode()
