from __future__ import annotations

import duckdb
import pytest

from ct_pipeline.settings import get_settings
from ct_pipeline.warehouse import connect_build


@pytest.fixture
def settings(tmp_path):
    return get_settings(raw_exports_dir=tmp_path / "raw_exports", warehouse_dir=tmp_path / "warehouse",
                        key_file=tmp_path / "no.key")


@pytest.fixture
def con(settings) -> duckdb.DuckDBPyConnection:
    c = connect_build(settings)
    yield c
    c.close()
