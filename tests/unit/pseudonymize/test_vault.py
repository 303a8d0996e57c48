"""Identity vault: AES-GCM at rest, audited lookups, a reason that leaks no identity."""

from __future__ import annotations

import polars as pl
import pytest

from ct_pipeline.pseudonymize import vault as V
from ct_pipeline.pseudonymize.tokens import pseudonymize


@pytest.fixture
def stored(con, key, typed):
    s, a, _ = typed
    out = pseudonymize(s.head(60), a.head(0), key, link=False)
    V.store_identities(con, out.identities, key)
    return out


def test_round_trip_and_audit(con, key, stored):
    row = stored.identities.row(0, named=True)
    found = V.vault_lookup(con, key, row["case_token"], reason="case review for reintegration", who="custodian1")
    assert found and all(f["case_token"] == row["case_token"] for f in found)
    me = next(f for f in found if f["source_row"] == row["source_row"] and f["source_file"] == row["source_file"])
    for f in ("given_name", "family_name", "full_name", "date_of_birth", "document_number", "case_ref", "mission_code"):
        assert me[f] == row[f]
    by_person = V.vault_lookup(con, key, row["person_token"], reason="follow-up of assistance", who="custodian1")
    assert {f["source_row"] for f in by_person} >= {row["source_row"]}
    log = V.audit_log(con)
    assert log.height == 2
    last = log.row(0, named=True)
    assert last["looked_up_token"] == row["case_token"] and last["looked_up_by"] == "custodian1"
    assert last["lookup_reason"] == "case review for reintegration" and last["returned_count"] == len(found)
    assert V.verify_audit_log(con)


def test_unknown_token_is_still_audited(con, key, stored):
    assert V.vault_lookup(con, key, "0" * 32, reason="checking a token from a report", who="c") == []
    assert V.audit_log(con)["returned_count"].to_list() == [0]


def test_reason_is_required_and_must_not_identify(con, key, stored):
    row = stored.identities.filter(pl.col("family_name").is_not_null() | pl.col("full_name").is_not_null()).row(0, named=True)
    with pytest.raises(V.ReasonError):
        V.vault_lookup(con, key, row["case_token"], reason="  ", who="c")
    with pytest.raises(V.ReasonError):
        V.vault_lookup(con, key, row["case_token"], reason=None, who="c")  # type: ignore[arg-type]
    assert V.audit_log(con).height == 0
    name = (row["family_name"] or row["full_name"]).split()[0]
    with pytest.raises(V.ReasonError, match="identifying") as e:
        V.vault_lookup(con, key, row["case_token"], reason=f"call back {name} about shelter", who="c")
    assert name not in str(e.value)
    log = V.audit_log(con)
    assert log.height == 1 and log["returned_count"].to_list() == [0]
    assert name.casefold() not in " ".join(log["lookup_reason"]).casefold()


def test_ciphertext_and_database_file_hold_no_plaintext(con, key, stored, restricted):
    sealed = con.sql("SELECT sealed_identity FROM identity_vault").pl()["sealed_identity"].to_list()
    assert len(sealed) == stored.identities.height and len(set(sealed)) == len(sealed)
    con.execute("CHECKPOINT")
    raw = (restricted / "restricted.duckdb").read_bytes()
    names = set()
    for col in ("given_name", "family_name", "full_name", "document_number", "phone", "case_ref"):
        names |= {v for v in stored.identities[col].drop_nulls().to_list() if len(v) >= 5}
    assert names
    blob = " ".join(sealed)
    for v in names:
        assert v not in blob
        assert v.encode("utf-8") not in raw


def test_tampered_or_moved_ciphertext_fails(con, key, stored, other_key):
    con.execute(
        "UPDATE identity_vault SET sealed_identity = (SELECT sealed_identity FROM identity_vault ORDER BY source_row DESC LIMIT 1) "
        "WHERE source_row = (SELECT min(source_row) FROM identity_vault)"
    )
    row = con.sql("SELECT case_token FROM identity_vault ORDER BY source_row LIMIT 1").fetchall()[0][0]
    with pytest.raises(V.VaultError, match="failed authentication"):
        V.vault_lookup(con, key, row, reason="integrity check of the vault", who="c")
    with pytest.raises(V.VaultError, match="key version"):
        V.vault_lookup(con, other_key, row, reason="integrity check of the vault", who="c")


def test_audit_chain_detects_edits(con, key, stored):
    tok = stored.identities["case_token"][0]
    for r in ("first lookup reason", "second lookup reason", "third lookup reason"):
        V.vault_lookup(con, key, tok, reason=r, who="c")
    assert V.verify_audit_log(con)
    con.execute("DELETE FROM vault_audit_log WHERE audit_seq = 2")
    assert not V.verify_audit_log(con)


def test_load_identities_returns_the_frame(con, key, stored):
    back = V.load_identities(con, key, reason="re-linkage of persons", who="pipeline")
    cols = ["source_file", "source_row", "given_name", "family_name", "date_of_birth", "case_token", "person_token"]
    assert back.sort(cols[:2]).select(cols).equals(stored.identities.sort(cols[:2]).select(cols))
    assert V.audit_log(con)["looked_up_token"].to_list() == ["*"]


def test_sealing_a_frame_equals_sealing_row_by_row(key, typed):
    """seal_frame builds the payloads for the whole frame: they open to what `seal` would seal."""
    import json

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    s, a, _ = typed
    ident = pseudonymize(s.head(80), a.head(0), key, link=False).identities
    cols = [c for c in (*V.IDENTITY_FIELDS, *V.EPISODE_FIELDS) if c in ident.columns]
    aes = AESGCM(V.vault_key(key))
    sealed = V.seal_frame(ident, cols, key)
    for row, blob in zip(ident.iter_rows(named=True), sealed, strict=True):
        aad = V._aad(row["source_file"], row["source_row"], key.version)
        raw = __import__("base64").b64decode(blob)
        payload = aes.decrypt(raw[: V.NONCE_BYTES], raw[V.NONCE_BYTES :], aad)
        expected = json.dumps({c: row[c] for c in cols}, ensure_ascii=False, separators=(",", ":"), default=str)
        assert payload.decode() == expected
        assert V.unseal(aes, blob, aad) == V.unseal(aes, V.seal(aes, {c: row[c] for c in cols}, aad), aad)
    assert len({b[:16] for b in sealed}) == len(sealed)  # a fresh nonce per record


def test_load_identities_reads_back_what_was_stored_in_chunks(con, key, typed, monkeypatch):
    """Chunked, whole-frame decryption gives what a record-by-record one gives, in file/row order."""
    s, a, _ = typed
    ident = pseudonymize(s, a.head(0), key, link=False).identities
    V.store_identities(con, ident, key)
    monkeypatch.setattr(V, "VAULT_READ_ROWS", 7)  # many chunks
    got = V.load_identities(con, key, reason="nightly record linkage", who="pipeline")
    rows = con.execute(
        "SELECT source_file, source_row, case_token, person_token, identity_token, identity_basis, key_version, "
        "sealed_identity FROM identity_vault ORDER BY source_file, source_row"
    ).fetchall()
    ref = pl.DataFrame(V._decrypt_rows(rows, key), infer_schema_length=None)
    assert got.height == ident.height == ref.height
    assert got.select(ref.columns).equals(ref.select([pl.col(c).cast(got.schema[c]) for c in ref.columns]))
    assert got.sort("source_file", "source_row").equals(got)
    assert V.audit_log(con)["returned_count"].to_list() == [ident.height]


def test_load_identities_refuses_an_altered_record(con, key, stored):
    con.execute(
        "UPDATE identity_vault SET sealed_identity = (SELECT sealed_identity FROM identity_vault "
        "ORDER BY source_row DESC LIMIT 1) WHERE source_row = (SELECT min(source_row) FROM identity_vault)"
    )
    with pytest.raises(V.VaultError, match="failed authentication"):
        V.load_identities(con, key, reason="nightly record linkage", who="pipeline")
