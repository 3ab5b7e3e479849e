"""The combined account, ``/v1/AUTH_<home project>``: every landlord at once.

Partial failure, per operation:

- HEAD and GET answer with the landlords that answered (counts summed, listings merged) and
  name the others in ``X-OCX-Missing-Landlords`` (and the log); only when none answers: 503.
- POST (metadata, temp-URL keys, ``X-Account-Meta-Ocx-Placement``) goes to every landlord and
  succeeds only if all took it: a landlord's refusal is passed on, a silent landlord is a 503
  that names it (the others did take it; the same POST again is harmless).
- bulk delete is not offered (``/info`` does not advertise it): 501.
"""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import quote, urlencode

from starlette.responses import Response

from ocx.common import errors
from ocx.proxy import listing
from ocx.proxy.api.context import Call
from ocx.proxy.api.relay import replies
from ocx.proxy.errors import Unreachable, described
from ocx.proxy.fanout import Results
from ocx.proxy.landlords import Candidate
from ocx.proxy.session import Session
from ocx.proxy.tokens import Backend
from ocx.proxy.wire import Response as Answer
from ocx.swift import listing as swift_listing
from ocx.swift.faults import not_allowed
from ocx.swift.limits import Limits

LISTING_LIMIT = Limits().account_listing_limit
PLAIN = "text/plain; charset=utf-8"
Answers = list[tuple[Candidate, Answer]]
Listed = tuple[Answer, list[listing.Row]]
T = TypeVar("T")


async def head(call: Call) -> Response:
    results = await call.session.fan_out(lambda b: call.session.call(b, "HEAD"), "account HEAD")
    answers = _usable(results)
    return replies(204, _headers(answers, results.missing_header), b"", PLAIN)


async def get(call: Call) -> Response:
    query = swift_listing.parse_query(call.query, LISTING_LIMIT)
    ranks = await call.session.ranks()
    marker = listing.parse_cut(query.marker, ranks)
    end = listing.parse_cut(query.end_marker, ranks)
    params = listing.upstream_params(query, marker, end)
    wire = urlencode(params, quote_via=quote).encode()
    listed = await call.session.fan_out(lambda b: _page(call.session, b, wire), "account GET")
    _none_answered(listed)
    pages = [listing.Page(c.name, c.rank, rows) for c, (_, rows) in listed.answers]
    rows = listing.merge(pages, query, marker, end)
    answers = [(c, resp) for c, (resp, _) in listed.answers]
    headers = _headers(answers, listed.missing_header)
    fmt = swift_listing.choose_format(call.query, call.headers.get("accept"))
    if not rows and fmt == "plain":
        return replies(204, headers, b"", swift_listing.FORMATS[fmt])
    body = listing.render(rows, fmt, "account", call.account)
    return replies(200, headers, body, swift_listing.FORMATS[fmt])


async def post(call: Call) -> Response:
    if "bulk-delete" in call.query:
        raise errors.NotImplementedYet("Bulk delete is not offered through the proxy.")
    sent = call.headers.items()
    results = await call.session.fan_out(
        lambda b: call.session.call(b, "POST", headers=sent), "account POST"
    )
    refused = [r for _, r in results.answers if not 200 <= r.status_code < 300]
    if refused:
        first = refused[0]
        ctype = first.headers.get("content-type") or PLAIN
        return replies(first.status_code, {}, first.content, ctype)
    if results.missing:
        took = ", ".join(c.name for c, _ in results.answers) or "no landlord"
        raise errors.ServiceUnavailable(
            f"The account was updated at {took} but not at {described(results.missing)}; "
            "send the same request again when they are back."
        )
    return replies(204, _headers(results.answers, {}), b"", PLAIN)


async def put(call: Call) -> Response:
    raise not_allowed("HEAD, GET, POST")


async def delete(call: Call) -> Response:
    raise not_allowed("HEAD, GET, POST")


async def _page(session: Session, backend: Backend, query: bytes) -> Listed:
    """One landlord's page, parsed here so that garbage counts as that landlord missing."""
    resp = await session.call(backend, "GET", query=query)
    if not 200 <= resp.status_code < 300:
        raise Unreachable(backend.landlord, f"answered {resp.status_code}")
    if resp.status_code == 204 or not resp.content:
        return resp, []
    return resp, listing.rows_from_json(resp.json())


def _usable(results: Results[Answer]) -> Answers:
    """The 2xx answers; any other status counts the landlord as missing. 503 if none is left."""
    usable: Answers = []
    for candidate, resp in results.answers:
        if 200 <= resp.status_code < 300:
            usable.append((candidate, resp))
        else:
            results.missing.append(Unreachable(candidate.name, f"answered {resp.status_code}"))
    _none_answered(Results(usable, results.missing))
    return usable


def _none_answered(results: Results[T]) -> None:
    if not results.answers and results.missing:
        raise errors.ServiceUnavailable(
            f"No landlord of this account answered: {described(results.missing)}."
        )


def _headers(answers: Answers, missing: dict[str, str]) -> dict[str, str]:
    each = [{k.lower(): v for k, v in r.headers.items()} for _, r in answers]
    out = listing.account_headers(each)
    out["X-OCX-Landlords"] = ", ".join(c.name for c, _ in answers)
    out.update(missing)
    return out
