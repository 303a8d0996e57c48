"""Incremental person linkage: a night's new records against everything linked before.

The full linkage (`linkage.link_persons`) blocks, compares and clusters the whole population and
re-estimates its model every time. On a night that adds ~1 % new records almost all of that work
returns what the last night already knew. Here, from the `linkage_state` the last linkage left:

1. **Features** are computed for the new records only; the state holds every earlier record's. The
   term frequencies (an exact name's or date of birth's weight) are recomputed over all records, as
   the full linkage would.
2. **Blocking** uses the same rules and caps as the full linkage (block sizes counted over whole
   blocks, old and new records), but only pairs with at least one new record are formed: pairs of
   two earlier records were decided on an earlier night.
3. **Comparisons and weights** are the full linkage's, with the model (m, u, prior per birth-date
   situation) of the last full linkage: the model is re-estimated only by a full linkage, which runs
   when the state is missing or stale, when the night brings more than `FULL_RELINK_SHARE` of the
   records already linked, when the model is `REFIT_DAYS` old, or on request (`CT_LINKAGE_FULL=1`).
4. **Clustering**: each earlier person (records sharing a person_token) is one cluster already; the
   new links are merged strongest first with the same date-of-birth constraint, over the new
   records and the earlier persons they touch (with all their records, for the constraint).
5. **Tokens**: as in the full linkage, a cluster keeps the person_token of its earliest earlier
   record, a new person takes the identity_token of its earliest record.

The result differs from a full re-linkage only by the model's parameters (fixed since the last
full linkage) — a test measures both against the synthetic truth. No value of a record is logged.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from ct_pipeline.pseudonymize.linkage import (
    _DOB_OK,
    DEFAULT_THRESHOLD,
    FORCED_CAP,
    STATE_COLUMNS,
    _assign_tokens,
    _compare,
    _linkage_input,
    constrained_clusters,
    drop_temp_tables,
    features,
    load_frequencies,
    posterior,
    scored_pairs,
)

log = logging.getLogger(__name__)

KEY = ["source_file", "source_row"]
# A night bringing more new records than this share of those already linked re-links everything
# (and re-estimates the model): the model was fitted to a population that has changed too much.
FULL_RELINK_SHARE = 0.25
# ... and a model older than this many days is re-estimated by a full linkage (the population and
# the missions' spelling conventions drift); CT_LINKAGE_REFIT_DAYS overrides it.
REFIT_DAYS = 30

_BLOCKING_SQL = """
CREATE OR REPLACE TEMP TABLE lk_pk AS
  SELECT rid, unnest(pair_keys) AS k, byear, is_new FROM lk;
-- only blocks holding a new record; every record of such a block is kept, so the caps count the
-- same block sizes as the full linkage does
CREATE OR REPLACE TEMP TABLE lk_pk AS
  SELECT p.* FROM lk_pk p SEMI JOIN (SELECT DISTINCT k FROM lk_pk WHERE is_new) n USING (k);
CREATE OR REPLACE TEMP TABLE lk_pky AS
  SELECT p.rid, p.k, p.byear, p.is_new, l.dob, l.dob_s, l.dob_s::INTEGER AS dob_i, l.e1 FROM lk_pk p JOIN lk l USING (rid)
  WHERE p.byear IS NOT NULL
  QUALIFY count(*) OVER (PARTITION BY p.k, p.byear) <= @CAP_NAME_YEAR@;
CREATE OR REPLACE TEMP TABLE lk_pkn AS
  SELECT * FROM lk_pk QUALIFY count(*) OVER (PARTITION BY k) <= @CAP_NAME@;
CREATE OR REPLACE TEMP TABLE lk_dob AS
  SELECT rid, dob, is_new, unnest(CASE WHEN len(skels) = 0 THEN [''] ELSE skels END) AS s FROM lk WHERE dob IS NOT NULL;
CREATE OR REPLACE TEMP TABLE lk_dob AS
  SELECT d.* FROM lk_dob d SEMI JOIN (SELECT DISTINCT dob, s FROM lk_dob WHERE is_new) n USING (dob, s)
  QUALIFY count(*) OVER (PARTITION BY d.dob, d.s) <= @CAP_DOB@;
CREATE OR REPLACE TEMP TABLE lk_doc AS
  SELECT d.rid, d.doc, d.is_new FROM lk d SEMI JOIN (SELECT DISTINCT doc FROM lk WHERE is_new AND doc IS NOT NULL) n USING (doc)
  QUALIFY count(*) OVER (PARTITION BY d.doc) <= @FORCED_CAP@;
CREATE OR REPLACE TEMP TABLE lk_phone AS
  SELECT d.rid, d.phone, d.is_new FROM lk d
  SEMI JOIN (SELECT DISTINCT phone FROM lk WHERE is_new AND phone IS NOT NULL) n USING (phone)
  QUALIFY count(*) OVER (PARTITION BY d.phone) <= @FORCED_CAP@;
CREATE OR REPLACE TEMP TABLE lk_pairs AS
SELECT DISTINCT least(l, r) AS l, greatest(l, r) AS r FROM (
  SELECT a.rid AS l, b.rid AS r FROM lk_dob a JOIN lk_dob b ON a.dob = b.dob AND a.s = b.s AND a.rid <> b.rid
    WHERE a.is_new
  UNION ALL
  SELECT a.rid, b.rid FROM lk_pky a JOIN lk_pky b ON a.k = b.k AND b.byear = a.byear AND a.rid <> b.rid
    WHERE a.is_new AND @DOB_OK@
  UNION ALL
  SELECT a.rid, b.rid FROM lk_pky a JOIN lk_pky b ON a.k = b.k AND b.byear = a.byear + 1 WHERE a.is_new AND @DOB_OK@
  UNION ALL
  SELECT a.rid, b.rid FROM lk_pky a JOIN lk_pky b ON a.k = b.k AND b.byear = a.byear - 1 WHERE a.is_new AND @DOB_OK@
  UNION ALL
  SELECT a.rid, b.rid FROM lk_pkn a JOIN lk_pkn b ON a.k = b.k AND a.rid <> b.rid WHERE a.byear IS NULL AND a.is_new
  UNION ALL
  SELECT a.rid, b.rid FROM lk_pkn a JOIN lk_pkn b ON a.k = b.k AND a.rid <> b.rid WHERE a.byear IS NULL AND b.is_new
  UNION ALL
  SELECT a.rid, b.rid FROM lk_doc a JOIN lk_doc b ON a.doc = b.doc AND a.rid <> b.rid WHERE a.is_new
  UNION ALL
  SELECT a.rid, b.rid FROM lk_phone a JOIN lk_phone b ON a.phone = b.phone AND a.rid <> b.rid WHERE a.is_new
  UNION ALL
  SELECT a.rid, b.rid FROM lk a JOIN lk b ON a.case_token = b.case_token AND a.rid <> b.rid WHERE a.is_new
  UNION ALL
  SELECT a.rid, b.rid FROM lk a JOIN lk b ON a.identity_token = b.identity_token AND a.rid <> b.rid
    WHERE a.is_new AND a.id_n <= @FORCED_CAP@
);
CREATE OR REPLACE TEMP TABLE lk_names AS
  SELECT DISTINCT ON (nk_id) nk_id, toks FROM lk
  WHERE rid IN (SELECT l FROM lk_pairs UNION SELECT r FROM lk_pairs);
"""


# Every record that shares a blocking key with a new record (all of each such block: the caps count
# whole blocks), the only ones _BLOCKING_SQL can pair: name-skeleton pair keys, date of birth with a
# skeleton, document, phone, case and identity tokens.
_REACH_SQL = """
CREATE OR REPLACE TEMP TABLE lk_reach AS
WITH nw AS (SELECT * FROM lk_all WHERE is_new),
  ks AS (SELECT DISTINCT unnest(pair_keys) AS k FROM nw),
  ds AS (SELECT DISTINCT dob, unnest(CASE WHEN len(skels) = 0 THEN [''] ELSE skels END) AS s FROM nw
         WHERE dob IS NOT NULL)
SELECT rid FROM (SELECT rid, unnest(pair_keys) AS k FROM lk_all) SEMI JOIN ks USING (k)
UNION SELECT rid FROM (SELECT rid, dob, unnest(CASE WHEN len(skels) = 0 THEN [''] ELSE skels END) AS s
                       FROM lk_all WHERE dob IS NOT NULL) SEMI JOIN ds USING (dob, s)
UNION SELECT rid FROM lk_all WHERE doc IN (SELECT doc FROM nw)
UNION SELECT rid FROM lk_all WHERE phone IN (SELECT phone FROM nw)
UNION SELECT rid FROM lk_all WHERE case_token IN (SELECT case_token FROM nw)
UNION SELECT rid FROM lk_all WHERE identity_token IN (SELECT identity_token FROM nw);
CREATE OR REPLACE TEMP TABLE lk_raw AS SELECT * FROM lk_all SEMI JOIN lk_reach USING (rid);
DROP TABLE lk_reach;
"""


def full_relink_requested() -> bool:
    return os.environ.get("CT_LINKAGE_FULL", "").strip() not in ("", "0")


def model_is_stale(model: dict, today: dt.date | None = None) -> bool:
    """True when the stored model was fitted REFIT_DAYS (or $CT_LINKAGE_REFIT_DAYS) days ago or more,
    or its date is unknown."""
    try:
        days = int(os.environ.get("CT_LINKAGE_REFIT_DAYS", "").strip() or REFIT_DAYS)
        fitted = dt.date.fromisoformat(model["fitted_on"])
    except (KeyError, TypeError, ValueError):
        return True
    return ((today or dt.date.today()) - fitted).days >= days


def _model(raw: dict) -> tuple[dict, dict, np.ndarray, float, dict[str, int]]:
    """The stored model (JSON: levels are text) as linkage uses it."""
    def levels(d: dict) -> dict:
        return {k: {int(lvl): float(p) for lvl, p in v.items()} for k, v in d.items()}

    cap = int(raw.get("block_cap", 300))
    caps = {rule: int(raw.get("block_caps", {}).get(rule, cap)) for rule in ("name_year", "name", "dob")}
    return (levels(raw["m"]), levels(raw["u"]), np.asarray(raw["priors"], dtype=float),
            float(raw.get("threshold", DEFAULT_THRESHOLD)), caps)  # fmt: skip


def _chunked_like(ref: pl.Series, values: np.ndarray | pl.Series, name: str) -> pl.Series:
    """``values`` (as long as ``ref``) as a Series named ``name`` with the chunks of ``ref``."""
    series = values.rename(name).rechunk() if isinstance(values, pl.Series) else pl.Series(name, values)
    parts, start = [], 0
    for chunk in ref.get_chunks():
        parts.append(series.slice(start, chunk.len()))
        start += chunk.len()
    return pl.concat(parts, rechunk=False) if len(parts) > 1 else series


def _arrow_columns(df: pl.DataFrame, columns: list[str]) -> pa.Table:
    """The ``columns`` of ``df`` as an Arrow table that shares polars' buffers, column by column.

    Registering the frame with DuckDB converted it to Arrow's oldest string and list layouts, and
    a frame whose columns are chunked differently (here: the loaded state's row groups beside the
    one-chunk ``rid``) is rechunked by `DataFrame.to_arrow` and by a multi-column `select`: each a
    copy of every earlier record, where the 10M night's ingest peaked (bench/HISTORY.md, session
    15). An Arrow table may hold
    differently chunked columns; DuckDB reads it through zero-copy slices."""
    newest = pl.CompatLevel.newest()
    return pa.table({c: df.select(c).to_arrow(compat_level=newest).column(0) for c in columns})


def link_increment(
    identities: pl.DataFrame,
    state_records: pl.DataFrame,
    model: dict,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    restricted_dir: str | Path | None = None,
    memory_scale: int = 1,
) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """Link the new ``identities`` (none of them in ``state_records``) to the persons of
    ``state_records`` (`linkage_state`), with the stored ``model``.

    Returns (links, state, counts): ``links`` one row per record whose person_token may have been
    set now — the new records and every record of an earlier person they touched — (source_file,
    source_row, identity_token, person_token, cluster_size); ``state`` the state records after the
    night (earlier and new); ``counts`` numbers only."""
    from ct_pipeline.pseudonymize.restricted import linkage_memory_limit, restricted_connection

    t0 = time.perf_counter()
    m, u, priors, threshold, caps = _model(model)
    new = (
        _linkage_input(identities)
        .with_columns(prior_person_token=pl.lit(None, dtype=pl.String))
        .sort(KEY)
        .with_row_index("rid")
        .with_columns(pl.col("rid").cast(pl.Int64))
    )
    fcols = [c for c in STATE_COLUMNS if c not in ("source_file", "source_row", "registration_date", "person_token")]
    new_state = pl.concat(
        [new.select(*KEY, "registration_date"), features(new).select(fcols)], how="horizontal"
    ).with_columns(prior_person_token=pl.lit(None, dtype=pl.String))
    old_state = state_records.select(
        *[c for c in STATE_COLUMNS if c != "person_token"], pl.col("person_token").alias("prior_person_token")
    )
    # rid = rank in file and row order, as a column: a sorted copy of every earlier record's
    # features would be gigabytes at ten million records
    allr = pl.concat([old_state, new_state], how="vertical_relaxed", rechunk=False)
    order = pl.DataFrame([allr.get_column(k) for k in KEY]).select(
        pl.arg_sort_by(KEY, maintain_order=True)).to_series().to_numpy()
    rid = np.empty(len(order), dtype=np.int64)
    rid[order] = np.arange(len(order), dtype=np.int64)
    is_new = np.zeros(len(order), dtype=bool)
    is_new[old_state.height:] = True
    # chunked as the other columns (the state's row groups, then the night's records): polars
    # rechunks a frame whose columns are chunked differently at its next select or filter, a copy
    # of every earlier record (4.2 GB at ten million, measured)
    allr = allr.with_columns(_chunked_like(allr.get_column("source_row"), rid, "rid"),
                             _chunked_like(allr.get_column("source_row"), is_new, "is_new"))
    del order, rid, is_new
    n = allr.height
    seconds = {"features": time.perf_counter() - t0}

    own = con is None
    if own:
        con = restricted_connection(None, restricted_dir=restricted_dir, memory_limit=linkage_memory_limit(n, memory_scale))
    try:
        t = time.perf_counter()
        # every record, scanned where polars holds it (a copy into DuckDB cost more than the two
        # scans below, and as much memory again), without copying it (`_arrow_columns`)
        con.register("lk_all", _arrow_columns(allr, [c for c in allr.columns
                                                     if c not in ("registration_date", "source_file", "source_row")]))
        try:
            # only the records a new record can meet are compared (the term frequencies still count
            # every record): a night's blocks hold a fraction of the population, and the wide tables
            # the comparisons read are built for that fraction, not for every earlier record
            con.execute(_REACH_SQL)
            reach = con.sql("SELECT count(*) FROM lk_raw").fetchall()[0][0]
            load_frequencies(con, population="lk_all")
        finally:
            con.unregister("lk_all")
        # the caps the full linkage chose: the same blocks, whatever the night adds
        con.execute(
            _BLOCKING_SQL.replace("@DOB_OK@", _DOB_OK).replace("@FORCED_CAP@", str(FORCED_CAP))
            .replace("@CAP_NAME_YEAR@", str(caps["name_year"])).replace("@CAP_NAME@", str(caps["name"]))
            .replace("@CAP_DOB@", str(caps["dob"]))
        )  # fmt: skip
        n_pairs = con.sql("SELECT count(*) FROM lk_pairs").fetchall()[0][0]
        seconds["blocking"] = time.perf_counter() - t
        t = time.perf_counter()
        _compare(con, "lk_pairs", "lk_cmp")
        scored = scored_pairs(con, m, u, n)
        seconds["comparisons"] = time.perf_counter() - t
    finally:
        drop_temp_tables(con, close=own)

    t = time.perf_counter()
    forced = scored["forced"].fill_null(False).to_numpy()
    prob = posterior(scored, priors)
    keep = forced | (prob >= threshold)
    edges = scored.filter(pl.Series(keep)).with_columns(pl.Series("p", np.where(forced, 2.0, prob)[keep]))

    # the records the night can change: new ones, and every record of an earlier person a new
    # record links to (all of them: the date-of-birth constraint looks at the whole cluster)
    ends = pl.concat([edges["l"], edges["r"]]).unique()
    touched = allr.filter(pl.col("rid").is_in(ends.implode()) & pl.col("prior_person_token").is_not_null())
    sub = allr.filter(
        pl.col("is_new") | pl.col("prior_person_token").is_in(touched["prior_person_token"].unique().implode())
    ).select("rid", *KEY, "registration_date", "identity_token", "prior_person_token", "dob_s")
    local = {rid: i for i, rid in enumerate(sub["rid"].to_list())}
    # an earlier person is one cluster already: chain its records with forced links (merged first)
    chain = (
        sub.filter(pl.col("prior_person_token").is_not_null())
        .select("rid", "prior_person_token")
        .with_columns(pl.col("rid").shift(-1).over("prior_person_token").alias("next"))
        .filter(pl.col("next").is_not_null())
    )
    order = edges.sort(["p", "l", "r"], descending=[True, False, False])
    left = [local[x] for x in chain["rid"].to_list()] + [local[x] for x in order["l"].to_list()]
    right = [local[x] for x in chain["next"].to_list()] + [local[x] for x in order["r"].to_list()]
    flags = [True] * chain.height + order["forced"].fill_null(False).to_list()
    labels, refused = constrained_clusters(sub.height, left, right, flags, sub["dob_s"].to_list())
    links = _assign_tokens(sub.with_columns(cluster=pl.Series(labels), _in=pl.col("rid")))
    seconds["clustering"] = time.perf_counter() - t

    # the state after the night: every record, its person_token as the links set it (one new
    # column; the others are the earlier state's and the new features, not copied)
    now = (
        allr.select("rid")
        .join(links.select(pl.col("_in").alias("rid"), "person_token"), on="rid", how="left", maintain_order="left")
        .get_column("person_token")
    )  # fmt: skip
    # the new column chunked as the others too (the state is joined and written after this)
    now = _chunked_like(allr.get_column("source_row"), now, "person_token")
    state = allr.with_columns(person_token=pl.coalesce(now, pl.col("prior_person_token"))).select(STATE_COLUMNS)
    links = links.drop("_in")
    counts = {"records": n, "new_records": new.height, "records_in_reach": int(reach), "candidate_pairs": int(n_pairs),
              "links": edges.height,
              "refused_merges": refused, "records_relinked": links.height}  # fmt: skip
    log.info(
        "incremental linkage: %d new of %d records (%d within reach), %d candidate pairs, %d links (%d merges refused), "
        "%d records in touched persons, in %.1fs (%s)",
        new.height, n, reach, n_pairs, edges.height, refused, links.height, time.perf_counter() - t0,
        ", ".join(f"{k} {v:.1f}s" for k, v in seconds.items()),
    )  # fmt: skip
    return links, state, counts


__all__ = ["FULL_RELINK_SHARE", "REFIT_DAYS", "full_relink_requested", "link_increment", "model_is_stale"]
