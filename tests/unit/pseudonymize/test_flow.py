"""The nightly flow: vault → prior identities → pseudonymize the new exports → vault again."""

from __future__ import annotations

import polars as pl

from ct_pipeline.pseudonymize import (
    load_identities,
    pseudonymize,
    store_identities,
    update_person_tokens,
    vault_lookup,
)


def test_second_night_keeps_person_tokens(con, key, typed, restricted):
    s, a, _ = typed
    files = sorted(s["source_file"].unique().to_list())
    night1, night2 = s.filter(pl.col("source_file").is_in(files[::2])), s.filter(~pl.col("source_file").is_in(files[::2]))
    first = pseudonymize(night1, a.head(0), key, restricted_dir=restricted)
    store_identities(con, first.identities, key)

    prior = load_identities(con, key, reason="nightly re-linkage of persons", who="pipeline")
    second = pseudonymize(night2, a.head(0), key, prior_identities=prior, restricted_dir=restricted)
    store_identities(con, second.identities, key)
    changed = update_person_tokens(con, second.person_links)
    assert changed == second.report.get("relinked", 0) == second.relinked.height

    # a person seen on night 1 keeps the token analysts already have (unless two were merged)
    tokens1 = set(first.stg_screenings["person_token"])
    reused = second.stg_screenings.filter(pl.col("person_token").is_in(list(tokens1)))
    assert reused.height > 0
    # the vault answers for the new night's tokens, and logged both accesses
    tok = second.stg_screenings["person_token"][0]
    assert vault_lookup(con, key, tok, reason="case management follow-up", who="custodian")
    assert con.sql("SELECT count(*) FROM identity_vault").fetchall()[0][0] == s.height
    assert con.sql("SELECT count(*) FROM vault_audit_log").fetchall()[0][0] == 2
