"""Request bodies of the exchange API (pydantic: they are also the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ocx.exchange.signing import MAX_STATEMENT_BYTES


class Statement(BaseModel):
    """A compact JWS signed by a landlord's identity (or, for grants, by the exchange)."""

    model_config = ConfigDict(extra="forbid")
    statement: str = Field(min_length=1, max_length=MAX_STATEMENT_BYTES)


class ProbeCredentialIn(BaseModel):
    """An application credential at the landlord's identity, for the conformance gate."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=64, pattern=r"^[0-9a-zA-Z_-]+$")
    secret: str = Field(min_length=1, max_length=256)


class SubscribeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    offering_id: str = Field(min_length=1, max_length=64)
    plan: str = Field("default", min_length=1, max_length=64)


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    offer_id: str = Field(min_length=1, max_length=64)
    amounts: dict[str, int]
    start: float | None = Field(None, gt=0, lt=1e11)
    end: float | None = Field(None, gt=0, lt=1e11)


class ExtendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    end: float = Field(gt=0, lt=1e11)


class SubleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=128)
    capacity: dict[str, int]
    prices: dict[str, str]
    start: float | None = Field(None, gt=0, lt=1e11)
    end: float = Field(gt=0, lt=1e11)


class BudgetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    monthly_cap: str = Field(min_length=1, max_length=32)
    refuse_over: bool = False


class IssueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer: str = Field(min_length=1, max_length=64)


class NeedIn(BaseModel):
    """What a broker is asked to find."""

    model_config = ConfigDict(extra="forbid")
    service_type: str = Field(min_length=1, max_length=64)
    amount: str = Field("1", max_length=32)
    metric: str | None = Field(None, max_length=128)
    hours: str = Field("720", max_length=32)
    max_price: str | None = Field(None, max_length=32)
    regions: list[str] = Field(default_factory=list, max_length=50)
    capabilities: list[str] = Field(default_factory=list, max_length=32)
    sla_floor: str | None = Field(None, max_length=32)
    distinct_owners: int = Field(1, ge=1, le=20)
    policy: str = Field("cheapest", max_length=32)

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump()
