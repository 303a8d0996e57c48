"""The ingestion run: ledger semantics, idempotency, reload, persistence, the CTDC reference."""

from __future__ import annotations

import json
import logging
import shutil

import polars as pl
import pytest

import ct_pipeline.ingest as ingest_mod
from ct_pipeline.extract import CTDC_PATH
from ct_pipeline.ingest import (
    AccountingError,
    ingest_reference,
    ledger_rows,
    run_ingestion,
    scan_files,
    survey_exports,
)
from tests.fixtures.bad_inputs import builders as b


def counts(con):
    return {t: con.execute(f"select count(*) from {t}").fetchall()[0][0]
            for t in ("ingestion_ledger", "raw_screenings", "raw_assistance", "quarantine")}


def test_first_run_loads_every_era_and_returns_typed_frames(settings, con, good_files):
    r = run_ingestion(settings, con)
    assert r.by_status() == {"loaded": 4, "refused": 0, "already_seen": 0}
    assert r.totals() == {"rows_read": 5 + 5 + 4 + 9, "rows_staged": 23, "rows_quarantined": 0, "rows_duplicate": 0}
    assert r.typed_screenings.height == 5 + 3 + 3 and r.typed_assistance.height == 5 + 1 + 6
    assert counts(con) == {"ingestion_ledger": 4, "raw_screenings": 11, "raw_assistance": 12, "quarantine": 0}
    eras = dict(con.execute("select source_file, era from ingestion_ledger").fetchall())
    assert set(eras.values()) == {"ctm_legacy", "mimosa_xlsx", "case_api_jsonl"}


def test_rerun_changes_nothing(settings, con, good_files):
    run_ingestion(settings, con)
    before = counts(con)
    r = run_ingestion(settings, con)
    assert r.files == [] and len(r.skipped) == 4 and not r.changed
    assert r.typed_screenings.height == 0
    assert counts(con) == before


def test_new_file_later_is_the_only_one_processed(settings, con, exports, good_files):
    run_ingestion(settings, con)
    b.write_jsonl(b.export_path(exports, "next.jsonl", mission="UA-KYIV", received="2024-04-01"), [b.jsonl_case(7)])
    r = run_ingestion(settings, con)
    assert [f.source_file for f in r.files] == ["UA-KYIV/2024-04-01/next.jsonl"]
    assert r.typed_screenings["case_ref"].to_list() == ["API-00007"]


def test_same_content_under_another_name_is_already_seen(settings, con, exports, good_files):
    run_ingestion(settings, con)
    shutil.copy(good_files[2], b.export_path(exports, "renamed.xlsx", mission="NA-WIN", received="2024-05-01"))
    r = run_ingestion(settings, con)
    (f,) = r.files
    assert (f.file_status, f.rows_read) == ("already_seen", 0)
    assert "NA-WIN/2024-03-01/good.xlsx" in f.error_message
    assert counts(con)["raw_screenings"] == 11


def test_changed_file_is_reported_not_reloaded(settings, con, good_files, caplog):
    run_ingestion(settings, con)
    good_files[0].write_bytes(good_files[0].read_bytes() + b"\n")
    r = run_ingestion(settings, con)
    assert r.files == [] and r.warnings and "content changed" in r.warnings[0]


def test_reload_replaces_a_file(settings, con, good_files):
    run_ingestion(settings, con)
    r = run_ingestion(settings, con, files=["MD-CHI/2024-03-01/good_scr.csv"], reload=True)
    assert [(f.source_file, f.file_status) for f in r.files] == [("MD-CHI/2024-03-01/good_scr.csv", "loaded")]
    assert counts(con) == {"ingestion_ledger": 4, "raw_screenings": 11, "raw_assistance": 12, "quarantine": 0}


def test_missions_filter(settings, con, good_files):
    r = run_ingestion(settings, con, missions=["UA-KYIV"])
    assert [f.source_file for f in r.files] == ["UA-KYIV/2024-03-01/good.jsonl"]


def test_accounting_imbalance_writes_nothing(settings, con, good_files, monkeypatch):
    real = ingest_mod._account

    def broken(files, extracted, staged):
        real(files, extracted, staged)
        files[0].rows_staged += 1
        if not files[0].balanced:
            raise AccountingError("forced")

    monkeypatch.setattr(ingest_mod, "_account", broken)
    with pytest.raises(AccountingError):
        run_ingestion(settings, con)
    assert counts(con) == {"ingestion_ledger": 0, "raw_screenings": 0, "raw_assistance": 0, "quarantine": 0}


def test_a_crash_while_writing_rolls_back(settings, con, good_files, monkeypatch):
    real = ingest_mod._insert

    def failing(con_, table, df):
        if table == "ingestion_ledger":
            raise RuntimeError("disk full")
        real(con_, table, df)

    monkeypatch.setattr(ingest_mod, "_insert", failing)
    with pytest.raises(RuntimeError):
        run_ingestion(settings, con)
    assert counts(con) == {"ingestion_ledger": 0, "raw_screenings": 0, "raw_assistance": 0, "quarantine": 0}


def test_an_unexpected_error_in_one_file_refuses_only_that_file(settings, con, good_files, monkeypatch):
    import ct_pipeline.extract as ex

    real = ex._extract_csv

    def flaky(path, data, sha, where):
        if "good_ast" in str(path):
            raise ZeroDivisionError("secret value 42")
        return real(path, data, sha, where)

    monkeypatch.setattr(ex, "_extract_csv", flaky)
    r = run_ingestion(settings, con)
    f = {x.source_file: x for x in r.files}["MD-CHI/2024-03-01/good_ast.csv"]
    assert f.file_status == "refused" and "ZeroDivisionError" in f.error_message and "42" not in f.error_message
    assert r.by_status()["loaded"] == 3


def test_ledger_rows_are_json_ready(settings, con, good_files):
    assert ledger_rows(con) == []
    run_ingestion(settings, con)
    rows = ledger_rows(con)
    assert len(rows) == 4 and json.loads(json.dumps(rows)) == rows
    assert {"source_file", "file_status", "rows_read", "error_message", "ingested_at"} <= set(rows[0])


def test_survey_per_era(exports, good_files):
    (exports / "stray.txt").write_bytes(b"?")
    s = survey_exports(exports)
    assert s["ctm_legacy"] == {"files": 2, "rows": 10}
    assert s["mimosa_xlsx"] == {"files": 1, "rows": 4}
    assert s["case_api_jsonl"] == {"files": 1, "rows": 9}
    assert s["refused"]["files"] == 1


def test_scan_skips_readme_and_hidden_files(exports, good_files):
    (exports / "README.md").write_text("x")
    (exports / ".DS_Store").write_bytes(b"x")
    (exports / "MD-CHI" / ".hidden").mkdir()
    (exports / "MD-CHI" / ".hidden" / "f.csv").write_bytes(b"x")
    assert len(scan_files(exports)) == 4


def test_logs_carry_no_values(settings, con, exports, good_files, caplog):
    recs = [b.legacy_screening(1, full_name="Qwertzuiop Canary", citizenship="Atlantis")]
    b.write_legacy(b.export_path(exports, "x.csv"), "screening", recs)
    with caplog.at_level(logging.DEBUG):
        r = run_ingestion(settings, con)
    text = caplog.text + json.dumps([f.__dict__ for f in r.files], default=str)
    assert "Qwertzuiop" not in text and "Atlantis" not in text


def test_ctdc_reference_all_48773_records_accounted(con):
    res = ingest_reference(con)
    assert (res.file_status, res.rows_read) == ("loaded", 48_773)
    assert res.rows_read == res.rows_staged + res.rows_quarantined + res.rows_duplicate
    n = con.execute("select count(*), count(*) filter (where citizenship = 'NA'), "
                    "count(*) filter (where is_citizenship_unknown) from ref_ctdc_cases").fetchall()[0]
    assert n[0] + res.rows_quarantined == 48_773
    raw = pl.read_csv(CTDC_PATH, infer_schema=False)
    assert n[1] == raw.filter(pl.col("citizenship") == "NA").height  # Namibia stays Namibia
    assert n[2] == raw.filter(pl.col("citizenship").is_in(["0", "00", "ZZ"])).height
    flags = con.execute("select count(*) filter (where is_forced_labour is null) from ref_ctdc_cases").fetchall()[0][0]
    assert flags == raw.filter(pl.col("isForcedLabour").is_null()).height
    again = ingest_reference(con)
    assert again.file_status == "loaded"
    assert con.execute("select count(*) from ingestion_ledger").fetchall()[0][0] == 1


def test_worker_processes_give_the_same_result(settings, con, exports, good_files, monkeypatch, tmp_path):
    import duckdb

    (exports / "MD-CHI" / "2024-03-01" / "bad.xlsx").write_bytes(b"no zip")
    serial = run_ingestion(settings, con, workers=1)
    monkeypatch.setattr(ingest_mod, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingest_mod, "STAGE_BATCH_BYTES", 1)  # one mission per batch, in workers
    other = duckdb.connect()
    calls = []
    real = ingest_mod._extract_and_stage
    monkeypatch.setattr(ingest_mod, "ProcessPoolExecutor", _Spy(ingest_mod.ProcessPoolExecutor, calls))
    handed = []  # the batches came back as files in the restricted zone, not pickled
    unpack = ingest_mod.handoff.unpack
    monkeypatch.setattr(ingest_mod.handoff, "unpack",
                        lambda g: handed.append(g.raw_screenings) or unpack(g))
    parallel = run_ingestion(settings, other, workers=2)
    tmp = settings.restricted_dir / "tmp"
    assert handed and all(p.parent.parent == tmp for p in handed)
    assert calls and real is ingest_mod._extract_and_stage
    key = ["source_file", "source_row"]
    assert parallel.typed_screenings.sort(key).equals(serial.typed_screenings.sort(key))
    assert parallel.typed_assistance.sort(key).equals(serial.typed_assistance.sort(key))
    strip = lambda rs: [(f.source_file, f.file_status, f.era, f.rows_read, f.error_message) for f in rs]  # noqa: E731
    assert strip(parallel.files) == strip(serial.files)
    assert parallel.typed_screenings.schema == serial.typed_screenings.schema
    # the workers' hand-off files (raw identities) are gone with the run
    assert not list(tmp.glob("handoff-*"))


class _Spy:
    """Counts process pools made (the pool itself is real)."""

    def __init__(self, cls, calls):
        self.cls, self.calls = cls, calls

    def __call__(self, *a, **kw):
        self.calls.append(kw.get("max_workers"))
        return self.cls(*a, **kw)


def test_empty_exports_are_not_deduplicated_and_other_missions_files_are_not_named(settings, con, exports, good_files):
    for m in ("AA-ONE", "BB-TWO"):
        b.write_legacy(b.export_path(exports, "ast.csv", mission=m), "assistance", [])
    shutil.copy(good_files[0], b.export_path(exports, "copy.csv", mission="ZZ-OTHER"))
    r = run_ingestion(settings, con)
    files = {f.source_file: f for f in r.files}
    for m in ("AA-ONE", "BB-TWO"):
        f = files[f"{m}/2024-03-01/ast.csv"]
        assert (f.file_status, f.rows_read, f.era) == ("loaded", 0, "ctm_legacy") and "no records" in f.error_message
    copy = files["ZZ-OTHER/2024-03-01/copy.csv"]
    assert copy.file_status == "already_seen" and "MD-CHI" not in copy.error_message
    run_ingestion(settings, con)
    b.write_legacy(b.export_path(exports, "ast.csv", mission="CC-THREE"), "assistance", [])
    (f,) = run_ingestion(settings, con).files
    assert (f.file_status, f.rows_read) == ("loaded", 0)


def test_files_in_the_ledger_are_not_read_again_unless_their_stat_changed(settings, con, good_files, monkeypatch):
    import os
    from pathlib import Path

    run_ingestion(settings, con)
    reads: list[str] = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self.name) or real(self))
    r = run_ingestion(settings, con)
    assert r.files == [] and reads == [] and len(r.skipped) == 4
    # same size, new content and modification time: hashed again, and the change is reported
    data = bytearray(real(good_files[0]))
    data[-2] = ord("9") if data[-2] != ord("9") else ord("8")
    good_files[0].write_bytes(bytes(data))
    st = good_files[0].stat()
    os.utime(good_files[0], ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    r = run_ingestion(settings, con)
    assert reads == [good_files[0].name] and r.warnings and "content changed" in r.warnings[0]
