"""Fixtures shared by the analysis, disclosure, chart and report tests (imported there)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.unit.analysis.star import built_warehouse_file


@pytest.fixture(scope="session")
def warehouse_file() -> Path:
    """A built database (star schema, marts, pub tables; k = 11), built once per test process."""
    return Path(built_warehouse_file())


@pytest.fixture
def built(warehouse_file: Path, tmp_path: Path):
    """A private copy of the built database, open read-write (tests may change it)."""
    copy = tmp_path / "build.duckdb"
    shutil.copy(warehouse_file, copy)
    con = duckdb.connect(str(copy))
    yield con
    con.close()
