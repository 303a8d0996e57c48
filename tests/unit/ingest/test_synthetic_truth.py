"""The synthetic ground truth (ct_pipeline.synth): every injected defect that must be quarantined
is, no clean or corrected record is, exact duplicates are counted once, and every record of the
truth file is accounted for (files whose content repeats an earlier file are `already_seen`: their
records were accounted under that file)."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

synth = pytest.importorskip("ct_pipeline.synth")

from ct_pipeline.ingest import run_ingestion  # noqa: E402
from ct_pipeline.ingest.bench import compare_with_truth  # noqa: E402
from ct_pipeline.settings import get_settings  # noqa: E402


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    base = tmp_path_factory.mktemp("synth")
    synth.generate(base / "exports", cases=3000, seed=11, truth=base / "truth.csv",
                   config=synth.SynthConfig(messiness=3.0, workers=1))
    con = duckdb.connect()
    result = run_ingestion(get_settings(raw_exports_dir=base / "exports", warehouse_dir=base / "wh"), con)
    truth = pl.read_csv(base / "truth.csv", infer_schema=False)
    return result, truth, compare_with_truth(result, truth), con


def test_injected_defects_are_quarantined_and_clean_records_are_not(outcome):
    _, truth, cmp, _ = outcome
    assert truth.filter(pl.col("expected") == "quarantine").height > 20  # the test bed is messy enough
    assert cmp["quarantine_missed"] == 0, cmp
    assert cmp["clean_quarantined"] == 0, cmp


def test_duplicates_and_accounting(outcome):
    result, _, cmp, con = outcome
    assert cmp["unmatched"] == 0, cmp
    assert cmp["outcomes"].get("duplicate->duplicate", 0) > 0
    assert not any(k.startswith("duplicate->") and k != "duplicate->duplicate" for k in cmp["outcomes"]), cmp
    bad = con.execute(
        "select count(*) from ingestion_ledger where rows_read <> rows_staged + rows_quarantined + rows_duplicate"
    ).fetchall()[0][0]
    assert bad == 0
    assert result.by_status()["refused"] == 0
