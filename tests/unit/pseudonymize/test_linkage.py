"""Cross-mission linkage: spelling variants linked, stable person tokens, measured against truth."""

from __future__ import annotations

from datetime import date

import polars as pl

from ct_pipeline.pseudonymize.linkage import (
    _dob_compatible,
    link_persons,
    measure_linkage,
    pairwise_quality,
)
from ct_pipeline.pseudonymize.tokens import identities_frame
from ct_pipeline.pseudonymize.variants import synthetic_screenings


def test_pairwise_quality_counts():
    df = pl.DataFrame({"person_id": ["a", "a", "a", "b", "b", "c"], "person_token": ["x", "x", "y", "y", "y", "z"]})
    q = pairwise_quality(df)
    # true pairs: a 3 + b 1 = 4; predicted: x 1 + y 3 = 4; correct: (a,x) 1 + (b,y) 1 = 2
    assert (q.true_pairs, q.predicted_pairs, q.correct_pairs) == (4, 4, 2)
    assert q.precision == q.recall == 0.5


def test_name_similarity_from_one_matrix_equals_both_directions():
    """The token-set name similarity computed from one matrix of token similarities (row and column
    maxima) equals the two directions evaluated apart, on lists with repeats, empty lists, NULL tokens
    and equal skeletons."""
    import duckdb

    from ct_pipeline.pseudonymize.linkage import _SIM, _SIM_MATRIX, _TOKEN_SIM

    both = (f"(list_avg(list_transform(a.toks, lambda x: list_max(list_transform(b.toks, lambda y: {_TOKEN_SIM}))))"
            f" + list_avg(list_transform(b.toks, lambda x: list_max(list_transform(a.toks, lambda y: {_TOKEN_SIM})))))"
            " / 2")
    con = duckdb.connect()
    con.execute("CREATE TABLE n (id INT, toks STRUCT(t VARCHAR, s VARCHAR)[])")
    con.execute("""INSERT INTO n VALUES
        (1, [{'t': 'maria', 's': 'mr'}, {'t': 'popescu', 's': 'ppsk'}]),
        (2, [{'t': 'mariya', 's': 'mr'}, {'t': 'popesku', 's': 'ppsk'}, {'t': 'ana', 's': 'an'}]),
        (3, [{'t': 'ioana', 's': 'an'}]),
        (4, []),
        (5, [{'t': NULL, 's': 'x'}, {'t': 'ana', 's': NULL}]),
        (6, [{'t': 'ana', 's': 'an'}, {'t': 'ana', 's': 'an'}, {'t': 'popescu', 's': 'zz'}])""")
    rows = con.sql(f"""SELECT a.id, b.id, {both} AS old,
                              (SELECT {_SIM} FROM (SELECT len(b.toks) AS nb, {_SIM_MATRIX} AS mx)) AS new
                       FROM n a, n b ORDER BY ALL""").fetchall()
    assert len(rows) == 36
    assert [r[2] for r in rows] == [r[3] for r in rows]
    assert sum(r[2] is not None for r in rows) == 25  # every pair without an empty list has a similarity


def test_dob_compatibility():
    assert _dob_compatible("19870314", "19870314")
    assert _dob_compatible("19870314", "19870315")  # one digit
    assert _dob_compatible("19870304", "19870403")  # day-month swapped
    assert _dob_compatible("19870314", "19780314")  # adjacent transposition
    assert not _dob_compatible("19870314", "19880517")


def _records(rows: list[dict]) -> pl.DataFrame:
    from ct_pipeline.metadata.registry import load_registry
    from ct_pipeline.metadata.types import polars_schema

    schema = polars_schema(load_registry(), "typed_screenings")
    full = [{"source_file": f"{r['mission_code']}/2020-01-01/f.jsonl", "source_row": i + 1, "source_sha256": "0" * 64,
             "era": "case_api_jsonl", "received_date": date(2020, 1, 1), "registration_date": date(2015 + i, 1, 1), **r}
            for i, r in enumerate(rows)]  # fmt: skip
    df = pl.DataFrame(full, infer_schema_length=None)
    return df.select([(pl.col(c) if c in df.columns else pl.lit(None)).cast(t).alias(c) for c, t in schema.items()])


def test_spelling_variants_link_and_namesakes_do_not(key, restricted):
    dob = date(1990, 5, 17)
    rows = [
        {"mission_code": "UA-KYI", "case_ref": "1", "given_name": "Oleksandr", "family_name": "Kovalenko", "date_of_birth": dob, "sex": "male", "citizenship": "UA"},
        {"mission_code": "RU-MOW", "case_ref": "2", "given_name": "Aleksandr", "family_name": "Kovalenko", "date_of_birth": dob, "sex": "male", "citizenship": "UA"},
        {"mission_code": "TR-IST", "case_ref": "3", "full_name": "KOVALENKO Alexander", "date_of_birth": dob, "sex": "male", "citizenship": "UA"},
        {"mission_code": "MD-CHI", "case_ref": "4", "given_name": "Kovalenko", "family_name": "Oleksandr", "date_of_birth": date(1990, 5, 18), "sex": "male", "citizenship": "UA"},
        {"mission_code": "PL-WAW", "case_ref": "5", "given_name": "Oleksandr", "family_name": "Kovalenko", "date_of_birth": date(1972, 11, 2), "sex": "male", "citizenship": "UA"},
        {"mission_code": "MD-CHI", "case_ref": "6", "given_name": "Țurcan", "family_name": "Ana", "date_of_birth": date(1985, 1, 2), "sex": "female", "citizenship": "MD"},
        {"mission_code": "IT-ROM", "case_ref": "7", "given_name": "Ana", "family_name": "Turcan", "date_of_birth": date(1985, 1, 2), "sex": "female", "citizenship": "MD"},
    ]  # fmt: skip
    # enough unrelated people for the random-pair statistics
    filler, _ = synthetic_screenings(150, seed=11)
    s = pl.concat([_records(rows), filler.with_columns(pl.col("source_file") + "_f")])
    links = link_persons(identities_frame(s, key), restricted_dir=restricted)
    tok = links.head(len(rows))["person_token"].to_list()
    assert tok[0] == tok[1] == tok[2] == tok[3]  # transliteration, one-cell legacy name, swapped fields + typo
    assert tok[4] != tok[0]  # namesake born in another year
    assert tok[5] == tok[6] != tok[0]
    # the cluster keeps the token of its earliest record
    ids = identities_frame(s.head(len(rows)), key)
    assert tok[0] == ids["identity_token"][0]


def test_precision_and_recall_on_spelling_variants(key, restricted):
    """Transliterations, typos, swapped and one-cell names, lost diacritics, upper case, date-of-birth
    typos, missing sex/citizenship — every record with a date of birth: both >= 0.95."""
    s, truth = synthetic_screenings(300, seed=7, p_age_only=0.0, p_no_dob=0.0)
    links, model = link_persons(identities_frame(s, key), restricted_dir=restricted, return_model=True)
    q = measure_linkage(truth, links)
    assert q.records == s.height and q.records_not_in_truth == 0
    assert q.precision >= 0.95 and q.recall >= 0.95, str(q)
    assert model.candidate_pairs < s.height * 20  # blocking, not the n^2 grid


def test_precision_holds_when_only_ages_are_given(key, typed, restricted):
    """15 % of records carry only an age: namesakes make some true pairs undecidable; the linker must
    stay precise rather than merge every "same name, about the same age"."""
    s, _, truth = typed
    q = measure_linkage(truth, link_persons(identities_frame(s, key), restricted_dir=restricted))
    assert q.precision >= 0.97 and q.recall >= 0.80, str(q)


def test_person_tokens_are_stable_when_new_records_arrive(key, typed, restricted):
    s, _, truth = typed
    ids = identities_frame(s, key)
    first_files = sorted(ids["source_file"].unique().to_list())[: len(ids["source_file"].unique()) // 2]
    old = ids.filter(pl.col("source_file").is_in(first_files))
    new = ids.filter(~pl.col("source_file").is_in(first_files))
    first = link_persons(old, restricted_dir=restricted)
    prior = old.drop("person_token").join(first.select("source_file", "source_row", "person_token"), on=["source_file", "source_row"])
    second = link_persons(new, prior=prior, restricted_dir=restricted)
    both = first.join(second, on=["source_file", "source_row"], suffix="_2")
    assert both.height == old.height
    changed = both.filter(pl.col("person_token") != pl.col("person_token_2"))
    # a token changes only when two earlier clusters are merged by new evidence
    merged_into = set(changed["person_token_2"])
    assert merged_into <= set(first["person_token"])
    assert changed.height <= 0.05 * old.height
    # re-running with the same prior and nothing new changes nothing
    again = link_persons(old.head(0), prior=prior, restricted_dir=restricted)
    assert again.sort("source_file", "source_row")["person_token"].to_list() == first.sort("source_file", "source_row")["person_token"].to_list()
    q = measure_linkage(truth, second)
    assert q.precision >= 0.95


def test_a_shared_phone_links_an_age_only_record_and_order_does_not_matter(key, restricted):
    """The same phone written in two formats (with country code / with trunk zero) blocks and links
    an age-only record under a nickname, which no name rule would compare; the tokens do not depend
    on the order of the input rows."""
    rows = [
        {"mission_code": "UA-KYI", "case_ref": "1", "given_name": "Oleksandr", "family_name": "Kovalenko",
         "date_of_birth": date(1990, 5, 17), "sex": "male", "citizenship": "UA", "phone": "+380 67 123 45 67"},
        {"mission_code": "TR-IST", "case_ref": "2", "given_name": "Sasha", "family_name": "Kovalenko",
         "age_reported": 25, "sex": "male", "citizenship": "UA", "phone": "067 123-45-67"},
    ]  # fmt: skip
    filler, _ = synthetic_screenings(150, seed=11)
    s = pl.concat([_records(rows), filler.with_columns(pl.col("source_file") + "_f")])
    links, model = link_persons(identities_frame(s, key), restricted_dir=restricted, return_model=True)
    assert links["person_token"][0] == links["person_token"][1]
    no_phone = link_persons(identities_frame(s.with_columns(phone=pl.lit(None, pl.String)), key), restricted_dir=restricted)
    assert no_phone["person_token"][0] != no_phone["person_token"][1]
    assert model.match_weights()["g_phone"][1] > 5
    shuffled = link_persons(identities_frame(s.sample(fraction=1.0, shuffle=True, seed=5), key), restricted_dir=restricted)
    cols = ["source_file", "source_row", "person_token"]
    assert links.select(cols).sort(cols[:2]).equals(shuffled.select(cols).sort(cols[:2]))


def test_missed_pairs_are_counted_by_what_the_records_share(key):
    from ct_pipeline.pseudonymize.quality import missed_pairs

    rows = [
        {"mission_code": "MD-CHI", "case_ref": "1", "given_name": "Ana", "family_name": "Rusu",
         "date_of_birth": date(1990, 1, 15), "phone": "+373 69 123 456"},
        {"mission_code": "MD-CHI", "case_ref": "2", "given_name": "Ana", "family_name": "Rusu", "age_reported": 30,
         "phone": "069123456"},
        {"mission_code": "IT-ROM", "case_ref": "3", "given_name": "Anna", "family_name": "Rusu"},
    ]  # fmt: skip
    ids = identities_frame(_records(rows), key)
    truth = ids.select("source_file", "source_row", pl.lit("P1").alias("person_id"))
    links = ids.select("source_file", "source_row", pl.col("case_token").alias("person_token"))  # nothing linked
    got = {tuple(r[:-1]): r[-1] for r in missed_pairs(truth, links, ids).iter_rows()}
    assert got == {
        ("a date and an age", "same name", "same mission", True): 1,
        ("a birth year unknown", "spelling variant", "another mission", False): 2,
    }


def test_vectorised_name_features_equal_the_per_name_reference(key):
    """`_name_frame` (skeletons per distinct token, lists built by polars) = `_name_features`."""
    from ct_pipeline.pseudonymize.linkage import _NAME_DTYPE, _name_features, _name_frame
    from ct_pipeline.pseudonymize.tokens import map_unique, person_name_key

    s, _ = synthetic_screenings(400, seed=3)
    nk = map_unique(s, ["full_name", "given_name", "family_name"], person_name_key, "nk", pl.String)
    df = pl.DataFrame({"nk": pl.concat([nk, pl.Series([None, "", "a", "ab  cd", "zz zz"], dtype=pl.String)])})
    ref = map_unique(df, ["nk"], _name_features, "nf", _NAME_DTYPE).struct.unnest()
    new = df.join(_name_frame(df["nk"]), on="nk", how="left", nulls_equal=True, maintain_order="left").drop("nk")
    assert new.equals(ref)


def test_block_caps_keep_each_rule_near_linear():
    # 1,000 records: a name in one birth year shared by 300 of them (44,850 pairs, 45 a record), the
    # others in blocks of two: that rule's cap drops to 2; rules with small blocks keep the default
    import duckdb

    from ct_pipeline.pseudonymize.linkage import PAIRS_PER_RECORD, block_caps

    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE lk AS SELECT range AS rid, NULL::DATE AS dob, []::VARCHAR[] AS skels FROM range(1000)")
    con.execute("CREATE TEMP TABLE lk_pk AS SELECT rid, CASE WHEN rid < 300 THEN 'common' ELSE 'k' || (rid // 2) END "
                "AS k, 1990 AS byear FROM lk")
    assert 44_850 > PAIRS_PER_RECORD * 1000
    assert block_caps(con, 300) == {"name_year": 2, "name": 300, "dob": 300}
    assert block_caps(con, 1) == {"name_year": 1, "name": 1, "dob": 1}


def test_comparing_the_pairs_in_chunks_changes_nothing(key, restricted, monkeypatch):
    from ct_pipeline.pseudonymize import linkage

    s, _ = synthetic_screenings(400, seed=3)
    ids = identities_frame(s, key)
    whole, model = link_persons(ids, restricted_dir=restricted, return_model=True)
    assert model.candidate_pairs > 200
    monkeypatch.setattr(linkage, "COMPARE_CHUNK_PAIRS", 50)
    monkeypatch.setattr(linkage, "_L_BUCKET", 8)
    calls = []
    real = linkage._l_ranges
    monkeypatch.setattr(linkage, "_l_ranges", lambda *a: calls.append(real(*a)) or calls[-1])
    chunked, model2 = link_persons(ids, restricted_dir=restricted, return_model=True)
    assert max(len(r) for r in calls) > 5  # the candidate pairs went in several chunks
    assert whole.equals(chunked) and model2.m == model.m and model2.priors == model.priors
