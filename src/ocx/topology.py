"""The TOML topology: which landlords run which parts, on which ports.

See ``default_topology.toml`` for the format; ``ocx up --topology FILE`` reads another.
"""

from __future__ import annotations

import importlib
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ocx import parts
from ocx.common.settings import ServingLimits


class HashCostConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    time_cost: int = Field(3, ge=1)
    memory_kib: int = Field(65536, ge=8)
    parallelism: int = Field(4, ge=1)


class ExchangeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    host: str = "127.0.0.1"
    base_port: int = Field(15000, ge=0, le=65000)
    region: str = "RegionOne"
    token_ttl: int = Field(3600, ge=60, le=7 * 86400)
    # Seconds a landlord's process may take to answer on every endpoint (a start, a restart)
    # before `ocx up` gives up on it; `--start-timeout` overrides it.
    start_timeout: float = Field(120.0, ge=1, le=3600)
    password_hash: HashCostConfig = HashCostConfig()
    serving: ServingLimits = ServingLimits()


class MarketConfig(BaseModel):
    """Where a landlord sells, and whether its parts admit subscribers only.

    ``exchange`` names the landlord of this topology that runs the exchange part (its name is
    the audience of the landlord's statements); ``url`` reaches an exchange elsewhere (or on
    ephemeral ports). Parts pull the grant feed every ``feed_interval`` seconds and send
    their usage every ``meter_interval``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    exchange: str
    url: str | None = None
    subscribers_only: bool = False
    feed_interval: float = Field(10.0, ge=0.1, le=300)
    meter_interval: float = Field(60.0, ge=0.5, le=3600)


class LandlordConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    parts: tuple[str, ...] = ("identity",)
    # Identity providers (other landlords of this topology) whose users this landlord admits,
    # through K2K SAML and OpenID Connect, with its own default mappings.
    trusts: tuple[str, ...] = ()
    # Users made at this landlord for trying things out (password in secrets.json).
    demo_users: tuple[str, ...] = ()
    # A domain of the landlord's own staff: admin on any of its projects is a landlord admin
    # (Tempest's dynamic admins live there). Only landlord admins can add projects or grants.
    operator_domain: str | None = None
    # What this landlord says about each of its parts, by part name (``[landlords.options.
    # compute]``: its hosts, flavors, quotas). Each part's row names the model that checks it.
    options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # The exchange this landlord sells on: its parts act on the exchange's grants and meter.
    market: MarketConfig | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", value):
            raise ValueError("a landlord name is lowercase letters, digits and '-', up to 31")
        return value

    @field_validator("parts")
    @classmethod
    def _parts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [p for p in value if p not in parts.BY_NAME]
        if unknown:
            raise ValueError(f"unknown parts {unknown}; known: {', '.join(parts.NAMES)}")
        if "identity" not in value:
            raise ValueError("every landlord runs identity")
        return value

    @model_validator(mode="after")
    def _options(self) -> LandlordConfig:
        for part, given in self.options.items():
            if part not in self.parts:
                raise ValueError(f"options for {part!r}, which {self.name} does not run")
            model = part_options(part)
            if model is None:
                raise ValueError(f"the {part} part takes no options")
            try:
                model.model_validate(given)
            except ValidationError as exc:
                raise ValueError(f"options.{part}: {_problems(exc)}") from None
        return self

    def part_options(self, part: str) -> Any:
        """This landlord's options for ``part``, checked by the part's own model."""
        model = part_options(part)
        return None if model is None else model.model_validate(self.options.get(part, {}))


def part_options(part: str) -> type[BaseModel] | None:
    """The model of ``part``'s options, imported from the module its row names."""
    named = parts.spec(part).options
    if named is None:
        return None
    module_name, _, attr = named.partition(":")
    model = getattr(importlib.import_module(module_name), attr)
    assert isinstance(model, type) and issubclass(model, BaseModel)
    return model


class Topology(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    exchange: ExchangeConfig = ExchangeConfig()
    landlords: tuple[LandlordConfig, ...]

    @model_validator(mode="after")
    def _unique(self) -> Topology:
        names = [landlord.name for landlord in self.landlords]
        if len(set(names)) != len(names):
            raise ValueError("landlord names must be unique")
        if not names:
            raise ValueError("a topology needs at least one landlord")
        for landlord in self.landlords:
            unknown = [t for t in landlord.trusts if t not in names or t == landlord.name]
            if unknown:
                raise ValueError(f"{landlord.name} trusts unknown landlords {unknown}")
            self._check_market(landlord)
        return self

    def _check_market(self, landlord: LandlordConfig) -> None:
        market = landlord.market
        if market is None or market.url is not None:
            return
        runs = {lord.name: lord.parts for lord in self.landlords}
        if "exchange" not in runs.get(market.exchange, ()):
            raise ValueError(
                f"{landlord.name} sells on {market.exchange!r}, which is no landlord running "
                "the exchange part (name one, or give market.url)"
            )

    def port(self, index: int, part: str) -> int:
        base = self.exchange.base_port
        return 0 if base == 0 else base + 10 * index + parts.spec(part).port


class TopologyError(ValueError):
    """The topology file cannot be used; the message says where and why."""


def parse(text: str, source: str = "topology") -> Topology:
    try:
        return Topology.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise TopologyError(f"{source} is not valid TOML: {exc}") from exc
    except ValidationError as exc:
        raise TopologyError(f"{source}: {_problems(exc)}") from exc


def _problems(exc: ValidationError) -> str:
    """Each problem as ``where: what``; one about the whole topology has no ``where``."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        what = error["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {what}" if where else what)
    return "; ".join(problems)


def load(path: Path | None) -> Topology:
    if path is None:
        text = resources.files("ocx").joinpath("default_topology.toml").read_text()
        return parse(text, "the default topology")
    return parse(path.read_text(), str(path))


def with_changes(topology: Topology, **exchange: Any) -> Topology:
    """A copy with some exchange settings replaced (tests use ephemeral ports, cheap hashes)."""
    return topology.model_copy(update={"exchange": topology.exchange.model_copy(update=exchange)})
