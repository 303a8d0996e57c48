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


def value_frame(values: dict[str, pl.Series], source_row: pl.Series) -> pl.DataFrame:
    """One file's records: source_row and the mapped fields as text (readers give empty cells as null)."""
    return pl.DataFrame([source_row.cast(pl.Int64).alias("source_row"), *(v.cast(pl.String).alias(k) for k, v in values.items())])


def raw_frames(parts: list[tuple[Provenance, pl.DataFrame]], table: str) -> pl.DataFrame:
    """Records of many files as one frame shaped like the registry's raw table: mapped fields as
    text, unmapped fields null, provenance typed. Built in a few vectorised steps for the whole
    batch: files are many and often small, per-file work is what costs."""
    schema = _schema(table)
    parts = [(p, df) for p, df in parts if df.height]
    if not parts:
        return empty_frame(load_registry(), table)
    tagged = [
        pl.DataFrame([pl.Series("_file", [i], dtype=pl.Int32).new_from_index(0, df.height), *df.get_columns()])
        for i, (_, df) in enumerate(parts)
    ]
    prov = pl.DataFrame(
        {
            "_file": pl.Series(list(range(len(parts))), dtype=pl.Int32),
            **{k: pl.Series([getattr(p, k) for p, _ in parts], dtype=schema[k])
               for k in ("source_file", "source_sha256", "era", "mission_code", "received_date")},
        }
    )
    df = pl.concat(tagged, how="diagonal_relaxed").join(prov, on="_file", how="left", maintain_order="left")
    return df.select(
        [pl.col(c).cast(t) if c in df.columns else pl.lit(None, dtype=t).alias(c) for c, t in schema.items()]
    )


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
