"""Great Expectations suites on a real DuckDB database with planted bad rows: the failures are
found and counted, no planted value leaks into the results or the Data Docs, and GE writes only
into the folders it is given."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import duckdb
import pytest

from ct_pipeline.expectations import FRESHNESS_SUITE, TableResult, load_tolerances, run_expectations
from ct_pipeline.expectations.bench import create_table, fill_fct_cases
from ct_pipeline.expectations.results import FORBIDDEN_KEYS

TODAY = dt.date(2026, 1, 31)
REPO = Path(__file__).resolve().parents[3]

# Planted values: each must be caught (counted) and must never be shown.
BAD_SEX = "PLANTED-SEX-Quetzal"
BAD_COUNTRY = "PLANTED-COUNTRY-Zanzibar"
BAD_EXPLOITATION = "PLANTED-EXPLOITATION-Orchid"
DUP_TOKEN = "PLANTED-TOKEN-Mariposa"
BAD_AGE = 187
PLANTED = [BAD_SEX, BAD_COUNTRY, BAD_EXPLOITATION, DUP_TOKEN, "PLANTED"]


def _build(con: duckdb.DuckDBPyConnection) -> None:
    create_table(con, "fct_cases", constraints=False)
    fill_fct_cases(con, 400)
    con.execute(f"UPDATE fct_cases SET sex = '{BAD_SEX}' WHERE source_row = 1 AND mission_code IN ('M01-X', 'M02-X')")
    con.execute(f"UPDATE fct_cases SET citizenship = '{BAD_COUNTRY}' WHERE source_row = 3 AND mission_code = 'M05-X'")
    con.execute(f"UPDATE fct_cases SET exploitation_types = ['forced_labour', '{BAD_EXPLOITATION}'] "
                "WHERE source_row = 2 AND mission_code = 'M07-X'")
    con.execute(f"UPDATE fct_cases SET case_token = '{DUP_TOKEN}' WHERE source_row = 4 AND mission_code IN ('M08-X', 'M09-X')")
    con.execute(f"UPDATE fct_cases SET age_at_identification = {BAD_AGE}, age_band = '48+' "
                "WHERE source_row = 2 AND mission_code = 'M11-X'")
    con.execute("UPDATE fct_cases SET mission_code = NULL WHERE source_row = 4 AND mission_code = 'M12-X'")
    create_table(con, "ingestion_ledger", constraints=False)
    con.execute("INSERT INTO ingestion_ledger (source_file, mission_code, received_date, era, source_sha256, "
                "file_status, rows_read, rows_staged, rows_quarantined, rows_duplicate, ingested_at) VALUES "
                "('A/2026-01-20/a.csv', 'A', DATE '2026-01-20', 'ctm_legacy', 'x', 'loaded', 3, 3, 0, 0, now()),"
                "('B/2025-05-01/b.csv', 'B', DATE '2025-05-01', 'ctm_legacy', 'y', 'loaded', 2, 1, 1, 0, now())")
    create_table(con, "dim_countries")  # exists but empty


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One run over a database with planted rows (GE's import is slow: run it once)."""
    tmp = tmp_path_factory.mktemp("ge")
    cwd = tmp / "cwd"
    cwd.mkdir()
    before_repo = set(os.listdir(REPO))
    old = os.getcwd()
    os.chdir(cwd)  # GE must not write into the working directory either
    try:
        con = duckdb.connect(str(tmp / "wh.duckdb"))
        _build(con)
        docs = tmp / "reports" / "research_unit" / "data_docs"
        store = tmp / "restricted" / "gx_store"
        results = run_expectations(con, ["fct_cases", "ingestion_ledger", "mart_cases__yearly", "dim_countries"],
                                   docs_dir=docs, store_dir=store, today=TODAY)
    finally:
        os.chdir(old)
    return {"results": results, "docs": docs, "store": store, "cwd": cwd, "tmp": tmp, "con": con,
            "before_repo": before_repo}


def test_planted_problems_are_found_and_counted(run):
    r: TableResult = run["results"]["fct_cases"]
    assert not r.success and not r.skipped
    failed = {(e.expectation, e.column): e.unexpected_count for e in r.failed}
    assert failed[("expect_column_values_to_be_in_set", "sex")] == 2
    assert failed[("expect_column_values_to_be_in_set", "citizenship")] == 1
    assert failed[("expect_column_values_to_be_in_set", "exploitation_types__codes_known")] == 1
    assert failed[("expect_column_values_to_be_unique", "case_token")] == 2
    assert failed[("expect_column_values_to_be_between", "age_at_identification")] == 1
    assert failed[("expect_column_values_to_not_be_null", "mission_code")] == 1
    passed = {(e.expectation, e.column) for e in r.expectations if e.success}
    assert ("expect_column_values_to_be_in_set", "victim_status") in passed
    assert ("expect_table_row_count_to_be_between", None) in passed
    assert r.rows_in_table == r.rows_validated == 400 and not r.sampled
    share = next(e for e in r.expectations if e.column == "sex__is_female")
    assert share.success and 0.3 < share.observed < 0.95  # an aggregate: allowed


def test_results_never_carry_values(run):
    for r in run["results"].values():
        text = json.dumps(r.to_metadata(), default=str) + repr(r)
        for v in PLANTED:
            assert v not in text, (r.suite, v)
        content = json.dumps([e.to_dict() for e in r.expectations] + r.notes + [r.details], default=str)
        assert not re.search(rf"(?<![\w.]){BAD_AGE}(?![\w.])", content), r.suite
        for key in FORBIDDEN_KEYS - {"details"}:  # TableResult.details is ours (freshness)
            assert key not in text


def test_data_docs_are_built_and_carry_no_values(run):
    docs: Path = run["docs"]
    index = docs / "index.html"
    assert index.exists()
    assert run["results"]["fct_cases"].data_docs == str(index.resolve())
    pages = list(docs.rglob("*.html"))
    assert any("validations" in p.parts and "fct_cases" in p.parts for p in pages)
    assert any(p.name == "fct_cases.html" and "expectations" in p.parts for p in pages)
    for page in pages:  # no beacon to GE's servers carrying the context id
        text = page.read_text(encoding="utf-8")
        assert "dataContextId" not in text and "amazonaws" not in text, page
    everything = list(docs.rglob("*")) + list(run["store"].rglob("*"))
    for p in everything:
        if p.is_file() and p.suffix in (".html", ".json", ".js", ""):
            text = p.read_text(encoding="utf-8", errors="replace")
            for v in PLANTED:
                assert v not in text, (p, v)
            if "validations" in p.parts:
                assert not re.search(rf"(?<![\w.]){BAD_AGE}(?![\w.])", text), p
                for key in ("partial_unexpected_list", "unexpected_list", "partial_unexpected_counts",
                            "unexpected_index_list"):
                    assert key not in text, (p, key)


def test_ge_writes_only_where_it_is_told(run):
    assert list(run["cwd"].iterdir()) == []
    assert "gx" not in os.listdir(REPO) and set(os.listdir(REPO)) <= run["before_repo"] | {".pytest_cache"}
    written = {p.relative_to(run["tmp"]).parts[0] for p in run["tmp"].rglob("*") if p.is_file()}
    assert written <= {"reports", "restricted", "wh.duckdb", "wh.duckdb.wal"}


def test_missing_table_is_skipped_with_a_note(run):
    r = run["results"]["mart_cases__yearly"]
    assert r.skipped and r.success and "does not exist" in r.notes[0]


def test_freshness_suite(run):
    r = run["results"][FRESHNESS_SUITE]
    assert not r.success
    assert r.details["stale_missions"] == [{"mission_code": "B", "days_since_newest_export": 275}]
    failed = {(e.expectation, e.column): e.unexpected_count for e in r.failed}
    assert failed == {("expect_column_values_to_be_between", "days_since_newest_export"): 1}
    ledger = run["results"]["ingestion_ledger"]
    assert ledger.success, ledger.summary_line()


def test_empty_table_fails_row_count(run):
    r = run["results"]["dim_countries"]
    assert not r.skipped and not r.success
    assert [(e.expectation, e.observed) for e in r.failed] == [("expect_table_row_count_to_be_between", 0.0)]


def test_second_run_keeps_other_suites_and_a_clean_table_passes(run, tmp_path):
    """A later call for other tables keeps the earlier suites' pages (the store persists), and a
    clean fct_cases passes every expectation."""
    con = duckdb.connect()
    create_table(con, "fct_cases", constraints=False)
    fill_fct_cases(con, 300)
    tol = load_tolerances()
    tol = tol.model_copy(update={"data_docs": tol.data_docs.model_copy(update={"keep_runs": 1})})
    res = run_expectations(con, ["fct_cases"], docs_dir=run["docs"], store_dir=run["store"], today=TODAY,
                           tolerances=tol)
    r = res["fct_cases"]
    assert r.success, r.summary_line()
    docs = run["docs"]
    assert (docs / "expectations" / f"{FRESHNESS_SUITE}.html").exists()
    runs = [p for p in (docs / "validations" / "fct_cases").rglob("*.html")]
    assert len(runs) == 1  # keep_runs = 1: the older fct_cases page was removed
    assert (docs / "validations" / FRESHNESS_SUITE).exists()


def test_run_without_docs_stays_in_memory(tmp_path):
    con = duckdb.connect()
    create_table(con, "fct_cases", constraints=False)
    fill_fct_cases(con, 50)
    before = set(os.listdir(REPO))
    res = run_expectations(con, ["fct_cases"], docs_dir=None, today=TODAY)
    assert res["fct_cases"].data_docs is None and res["fct_cases"].expectations
    assert set(os.listdir(REPO)) <= before | {".pytest_cache"}


def test_a_failed_result_explains_itself_without_values(run):
    from ct_pipeline.notify import failure_summary

    # in production the docs live under the warehouse folder of the settings; here, under tmp
    text = failure_summary({**run["results"]["fct_cases"].run_info(blocking=True), "warehouse_dir": run["tmp"]})
    assert "expect_column_values_to_be_unique on case_token: 2 rows" in text
    assert "data_docs/index.html" in text
    for v in PLANTED:
        assert v not in text
    stale = failure_summary(run["results"][FRESHNESS_SUITE].run_info(check="freshness", blocking=False))
    assert "B: newest loaded export 275 days old" in stale


def test_a_suite_that_cannot_run_fails_alone(monkeypatch):
    from ct_pipeline.expectations import runner

    con = duckdb.connect()
    create_table(con, "fct_cases", constraints=False)
    fill_fct_cases(con, 20)
    create_table(con, "dim_countries")
    con.execute("INSERT INTO dim_countries VALUES ('NA', 'NAM', '516', 'Namibia', 'Africa', 'Sub-Saharan Africa', false)")
    real = runner._Context.validate

    def broken(self, plan, frame, run_id, **kw):
        if plan.suite == "fct_cases":
            raise ValueError(f"cannot validate '{DUP_TOKEN}'")
        return real(self, plan, frame, run_id, **kw)

    monkeypatch.setattr(runner._Context, "validate", broken)
    res = run_expectations(con, ["fct_cases", "dim_countries"], docs_dir=None, today=TODAY)
    assert not res["fct_cases"].success and "could not run: ValueError" in res["fct_cases"].notes[-1]
    assert DUP_TOKEN not in res["fct_cases"].notes[-1]
    assert res["dim_countries"].success, res["dim_countries"].summary_line()
