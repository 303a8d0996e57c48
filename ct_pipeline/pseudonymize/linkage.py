"""Probabilistic record linkage of persons across missions and eras (restricted zone).

Method: a Fellegi–Sunter model run on DuckDB — the model Splink implements, written here with
DuckDB's built-in ``jaro_winkler_similarity`` and ``damerau_levenshtein`` so it runs air-gapped on
DuckDB 2.0 with no extra dependency (Splink 5 would add sqlglot, altair, igraph … and its DuckDB 2.0
support is unproven here).

1. **Features** per screening record: normalised name parts (`normalise.py`) with their phonetic
   skeletons; date of birth, or the birth interval implied by a reported age on the identification
   (else registration) date; sex; citizenship; normalised document number and phone (its last 8
   digits); the registering mission; and facts of the trafficking episode (identification,
   recruitment and exploitation dates, recruitment and exploitation countries) — the same episode
   registered by two missions shares them.
2. **Blocking** (candidate pairs = union of rules, never the n² grid): same date of birth and one
   name skeleton in common · same pair of name skeletons with birth years within ±1 (or one
   unknown) · same document number · same phone · same case (mission + case number) · same exact
   identity token · same prior person token. Name-skeleton pairs whose known dates of birth cannot
   be the same person's are dropped before comparison. A block larger than its rule's cap is
   skipped by that rule — a very common name in one birth year, 1 January — so the work stays
   near-linear; such records remain reachable through the other rules (and pairs in such blocks
   are namesakes the comparisons could not tell apart anyway). The cap is ``block_cap`` (default
   300 records), lowered per rule until the rule makes at most ``PAIRS_PER_RECORD`` pairs per
   record (`block_caps`): blocks grow with the population, and their pairs with its square.
3. **Comparisons**, each with a "missing" level that carries no evidence:
   - names: order-free token-set Jaro–Winkler (a phonetic-skeleton match counts 0.9):
     exact / ≥ 0.95 / ≥ 0.88 / ≥ 0.78 / else;
   - date of birth, both known: exact / one edit or day–month swap / within a year / else;
     one from an age: the date in the age's birth interval / birth years within 1 / 2 / further;
     both from ages: birth intervals overlap / birth years within 1 / 2 / further;
   - episode: two or more / one / none of the episode dates equal;
   - route: recruitment and exploitation countries agree / disagree;
   - sex, citizenship, document number, phone: agree / disagree;
   - mission, only when the names are exactly equal: same / another registering mission. A mission
     that registers a person again writes the name as it did before (same conventions, often its
     own earlier case at hand); another mission spells it its own way. So for an exact name the
     mission is evidence (a namesake is less often in the same mission than the person is); for a
     variant spelling it says nothing here.
4. **Weights** ``log2(m/u)``: u-probabilities measured on random record pairs (the route's and the
   mission's among pairs of the same citizenship: routes follow origins, and namesakes share one),
   term-frequency adjusted for exact names and exact dates of birth (an exact "Maria Popescu" or a
   1 January is weaker evidence than a rare one). Frequencies count distinct identities (exact
   identity tokens), not records, and leave the record itself out: a person registered five times
   must not make their own name look common. Record ids, and so the random pairs, follow file and
   row, not the input order. m-probabilities start from documented priors (`M_PRIORS`) and are
   re-estimated from **anchor pairs** — pairs of different cases that agree strongly on *other*
   fields (exact name and date of birth for document, phone, episode, route and mission; exact name
   and two shared episode dates or the document for the date of birth; a shared document or phone
   for the name) — so the data says, for instance, whether a person keeps the same document from
   one case to the next. Agreement on sex or citizenship adds no evidence (similar names already
   imply it); disagreement subtracts. The prior probability that two random records are the same
   person is estimated as a fixed point (expected matches among the candidate pairs not linked by
   rule / all such pairs), once per birth-date situation (two dates / a date and an age / two ages /
   a birth year unknown): pairs with equal names and dates of birth are linked by rule, so the
   matches left to the model are rarer among pairs with two dates than among the others.
5. **Decision**: a pair links when its posterior match probability ≥ ``threshold`` (default 0.5:
   more likely than not); same case, same exact identity token or same prior person token always
   link.
6. **Clustering**: links are merged strongest first (union–find); a merge is refused when the two
   clusters hold known dates of birth that are incompatible (neither equal, one edit apart nor
   day–month swapped): an age-only record cannot chain two different "Maria Popescu" together.
7. **Stable person_token**: a cluster keeps the prior person_token of its earliest previously
   tokenised record (tokens do not change when new records arrive); a new cluster takes the
   identity_token of its earliest record (registration date, then file and row). Links only
   merge clusters; splitting one is the custodian's decision.

No value of a record is ever logged; only counts.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from ct_pipeline.pseudonymize.normalise import (
    name_skeleton,
    normalise_document,
    normalise_mission,
    normalise_phone,
)
from ct_pipeline.pseudonymize.quality import LinkageQuality, measure_linkage, pairwise_quality  # noqa: F401 (re-export)
from ct_pipeline.pseudonymize.tokens import map_unique, person_name_key

log = logging.getLogger(__name__)

COMPARISONS = ("g_name", "g_dob", "g_episode", "g_route", "g_sex", "g_cit", "g_doc", "g_phone", "g_mission")
# m-probabilities P(level | same person), within each situation (group of levels) of a comparison.
M_PRIORS: dict[str, dict[int, float]] = {
    "g_name": {4: 0.60, 3: 0.18, 2: 0.12, 1: 0.06, 0: 0.04},
    "g_dob": {10: 0.86, 11: 0.07, 12: 0.03, 13: 0.04, 33: 0.55, 30: 0.30, 31: 0.09, 32: 0.06,
              23: 0.55, 20: 0.30, 21: 0.09, 22: 0.06},
    "g_episode": {2: 0.25, 1: 0.10, 0: 0.65},
    "g_route": {1: 0.60, 0: 0.40},
    "g_sex": {1: 0.97, 0: 0.03},
    "g_cit": {1: 0.94, 0: 0.06},
    "g_doc": {1: 0.80, 0: 0.20},
    "g_phone": {1: 0.30, 0: 0.70},  # phones change more often than documents
    "g_mission": {1: 0.60, 0: 0.40},  # same registering mission, when the names are exactly equal
}
# date of birth: both known / one known, one from an age / both from ages (a date inside a one-year
# birth interval is stronger evidence than two one-year intervals that overlap)
SITUATIONS = {"g_dob": [(10, 11, 12, 13), (33, 30, 31, 32), (23, 20, 21, 22)]}
NO_POSITIVE_EVIDENCE = ("g_sex", "g_cit")
TF_LEVELS = {"g_name": 4, "g_dob": 10}
DEFAULT_THRESHOLD = 0.5  # link when more likely than not (posterior); see the module docstring
# More records than this sharing one exact identity token, document number or phone is not one
# person (a placeholder name and date, a dummy document, an office phone): such groups are not linked
# by rule, nor blocked on.
FORCED_CAP = 50
# anchor pairs (different cases) that train the m-probabilities of each comparison
ANCHORS = {
    "g_sex": "g_name = 4 AND g_dob = 10",
    "g_cit": "g_name = 4 AND g_dob = 10",
    "g_doc": "g_name = 4 AND g_dob = 10",
    "g_phone": "g_name = 4 AND g_dob = 10",
    "g_episode": "g_name = 4 AND g_dob = 10",
    "g_route": "g_name = 4 AND g_dob = 10",
    "g_dob": "g_name = 4 AND (g_episode = 2 OR g_doc = 1)",
    "g_mission": "g_name = 4 AND g_dob = 10",
    # Names are trained only on pairs that share a document or phone (and a compatible birth date):
    # evidence that says nothing about spelling. The same date of birth and episode would not do:
    # those pairs are mostly the same episode registered by another mission, where spelling differs
    # far more often than between a person's cases in general.
    "g_name": "(g_doc = 1 OR g_phone = 1) AND g_dob IN (10, 11, 23, 33)",
}
ORDERED = {
    "g_name": [(0, 1, 2, 3, 4)],
    "g_dob": [(13, 12, 11, 10), (32, 31, 30, 33), (22, 21, 20, 23)],
    "g_episode": [(0, 1, 2)],
}
ANCHOR_PRIOR_WEIGHT = 20.0
EPISODE_DATES = ("identification_date", "exploitation_start_date", "exploitation_end_date", "recruitment_date")


@dataclass
class LinkageModel:
    """Estimated parameters and counts of one linkage run (no record values)."""

    match_probability: float  # prior: two random records are the same person (pooled over situations)
    m: dict[str, dict[int, float]]
    u: dict[str, dict[int, float]]
    records: int = 0
    candidate_pairs: int = 0
    linked_pairs: int = 0
    refused_merges: int = 0
    persons: int = 0
    anchors: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    priors: dict[str, float] = field(default_factory=dict)  # per birth-date situation (PRIOR_SITUATIONS)
    block_caps: dict[str, int] = field(default_factory=dict)  # per blocking rule (see `block_caps`)

    def match_weights(self) -> dict[str, dict[int, float]]:
        return {k: {lvl: round(v, 2) for lvl, v in wk.items()} for k, wk in level_weights(self.m, self.u).items()}


# --- features ----------------------------------------------------------------------------------


def _name_features(name_key: str) -> dict:
    """The name features of one name key (the reference the vectorised `_name_frame` must equal)."""
    toks = name_key.split() if name_key else []
    skels = [name_skeleton(t) for t in toks]
    uniq = sorted(set(s for s in skels if s))
    if len(uniq) == 1:
        pair_keys = [uniq[0]]
    else:
        pair_keys = [f"{a}|{b}" for a, b in itertools.combinations(uniq, 2)]
    return {"toks": [{"t": t, "s": s} for t, s in zip(toks, skels, strict=True)], "skels": uniq, "pair_keys": pair_keys}


_NAME_DTYPE = pl.Struct(
    {
        "toks": pl.List(pl.Struct({"t": pl.String, "s": pl.String})),
        "skels": pl.List(pl.String),
        "pair_keys": pl.List(pl.String),
    }
)


def _name_frame(keys: pl.Series) -> pl.DataFrame:
    """`_name_features` of each distinct name key (columns nk, toks, skels, pair_keys).

    Names repeat their tokens far more than whole names repeat (given and family names come from
    pools): skeletons are computed once per distinct token, and the per-name lists are assembled
    by polars, not as Python dicts (a million names: ~30 s -> a few)."""
    names = pl.DataFrame({"nk": keys.unique()})
    toks = names.select(
        "nk", pl.col("nk").fill_null("").str.split(" ").list.eval(pl.element().filter(pl.element() != "")).alias("t")
    ).with_row_index("_i").explode("t")
    uniq = toks["t"].drop_nulls().unique()
    skel = pl.DataFrame({"t": uniq, "s": pl.Series([name_skeleton(t) for t in uniq.to_list()], dtype=pl.String)})
    toks = toks.join(skel, on="t", how="left", maintain_order="left")
    per = toks.group_by("_i", maintain_order=True).agg(
        pl.col("nk").first(),
        pl.struct("t", "s").filter(pl.col("t").is_not_null()).alias("toks"),
        pl.col("s").filter(pl.col("s").is_not_null() & (pl.col("s") != "")).unique().sort().alias("skels"),
    )
    tok_dtype, str_list = _NAME_DTYPE.fields[0].dtype, pl.List(pl.String)
    # names without tokens lose their row in the explode: back, with empty lists (`_name_features`)
    per = names.join(per.drop("_i"), on="nk", how="left", nulls_equal=True).with_columns(
        pl.col("toks").cast(tok_dtype).fill_null(pl.lit([], dtype=tok_dtype)),
        pl.col("skels").cast(str_list).fill_null(pl.lit([], dtype=str_list)),
    )
    # pair keys: the one skeleton, or every pair a < b of the sorted distinct skeletons, in the
    # order of itertools.combinations (a self-join; a Python list per name is slow to convert)
    per = per.with_row_index("_i")
    sk = per.select("_i", pl.col("skels").alias("a"), pl.col("skels").list.len().alias("n")).explode("a")
    one = sk.filter(pl.col("n") == 1).select("_i", pl.col("a").alias("pk"))
    two = (
        sk.filter(pl.col("n") > 1)
        .join(sk.filter(pl.col("n") > 1).select("_i", pl.col("a").alias("b")), on="_i")
        .filter(pl.col("a") < pl.col("b"))
        .sort("_i", "a", "b")
        .select("_i", pl.format("{}|{}", "a", "b").alias("pk"))
    )
    pk = pl.concat([one, two]).group_by("_i").agg(pl.col("pk").alias("pair_keys"))
    return per.join(pk, on="_i", how="left", maintain_order="left").select(
        "nk", "toks", "skels", pl.col("pair_keys").fill_null(pl.lit([], dtype=str_list))
    )


def _col(df: pl.DataFrame, name: str, dtype: pl.DataType) -> pl.Expr:
    return pl.col(name) if name in df.columns else pl.lit(None, dtype=dtype).alias(name)


def name_keys(records: pl.DataFrame) -> pl.Expr | pl.Series:
    """The records' normalised name keys: their ``nk`` column when they have one (`_linkage_input`:
    pseudonymisation computed it for the identity token), else from the three name columns."""
    if "nk" in records.columns:
        return pl.col("nk")
    return map_unique(records, list(NAME_COLUMNS), person_name_key, "nk", pl.String)


def features(records: pl.DataFrame) -> pl.DataFrame:
    """Comparison features of identity records (restricted: holds normalised names)."""
    df = records.with_columns(
        *[_col(records, c, pl.Date) for c in EPISODE_DATES[1:]],
        *[_col(records, c, pl.String) for c in ("recruitment_country", "exploitation_country")],
        name_keys(records),
    )
    names = _name_frame(df["nk"])
    ref = pl.coalesce(pl.col("identification_date"), pl.col("registration_date"))
    age = pl.col("age_reported").cast(pl.Int64)
    dob = pl.col("date_of_birth")
    byear = pl.coalesce(dob.dt.year().cast(pl.Int64), ref.dt.year().cast(pl.Int64) - age)
    # birth interval: [dob, dob], or born after ref − (age+1) years and on or before ref − age years
    hi = pl.when(dob.is_not_null()).then(dob).otherwise(ref.dt.offset_by(pl.format("-{}y", age)))
    lo = pl.when(dob.is_not_null()).then(dob).otherwise(
        ref.dt.offset_by(pl.format("-{}y", age + 1)).dt.offset_by("1d")
    )
    doc = map_unique(df, ["document_number"], normalise_document, "doc", pl.String)
    phone = map_unique(df, ["phone"], normalise_phone, "phone_n", pl.String)
    mission = map_unique(df, ["mission_code"], normalise_mission, "mission_n", pl.String)
    df = df.with_columns(doc, phone, mission).join(names, on="nk", how="left", nulls_equal=True, maintain_order="left")
    return df.select(
        pl.col("rid"),
        pl.col("nk"),
        pl.col("toks"),
        pl.col("skels"),
        pl.col("pair_keys"),
        dob.alias("dob"),
        dob.dt.strftime("%Y%m%d").alias("dob_s"),
        byear.alias("byear"),
        lo.alias("blo"),
        hi.alias("bhi"),
        pl.col("sex"),
        pl.col("citizenship").alias("cit"),
        pl.when(pl.col("doc") != "").then(pl.col("doc")).alias("doc"),
        pl.when(pl.col("phone_n") != "").then(pl.col("phone_n")).alias("phone"),
        pl.col("identification_date").alias("e1"),
        pl.col("exploitation_start_date").alias("e2"),
        pl.col("exploitation_end_date").alias("e3"),
        pl.col("recruitment_date").alias("e4"),
        pl.col("recruitment_country").alias("rc"),
        pl.col("exploitation_country").alias("ec"),
        pl.when(pl.col("mission_n") != "").then(pl.col("mission_n")).alias("mission"),
        pl.col("case_token"),
        pl.col("identity_token"),
        pl.col("prior_person_token"),
    )


# Term frequencies, over all of ``lk_raw`` (the records' `features`), into ``lk``: ``id_n`` (records
# sharing the identity token), ``tf_name`` and ``tf_dob``. They count distinct identities (exact
# tokens), not records: copies of one person (re-exports, their other cases) would make their own
# name and date of birth look common. The record itself is left out: u of an exact match on value v
# is the chance that *another* identity has v, (count(v) - 1) / n (floored in `_weight_sql`).
_FREQUENCIES_SQL = """
CREATE OR REPLACE TEMP TABLE lk AS
WITH n AS (SELECT greatest(count(DISTINCT identity_token), 1)::DOUBLE AS n FROM @ALL@),
  by_nk AS (SELECT nk, count(DISTINCT identity_token) AS c, row_number() OVER () AS nk_id FROM @ALL@ GROUP BY nk),
  by_dob AS (SELECT dob, count(DISTINCT identity_token) AS c FROM @ALL@ GROUP BY dob),
  by_id AS (SELECT identity_token, count(*) AS c FROM @ALL@ GROUP BY identity_token)
SELECT r.*, a.nk_id, i.c AS id_n,
  CASE WHEN r.nk <> '' THEN (a.c - 1) / n.n END AS tf_name,
  CASE WHEN r.dob IS NOT NULL THEN (b.c - 1) / n.n END AS tf_dob
FROM lk_raw r CROSS JOIN n
JOIN by_nk a ON a.nk IS NOT DISTINCT FROM r.nk
JOIN by_dob b ON b.dob IS NOT DISTINCT FROM r.dob
JOIN by_id i ON i.identity_token = r.identity_token;
DROP TABLE lk_raw;
"""
FEATURE_CHUNK = 500_000  # records whose features are computed at once (memory, not speed)


def load_features(
    con: duckdb.DuckDBPyConnection, records: pl.DataFrame, order: pl.Series, *, chunk: int = FEATURE_CHUNK
) -> None:
    """The `features` of ``records`` taken in ``order`` (record i of it gets rid i) and their term
    frequencies into temp table ``lk`` (and the distinct names into ``lk_names``). Chunk by chunk:
    at ten million records the features would not fit beside everything else in memory; DuckDB
    spills."""
    for i, start in enumerate(range(0, max(records.height, 1), chunk)):
        part = records.select(pl.all().gather(order.slice(start, chunk)))
        part = part.with_columns(rid=pl.int_range(start, start + part.height, dtype=pl.Int64))
        con.register("lk_src", features(part))
        try:
            verb = "CREATE OR REPLACE TEMP TABLE lk_raw AS" if i == 0 else "INSERT INTO lk_raw"
            con.execute(f"{verb} SELECT * FROM lk_src")
        finally:
            con.unregister("lk_src")
    load_frequencies(con)
    con.execute("CREATE OR REPLACE TEMP TABLE lk_names AS SELECT DISTINCT ON (nk_id) nk_id, toks FROM lk")


# What the comparisons read of a record, narrow: tokens as integer ids, whether it has a name (its
# token list stays in lk_names). The candidate pairs join it on both sides (twice for their name
# ids, twice for their levels: `_COMPARE_SQL`), and a narrow build side is what makes that join
# fast (9.1 M pairs at 1 M records, one thread: 28.9 -> 13.4 s).
_COMPARE_INPUT_SQL = """
CREATE OR REPLACE TEMP TABLE lk_c AS
WITH cases AS (SELECT case_token, row_number() OVER () AS id FROM lk WHERE case_token IS NOT NULL GROUP BY 1),
  idents AS (SELECT identity_token, row_number() OVER () AS id FROM lk WHERE identity_token IS NOT NULL GROUP BY 1),
  priors AS (SELECT prior_person_token, row_number() OVER () AS id FROM lk WHERE prior_person_token IS NOT NULL
             GROUP BY 1)
SELECT l.rid, l.nk_id, len(l.toks) > 0 AS has_name, l.dob, l.dob_s, l.dob_s::INTEGER AS dob_i, l.byear, l.blo, l.bhi, l.sex, l.cit, l.doc,
  l.phone, l.e1, l.e2, l.e3, l.e4, l.rc, l.ec, l.mission, l.id_n, l.tf_name, l.tf_dob,
  c.id AS case_id, i.id AS identity_id, p.id AS prior_id
FROM lk l LEFT JOIN cases c ON c.case_token = l.case_token LEFT JOIN idents i ON i.identity_token = l.identity_token
LEFT JOIN priors p ON p.prior_person_token = l.prior_person_token;
"""


def load_frequencies(con: duckdb.DuckDBPyConnection, population: str = "lk_raw") -> None:
    """``lk`` = ``lk_raw`` (features of records) with their term frequencies counted over
    ``population`` (every record: ``lk_raw`` itself, or a table of which ``lk_raw`` is the part an
    incremental linkage compares); ``lk_c``, what the comparisons read of them."""
    con.execute(_FREQUENCIES_SQL.replace("@ALL@", population))
    con.execute(_COMPARE_INPUT_SQL)


# --- blocking ----------------------------------------------------------------------------------

_BLOCKING_SQL = """
-- lk_pk (rid, k, byear): the records' name-skeleton pair keys.
-- blocks larger than the cap are skipped by a rule: common names and dates stay reachable through
-- the other rules, and the work stays near-linear in the number of records
CREATE OR REPLACE TEMP TABLE lk_pky AS
  SELECT p.rid, p.k, p.byear, l.dob, l.dob_s, l.dob_s::INTEGER AS dob_i, l.e1 FROM lk_pk p JOIN lk l USING (rid)
  WHERE p.byear IS NOT NULL
  QUALIFY count(*) OVER (PARTITION BY p.k, p.byear) <= @CAP_NAME_YEAR@;
CREATE OR REPLACE TEMP TABLE lk_pkn AS
  SELECT * FROM lk_pk QUALIFY count(*) OVER (PARTITION BY k) <= @CAP_NAME@;
CREATE OR REPLACE TEMP TABLE lk_dob AS
  SELECT rid, dob, unnest(CASE WHEN len(skels) = 0 THEN [''] ELSE skels END) AS s FROM lk WHERE dob IS NOT NULL;
CREATE OR REPLACE TEMP TABLE lk_dob AS
  SELECT * FROM lk_dob QUALIFY count(*) OVER (PARTITION BY dob, s) <= @CAP_DOB@;
CREATE OR REPLACE TEMP TABLE lk_doc AS
  SELECT rid, doc FROM lk WHERE doc IS NOT NULL QUALIFY count(*) OVER (PARTITION BY doc) <= @FORCED_CAP@;
CREATE OR REPLACE TEMP TABLE lk_phone AS
  SELECT rid, phone FROM lk WHERE phone IS NOT NULL QUALIFY count(*) OVER (PARTITION BY phone) <= @FORCED_CAP@;
CREATE OR REPLACE TEMP TABLE lk_pairs AS
SELECT DISTINCT l, r FROM (
  SELECT a.rid AS l, b.rid AS r FROM lk_dob a JOIN lk_dob b ON a.dob = b.dob AND a.s = b.s AND a.rid < b.rid
  UNION ALL
  SELECT a.rid, b.rid FROM lk_pky a JOIN lk_pky b ON a.k = b.k AND a.byear = b.byear AND a.rid < b.rid
    WHERE @DOB_OK@
  UNION ALL
  SELECT least(a.rid, b.rid), greatest(a.rid, b.rid) FROM lk_pky a JOIN lk_pky b ON a.k = b.k AND a.byear + 1 = b.byear
    WHERE @DOB_OK@
  UNION ALL
  SELECT least(a.rid, b.rid), greatest(a.rid, b.rid)
    FROM (SELECT * FROM lk_pkn WHERE byear IS NULL) a JOIN lk_pkn b ON a.k = b.k AND a.rid <> b.rid
  UNION ALL
  SELECT a.rid, b.rid FROM lk_doc a JOIN lk_doc b ON a.doc = b.doc AND a.rid < b.rid
  UNION ALL
  SELECT a.rid, b.rid FROM lk_phone a JOIN lk_phone b ON a.phone = b.phone AND a.rid < b.rid
  UNION ALL
  SELECT a.rid, b.rid FROM lk_c a JOIN lk_c b ON a.case_id = b.case_id AND a.rid < b.rid
  UNION ALL
  SELECT a.rid, b.rid FROM lk_c a JOIN lk_c b ON a.identity_id = b.identity_id AND a.rid < b.rid
    WHERE a.id_n <= @FORCED_CAP@
  UNION ALL
  SELECT a.rid, b.rid FROM lk_c a JOIN lk_c b ON a.prior_id = b.prior_id AND a.rid < b.rid
);
"""

_TOKEN_SIM = "greatest(jaro_winkler_similarity(x.t, y.t), CASE WHEN x.s = y.s THEN 0.9 ELSE 0 END)"
# token-set similarity from the matrix of token similarities (a's tokens by b's), computed once: the
# mean of its row maxima (each of a's tokens against b's best) and of its column maxima (b against a).
# Jaro-Winkler and the skeleton test are symmetric, so this equals evaluating both directions, as
# the first version did, at half the similarity calls (the 1M name statement 4.07 -> 3.22 s,
# the same levels and person tokens).
_SIM_MATRIX = f"list_transform(a.toks, lambda x: list_transform(b.toks, lambda y: {_TOKEN_SIM}))"
_SIM = (
    "(list_avg(list_transform(mx, lambda row: list_max(row)))"
    " + list_avg(list_transform(range(1, nb + 1), lambda j: list_max(list_transform(mx, lambda row: row[j]))))) / 2"
)
_EQ = " + ".join(f"coalesce((a.{e} = b.{e})::INT, 0)" for e in ("e1", "e2", "e3", "e4"))
_CMP = " + ".join(f"(a.{e} IS NOT NULL AND b.{e} IS NOT NULL)::INT" for e in ("e1", "e2", "e3", "e4"))

# A pair's comparison levels, all but the name's (which needs the similarity of the two names), from
# the pairs of @PAIRS@ (l, r)
_PAIR_LEVELS_SQL = """
SELECT p.l, p.r, a.nk_id AS nka, b.nk_id AS nkb, NOT a.has_name OR NOT b.has_name AS no_name,
  CASE WHEN a.dob IS NOT NULL AND b.dob IS NOT NULL THEN
         CASE WHEN a.dob = b.dob THEN 10
              WHEN @DOB_SWAPPED@ OR @DOB_ONE_EDIT@ THEN 11
              WHEN abs(a.byear - b.byear) <= 1 THEN 12
              ELSE 13 END
       WHEN a.byear IS NULL OR b.byear IS NULL THEN -1
       WHEN a.dob IS NOT NULL OR b.dob IS NOT NULL THEN
         CASE WHEN a.blo <= b.bhi AND b.blo <= a.bhi THEN 33
              WHEN abs(a.byear - b.byear) <= 1 THEN 30
              WHEN abs(a.byear - b.byear) = 2 THEN 31
              ELSE 32 END
       WHEN a.blo <= b.bhi AND b.blo <= a.bhi THEN 23
       WHEN abs(a.byear - b.byear) <= 1 THEN 20
       WHEN abs(a.byear - b.byear) = 2 THEN 21
       ELSE 22 END AS g_dob,
  CASE WHEN (@CMP@) = 0 THEN -1 ELSE least(@EQ@, 2) END AS g_episode,
  CASE WHEN (a.rc IS NULL OR b.rc IS NULL) AND (a.ec IS NULL OR b.ec IS NULL) THEN -1
       WHEN coalesce(a.rc = b.rc, true) AND coalesce(a.ec = b.ec, true) THEN 1 ELSE 0 END AS g_route,
  CASE WHEN a.sex IS NULL OR b.sex IS NULL THEN -1 WHEN a.sex = b.sex THEN 1 ELSE 0 END AS g_sex,
  CASE WHEN a.cit IS NULL OR b.cit IS NULL THEN -1 WHEN a.cit = b.cit THEN 1 ELSE 0 END AS g_cit,
  CASE WHEN a.doc IS NULL OR b.doc IS NULL THEN -1 WHEN a.doc = b.doc THEN 1 ELSE 0 END AS g_doc,
  CASE WHEN a.phone IS NULL OR b.phone IS NULL THEN -1 WHEN a.phone = b.phone THEN 1 ELSE 0 END AS g_phone,
  CASE WHEN a.nk_id <> b.nk_id OR NOT a.has_name OR a.mission IS NULL OR b.mission IS NULL THEN -1
       WHEN a.mission = b.mission THEN 1 ELSE 0 END AS g_mission,
  coalesce(a.mission = b.mission, false)::INT AS same_mission,
  a.case_id = b.case_id AS same_case,
  (a.case_id = b.case_id OR (a.identity_id = b.identity_id AND a.id_n <= @FORCED_CAP@)
   OR coalesce(a.prior_id = b.prior_id, false)) AS forced,
  a.tf_name AS tf_name, a.tf_dob AS tf_dob
FROM @PAIRS@ p JOIN lk_c a ON a.rid = p.l JOIN lk_c b ON b.rid = p.r"""
# The row of the compared pairs' table from a pair's levels (c) and its names' similarity (n.sim)
_OUT_ROW_SQL = """
SELECT c.l, c.r,
  CASE WHEN c.no_name THEN -1 WHEN c.nka = c.nkb THEN 4 WHEN n.sim >= 0.95 THEN 3
       WHEN n.sim >= 0.88 THEN 2 WHEN n.sim >= 0.78 THEN 1 ELSE 0 END,
  c.g_dob, c.g_episode, c.g_route, c.g_sex, c.g_cit, c.g_doc, c.g_phone, c.g_mission, c.same_mission, c.same_case, c.forced, c.tf_name, c.tf_dob"""
_COMPARE_SQL = """
-- the name similarity, once per distinct pair of names (names repeat a lot); the pairs' name ids
-- come from a join of their own, so that the comparison below is one statement that writes its
-- levels without an intermediate table of every pair (1M records: 0.9 s and ~0.5 GB less)
CREATE OR REPLACE TEMP TABLE @OUT@_names AS
SELECT nka, nkb, @SIM@ AS sim FROM (
  SELECT np.nka, np.nkb, len(b.toks) AS nb, @SIM_MATRIX@ AS mx
  FROM (SELECT DISTINCT a.nk_id AS nka, b.nk_id AS nkb FROM @PAIRS@ p JOIN lk_c a ON a.rid = p.l JOIN lk_c b ON b.rid = p.r
        WHERE a.has_name AND b.has_name AND a.nk_id <> b.nk_id) np
  JOIN lk_names a ON a.nk_id = np.nka JOIN lk_names b ON b.nk_id = np.nkb);
INSERT INTO @OUT@
@OUT_ROW@
FROM (
@PAIR_LEVELS@
) c LEFT JOIN @OUT@_names n ON n.nka = c.nka AND n.nkb = c.nkb;
DROP TABLE @OUT@_names;
"""
# The compared pairs, compact: levels fit a TINYINT (a hundred million pairs at ten million records)
_COMPARED_DDL = """
CREATE OR REPLACE TEMP TABLE @OUT@ (l BIGINT, r BIGINT, g_name TINYINT, g_dob TINYINT, g_episode TINYINT,
  g_route TINYINT, g_sex TINYINT, g_cit TINYINT, g_doc TINYINT, g_phone TINYINT, g_mission TINYINT,
  same_mission TINYINT, same_case BOOLEAN, forced BOOLEAN, tf_name DOUBLE, tf_dob DOUBLE)
"""
# Pairs compared at once (ranges of l): at ten million records every candidate pair at once made
# the comparison's intermediate results (its joins' hash tables, the name pairs) spill tens of
# gigabytes
COMPARE_CHUNK_PAIRS = 10_000_000


# Dates of birth one edit apart, and day and month swapped, on ``dob_i`` (the yyyymmdd digits of
# ``dob_s`` as an integer). Damerau-Levenshtein is the costly test (about 2.6 s of the 1M full
# linkage's blocking, on 10.4 M candidate pairs), so it runs only where a cheap necessary condition
# holds: the two 8-digit strings of an edit distance <= 1 differ at most in two adjacent positions
# (one substitution, or one transposition; an insertion or deletion would change the length), so
# the digits outside some window (i, i+1) are equal. The windows in the year (0-3) leave mmdd equal;
# (3, 4) the first three digits and the last three; (4, 5) the year and the day; (5, 6) the first
# five digits and the last; (6, 7) the first six. `tests/unit/pseudonymize/test_linkage_dob.py`
# checks that the result is the plain test's on every kind of edit.
_DOB_ONE_EDIT = (
    "((a.dob_i % 10000 = b.dob_i % 10000"
    " OR (a.dob_i // 100000 = b.dob_i // 100000 AND a.dob_i % 1000 = b.dob_i % 1000)"
    " OR (a.dob_i // 10000 = b.dob_i // 10000 AND (a.dob_i % 100 = b.dob_i % 100 OR a.dob_i // 100 = b.dob_i // 100"
    " OR (a.dob_i // 1000 = b.dob_i // 1000 AND a.dob_i % 10 = b.dob_i % 10))))"
    " AND damerau_levenshtein(a.dob_s, b.dob_s) <= 1)"
)
_DOB_SWAPPED = (
    "(a.dob_i // 10000 = b.dob_i // 10000 AND a.dob_i // 100 % 100 = b.dob_i % 100"
    " AND a.dob_i % 100 = b.dob_i // 100 % 100)"
)
# name-skeleton blocks: a pair whose two known dates of birth cannot be the same (not equal, not one
# edit apart, not day-month swapped) and that shares no identification date is never a candidate
_DOB_OK = f"(a.dob IS NULL OR b.dob IS NULL OR a.e1 = b.e1 OR {_DOB_SWAPPED} OR {_DOB_ONE_EDIT})"


TEMP_TABLES = ("lk_reach", "lk_raw", "lk", "lk_c", "lk_names", "lk_pk", "lk_pky", "lk_pkn", "lk_dob", "lk_doc", "lk_phone", "lk_pairs", "lk_cmp", "lk_w")


def scored_pairs(con: duckdb.DuckDBPyConnection, m: dict, u: dict, n: int) -> pl.DataFrame:
    """The compared pairs of ``lk_cmp`` with their match weight (l, r, forced, g_dob, w), in order."""
    return con.sql(f"SELECT l, r, forced, g_dob, {_weight_sql(m, u, n)} AS w FROM lk_cmp ORDER BY l, r").pl()


def drop_temp_tables(con: duckdb.DuckDBPyConnection, *, close: bool) -> None:
    for tname in TEMP_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {tname}")
    if close:
        con.close()


# Blocks of the name and date-of-birth rules, and the pairs a block of a given size makes. A block
# of s records makes s(s-1)/2 pairs: the work of a rule grows with the square of its blocks, and
# blocks grow with the population (a common name in one birth year: 140 records at a million
# cases, ten times more at ten million). ``block_caps`` keeps, per rule, the largest cap (at most
# ``block_cap``) under which the rule's blocks make at most PAIRS_PER_RECORD pairs per record.
PAIRS_PER_RECORD = 4.0  # at 1M the rules make 3.3, 3.7 and 0.5 (seed 1): a density that stays, not a cut
_BLOCK_SIZES_SQL = {
    "name_year": "SELECT count(*) AS s, count(*) * (count(*) - 1) / 2 AS pairs FROM lk_pk WHERE byear IS NOT NULL "
                 "GROUP BY k, byear",
    # pairs of this rule have a record without a birth year on one side
    "name": "SELECT count(*) AS s, count(*) FILTER (byear IS NULL) * (count(*) - 1) AS pairs FROM lk_pk GROUP BY k",
    "dob": "SELECT count(*) AS s, count(*) * (count(*) - 1) / 2 AS pairs FROM (SELECT dob, unnest(CASE WHEN "
           "len(skels) = 0 THEN [''] ELSE skels END) AS sk FROM lk WHERE dob IS NOT NULL) GROUP BY dob, sk",
}


def block_caps(con: duckdb.DuckDBPyConnection, block_cap: int) -> dict[str, int]:
    """Per blocking rule, the block size cap (see PAIRS_PER_RECORD); ``lk`` and ``lk_pk`` exist."""
    n = max(con.sql("SELECT count(*) FROM lk").fetchall()[0][0], 1)
    caps = {}
    for rule, sql in _BLOCK_SIZES_SQL.items():
        rows = con.sql(f"SELECT s, sum(pairs) FROM ({sql}) WHERE s <= {int(block_cap)} GROUP BY s ORDER BY s").fetchall()
        total, cap = 0.0, 1
        for size, pairs in rows:
            total += float(pairs)
            if total > PAIRS_PER_RECORD * n:
                break
            cap = int(size)
        else:
            cap = int(block_cap)
        caps[rule] = cap
    return caps


def _blocking_sql(caps: dict[str, int]) -> str:
    return (
        _BLOCKING_SQL.replace("@DOB_OK@", _DOB_OK)
        .replace("@CAP_NAME_YEAR@", str(int(caps["name_year"])))
        .replace("@CAP_NAME@", str(int(caps["name"])))
        .replace("@CAP_DOB@", str(int(caps["dob"])))
        .replace("@FORCED_CAP@", str(FORCED_CAP))
    )


def comparison_sql(template: str, out_table: str) -> str:
    """A comparison script (`_COMPARE_SQL`) with its parts filled in, writing to ``out_table``
    (its pairs, @PAIRS@, are left to the caller)."""
    sql = template.replace("@PAIR_LEVELS@", _PAIR_LEVELS_SQL).replace("@OUT_ROW@", _OUT_ROW_SQL)
    sql = sql.replace("@DOB_SWAPPED@", _DOB_SWAPPED).replace("@DOB_ONE_EDIT@", _DOB_ONE_EDIT)
    sql = sql.replace("@SIM_MATRIX@", _SIM_MATRIX).replace("@SIM@", _SIM).replace("@EQ@", _EQ).replace("@CMP@", _CMP)
    return sql.replace("@FORCED_CAP@", str(FORCED_CAP)).replace("@OUT@", out_table)


def _compare(con: duckdb.DuckDBPyConnection, pairs_table: str, out_table: str) -> None:
    """Comparison levels of the pairs in ``pairs_table`` (l, r) into temp table ``out_table``, about
    COMPARE_CHUNK_PAIRS pairs at a time (ranges of l): at ten million records the candidate pairs'
    intermediate tables, all at once, spilled tens of gigabytes."""
    sql = comparison_sql(_COMPARE_SQL, out_table)
    con.execute(_COMPARED_DDL.replace("@OUT@", out_table))
    for lo, hi in _l_ranges(con, pairs_table, COMPARE_CHUNK_PAIRS):
        con.execute(sql.replace("@PAIRS@", f"(SELECT l, r FROM {pairs_table} WHERE l >= {lo} AND l < {hi})"))


_L_BUCKET = 4096  # chunks are whole buckets of this many l values


def _l_ranges(con: duckdb.DuckDBPyConnection, pairs_table: str, per_chunk: int) -> list[tuple[int, int]]:
    """Ranges [lo, hi) of l holding about ``per_chunk`` pairs each."""
    w = _L_BUCKET
    buckets = con.sql(f"SELECT l // {w} AS b, count(*) FROM {pairs_table} GROUP BY b ORDER BY b").fetchall()
    ranges, start, size = [], None, 0
    for b, count in buckets:
        start = b * w if start is None else start
        size += count
        if size >= per_chunk:
            ranges.append((start, (b + 1) * w))
            start, size = None, 0
    if start is not None:
        ranges.append((start, (buckets[-1][0] + 1) * w))
    return ranges


# --- parameters --------------------------------------------------------------------------------


def _u_probabilities(rand: pl.DataFrame) -> dict[str, dict[int, float]]:
    """u = P(level | different persons), from random pairs, within each situation, +1 smoothing.
    The route's u is taken among pairs of the same citizenship (routes follow origins), and so is the
    mission's: it is compared only when the names are equal, and namesakes share an origin, so the
    chance that two namesakes were registered by the same mission is that of two compatriots (random
    pairs almost never have equal names)."""
    u: dict[str, dict[int, float]] = {}
    for k, levels in M_PRIORS.items():
        same_cit = k in ("g_route", "g_mission") and rand.height
        sample = rand.filter(pl.col("g_cit") == 1) if same_cit else rand
        col = "same_mission" if k == "g_mission" else k
        g = sample[col].to_numpy() if sample.height else np.zeros(0)
        groups = SITUATIONS.get(k, [tuple(levels)])
        u[k] = {}
        for grp in groups:
            counts = {lvl: float((g == lvl).sum()) + 1.0 for lvl in grp}
            total = sum(counts.values())
            for lvl in grp:
                u[k][lvl] = float(np.clip(counts[lvl] / total, 1e-6, 1 - 1e-6))
    return u


def _m_probabilities(con: duckdb.DuckDBPyConnection, cmp_table: str) -> tuple[dict, dict[str, int]]:
    """m-probabilities: the priors updated from anchor pairs of different cases (see ANCHORS), the
    prior worth ``ANCHOR_PRIOR_WEIGHT`` pairs."""
    m = {c: dict(v) for c, v in M_PRIORS.items()}
    sizes: dict[str, int] = {}
    for k, where in ANCHORS.items():
        counts = dict(
            con.sql(f"SELECT {k}, count(*) FROM {cmp_table} WHERE NOT same_case AND {where} GROUP BY ALL").fetchall()
        )
        for grp in SITUATIONS.get(k, [tuple(m[k])]):
            total = sum(counts.get(lvl, 0) for lvl in grp)
            prior_total = sum(M_PRIORS[k][lvl] for lvl in grp)
            for lvl in grp:
                prior = M_PRIORS[k][lvl] / prior_total
                p = (counts.get(lvl, 0) + ANCHOR_PRIOR_WEIGHT * prior) / (total + ANCHOR_PRIOR_WEIGHT)
                m[k][lvl] = float(np.clip(p * prior_total, 1e-4, 1 - 1e-4))
        sizes[k] = int(sum(v for lvl, v in counts.items() if lvl is not None and lvl >= 0))
    return m, sizes


def level_weights(m: dict, u: dict) -> dict[str, dict[int, float]]:
    """log2(m/u) per level, made monotone along each ordered comparison (a closer agreement is never
    weaker evidence than a looser one), agreement on sex/citizenship capped at 0."""
    w = {k: {lvl: float(np.log2(m[k][lvl] / u[k][lvl])) for lvl in m[k]} for k in m}
    for k, chains in ORDERED.items():
        for chain in chains:  # from the loosest to the closest level
            for lo, hi in itertools.pairwise(reversed(chain)):
                w[k][hi] = min(w[k][hi], w[k][lo])
    for k in NO_POSITIVE_EVIDENCE:
        w[k] = {lvl: min(v, 0.0) for lvl, v in w[k].items()}
    return w


def _weight_sql(m: dict, u: dict, n: int) -> str:
    """SQL expression of a pair's match weight (log2 Bayes factor) from its levels.

    Exact names and dates of birth are term-frequency adjusted (u = the value's frequency); a merely
    similar name never weighs more than an exact match of that name would."""
    w = level_weights(m, u)
    floor = 1.0 / max(n, 1)
    tf_name = f"log2({m['g_name'][4]!r} / greatest(coalesce(tf_name, {u['g_name'][4]!r}), {floor!r}))"
    tf_dob = f"log2({m['g_dob'][10]!r} / greatest(coalesce(tf_dob, {u['g_dob'][10]!r}), {floor!r}))"
    parts = []
    for k in COMPARISONS:
        cases = []
        for lvl, wk in w[k].items():
            if k == "g_name" and lvl == 4:
                expr = tf_name
            elif k == "g_name" and lvl in (1, 2, 3):
                expr = f"least({wk!r}, {tf_name})"
            elif k == "g_dob" and lvl == 10:
                expr = tf_dob
            else:
                expr = repr(wk)
            cases.append(f"WHEN {lvl} THEN {expr}")
        parts.append(f"(CASE {k} {' '.join(cases)} ELSE 0 END)")
    return " + ".join(parts)


def _prior_match_probability(weights: np.ndarray, counts: np.ndarray, total: float, start: float) -> float:
    """Fixed point: prior = expected matching pairs among the candidate pairs the model decides /
    all such pairs (``total``; pairs linked by rule — same case, same exact token — are left out:
    they would inflate the prior of the pairs that must earn their link). ``weights`` and
    ``counts``: a histogram of the pairs' weights."""
    if total <= 0 or len(weights) == 0:
        return 1e-6
    lam = min(max(start, 1e-9), 0.5)
    for _ in range(50):
        logit = np.log2(lam / (1 - lam)) + weights
        expected = float((counts / (1.0 + np.exp2(-np.clip(logit, -60, 60)))).sum())
        new = min(max(expected / total, 1e-9), 0.5)
        if abs(new - lam) <= 1e-3 * lam:
            return new
        lam = new
    return lam


# Birth-date situations of a pair, from its g_dob level: both dates known / a date and an age / two
# ages / a birth year unknown. Matches on exact name and date of birth share the identity token and
# are linked by rule, so among the pairs left to the model matches are rarer where both dates are
# known than where a birth year comes from an age or is missing: each situation has its own prior
# (one pooled prior underrated every age-only pair, by ~0.6 bit on the demo data).
PRIOR_SITUATIONS = ("both_dates", "date_and_age", "ages", "unknown")


def posterior(scored: pl.DataFrame, priors: np.ndarray) -> np.ndarray:
    """The posterior match probability of each scored pair (columns g_dob, w): its weight on top of
    the prior of its birth-date situation."""
    logit = np.log2(priors / (1 - priors))[_dob_situation(scored["g_dob"].fill_null(-1).to_numpy())]
    return 1.0 / (1.0 + np.exp2(-np.clip(logit + scored["w"].to_numpy(), -60, 60)))


def _dob_situation(g: np.ndarray) -> np.ndarray:
    return np.select([(g >= 10) & (g < 20), g >= 30, (g >= 20) & (g < 30)], [0, 1, 2], 3)


def _situation_pairs(con: duckdb.DuckDBPyConnection) -> np.ndarray:
    """All record pairs of each birth-date situation (PRIOR_SITUATIONS order), over ``lk``."""
    n, nd, na = con.sql(
        "SELECT count(*), count(dob), count(*) FILTER (byear IS NOT NULL AND dob IS NULL) FROM lk"
    ).fetchall()[0]
    nx = n - nd - na
    return np.array([nd * (nd - 1) / 2, nd * na, na * (na - 1) / 2, nx * (n - nx) + nx * (nx - 1) / 2], dtype=float)


def situation_priors(
    g_dob: np.ndarray, w: np.ndarray, forced: np.ndarray, counts: np.ndarray, pairs: np.ndarray, n: int
) -> np.ndarray:
    """The prior match probability of each situation (fixed points, see `_prior_match_probability`),
    from the histogram of the candidate pairs (level, weight, forced flag -> ``counts`` pairs) and
    all pairs per situation."""
    sit = _dob_situation(g_dob)
    start = n / max(pairs.sum(), 1.0)
    out = np.empty(len(PRIOR_SITUATIONS))
    for k in range(len(PRIOR_SITUATIONS)):
        sel = sit == k
        free = sel & ~forced
        out[k] = _prior_match_probability(w[free], counts[free], pairs[k] - float(counts[sel & forced].sum()), start)
    return out


# --- clustering --------------------------------------------------------------------------------


def _dob_compatible(a: str, b: str) -> bool:
    """Equal, one edit apart (substitution or adjacent transposition) or day–month swapped."""
    if a == b:
        return True
    if a[:4] == b[:4] and a[4:6] == b[6:8] and a[6:8] == b[4:6]:
        return True
    diff = [i for i in range(8) if a[i] != b[i]]
    if len(diff) == 1:
        return True
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def constrained_clusters(n: int, left, right, forced, dobs: list[str | None]) -> tuple[np.ndarray, int]:
    """Union–find over links in the given order (strongest first); forced links always merge, other
    merges are refused when the clusters hold incompatible known dates of birth. Returns (labels,
    refused merges)."""
    parent = list(range(n))
    dobsets: dict[int, set[str]] = {i: {d} for i, d in enumerate(dobs) if d}

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    refused = 0
    for a, b, f in zip(left, right, forced, strict=True):
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        sa, sb = dobsets.get(ra), dobsets.get(rb)
        if sa and sb and not f and any(not _dob_compatible(x, y) for x in sa for y in sb):
            refused += 1
            continue
        if sa and sb and len(sa) < len(sb):
            ra, rb, sa, sb = rb, ra, sb, sa
        parent[rb] = ra
        if sb:
            if sa:
                sa |= sb
            else:
                dobsets[ra] = sb
            dobsets.pop(rb, None)
    labels = np.fromiter((find(i) for i in range(n)), dtype=np.int64, count=n)
    return labels, refused


# --- the entry point ---------------------------------------------------------------------------

# the names a record is compared on: or, in their place, their normalised key ``nk`` (`name_keys`)
NAME_COLUMNS = ("full_name", "given_name", "family_name")
REQUIRED = (
    "source_file", "source_row", *NAME_COLUMNS, "date_of_birth",
    "age_reported", "sex", "citizenship", "document_number", "registration_date",
    "identification_date", "case_token", "identity_token",
)  # fmt: skip
OPTIONAL = ("exploitation_start_date", "exploitation_end_date", "recruitment_date", "recruitment_country",
            "exploitation_country", "phone", "mission_code")  # fmt: skip


def missing_inputs(columns: list[str]) -> list[str]:
    """REQUIRED columns absent from ``columns`` (the names count as present when ``nk`` is)."""
    have = set(columns) | (set(NAME_COLUMNS) if "nk" in columns else set())
    return [c for c in REQUIRED if c not in have]


def _linkage_input(df: pl.DataFrame) -> pl.DataFrame:
    """What the linkage reads of identity records: REQUIRED and OPTIONAL columns, the three names
    as one normalised key ``nk`` (computed here once, unless the records bring it)."""
    opt = [
        pl.col(c) if c in df.columns else pl.lit(None, dtype=pl.Date if c.endswith("_date") else pl.String).alias(c)
        for c in OPTIONAL
    ]
    return df.select(*[c for c in REQUIRED if c not in NAME_COLUMNS], name_keys(df), *opt)


def link_persons(
    identities: pl.DataFrame,
    *,
    prior: pl.DataFrame | None = None,
    threshold: float | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    restricted_dir: str | Path | None = None,
    u_sample_pairs: int = 500_000,
    block_cap: int = 300,
    return_model: bool = False,
    return_state: bool = False,
    seed: int = 42,
    memory_scale: int = 1,
):
    """Link identity records (one per screening record) into persons.

    ``identities``: the `pseudonymize` identities frame (or `tokens.identities_frame`); instead of
    the three name columns it may bring their normalised key ``nk`` (`name_keys`, `missing_inputs`);
    ``prior``: identities linked in earlier runs (with their ``person_token``), e.g. from the vault.
    Returns one row per record of both (source_file, source_row, identity_token, person_token,
    cluster_size), and the `LinkageModel` too when ``return_model``, and then the state an
    incremental linkage continues from (`linkage_state`: model parameters, every record's
    features and person_token) when ``return_state``.
    ``con``: a restricted DuckDB connection to work in (default: an in-memory one spilling to
    ``<restricted_dir>/tmp/duckdb``, its memory limit `linkage_memory_limit` times ``memory_scale``).
    """
    from ct_pipeline.pseudonymize.restricted import linkage_memory_limit, restricted_connection

    missing = missing_inputs(identities.columns)
    if missing:
        raise ValueError(f"identities: missing columns {missing}")
    threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
    t0 = time.perf_counter()
    new = _linkage_input(identities).with_columns(prior_person_token=pl.lit(None, dtype=pl.String))
    if prior is not None and prior.height:
        prior_tokens = prior.select("source_file", "source_row", pl.col("person_token").alias("prior_person_token"))
        old_only = _linkage_input(prior.join(new, on=["source_file", "source_row"], how="anti"))
        records = pl.concat([new.drop("prior_person_token"), old_only], how="vertical_relaxed").join(
            prior_tokens, on=["source_file", "source_row"], how="left", maintain_order="left"
        )
    else:
        records = new
    # record ids follow (file, row), not the input order: the random pairs that measure the
    # u-probabilities, and so every weight and token, must not depend on how the input was sorted
    # (a permutation, not a sorted copy: at ten million records the input alone is gigabytes)
    records = records.with_row_index("_in")
    order = records.select(pl.arg_sort_by("source_file", "source_row", maintain_order=True)).to_series()
    n = records.height

    own = con is None
    if own:
        con = restricted_connection(None, restricted_dir=restricted_dir, memory_limit=linkage_memory_limit(n, memory_scale))
    try:
        load_features(con, records, order)
        # what clustering and tokens need of the records, in rid order; the features live in DuckDB
        records = records.select(
            pl.col("_in", "source_file", "source_row", "registration_date", "identity_token",
                   "prior_person_token").gather(order)
        ).with_row_index("rid").with_columns(pl.col("rid").cast(pl.Int64))  # fmt: skip
        seconds = {"features": time.perf_counter() - t0}
        t = time.perf_counter()
        con.execute("CREATE OR REPLACE TEMP TABLE lk_pk AS SELECT rid, unnest(pair_keys) AS k, byear FROM lk")
        caps = block_caps(con, block_cap)
        con.execute(_blocking_sql(caps))
        n_pairs = con.sql("SELECT count(*) FROM lk_pairs").fetchall()[0][0]
        seconds["blocking"] = time.perf_counter() - t

        t = time.perf_counter()
        rng = np.random.default_rng(seed)
        k = min(u_sample_pairs, max(20_000, 20 * n), n * (n - 1) // 2)
        rand = pl.DataFrame(schema={c: pl.Int64 for c in (*COMPARISONS, "same_mission")})
        if k > 0:
            a, b = rng.integers(0, n, size=k), rng.integers(0, n, size=k)
            ok = a != b
            con.register("lk_rnd", pl.DataFrame({"l": np.minimum(a, b)[ok], "r": np.maximum(a, b)[ok]}))
            _compare(con, "lk_rnd", "lk_rnd_cmp")
            rand = con.sql(f"SELECT {', '.join(COMPARISONS)}, same_mission FROM lk_rnd_cmp").pl()
            con.execute("DROP TABLE lk_rnd_cmp")
            con.unregister("lk_rnd")
        u = _u_probabilities(rand)
        seconds["estimation"] = time.perf_counter() - t

        t = time.perf_counter()
        _compare(con, "lk_pairs", "lk_cmp")
        con.execute("DROP TABLE lk_pairs")
        m, anchor_sizes = _m_probabilities(con, "lk_cmp")
        pairs = _situation_pairs(con)
        _score(con, m, u, n)
        g, w, f, c = _weight_histogram(con)
        priors = situation_priors(g, w, f, c, pairs, n)
        edges = _edges(con, priors, threshold)
        dobs = _dobs_of(con, edges)
        seconds["comparisons"] = time.perf_counter() - t

        t = time.perf_counter()
        lam = float((priors * pairs).sum() / max(pairs.sum(), 1.0))
        labels, refused = clusters_of_edges(n, edges, dobs)
        assigned = _assign_tokens(records.with_columns(cluster=pl.Series(labels)))
        out = assigned.sort("_in").drop("_in")
        seconds["clustering"] = time.perf_counter() - t
        state_file = write_state_records(con, records, assigned) if return_state else None
    finally:
        drop_temp_tables(con, close=own)
    model = LinkageModel(
        lam, m, u, n, int(n_pairs), edges.height, refused, out["person_token"].n_unique(), anchor_sizes, seconds,
        dict(zip(PRIOR_SITUATIONS, priors.tolist(), strict=True)), caps,
    )
    log.info(
        "linkage: %d records, %d candidate pairs (block caps %s), %d links (%d merges refused), %d persons in %.1fs",
        n, n_pairs, caps, edges.height, refused, model.persons, time.perf_counter() - t0,
    )  # fmt: skip
    if return_state:
        state = {"m": m, "u": u, "priors": priors.tolist(), "threshold": threshold, "block_cap": block_cap,
                 "block_caps": caps,
                 "fitted_on": dt.date.today().isoformat()}
        return out, model, (state, state_file)
    return (out, model) if return_model else out


def _score(con: duckdb.DuckDBPyConnection, m: dict, u: dict, n: int) -> None:
    """The compared pairs' match weights, once, into ``lk_w`` (l, r, forced, g_dob, w), in place
    of ``lk_cmp``: the histogram and the edges both read them, and the weight expression is most of
    the cost of either (1M records, 9 M pairs: 1.8 s an evaluation, against 0.1 s to group)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE lk_w AS SELECT l, r, coalesce(forced, false) AS forced, g_dob, "
                f"{_weight_sql(m, u, n)} AS w FROM lk_cmp")
    con.execute("DROP TABLE lk_cmp")


def _weight_histogram(con: duckdb.DuckDBPyConnection) -> tuple[np.ndarray, ...]:
    """(g_dob, weight, forced, count) of the scored pairs (``lk_w``), weights rounded to 1/1000 bit:
    the priors' fixed points need the distribution of the weights, not a hundred million of them."""
    rows = con.sql(
        "SELECT coalesce(g_dob, -1), round(w, 3) AS w, forced, count(*) FROM lk_w GROUP BY ALL ORDER BY ALL"
    ).fetchnumpy()
    g, w, f, c = (rows[k] for k in rows)
    return np.asarray(g), np.asarray(w, dtype=float), np.asarray(f, dtype=bool), np.asarray(c, dtype=float)


def _edges(con: duckdb.DuckDBPyConnection, priors: np.ndarray, threshold: float):
    """The pairs that link (forced, or posterior ≥ ``threshold``) with ``p`` (2 when forced), strongest
    first, ties in (l, r) order: same run, same merges. DuckDB keeps the weak pairs (nearly all)
    back by a bound on the weight per birth-date situation; the posterior itself is computed here
    exactly as `posterior` does."""
    need = np.log2(threshold / (1 - threshold)) - np.log2(priors / (1 - priors)) - 1e-6
    sit = "CASE WHEN g_dob >= 10 AND g_dob < 20 THEN 0 WHEN g_dob >= 30 THEN 1 WHEN g_dob >= 20 THEN 2 ELSE 3 END"
    bound = "CASE " + " ".join(f"WHEN s = {k} THEN {float(v)!r}" for k, v in enumerate(need)) + " END"
    scored = con.sql(
        f"SELECT l, r, forced, g_dob, w FROM (SELECT l, r, forced, g_dob, w, {sit} AS s FROM lk_w) "
        f"WHERE forced OR w >= {bound} ORDER BY l, r"
    ).pl()
    forced = scored["forced"].to_numpy()
    prob = posterior(scored, priors)
    keep = forced | (prob >= threshold)
    return (
        scored.filter(pl.Series(keep))
        .with_columns(pl.Series("p", np.where(forced, 2.0, prob)[keep]))
        .sort(["p", "l", "r"], descending=[True, False, False])
    )


def _dobs_of(con: duckdb.DuckDBPyConnection, edges: pl.DataFrame) -> dict[int, str]:
    """Known dates of birth (YYYYMMDD) of the records the edges touch, by rid."""
    con.register("lk_ends", pl.concat([edges["l"], edges["r"]]).unique().to_frame("rid"))
    try:
        rows = con.sql("SELECT rid, dob_s FROM lk SEMI JOIN lk_ends USING (rid) WHERE dob_s IS NOT NULL").fetchall()
    finally:
        con.unregister("lk_ends")
    return dict(rows)


def clusters_of_edges(n: int, edges: pl.DataFrame, dobs: dict[int, str]) -> tuple[np.ndarray, int]:
    """`constrained_clusters` over the records the (ordered) edges touch only: a record without a link
    is a cluster of its own. Returns (a cluster label per rid, refused merges)."""
    labels = np.arange(n, dtype=np.int64)
    if edges.height == 0:
        return labels, 0
    left, right = edges["l"].to_numpy(), edges["r"].to_numpy()
    nodes = np.unique(np.concatenate([left, right]))
    local, refused = constrained_clusters(
        len(nodes), np.searchsorted(nodes, left).tolist(), np.searchsorted(nodes, right).tolist(),
        edges["forced"].to_list(), [dobs.get(int(x)) for x in nodes],
    )  # fmt: skip
    labels[nodes] = nodes[local]
    return labels, refused


# What the linkage state keeps per record: the features (without the run-wide frequencies, which an
# incremental run recomputes over all records), the key, the registration date (token order) and
# the current person_token.
# the state's feature columns, as `lk` holds them
STATE_FEATURES = ("nk", "toks", "skels", "pair_keys", "dob", "dob_s", "byear", "blo", "bhi", "sex", "cit", "doc",
                  "phone", "e1", "e2", "e3", "e4", "rc", "ec", "mission", "case_token", "identity_token")  # fmt: skip
STATE_COLUMNS = ("source_file", "source_row", "registration_date", *STATE_FEATURES, "person_token")


def write_state_records(con: duckdb.DuckDBPyConnection, records: pl.DataFrame, assigned: pl.DataFrame) -> Path:
    """The state's records (STATE_COLUMNS: keys, ``lk``'s features, the person_token ``assigned``)
    as a Parquet file in the connection's temp folder (restricted zone), written by DuckDB: at ten
    million records the state is gigabytes, and as a frame beside everything else it was the
    ingest's peak (21 GB). `linkage_state.save_state` seals it and deletes it."""
    from ct_pipeline.pseudonymize.restricted import FILE_MODE, owner_only_umask

    folder = Path(con.sql("SELECT current_setting('temp_directory')").fetchall()[0][0])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"linkage_state_records.{os.getpid()}.parquet"
    con.register("lk_keys", records.select("rid", "_in", "source_file", "source_row", "registration_date"))
    con.register("lk_tokens", assigned.select("_in", "person_token"))
    try:
        feats = ", ".join(f"l.{c}" for c in STATE_FEATURES)
        with owner_only_umask():  # names in clear, if only for seconds: owner only
            con.execute(
                f"COPY (SELECT k.source_file, k.source_row, k.registration_date, {feats}, t.person_token "
                "FROM lk l JOIN lk_keys k ON k.rid = l.rid JOIN lk_tokens t ON t._in = k._in) "
                f"TO '{str(path).replace(chr(39), chr(39) * 2)}' (FORMAT parquet, COMPRESSION zstd)"
            )
        os.chmod(path, FILE_MODE)
    finally:
        con.unregister("lk_keys")
        con.unregister("lk_tokens")
    return path


def _assign_tokens(records: pl.DataFrame) -> pl.DataFrame:
    order = ["registration_date", "source_file", "source_row"]
    prior_pick = (
        records.filter(pl.col("prior_person_token").is_not_null())
        .sort(order, nulls_last=True)
        .group_by("cluster", maintain_order=True)
        .agg(pl.col("prior_person_token").first().alias("_prior"))
    )
    new_pick = (
        records.sort(order, nulls_last=True)
        .group_by("cluster", maintain_order=True)
        .agg(pl.col("identity_token").first().alias("_first"), pl.len().alias("cluster_size"))
    )
    return (
        records.join(prior_pick, on="cluster", how="left")
        .join(new_pick, on="cluster", how="left")
        .select(
            "_in",
            "source_file",
            "source_row",
            "identity_token",
            pl.coalesce("_prior", "_first").alias("person_token"),
            pl.col("cluster_size").cast(pl.Int64),
        )
    )
