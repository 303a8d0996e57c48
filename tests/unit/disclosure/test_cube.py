"""cube() counts over profiles of units (units with the same rows counted together, with a weight):
its counts must be exactly those of a DISTINCT count over the units themselves, the way the cubes
were counted before (the reference below), for every publication and every shape of period."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ct_pipeline.disclosure import PUBLICATIONS, TOTAL
from ct_pipeline.disclosure import publish as pub
from ct_pipeline.disclosure.publish import create_research_view, cube, grouping_sets, range_label
from ct_pipeline.disclosure.suppress import NOT_RECORDED, CubeSpec, outside_label

RANGES = [(), ((2001, 2026),), ((2001, 2026), (1999, 2010)), ((2003, 2004),)]


def reference_cube(con: duckdb.DuckDBPyConnection, spec: CubeSpec, period_ranges=()) -> pl.DataFrame:
    """The direct way: expand the periods of every unit's rows, then one count(DISTINCT unit) (or
    count(*)) per grouping set over all of them."""
    base, d = pub.base_sql(spec.table), spec.ranged
    dims = list(spec.dims)
    if d in spec.dims:
        year = f"TRY_CAST({d} AS INTEGER)"
        parts = [f"SELECT * FROM ({base})"] if spec.yearly else []
        for lo, hi in period_ranges:
            label = range_label(lo, hi)
            parts.append(f"SELECT * REPLACE (CASE WHEN {year} BETWEEN {lo} AND {hi} THEN '{label}' "
                         f"ELSE '{outside_label(label)}' END AS {d}) FROM ({base})")
        if not parts:
            parts = [f"SELECT * REPLACE ('{TOTAL}' AS {d}) FROM ({base})"]
            dims.remove(d)
        base = " UNION ALL ".join(parts)
    fixed = [c for c in spec.dims if c not in dims]
    con.execute(f"CREATE OR REPLACE TEMP TABLE _ref_base AS SELECT DISTINCT * FROM ({base})")
    counted = "count(DISTINCT unit_id)" if len(period_ranges) or spec.non_additive else "count(*)"
    parts = []
    for chosen in grouping_sets(replace(spec, dims=tuple(dims))):
        keys = [*chosen, *fixed]
        columns = ", ".join(f"coalesce({c}::VARCHAR, '{NOT_RECORDED}') AS {c}" if c in keys else f"'{TOTAL}' AS {c}"
                            for c in spec.dims)
        parts.append(con.sql(f"SELECT {columns}, {counted} AS value FROM _ref_base"
                             + (f" GROUP BY {', '.join(keys)}" if keys else "")).pl())
    con.execute("DROP TABLE _ref_base")
    return pl.concat(parts, how="vertical_relaxed").filter(pl.col("value") > 0).sort(list(spec.dims))


@pytest.mark.parametrize("ranges", RANGES, ids=["no_range", "one_range", "two_ranges", "short_range"])
def test_every_publication_counts_as_the_direct_distinct_count(built, ranges):
    create_research_view(built)
    for spec in PUBLICATIONS.values():
        assert_frame_equal(cube(built, spec, ranges), reference_cube(built, spec, ranges))


@pytest.mark.parametrize("yearly", [True, False])
@pytest.mark.parametrize("non_additive", [frozenset(), frozenset({"kind"})])
@pytest.mark.parametrize("ranges", [(), ((2002, 2003),)])
def test_multi_valued_units_and_empty_values(monkeypatch, yearly, non_additive, ranges):
    # units with several rows (some identical sets, some not), a NULL dimension value, a unit with a
    # row twice, an unknown year: the cases where profiles differ from plain rows
    rows = [
        ("u1", "a", "2001", "x"), ("u1", "a", "2002", "y"),
        ("u2", "a", "2001", "x"), ("u2", "a", "2002", "y"),
        ("u3", "a", "2001", "x"), ("u3", "a", "2001", "x"),
        ("u4", None, "2003", None), ("u4", "b", "2003", None),
        ("u5", "b", None, "y"), ("u6", "b", "2004", "x"), ("u6", "b", "2004", "y"), ("u6", "a", "2004", "y"),
    ]
    values = ", ".join("(" + ", ".join("NULL" if v is None else f"'{v}'" for v in r) + ")" for r in rows)
    sql = f"SELECT * FROM (VALUES {values}) AS t(unit_id, region, period, kind)"
    monkeypatch.setattr(pub, "base_sql", lambda table: sql)
    spec = CubeSpec("pub_test", "units", "unit_count", ("region", "period", "kind"),
                    non_additive=non_additive, yearly=yearly)
    con = duckdb.connect()
    try:
        assert_frame_equal(cube(con, spec, ranges), reference_cube(con, spec, ranges))
        # and an empty population: no cell at all
        monkeypatch.setattr(pub, "base_sql", lambda table: sql + " WHERE false")
        assert cube(con, spec, ranges).height == reference_cube(con, spec, ranges).height == 0
    finally:
        con.close()


def test_cases_counted_per_case_when_a_case_has_several_rows(built):
    # the cases tables group the cases by their rows only when each case is one row of the research
    # view; a case twice (here once more with another sex: the warehouse keeps no PRIMARY KEY index,
    # reconciliation checks the keys) is counted unit by unit instead
    create_research_view(built)
    assert pub.cases_are_rows(built)
    rc = pub.RESEARCH_CASES
    built.execute(f"CREATE TEMP TABLE _cases_twice AS SELECT * FROM {rc}")
    built.execute(f"INSERT INTO _cases_twice SELECT * REPLACE ('male' AS sex) FROM {rc} "
                  f"WHERE case_token = (SELECT min(case_token) FROM {rc} WHERE sex = 'female')")
    built.execute(f"CREATE OR REPLACE TEMP VIEW {rc} AS SELECT * FROM _cases_twice")
    assert not pub.cases_are_rows(built)
    for spec in PUBLICATIONS.values():
        assert_frame_equal(cube(built, spec, ((2001, 2026),)), reference_cube(built, spec, ((2001, 2026),)))
    # grouping the cases regardless would count that case twice in the cells of both sexes
    spec = PUBLICATIONS["pub_cases__sex_age"]
    assert not cube(built, spec, ((2001, 2026),), cases_grouped=True).equals(reference_cube(built, spec, ((2001, 2026),)))
