"""Build the pub_* tables (public zone) from the star schema: cubes of the cases and persons with
research consent, suppressed as `ct_pipeline.disclosure.suppress` documents."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Iterable
from dataclasses import replace

import duckdb
import polars as pl

from ct_pipeline.analysis.marts import RESEARCH_CASES, create_research_view, recreate
from ct_pipeline.analysis.sources import GAF_START, require_sources, table_columns
from ct_pipeline.disclosure.suppress import (
    DEFAULT_K,
    NOT_RECORDED,
    TOTAL,
    CubeSpec,
    outside_label,
    suppress,
)

log = logging.getLogger(__name__)

METHOD = (
    "Counts of fewer than {k} cases or persons are withheld (primary suppression). Further cells are "
    "withheld so that no withheld count can be worked out from the published ones - from a row, column, "
    "region or all-years total, from the difference of two published slices (such as all missions and "
    "the missions of one region), nor from another published table - and no published total reveals "
    "withheld cells that together hold fewer than {k} (secondary suppression, applied jointly to every "
    "table of the same population). Only the slices the reports read are published. Only cases with "
    "research consent are counted."
)

_PROG_CASES = "CASE WHEN is_gaf_eligible THEN 'gaf' ELSE 'other' END"
_NR = f"'{NOT_RECORDED}'"

#: the published cubes: population, count column, dimensions, hierarchies
PUBLICATIONS: dict[str, CubeSpec] = {
    s.table: s
    for s in [
        CubeSpec("pub_cases__type_yearly", "cases", "case_count",
                 ("programme_region", "programme", "period", "exploitation_type_code"),
                 non_additive=frozenset({"exploitation_type_code"})),
        # the pyramid and the routes are read for all years or a donor's span, never by year:
        # single years would only add small cells to protect
        CubeSpec("pub_cases__sex_age", "cases", "case_count",
                 ("programme_region", "programme", "period", "sex_code", "age_band_code"), yearly=False),
        # the Sankey reads origin → transit and transit → exploitation: no three-way cells
        CubeSpec("pub_routes__regions", "cases", "case_count",
                 ("programme_region", "programme", "period", "origin_region", "transit_region", "exploitation_region"),
                 yearly=False, not_crossed=(frozenset({"origin_region", "exploitation_region"}),)),
        CubeSpec("pub_routes__countries", "cases", "case_count",
                 ("programme_region", "programme", "period", "origin_region", "origin_country_code",
                  "exploitation_region", "exploitation_country_code"),
                 hierarchy={"origin_country_code": "origin_region", "exploitation_country_code": "exploitation_region"},
                 yearly=False),
        CubeSpec("pub_assistance__type_yearly", "assisted_persons", "person_count",
                 ("programme_region", "programme", "period", "assistance_type_code"),
                 # persons counted once per cell: a person assisted in two years, types or regions
                 # is one person in the total, so no dimension of this table adds up
                 non_additive=frozenset({"programme_region", "programme", "period", "assistance_type_code"})),
    ]
}
def _named(col: str) -> pl.Expr:
    return ~pl.col(col).is_in([TOTAL, NOT_RECORDED])


#: the cells the charts draw (ct_pipeline.charts.figures): when secondary suppression has a choice,
#: these are withheld last in the slices donors read; margins nobody draws go first
DRAWN: dict[str, pl.Expr] = {
    "pub_cases__type_yearly": pl.col("period").str.contains(r"^\d{4}$"),
    "pub_cases__sex_age": pl.col("sex_code").is_in(["female", "male"]) & _named("age_band_code"),
    "pub_routes__regions": (pl.col("transit_region") != TOTAL) & (
        (_named("origin_region") & (pl.col("exploitation_region") == TOTAL))
        | ((pl.col("origin_region") == TOTAL) & _named("exploitation_region"))),
    "pub_routes__countries": _named("exploitation_country_code") & (
        (pl.col("origin_region") == TOTAL) | _named("origin_country_code")),
    "pub_assistance__type_yearly": pl.col("period").str.contains(r"^\d{4}$"),
}

QUALITY_TABLE = "pub_quality__mission_year_field"
RELEASE_TABLE = "pub_release"
PUB_TABLES = (RELEASE_TABLE, *PUBLICATIONS, QUALITY_TABLE)


def _cases_base(extra: str, joins: str = "") -> str:
    return f"""
        SELECT 'c:' || c.case_token AS unit_id, coalesce(c.programme_region, {_NR}) AS programme_region,
               {_PROG_CASES} AS programme, c.registration_year::VARCHAR AS period, {extra}
        FROM {RESEARCH_CASES} c {joins}
    """


def _case_types_sql() -> str:
    """One row per case with its (sorted, distinct) exploitation types, for pub_cases__type_yearly."""
    return _cases_base(f"coalesce(c.exploitation_types, [{_NR}]) AS types")


def base_sql(table: str) -> str:
    """One row per counted unit (case or person) and combination of dimension values, none empty."""
    if table == "pub_cases__type_yearly":
        return f"SELECT * EXCLUDE (types), unnest(types) AS exploitation_type_code FROM ({_case_types_sql()})"
    if table == "pub_cases__sex_age":
        return _cases_base(f"coalesce(c.sex, {_NR}) AS sex_code, coalesce(c.age_band, {_NR}) AS age_band_code")
    if table == "pub_routes__regions":
        joins = """LEFT JOIN (SELECT l.case_token, arg_min(coalesce(d.region, 'not_recorded'), l.leg_order) AS region
                              FROM fct_route_legs l LEFT JOIN dim_countries d ON d.country_code = l.country_code
                              WHERE l.route_stage = 'transit' GROUP BY l.case_token) tr
                   ON tr.case_token = c.case_token"""
        return _cases_base(
            f"""CASE WHEN c.citizenship IS NULL THEN {_NR} ELSE coalesce(c.citizenship_region, {_NR}) END AS origin_region,
                coalesce(tr.region, 'none') AS transit_region,
                CASE WHEN c.exploitation_country IS NULL THEN {_NR}
                     ELSE coalesce(c.exploitation_region, {_NR}) END AS exploitation_region""",
            joins,
        )
    if table == "pub_routes__countries":
        return _cases_base(
            f"""CASE WHEN c.citizenship IS NULL THEN {_NR} ELSE coalesce(c.citizenship_region, {_NR}) END AS origin_region,
                coalesce(c.citizenship, {_NR}) AS origin_country_code,
                CASE WHEN c.exploitation_country IS NULL THEN {_NR}
                     ELSE coalesce(c.exploitation_region, {_NR}) END AS exploitation_region,
                coalesce(c.exploitation_country, {_NR}) AS exploitation_country_code"""
        )
    if table == "pub_assistance__type_yearly":
        return f"""
            SELECT c.person_id AS unit_id, coalesce(c.programme_region, {_NR}) AS programme_region,
                   CASE WHEN a.is_gaf_funded IS TRUE AND a.assistance_start_date >= DATE '{GAF_START}'
                        THEN 'gaf' ELSE 'other' END AS programme,
                   year(a.assistance_start_date)::VARCHAR AS period, a.assistance_type AS assistance_type_code
            FROM fct_assistance a JOIN {RESEARCH_CASES} c ON c.case_token = a.case_token
            WHERE a.assistance_start_date IS NOT NULL AND year(a.assistance_start_date) >= 1999
        """
    raise KeyError(table)


#: the tables counting cases of the research view (unit 'c:' || case_token, see `_cases_base`)
CASE_TABLES = frozenset(s.table for s in PUBLICATIONS.values() if s.population == "cases")


def grouped_base_sql(table: str) -> str:
    """`base_sql` with the cases already grouped: (unit_id, weight, dimensions), one "unit" per set
    of cases with the same rows, ``weight`` of them. Exact only when every case is one row of the
    research view (`cases_are_rows`): a case's rows are then a function of the columns grouped by
    (its dimensions; for the types table, its sorted list of distinct types)."""
    names = ", ".join(PUBLICATIONS[table].dims)
    if table == "pub_cases__type_yearly":
        return f"""
            SELECT unit_id, weight, * EXCLUDE (unit_id, weight, types), unnest(types) AS exploitation_type_code
            FROM (SELECT row_number() OVER () AS unit_id, *
                  FROM (SELECT count(*) AS weight, * EXCLUDE (unit_id) FROM ({_case_types_sql()}) GROUP BY ALL))"""
    return f"""
        SELECT row_number() OVER () AS unit_id, *
        FROM (SELECT count(*) AS weight, {names} FROM ({base_sql(table)}) GROUP BY ALL)"""


def cases_are_rows(con: duckdb.DuckDBPyConnection) -> bool:
    """Every case of the research view is one row of it (the registry's key; a duplicated dimension
    row would break it), so that the cases tables can be counted by `grouped_base_sql`."""
    return con.sql(f"SELECT count(*) = count(DISTINCT case_token) FROM {RESEARCH_CASES}").fetchall()[0][0]


def grouping_sets(spec: CubeSpec) -> list[tuple[str, ...]]:
    """Every subset of the dimensions in which a child of a hierarchy comes with its parent, and no
    combination the spec leaves uncrossed appears whole."""
    sets = []
    for mask in itertools.product((True, False), repeat=len(spec.dims)):
        chosen = tuple(d for d, keep in zip(spec.dims, mask, strict=True) if keep)
        if all(parent in chosen for child, parent in spec.hierarchy.items() if child in chosen) and not any(
                combo <= set(chosen) for combo in spec.not_crossed):
            sets.append(chosen)
    return sets


def range_label(first: int, last: int) -> str:
    return f"{int(first)}-{int(last)}"


def cube(con: duckdb.DuckDBPyConnection, spec: CubeSpec, period_ranges: tuple[tuple[int, int], ...] = (),
         *, cases_grouped: bool | None = None) -> pl.DataFrame:
    """The full cube of a publication (true counts, with every margin as `total`; each period range
    as one more period value, with the years outside it as ``outside:<range>``; no single years in a
    table that is not `yearly`).

    Counted over *profiles*, not units: two units (cases, persons) with the same set of base rows
    count in exactly the same cells, so the units are first grouped by that set, with its number of
    units as a weight, and every margin sums the weights of the profiles that have a row in the
    cell. A million cases make a few thousand profiles (a few hundred thousand for the persons
    assisted), so the one GROUP BY per grouping set below runs on a small table instead of rescanning
    every unit with a DISTINCT count (measured at 1M cases: ~38 s of CPU down to a few). The counts
    are the same: a unit counts once in a cell it has a row in (count(DISTINCT unit)), or once per
    such row (count(*), additive tables without period ranges).

    A case has one row per table (per type in the types table), so the cases tables start from the
    cases grouped by their rows (`grouped_base_sql`) rather than from one unit per case: the same
    profiles for a GROUP BY of the research view (measured at 1M cases: ~4 s of CPU down to ~1.4).
    `cases_grouped`: whether that holds (`cases_are_rows`; None: checked here). The dimensions are
    numbered once on the few distinct rows, so that the profiles' rows and the grouping sets hash
    integers rather than text."""
    d = spec.ranged
    names = ", ".join(spec.dims)
    same = " AND ".join(f"b.{c} IS NOT DISTINCT FROM r.{c}" for c in spec.dims)
    if spec.table in CASE_TABLES and cases_grouped is None:
        cases_grouped = cases_are_rows(con)
    base = (f"SELECT unit_id, weight, {names} FROM ({grouped_base_sql(spec.table)})" if spec.table in CASE_TABLES
            and cases_grouped else f"SELECT unit_id, 1 AS weight, {names} FROM ({base_sql(spec.table)})")
    # not DISTINCT: a unit's profile below is the set of its rows, duplicates count once there
    con.execute(f"CREATE OR REPLACE TEMP TABLE _pub_base AS {base}")
    try:
        # a number for each distinct row, so that a unit's profile is a short sorted list of
        # integers: exact (a hash could merge two different profiles and change counts) and
        # cheaper to group by than lists of rows
        con.execute(f"CREATE OR REPLACE TEMP TABLE _pub_row_ids AS "
                    f"SELECT row_number() OVER () AS row_id, {names} FROM (SELECT DISTINCT {names} FROM _pub_base)")
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _pub_profiles AS
            WITH units AS (SELECT list_sort(list(DISTINCT r.row_id)) AS row_ids, b.weight
                           -- a unit's rows share its weight: grouped by it too (cheaper than any_value)
                           FROM _pub_base b JOIN _pub_row_ids r ON {same} GROUP BY b.unit_id, b.weight),
            profiles AS (SELECT row_number() OVER () AS profile, sum(weight) AS weight, row_ids
                         FROM units GROUP BY row_ids)
            SELECT profile, weight, unnest(row_ids) AS row_id FROM profiles
        """)
        con.execute("DROP TABLE _pub_base")
        dims = list(spec.dims)
        rows = f"SELECT row_id, {names} FROM _pub_row_ids"
        if d in spec.dims:
            year = f"TRY_CAST({d} AS INTEGER)"
            parts = [rows] if spec.yearly else []
            for lo, hi in period_ranges:
                label = range_label(lo, hi)
                parts.append(f"SELECT * REPLACE (CASE WHEN {year} BETWEEN {int(lo)} AND {int(hi)} THEN '{label}' "
                             f"ELSE '{outside_label(label)}' END AS {d}) FROM ({rows})")
            if not parts:  # no single years and no ranges: the period is only ever the total
                parts = [f"SELECT * REPLACE ('{TOTAL}' AS {d}) FROM ({rows})"]
                dims.remove(d)
            rows = " UNION ALL ".join(parts)
        fixed = [c for c in spec.dims if c not in dims]  # a constant column: in every grouping set
        # each distinct row with its period values, every dimension numbered (on a few thousand rows)
        con.execute("CREATE OR REPLACE TEMP TABLE _pub_dict AS SELECT *, "
                    + ", ".join(f"dense_rank() OVER (ORDER BY {c}) AS _n_{c}" for c in spec.dims) + f" FROM ({rows})")
        # a profile's rows, distinct (as the units' rows were): a unit counts once per row it has
        con.execute("CREATE OR REPLACE TEMP TABLE _pub_rows AS SELECT DISTINCT profile, weight, "
                    + ", ".join(f"_n_{c} AS {c}" for c in spec.dims) + " FROM _pub_profiles JOIN _pub_dict USING (row_id)")
        distinct = bool(len(period_ranges) or spec.non_additive)
        # one GROUP BY per grouping set (DuckDB's GROUPING SETS with a DISTINCT count kept a hash
        # table per set at once: gigabytes at a million cases), in one statement: on a table of
        # profiles each takes milliseconds, less than a query's own cost
        ctes, parts = [], []
        sources = {tuple(dims): "_pub_rows"}  # distinct (profile, weight, keys) of a grouping set
        for chosen in sorted(grouping_sets(replace(spec, dims=tuple(dims))), key=len, reverse=True):
            keys = [*chosen, *fixed]
            if distinct and chosen not in sources:
                # count(DISTINCT unit): each profile once in a cell, with its weight; taken from a
                # set one dimension larger, already distinct and smaller than the rows (the largest
                # sets come first; measured at 1M cases: the persons assisted's ~0.75 s down to ~0.5)
                parent = next((t for k, t in sources.items() if len(k) == len(chosen) + 1 and set(chosen) < set(k)),
                              "_pub_rows")
                sources[chosen] = f"_pub_set{len(ctes)}"
                ctes.append(f"{sources[chosen]} AS MATERIALIZED (SELECT DISTINCT {', '.join(['profile', 'weight', *keys])} "
                            f"FROM {parent})")
            columns = ", ".join(c if c in keys else f"NULL::BIGINT AS {c}" for c in spec.dims)
            parts.append(f"SELECT {columns}, coalesce(sum(weight), 0)::BIGINT AS value FROM {sources.get(chosen, '_pub_rows')}"
                         + (f" GROUP BY {', '.join(keys)}" if keys else ""))
        # numbers back to values: no number is a margin (total); a missing value is not recorded
        decoded = ", ".join(f"CASE WHEN g.{c} IS NULL THEN '{TOTAL}' ELSE coalesce(n_{c}.v::VARCHAR, '{NOT_RECORDED}') END AS {c}"
                            for c in spec.dims)
        joins = " ".join(f"LEFT JOIN (SELECT DISTINCT _n_{c} AS n, {c} AS v FROM _pub_dict) n_{c} ON n_{c}.n = g.{c}"
                         for c in spec.dims)
        with_ = f"WITH {', '.join(ctes)} " if ctes else ""
        out = con.sql(f"{with_}SELECT {decoded}, g.value FROM ({' UNION ALL '.join(parts)}) g {joins}").pl()
        # an empty base still has its all-total cell (0) in a GROUP BY of nothing: drop zeros
        return out.filter(pl.col("value") > 0).sort(list(spec.dims))
    finally:
        for t in ("_pub_base", "_pub_row_ids", "_pub_profiles", "_pub_dict", "_pub_rows"):
            con.execute(f"DROP TABLE IF EXISTS {t}")


def _insert(con: duckdb.DuckDBPyConnection, table: str, df: pl.DataFrame) -> None:
    con.register("_pub_rows", df)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _pub_rows")
    finally:
        con.unregister("_pub_rows")


def quality_table(con: duckdb.DuckDBPyConnection, k: int) -> pl.DataFrame:
    """Completeness in whole percent by mission × year (and all years) × field; no counts;
    withheld where fewer than k records were measured."""
    return con.sql(f"""
        WITH q AS (
            SELECT mission_code, registration_year::VARCHAR AS period, field_name, record_count, filled_count
            FROM mart_quality__mission_year_field
            UNION ALL
            SELECT mission_code, '{TOTAL}', field_name, sum(record_count), sum(filled_count)
            FROM mart_quality__mission_year_field GROUP BY mission_code, field_name)
        SELECT mission_code, period, field_name,
               CASE WHEN record_count >= {int(k)} THEN round(100.0 * filled_count / record_count)::BIGINT END
                   AS completeness_pct,
               record_count < {int(k)} AS is_suppressed
        FROM q ORDER BY ALL
    """).pl()


def data_vintage(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The latest export date the published figures include."""
    return con.sql("SELECT max(received_date) FROM fct_cases").fetchall()[0][0]


def released_cells(spec: CubeSpec, audiences: Iterable, first: int | None, last: int | None,
                   everyone: bool = True) -> pl.Expr:
    """The cells some report reads, with the totals of their slice: for each audience its programme
    regions (or the total), its programme (or the total; the assistance table also GAF's, for the
    GAF chart every pack has) and its span of years (the range, or the all-years total; a yearly
    table also its single years). The whole population (all regions, programmes and years) is
    released too unless `everyone` is False. The other cells are withheld: nobody reads them, and
    each published cell is one more equation to protect."""
    expr = pl.lit(False)
    year = pl.col("period").cast(pl.Int64, strict=False)
    for a in [*audiences, *([None] if everyone else [])]:
        regions = list(a.regions) if getattr(a, "regions", None) else [TOTAL]
        programmes = [getattr(a, "programme", None) or TOTAL]
        if spec.table == "pub_assistance__type_yearly":
            programmes.append("gaf")
        lo, hi = getattr(a, "years", None) or (first, last)
        whole = lo is None or first is None or (lo <= first and hi >= last)
        span = TOTAL if whole else range_label(max(lo, first), min(hi, last))
        period = pl.col("period") == span
        if spec.yearly and lo is not None:
            period = period | year.is_between(lo, hi)
        expr = expr | (pl.col("programme_region").is_in(regions) & pl.col("programme").is_in(programmes) & period)
    return expr


def build_pub_tables(con: duckdb.DuckDBPyConnection, k: int = DEFAULT_K, *,
                     audiences: Iterable = (), period_ranges: Iterable[tuple[int, int]] = (),
                     vintage: dt.date | None = None) -> dict[str, int]:
    """Build every pub_* table in one transaction; returns the rows of each and the withheld cells.

    `audiences` are the slices reports will read (objects with `regions`, `programme`, `years`, such
    as `ct_pipeline.reports.audiences(load_donors(path))`): each span of years becomes one published
    period (protected like the rest) and, where secondary suppression has a choice, the cells they
    read are withheld last. `period_ranges` adds spans of years without an audience.
    Needs the star schema and mart_quality__mission_year_field (build_marts first)."""
    audiences = list(audiences)
    period_ranges = [*period_ranges, *(a.years for a in audiences if getattr(a, "years", None))]
    require_sources(con)
    if "mart_quality__mission_year_field" not in table_columns(con):
        raise RuntimeError("mart_quality__mission_year_field is missing: build the marts before the pub_* tables")
    create_research_view(con)
    years = con.sql(f"SELECT min(registration_year), max(registration_year) FROM {RESEARCH_CASES}").fetchall()[0]
    ranges = tuple(sorted({
        (max(int(lo), years[0]), min(int(hi), years[1])) for lo, hi in period_ranges
        if years[0] is not None and int(lo) <= years[1] and int(hi) >= years[0]
        and not (int(lo) <= years[0] and int(hi) >= years[1]) and int(lo) < int(hi)
    }))
    grouped = cases_are_rows(con)
    cubes = {name: cube(con, spec, ranges, cases_grouped=grouped) for name, spec in PUBLICATIONS.items()}
    # released: what reports read, and the whole population; preferred (withheld last): what
    # the donors' charts draw
    cubes = {name: c.with_columns(released_cells(PUBLICATIONS[name], audiences, *years).alias("released"),
                                  (released_cells(PUBLICATIONS[name], audiences, *years, everyone=False)
                                   & DRAWN[name]).alias("preferred"))
             for name, c in cubes.items()}
    published = suppress(cubes, PUBLICATIONS, k)
    quality = quality_table(con, k)
    release = pl.DataFrame({
        "data_vintage": [vintage or data_vintage(con) or dt.date.today()],
        "disclosure_k": [k], "first_period": [years[0]], "last_period": [years[1]],
        "released_at": [dt.datetime.now(dt.UTC).replace(tzinfo=None)],
        "suppression_method": [METHOD.format(k=k)],
    })
    counts: dict[str, int] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for name in PUB_TABLES:
            recreate(con, name)
        _insert(con, RELEASE_TABLE, release)
        for name, df in published.items():
            _insert(con, name, df)
            counts[name] = df.height
            counts[f"{name}.suppressed"] = int(df["is_suppressed"].sum())
        _insert(con, QUALITY_TABLE, quality)
        counts[QUALITY_TABLE] = quality.height
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    log.info("pub tables built (k=%d): %s", k, counts)
    return counts
