"""How much of what the donors' charts draw secondary suppression takes away (restricted zone: it
compares the published pub_* tables with the true counts of the build database).

    python -m ct_pipeline.disclosure.loss [--build-db warehouse/restricted/build.duckdb] [--k 11]

Prints, per chart, the drawn cells of k or more cases in the donors' slices, how many of them are
withheld and the share of their cases that is withheld - counts and percentages only, never a value
of a cell. Run after a full pipeline run (the pub_* tables must be built for the same donors)."""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
import polars as pl

from ct_pipeline.disclosure.publish import (
    DRAWN,
    PUBLICATIONS,
    RESEARCH_CASES,
    _named,
    create_research_view,
    cube,
    released_cells,
)
from ct_pipeline.disclosure.suppress import DEFAULT_K, TOTAL, is_range

_T = TOTAL


#: chart -> (table, the drawn cells it shows)
CHARTS: dict[str, tuple[str, pl.Expr]] = {
    "cases per year by type": ("pub_cases__type_yearly", pl.lit(True)),
    "cases per year, all types": ("pub_cases__type_yearly", pl.col("exploitation_type_code") == _T),
    "sex x age pyramid": ("pub_cases__sex_age", pl.lit(True)),
    "routes Sankey": ("pub_routes__regions", pl.lit(True)),
    "choropleth (countries of exploitation)": ("pub_routes__countries", pl.col("origin_region") == _T),
    "corridors (country pairs)": ("pub_routes__countries", _named("origin_country_code")),
    "assistance per year by type": ("pub_assistance__type_yearly", pl.lit(True)),
}


def information_loss(con: duckdb.DuckDBPyConnection, audiences: list, k: int = DEFAULT_K) -> pl.DataFrame:
    """One row per chart: drawn cells (>= k), withheld cells, share of their cases withheld - in
    the audiences' slices (without audiences: the whole population's)."""
    create_research_view(con)
    first, last = con.sql(f"SELECT min(registration_year), max(registration_year) FROM {RESEARCH_CASES}").fetchall()[0]
    rows = []
    truth: dict[str, pl.DataFrame] = {}
    for chart, (table, cond) in CHARTS.items():
        spec = PUBLICATIONS[table]
        if table not in truth:
            published = con.sql(f"SELECT * FROM {table}").pl()
            ranges = tuple(sorted({tuple(int(x) for x in p.split("-"))
                                   for p in published.filter(is_range("period"))["period"].unique().to_list()}))
            truth[table] = (cube(con, spec, ranges).join(published, on=list(spec.dims))
                            .filter(released_cells(spec, audiences, first, last, everyone=not audiences)
                                    & DRAWN[table]))
        drawn = truth[table].filter(cond & (pl.col("value") >= k))
        withheld = drawn.filter(pl.col("is_suppressed"))
        rows.append({"chart": chart, "drawn_cells": drawn.height, "withheld_cells": withheld.height,
                     "cases_withheld_pct": round(100 * withheld["value"].sum() / max(1, drawn["value"].sum()), 1)})
    return pl.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    from ct_pipeline.reports import audiences, default_donors_file, load_donors
    from ct_pipeline.settings import get_settings

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-db", type=Path, default=get_settings().restricted_dir / "build.duckdb")
    ap.add_argument("--donors", type=Path, default=default_donors_file())
    ap.add_argument("--k", type=int, default=DEFAULT_K)
    args = ap.parse_args(argv)
    con = duckdb.connect(str(args.build_db), read_only=True)
    with pl.Config(tbl_rows=50, tbl_width_chars=120, tbl_hide_dataframe_shape=True):
        print(information_loss(con, audiences(load_donors(args.donors)), args.k))


if __name__ == "__main__":
    main()
