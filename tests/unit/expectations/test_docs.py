"""The Data Docs builders (expectations/docs.py): a later build loads only the results it wrote
(the index reads the others' facts from its cache) and renders the index page GE's stock
builders render from the full results."""

from __future__ import annotations

import copy
import datetime as dt
import warnings

import duckdb

from ct_pipeline.expectations import run_expectations
from ct_pipeline.expectations.bench import create_table, fill_fct_cases

TODAY = dt.date(2026, 1, 31)


def _run(con, tmp, today=TODAY):
    return run_expectations(con, ["fct_cases", "ingestion_ledger"], docs_dir=tmp / "docs",
                            store_dir=tmp / "store", today=today, remember=False)


def test_index_reads_cached_facts_and_matches_ge(tmp_path, monkeypatch):
    from great_expectations.data_context.store.validation_results_store import (
        ValidationResultsStore,
    )

    from ct_pipeline.expectations import docs, runner

    con = duckdb.connect()
    create_table(con, "fct_cases", constraints=False)
    fill_fct_cases(con, 120)
    create_table(con, "ingestion_ledger", constraints=False)
    con.execute("INSERT INTO ingestion_ledger (source_file, mission_code, received_date, era, source_sha256, "
                "file_status, rows_read, rows_staged, rows_quarantined, rows_duplicate, ingested_at) VALUES "
                "('A/2026-01-20/a.csv', 'A', DATE '2026-01-20', 'ctm_legacy', 'x', 'loaded', 3, 3, 0, 0, now())")
    _run(con, tmp_path, TODAY - dt.timedelta(days=1))  # three results stored, their facts cached
    assert (tmp_path / "store" / docs.INDEX_FACTS).exists()

    loaded = []
    get = ValidationResultsStore.get

    def counting_get(self, key):
        loaded.append(key)
        return get(self, key)

    monkeypatch.setattr(ValidationResultsStore, "get", counting_get)
    _run(con, tmp_path)  # three more
    monkeypatch.undo()
    # each of tonight's results loaded once by its page and once by the index; the earlier ones not at all
    assert len(loaded) == 6 and all("2026-01-31" in str(k.run_id.run_name) for k in loaded)

    ours = (tmp_path / "docs" / "index.html").read_text(encoding="utf-8")
    assert ours.count("validations/fct_cases/") >= 2  # both runs listed
    ctx = runner._Context(tmp_path / "docs", tmp_path / "store")
    sites = copy.deepcopy(ctx.ctx.variables.data_docs_sites)
    sites[runner.SITE_NAME]["site_index_builder"] = {"class_name": "DefaultSiteIndexBuilder"}
    del sites[runner.SITE_NAME]["site_section_builders"]
    ctx.ctx.variables.data_docs_sites = sites
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx.ctx.build_data_docs(site_names=[runner.SITE_NAME], resource_identifiers=[object()])
    runner._strip_beacons(tmp_path / "docs")
    assert (tmp_path / "docs" / "index.html").read_text(encoding="utf-8") == ours


def test_a_result_rewritten_under_its_key_is_read_again(tmp_path):
    """The cache never outlives the result it describes: a key the runner writes is forgotten."""
    from ct_pipeline.expectations import docs

    facts = docs.IndexFacts(tmp_path / docs.INDEX_FACTS)

    class Key:
        def to_tuple(self):
            return ("suite", "run", "time", "batch")

    facts.facts[facts.name(Key())] = {"success": True, "meta": {}}
    facts.save()
    again = docs.IndexFacts(tmp_path / docs.INDEX_FACTS)
    assert facts.name(Key()) in again.facts
    again.forget(Key())
    again.save()
    assert docs.IndexFacts(tmp_path / docs.INDEX_FACTS).facts == {}
