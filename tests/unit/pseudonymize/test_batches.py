"""Batch-by-batch pseudonymisation ends with the same tables as pseudonymising the run at once."""

from __future__ import annotations

import polars as pl
import pytest

from ct_pipeline.metadata.ddl import table_ddl
from ct_pipeline.pseudonymize import load_identities, pseudonymize, store_identities
from ct_pipeline.pseudonymize.batches import BatchPseudonymizer

KEY = ["source_file", "source_row"]


def _stg_tables(con) -> None:
    for t in ("stg_screenings", "stg_assistance"):
        con.execute(table_ddl(t))


def _batches(s: pl.DataFrame, a: pl.DataFrame, n: int):
    files = sorted(set(s["source_file"]) | set(a["source_file"]))
    for i in range(n):
        part = files[i::n]
        yield s.filter(pl.col("source_file").is_in(part)), a.filter(pl.col("source_file").is_in(part)), part


def test_file_chunks_hold_whole_files_once_in_order():
    from ct_pipeline.pseudonymize.batches import file_chunks

    s = pl.DataFrame({"source_file": ["a"] * 3 + ["b"] * 5 + ["c"] * 2 + ["d"], "source_row": range(11)})
    a = pl.DataFrame({"source_file": ["b", "c", "e"], "source_row": [1, 2, 3]})
    chunks = list(file_chunks(s, a, 4))
    assert [sorted(set(cs["source_file"]) | set(ca["source_file"])) for cs, ca in chunks] == [
        ["a"], ["b"], ["c", "d"], ["e"]]  # b (6 records) alone: a file is never split
    assert pl.concat([cs for cs, _ in chunks]).equals(s) and pl.concat([ca for _, ca in chunks]).equals(a)
    assert len(list(file_chunks(s, a, 100))) == 1


def _table(con, t: str) -> pl.DataFrame:
    return con.sql(f"SELECT * FROM {t}").pl().sort(KEY)


def _vault(con) -> pl.DataFrame:
    return con.sql("SELECT source_file, source_row, case_token, person_token, identity_token FROM identity_vault").pl().sort(KEY)


@pytest.mark.parametrize("chunk_rows", [200_000, 50])  # 50: each batch written a few files at a time
def test_batches_equal_one_pass(con, key, typed, restricted, tmp_path, monkeypatch, chunk_rows):
    from ct_pipeline.pseudonymize import batches
    from ct_pipeline.pseudonymize.restricted import restricted_connection

    monkeypatch.setattr(batches, "ADD_CHUNK_ROWS", chunk_rows)

    s, a, _ = typed
    s = s.sort(KEY)  # the batches' linkage takes the records in file and row order
    whole = pseudonymize(s, a, key, restricted_dir=restricted)
    ref = restricted_connection(tmp_path / "ref" / "ref.duckdb")
    _stg_tables(ref)
    store_identities(ref, whole.identities, key)

    _stg_tables(con)
    bp = BatchPseudonymizer(con, key, restricted_dir=restricted)
    for bs, ba, files in _batches(s, a, 3):
        bp.add(bs, ba, files)
    report = bp.finish()

    assert _table(con, "stg_screenings").equals(whole.stg_screenings.sort(KEY))
    assert _table(con, "stg_assistance").equals(whole.stg_assistance.sort(KEY))
    assert _vault(con).equals(_vault(ref))
    assert report["person_tokens_changed"] > 0  # linkage merged some records: tokens were updated
    ref.close()


def test_second_night_in_batches_equals_one_pass(con, key, typed, restricted, tmp_path):
    """Prior identities from the vault keep their person_tokens; relinked prior rows are updated."""
    from ct_pipeline.pseudonymize.restricted import restricted_connection

    s, a, _ = typed
    s = s.sort(KEY)
    files = sorted(s["source_file"].unique().to_list())
    night1 = s.filter(pl.col("source_file").is_in(files[::2]))
    night2 = s.filter(~pl.col("source_file").is_in(files[::2]))
    none = a.head(0)

    ref = restricted_connection(tmp_path / "ref" / "ref.duckdb")
    _stg_tables(ref)
    first = pseudonymize(night1, none, key, restricted_dir=restricted)
    store_identities(ref, first.identities, key)
    prior = load_identities(ref, key, reason="nightly record linkage", who="ct_pipeline")
    second = pseudonymize(night2, none, key, prior_identities=prior, restricted_dir=restricted)
    store_identities(ref, second.identities, key)
    moved = second.relinked
    expected_stg = pl.concat([first.stg_screenings, second.stg_screenings]).sort(KEY)
    if moved is not None and moved.height:
        expected_stg = expected_stg.update(moved, on=KEY)
        ref.register("_m", moved)
        ref.execute("UPDATE identity_vault v SET person_token = m.person_token FROM _m m "
                    "WHERE v.source_file = m.source_file AND v.source_row = m.source_row")

    _stg_tables(con)
    for night in (night1, night2):
        bp = BatchPseudonymizer(con, key, restricted_dir=restricted)
        for bs, ba, fs in _batches(night, none, 2):
            bp.add(bs, ba, fs)
        bp.finish()
    assert _table(con, "stg_screenings").equals(expected_stg)
    assert _vault(con).equals(_vault(ref))
    ref.close()


def test_the_batching_does_not_change_the_persons(con, key, typed, restricted, tmp_path):
    from ct_pipeline.pseudonymize.restricted import restricted_connection

    s, a, _ = typed
    tokens = []
    for n, c in ((1, con), (4, restricted_connection(tmp_path / "other" / "o.duckdb"))):
        _stg_tables(c)
        bp = BatchPseudonymizer(c, key, restricted_dir=restricted)
        for bs, ba, files in _batches(s.sample(fraction=1.0, shuffle=True, seed=n), a, n):
            bp.add(bs, ba, files)
        bp.finish()
        tokens.append(_table(c, "stg_screenings").select(*KEY, "person_token"))
    assert tokens[0].equals(tokens[1])


def test_a_reloaded_file_replaces_its_stg_rows(con, key, typed, restricted):
    s, a, _ = typed
    _stg_tables(con)
    for _ in range(2):
        bp = BatchPseudonymizer(con, key, restricted_dir=restricted)
        for bs, ba, files in _batches(s, a, 2):
            bp.add(bs, ba, files)
        bp.finish()
    assert con.sql("SELECT count(*) FROM stg_screenings").fetchall()[0][0] == s.height
    assert con.sql("SELECT count(*) FROM stg_assistance").fetchall()[0][0] == a.height
    assert con.sql("SELECT count(*) FROM identity_vault").fetchall()[0][0] == s.height


def test_a_reloaded_file_without_screenings_leaves_no_identity_behind(con, key, typed, restricted):
    """The tables keep no key index: a reload deletes the file's earlier rows everywhere, also
    when its new copy brings no screening record (no identity to replace the old ones)."""
    s, a, _ = typed
    _stg_tables(con)
    bp = BatchPseudonymizer(con, key, restricted_dir=restricted)
    bp.add(s, a, sorted(set(s["source_file"]) | set(a["source_file"])))
    bp.finish()
    gone = s["source_file"][0]
    bp = BatchPseudonymizer(con, key, restricted_dir=restricted)
    bp.add(s.head(0), a.filter(pl.col("source_file") == gone), [gone])
    bp.finish()
    for t in ("stg_screenings", "identity_vault"):
        assert con.execute(f"SELECT count(*) FROM {t} WHERE source_file = ?", [gone]).fetchall()[0][0] == 0, t
        assert con.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0] == s.filter(pl.col("source_file") != gone).height


def test_a_full_load_writes_the_held_rows_in_the_order_they_came(con, key, typed, restricted):
    """A full load holds the vault's and stg_screenings' rows until the linkage has set their
    person_tokens (an UPDATE of rows the transaction appended makes DuckDB log the whole table);
    written once, they keep their order, and carry the linked tokens."""
    s, a, _ = typed
    _stg_tables(con)
    con.execute("SET threads = 4")
    con.execute("BEGIN")
    bp = BatchPseudonymizer(con, key, restricted_dir=restricted)
    order = []
    for bs, ba, files in _batches(s, a, 3):
        bp.add(bs, ba, files)
        order.append(bs.select(KEY))
    assert bp._pending
    bp.finish()
    con.execute("COMMIT")
    expected = pl.concat(order)
    for t in ("stg_screenings", "identity_vault"):
        assert con.sql(f"SELECT source_file, source_row FROM {t} ORDER BY rowid").pl().equals(expected), t
    assert not con.sql("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '_pending%'").fetchall()[0][0]
    linked = con.sql("SELECT count(*) FROM identity_vault WHERE person_token <> identity_token").fetchall()[0][0]
    assert linked == con.sql("SELECT count(*) FROM stg_screenings s JOIN identity_vault v USING (source_file, source_row) "
                             "WHERE s.person_token = v.person_token AND v.person_token <> v.identity_token").fetchall()[0][0]
    assert linked > 0


def test_the_held_rows_are_written_under_the_write_limit(con, key, typed, restricted):
    """A full load keeps the ingest's tight memory limit for its batches and raises it to write the
    held rows (under 514 MB that INSERT went to one thread, reading back spilled rows)."""
    import duckdb

    def shown(limit: str) -> str:  # DuckDB's own display of a limit (1024MB is shown in MiB)
        scratch = duckdb.connect()
        try:
            scratch.execute(f"SET memory_limit = '{limit}'")
            return scratch.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]
        finally:
            scratch.close()

    def limit_now() -> str:
        return con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]

    s, a, _ = typed
    _stg_tables(con)
    con.execute("SET memory_limit = '300MB'")
    con.execute("BEGIN")
    bp = BatchPseudonymizer(con, key, restricted_dir=restricted, write_memory_limit="1024MB")
    for bs, ba, files in _batches(s, a, 2):
        bp.add(bs, ba, files)
        assert limit_now() == shown("300MB")  # the batches run under the caller's limit
    assert bp._pending
    bp.finish()  # (only `_write_pending` sets the limit: the held rows were written under it)
    con.execute("COMMIT")
    assert limit_now() == shown("1024MB")


def test_the_write_limit_follows_the_ingest_limit(monkeypatch):
    from ct_pipeline.pipeline import _write_memory_limit

    monkeypatch.delenv("CT_DUCKDB_MEMORY_LIMIT", raising=False)
    assert _write_memory_limit("514MB") == "1024MB"
    assert _write_memory_limit("2867MB") == "2867MB"  # ten million cases: already more
    assert _write_memory_limit("1028MB", memory_scale=2) == "2048MB"  # the retry doubles it too
    monkeypatch.setenv("CT_DUCKDB_MEMORY_LIMIT", "300MB")  # an operator's limit is theirs
    assert _write_memory_limit("300MB") is None
