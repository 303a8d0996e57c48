from __future__ import annotations

import duckdb
import pytest

from ct_pipeline.settings import get_settings
from tests.fixtures.bad_inputs import builders as b


@pytest.fixture
def exports(tmp_path):
    root = tmp_path / "raw_exports"
    root.mkdir()
    return root


@pytest.fixture
def settings(tmp_path, exports):
    return get_settings(raw_exports_dir=exports, warehouse_dir=tmp_path / "warehouse", key_file=tmp_path / "k")


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


@pytest.fixture
def good_files(exports):
    """One good file of every era (the control group: they must load whatever else is dropped)."""
    return [
        b.write_legacy(b.export_path(exports, "good_scr.csv", mission="MD-CHI"), "screening",
                       [b.legacy_screening(i) for i in range(1, 6)]),
        b.write_legacy(b.export_path(exports, "good_ast.csv", mission="MD-CHI"), "assistance",
                       [b.legacy_assistance(i) for i in range(1, 6)]),
        b.write_mimosa(b.export_path(exports, "good.xlsx", mission="NA-WIN"),
                       [b.mimosa_screening(i) for i in range(1, 4)], [b.mimosa_assistance(1)]),
        b.write_jsonl(b.export_path(exports, "good.jsonl", mission="UA-KYIV"), [b.jsonl_case(i) for i in range(1, 4)]),
    ]
