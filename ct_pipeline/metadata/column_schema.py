"""Column documentation as plain data, for Dagster's `dagster/column_schema` (built in assets/)."""

from __future__ import annotations

from ct_pipeline.metadata.registry import Registry, load_registry
from ct_pipeline.metadata.types import duckdb_type


def column_schema(table: str, reg: Registry | None = None) -> list[dict]:
    """One dict per column: name, type, description, nullable, pii class, code list."""
    reg = reg or load_registry()
    out = []
    for c in reg.columns(table):
        desc = c.field.description
        if c.field.codelist:
            desc += f" (code list: {c.field.codelist})"
        if c.field.unit:
            desc += f" [{c.field.unit}]"
        out.append(
            {
                "name": c.name,
                "type": duckdb_type(reg, table, c),
                "description": desc,
                "nullable": c.nullable,
                "pii": c.field.pii,
            }
        )
    return out
