"""schemathesis against the exchange's /openapi.json: no input gets a 5xx.

A short run by default (``OCX_SCHEMATHESIS_EXAMPLES`` examples per operation, default 15);
set it higher for a long run. Requests carry a customer's token, so the authenticated paths
are explored too, with an enrolled landlord and a listed offering in the catalogue.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from ocx.common.db import sqlite_url
from ocx.runner import BackgroundExchange
from tests.exchange.helpers import Market, start_market

EXAMPLES = int(os.environ.get("OCX_SCHEMATHESIS_EXAMPLES", "15"))


@pytest.fixture(scope="module")
def live_market(
    landlords: BackgroundExchange, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Market, str]]:
    base = landlords.database_url  # type: ignore[attr-defined]
    url = base or sqlite_url(Path(tmp_path_factory.mktemp("fuzz")) / "exchange.db")
    service, (public, stop) = landlords.call(start_market(landlords.exchange, url))
    market = Market(landlords.exchange, landlords, service, public)
    market.swift_offering(market.enrol("stor"))
    token = market.customer("fuzzer").token
    assert token is not None
    try:
        yield market, token
    finally:
        market.http.close()
        landlords.call(stop())
        if base is not None:
            from tests.exchange.conftest import _drop_schema

            _drop_schema(base, service.db.schema)


def test_no_input_gets_a_server_error(live_market: tuple[Market, str]) -> None:
    market, token = live_market
    api = schemathesis.openapi.from_url(market.url + "/openapi.json")
    failures: list[str] = []
    statuses: dict[int, int] = {}
    operations = 0
    for found in api.get_all_operations():
        operation = found.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def explore(case: Any) -> None:
            response = case.call(headers={"X-Auth-Token": token}, timeout=30)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code >= 500:
                failures.append(f"{case.as_curl_command()} -> {response.status_code}")

        explore()
    assert operations >= 30
    assert sum(statuses.values()) >= operations * 3, statuses
    print(f"schemathesis: {operations} operations, responses by status {sorted(statuses.items())}")
    assert failures == [], statuses
