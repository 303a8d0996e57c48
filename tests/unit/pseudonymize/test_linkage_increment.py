"""Incremental linkage: a small night links against the linkage state, as well as a full re-linkage
would; a stale or damaged state falls back to a full linkage; the state file is sealed."""

from __future__ import annotations

import polars as pl
import pytest

from ct_pipeline.metadata.ddl import table_ddl
from ct_pipeline.pseudonymize import linkage_state
from ct_pipeline.pseudonymize.batches import BatchPseudonymizer
from ct_pipeline.pseudonymize.linkage import measure_linkage
from ct_pipeline.pseudonymize.linkage_state import (
    LinkageStateError,
    delta_path,
    load_state,
    read_header,
    state_path,
    vault_digest,
)
from ct_pipeline.pseudonymize.restricted import restricted_connection
from ct_pipeline.pseudonymize.variants import synthetic_assistance, synthetic_screenings

KEY = ["source_file", "source_row"]


@pytest.fixture(scope="module")
def nights():
    """~1,900 screening records of 1,500 persons; night 2 = one file in ten (~10 %)."""
    s, truth = synthetic_screenings(1500, seed=11)
    a = synthetic_assistance(s, seed=11)
    files = sorted(s["source_file"].unique().to_list())
    late = set(files[::10])
    pick = pl.col("source_file").is_in(sorted(late))
    return (s.filter(~pick), a.filter(~pick)), (s.filter(pick), a.filter(pick)), truth


def _night(con, key, restricted, s, a) -> dict:
    for t in ("stg_screenings", "stg_assistance"):
        con.execute(table_ddl(t))
    bp = BatchPseudonymizer(con, key, restricted_dir=restricted)
    bp.add(s, a, sorted(set(s["source_file"]) | set(a["source_file"])))
    return bp.finish()


def _vault(con) -> pl.DataFrame:
    return con.sql("SELECT source_file, source_row, identity_token, person_token FROM identity_vault").pl().sort(KEY)


def _two_nights(tmp_path, key, nights, name: str, monkeypatch, full: bool):
    restricted = tmp_path / name
    con = restricted_connection(restricted / "build.duckdb")
    (s1, a1), (s2, a2), _ = nights
    r1 = _night(con, key, restricted, s1, a1)
    before = _vault(con)
    if full:
        monkeypatch.setenv("CT_LINKAGE_FULL", "1")
    r2 = _night(con, key, restricted, s2, a2)
    monkeypatch.delenv("CT_LINKAGE_FULL", raising=False)
    return con, r1, r2, before, restricted


def test_incremental_night_links_as_well_as_a_full_relink(tmp_path, key, nights, monkeypatch):
    _, (s2, _), truth = nights
    con, r1, r2, before, restricted = _two_nights(tmp_path, key, nights, "inc", monkeypatch, full=False)
    assert r1["linkage_incremental"] == 0 and r2["linkage_incremental"] == 1
    inc = _vault(con)
    assert inc.height == before.height + s2.height and inc["person_token"].null_count() == 0
    # earlier records keep their tokens unless new evidence merged two earlier persons
    moved = before.join(inc, on=KEY, suffix="_2").filter(pl.col("person_token") != pl.col("person_token_2"))
    assert set(moved["person_token_2"]) <= set(before["person_token"])
    assert moved.height <= 0.02 * before.height

    ref, _, r2_full, _, _ = _two_nights(tmp_path, key, nights, "full", monkeypatch, full=True)
    assert r2_full["linkage_incremental"] == 0
    q_inc = measure_linkage(truth, inc)
    q_full = measure_linkage(truth, _vault(ref))
    assert q_inc.records == q_full.records == inc.height
    # the same model, fixed since night 1: as good as re-estimating it on all records
    assert q_inc.precision >= q_full.precision - 0.01, (str(q_inc), str(q_full))
    assert q_inc.recall >= q_full.recall - 0.01, (str(q_inc), str(q_full))
    # the state describes the vault after the night: its person_tokens are the vault's
    assert read_header(restricted)["records"] == inc.height
    # ... and the vault's digest, derived from the night's changes (an earlier record was relinked
    # here), is the one read from every row
    assert read_header(restricted)["vault_digest"] == vault_digest(con)
    con.close()
    ref.close()


def _after_first_night(tmp_path, key, nights, name: str):
    restricted = tmp_path / name
    con = restricted_connection(restricted / "build.duckdb")
    (s1, a1), _, _ = nights
    _night(con, key, restricted, s1, a1)
    return con, restricted


def test_a_stale_state_falls_back_to_a_full_linkage(tmp_path, key, nights):
    con, restricted = _after_first_night(tmp_path, key, nights, "stale")
    (s1, _), (s2, a2), _ = nights
    # the vault changed another way (a custodian's repair, a crash before COMMIT): digest differs
    before = vault_digest(con)
    con.execute("UPDATE identity_vault SET person_token = identity_token WHERE (source_file, source_row) IN "
                "(SELECT (source_file, source_row) FROM identity_vault WHERE person_token <> identity_token LIMIT 1)")
    assert vault_digest(con) != before
    r2 = _night(con, key, restricted, s2, a2)
    assert r2["linkage_incremental"] == 0
    # ... and the full linkage wrote a fresh state: the next small night is incremental again
    assert read_header(restricted)["records"] == s1.height + s2.height
    assert read_header(restricted)["vault_digest"] == vault_digest(con)
    con.close()


def test_a_damaged_state_is_refused_and_relinked_in_full(tmp_path, key, nights):
    con, restricted = _after_first_night(tmp_path, key, nights, "damaged")
    _, (s2, a2), _ = nights
    p = state_path(restricted)
    raw = bytearray(p.read_bytes())
    raw[-40] ^= 0xFF  # one flipped bit in the sealed records
    p.write_bytes(bytes(raw))
    r2 = _night(con, key, restricted, s2, a2)
    assert r2["linkage_incremental"] == 0
    con.close()


def test_state_file_is_sealed_and_owner_only(tmp_path, key, nights):
    con, restricted = _after_first_night(tmp_path, key, nights, "sealed")
    (s1, _), _, _ = nights
    p = state_path(restricted)
    assert p.stat().st_mode & 0o077 == 0
    raw = p.read_bytes()
    names = [n for n in s1["family_name"].drop_nulls().unique().to_list() if len(n) >= 6][:50]
    assert names and not any(n.upper().encode() in raw or n.encode() in raw for n in names)
    docs = [d for d in s1["document_number"].drop_nulls().unique().to_list() if len(d) >= 6][:50]
    assert not any(d.encode() in raw for d in docs)
    # the clear header holds numbers only
    header = read_header(restricted)
    assert set(header) == {"format", "key_version", "vault_digest", "model", "records", "chunks", "file_id"}
    # the records were written by DuckDB in clear before sealing: that file is gone
    assert not list(tmp_path.rglob("linkage_state_records*"))
    con.close()


def test_an_old_model_is_fitted_again_by_a_full_linkage(tmp_path, key, nights, monkeypatch):
    import datetime as dt

    from ct_pipeline.pseudonymize.linkage_increment import model_is_stale

    today = dt.date(2026, 12, 2)
    assert not model_is_stale({"fitted_on": "2026-11-20"}, today)
    assert model_is_stale({"fitted_on": "2026-11-02"}, today)  # 30 days
    assert model_is_stale({}, today)  # a state without its fitting date
    monkeypatch.setenv("CT_LINKAGE_REFIT_DAYS", "60")
    assert not model_is_stale({"fitted_on": "2026-11-02"}, today)
    # a night whose stored model is due: linked in full (the model fitted again)
    monkeypatch.setenv("CT_LINKAGE_REFIT_DAYS", "0")
    con, restricted = _after_first_night(tmp_path, key, nights, "refit")
    _, (s2, a2), _ = nights
    assert _night(con, key, restricted, s2, a2)["linkage_incremental"] == 0
    assert read_header(restricted)["model"]["fitted_on"] == dt.date.today().isoformat()
    con.close()


def test_a_full_linkage_hands_its_state_over_as_a_restricted_file(tmp_path, key, nights, monkeypatch):
    from ct_pipeline.pseudonymize import batches

    seen = []
    real = batches.save_state

    def spy(folder, state, k, **kw):
        seen.append((state.records, state.records.exists(), state.records.stat().st_mode & 0o077))
        return real(folder, state, k, **kw)

    monkeypatch.setattr(batches, "save_state", spy)
    con, restricted = _after_first_night(tmp_path, key, nights, "handover")
    [(path, existed, group_other)] = seen
    assert existed and group_other == 0 and restricted in path.parents  # written in the restricted zone
    assert not path.exists()  # and gone once sealed
    con.close()


def _three_nights(tmp_path, key, nights, name: str):
    """Night 1 in full, then the files of night 2 in two incremental nights."""
    restricted = tmp_path / name
    con = restricted_connection(restricted / "build.duckdb")
    (s1, a1), (s2, a2), _ = nights
    files = sorted(s2["source_file"].unique().to_list())
    halves = [set(files[::2]), set(files[1::2])]
    reports, states = [_night(con, key, restricted, s1, a1)], []
    for half in halves:
        pick = pl.col("source_file").is_in(sorted(half))
        reports.append(_night(con, key, restricted, s2.filter(pick), a2.filter(pick)))
        states.append((state_path(restricted).read_bytes(), delta_path(restricted).exists()))
    return con, restricted, reports, states


def test_a_night_writes_a_delta_of_the_state_and_links_as_with_a_whole_file(tmp_path, key, nights, monkeypatch):
    # these nights are large for their population (a night changes ~10 % of its records)
    monkeypatch.setattr(linkage_state, "DELTA_SHARE", 0.5)
    con, restricted, reports, states = _three_nights(tmp_path, key, nights, "delta")
    assert [r["linkage_incremental"] for r in reports] == [0, 1, 1]
    # both incremental nights wrote a delta; the base file was not rewritten
    assert states[0][1] and states[1][1] and states[0][0] == states[1][0]
    header = read_header(restricted)
    assert header["records"] == _vault(con).height and header["vault_digest"] == vault_digest(con)
    assert 0 < header["delta_records"] < header["records"]
    with_delta = _vault(con)
    con.close()

    monkeypatch.setattr(linkage_state, "DELTA_SHARE", 0.0)  # every night writes the whole state
    con, restricted, reports, states = _three_nights(tmp_path, key, nights, "whole")
    assert [r["linkage_incremental"] for r in reports] == [0, 1, 1]
    assert not states[0][1] and not states[1][1] and states[0][0] != states[1][0]
    assert "delta_records" not in read_header(restricted)
    assert _vault(con).equals(with_delta)  # the same persons, tokens and all
    con.close()


def test_a_delta_of_another_base_is_ignored_and_a_damaged_one_refused(tmp_path, key, nights, monkeypatch):
    monkeypatch.setattr(linkage_state, "DELTA_SHARE", 0.5)
    con, restricted, _, _ = _three_nights(tmp_path, key, nights, "mine")
    other, other_restricted, _, _ = _three_nights(tmp_path, key, nights, "other")
    # a delta left from another base (a crash between a new base and the delta's removal):
    # not applied; the base alone does not describe this vault, so the state is not used
    delta_path(restricted).write_bytes(delta_path(other_restricted).read_bytes())
    assert load_state(restricted, key, vault_digest(con)) is None
    assert not delta_path(restricted).exists()
    # a damaged delta of this base: refused like a damaged base
    raw = bytearray(delta_path(other_restricted).read_bytes())
    raw[-40] ^= 0xFF
    delta_path(other_restricted).write_bytes(bytes(raw))
    with pytest.raises(LinkageStateError):
        load_state(other_restricted, key, vault_digest(other))
    con.close()
    other.close()


def test_a_delta_beyond_its_share_is_merged_into_a_new_base(tmp_path, key, nights, monkeypatch):
    monkeypatch.setattr(linkage_state, "DELTA_SHARE", 0.12)  # the first night's delta fits, not two
    con, restricted, reports, states = _three_nights(tmp_path, key, nights, "compacted")
    assert [r["linkage_incremental"] for r in reports] == [0, 1, 1]
    assert states[0][1] and not states[1][1] and states[0][0] != states[1][0]
    assert read_header(restricted)["vault_digest"] == vault_digest(con)
    assert "delta_records" not in read_header(restricted)
    con.close()


def test_both_linkages_size_their_own_connection_and_scale_it(tmp_path, key, nights, monkeypatch):
    """A full and an incremental linkage open their in-memory connection with
    `linkage_memory_limit`, times the pseudonymiser's memory_scale (the ingest's OutOfMemory retry
    passes 2)."""
    from ct_pipeline.pseudonymize import restricted as restricted_mod

    monkeypatch.delenv("CT_DUCKDB_MEMORY_LIMIT", raising=False)
    real, opened = restricted_mod.restricted_connection, []

    def spy(path=None, **kw):
        if path is None:
            opened.append(kw.get("memory_limit"))
        return real(path, **kw)

    restricted = tmp_path / "scaled"
    con = real(restricted / "build.duckdb")
    monkeypatch.setattr(restricted_mod, "restricted_connection", spy)
    (s1, a1), (s2, a2), _ = nights
    for s, a in ((s1, a1), (s2, a2)):
        for t in ("stg_screenings", "stg_assistance"):
            con.execute(table_ddl(t))
        bp = BatchPseudonymizer(con, key, restricted_dir=restricted, memory_scale=2)
        bp.add(s, a, sorted(set(s["source_file"]) | set(a["source_file"])))
        report = bp.finish()
    assert report["linkage_incremental"] == 1
    assert opened == ["1024MiB", "1024MiB"]  # a few thousand records: 512 MiB, twice
    con.close()


def test_the_vault_digest_sees_persons_merged_split_or_retokened():
    """Each row's part of the digest is a hash of the whole row: changes that touch a value an even
    number of times (two 2-record persons merged, a 4-record person re-tokened, a person split in
    two) change it. (An XOR of per-column hashes over the rows missed all three.)"""
    import duckdb

    def digest(rows):
        con = duckdb.connect()
        con.execute("CREATE TABLE identity_vault (source_file VARCHAR, source_row BIGINT, identity_token VARCHAR, "
                    "person_token VARCHAR)")
        con.executemany("INSERT INTO identity_vault VALUES (?, ?, ?, ?)", rows)
        try:
            return vault_digest(con)
        finally:
            con.close()

    files = ["M1/2024-01-01/a.csv", "M1/2024-01-01/a.csv", "M2/2024-02-01/b.csv", "M2/2024-02-01/b.csv"]
    ids = ["i1", "i2", "i3", "i4"]
    two_persons = [(f, r, i, p) for r, (f, i, p) in enumerate(zip(files, ids, ["p1", "p1", "p3", "p3"], strict=True))]
    merged = [(f, r, i, "p1") for r, (f, i) in enumerate(zip(files, ids, strict=True))]
    retokened = [(f, r, i, "p9") for r, (f, i) in enumerate(zip(files, ids, strict=True))]
    split = [(f, r, i, p) for r, (f, i, p) in enumerate(zip(files, ids, ["p1", "p2", "p1", "p2"], strict=True))]
    digests = {digest(rows) for rows in (two_persons, merged, retokened, split)}
    assert len(digests) == 4
    # order-free: the same rows in another order give the same digest
    assert digest(two_persons[::-1]) == digest(two_persons)


def test_the_night_keeps_the_state_as_it_was_chunked(tmp_path, key, nights):
    """The state comes in row groups; a column chunked otherwise makes polars rechunk the whole
    frame at its next select (a copy of every earlier record: gigabytes at ten million). The state
    the night returns keeps the input's chunks, and the links are those of the state in one chunk."""
    from ct_pipeline.pseudonymize.linkage_increment import _chunked_like, link_increment
    from ct_pipeline.pseudonymize.tokens import identities_frame

    con, restricted = _after_first_night(tmp_path, key, nights, "chunks")
    state = load_state(restricted, key, vault_digest(con))
    records = state.records
    step = -(-records.height // 4)
    chunked = pl.concat([records.slice(i, step) for i in range(0, records.height, step)], rechunk=False)
    assert {chunked[c].n_chunks() for c in chunked.columns} == {4}
    _, (s2, _), _ = nights
    ids = identities_frame(s2, key)
    links_a, state_a, _ = link_increment(ids, chunked, state.model, restricted_dir=restricted)
    links_b, state_b, _ = link_increment(ids, records.rechunk(), state.model, restricted_dir=restricted)
    assert {state_a[c].n_chunks() for c in state_a.columns} == {5}  # 4 row groups + the night's records
    assert state_a.equals(state_b)
    assert links_a.sort(KEY).equals(links_b.sort(KEY))
    # the helper: the values, sliced as the reference is chunked
    ref = pl.concat([pl.Series([1, 2]), pl.Series([3]), pl.Series([4, 5, 6])], rechunk=False)
    out = _chunked_like(ref, pl.Series(["a", "b", "c", "d", "e", "f"]), "x")
    assert [len(c) for c in out.get_chunks()] == [2, 1, 3] and out.to_list() == list("abcdef") and out.name == "x"


def test_a_state_of_many_chunks_opens_whole_and_a_cut_one_is_refused(tmp_path, key, nights, monkeypatch):
    """Sealed in chunks of 4 KiB (64 MiB in use), decrypted in place into one buffer: the same
    records as one chunk; a file cut short, or with bytes after its last chunk, is refused as
    damaged (the night then links in full), not a crash."""
    con, restricted = _after_first_night(tmp_path, key, nights, "one_chunk")
    whole = load_state(restricted, key, vault_digest(con)).records
    monkeypatch.setattr(linkage_state, "CHUNK", 4096)
    linkage_state.save_state(restricted, load_state(restricted, key, vault_digest(con)), key)
    p = state_path(restricted)
    assert read_header(restricted)["chunks"] > 10
    assert load_state(restricted, key, vault_digest(con)).records.equals(whole)
    raw = p.read_bytes()
    for damaged in (raw[:-100], raw[: len(raw) - 4096], raw + b"\0" * 20):
        p.write_bytes(damaged)
        with pytest.raises(LinkageStateError):
            load_state(restricted, key, vault_digest(con))
    con.close()
