"""Raw frames shaped exactly like the registry tables raw_screenings / raw_assistance / quarantine."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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


def raw_frame(table: str, values: dict[str, pl.Series], source_row: pl.Series, prov: Provenance) -> pl.DataFrame:
    """Build a raw table: mapped fields as text (empty text -> null), unmapped fields null."""
    reg = load_registry()
    schema = polars_schema(reg, table)
    base = pl.DataFrame({"source_row": source_row.cast(pl.Int64)} | {k: v.cast(pl.String) for k, v in values.items()})
    exprs: list[pl.Expr] = []
    for name, dtype in schema.items():
        if name == "source_row":
            e = pl.col("source_row")
        elif name in ("source_file", "source_sha256", "era", "mission_code", "received_date"):
            e = pl.lit(getattr(prov, name), dtype=dtype)
        elif name in values:
            e = pl.when(pl.col(name) != "").then(pl.col(name))
        else:
            e = pl.lit(None, dtype=dtype)
        exprs.append(e.alias(name))
    return base.select(exprs)


def quarantine_frame(rows: list[dict]) -> pl.DataFrame:
    """Quarantine rows (dicts with the quarantine table's columns)."""
    reg = load_registry()
    if not rows:
        return empty_frame(reg, "quarantine")
    return pl.DataFrame(rows, schema=polars_schema(reg, "quarantine"))
