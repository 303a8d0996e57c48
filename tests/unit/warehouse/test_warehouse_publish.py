"""Publishing: only analyst/public tables, documented, atomic; read-only queries."""

from __future__ import annotations

import json
import os
import shutil
import sys

import duckdb
import pytest

from ct_pipeline.metadata.ddl import table_ddl
from ct_pipeline.metadata.registry import load_registry
from ct_pipeline.settings import get_settings
from ct_pipeline.warehouse import (
    QueryRefused,
    build_db_path,
    connect_build,
    load_core,
    publish,
    query,
)
from ct_pipeline.warehouse.publish import VIEWS
from ct_pipeline.warehouse.synthetic import insert_stg, synthetic_night, synthetic_stg
from ct_pipeline.warehouse.tables import PARTITIONED_FACTS

CANARY = "Canary Zyxwvut"


def _build(con):
    s = synthetic_stg(300, seed=11)
    insert_stg(con, s.stg_screenings, s.stg_assistance)
    # restricted tables live in the same build database: they must never be published
    con.execute(table_ddl("raw_screenings"))
    con.execute(table_ddl("quarantine"))
    con.execute(
        "INSERT INTO raw_screenings (source_file, source_row, source_sha256, era, mission_code, received_date, "
        "case_ref, full_name, registration_date) VALUES ('TH-BKK/2020-01-01/x.xlsx', 1, 'x', 'mimosa_xlsx', "
        f"'TH-BKK', DATE '2020-01-01', 'REF-1', '{CANARY}', '2020-01-01')"
    )
    con.execute("CREATE TABLE identity_vault (person_token VARCHAR, full_name VARCHAR)")  # not even in the registry
    con.execute(f"INSERT INTO identity_vault VALUES ('p', '{CANARY}')")
    load_core(con)


@pytest.fixture(scope="module")
def built_file(tmp_path_factory):
    settings = get_settings(warehouse_dir=tmp_path_factory.mktemp("wh"))
    con = connect_build(settings)
    _build(con)
    con.close()
    return build_db_path(settings)


@pytest.fixture
def built(settings, built_file):
    """A fresh copy of the module's build database, for tests that change it."""
    target = build_db_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(built_file, target)
    con = connect_build(settings)
    yield con
    con.close()


@pytest.fixture(scope="module")
def published(built_file):
    """Settings whose ct.duckdb was published once from the module's build database (read-only tests)."""
    settings = get_settings(warehouse_dir=built_file.parent.parent)
    publish(settings, built_file)
    return settings


def _published(settings):
    return duckdb.connect(str(settings.analyst_db), read_only=True)


def test_only_analyst_and_public_tables_are_published(published):
    settings = published
    reg = load_registry()
    with _published(settings) as ro:
        tables = {r[0] for r in ro.sql("SELECT table_name FROM duckdb_tables() WHERE NOT internal").fetchall()}
        views = {r[0] for r in ro.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert tables, "nothing published"
    assert all(t in reg.tables and reg.tables[t].zone in ("analyst", "public") for t in tables)
    assert not ({"raw_screenings", "quarantine", "identity_vault"} & tables)
    assert {"fct_cases", "fct_screenings", "dim_persons", "stg_screenings", "warehouse_ledger"} <= tables
    assert views == set(VIEWS)
    assert CANARY.encode() not in settings.analyst_db.read_bytes()


def test_every_table_view_and_column_has_a_comment(published):
    settings = published
    with _published(settings) as ro:
        assert ro.sql("SELECT count(*) FROM duckdb_tables() WHERE NOT internal AND comment IS NULL").fetchall() == [(0,)]
        assert ro.sql("SELECT count(*) FROM duckdb_views() WHERE NOT internal AND comment IS NULL").fetchall() == [(0,)]
        missing = ro.sql("SELECT table_name, column_name FROM duckdb_columns() "
                         "WHERE NOT internal AND (comment IS NULL OR comment = '')").fetchall()
        assert missing == []
        grain = ro.sql("SELECT comment FROM duckdb_tables() WHERE table_name = 'fct_cases'").fetchall()[0][0]
        assert "Grain: one row per case" in grain


def test_warehouse_tables_and_data_dictionary(settings, built):
    result = publish(settings, built, parquet=False)
    with _published(settings) as ro:
        listed = dict(ro.sql("SELECT table_name, row_count FROM warehouse_tables").fetchall())
        assert listed == result.tables
        for t, n in listed.items():
            assert ro.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0] == n
        assert ro.sql("SELECT grain FROM warehouse_tables WHERE table_name = 'fct_route_legs'").fetchall()[0][0] \
            .startswith("one row per leg")
        dd = ro.sql("SELECT count(*), count(DISTINCT table_name) FROM data_dictionary").fetchall()[0]
        cols = ro.sql("SELECT count(*) FROM duckdb_columns() c JOIN duckdb_tables() t USING (table_oid) "
                      "WHERE NOT t.internal").fetchall()[0][0]
        assert dd == (cols, len(listed))
        assert ro.sql("SELECT count(*) FROM data_dictionary WHERE pii = 'direct'").fetchall() == [(0,)]
        assert ro.sql("SELECT code_label FROM code_lists WHERE codelist = 'victim_status' AND code = 'victim'"
                      ).fetchall() == [("Victim of trafficking",)]


def test_parquet_partitioned_by_registration_year(settings, built):
    publish(settings, built)
    pq = settings.parquet_dir
    assert pq.is_symlink()
    for t in PARTITIONED_FACTS:
        assert any(p.name.startswith("registration_year=") for p in (pq / t).iterdir())
    reader = duckdb.connect()
    for t in ("fct_cases", "fct_assistance"):
        n = reader.sql(f"SELECT count(*) FROM read_parquet('{pq}/{t}/*/*.parquet', hive_partitioning = true)"
                       ).fetchall()[0][0]
        assert n == built.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0]
    assert (pq / "dim_countries.parquet").exists()
    assert not (pq / "stg_screenings").exists()
    # a second publish swaps the link and keeps one previous generation only
    first = os.readlink(pq)
    publish(settings, built)
    publish(settings, built)
    generations = sorted(p.name for p in settings.warehouse_dir.glob(".parquet-*"))
    assert len(generations) == 2 and first not in generations


def test_publish_is_atomic_for_open_readers(settings, built):
    publish(settings, built, parquet=False)
    old = _published(settings)
    before = old.sql("SELECT count(*) FROM fct_screenings").fetchall()[0][0]
    night = synthetic_night(300, n_new=25, n_changed=5, seed=11)
    insert_stg(built, night.stg_screenings, night.stg_assistance)
    load_core(built)
    publish(settings, built, parquet=False)
    assert old.sql("SELECT count(*) FROM fct_screenings").fetchall()[0][0] == before  # its snapshot
    old.close()
    with _published(settings) as new:
        assert new.sql("SELECT count(*) FROM fct_screenings").fetchall()[0][0] == before + 25
    assert not list(settings.warehouse_dir.glob("ct.duckdb.tmp-*"))
    assert not list(settings.warehouse_dir.glob("*.wal"))


def test_publish_from_a_build_path(settings, built):
    built.close()
    publish(settings, build_db_path(settings), parquet=False)
    assert "fct_cases" in query(settings, "SELECT table_name FROM warehouse_tables", "csv")


def test_stale_temporaries_of_a_killed_publish_are_removed(settings, built):
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    dead = 2**22 + 12345  # above pid_max on Linux: never alive
    (settings.warehouse_dir / f"ct.duckdb.tmp-{dead}").write_bytes(b"half a file")
    (settings.warehouse_dir / f".parquet-new-1-{dead}").mkdir()
    publish(settings, built, parquet=False)
    assert not (settings.warehouse_dir / f"ct.duckdb.tmp-{dead}").exists()
    assert not (settings.warehouse_dir / f".parquet-new-1-{dead}").exists()


def test_query_formats(published):
    settings = published
    with _published(settings) as ro:
        n = ro.sql("SELECT count(*) FROM fct_cases").fetchall()[0][0]
    assert query(settings, "SELECT count(*) AS n FROM fct_cases", "csv") == f"n\n{n}\n"
    assert json.loads(query(settings, "SELECT count(*) AS n FROM fct_cases", "json")) == [{"n": n}]
    table = query(settings, "SELECT case_token, exploitation_types FROM fct_cases ORDER BY 1 LIMIT 3")
    assert "case_token" in table and "exploitation_types" in table
    csv = query(settings, "SELECT exploitation_types FROM fct_cases WHERE len(exploitation_types) = 2 LIMIT 1", "csv")
    assert "|" in csv.splitlines()[1]
    with pytest.raises(ValueError):
        query(settings, "SELECT 1", "xml")


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM fct_cases",
        "CREATE TABLE x AS SELECT 1",
        "DROP TABLE fct_cases",
        "SELECT 1; DELETE FROM fct_cases",
        "COPY fct_cases TO '/tmp/ct_leak.csv'",
        "ATTACH '/tmp/other.duckdb' AS o",
        "INSTALL httpfs",
        "SET enable_external_access = true",
    ],
)
def test_query_refuses_writes(published, sql):
    settings = published
    with pytest.raises((QueryRefused, duckdb.Error)):
        query(settings, sql)
    with _published(settings) as ro:
        assert ro.sql("SELECT count(*) FROM fct_cases").fetchall()[0][0] > 0


def test_query_cannot_read_files_either(published):
    settings = published
    with pytest.raises(duckdb.Error):
        query(settings, "SELECT * FROM read_csv('/etc/passwd')")


def test_query_without_a_published_file(settings):
    with pytest.raises(FileNotFoundError):
        query(settings, "SELECT 1")


def test_query_sees_a_new_publish_even_with_a_connection_open_in_this_process(settings, built):
    publish(settings, built, parquet=False)
    held = _published(settings)  # DuckDB caches the database per path in this process
    night = synthetic_night(300, n_new=10, n_changed=0, seed=11)
    insert_stg(built, night.stg_screenings, night.stg_assistance)
    load_core(built)
    publish(settings, built, parquet=False)
    expected = built.sql("SELECT count(*) FROM fct_screenings").fetchall()[0][0]
    assert query(settings, "SELECT count(*) AS n FROM fct_screenings", "csv") == f"n\n{expected}\n"
    held.close()


def _snapshot(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.sql("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        return {t: sorted(map(repr, con.sql(f"SELECT * FROM {t}").fetchall())) for t in tables}
    finally:
        con.close()


def _parquet_rows(settings):
    con = duckdb.connect()
    out = {}
    for p in sorted(settings.parquet_dir.iterdir()):
        glob = str(p / "**" / "*.parquet") if p.is_dir() else str(p)
        out[p.name] = sorted(map(repr, con.sql(f"SELECT * EXCLUDE (registration_year) FROM read_parquet('{glob}', "
                                               "hive_partitioning=true, union_by_name=true)").fetchall()
                             if p.is_dir() else con.sql(f"SELECT * FROM read_parquet('{glob}')").fetchall()))
    return out


def test_an_incremental_publish_equals_a_whole_one(settings, built, tmp_path):
    publish(settings, built)  # whole file: no record of an earlier publish
    record = settings.analyst_db.with_name(f".{settings.analyst_db.name}.publish.json")
    assert record.exists()
    # the next night: one year's cases change, one dimension row is added
    built.execute("UPDATE fct_cases SET exploitation_days = coalesce(exploitation_days, 0) + 1 "
                  "WHERE registration_year = (SELECT max(registration_year) FROM fct_cases)")
    before = os.stat(settings.analyst_db).st_ino
    result = publish(settings, built)
    assert result.incremental and "fct_cases" in result.rewritten and "dim_countries" not in result.rewritten
    assert os.stat(settings.analyst_db).st_ino != before  # still a new file, renamed over the old one
    incremental, incremental_parquet = _snapshot(settings.analyst_db), _parquet_rows(settings)
    # the same build published whole into another folder
    other = get_settings(warehouse_dir=tmp_path / "whole")
    publish(other, built, incremental=False)
    assert incremental == _snapshot(other.analyst_db)
    assert incremental_parquet == _parquet_rows(other)
    assert result.tables["fct_cases"] == built.sql("SELECT count(*) FROM fct_cases").fetchall()[0][0]


def test_a_publish_after_the_file_was_replaced_rebuilds_it_whole(settings, built):
    publish(settings, built, parquet=False)
    con = duckdb.connect(str(settings.analyst_db))  # someone writes into the published file
    con.execute("DELETE FROM fct_cases")
    con.close()
    assert not publish(settings, built, parquet=False).incremental
    con = _published(settings)
    assert con.sql("SELECT count(*) FROM fct_cases").fetchall()[0][0] == \
        built.sql("SELECT count(*) FROM fct_cases").fetchall()[0][0]
    con.close()


def test_an_incremental_publish_after_a_night_equals_a_whole_one(settings, built, tmp_path):
    # a night as the pipeline makes it: new files, cases exported again (new versions supersede
    # rows of old files), a person relinked in an old file - each kind of change unit is touched
    publish(settings, built)
    night = synthetic_night(300, n_new=25, n_changed=10, n_unchanged=5, seed=11)
    insert_stg(built, night.stg_screenings, night.stg_assistance)
    built.execute("""UPDATE stg_screenings SET person_token = 'relinked-person'
                     WHERE rowid = (SELECT min(rowid) FROM stg_screenings WHERE person_token IS NOT NULL)""")
    load_core(built)
    # and changes no count shows: a list emptied, and one date shifted alike in two columns
    built.execute("""UPDATE fct_cases SET exploitation_types = CASE WHEN exploitation_types IS NULL THEN []
                     ELSE NULL END WHERE rowid = (SELECT min(rowid) FROM fct_cases)""")
    built.execute("""UPDATE fct_screenings SET registration_date = registration_date + 1,
                     identification_date = identification_date + 1
                     WHERE rowid = (SELECT min(rowid) FROM fct_screenings WHERE identification_date = registration_date)""")
    result = publish(settings, built)
    assert result.incremental
    assert {"stg_screenings", "fct_case_versions", "fct_cases", "fct_screenings"} <= set(result.rewritten)
    assert "dim_countries" not in result.rewritten
    other = get_settings(warehouse_dir=tmp_path / "whole")
    publish(other, built, incremental=False)
    assert _snapshot(settings.analyst_db) == _snapshot(other.analyst_db)
    assert _parquet_rows(settings) == _parquet_rows(other)


def test_the_row_hash_sees_what_duckdbs_hash_misses():
    from ct_pipeline.warehouse.publish import row_hash

    con = duckdb.connect()
    # the registry's columns and types, without its NOT NULL constraints (rows of a few values)
    con.execute("ATTACH ':memory:' AS registry")
    con.execute("USE registry")
    con.execute(table_ddl("stg_screenings"))
    con.execute("USE memory")
    con.execute("CREATE TABLE stg_screenings AS FROM registry.stg_screenings LIMIT 0")
    paths = ("BY-MINSK/2025-01-11/cases_20250108.jsonl", "BY-MINSK/2025-05-11/cases_20250508.jsonl")
    # why not DuckDB's hash() alone: these two paths collide, and so do the lists NULL, [] and [NULL]
    assert con.sql(f"SELECT hash('{paths[0]}') = hash('{paths[1]}')").fetchall() == [(True,)]
    assert con.sql("SELECT hash(NULL::VARCHAR[]) = hash([]::VARCHAR[]) AND hash([NULL]::VARCHAR[]) = "
                   "hash([]::VARCHAR[])").fetchall() == [(True,)]

    def h(**values) -> int:
        con.execute("DELETE FROM stg_screenings")
        row = {"case_token": "c1", "source_file": "f", "source_row": 1, "mission_code": "TH-BKK", **values}
        con.execute(f"INSERT INTO stg_screenings ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    list(row.values()))
        return con.sql(f"SELECT sum({row_hash(con, 'memory', 'stg_screenings')}) FROM stg_screenings").fetchall()[0][0]

    assert h(identifying_agency=paths[0]) != h(identifying_agency=paths[1])
    assert h(sex="female", citizenship="male") != h(sex="male", citizenship="female")
    lists = [h(exploitation_types=v) for v in (None, [], [None], ["sexual", "labour"], ["labour", "sexual"],
                                                ["sexual", "sexual"])]
    assert len(set(lists)) == len(lists)
    same = h(registration_date="2020-01-01", identification_date="2020-01-01")
    assert same != h(registration_date="2020-01-02", identification_date="2020-01-02")
    assert h() == h() and h(person_token=None) != h(person_token="")


def test_rows_that_cannot_be_matched_one_to_one_rewrite_their_unit(settings, built, tmp_path):
    # a row twice (no primary key stops it in the build) cannot be matched by its hash: the
    # incremental publish notices the counts do not add up and rewrites the unit whole
    publish(settings, built, parquet=False)
    built.execute("INSERT INTO fct_cases SELECT * FROM fct_cases WHERE rowid = (SELECT min(rowid) FROM fct_cases)")
    built.execute("INSERT INTO dim_missions SELECT * FROM dim_missions LIMIT 1")
    result = publish(settings, built, parquet=False)
    assert result.incremental and {"fct_cases", "dim_missions"} <= set(result.rewritten)
    other = get_settings(warehouse_dir=tmp_path / "whole")
    publish(other, built, incremental=False, parquet=False)
    assert _snapshot(settings.analyst_db) == _snapshot(other.analyst_db)


def test_a_record_of_an_earlier_format_rebuilds_the_file_whole(settings, built, tmp_path):
    # format 2 summed the column hashes of a row as HUGEINT; this format XORs them: fingerprints of
    # the two cannot be compared, so such a record is not trusted
    from ct_pipeline.warehouse.publish import RECORD_FORMAT

    assert RECORD_FORMAT >= 3
    publish(settings, built, parquet=False)
    record = settings.analyst_db.with_name(f".{settings.analyst_db.name}.publish.json")
    doc = json.loads(record.read_text())
    record.write_text(json.dumps({**doc, "format": 2}))
    built.execute("UPDATE fct_cases SET exploitation_days = coalesce(exploitation_days, 0) + 1 "
                  "WHERE rowid = (SELECT min(rowid) FROM fct_cases)")
    assert not publish(settings, built, parquet=False).incremental
    other = get_settings(warehouse_dir=tmp_path / "whole")
    publish(other, built, incremental=False, parquet=False)
    assert _snapshot(settings.analyst_db) == _snapshot(other.analyst_db)


def test_the_row_hash_is_one_64_bit_value_per_row(built):
    # the column hashes are combined by XOR into a UBIGINT (not added up as HUGEINT: a third of
    # the fingerprints' CPU); the fingerprint still sums the rows, so duplicates count
    from ct_pipeline.warehouse.publish import row_hash

    db = built.sql("SELECT current_database()").fetchall()[0][0]
    assert built.sql(f"SELECT typeof({row_hash(built, db, 'fct_cases')}) FROM fct_cases LIMIT 1").fetchall() == \
        [("UBIGINT",)]


def test_a_failed_copy_of_the_last_file_leaves_it_and_no_temporary(settings, built, monkeypatch):
    # the byte copy runs in a thread while the build is hashed: its error must still surface,
    # after the thread ended, and the publish must clean up as for any other failure
    import importlib

    publish_module = importlib.import_module("ct_pipeline.warehouse.publish")  # the package exports the function
    publish(settings, built, parquet=False)
    before = os.stat(settings.analyst_db).st_ino

    def broken_copy(src, dst):
        with open(dst, "wb") as f:
            f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(publish_module.shutil, "copyfile", broken_copy)
    with pytest.raises(OSError, match="disk full"):
        publish(settings, built, parquet=False)
    assert os.stat(settings.analyst_db).st_ino == before
    assert not list(settings.warehouse_dir.glob("ct.duckdb.tmp-*"))


@pytest.mark.parametrize("side", ["analyst file", "parquet"])
def test_a_failure_on_either_side_publishes_nothing_and_stops_the_other(settings, built, monkeypatch, side):
    # the Parquet generation runs on a second connection beside the analyst file: a failure of
    # either stops the other (the Parquet at its next table), and nothing is published or left
    import importlib

    publish_module = importlib.import_module("ct_pipeline.warehouse.publish")
    publish(settings, built)
    before = os.stat(settings.analyst_db).st_ino
    generation = os.readlink(settings.parquet_dir)
    copied = []
    real_copy = publish_module._copy_parquet

    def copy_parquet(con, src_db, t, target, parts):
        copied.append(t)
        if side == "parquet":
            raise OSError("disk full")
        real_copy(con, src_db, t, target, parts)

    def views_sql(tables, counts):
        if side == "analyst file":
            raise RuntimeError("analyst side failed")
        return real_views(tables, counts)

    real_views = publish_module._views_sql
    monkeypatch.setattr(publish_module, "_copy_parquet", copy_parquet)
    monkeypatch.setattr(publish_module, "_views_sql", views_sql)
    monkeypatch.setattr(publish_module, "_previous", lambda s: None)  # every table written anew
    with pytest.raises((OSError, RuntimeError)):
        publish(settings, built)
    assert os.stat(settings.analyst_db).st_ino == before and os.readlink(settings.parquet_dir) == generation
    assert not list(settings.warehouse_dir.glob("ct.duckdb.tmp-*"))
    assert not list(settings.warehouse_dir.glob(".parquet-new-*"))
    if side == "parquet":
        assert len(copied) == 1  # the first table failed: none after it
    built.execute("SELECT 1").fetchall()  # the build connection is usable, no transaction left open
    monkeypatch.undo()
    publish(settings, built)  # and the next publish works


def _indexes_in(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return sorted(con.sql("SELECT table_name, expressions FROM duckdb_indexes()").fetchall())
    finally:
        con.close()


def _declared_lookups():
    reg = load_registry()
    return sorted((t, f"[{c}]") for t, spec in reg.tables.items() if spec.zone != "restricted"
                  for c in spec.lookup_index)


def test_the_published_file_indexes_the_registrys_lookup_columns(settings, built):
    declared = _declared_lookups()
    assert declared == [("fct_assistance", "[case_token]"), ("fct_cases", "[person_token]")]
    publish(settings, built, parquet=False)
    assert _indexes_in(settings.analyst_db) == declared
    assert not built.sql("SELECT count(*) FROM duckdb_indexes()").fetchall()[0][0]  # the build has none
    con = _published(settings)
    try:
        token = con.sql("SELECT person_token FROM fct_cases WHERE person_token IS NOT NULL LIMIT 1").fetchall()[0][0]
        # (DuckDB 2.0 decides at run time: EXPLAIN says "Sequential Scan", EXPLAIN ANALYZE what ran)
        plan = con.sql(f"EXPLAIN ANALYZE SELECT * FROM fct_cases WHERE person_token = '{token}'").fetchall()[0][1]
        assert "Type: Index Scan" in plan, plan
        listed = dict(con.sql("SELECT table_name, lookup_index FROM warehouse_tables").fetchall())
        assert listed["fct_cases"] == "person_token" and listed["fct_assistance"] == "case_token"
        assert listed["dim_countries"] is None
    finally:
        con.close()


def test_lookup_indexes_survive_an_incremental_publish_and_answer_alike(settings, built, tmp_path):
    publish(settings, built, parquet=False)
    night = synthetic_night(300, n_new=25, n_changed=10, n_unchanged=5, seed=11)
    insert_stg(built, night.stg_screenings, night.stg_assistance)
    load_core(built)
    result = publish(settings, built, parquet=False)
    assert result.incremental and {"fct_cases", "fct_assistance"} <= set(result.rewritten)
    assert _indexes_in(settings.analyst_db) == _declared_lookups()
    assert built.sql("SELECT count(DISTINCT person_token) FROM fct_cases").fetchall()[0][0] > 100
    _person_lookups_agree(settings, built)


def test_an_index_the_registry_no_longer_declares_is_dropped(settings, built, monkeypatch):
    publish(settings, built, parquet=False)
    # (load_registry is cached: every caller sees the changed table spec)
    tables = load_registry().tables
    monkeypatch.setitem(tables, "fct_cases", tables["fct_cases"].model_copy(update={"lookup_index": ["case_token"]}))
    assert publish(settings, built, parquet=False).incremental  # the indexes changed in the copy of the last file
    got = _indexes_in(settings.analyst_db)
    assert ("fct_cases", "[case_token]") in got and ("fct_cases", "[person_token]") not in got


def _person_lookups_agree(settings, built):
    """Every person's cases and their assistance, looked up in the published file (by its indexes)
    and in the build (no index): the same rows."""
    con = _published(settings)
    try:
        plan = con.sql("EXPLAIN ANALYZE SELECT * FROM fct_cases WHERE person_token = "
                       "(SELECT min(person_token) FROM fct_cases)").fetchall()[0][1]
        assert "Type: Index Scan" in plan, plan
        tokens = [r[0] for r in built.sql("SELECT DISTINCT person_token FROM fct_cases "
                                          "WHERE person_token IS NOT NULL ORDER BY 1").fetchall()]
        q = "SELECT case_token, count(a.case_token) FROM fct_cases c LEFT JOIN fct_assistance a USING (case_token) " \
            "WHERE c.person_token = ? GROUP BY ALL ORDER BY 1"
        assert all(con.execute(q, [t]).fetchall() == built.execute(q, [t]).fetchall() for t in tokens)
        cases = [r[0] for r in built.sql("SELECT DISTINCT case_token FROM fct_assistance ORDER BY 1").fetchall()]
        q = "SELECT count(*) FROM fct_assistance WHERE case_token = ?"
        assert all(con.execute(q, [c]).fetchall() == built.execute(q, [c]).fetchall() for c in cases)
    finally:
        con.close()


def test_a_table_whose_ddl_changed_is_written_anew_with_its_indexes(settings, built, monkeypatch):
    publish(settings, built, parquet=False)
    pub = sys.modules["ct_pipeline.warehouse.publish"]
    real = pub.warehouse_ddl
    # the same table, its DDL text changed (a new comment): its fingerprint says "create it anew"
    monkeypatch.setattr(pub, "warehouse_ddl", lambda t, **kw: real(t, **kw) + ("\n-- v2" if t == "fct_cases" else ""))
    result = publish(settings, built, parquet=False)
    assert result.incremental and "fct_cases" in result.rewritten
    assert _indexes_in(settings.analyst_db) == _declared_lookups()
    _person_lookups_agree(settings, built)


def test_an_indexed_table_that_mostly_changed_is_written_anew(settings, built, monkeypatch):
    publish(settings, built, parquet=False)
    pub = sys.modules["ct_pipeline.warehouse.publish"]
    rewritten = []
    real = pub._rewrite_table
    monkeypatch.setattr(pub, "_rewrite_table", lambda con, src, t: (rewritten.append(t), real(con, src, t)))
    # every case changes (as in a key rotation): in place, DuckDB would keep the index up row by row
    built.execute("UPDATE fct_cases SET exploitation_days = coalesce(exploitation_days, 0) + 1")
    # and a few assistance rows: below the share, changed in place with its index kept
    built.execute("UPDATE fct_assistance SET assistance_days = coalesce(assistance_days, 0) + 1 "
                  "WHERE rowid < 3")
    result = publish(settings, built, parquet=False)
    assert result.incremental and {"fct_cases", "fct_assistance"} <= set(result.rewritten)
    assert rewritten == ["fct_cases"]
    assert _indexes_in(settings.analyst_db) == _declared_lookups()
    _person_lookups_agree(settings, built)
