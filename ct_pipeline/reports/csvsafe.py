"""CSV that a spreadsheet opens as data, never as formulas (OWASP "CSV injection"): a text cell that
starts with = + - @, a tab or a carriage return is prefixed with a single quote."""

from __future__ import annotations

from pathlib import Path

import polars as pl

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str | None) -> str | None:
    if value is None or value == "":
        return value
    return "'" + value if value.startswith(DANGEROUS) else value


def neutralise(df: pl.DataFrame) -> pl.DataFrame:
    """Every text column made safe; numbers, booleans and dates are left as they are."""
    text = [c for c, t in df.schema.items() if t == pl.String]
    return df.with_columns(
        pl.when(pl.col(c).str.starts_with("=") | pl.col(c).str.starts_with("+") | pl.col(c).str.starts_with("-")
                | pl.col(c).str.starts_with("@") | pl.col(c).str.starts_with("\t") | pl.col(c).str.starts_with("\r"))
        .then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text
    ) if text else df


def write_csv(df: pl.DataFrame, path: Path) -> Path:
    """UTF-8 CSV, formula-safe, every field quoted when needed, header row first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = neutralise(df).rename({c: safe_text(c) for c in df.columns})
    out.write_csv(path, quote_style="necessary")
    return path
