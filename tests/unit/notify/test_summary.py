"""Failure summaries: what was wrong, what to do, where to look — and never a value from the data."""

from __future__ import annotations

import datetime as dt

import pytest

from ct_pipeline.expectations.results import ExpectationSummary
from ct_pipeline.notify import failure_summary, infer_kind, is_transient, subject_for

ROOTS = {"exports_dir": "/srv/ct/raw_exports", "warehouse_dir": "/srv/ct/warehouse"}
WHEN = dt.datetime(2026, 1, 31, 2, 15, tzinfo=dt.UTC)
SECRETS = ["Maria", "Lopez", "1985-03-02", "AB1234567", "+41 79", "maria@example.org", "Jose", "Quetzal"]


def _assert_clean(text: str):
    for s in SECRETS:
        assert s not in text, s
    assert "WHAT WAS WRONG" in text and "WHAT TO DO" in text
    assert "never contains a value from the data" in text


def test_refused_export_asks_for_a_re_export_in_the_right_format():
    text = failure_summary({
        **ROOTS, "when": WHEN, "run_id": "abc123", "job": "nightly",
        "file": "/srv/ct/raw_exports/MD-CHI/2026-01-30/cases.csv",
        "era": "ctm_legacy", "missing_headers": ["NO_DOSSIER", "DATE_ENREG"],
        # a file without a header row: its "headers" are a person's data
        "unexpected_headers": ["Maria", "Lopez", "1985-03-02", "AB1234567"],
        "error": UnicodeDecodeError("cp1252", b"Maria \x81", 6, 7, "character maps to <undefined>"),
        "data_quality_report": "/srv/ct/warehouse/reports/research_unit/quality/MD-CHI.html",
    })
    _assert_clean(text)
    assert infer_kind({"missing_headers": ["x"]}) == "refused_export"
    assert "MD-CHI/2026-01-30/cases.csv" in text and "mission MD-CHI" in text and "received 2026-01-30" in text
    assert "NO_DOSSIER, DATE_ENREG" in text and "4 header(s)" in text
    assert "UnicodeDecodeError" in text
    assert "re-export the file in the format Counter-Trafficking Module (legacy CSV) [ctm_legacy]" in text
    assert "cp1252 encoding" in text and "';' delimited" in text
    assert "raw_exports/MD-CHI/<date received>/" in text
    assert "/srv/ct/warehouse/reports/research_unit/quality/MD-CHI.html" in text
    assert text.splitlines()[1] == "run abc123 · job nightly · 2026-01-31 02:15 UTC"


def test_refused_export_without_a_known_format_lists_the_accepted_ones():
    text = failure_summary({**ROOTS, "file": "MD-CHI/2026-01-30/cases.pdf", "kind": "refused_export",
                            "error_class": "ValueError", "error_message": "no era matches 'cases.pdf' of Maria Lopez"})
    _assert_clean(text)
    assert "one of the accepted formats" in text
    for era in ("case_api_jsonl", "mimosa_xlsx", "ctm_legacy"):
        assert era in text
    assert text.index("case_api_jsonl") < text.index("ctm_legacy")  # the current format first
    assert "ctdc_global" not in text.split("WHAT TO DO")[1]  # a reference source, not a mission format


def test_failed_blocking_check_names_table_rules_counts_and_where_to_look():
    failed = [
        ExpectationSummary("expect_column_values_to_be_in_set", "sex", False, 3, 0.75),
        {"expectation": "expect_column_values_to_be_unique", "column": "case_token", "unexpected_count": 2,
         "unexpected_percent": 0.5},
        ExpectationSummary("expect_column_mean_to_be_between", "sex__is_female", False, observed=0.12),
    ]
    text = failure_summary({
        **ROOTS, "asset": "fct_cases", "check": "great_expectations", "table": "fct_cases", "blocking": True,
        "failed_expectations": failed,
        "data_docs": "/srv/ct/warehouse/reports/research_unit/data_docs",
        "data_quality_report": "/srv/ct/warehouse/reports/research_unit/quality/index.html",
        "error_message": "unexpected values ['Quetzal', 'Jose']",
        "counts": {"rows": 400, "failed_rules": 3},
    })
    _assert_clean(text)
    assert "check failed: fct_cases.great_expectations" in text.splitlines()[0]
    assert "blocking" in text and "previous load" in text
    assert "expect_column_values_to_be_in_set on sex: 3 rows (0.75 %)" in text
    assert "expect_column_values_to_be_unique on case_token: 2 rows (0.5 %)" in text
    assert "sex__is_female: observed 0.12" in text
    assert "/srv/ct/warehouse/reports/research_unit/data_docs/index.html" in text
    assert "rows = 400" in text
    assert "tolerances.yaml" in text


def test_stale_missions():
    text = failure_summary({**ROOTS, "check": "freshness", "table": "ingestion_ledger",
                            "stale_missions": [{"mission_code": "MD-CHI", "days_since_newest_export": 75},
                                               {"mission_code": "TH-BKK", "days_since_newest_export": None}]})
    _assert_clean(text)
    assert "MD-CHI: newest loaded export 75 days old" in text and "TH-BKK: no loaded export" in text
    assert "latest export" in text


@pytest.mark.parametrize("err", [
    ValueError("could not parse 'Maria Lopez' born 1985-03-02 at row 12"),
    KeyError("AB1234567"),
    RuntimeError("Maria Lopez, maria@example.org, +41 79 123 45 67"),
])
def test_step_error_never_shows_the_exception_values(err):
    text = failure_summary({**ROOTS, "step": "stg_screenings", "error": err, "run_id": "r1",
                            "run_url": "http://127.0.0.1:3000/runs/r1", "rows": [12, 13]})
    _assert_clean(text)
    assert type(err).__name__ in text
    assert "Rows in the file: 12, 13." in text
    assert "http://127.0.0.1:3000/runs/r1" in text
    assert "file an issue" in text


def test_transient_error_says_it_is_retried():
    text = failure_summary({**ROOTS, "step": "publish", "error": TimeoutError("timed out"), "attempts": 3})
    assert "transient" in text and "failed 3 times" in text
    assert is_transient(TimeoutError()) and not is_transient(ValueError("x"))
    assert is_transient(OSError("IO Error: Could not set lock on file: Conflicting lock is held"))


def test_a_load_the_disk_cannot_hold_says_how_much_space_it_needs():
    from ct_pipeline.ingest import InsufficientDiskSpace

    text = failure_summary({**ROOTS, "step": "ingest", "error": InsufficientDiskSpace(
        "Not enough free disk space for this load: 8212 new export files (3.0 GiB) need about 12.0 GiB")})
    _assert_clean(text)
    assert "InsufficientDiskSpace" in text and "disk space" in text
    assert "4 times the size of the new export files" in text and "file an issue" not in text


def test_paths_outside_the_project_folders_are_hidden():
    text = failure_summary({**ROOTS, "step": "extract", "error": FileNotFoundError(2, "No such file", "/home/maria/x.csv"),
                            "data_docs": "/home/maria/docs"})
    assert "/home/maria" not in text and "maria" not in text.lower().replace("mariadb", "")


def test_subject_is_one_line():
    s = subject_for({**ROOTS, "step": "fct_cases", "error": ValueError("Maria\nLopez")})
    assert "\n" not in s and s.startswith("[ct_pipeline] step failed: fct_cases") and "Maria" not in s
