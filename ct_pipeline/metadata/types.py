"""Logical type -> DuckDB and polars types. Raw tables hold text, but for their provenance."""

from __future__ import annotations

import polars as pl

from ct_pipeline.metadata.registry import PROVENANCE, Column, Registry

DUCKDB = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "code": "VARCHAR",
    "code_list": "VARCHAR[]",
}

POLARS = {
    "string": pl.String,
    "integer": pl.Int64,
    "float": pl.Float64,
    "boolean": pl.Boolean,
    "date": pl.Date,
    "timestamp": pl.Datetime("us"),
    "code": pl.String,
    "code_list": pl.List(pl.String),
}


def is_text_column(reg: Registry, table: str, col: Column) -> bool:
    """Raw tables keep every value as received text, except provenance."""
    return reg.table(table).layer == "raw" and col.name not in PROVENANCE


def duckdb_type(reg: Registry, table: str, col: Column) -> str:
    return "VARCHAR" if is_text_column(reg, table, col) else DUCKDB[col.field.type]


def polars_type(reg: Registry, table: str, col: Column) -> pl.DataType:
    return pl.String() if is_text_column(reg, table, col) else POLARS[col.field.type]


def polars_schema(reg: Registry, table: str) -> pl.Schema:
    return pl.Schema({c.name: polars_type(reg, table, c) for c in reg.columns(table)})


def empty_frame(reg: Registry, table: str) -> pl.DataFrame:
    return pl.DataFrame(schema=polars_schema(reg, table))
