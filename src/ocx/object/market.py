"""Object storage's side of the exchange: what each account holds, metered.

Each account reports ``object.gib_hours`` (the bytes of its containers, in GiB, per hour).
Admission by grant is the common gate's. A plan's quotas are not applied here yet: the
object store's account quotas (``X-Account-Meta-Quota-Bytes``) arrived after this hook, and
setting them from a grant is not written.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from ocx.common import metering
from ocx.common.market import Gate
from ocx.object.models import Container
from ocx.object.service import ObjectService
from ocx.swift import names

GIB = Decimal(1024**3)


def gate(svc: ObjectService, gate: Gate) -> metering.Meter:
    """A meter of ``svc``'s accounts on ``gate``'s rounds."""

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

    return metering.attach(gate, "object", holdings)
