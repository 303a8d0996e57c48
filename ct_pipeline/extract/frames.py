"""Raw frames shaped exactly like the registry tables raw_screenings / raw_assistance / quarantine."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import numpy as np
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


def _as(series: pl.Series, name: str, dtype: pl.DataType) -> pl.Series:
    # cast and alias cost a few microseconds each even when they change nothing, and a batch has
    # thousands of files of dozens of columns
    if series.dtype != dtype:
        series = series.cast(dtype)
    return series if series.name == name else series.alias(name)


def value_frame(values: dict[str, pl.Series], source_row: pl.Series) -> pl.DataFrame:
    """One file's records: source_row and the mapped fields as text (readers give empty cells as null)."""
    return pl.DataFrame([_as(source_row, "source_row", pl.Int64), *(_as(v, k, pl.String) for k, v in values.items())])


def text_frame(df: pl.DataFrame) -> pl.DataFrame:
    """`value_frame` of a frame that is source_row + mapped fields already (cast only if needed)."""
    if all(t == (pl.Int64 if c == "source_row" else pl.String) for c, t in df.schema.items()):
        return df
    return df.select(pl.col(c).cast(pl.Int64 if c == "source_row" else pl.String) for c in df.columns)


PROVENANCE_FIELDS = ("source_file", "source_sha256", "era", "mission_code", "received_date")


def raw_frames(parts: list[tuple[Provenance, pl.DataFrame]], table: str) -> pl.DataFrame:
    """Records of many files as one frame shaped like the registry's raw table: mapped fields as
    text, unmapped fields null, provenance typed. Built in a few vectorised steps for the whole
    batch: files are many and often small, per-file work is what costs (one concatenation, then
    each provenance value repeated over its file's rows by a gather)."""
    schema = _schema(table)
    parts = [(p, df) for p, df in parts if df.height]
    if not parts:
        return empty_frame(load_registry(), table)
    try:  # readers give text and Int64 source_row: no supertypes to find (twice as fast)
        df = pl.concat([d for _, d in parts], how="diagonal")
    except pl.exceptions.SchemaError:
        df = pl.concat([d for _, d in parts], how="diagonal_relaxed")
    heights = np.fromiter((d.height for _, d in parts), dtype=np.int64, count=len(parts))
    file_of_row = pl.Series(np.repeat(np.arange(len(parts), dtype=np.uint32), heights))
    prov = [
        pl.Series(k, [getattr(p, k) for p, _ in parts], dtype=schema[k]).gather(file_of_row)
        for k in PROVENANCE_FIELDS
    ]
    df = df.with_columns(prov)
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
