"""Key rotation: the vault re-tokenised consistently, old -> new map kept in the restricted zone."""

from __future__ import annotations

import os
import stat

import polars as pl
import pytest

from ct_pipeline.pseudonymize import keys as K
from ct_pipeline.pseudonymize import rotation as Rot
from ct_pipeline.pseudonymize import vault as V
from ct_pipeline.pseudonymize.tokens import pseudonymize


def test_rotation_is_consistent(con, key, other_key, typed):
    s, a, _ = typed
    s = s.head(120)
    before = pseudonymize(s, a.head(50), key)
    V.store_identities(con, before.identities, key)

    report = Rot.retokenize_vault(con, key, other_key, who="custodian")
    assert (report.old_key_version, report.new_key_version, report.records) == ("v1", "v2", 120)

    # re-tokenised analyst frames equal what a fresh run under the new key gives
    after = pseudonymize(s, a.head(50), other_key, prior_identities=None)
    mapping = Rot.token_map(con, "v1")
    cols = ["source_file", "source_row", "case_token", "person_token", "key_version"]
    moved = Rot.apply_token_map(before.stg_screenings, mapping, key_version="v2")
    assert moved.select(cols).sort(cols[:2]).equals(after.stg_screenings.select(cols).sort(cols[:2]))
    moved_a = Rot.apply_token_map(before.stg_assistance, mapping, key_version="v2")
    assert moved_a["case_token"].to_list() == after.stg_assistance["case_token"].to_list()

    # the vault opens with the new key only, and its tokens are the new ones
    row = after.identities.row(0, named=True)
    found = V.vault_lookup(con, other_key, row["case_token"], reason="check after key rotation", who="c")
    assert found and found[0]["family_name"] == row["family_name"] or found[0]["full_name"] == row["full_name"]
    with pytest.raises(V.VaultError):
        V.vault_lookup(con, key, row["case_token"], reason="old key must not open it", who="c")
    v = con.sql("SELECT person_token, key_version FROM identity_vault").pl()
    assert set(v["key_version"]) == {"v2"}
    assert set(v["person_token"]) == set(after.identities["person_token"])
    assert set(mapping["token_kind"]) == {"case", "person"}


def test_retokenize_table_sql(con, key, other_key, typed):
    s, a, _ = typed
    before = pseudonymize(s.head(40), a.head(0), key, link=False)
    V.store_identities(con, before.identities, key)
    Rot.retokenize_vault(con, key, other_key)
    con.register("stg_in", before.stg_screenings)
    con.execute("CREATE TABLE stg_screenings AS SELECT * FROM stg_in")
    con.execute(Rot.retokenize_table_sql("stg_screenings", new_key_version="v2", map_table="token_rotation_map"))
    got = con.sql("SELECT case_token, key_version FROM stg_screenings ORDER BY source_file, source_row").pl()
    want = pseudonymize(s.head(40), a.head(0), other_key, link=False).stg_screenings.sort("source_file", "source_row")
    assert got["case_token"].to_list() == want["case_token"].to_list() and set(got["key_version"]) == {"v2"}


def test_rotate_key_installs_the_new_key_file(con, key, tmp_path, typed):
    s, a, _ = typed
    path = tmp_path / "keys" / "pseudonym.key"
    old = K.init_key(path)
    V.store_identities(con, pseudonymize(s.head(10), a.head(0), old, link=False).identities, old)
    new, report = Rot.rotate_key(con, old, path, who="custodian")
    assert new.version == "v2" and K.load_key(path) == new and report.key_file == path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not (tmp_path / "keys" / "pseudonym.key.new").exists()
    assert V.verify_audit_log(con) and V.audit_log(con)["looked_up_token"].to_list() == ["*"]


def test_rotation_refuses_same_key(con, key):
    with pytest.raises(K.KeyFileError):
        Rot.retokenize_vault(con, key, key)
    with pytest.raises(K.KeyFileError):
        Rot.retokenize_vault(con, key, K.PseudonymKey(key.secret, "v9"))
    assert isinstance(Rot.token_map(con), pl.DataFrame)
