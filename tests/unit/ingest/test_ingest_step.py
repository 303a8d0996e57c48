"""The ingest step (pipeline.ingest): batch by batch, staged in worker processes or not, the same tables."""

from __future__ import annotations

import duckdb
import pytest

import ct_pipeline.ingest as ingest_mod
from ct_pipeline import pipeline
from ct_pipeline.settings import get_settings, temporary_env
from ct_pipeline.synth import generate

TABLES = {
    "stg_screenings": "*",
    "stg_assistance": "*",
    "identity_vault": "source_file, source_row, case_token, person_token, identity_token, identity_basis",
    "raw_screenings": "*",
    "raw_assistance": "*",
    "quarantine": "*",
    "ingestion_ledger": "* EXCLUDE (ingested_at)",
}


def _tables(settings) -> dict:
    con = duckdb.connect(str(pipeline.build_path(settings)), read_only=True)
    try:
        return {t: con.sql(f"SELECT {cols} FROM {t} ORDER BY ALL").fetchall() for t, cols in TABLES.items()}
    finally:
        con.close()


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    root = tmp_path_factory.mktemp("step") / "raw"
    generate(root, cases=400, seed=5)
    return root


def test_workers_and_batches_give_the_same_tables(exports, tmp_path, monkeypatch):
    key = "v1:" + "ab" * 32
    out = []
    for name, workers, batch in (("serial", "1", None), ("workers", "2", 1)):
        s = get_settings(raw_exports_dir=exports, warehouse_dir=tmp_path / name, key_file=tmp_path / "no.key")
        if batch is not None:  # one mission per batch, every batch staged in a worker process
            monkeypatch.setattr(ingest_mod, "PARALLEL_MIN_BYTES", 0)
            monkeypatch.setattr(ingest_mod, "STAGE_BATCH_BYTES", batch)
        with temporary_env(CT_PSEUDONYM_KEY=key, CT_INGEST_WORKERS=workers):
            res = pipeline.ingest(s)
        assert res.tables["stg_screenings"] == res.tables["identity_vault"] > 0
        out.append(_tables(s))
    for t in TABLES:
        assert out[0][t] == out[1][t], t


def test_a_load_too_big_for_the_memory_limit_runs_again_with_twice_the_limit(exports, tmp_path, monkeypatch):
    """DuckDB running out of the ingest's limit rolls the night back; it runs once more, with
    twice the limit, to the same tables as a run that had room."""
    key = "v1:" + "ab" * 32
    real, limits = pipeline._ingest_transaction, []

    def tight(settings, key_, limit, *args, **kw):
        limits.append((limit, kw.get("memory_scale", 1)))
        if len(limits) == 1:  # the first attempt fails where DuckDB would: inside the transaction
            with pipeline.build_connection(settings) as con, pipeline.transaction(con):
                pipeline.ensure_tables(con, pipeline.INGEST_TABLES)
                con.execute("CREATE TABLE half_loaded AS SELECT 1 AS x")
                raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block")
        return real(settings, key_, limit, *args, **kw)

    monkeypatch.setattr(pipeline, "_ingest_transaction", tight)
    monkeypatch.setattr(pipeline, "_ingest_memory_limit", lambda s: "300MB")
    monkeypatch.delenv("CT_DUCKDB_MEMORY_LIMIT", raising=False)
    s = get_settings(raw_exports_dir=exports, warehouse_dir=tmp_path / "wh", key_file=tmp_path / "no.key")
    logged = []
    with temporary_env(CT_PSEUDONYM_KEY=key, CT_INGEST_WORKERS="1"):
        res = pipeline.ingest(s, log=logged.append)
    assert limits == [("300MB", 1), ("600MB", 2)]  # the linkage's own connection gets twice its limit too
    assert any("running again with 600MB" in m for m in logged)
    assert res.tables["stg_screenings"] == res.tables["identity_vault"] > 0
    con = duckdb.connect(str(pipeline.build_path(s)), read_only=True)
    try:  # the failed attempt left nothing
        assert not con.sql("SELECT * FROM duckdb_tables() WHERE table_name = 'half_loaded'").fetchall()
    finally:
        con.close()

    # an operator's explicit limit is theirs: no second attempt
    limits.clear()
    with temporary_env(CT_PSEUDONYM_KEY=key, CT_DUCKDB_MEMORY_LIMIT="300MB"), pytest.raises(duckdb.OutOfMemoryException):
        pipeline.ingest(get_settings(raw_exports_dir=exports, warehouse_dir=tmp_path / "wh2", key_file=tmp_path / "no.key"))
    assert limits == [("300MB", 1)]


def test_a_load_the_disk_cannot_hold_is_refused_before_anything_is_written(exports, tmp_path, monkeypatch):
    """Less free space than DISK_PER_EXPORT_BYTE x the exports: a clear error naming the sizes,
    nothing loaded; the next night with room loads everything; CT_SKIP_DISK_CHECK=1 skips it."""
    import shutil
    from collections import namedtuple

    import ct_pipeline.ingest.disk as disk

    key = "v1:" + "ab" * 32
    s = get_settings(raw_exports_dir=exports, warehouse_dir=tmp_path / "wh", key_file=tmp_path / "no.key")
    size = sum(p.stat().st_size for p in exports.rglob("*") if p.is_file() and p.name != "README.md")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage(10 * size, 9 * size, 3 * size))
    with temporary_env(CT_PSEUDONYM_KEY=key), pytest.raises(disk.InsufficientDiskSpace) as err:
        pipeline.ingest(s)
    msg = str(err.value)
    assert "Not enough free disk space" in msg and "Nothing was loaded" in msg and "GiB" in msg
    con = duckdb.connect(str(pipeline.build_path(s)), read_only=True)
    try:  # the transaction rolled back: not even the tables it creates are there
        assert con.sql("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'raw_%'").fetchall()[0][0] == 0
    finally:
        con.close()
    with temporary_env(CT_PSEUDONYM_KEY=key, CT_SKIP_DISK_CHECK="false"), pytest.raises(disk.InsufficientDiskSpace):
        pipeline.ingest(s)  # "false" does not switch the check off
    with temporary_env(CT_PSEUDONYM_KEY=key, CT_SKIP_DISK_CHECK="1"):
        assert pipeline.ingest(s).tables["stg_screenings"] > 0
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage(10 * size, 5 * size, 5 * size))
    with temporary_env(CT_PSEUDONYM_KEY=key):  # nothing new to read: no check, nothing to refuse
        assert pipeline.ingest(s).tables["stg_screenings"] > 0
