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
