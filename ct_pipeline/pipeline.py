"""The pipeline's steps as plain library functions, shared by Dagster (assets/) and the CLI.

Every step opens the one build database (restricted zone: it holds raw rows and the vault beside the
analyst tables), does its work in ONE transaction — killed half-way, the database is as before —
and returns counts. Each step is a deterministic function of the tables before it, so re-running a
step after a crash completes the work. Analysts never see the build file: `publish` copies the
analyst- and public-zone tables into a new file and renames it over warehouse/ct.duckdb.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from ct_pipeline.metadata import load_registry
from ct_pipeline.metadata.ddl import table_ddl
from ct_pipeline.settings import Settings

Log = Callable[[str], None]

INGEST_TABLES = ["ingestion_ledger", "raw_screenings", "raw_assistance", "quarantine", "stg_screenings", "stg_assistance"]


def _layer(layer: str) -> list[str]:
    return [t for t in load_registry().tables_in(layer=layer)]


CORE_TABLES = _layer("core")
MART_TABLES = _layer("mart")
PUBLIC_TABLES = _layer("public")


@dataclass
class StepResult:
    """Row counts per table written, metadata per table (counts and names only), and whether
    anything changed (a step with nothing new to do returns quickly and rewrites nothing)."""

    tables: dict[str, int] = field(default_factory=dict)
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: bool = True


def build_path(settings: Settings) -> Path:
    return settings.restricted_dir / "build.duckdb"


def _quiet(_: str) -> None:
    pass


@contextmanager
def build_connection(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """The build database, with DuckDB's temp/spill files kept inside the restricted zone."""
    from ct_pipeline.pseudonymize.restricted import restricted_connection

    con = restricted_connection(build_path(settings))
    try:
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    else:
        con.execute("COMMIT")


def ensure_tables(con: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
    for t in tables:
        con.execute(table_ddl(t))


def row_counts(con: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, int]:
    existing = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    return {t: con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in tables if t in existing}


def list_export_files(settings: Settings) -> dict[str, str]:
    """Every file under the exports folder (README excepted): relative path -> 'size:mtime_ns'."""
    root = settings.raw_exports_dir
    out: dict[str, str] = {}
    if not root.exists():
        return out
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name != "README.md" and not p.name.startswith("."):
            st = p.stat()
            out[p.relative_to(root).as_posix()] = f"{st.st_size}:{st.st_mtime_ns}"
    return out
