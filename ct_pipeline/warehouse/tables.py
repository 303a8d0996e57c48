"""The warehouse's tables, as the registry declares them, and small helpers on a connection."""

from __future__ import annotations

import re

import duckdb

from ct_pipeline.metadata.ddl import table_ddl
from ct_pipeline.metadata.registry import load_registry
from ct_pipeline.warehouse.hashing import row_text_hash

#: inputs of the core load (written by staging and pseudonymisation)
INPUT_TABLES = ("stg_screenings", "stg_assistance")
#: the star schema, in load order; all rebuilt by load_core
DIMENSIONS = ("dim_countries", "dim_dates", "dim_exploitation_types", "dim_assistance_types", "dim_missions", "dim_persons")
FACTS = ("fct_case_versions", "fct_screenings", "fct_cases", "fct_route_legs", "fct_assistance_versions", "fct_assistance")
CORE_TABLES = ("warehouse_ledger", *DIMENSIONS, *FACTS)
#: facts copied to Parquet partitioned by registration_year (the others are written as one file)
PARTITIONED_FACTS = ("fct_screenings", "fct_cases", "fct_route_legs", "fct_assistance")

#: provenance columns of a staged row: not part of its content when comparing versions
LINEAGE = ("source_file", "source_row", "source_sha256", "era", "received_date")
#: a staged row's order of arrival: later export wins (received date, then file path, then row)
ARRIVAL = "received_date, source_file, source_row"


def columns(table: str) -> list[str]:
    return load_registry().column_names(table)


def col_list(table: str, prefix: str = "") -> str:
    return ", ".join(prefix + c for c in columns(table))


def existing_tables(con: duckdb.DuckDBPyConnection, database: str | None = None) -> set[str]:
    """Tables of the main schema of `database` (default: the connection's current database)."""
    where = "database_name = current_database()" if database is None else f"database_name = '{database}'"
    rows = con.sql(
        f"SELECT table_name FROM duckdb_tables() WHERE {where} AND schema_name = 'main' AND NOT temporary"
    ).fetchall()
    return {r[0] for r in rows}


def warehouse_ddl(table: str, *, if_not_exists: bool = True) -> str:
    """The registry's DDL (columns, types, NOT NULL, COMMENT ON) without the PRIMARY KEY clause.

    DuckDB maintains a primary key as an ART index: on the core tables (millions of rows, 32-char
    token keys) it makes inserts about 8x slower and every checkpoint rewrites the index. The core
    load builds keys unique by construction and `reconcile` checks every registry primary key
    (unique, not null) as a blocking check instead; the key stays documented in the registry, the
    data dictionary and warehouse_tables."""
    ddl = table_ddl(table, if_not_exists=if_not_exists)
    return re.sub(r",\n    PRIMARY KEY \([^)]*\)\n\);", "\n);", ddl, count=1)


def ensure_tables(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...] = (*INPUT_TABLES, *CORE_TABLES)) -> None:
    """CREATE TABLE IF NOT EXISTS (with COMMENT ON) from the registry for tables not there yet."""
    have = existing_tables(con)
    for t in tables:
        if t not in have:
            con.execute(table_ddl(t) if t in INPUT_TABLES else warehouse_ddl(t))


def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    rows = con.sql(sql).fetchall()
    return rows[0][0] if rows else None


def fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """Order-independent fingerprint of a table's content (row count and sum of row hashes of
    the rows' text form, which tells NULL from an empty list). Equal content -> equal fingerprint."""
    cols = ", ".join(columns(table))
    n, total = con.sql(
        f"SELECT count(*), coalesce(sum({row_text_hash('t', table)}), 0) FROM (SELECT {cols} FROM {table}) t"
    ).fetchall()[0]
    return f"{n}:{total}"


def fingerprints(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...] = CORE_TABLES) -> dict[str, str]:
    return {t: fingerprint(con, t) for t in tables}
