"""Object storage's side of the exchange: account quotas from grants, and what each account
holds, metered.

A plan's ``gigabytes`` becomes the customer's account quota (``X-Account-Meta-Quota-Bytes``,
in bytes: the sum over the customer's live grants), which uploads are checked against as with
Swift's account_quotas; when no live grant names ``gigabytes`` the quota is removed (new use
is then refused by the gate anyway, and what is stored stays). Each account reports
``object.gib_hours`` (the bytes of its containers, in GiB, per hour), and what it used since
the last sample: ``requests`` (every request to the account) and ``gib_out`` (the response
bytes sent, in GiB), counted by :class:`Traffic` in front of the object API. The counts live
in memory: those of a sample whose customer has no live grant pricing them are dropped; a
part that stops samples and sends them first (:meth:`ocx.common.metering.Meter.close`), and
only a process killed outright loses its open interval's counts (under-billing, never double
billing).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ocx.common import metering
from ocx.common.market import Gate, Grant
from ocx.common.serving import SENDFILE
from ocx.object.models import Container
from ocx.object.service import ObjectService
from ocx.swift import names

GIB = Decimal(1024**3)


class Traffic:
    """ASGI middleware: requests and response bytes per account since the last :meth:`drain`."""

    def __init__(self, app: ASGIApp | None = None):
        self.app = app
        self.counts: dict[str, list[int]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "Traffic wraps no app"
        parts = scope["path"].split("/", 3) if scope["type"] == "http" else []
        if len(parts) < 3 or parts[1] != "v1" or not parts[2].startswith(names.RESELLER_PREFIX):
            await self.app(scope, receive, send)
            return
        account = parts[2]
        self.counts.setdefault(account, [0, 0])[0] += 1

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.body":
                self.counts.setdefault(account, [0, 0])[1] += len(message.get("body", b""))
            elif message["type"] == SENDFILE:  # bytes the server sends from a file
                self.counts.setdefault(account, [0, 0])[1] += message["count"]
            await send(message)

        await self.app(scope, receive, counting)

    @property
    def state(self) -> Any:
        """The wrapped app's state (servers read the fault family there)."""
        return getattr(self.app, "state", None)

    def drain(self) -> dict[str, list[int]]:
        counts, self.counts = self.counts, {}
        return counts


def gate(svc: ObjectService, gate: Gate, traffic: Traffic | None = None) -> metering.Meter:
    """Hook ``svc`` to ``gate``: account quotas from grants, and a meter on its rounds."""

    async def apply(project_id: str, grants: list[Grant]) -> None:
        named = [g.quotas["gigabytes"] for g in grants if "gigabytes" in g.quotas]
        account = names.RESELLER_PREFIX + project_id
        found = await svc.store.account(account)
        meta = dict(found.meta) if found else {}
        if named:
            meta["quota-bytes"] = str(sum(named) * 1024**3)
        elif "quota-bytes" not in meta:
            return
        else:
            del meta["quota-bytes"]
        await svc.store.set_account_meta(account, meta)

    async def holdings() -> list[metering.Holding]:
        query = select(Container.account, func.sum(Container.bytes_used)).group_by(
            Container.account
        )
        async with svc.db.session() as session:
            rows = (await session.execute(query)).all()
        found = []
        for account, used in rows:
            project_id = account.removeprefix(names.RESELLER_PREFIX)
            if account.startswith(names.RESELLER_PREFIX) and used:
                amount = Decimal(int(used)) / GIB
                found.append(
                    metering.Holding(project_id, account, "account", "object.gib_hours",
                                     "GiB-hour", amount)
                )  # fmt: skip
        for account, (requests, sent) in (traffic.drain() if traffic else {}).items():
            project_id = account.removeprefix(names.RESELLER_PREFIX)
            found.append(
                metering.Holding(project_id, account, "account", "requests", "request",
                                 Decimal(requests), per_hour=False)
            )  # fmt: skip
            if sent:
                found.append(
                    metering.Holding(project_id, account, "account", "gib_out", "GiB",
                                     Decimal(sent) / GIB, per_hour=False)
                )  # fmt: skip
        return found

    gate.set_quota_hook(apply)
    return metering.attach(gate, "object", holdings)
