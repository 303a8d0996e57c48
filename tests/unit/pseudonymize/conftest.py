"""Fixtures: keys made on the fly, a restricted folder per test, small synthetic identities."""

from __future__ import annotations

import polars as pl
import pytest

from ct_pipeline.pseudonymize.keys import PseudonymKey
from ct_pipeline.pseudonymize.restricted import restricted_connection
from ct_pipeline.pseudonymize.variants import synthetic_assistance, synthetic_screenings


@pytest.fixture(scope="session")
def key() -> PseudonymKey:
    return PseudonymKey(bytes(range(32)), "v1")


@pytest.fixture(scope="session")
def other_key() -> PseudonymKey:
    return PseudonymKey(bytes(range(100, 132)), "v2")


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch):
    monkeypatch.delenv("CT_PSEUDONYM_KEY", raising=False)


@pytest.fixture
def restricted(tmp_path):
    return tmp_path / "restricted"


@pytest.fixture
def con(restricted):
    c = restricted_connection(restricted / "restricted.duckdb")
    yield c
    c.close()


@pytest.fixture(scope="session")
def typed() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(typed_screenings, typed_assistance, truth) for 300 synthetic persons."""
    s, truth = synthetic_screenings(300, seed=7)
    return s, synthetic_assistance(s, seed=7), truth
