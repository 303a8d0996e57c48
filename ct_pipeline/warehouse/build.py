"""The build database: one DuckDB file in the restricted zone that holds every table of the
pipeline (raw_*, quarantine and vault of the restricted zone, stg_*, dim_*, fct_*, ledgers), so
that a nightly load commits as ONE transaction (DuckDB cannot commit writes to two attached
databases in one transaction). Analysts never open it: they get the published copy."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from ct_pipeline.settings import Settings

BUILD_DB_NAME = "build.duckdb"


def build_db_path(settings: Settings) -> Path:
    return settings.restricted_dir / BUILD_DB_NAME


def connect_build(settings: Settings, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the build database. The restricted folder is created owner-only;
    DuckDB's spill files go to <build>.tmp inside it, so nothing leaves the restricted zone."""
    path = build_db_path(settings)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute("SET enable_progress_bar = false")  # no progress bars in logs and Dagster output
    if not read_only:
        os.chmod(path, 0o600)
    return con
