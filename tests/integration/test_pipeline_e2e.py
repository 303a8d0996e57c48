"""The whole Dagster graph, in-process on a real instance, on synthetic exports of every era:
what the research unit runs every night. One run with planted canary identities, then a second
run over the same exports that must change nothing."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import duckdb
import pytest

from ct_pipeline.settings import get_settings, temporary_env
from ct_pipeline.synth import SynthConfig, generate

pytestmark = pytest.mark.slow

CANARIES = [
    {"given_name": "Zebulonia", "family_name": "Quextravaganza", "phone": "+373 69 424 242",
     "document_number": "CANARY7781", "address": "17 Canary Wharf Lane, Tiraspolkova",
     "narrative": "Canarynarrative-Xyloquent event recounted"},
    {"given_name": "Oluwaquantum", "family_name": "Brixtonfeather", "phone": "+234 803 999 1717",
     "document_number": "CANARY9902", "address": "5 Marigoldstrasse Hinterhof",
     "narrative": "Canarynarrative-Plumbiferous account"},
]
NEEDLES = sorted({v for c in CANARIES for v in c.values()} | {c["family_name"].upper() for c in CANARIES})


@pytest.fixture(scope="module")
def nightly(tmp_path_factory):
    root = tmp_path_factory.mktemp("nightly")
    env = {
        "CT_RAW_EXPORTS_DIR": str(root / "raw"),
        "CT_WAREHOUSE_DIR": str(root / "wh"),
        "CT_PSEUDONYM_KEY": "v1:" + secrets.token_hex(32),
        "DAGSTER_HOME": str(root / "dagster_home"),
        "CT_CHARTS_PNG": "0",
    }
    # the pipeline hardens its process (TMPDIR, umask): put everything back for later tests
    keep = {k: os.environ.get(k) for k in ("TMPDIR", "POLARS_TEMP_DIR")}
    old_tempdir, old_umask = tempfile.tempdir, os.umask(0o022)
    os.umask(old_umask)
    try:
        with temporary_env(**env, **keep):
            settings = get_settings()
            generate(settings.raw_exports_dir, cases=1500, seed=11, truth=root / "truth.csv",
                     config=SynthConfig(canaries=CANARIES))
            from ct_pipeline.runner import run_with_dagster

            lines: list[str] = []
            ok = run_with_dagster(settings, log=lines.append)
            first_mtime = settings.analyst_db.stat().st_mtime_ns
            first = _snapshot(settings.analyst_db)
            ok2 = run_with_dagster(settings, log=lines.append)
            second_mtime = settings.analyst_db.stat().st_mtime_ns
            # the next night: a new drop (another seed's newest case API exports, under a new date);
            # persons are linked against the identities already in the vault
            generate(root / "drop", cases=300, seed=12, truth=root / "truth2.csv")
            jsonl = sorted((root / "drop").rglob("*.jsonl"))[-3:]
            for src in jsonl:
                dest = settings.raw_exports_dir / src.parent.parent.name / "2026-11-27" / src.name
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(src.read_bytes())
            ok3 = run_with_dagster(settings, log=lines.append)
            yield {"root": root, "settings": settings, "ok": ok, "ok2": ok2, "ok3": ok3, "lines": lines,
                   "first_mtime": first_mtime, "second_mtime": second_mtime, "first": first,
                   "third": _snapshot(settings.analyst_db), "dropped": [p.name for p in jsonl]}
    finally:
        tempfile.tempdir = old_tempdir
        os.umask(old_umask)


def _snapshot(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute("select table_name from duckdb_tables() order by 1").fetchall()]
        return {t: con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in tables}
    finally:
        con.close()


def test_the_nightly_graph_succeeds_and_publishes(nightly):
    assert nightly["ok"], "\n".join(nightly["lines"])
    counts = nightly["first"]
    assert counts["fct_cases"] > 500
    assert counts["ref_ctdc_cases"] == 48_773 or counts["ref_ctdc_cases"] > 48_000
    con = duckdb.connect(str(nightly["settings"].analyst_db), read_only=True)
    eras = {r[0] for r in con.execute("select distinct era from ingestion_ledger where file_status = 'loaded'").fetchall()}
    assert {"ctm_legacy", "mimosa_xlsx", "case_api_jsonl", "ctdc_global"} <= eras
    bad = con.execute(
        "select count(*) from ingestion_ledger where rows_read <> rows_staged + rows_quarantined + rows_duplicate"
    ).fetchall()[0][0]
    assert bad == 0
    restricted = {"raw_screenings", "raw_assistance", "quarantine", "identity_vault", "person_identities"}
    assert not restricted & set(counts)
    con.close()


def test_a_second_run_over_the_same_exports_changes_nothing(nightly):
    assert nightly["ok2"], "\n".join(nightly["lines"])
    assert nightly["second_mtime"] == nightly["first_mtime"]


def test_the_next_nights_drop_is_loaded_and_published(nightly):
    assert nightly["ok3"], "\n".join(nightly["lines"])
    assert nightly["third"]["fct_case_versions"] > nightly["first"]["fct_case_versions"]
    assert nightly["third"]["ingestion_ledger"] == nightly["first"]["ingestion_ledger"] + len(nightly["dropped"])


def _files_outside_restricted(settings, root: Path):
    """Everything the analyst and public zones, and Dagster's own storage, hold."""
    restricted = settings.restricted_dir.resolve()
    yield settings.analyst_db
    for base in (settings.parquet_dir, settings.reports_dir, root / "dagster_home"):
        for p in base.rglob("*"):
            if p.is_file() and restricted not in p.resolve().parents:
                yield p


def test_canaries_never_leave_the_restricted_zone(nightly):
    settings, root = nightly["settings"], nightly["root"]
    # the canaries really are in the exports (else this test proves nothing)
    raw = b"".join(p.read_bytes() for p in settings.raw_exports_dir.rglob("*.jsonl"))
    assert b"Zebulonia" in raw or b"Oluwaquantum" in raw
    checked = 0
    for path in _files_outside_restricted(settings, root):
        data = path.read_bytes()
        checked += 1
        for needle in NEEDLES:
            for enc in ("utf-8", "utf-16-le"):
                assert needle.encode(enc) not in data, f"canary value found in {path}"
    assert checked > 20
    # and the analyst database, value by value (compressed storage would hide a plain grep)
    con = duckdb.connect(str(settings.analyst_db), read_only=True)
    text_cols = con.execute(
        "select table_name, column_name from duckdb_columns() where not internal and schema_name = 'main' and data_type like 'VARCHAR%'"
    ).fetchall()
    for table, column in text_cols:
        for needle in ("Zebulonia", "Quextravaganza", "CANARY7781", "Oluwaquantum", "CANARY9902", "424 242"):
            hit = con.execute(
                f'select count(*) from "{table}" where cast("{column}" as varchar) ilike ?', [f"%{needle}%"]
            ).fetchall()[0][0]
            assert hit == 0, f"canary in {table}.{column}"
    con.close()
    # the log lines the run printed
    assert not any(n in line for line in nightly["lines"] for n in NEEDLES)


def test_the_pipeline_refuses_to_run_without_a_key(tmp_path, monkeypatch):
    from ct_pipeline import pipeline
    from ct_pipeline.pseudonymize import MissingKeyError

    monkeypatch.delenv("CT_PSEUDONYM_KEY", raising=False)
    s = get_settings(tmp_path / "raw", tmp_path / "wh", tmp_path / "no.key")
    (tmp_path / "raw").mkdir()
    with pytest.raises(MissingKeyError):
        pipeline.ingest(s)
