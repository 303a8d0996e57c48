"""The linkage compares names through the key pseudonymisation normalised once (``nk``): the same
links as from the three name columns, and the same key `pseudonymize` hands on."""

from __future__ import annotations

import polars as pl
import pytest

from ct_pipeline.pseudonymize.linkage import (
    NAME_COLUMNS,
    _linkage_input,
    link_persons,
    missing_inputs,
)
from ct_pipeline.pseudonymize.tokens import identities_frame, person_name_keys, pseudonymize
from ct_pipeline.pseudonymize.variants import synthetic_screenings


def test_links_from_the_name_key_equal_links_from_the_names(key, restricted):
    screenings, _ = synthetic_screenings(400, seed=5)
    ids = identities_frame(screenings, key)
    from_names = link_persons(ids, restricted_dir=restricted)
    keyed = ids.with_columns(person_name_keys(ids.select(NAME_COLUMNS)).alias("nk")).drop(NAME_COLUMNS)
    from_key = link_persons(keyed, restricted_dir=restricted)
    assert from_key.equals(from_names)
    # variants of one person were linked (else the equality above proves little)
    assert from_names["person_token"].n_unique() < from_names["identity_token"].n_unique()


def test_pseudonymize_hands_on_the_name_key_of_each_identity(key):
    from ct_pipeline.metadata.registry import load_registry
    from ct_pipeline.metadata.types import empty_frame

    screenings, _ = synthetic_screenings(60, seed=8)
    ps = pseudonymize(screenings, empty_frame(load_registry(), "typed_assistance"), key, link=False)
    assert ps.name_keys is not None and ps.name_keys.len() == ps.identities.height
    expected = person_name_keys(screenings.select(NAME_COLUMNS))
    assert ps.name_keys.to_list() == expected.to_list()
    # what the ingest hands the linkage: one key column in place of the three names
    lk = _linkage_input(ps.identities.with_columns(ps.name_keys))
    assert "nk" in lk.columns and not set(NAME_COLUMNS) & set(lk.columns)


def test_missing_inputs_accepts_the_key_for_the_names():
    cols = ["source_file", "source_row", "date_of_birth", "age_reported", "sex", "citizenship", "document_number",
            "registration_date", "identification_date", "case_token", "identity_token"]
    assert missing_inputs([*cols, "nk"]) == []
    assert missing_inputs([*cols, *NAME_COLUMNS]) == []
    assert missing_inputs(cols) == list(NAME_COLUMNS)
    with pytest.raises(ValueError, match="missing columns"):
        link_persons(pl.DataFrame({c: [] for c in cols}))
