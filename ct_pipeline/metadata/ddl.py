"""DuckDB DDL generated from the registry, with COMMENT ON for every table and column."""

from __future__ import annotations

import re

import duckdb

from ct_pipeline.metadata.registry import Registry, load_registry
from ct_pipeline.metadata.types import duckdb_type


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def table_ddl(table: str, reg: Registry | None = None, *, if_not_exists: bool = True) -> str:
    reg = reg or load_registry()
    spec = reg.table(table)
    cols = []
    for c in reg.columns(table):
        storage = f" USING COMPRESSION {c.field.compression}" if c.field.compression else ""
        cols.append(f"    {c.name} {duckdb_type(reg, table, c)}{storage}{'' if c.nullable else ' NOT NULL'}")
    if spec.primary_key and spec.key_index:
        cols.append(f"    PRIMARY KEY ({', '.join(spec.primary_key)})")
    create = "CREATE TABLE IF NOT EXISTS" if if_not_exists else "CREATE TABLE"
    lines = [f"{create} {table} (\n" + ",\n".join(cols) + "\n);"]
    lines.append(f"COMMENT ON TABLE {table} IS {_q(spec.description + ' Grain: ' + spec.grain + '.')};")
    for c in reg.columns(table):
        lines.append(f"COMMENT ON COLUMN {table}.{c.name} IS {_q(c.field.description)};")
    return "\n".join(lines)


def ddl(tables: list[str] | None = None, reg: Registry | None = None) -> str:
    """DDL for the given tables (default: every table of the registry), in registry order."""
    reg = reg or load_registry()
    names = tables if tables is not None else list(reg.tables)
    return "\n\n".join(table_ddl(t, reg) for t in names) + "\n"


def storage_outdated(con: duckdb.DuckDBPyConnection, table: str, reg: Registry | None = None) -> list[str]:
    """The columns of `table` whose stored definition lacks the compression the registry declares
    (the table was created before the declaration); [] when the table is missing or up to date."""
    reg = reg or load_registry()
    wanted = {c.name: c.field.compression for c in reg.columns(table) if c.field.compression}
    if not wanted:
        return []
    rows = con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = ? AND schema_name = current_schema() "
                       "AND database_name = current_database()", [table]).fetchall()
    if not rows:
        return []
    return [name for name, comp in wanted.items()
            if not re.search(rf"\b{name}\s[^,]*?\bUSING COMPRESSION\s+'?{comp}\b", rows[0][0], re.IGNORECASE)]


def upgrade_storage(con: duckdb.DuckDBPyConnection, table: str, reg: Registry | None = None) -> int | None:
    """Rebuild `table` with the registry's DDL when its columns' storage is outdated (DuckDB cannot
    alter a column's compression): rows copied in their order, in the caller's transaction.
    Returns the rows copied, or None when nothing was to do."""
    reg = reg or load_registry()
    if not storage_outdated(con, table, reg):
        return None
    old = f"{table}__before_storage_upgrade"
    con.execute(f"DROP TABLE IF EXISTS {old}")
    con.execute(f"ALTER TABLE {table} RENAME TO {old}")
    con.execute(table_ddl(table, reg, if_not_exists=False))
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {old}")
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    con.execute(f"DROP TABLE {old}")
    return rows
