"""Object storage's side of the exchange: account quotas from grants, and what each account
holds, metered.

A plan's ``gigabytes`` becomes the customer's account quota (``X-Account-Meta-Quota-Bytes``,
in bytes: the sum over the customer's live grants), which uploads are checked against as with
Swift's account_quotas; when no live grant names ``gigabytes`` the quota is removed (new use
is then refused by the gate anyway, and what is stored stays). Each account reports
``object.gib_hours`` (the bytes of its containers, in GiB, per hour).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from ocx.common import metering
from ocx.common.market import Gate, Grant
from ocx.object.models import Container
from ocx.object.service import ObjectService
from ocx.swift import names

GIB = Decimal(1024**3)


def gate(svc: ObjectService, gate: Gate) -> metering.Meter:
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
        return found

    gate.set_quota_hook(apply)
    return metering.attach(gate, "object", holdings)
