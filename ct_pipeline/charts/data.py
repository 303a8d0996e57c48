"""What a chart may read: published cells of pub_* tables, sliced for an audience. Nothing here reads
a mart or a fact table, so every figure (whose JSON carries its data) holds only published counts.

A slice that needs several published cells (two regions, or a span of years not published as one
period) adds the published cells only: the result is a lower bound and is marked `is_partial`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import polars as pl

from ct_pipeline.disclosure.publish import PUBLICATIONS, QUALITY_TABLE, RELEASE_TABLE, range_label
from ct_pipeline.disclosure.suppress import TOTAL

FILTER_DIMS = ("programme_region", "programme", "period")


@dataclass(frozen=True)
class Slice:
    """An audience's view: programme regions (None: all), programme (gaf or None: all), years."""

    regions: tuple[str, ...] | None = None
    programme: str | None = None
    years: tuple[int, int] | None = None

    def describe(self, release: Release | None = None) -> str:
        regions = ", ".join(self.regions) if self.regions else "all regions"
        programme = "GAF programme" if self.programme == "gaf" else "all programmes"
        lo, hi = self.span(release)
        return f"Missions in {regions} · {programme} · {lo}–{hi}"

    def span(self, release: Release | None) -> tuple[int, int]:
        first = release.first_period if release else None
        last = release.last_period if release else None
        if self.years is None:
            return first, last
        lo, hi = self.years
        return (max(lo, first) if first else lo, min(hi, last) if last else hi)

    def __post_init__(self) -> None:
        if self.programme not in (None, "gaf"):
            raise ValueError(f"programme must be gaf or empty, not {self.programme!r}")


@dataclass(frozen=True)
class Release:
    vintage: dt.date
    k: int
    first_period: int | None
    last_period: int | None
    method: str


def release(con: duckdb.DuckDBPyConnection) -> Release:
    rows = con.sql(
        f"SELECT data_vintage, disclosure_k, first_period, last_period, suppression_method FROM {RELEASE_TABLE} "
        "ORDER BY released_at DESC LIMIT 1"
    ).fetchall()
    if not rows:
        raise RuntimeError(f"{RELEASE_TABLE} is empty: build the pub_* tables first")
    return Release(*rows[0])


def _q(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _period_filter(con, table: str, sl: Slice, rel: Release, yearly: bool) -> tuple[str, bool]:
    """(SQL condition on period, whether several periods are added up)."""
    lo, hi = sl.span(rel)
    years = f"TRY_CAST(period AS INTEGER) BETWEEN {int(lo)} AND {int(hi)}"
    if yearly:
        return years, False
    if rel.first_period is None or (lo <= rel.first_period and hi >= rel.last_period):
        return f"period = '{TOTAL}'", False
    label = range_label(lo, hi)
    if con.sql(f"SELECT count(*) FROM {table} WHERE period = ?", params=[label]).fetchall()[0][0]:
        return f"period = {_q(label)}", False
    return years, True


def cells(con: duckdb.DuckDBPyConnection, table: str, sl: Slice, keep: tuple[str, ...], *,
          yearly: bool = False, programme: str | None = None, rel: Release | None = None) -> pl.DataFrame:
    """Published cells of `table` for the slice: the `keep` dimensions as they are (totals included),
    every other dimension at total; with `yearly`, one row per year of the slice.

    Columns: period (when yearly), the `keep` dimensions, value (published count or sum of published
    counts; empty when all withheld), is_suppressed, is_partial (some of the added cells withheld)."""
    if not table.startswith("pub_") or table not in PUBLICATIONS:
        raise ValueError(f"charts read published cube tables only, not {table}")
    spec = PUBLICATIONS[table]
    rel = rel or release(con)
    where = [f"{d} = '{TOTAL}'" for d in spec.dims if d not in keep and d not in FILTER_DIMS]
    if sl.regions:
        where.append(f"programme_region IN ({', '.join(_q(r) for r in sl.regions)})")
    else:
        where.append(f"programme_region = '{TOTAL}'")
    where.append(f"programme = {_q(programme or sl.programme or TOTAL)}")
    cond, _ = _period_filter(con, table, sl, rel, yearly)
    where.append(cond)
    group = (["period"] if yearly else []) + list(keep)
    sel = ", ".join(group)
    df = con.sql(f"""
        SELECT {sel}{',' if sel else ''}
               sum({spec.count})::BIGINT AS value,
               bool_and(is_suppressed) AS is_suppressed,
               bool_or(is_suppressed) AND NOT bool_and(is_suppressed) AS is_partial
        FROM {table} WHERE {' AND '.join(where)}
        {'GROUP BY ' + sel if sel else ''}
        {'ORDER BY ' + sel if sel else ''}
    """).pl()
    if yearly:
        df = df.with_columns(pl.col("period").cast(pl.Int64)).sort(["period", *keep])
    return df


def quality_cells(con: duckdb.DuckDBPyConnection, period: str = TOTAL) -> pl.DataFrame:
    """Published completeness (percent) by mission × field for one period (default: all years)."""
    return con.sql(
        f"SELECT mission_code, field_name, completeness_pct, is_suppressed FROM {QUALITY_TABLE} "
        "WHERE period = ? ORDER BY mission_code, field_name", params=[period]
    ).pl()
