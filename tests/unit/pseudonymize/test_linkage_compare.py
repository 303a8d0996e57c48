"""The comparison of candidate pairs and their match weights, against the SQL they replaced
(session 19: one statement without a table of every pair; the weights computed once): the same
levels for every pair and the same weights, on records with missing names and case tokens."""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from ct_pipeline.pseudonymize import linkage as L
from ct_pipeline.pseudonymize.tokens import identities_frame
from ct_pipeline.pseudonymize.variants import synthetic_screenings

# the comparison as it was until session 18: a base table of every pair, then the names; the
# levels themselves (@PAIR_LEVELS@, @OUT_ROW@) are the same text, and what this tests is the
# statements around them
_OLD_COMPARE_SQL = """
CREATE OR REPLACE TEMP TABLE @OUT@_base AS
@PAIR_LEVELS@;
-- the name similarity, once per distinct pair of names (names repeat a lot)
CREATE OR REPLACE TEMP TABLE @OUT@_names AS
SELECT nka, nkb, @SIM@ AS sim FROM (
  SELECT np.nka, np.nkb, len(b.toks) AS nb, @SIM_MATRIX@ AS mx
  FROM (SELECT DISTINCT nka, nkb FROM @OUT@_base WHERE NOT no_name AND nka <> nkb) np
  JOIN lk_names a ON a.nk_id = np.nka JOIN lk_names b ON b.nk_id = np.nkb);
INSERT INTO @OUT@
@OUT_ROW@
FROM @OUT@_base c LEFT JOIN @OUT@_names n ON n.nka = c.nka AND n.nkb = c.nkb;
DROP TABLE @OUT@_base;
DROP TABLE @OUT@_names;
"""


def _prepared(key) -> tuple[duckdb.DuckDBPyConnection, int]:
    """A connection holding lk, lk_c, lk_names and the candidate pairs of a few hundred records, a
    seventeenth of them without a name and a thirteenth without a case token."""
    screenings, _ = synthetic_screenings(300, seed=5)
    ids = identities_frame(screenings, key)
    i = pl.int_range(pl.len())
    ids = ids.with_columns(
        *[pl.when(i % 17 == 0).then(None).otherwise(pl.col(c)).alias(c) for c in L.NAME_COLUMNS],
        pl.when(i % 13 == 0).then(None).otherwise(pl.col("case_token")).alias("case_token"),
    )
    records = L._linkage_input(ids).with_columns(prior_person_token=pl.lit(None, dtype=pl.String)).with_row_index("_in")
    order = records.select(pl.arg_sort_by("source_file", "source_row", maintain_order=True)).to_series()
    con = duckdb.connect(config={"threads": 1})
    L.load_features(con, records, order)
    con.execute("CREATE OR REPLACE TEMP TABLE lk_pk AS SELECT rid, unnest(pair_keys) AS k, byear FROM lk")
    con.execute(L._blocking_sql(L.block_caps(con, 300)))
    return con, records.height


def _old_compare(con: duckdb.DuckDBPyConnection, pairs: str, out: str) -> None:
    con.execute(L._COMPARED_DDL.replace("@OUT@", out))
    con.execute(L.comparison_sql(_OLD_COMPARE_SQL, out).replace("@PAIRS@", f"(SELECT l, r FROM {pairs})"))


def test_comparison_levels_equal_the_old_statements(key):
    con, n = _prepared(key)
    # the candidate pairs (mostly the same person), and random pairs (mostly not: every level)
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, n, 5000), rng.integers(0, n, 5000)
    con.register("rnd", pl.DataFrame({"l": np.minimum(a, b)[a != b], "r": np.maximum(a, b)[a != b]}))
    for pairs in ("lk_pairs", "rnd"):
        L._compare(con, pairs, "new_cmp")
        _old_compare(con, pairs, "old_cmp")
        new = con.sql("SELECT * FROM new_cmp ORDER BY l, r").pl()
        old = con.sql("SELECT * FROM old_cmp ORDER BY l, r").pl()
        assert new.height == old.height > 500
        assert new.equals(old)
        # the cases the rewrite had to keep: a side without a name, names similar but not equal
        assert new.filter(pl.col("g_name") == -1).height > 0
        assert new.filter(pl.col("g_name").is_between(0, 3)).height > 0


def test_weights_computed_once_equal_the_weight_expression(key):
    con, n = _prepared(key)
    L._compare(con, "lk_pairs", "lk_cmp")
    m, _ = L._m_probabilities(con, "lk_cmp")
    u = L._u_probabilities(pl.DataFrame(schema={c: pl.Int64 for c in (*L.COMPARISONS, "same_mission", "g_cit")}))
    # the weight expression over lk_cmp, as the histogram and the edges each evaluated it (and as
    # the incremental linkage's `scored_pairs` still does)
    expected = L.scored_pairs(con, m, u, n).with_columns(pl.col("forced").fill_null(False))
    old_hist = con.sql(
        f"SELECT coalesce(g_dob, -1), round({L._weight_sql(m, u, n)}, 3) AS w, coalesce(forced, false), "
        "count(*) FROM lk_cmp GROUP BY ALL ORDER BY ALL"
    ).fetchnumpy()
    L._score(con, m, u, n)
    assert not con.sql("SELECT * FROM duckdb_tables() WHERE table_name = 'lk_cmp'").fetchall()  # replaced
    got = con.sql("SELECT l, r, forced, g_dob, w FROM lk_w ORDER BY l, r").pl()
    assert got.equals(expected.select(got.columns))
    new_hist = L._weight_histogram(con)
    for a, b in zip(new_hist, (old_hist[k] for k in old_hist), strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b, dtype=np.asarray(a).dtype))
