"""Tempest's identity tests against a live exchange (slow: installs and runs Tempest).

Runs only with ``OCX_TEMPEST=1`` (``make interop-identity`` runs the whole suite instead);
``OCX_TEMPEST_REGEX`` chooses the tests, by default a quick subset that must all pass.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.interop.tempest import SUITES, run_suite, tempest_exchange

QUICK = (
    r"^tempest\.api\.identity\.(v3\.test_(tokens|api_discovery|catalog)"
    r"|admin\.v3\.test_(regions|services|domains)\.)"
)

pytestmark = [
    pytest.mark.tempest,
    pytest.mark.skipif(not os.environ.get("OCX_TEMPEST"), reason="set OCX_TEMPEST=1 to run"),
]


def test_tempest_identity_subset(tmp_path: Path) -> None:
    regex = os.environ.get("OCX_TEMPEST_REGEX", QUICK)
    with tempest_exchange(tmp_path / "data") as exchange:
        counts = run_suite(SUITES["identity"], exchange, tmp_path / "ws", regex=regex)
    print(counts.line("tempest identity subset"))
    assert counts.passed > 0
    assert counts.failures == [], (tmp_path / "ws" / "tempest-run.log").read_text()[-5000:]
