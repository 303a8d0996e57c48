"""The blocking check of the public zone: `check_disclosure(con, k)` re-proves, on the database,
that every pub_* table keeps the threshold and that no withheld cell is recoverable from totals.

Problems name the table, the rule and how many cells or lines break it - never a value."""

from __future__ import annotations

import os
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from ct_pipeline.disclosure.publish import PUBLICATIONS, QUALITY_TABLE, RELEASE_TABLE
from ct_pipeline.disclosure.suppress import (
    DEFAULT_K,
    TOTAL,
    CubeSpec,
    canonical_key,
    is_range,
    line_members,
    outside_label,
)


@dataclass(frozen=True)
class DisclosureProblem:
    table: str
    rule: str
    cells: int
    detail: str

    def __str__(self) -> str:
        return f"{self.table}: {self.rule} ({self.cells}): {self.detail}"


def pub_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0]
        for r in con.sql(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND table_name LIKE 'pub\\_%' ESCAPE '\\' ORDER BY 1"
        ).fetchall()
    ]


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.sql(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND database_name = current_database() "
        "AND schema_name = 'main' ORDER BY column_index", params=[table]).fetchall()]


def _threshold(con, table: str, cols: list[str], k: int) -> list[DisclosureProblem]:
    out = []
    counts = [c for c in cols if c.endswith("_count")]
    for c in counts:
        n = con.sql(f"SELECT count(*) FROM {table} WHERE {c} > 0 AND {c} < {int(k)}").fetchall()[0][0]
        if n:
            out.append(DisclosureProblem(table, "below_threshold", n, f"{c} holds counts from 1 to {k - 1}"))
    if counts or "completeness_pct" in cols:
        if "is_suppressed" not in cols:
            out.append(DisclosureProblem(table, "no_suppression_flag", 0, "the table has no is_suppressed column"))
        else:
            measure = counts[0] if counts else "completeness_pct"
            n = con.sql(f"SELECT count(*) FROM {table} WHERE is_suppressed IS DISTINCT FROM ({measure} IS NULL)"
                        ).fetchall()[0][0]
            if n:
                out.append(DisclosureProblem(table, "flag_mismatch", n, f"is_suppressed disagrees with an empty {measure}"))
    return out


def _with_outside_cells(df: pl.DataFrame, spec: CubeSpec) -> pl.DataFrame:
    """The years outside each published range are a cell nobody publishes (unknown) but that lines
    hold: add them, withheld, wherever the range or the all-years total is published."""
    d = spec.ranged
    if d not in spec.dims:
        return df
    others = [c for c in spec.dims if c != d]
    ranges = df.filter(is_range(d))[d].unique().sort().to_list()
    extra = [
        df.filter(pl.col(d).is_in([r, TOTAL])).select(others).unique()
        .with_columns(pl.lit(outside_label(r)).alias(d), pl.lit(None, pl.Int64).alias(spec.count),
                      pl.lit(True).alias("is_suppressed")).select(df.columns)
        for r in ranges
    ]
    return pl.concat([df, *extra], how="vertical_relaxed") if extra else df


def _lines(table: str, df: pl.DataFrame, spec: CubeSpec, k: int) -> list[DisclosureProblem]:
    """Work out every withheld cell that follows from the published ones (a line with one unknown
    cell gives it away, repeatedly) and check that none of them, and no group of withheld cells a
    known total reveals, holds from 1 to k - 1."""
    out = []
    cells = _with_outside_cells(df, spec).with_row_index("cell").with_columns(pl.col("cell").cast(pl.Int64))
    members = line_members(cells, spec).filter(pl.col("additive"))  # unions give bounds, not counts
    line = members["line"].rank("dense").cast(pl.Int64).to_numpy() - 1
    member = members["cell"].to_numpy()
    is_total = members["is_total"].to_numpy()
    n_lines = int(line.max()) + 1 if len(line) else 0
    value = cells[spec.count].fill_null(0).cast(pl.Float64).to_numpy().copy()
    known = ~cells["is_suppressed"].to_numpy().copy()
    derived = np.zeros(len(known), dtype=bool)
    sign = np.where(is_total, -1.0, 1.0)
    while True:
        unknown = ~known[member]
        n_unknown = np.bincount(line, weights=unknown, minlength=n_lines)
        lone = (n_unknown[line] == 1) & unknown
        if not lone.any():
            break
        # parts - total over the known members: the lone unknown is minus that (part) or that (total)
        balance = np.bincount(line, weights=np.where(unknown, 0.0, sign * value[member]), minlength=n_lines)
        cells_new = member[lone]
        value[cells_new] = np.where(is_total[lone], balance[line[lone]], -balance[line[lone]])
        known[cells_new] = True
        derived[cells_new] = True
    small = derived & (value > 0) & (value < k)
    if small.any():
        out.append(DisclosureProblem(table, "recoverable_from_total", int(small.sum()),
                                     f"withheld cells that follow from published ones and hold from 1 to {k - 1}"))
    unknown = ~known[member]
    total_known = np.bincount(line, weights=~unknown & is_total, minlength=n_lines) > 0
    balance = np.bincount(line, weights=np.where(unknown, 0.0, sign * value[member]), minlength=n_lines)
    hidden = -balance  # total minus the known parts: what the unknown parts hold together
    has_unknown = np.bincount(line, weights=unknown, minlength=n_lines) > 0
    n_small = int((total_known & has_unknown & (hidden > 0) & (hidden < k)).sum())
    if n_small:
        out.append(DisclosureProblem(table, "small_withheld_total", n_small,
                                     f"lines whose withheld cells together hold fewer than {k}, revealed by the total"))
    mismatch = int((total_known & ~has_unknown & (np.abs(hidden) > 0.5)).sum())
    if mismatch:
        out.append(DisclosureProblem(table, "total_mismatch", mismatch,
                                     "lines whose published parts do not add up to their published total"))
    return out


def _linked(frames: dict[str, tuple[CubeSpec, pl.DataFrame]]) -> list[DisclosureProblem]:
    keyed = [
        df.select(pl.lit(spec.population).alias("population"), pl.lit(name).alias("table"),
                  canonical_key(spec.dims).alias("key"), pl.col(spec.count).alias("value"), "is_suppressed")
        for name, (spec, df) in frames.items()
    ]
    if not keyed:
        return []
    allc = pl.concat(keyed)
    bad = (
        allc.group_by("population", "key")
        .agg(pl.col("is_suppressed").n_unique().alias("flags"), pl.col("value").drop_nulls().n_unique().alias("values"),
             pl.col("table").n_unique().alias("tables"))
        .filter((pl.col("tables") > 1) & ((pl.col("flags") > 1) | (pl.col("values") > 1)))
        .select("population", "key")
    )
    per_table = allc.join(bad, on=["population", "key"], how="semi").group_by("table").len().sort("table")
    return [
        DisclosureProblem(t, "linked_mismatch", n,
                          "cells shared with another published table of the same population are withheld in one and "
                          "published in the other (or differ)")
        for t, n in per_table.iter_rows()
    ]


def _quality(con, k: int, cols: list[str]) -> list[DisclosureProblem]:
    if "mart_quality__mission_year_field" not in {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}:
        return [DisclosureProblem(QUALITY_TABLE, "unverifiable", 0,
                                  "mart_quality__mission_year_field is missing: the denominators cannot be checked")]
    n = con.sql(f"""
        WITH q AS (SELECT mission_code, registration_year::VARCHAR AS period, field_name, record_count
                   FROM mart_quality__mission_year_field
                   UNION ALL SELECT mission_code, 'total', field_name, sum(record_count)
                   FROM mart_quality__mission_year_field GROUP BY ALL)
        SELECT count(*) FROM {QUALITY_TABLE} p LEFT JOIN q USING (mission_code, period, field_name)
        WHERE p.completeness_pct IS NOT NULL AND coalesce(q.record_count, 0) < {int(k)}""").fetchall()[0][0]
    return [DisclosureProblem(QUALITY_TABLE, "below_threshold", n,
                              f"completeness published for fewer than {k} records")] if n else []


def check_disclosure(con: duckdb.DuckDBPyConnection, k: int = DEFAULT_K,
                     tables: list[str] | None = None) -> list[DisclosureProblem]:
    """Every problem of every pub_* table in the database (an empty list: the public zone is safe).
    With `tables`, only their problems are returned (all tables are still read: links between
    tables are part of the proof)."""
    problems = _check_all(con, k)
    return problems if tables is None else [p for p in problems if p.table in tables]


def threshold() -> int:
    """The disclosure threshold k: $CT_DISCLOSURE_K, else 11 (CTDC's)."""
    raw = os.environ.get("CT_DISCLOSURE_K", "").strip()
    if not raw:
        return DEFAULT_K
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"CT_DISCLOSURE_K must be a whole number of at least 1, not {raw!r}")
    return int(raw)


def _check_all(con: duckdb.DuckDBPyConnection, k: int) -> list[DisclosureProblem]:
    problems: list[DisclosureProblem] = []
    tables = pub_tables(con)
    if not tables:
        return [DisclosureProblem("pub_*", "no_tables", 0, "no published table to check")]
    frames: dict[str, tuple[CubeSpec, pl.DataFrame]] = {}
    for t in tables:
        cols = _columns(con, t)
        problems += _threshold(con, t, cols, k)
        if t == RELEASE_TABLE:
            released = con.sql(f"SELECT min(disclosure_k) FROM {RELEASE_TABLE}").fetchall()[0][0]
            if released is None or released < k:
                problems.append(DisclosureProblem(t, "threshold_lower_than_required", 1,
                                                  f"tables were built with k = {released}, the check requires {k}"))
        elif t == QUALITY_TABLE:
            problems += _quality(con, k, cols)
        elif t in PUBLICATIONS:
            spec = PUBLICATIONS[t]
            missing = [c for c in (*spec.dims, spec.count, "is_suppressed") if c not in cols]
            if missing:
                problems.append(DisclosureProblem(t, "unexpected_columns", len(missing), f"missing {', '.join(missing)}"))
                continue
            df = con.sql(f"SELECT {', '.join(spec.dims)}, {spec.count}, is_suppressed FROM {t}").pl()
            problems += _lines(t, df, spec, k)
            frames[t] = (spec, df)
        elif not any(c.endswith("_count") for c in cols) and "completeness_pct" not in cols:
            problems.append(DisclosureProblem(t, "unknown_table", 0,
                                              "a pub_* table the check does not know and that holds no *_count column"))
    problems += _linked(frames)
    return problems
