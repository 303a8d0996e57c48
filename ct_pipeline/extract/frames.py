"""Raw frames shaped exactly like the registry tables raw_screenings / raw_assistance / quarantine."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import polars as pl

from ct_pipeline.metadata.registry import load_registry
from ct_pipeline.metadata.types import empty_frame, polars_schema

FORM_TABLE = {"screening": "raw_screenings", "assistance": "raw_assistance"}
WHOLE_RECORD = None  # quarantine.field_name when the whole record is the problem


@dataclass(frozen=True)
class Provenance:
    source_file: str
    source_sha256: str
    era: str
    mission_code: str
    received_date: dt.date


def _constant(name: str, value, dtype: pl.DataType, n: int) -> pl.Series:
    return pl.Series(name, [value], dtype=dtype).new_from_index(0, n)


def raw_frame(table: str, values: dict[str, pl.Series], source_row: pl.Series, prov: Provenance) -> pl.DataFrame:
    """Build a raw table: mapped fields as text, unmapped fields null, provenance typed.

    Readers hand over empty cells as null already. Built from Series directly (no query): files are
    many and often small, so per-file overhead matters.
    """
    schema = _schema(table)
    n = len(source_row)
    cols = []
    for name, dtype in schema.items():
        if name == "source_row":
            s = source_row.cast(pl.Int64).alias(name)
        elif name in ("source_file", "source_sha256", "era", "mission_code", "received_date"):
            s = _constant(name, getattr(prov, name), dtype, n)
        elif name in values:
            s = values[name].cast(pl.String).alias(name)
        else:
            s = _constant(name, None, dtype, n)
        cols.append(s)
    return pl.DataFrame(cols)


@cache
def _schema(table: str) -> pl.Schema:
    return polars_schema(load_registry(), table)


@cache
def _empty_quarantine() -> pl.DataFrame:
    return empty_frame(load_registry(), "quarantine")


def quarantine_frame(rows: list[dict]) -> pl.DataFrame:
    """Quarantine rows (dicts with the quarantine table's columns)."""
    if not rows:
        return _empty_quarantine()
    return pl.DataFrame(rows, schema=_schema("quarantine"))
