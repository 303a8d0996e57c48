"""The analysis marts (mart_*): trends, routes, assistance, re-victimisation, data quality and the
comparison with the public CTDC dataset, built in DuckDB from the star schema.

Every mart is created from the registry DDL (so analysts see its descriptions in DuckDB) and filled
with one `INSERT … BY NAME SELECT`. Research marts count only cases with research consent
(`has_research_consent` true; empty counts as no); the data-quality mart measures the exports and
counts every case.

Flow classes follow the UNODC Global Report on Trafficking in Persons, with the UN M49 regions and
sub-regions of `dim_countries`: domestic (same country), intra_subregional (same sub-region),
intra_regional (same region), trans_regional (another region).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import duckdb

from ct_pipeline.analysis.sources import GAF_START, has_table, require_sources, table_columns
from ct_pipeline.metadata.ddl import table_ddl
from ct_pipeline.metadata.registry import load_registry

log = logging.getLogger(__name__)

TOP_CORRIDORS = 25
RESEARCH_CASES = "_research_cases"

#: columns of fct_cases / fct_assistance that are derived, keys or lineage: not measured for completeness
NOT_MEASURED = {
    "case_token", "mission_code", "registration_date", "registration_year", "key_version", "source_file",
    "source_row", "source_sha256", "era", "received_date", "gaf_eligibility_reason", "identification_year",
    "age_band", "exploitation_days", "is_gaf_eligible", "episode_number", "assistance_days",
    "days_from_identification", "is_gaf_funded", "version_count",
}


def flow_class_sql(o_country: str, o_sub: str, o_region: str, e_country: str, e_sub: str, e_region: str) -> str:
    """SQL expression of the UNODC flow class of a route (NULL when a region is unknown)."""
    return (
        f"CASE WHEN {o_country} IS NULL OR {e_country} IS NULL THEN NULL "
        f"WHEN {o_country} = {e_country} THEN 'domestic' "
        f"WHEN {o_sub} IS NOT NULL AND {o_sub} = {e_sub} THEN 'intra_subregional' "
        f"WHEN {o_region} IS NOT NULL AND {o_region} = {e_region} THEN 'intra_regional' "
        f"WHEN {o_region} IS NULL OR {e_region} IS NULL THEN NULL "
        f"ELSE 'trans_regional' END"
    )


def create_research_view(con: duckdb.DuckDBPyConnection) -> None:
    """A temporary view of the cases with research consent, with the regions the analyses use."""
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW {RESEARCH_CASES} AS
        SELECT c.case_token, c.person_token, c.mission_code, c.registration_date, c.registration_year,
               c.identification_date, c.identification_year, c.age_band, c.sex, c.citizenship,
               CASE WHEN len(coalesce(c.exploitation_types, [])) > 0
                    THEN list_sort(list_distinct(c.exploitation_types)) END AS exploitation_types,
               c.recruitment_country, c.exploitation_country, c.is_gaf_eligible,
               m.region AS programme_region,
               oc.region AS citizenship_region, oc.sub_region AS citizenship_sub_region,
               ec.region AS exploitation_region, ec.sub_region AS exploitation_sub_region,
               'c:' || c.case_token AS case_person_id,
               coalesce('p:' || c.person_token, 'c:' || c.case_token) AS person_id
        FROM fct_cases c
        LEFT JOIN dim_missions m ON m.mission_code = c.mission_code
        LEFT JOIN dim_countries oc ON oc.country_code = c.citizenship
        LEFT JOIN dim_countries ec ON ec.country_code = c.exploitation_country
        WHERE c.has_research_consent IS TRUE
    """)


def _cases_yearly(con) -> str:
    return f"""
        SELECT registration_year, sex, age_band, exploitation_type, exploitation_region, mission_code,
               count(*) AS case_count
        FROM (SELECT *, unnest(coalesce(exploitation_types, [NULL::VARCHAR])) AS exploitation_type
              FROM {RESEARCH_CASES})
        GROUP BY ALL
    """


def _routes_yearly(con) -> str:
    flow = flow_class_sql("r.origin_country", "o.sub_region", "o.region",
                          "r.exploitation_country", "e.sub_region", "e.region")
    return f"""
        SELECT r.registration_year, r.origin_basis, r.origin_country, o.region AS origin_region,
               o.sub_region AS origin_sub_region, r.exploitation_country, e.region AS exploitation_region,
               e.sub_region AS exploitation_sub_region, {flow} AS flow_class, count(*) AS case_count
        FROM (SELECT registration_year, 'citizenship' AS origin_basis, citizenship AS origin_country,
                     exploitation_country FROM {RESEARCH_CASES}
              UNION ALL
              SELECT registration_year, 'recruitment', recruitment_country, exploitation_country
              FROM {RESEARCH_CASES}) r
        LEFT JOIN dim_countries o ON o.country_code = r.origin_country
        LEFT JOIN dim_countries e ON e.country_code = r.exploitation_country
        WHERE r.origin_country IS NOT NULL AND r.exploitation_country IS NOT NULL
        GROUP BY ALL
    """


def _corridors_top(con, top: int = TOP_CORRIDORS) -> str:
    return f"""
        SELECT row_number() OVER (ORDER BY case_count DESC, origin_country, exploitation_country) AS corridor_rank,
               origin_country, origin_region, exploitation_country, exploitation_region, flow_class, case_count
        FROM (SELECT origin_country, any_value(origin_region) AS origin_region, exploitation_country,
                     any_value(exploitation_region) AS exploitation_region, any_value(flow_class) AS flow_class,
                     sum(case_count)::BIGINT AS case_count
              FROM mart_routes__yearly WHERE origin_basis = 'citizenship'
              GROUP BY origin_country, exploitation_country)
        QUALIFY corridor_rank <= {int(top)}
    """


def _transit_yearly(con) -> str:
    return f"""
        SELECT registration_year, transit_country, transit_region, count(case_token) AS case_count
        FROM (SELECT DISTINCT c.registration_year, l.country_code AS transit_country, d.region AS transit_region,
                     c.case_token
              FROM fct_route_legs l
              JOIN {RESEARCH_CASES} c ON c.case_token = l.case_token
              LEFT JOIN dim_countries d ON d.country_code = l.country_code
              WHERE l.route_stage = 'transit')
        GROUP BY ALL
    """


def _assistance_types(con) -> list[str]:
    codes = [c.code for c in load_registry().codelists["assistance_type"].codes]
    seen = [r[0] for r in con.sql("SELECT DISTINCT assistance_type FROM fct_assistance ORDER BY 1").fetchall()]
    return codes + [t for t in seen if t not in codes]


def _assistance_yearly(con) -> str:
    # aggregated per (year, type) before the year x type grid is formed: a grid of every identified
    # case x every assistance type, then DISTINCT counts, cost 3 s at a million cases
    types = ", ".join("'" + t.replace("'", "''") + "'" for t in _assistance_types(con))
    return f"""
        WITH ident AS (SELECT identification_year, case_token FROM {RESEARCH_CASES}
                       WHERE identification_year IS NOT NULL),
             years AS (SELECT identification_year, count(case_token) AS identified_case_count
                       FROM (SELECT DISTINCT identification_year, case_token FROM ident) GROUP BY ALL),
             types AS (SELECT unnest([{types}]) AS assistance_type),
             firsts AS (SELECT i.identification_year, a.case_token, a.assistance_type,
                               min(a.days_from_identification) AS days
                        FROM fct_assistance a JOIN ident i USING (case_token) GROUP BY ALL),
             -- firsts has one row per (year, case, type): its rows are the distinct cases
             agg AS (SELECT identification_year, assistance_type, count(case_token) AS assisted_case_count,
                            quantile_cont(days, 0.5) AS median_days_to_assistance,
                            quantile_cont(days, 0.9) AS p90_days_to_assistance
                     FROM firsts GROUP BY ALL)
        SELECT y.identification_year, t.assistance_type, y.identified_case_count,
               coalesce(a.assisted_case_count, 0) AS assisted_case_count,
               coalesce(a.assisted_case_count, 0) / y.identified_case_count AS coverage_share,
               a.median_days_to_assistance, a.p90_days_to_assistance
        FROM years y CROSS JOIN types t
        LEFT JOIN agg a ON a.identification_year = y.identification_year AND a.assistance_type = t.assistance_type
    """


def _assistance_coverage_yearly(con) -> str:
    return f"""
        WITH ident AS (SELECT identification_year, case_token FROM {RESEARCH_CASES}
                       WHERE identification_year IS NOT NULL),
             firsts AS (SELECT a.case_token, min(a.days_from_identification) AS days
                        FROM fct_assistance a JOIN ident USING (case_token) GROUP BY ALL)
        SELECT i.identification_year,
               count(*) AS identified_case_count,
               count(f.case_token) AS assisted_case_count,
               count(f.case_token) / count(*) AS coverage_share,
               quantile_cont(f.days, 0.5) AS median_days_to_assistance,
               quantile_cont(f.days, 0.9) AS p90_days_to_assistance
        FROM ident i LEFT JOIN firsts f USING (case_token)
        GROUP BY ALL
    """


def _assisted_persons_yearly(con) -> str:
    return f"""
        WITH e AS (
            SELECT c.person_id, year(a.assistance_start_date) AS assistance_year, a.assistance_type,
                   (a.is_gaf_funded IS TRUE AND a.assistance_start_date >= DATE '{GAF_START}') AS gaf
            FROM fct_assistance a JOIN {RESEARCH_CASES} c ON c.case_token = a.case_token
            WHERE a.assistance_start_date IS NOT NULL AND year(a.assistance_start_date) >= 1999)
        , p AS (  -- one row per person and year: what they received
            SELECT assistance_year, person_id, bool_or(gaf) AS gaf,
                   bool_or(assistance_type = 'voluntary_return') AS vr,
                   bool_or(gaf AND assistance_type = 'voluntary_return') AS gaf_vr,
                   bool_or(assistance_type = 'reintegration') AS reintegration
            FROM e GROUP BY ALL)
        SELECT assistance_year,
               count(person_id) AS assisted_person_count,
               count(person_id) FILTER (WHERE gaf) AS gaf_assisted_person_count,
               count(person_id) FILTER (WHERE vr) AS voluntary_return_person_count,
               count(person_id) FILTER (WHERE gaf_vr) AS gaf_voluntary_return_person_count,
               count(person_id) FILTER (WHERE reintegration) AS reintegration_person_count
        FROM p GROUP BY ALL
    """


def _reintegration_yearly(con) -> str:
    return f"""
        WITH r AS (
            SELECT a.case_token, min(a.assistance_start_date) AS first_start,
                   arg_max(a.reintegration_outcome, a.assistance_start_date)
                       FILTER (WHERE a.reintegration_outcome IS NOT NULL) AS outcome
            FROM fct_assistance a JOIN {RESEARCH_CASES} c ON c.case_token = a.case_token
            WHERE a.assistance_type = 'reintegration'
            GROUP BY a.case_token)
        SELECT year(first_start) AS assistance_year, outcome AS reintegration_outcome, count(*) AS case_count
        FROM r WHERE first_start IS NOT NULL AND year(first_start) >= 1999
        GROUP BY ALL
    """


def _revictimisation_yearly(con) -> str:
    return f"""
        WITH p AS (
            SELECT registration_year, case_token, person_token,
                   row_number() OVER (PARTITION BY person_token ORDER BY registration_date, case_token) AS case_seq,
                   count(*) OVER (PARTITION BY person_token) AS person_cases
            FROM {RESEARCH_CASES})
        , per AS (  -- one row per person (or unlinked case) and year
            SELECT registration_year, coalesce('p:' || person_token, 'c:' || case_token) AS pid,
                   any_value(person_token) AS person_token, count(*) AS cases,
                   bool_or(case_seq > 1) AS revictimised, bool_or(person_cases > 1) AS multi_case
            FROM p GROUP BY registration_year, pid)
        SELECT registration_year, sum(cases)::BIGINT AS case_count,
               count(pid) AS person_count,
               count(person_token) FILTER (WHERE revictimised) AS revictimised_person_count,
               count(person_token) FILTER (WHERE multi_case) AS multi_case_person_count,
               count(person_token) FILTER (WHERE revictimised) / count(pid) AS revictimisation_share
        FROM per GROUP BY ALL
    """


def quality_fields(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, bool]]:
    """(field, is_list) measured for completeness in `table`: its optional columns in the registry
    (or, for a table the registry does not know, in the database), less keys, lineage and derived."""
    reg = load_registry()
    in_db = {
        r[0]: r[1]
        for r in con.sql(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
            "AND database_name = current_database() AND schema_name = 'main'", params=[table]
        ).fetchall()
    }
    if table in reg.tables:
        names = [c.name for c in reg.columns(table) if c.nullable]
    else:
        names = list(in_db)
    return [(n, in_db[n].endswith("[]")) for n in names if n in in_db and n not in NOT_MEASURED]


def _quality(con) -> str:
    parts = []
    for table in ("fct_cases", "fct_assistance"):
        fields = quality_fields(con, table)
        if not fields:
            continue
        filled = ", ".join(
            (f"count(*) FILTER (WHERE len({f}) > 0) AS \"{f}\"" if is_list else f"count({f}) AS \"{f}\"")
            for f, is_list in fields
        )
        on = ", ".join(f'"{f}"' for f, _ in fields)
        parts.append(f"""
            SELECT mission_code, registration_year, field_name, __n AS record_count, filled_count
            FROM (UNPIVOT (SELECT mission_code, registration_year, count(*) AS __n, {filled}
                           FROM {table} GROUP BY ALL)
                  ON {on} INTO NAME field_name VALUE filled_count)
        """)
    union = " UNION ALL ".join(parts)
    return f"""
        SELECT mission_code, registration_year, field_name, record_count, filled_count,
               filled_count / record_count AS completeness_share
        FROM ({union})
    """


def _ctdc_comparison(con) -> str:
    wh = f"""
        SELECT registration_year, 'total' AS cut, 'all' AS value, case_token AS id FROM {RESEARCH_CASES}
        UNION ALL SELECT registration_year, 'sex', coalesce(sex, 'not_recorded'), case_token FROM {RESEARCH_CASES}
        UNION ALL SELECT registration_year, 'age_band', coalesce(age_band, 'not_recorded'), case_token FROM {RESEARCH_CASES}
        UNION ALL SELECT registration_year, 'exploitation_type', t, case_token
                  FROM (SELECT registration_year, case_token, unnest(exploitation_types) AS t FROM {RESEARCH_CASES})
                  WHERE t IN ('forced_labour', 'sexual_exploitation')
        UNION ALL SELECT registration_year, 'citizenship', coalesce(citizenship, 'not_recorded'), case_token FROM {RESEARCH_CASES}
        UNION ALL SELECT registration_year, 'exploitation_country', coalesce(exploitation_country, 'not_recorded'), case_token FROM {RESEARCH_CASES}
        UNION ALL SELECT registration_year, 'corridor',
                  CASE WHEN citizenship IS NOT NULL AND exploitation_country IS NOT NULL
                       THEN citizenship || '>' || exploitation_country ELSE 'not_recorded' END, case_token
                  FROM {RESEARCH_CASES}
    """
    if has_table(con, "ref_ctdc_cases"):
        cit = "CASE WHEN is_citizenship_unknown OR citizenship IS NULL THEN 'not_recorded' ELSE citizenship END"
        ct = f"""
            WITH r AS (SELECT *, source_file || '#' || source_row AS id, {cit} AS cit FROM ref_ctdc_cases)
            SELECT registration_year, 'total' AS cut, 'all' AS value, id FROM r
            UNION ALL SELECT registration_year, 'sex', coalesce(ctdc_gender, 'not_recorded'), id FROM r
            UNION ALL SELECT registration_year, 'age_band', coalesce(age_band, 'not_recorded'), id FROM r
            UNION ALL SELECT registration_year, 'exploitation_type', 'forced_labour', id FROM r WHERE is_forced_labour
            UNION ALL SELECT registration_year, 'exploitation_type', 'sexual_exploitation', id FROM r WHERE is_sexual_exploitation
            UNION ALL SELECT registration_year, 'citizenship', cit, id FROM r
            UNION ALL SELECT registration_year, 'exploitation_country', coalesce(exploitation_country, 'not_recorded'), id FROM r
            UNION ALL SELECT registration_year, 'corridor',
                      CASE WHEN cit <> 'not_recorded' AND exploitation_country IS NOT NULL
                           THEN cit || '>' || exploitation_country ELSE 'not_recorded' END, id FROM r
        """
    else:
        log.warning("ref_ctdc_cases is missing: the CTDC comparison counts only the warehouse side")
        ct = "SELECT NULL::BIGINT AS registration_year, NULL AS cut, NULL AS value, NULL AS id WHERE false"
    return f"""
        -- warehouse side: one row per case (fct_cases' key) and its types de-duplicated, so a case is
        -- in a (year, cut, value) at most once: count, not count(DISTINCT), which cannot spill
        -- (out of memory at ten million cases)
        WITH w AS (SELECT registration_year, cut, value, count(id) AS n FROM ({wh}) GROUP BY ALL),
             c AS (SELECT registration_year, cut, value, count(id) AS n FROM (SELECT DISTINCT * FROM ({ct})) GROUP BY ALL),
             j AS (SELECT registration_year, cut, value, coalesce(w.n, 0) AS wn, coalesce(c.n, 0) AS cn
                   FROM w FULL OUTER JOIN c USING (registration_year, cut, value))
        SELECT registration_year, cut AS comparison_cut, value AS cut_value,
               wn AS warehouse_case_count, cn AS ctdc_case_count,
               wn / nullif(max(wn) FILTER (WHERE cut = 'total') OVER (PARTITION BY registration_year), 0) AS warehouse_share,
               cn / nullif(max(cn) FILTER (WHERE cut = 'total') OVER (PARTITION BY registration_year), 0) AS ctdc_share
        FROM j
    """


#: mart -> SELECT builder, in build order (a mart may read one built before it)
MARTS: dict[str, Callable[[duckdb.DuckDBPyConnection], str]] = {
    "mart_cases__yearly": _cases_yearly,
    "mart_routes__yearly": _routes_yearly,
    "mart_corridors__top": _corridors_top,
    "mart_transit__yearly": _transit_yearly,
    "mart_assistance__yearly": _assistance_yearly,
    "mart_assistance__coverage_yearly": _assistance_coverage_yearly,
    "mart_assisted_persons__yearly": _assisted_persons_yearly,
    "mart_reintegration__yearly": _reintegration_yearly,
    "mart_revictimisation__yearly": _revictimisation_yearly,
    "mart_quality__mission_year_field": _quality,
    "mart_ctdc_comparison__yearly": _ctdc_comparison,
}

#: the columns a mart is unique on (its primary key, or every dimension when one may be empty)
GRAIN: dict[str, tuple[str, ...]] = {
    "mart_cases__yearly": ("registration_year", "sex", "age_band", "exploitation_type", "exploitation_region", "mission_code"),
    "mart_reintegration__yearly": ("assistance_year", "reintegration_outcome"),
}


def grain_of(table: str) -> tuple[str, ...]:
    return GRAIN.get(table) or tuple(load_registry().table(table).primary_key)


def recreate(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """DROP and CREATE a table from the registry DDL (with its COMMENT ON)."""
    con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(table_ddl(table, if_not_exists=False))


def build_marts(con: duckdb.DuckDBPyConnection, marts: list[str] | None = None) -> dict[str, int]:
    """(Re)build the marts in one transaction; returns the row count of each.

    `con` is a read-write connection to the build database holding the star schema."""
    require_sources(con)
    create_research_view(con)
    names = marts or list(MARTS)
    counts: dict[str, int] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for name in names:
            recreate(con, name)
            con.execute(f"INSERT INTO {name} BY NAME ({MARTS[name](con)})")
            counts[name] = con.sql(f"SELECT count(*) FROM {name}").fetchall()[0][0]
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    log.info("marts built: %s", counts)
    return counts


def check_marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Invariants of the marts, as readable problems (counts and names only, never values)."""
    problems: list[str] = []
    have = table_columns(con)
    for name in MARTS:
        if name not in have:
            problems.append(f"{name} is missing")
            continue
        keys = grain_of(name)
        if keys:
            dup = con.sql(
                f"SELECT count(*) FROM (SELECT 1 FROM {name} GROUP BY {', '.join(keys)} HAVING count(*) > 1)"
            ).fetchall()[0][0]
            if dup:
                problems.append(f"{name}: {dup} groups of its grain ({', '.join(keys)}) hold more than one row")
    if {"mart_revictimisation__yearly", "fct_cases"} <= set(have):
        create_research_view(con)
        bad = con.sql(f"""
            SELECT count(*) FROM (SELECT registration_year, count(*) AS n FROM {RESEARCH_CASES} GROUP BY 1) c
            FULL JOIN mart_revictimisation__yearly m USING (registration_year)
            WHERE c.n IS DISTINCT FROM m.case_count""").fetchall()[0][0]
        if bad:
            problems.append(f"mart_revictimisation__yearly: case_count differs from fct_cases in {bad} years")
    if "mart_cases__yearly" in have and "mart_revictimisation__yearly" in have:
        bad = con.sql("""
            SELECT count(*) FROM (SELECT registration_year, sum(case_count) AS n FROM mart_cases__yearly GROUP BY 1) a
            JOIN mart_revictimisation__yearly r USING (registration_year) WHERE a.n < r.case_count""").fetchall()[0][0]
        if bad:
            problems.append(f"mart_cases__yearly: fewer cases than registered in {bad} years")
    for table in ("mart_assistance__yearly", "mart_assistance__coverage_yearly"):
        if table in have:
            bad = con.sql(f"SELECT count(*) FROM {table} WHERE coverage_share NOT BETWEEN 0 AND 1").fetchall()[0][0]
            if bad:
                problems.append(f"{table}: {bad} rows with a coverage share outside 0..1")
    return problems
