"""The pandera gate: over the rows not passed yet, part by part, keys over the whole table."""

from __future__ import annotations

import pytest

from ct_pipeline import checks
from ct_pipeline.warehouse import connect_build
from ct_pipeline.warehouse.synthetic import insert_stg, screening_row, stg_frame
from ct_pipeline.warehouse.tables import warehouse_ddl


def _rows(n: int, start: int = 0):
    return [screening_row(f"c{i}", f"TH-BKK/2010-06-0{1 + i % 5}/export.xlsx", i + 1) for i in range(start, start + n)]


@pytest.mark.parametrize("chunk_rows", [2_000_000, 3])
def test_every_part_is_validated_and_counted(settings, monkeypatch, chunk_rows):
    monkeypatch.setattr(checks, "PANDERA_CHUNK_ROWS", chunk_rows)
    con = connect_build(settings)
    insert_stg(con, stg_frame("stg_screenings", _rows(20)))
    con.close()
    ok = checks.pandera_check(settings, "stg_screenings")
    assert ok.passed and ok.metadata == {"rows": 20, "rows_validated": 20, "rows_unchanged_since_a_pass": 0}

    con = connect_build(settings)
    con.execute("UPDATE stg_screenings SET sex = 'not-a-code' WHERE source_row IN (4, 12, 18)")
    con.close()
    bad = checks.pandera_check(settings, "stg_screenings")
    # the three changed rows are validated (the others passed as they are), and caught
    assert not bad.passed and bad.metadata == {"failures": 3, "rows": 20, "rows_validated": 3}
    assert "sex" in bad.summary and "not-a-code" not in bad.summary  # columns and counts, never values
    again = checks.pandera_check(settings, "stg_screenings")  # a failure is never remembered
    assert not again.passed and again.metadata["failures"] == 3


def test_a_night_validates_its_new_rows_only(settings):
    con = connect_build(settings)
    insert_stg(con, stg_frame("stg_screenings", _rows(20)))
    con.close()
    assert checks.pandera_check(settings, "stg_screenings").metadata["rows_validated"] == 20
    same = checks.pandera_check(settings, "stg_screenings")
    assert same.passed and same.metadata == {"rows": 20, "rows_validated": 0, "rows_unchanged_since_a_pass": 20}

    con = connect_build(settings)
    insert_stg(con, stg_frame("stg_screenings", _rows(5, start=20)))
    con.close()
    night = checks.pandera_check(settings, "stg_screenings")
    assert night.passed and night.metadata == {"rows": 25, "rows_validated": 5, "rows_unchanged_since_a_pass": 20}
    assert "5 validated now" in night.summary

    # a later bad row among new ones is caught; the schema's code change re-validates everything
    con = connect_build(settings)
    insert_stg(con, stg_frame("stg_screenings", _rows(2, start=25)))
    con.execute("UPDATE stg_screenings SET sex = 'not-a-code' WHERE source_row = 26")
    con.close()
    bad = checks.pandera_check(settings, "stg_screenings")
    assert not bad.passed and bad.metadata == {"failures": 1, "rows": 27, "rows_validated": 2}


def test_a_duplicate_key_with_a_row_passed_before_is_caught(settings):
    con = connect_build(settings)
    con.execute(warehouse_ddl("stg_screenings"))  # as the warehouse tables: no PRIMARY KEY constraint
    insert_stg(con, stg_frame("stg_screenings", _rows(10)))
    con.close()
    assert checks.pandera_check(settings, "stg_screenings").passed

    con = connect_build(settings)
    dup = _rows(1, start=3)  # the same source_file and source_row as a row that passed
    insert_stg(con, stg_frame("stg_screenings", dup))
    con.close()
    bad = checks.pandera_check(settings, "stg_screenings")
    # both rows of the key are validated again, so pandera's uniqueness check sees the pair
    assert not bad.passed and bad.metadata["rows_validated"] == 2


def test_another_schema_validates_every_row_again(settings, monkeypatch):
    con = connect_build(settings)
    insert_stg(con, stg_frame("stg_screenings", _rows(8)))
    con.close()
    assert checks.pandera_check(settings, "stg_screenings").metadata["rows_validated"] == 8
    assert checks.pandera_check(settings, "stg_screenings").metadata["rows_validated"] == 0
    monkeypatch.setattr(checks, "_pandera_signature", lambda table: f"{table}-a changed registry")
    assert checks.pandera_check(settings, "stg_screenings").metadata["rows_validated"] == 8


def test_core_and_mart_suites_are_not_rerun_for_ledger_rows_alone(settings):
    """The core and mart suites do not read the ingestion ledger: a night that only adds ledger rows
    (files already seen) reuses their outcome; new staged content, or the ledger suite, runs again."""
    import datetime as dt

    from ct_pipeline.pipeline import ensure_tables

    con = connect_build(settings)
    ensure_tables(con, ["ingestion_ledger"])
    insert_stg(con, stg_frame("stg_screenings", _rows(3)))
    con.close()
    calls: list[str] = []

    def run(name, ledger):
        return checks._memoized(settings, name, "day", lambda: calls.append(name) or checks.CheckOutcome(True, "ok"),
                                ledger=ledger)

    run("core", False), run("ledger", True)
    con = connect_build(settings)
    con.execute(
        "INSERT INTO ingestion_ledger (source_file, source_sha256, file_status, rows_read, rows_staged, "
        "rows_quarantined, rows_duplicate, ingested_at) VALUES ('TH-BKK/2010-07-01/again.xlsx', 'ab', "
        "'already_seen', 3, 0, 0, 0, ?)", [dt.datetime(2026, 11, 3)])
    con.close()
    assert run("core", False).metadata == {"reused_from_unchanged_inputs": True}
    run("ledger", True)
    assert calls == ["core", "ledger", "ledger"]
    con = connect_build(settings)
    insert_stg(con, stg_frame("stg_screenings", _rows(2, start=3)))
    con.close()
    run("core", False)
    assert calls[-1] == "core"


def test_a_core_check_is_not_concerned_by_tables_built_after_it(settings):
    """The core suites' memo counts the core tables only: marts rebuilt after them (other row
    counts) do not make the next night's core suites run again."""
    con = connect_build(settings)
    insert_stg(con, stg_frame("stg_screenings", _rows(3)))
    con.execute(warehouse_ddl("mart_cases__yearly"))
    con.close()
    calls: list[str] = []
    core = ["fct_cases", "dim_persons"]

    def run():
        return checks._memoized(settings, "core", "day", lambda: calls.append("core") or checks.CheckOutcome(True, "ok"),
                                ledger=False, tables=core)

    run()
    con = connect_build(settings)
    con.execute("INSERT INTO mart_cases__yearly BY NAME SELECT 2020 AS registration_year, 'TH-BKK' AS mission_code, 1 AS case_count")
    con.close()
    assert run().metadata == {"reused_from_unchanged_inputs": True} and calls == ["core"]
