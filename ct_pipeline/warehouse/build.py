"""The build database: one DuckDB file in the restricted zone that holds every table of the
pipeline (raw_*, quarantine and vault of the restricted zone, stg_*, dim_*, fct_*, ledgers), so
that a nightly load commits as ONE transaction (DuckDB cannot commit writes to two attached
databases in one transaction). Analysts never open it: they get the published copy."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ct_pipeline.settings import Settings

BUILD_DB_NAME = "build.duckdb"


def build_db_path(settings: Settings) -> Path:
    return settings.restricted_dir / BUILD_DB_NAME


def open_build(path: str | Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a build database file: owner-only files, DuckDB spill files inside the restricted zone
    (restricted_connection), no progress bars in logs."""
    # imported here: ct_pipeline.pseudonymize's package imports pandera/pandas (~3 s), which
    # the read-only side (query, the CLI) never needs
    from ct_pipeline.pseudonymize.restricted import restricted_connection

    con = restricted_connection(Path(path), read_only=read_only)
    con.execute("SET enable_progress_bar = false")
    return con


def connect_build(settings: Settings, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the build database of `settings`."""
    return open_build(build_db_path(settings), read_only=read_only)
