"""What the marts read from the star schema: one place that names the tables and columns used,
checked before a build so that a renamed column gives one clear error, not a SQL trace."""

from __future__ import annotations

import duckdb

#: table -> columns the analyses read (the warehouse declares them in tables.yaml)
REQUIRED: dict[str, tuple[str, ...]] = {
    "dim_countries": ("country_code", "country_alpha3", "country_name", "region", "sub_region"),
    "dim_missions": ("mission_code", "region"),
    "fct_cases": (
        "case_token", "person_token", "mission_code", "registration_date", "registration_year",
        "identification_date", "identification_year", "age_band", "sex", "citizenship",
        "exploitation_types", "recruitment_country", "exploitation_country", "is_gaf_eligible",
        "has_research_consent", "received_date",
    ),
    "fct_route_legs": ("case_token", "leg_order", "route_stage", "country_code"),
    "fct_assistance": (
        "case_token", "assistance_type", "assistance_start_date", "days_from_identification",
        "is_gaf_funded", "reintegration_outcome",
    ),
}
#: optional sources: a mart that needs a missing one is built empty (and says so)
OPTIONAL: dict[str, tuple[str, ...]] = {
    "ref_ctdc_cases": (
        "registration_year", "ctdc_gender", "age_band", "citizenship", "is_citizenship_unknown",
        "is_forced_labour", "is_sexual_exploitation", "exploitation_country",
    ),
}

#: the day the Global Assistance Fund was created: no episode before it is GAF-assisted
GAF_START = "2000-08-01"


class SourceError(RuntimeError):
    """The star schema the marts read is missing a table or a column."""


def table_columns(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    rows = con.sql(
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main'"
    ).fetchall()
    out: dict[str, set[str]] = {}
    for t, c in rows:
        out.setdefault(t, set()).add(c)
    return out


def missing_sources(con: duckdb.DuckDBPyConnection, required: dict[str, tuple[str, ...]] = REQUIRED) -> list[str]:
    have = table_columns(con)
    problems = []
    for table, cols in required.items():
        if table not in have:
            problems.append(f"table {table} is missing")
            continue
        lost = [c for c in cols if c not in have[table]]
        if lost:
            problems.append(f"table {table} lacks column(s) {', '.join(lost)}")
    return problems


def require_sources(con: duckdb.DuckDBPyConnection) -> None:
    problems = missing_sources(con)
    if problems:
        raise SourceError(
            "the marts cannot be built from this database (build the warehouse first): " + "; ".join(problems)
        )


def has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return not missing_sources(con, {table: OPTIONAL.get(table, REQUIRED.get(table, ()))})
