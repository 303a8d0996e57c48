"""The restricted zone on disk: folders 0700, files 0600, DuckDB spill files inside."""

from __future__ import annotations

import os
import stat
import tempfile

from ct_pipeline.pseudonymize import restricted as R


def mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_ensure_restricted_dir_creates_and_tightens(tmp_path):
    d = R.ensure_restricted_dir(tmp_path / "a" / "b" / "restricted")
    assert mode(d) == mode(d.parent) == mode(d.parent.parent) == 0o700
    os.chmod(d, 0o755)
    R.ensure_restricted_dir(d)
    assert mode(d) == 0o700


def test_write_restricted_file_is_0600_even_with_a_lax_umask(tmp_path):
    old = os.umask(0o000)
    try:
        p = R.write_restricted_file(tmp_path / "r" / "x.json", "{}")
    finally:
        os.umask(old)
    assert mode(p) == 0o600 and mode(p.parent) == 0o700 and p.read_text() == "{}"
    R.write_restricted_file(p, b"again")
    assert p.read_bytes() == b"again" and mode(p) == 0o600
    assert [f.name for f in p.parent.iterdir()] == ["x.json"]  # no temp file left behind


def test_restricted_connection_spills_inside_the_restricted_dir(tmp_path):
    db = tmp_path / "restricted" / "restricted.duckdb"
    con = R.restricted_connection(db)
    try:
        temp = con.sql("SELECT current_setting('temp_directory')").fetchall()[0][0]
        assert os.path.realpath(temp).startswith(os.path.realpath(tmp_path / "restricted"))
        con.execute("CREATE TABLE t AS SELECT range AS i FROM range(10)")
    finally:
        con.close()
    assert mode(db) == 0o600 and mode(db.parent) == 0o700
    assert R.permission_problems(db.parent) == []
    mem = R.restricted_connection(None, restricted_dir=tmp_path / "r2")
    try:
        temp = mem.sql("SELECT current_setting('temp_directory')").fetchall()[0][0]
        assert os.path.realpath(temp).startswith(os.path.realpath(tmp_path / "r2"))
    finally:
        mem.close()


def test_permission_problems_and_tighten(tmp_path):
    d = R.ensure_restricted_dir(tmp_path / "r")
    (d / "leak.csv").write_text("x")
    os.chmod(d / "leak.csv", 0o644)
    problems = R.permission_problems(d)
    assert len(problems) == 1 and "leak.csv" in problems[0]
    assert R.tighten_files(d) == 1 and R.permission_problems(d) == []


def test_harden_process_points_temp_files_inside(tmp_path, monkeypatch):
    for var in ("TMPDIR", "POLARS_TEMP_DIR"):
        monkeypatch.delenv(var, raising=False)
    old_umask = os.umask(0o022)
    old_tempdir = tempfile.tempdir
    try:
        tmp = R.harden_process(tmp_path / "restricted")
        assert os.environ["TMPDIR"] == os.environ["POLARS_TEMP_DIR"] == str(tmp)
        with tempfile.NamedTemporaryFile() as fh:
            assert fh.name.startswith(str(tmp)) and mode(fh.name) == 0o600
        probe = tmp_path / "restricted" / "probe"
        probe.write_text("x")
        assert mode(probe) == 0o600  # umask 077
    finally:
        os.umask(old_umask)
        tempfile.tempdir = old_tempdir


def test_duckdb_memory_limit_grows_with_the_database_up_to_a_share_of_the_machine(tmp_path, monkeypatch):
    from ct_pipeline.pseudonymize import restricted

    monkeypatch.delenv("CT_DUCKDB_MEMORY_LIMIT", raising=False)
    small, big = tmp_path / "small.duckdb", tmp_path / "big.duckdb"
    small.write_bytes(b"x")
    with open(big, "wb") as fh:  # sparse: no disk used
        fh.truncate(10 << 30)
    machine = 24 << 30
    monkeypatch.setattr(restricted.os, "sysconf", lambda name: {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": machine // 4096}[name])
    assert restricted.duckdb_memory_limit(None) == "2048MB"  # in memory: the floor
    assert restricted.duckdb_memory_limit(small) == "2048MB"
    assert restricted.duckdb_memory_limit(big) == f"{5 << 10}MB"  # half the file
    machine = 8 << 30
    assert restricted.duckdb_memory_limit(big) == f"{int((8 << 30) * 0.4) >> 20}MB"  # the machine's share
    monkeypatch.setenv("CT_DUCKDB_MEMORY_LIMIT", "3GB")
    assert restricted.duckdb_memory_limit(big) == "3GB"
    con = restricted.restricted_connection(big.with_name("real.duckdb"), restricted_dir=tmp_path / "r")
    try:
        assert con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0].startswith("2.7")  # 3GB = 2.7 GiB
    finally:
        con.close()


def test_the_linkage_connection_is_sized_to_its_records(tmp_path, monkeypatch):
    """The linkage's in-memory connection gets 1 KiB a record between 512 MB and 2 GB, not the
    2 GB floor of every in-memory connection (1.3 GB held for nothing at a million records)."""
    from ct_pipeline.pseudonymize import restricted

    monkeypatch.delenv("CT_DUCKDB_MEMORY_LIMIT", raising=False)
    assert restricted.linkage_memory_limit(1_000) == "512MiB"
    assert restricted.linkage_memory_limit(1_000_000) == "976MiB"
    assert restricted.linkage_memory_limit(10_000_000) == "2048MiB"
    con = restricted.restricted_connection(None, restricted_dir=tmp_path / "r",
                                           memory_limit=restricted.linkage_memory_limit(1_000_000))
    try:
        assert con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0] == "976.0 MiB"
    finally:
        con.close()
    monkeypatch.setenv("CT_DUCKDB_MEMORY_LIMIT", "3GB")
    assert restricted.linkage_memory_limit(1_000_000) == "3GB"


def test_check_run_keys_guards_the_runs_files_without_an_index():
    """The restricted tables keep no key index: a key shared among the run's files' rows
    is refused; rows of other files are not the run's to check (they could not have changed)."""
    import duckdb
    import pytest

    from ct_pipeline.metadata.ddl import table_ddl

    con = duckdb.connect()
    con.execute(table_ddl("raw_assistance"))
    assert "PRIMARY KEY" not in table_ddl("raw_assistance")
    cols = "source_file, source_row, source_sha256, era, mission_code, received_date"
    con.execute(f"INSERT INTO raw_assistance ({cols}) VALUES ('M/old.csv', 1, 'x', 'e', 'M', DATE '2020-01-01'), ('M/old.csv', 1, 'x', 'e', 'M', DATE '2020-01-01')")
    con.execute(f"INSERT INTO raw_assistance ({cols}) VALUES ('M/new.csv', 1, 'x', 'e', 'M', DATE '2020-01-01'), ('M/new.csv', 2, 'x', 'e', 'M', DATE '2020-01-01')")
    R.check_run_keys(con, ["raw_assistance"], ["M/new.csv"])
    R.check_run_keys(con, ["raw_assistance"], [])
    with pytest.raises(R.KeyCollision, match=r"raw_assistance: 1 keys \(source_file, source_row\) held by more than one row"):
        R.check_run_keys(con, ["raw_assistance"], ["M/new.csv", "M/old.csv"])
