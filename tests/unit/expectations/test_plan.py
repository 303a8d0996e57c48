"""Suite plans from the registry, tolerances.yaml and rules.yaml — no Great Expectations here."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from ct_pipeline.expectations import default_tables, load_rules, load_tolerances
from ct_pipeline.expectations.bench import create_table
from ct_pipeline.expectations.plan import (
    FRESHNESS_SUITE,
    NOT_IN_LIST,
    code_enum_sql,
    plan_freshness,
    plan_table,
)
from ct_pipeline.metadata import load_registry

TODAY = dt.date(2026, 1, 31)


@pytest.fixture(scope="module")
def empty_warehouse():
    """Every analyst-zone table of the registry, empty, created from the registry DDL."""
    reg = load_registry()
    con = duckdb.connect()
    for t in default_tables(reg):
        create_table(con, t)
    yield con
    con.close()


def _plan(con, table, **kw):
    return plan_table(con, table, registry=load_registry(), tolerances=kw.get("tolerances") or load_tolerances(),
                      rules=load_rules(), today=TODAY)


def test_default_tables_are_core_marts_and_ledger():
    reg = load_registry()
    tables = default_tables(reg)
    assert "ingestion_ledger" in tables
    assert all(reg.tables[t].zone != "restricted" for t in tables)
    assert {reg.tables[t].layer for t in tables} <= {"core", "mart", "ledger"}
    assert {t for t in reg.tables_in(layer="core") if reg.tables[t].zone != "restricted"} <= set(tables)
    assert set(reg.tables_in(layer="mart")) <= set(tables)


def test_every_table_plans_and_its_query_runs(empty_warehouse):
    """For each core table and mart of the registry: a suite whose every expectation reads a
    column of the frame, and a query that DuckDB accepts — no rule silently dropped."""
    con = empty_warehouse
    for table in default_tables(load_registry()):
        plan = _plan(con, table)
        assert plan.skip is None, (table, plan.skip)
        assert not plan.missing_columns, table
        assert not [n for n in plan.notes if "skipped" in n], (table, plan.notes)
        frame_cols = {d[0] for d in con.sql(plan.sql).description}
        for c in plan.checks:
            for col in c.kwargs.get("column_list", []) + ([c.kwargs["column"]] if "column" in c.kwargs else []):
                assert col in frame_cols, (table, c)


def test_registry_rules_are_generated(empty_warehouse):
    reg = load_registry()
    plan = _plan(empty_warehouse, "fct_cases")
    kinds = {(c.snake, c.column) for c in plan.checks}
    assert ("expect_table_row_count_to_be_between", None) in kinds
    assert ("expect_column_values_to_be_unique", "case_token") in kinds
    assert ("expect_column_values_to_not_be_null", "case_token") in kinds
    assert ("expect_column_values_to_be_in_set", "sex") in kinds
    assert ("expect_column_values_to_be_in_set", "citizenship") in kinds
    assert ("expect_column_values_to_be_between", "age_at_identification") in kinds
    assert ("expect_column_values_to_be_in_set", "exploitation_types__codes_known") in kinds
    assert ("expect_column_mean_to_be_between", "sex__is_female") in kinds
    assert ("expect_column_mean_to_be_between", "age_at_identification") in kinds
    assert any(c.origin == "rule" for c in plan.checks)
    citizenship = next(c for c in plan.checks if c.column == "citizenship")
    assert set(citizenship.kwargs["value_set"]) == {row["alpha2"] for row in reg.countries}
    assert "NA" in citizenship.kwargs["value_set"]  # Namibia, never read as missing
    rng = next(c for c in plan.checks if c.column == "age_at_identification" and c.snake.endswith("between")
               and "mean" not in c.snake)
    f = reg.fields["age_at_identification"]
    assert (rng.kwargs["min_value"], rng.kwargs["max_value"]) == (f.min, f.max)


def test_compound_key_uses_compound_uniqueness(empty_warehouse):
    reg = load_registry()
    table = next(t for t in default_tables(reg) if len(reg.tables[t].primary_key) > 1)
    plan = _plan(empty_warehouse, table)
    compound = [c for c in plan.checks if c.snake == "expect_compound_columns_to_be_unique"]
    assert compound and compound[0].kwargs["column_list"] == reg.tables[table].primary_key


def test_text_and_keys_never_reach_the_frame_as_text(empty_warehouse):
    """Tokens become numbers and other text columns presence markers in DuckDB; only codes,
    numbers, booleans remain."""
    con = empty_warehouse
    con.execute("CREATE TEMP TABLE probe AS SELECT * FROM fct_cases LIMIT 0")
    plan = _plan(con, "fct_cases")
    types = {d[0]: str(d[1]) for d in con.sql(plan.sql).description}
    assert types["case_token"].upper() in ("BIGINT", "INT64")
    assert not [c for c, t in types.items() if t.upper() == "VARCHAR"], types


def test_code_outside_the_list_never_leaves_duckdb():
    con = duckdb.connect()
    con.execute("CREATE TABLE t (c VARCHAR)")
    con.execute("INSERT INTO t VALUES ('female'), ('Maria Lopez'), (NULL)")
    got = [r[0] for r in con.sql(f"SELECT {code_enum_sql('c', {'female', 'male'})} FROM t").fetchall()]
    assert got == ["female", NOT_IN_LIST, None]


def test_missing_table_and_restricted_table_are_skipped(empty_warehouse):
    assert "does not exist" in _plan(duckdb.connect(), "fct_cases").skip
    assert "restricted" in _plan(empty_warehouse, "raw_screenings").skip
    assert "not in the registry" in _plan(empty_warehouse, "mart_nothing__here").skip


def test_missing_column_and_missing_rule_column_are_noted():
    con = duckdb.connect()
    con.execute("CREATE TABLE fct_cases (case_token VARCHAR, sex VARCHAR)")
    plan = _plan(con, "fct_cases")
    assert "mission_code" in plan.missing_columns
    assert any("rule registration_not_in_future skipped" in n for n in plan.notes)
    assert any("mean of age_at_identification" in n for n in plan.notes)


def test_large_table_is_sampled_but_key_problems_are_kept():
    from ct_pipeline.expectations.bench import build_fct_cases

    con = duckdb.connect()
    build_fct_cases(con, 300)
    con.execute("INSERT INTO fct_cases SELECT * FROM fct_cases WHERE source_row = 2 AND mission_code = 'M01-X'")
    tol = load_tolerances()
    tol = tol.model_copy(update={"performance": tol.performance.model_copy(
        update={"max_rows_full": 100, "sample_rows": 50})})
    plan = _plan(con, "fct_cases", tolerances=tol)
    assert plan.sampled and plan.rows_in_table == 301
    frame = con.sql(plan.sql).df()
    assert len(frame) == 52  # the sample + both rows of the duplicated key
    assert frame["case_token"].duplicated().sum() == 1


def test_freshness_plan(empty_warehouse):
    con = duckdb.connect()
    create_table(con, "ingestion_ledger", constraints=False)
    rows = [
        ("A-FRESH/2026-01-20/a.csv", "A-FRESH", "2026-01-20", "loaded"),
        ("B-STALE/2025-06-01/b.csv", "B-STALE", "2025-06-01", "loaded"),
        ("B-STALE/2026-01-25/b2.csv", "B-STALE", "2026-01-25", "refused"),  # refused: brings no data
        ("C-REFUSED/2026-01-10/c.csv", "C-REFUSED", "2026-01-10", "refused"),
        ("D-GONE/2019-01-01/d.csv", "D-GONE", "2019-01-01", "loaded"),  # inactive: ignored
        ("E-FUTURE/2026-03-01/e.csv", "E-FUTURE", "2026-03-01", "loaded"),  # after `today`: ignored
    ]
    for f, m, d, s in rows:
        con.execute("INSERT INTO ingestion_ledger (source_file, mission_code, received_date, file_status) "
                    "VALUES (?, ?, ?, ?)", [f, m, d, s])
    plan = plan_freshness(con, registry=load_registry(), tolerances=load_tolerances(), today=TODAY)
    assert plan.suite == FRESHNESS_SUITE
    assert plan.details["active_missions"] == 3
    stale = {s["mission_code"]: s["days_since_newest_export"] for s in plan.details["stale_missions"]}
    assert stale == {"B-STALE": (TODAY - dt.date(2025, 6, 1)).days, "C-REFUSED": None}
    assert sorted(con.sql(plan.sql).df()["days_since_newest_export"].fillna(-1).tolist()) == [-1, 11, 244]


def test_config_names_only_registry_tables():
    reg = load_registry()
    unknown = [t for t in load_tolerances().tables if t not in reg.tables]
    unknown += [t for r in load_rules().rules for t in r.tables if t not in reg.tables]
    assert not unknown, f"tolerances.yaml / rules.yaml name tables not in the registry: {unknown}"
