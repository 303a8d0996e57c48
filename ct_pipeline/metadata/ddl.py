"""DuckDB DDL generated from the registry, with COMMENT ON for every table and column."""

from __future__ import annotations

from ct_pipeline.metadata.registry import Registry, load_registry
from ct_pipeline.metadata.types import duckdb_type


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def table_ddl(table: str, reg: Registry | None = None, *, if_not_exists: bool = True) -> str:
    reg = reg or load_registry()
    spec = reg.table(table)
    cols = []
    for c in reg.columns(table):
        cols.append(f"    {c.name} {duckdb_type(reg, table, c)}{'' if c.nullable else ' NOT NULL'}")
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
