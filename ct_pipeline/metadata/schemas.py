"""Pandera (polars) schemas generated from the registry: types, nullability, ranges, code lists.

Pandera on a LazyFrame runs only schema-level checks unless told otherwise, so `validate` here
always validates a collected DataFrame with data checks on. Failure cases hold raw values: callers
outside the restricted zone must only use counts and column names from them.
"""

from __future__ import annotations

from functools import cache

import pandera.polars as pa
import polars as pl

from ct_pipeline.metadata.registry import Column, Registry, load_registry
from ct_pipeline.metadata.types import is_text_column, polars_type


def _codes_check(codes: frozenset[str], name: str) -> pa.Check:
    allowed = sorted(codes)
    return pa.Check(
        lambda data: data.lazyframe.select(pl.col(data.key).is_in(allowed) | pl.col(data.key).is_null()),
        name=f"code_in_{name}",
        error=f"value not in code list {name}",
    )


def _code_list_check(codes: frozenset[str], name: str) -> pa.Check:
    allowed = sorted(codes)
    return pa.Check(
        lambda data: data.lazyframe.select(
            pl.col(data.key).list.eval(pl.element().is_in(allowed)).list.all().fill_null(True)
        ),
        name=f"codes_in_{name}",
        error=f"a value not in code list {name}",
    )


def _checks(reg: Registry, table: str, col: Column) -> list[pa.Check]:
    f = col.field
    if is_text_column(reg, table, col):
        return []
    checks: list[pa.Check] = []
    if f.type == "code":
        checks.append(_codes_check(reg.codes(f.codelist), f.codelist))
    elif f.type == "code_list":
        checks.append(_code_list_check(reg.codes(f.codelist), f.codelist))
    if f.type in ("integer", "float"):
        if f.min is not None:
            checks.append(pa.Check.ge(f.min))
        if f.max is not None:
            checks.append(pa.Check.le(f.max))
    return checks


@cache
def pandera_schema(table: str) -> pa.DataFrameSchema:
    reg = load_registry()
    spec = reg.table(table)
    columns = {
        c.name: pa.Column(polars_type(reg, table, c), checks=_checks(reg, table, c), nullable=c.nullable)
        for c in reg.columns(table)
    }
    return pa.DataFrameSchema(
        columns,
        name=table,
        strict=True,
        ordered=False,
        unique=spec.primary_key or None,
        description=f"{spec.description} Grain: {spec.grain}.",
    )


def validate(table: str, df: pl.DataFrame) -> pl.DataFrame:
    """Validate a collected frame against the registry schema (all errors at once, data checks on)."""
    return pandera_schema(table).validate(df, lazy=True)
