"""Parse raw text columns into the registry's types, one era at a time, vectorised.

For every field `f` of a frame, `parse_frame` adds two columns: `v__f` (the typed value, null when
not recorded or not parseable) and `e__f` (the rule id of the first problem, or null). Which rule
wins when several apply: value_too_long, control_character, then the type's own rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

import polars as pl

from ct_pipeline.formats.eras import Era
from ct_pipeline.metadata.registry import FieldSpec
from ct_pipeline.stage import normalize as nz
from ct_pipeline.stage.dates import EXCEL_LEAP_BUG_SERIAL, parse_date_expr
from ct_pipeline.stage.rules import MAX_VALUE_CHARS

CONTROL_CHARS = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]"
INTEGER = r"^[+-]?\d{1,9}(\.0+)?$"
_TRAILING_ZERO_DECIMALS = r"^([+-]?\d+)\.0+$"


def kind_of(spec: FieldSpec) -> str:
    if spec.type in ("code", "code_list"):
        base = "country" if spec.codelist == "country" else "code"
        return base + ("_list" if spec.type == "code_list" else "")
    return spec.type


def present_text(col: str) -> pl.Expr:
    """Trimmed text, null when empty or a not-recorded marker (``-99``, ``-99.0``, ``unknown``…)."""
    t = pl.col(col).str.strip_chars()
    key = t.str.to_lowercase().str.replace(_TRAILING_ZERO_DECIMALS, "$1")
    return pl.when((t != "") & ~key.is_in(sorted(nz.not_recorded_values()))).then(t)


def _mapped(df: pl.DataFrame, text: pl.Expr, fn: Callable[[str], object], dtype: pl.DataType) -> pl.Series:
    """Apply a scalar normaliser to the distinct values only, then map every row (vectorised)."""
    values = df.select(text.alias("t")).get_column("t")
    uniq = values.drop_nulls().unique()
    keys = uniq.to_list()
    out = [fn(k) for k in keys]
    if not keys:
        return pl.Series(values.name, [None] * len(values), dtype=dtype)
    return values.replace_strict(keys, out, default=None, return_dtype=dtype)


def _single(fn):
    def run(text: str):
        if text.startswith("[") and text.endswith("]"):
            return None
        return fn(text)

    return run


def parse_frame(
    df: pl.DataFrame,
    fields: dict[str, FieldSpec],
    era: Era,
    *,
    today: dt.date,
) -> pl.DataFrame:
    """Add v__<field> and e__<field> for each field (df holds the raw text columns)."""
    mapped: list[pl.Series] = []  # normaliser results, computed on distinct values first
    exprs: list[pl.Expr] = []
    temp: list[str] = []
    for name, spec in fields.items():
        raw = pl.col(name)
        text = present_text(name)
        kind = kind_of(spec)
        v = pl.col(f"v__{name}")
        type_error: pl.Expr
        if kind == "string":
            value = text
            type_error = pl.lit(None, dtype=pl.String)
        elif kind == "integer":
            ok = text.str.contains(INTEGER)
            value = pl.when(ok).then(text.str.replace(r"\.0+$", "")).cast(pl.Int64, strict=False)
            type_error = pl.when(text.is_not_null() & ~ok).then(pl.lit("integer_format"))
        elif kind == "date":
            parsed = parse_date_expr(text, era.date_formats)
            blanks = [dt.date.fromisoformat(d) for d in era.blank_dates]
            blank = parsed.is_in(blanks) if blanks else pl.lit(False)
            if "excel" in era.date_formats and blanks:  # Excel day zero ("1900-01-00") is blank too
                blank = blank | text.str.contains(r"^0(\.0+)?$")
            blank = blank.fill_null(False)
            value = pl.when(~blank).then(parsed)
            nonexistent = (
                text.str.contains(rf"^{EXCEL_LEAP_BUG_SERIAL}(\.\d+)?$")
                if "excel" in era.date_formats
                else pl.lit(False)
            )
            type_error = (
                pl.when(text.is_not_null() & parsed.is_null() & ~blank & nonexistent).then(pl.lit("date_nonexistent"))
                .when(text.is_not_null() & parsed.is_null() & ~blank).then(pl.lit("date_format"))
                .when(value < dt.date(1900, 1, 1)).then(pl.lit("date_before_1900"))
                .when(value > today).then(pl.lit("date_in_future"))
            )
        elif kind == "boolean":
            mapped.append(_mapped(df, text, nz.yes_no, pl.Boolean()).alias(f"v__{name}"))
            value = None
            type_error = pl.when(text.is_not_null() & v.is_null()).then(pl.lit("boolean_format"))
        elif kind in ("code", "country"):
            fn = nz.country_code if kind == "country" else partial(nz.code_value, codelist=spec.codelist)
            mapped.append(_mapped(df, text, _single(fn), pl.String()).alias(f"v__{name}"))
            value = None
            is_multi = text.str.starts_with("[") & text.str.ends_with("]")
            type_error = (
                pl.when(text.is_not_null() & v.is_null() & is_multi).then(pl.lit("single_value"))
                .when(text.is_not_null() & v.is_null()).then(pl.lit("code_known"))
            )
        elif kind in ("code_list", "country_list"):
            fn = nz.country_code if kind == "country_list" else partial(nz.code_value, codelist=spec.codelist)
            split = partial(_split, seps=tuple(era.multi_separators), match=fn, unique=kind != "country_list")
            mapped.append(_mapped(df, text, split, _SPLIT_TYPE).alias(f"s__{name}"))
            temp.append(f"s__{name}")
            value = pl.col(f"s__{name}").struct.field("codes")
            bad = pl.col(f"s__{name}").struct.field("bad").fill_null(False)
            type_error = pl.when(text.is_not_null() & bad).then(pl.lit("code_known"))
        else:  # pragma: no cover - registry types are closed
            raise ValueError(f"field {name}: no parser for type {spec.type}")
        if value is not None:
            exprs.append(value.alias(f"v__{name}"))
        error = (
            pl.when(raw.str.len_bytes() > MAX_VALUE_CHARS).then(pl.lit("value_too_long"))
            .when(raw.str.contains(CONTROL_CHARS)).then(pl.lit("control_character"))
            .otherwise(type_error)
        )
        exprs.append(error.alias(f"e__{name}"))
    out = df.with_columns(mapped) if mapped else df
    return out.with_columns(exprs).drop(temp)


_SPLIT_TYPE = pl.Struct({"codes": pl.List(pl.String), "bad": pl.Boolean})


def _split(text: str, *, seps: tuple[str, ...], match, unique: bool) -> dict:
    codes, unknown = nz.split_multi(text, list(seps), match, unique=unique)
    return {"codes": codes or None, "bad": bool(unknown)}
