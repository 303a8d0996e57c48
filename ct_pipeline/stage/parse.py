"""Parse raw text columns into the registry's types, one era at a time, vectorised.

For every field `f` of a frame, `parse_frame` adds two columns: `v__f` (the typed value, null when
not recorded or not parseable) and `e__f` (the rule id of the first problem, or null). Which rule
wins when several apply: value_too_long, control_character, then the type's own rule.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import cache, lru_cache, partial

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
    """Trimmed text, null when empty or a not-recorded marker (``-99``, ``-99.0``, ``unknown``…).

    A marker is the lower-cased text, or for a whole number written with a zero decimal part
    (``-99.00``) its integer part. Written without a regex replacement on every value (the most
    costly step of staging, measured): the text is an integer marker followed by ``.`` and one or
    more zeros exactly when it ends in ``0`` and stripping its trailing zeros leaves marker + ``.``;
    a marker that itself has a zero decimal part could only be matched through its integer part."""
    return _present(pl.col(col).str.strip_chars())


def _present(t: pl.Expr) -> pl.Expr:
    """`present_text` of text already trimmed (``t`` is used several times: a materialised
    column, as polars evaluates a repeated sub-expression each time here)."""
    words, dotted = _marker_sets()
    marker = t.str.to_lowercase().is_in(words)
    if dotted:
        marker = marker | (t.str.ends_with("0") & t.str.strip_chars_end("0").is_in(dotted))
    return pl.when((t != "") & ~marker).then(t)


@cache
def _marker_sets() -> tuple[list[str], list[str]]:
    """(markers compared with the lower-cased text, integer markers + ".")."""
    markers = sorted(nz.not_recorded_values())
    words = [m for m in markers if not re.fullmatch(_TRAILING_ZERO_DECIMALS, m)]
    dotted = [m + "." for m in markers if re.fullmatch(r"[+-]?\d+", m)]
    return words, dotted


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
    """Add v__<field> and e__<field> for each field (df holds the raw text columns).

    Built in phases over materialised intermediate columns (t__ trimmed present text, p__ parsed
    dates, s__ split lists): small expression trees plan fast, whatever the number of fields.
    """
    excel = "excel" in era.date_formats
    blanks = [dt.date.fromisoformat(d) for d in era.blank_dates]
    kinds = {name: kind_of(spec) for name, spec in fields.items()}
    # phase 1: trimmed present text and the value-independent problems
    df = df.with_columns([pl.col(n).str.strip_chars().alias(f"t__{n}") for n in fields])
    df = df.with_columns(
        [_present(pl.col(f"t__{n}")).alias(f"t__{n}") for n in fields]
        + [
            pl.when(
                (pl.col(f"_long__{n}") if f"_long__{n}" in df.columns else pl.lit(False))
                | (pl.col(n).str.len_bytes() > MAX_VALUE_CHARS)
            ).then(pl.lit("value_too_long"))
            .when(pl.col(n).str.contains(CONTROL_CHARS)).then(pl.lit("control_character"))
            .alias(f"x__{n}")
            for n in fields
        ]
    )
    # phase 2: normalisers on distinct values; dates parsed once
    mapped: list[pl.Series] = []
    dates: list[pl.Expr] = []
    for name, spec in fields.items():
        kind, t = kinds[name], pl.col(f"t__{name}")
        if kind == "boolean":
            mapped.append(_mapped(df, t, nz.yes_no, pl.Boolean()).alias(f"v__{name}"))
        elif kind in ("code", "country"):
            fn = nz.country_code if kind == "country" else partial(nz.code_value, codelist=spec.codelist)
            mapped.append(_mapped(df, t, _single(fn), pl.String()).alias(f"v__{name}"))
        elif kind in ("code_list", "country_list"):
            codelist = None if kind == "country_list" else spec.codelist
            split = partial(_split_cached, seps=tuple(era.multi_separators), codelist=codelist, unique=kind != "country_list")
            mapped.append(_mapped(df, t, split, _SPLIT_TYPE).alias(f"s__{name}"))
        elif kind == "date":
            dates.append(parse_date_expr(t, era.date_formats).alias(f"p__{name}"))
    df = df.with_columns(mapped + dates)
    # phase 3: typed values
    values: list[pl.Expr] = []
    for name in fields:
        kind, t = kinds[name], pl.col(f"t__{name}")
        if kind == "string":
            values.append(t.alias(f"v__{name}"))
        elif kind == "integer":
            ok = t.str.contains(INTEGER)
            values.append(pl.when(ok).then(t.str.replace(r"\.0+$", "")).cast(pl.Int64, strict=False).alias(f"v__{name}"))
        elif kind == "date":
            p = pl.col(f"p__{name}")
            blank = p.is_in(blanks) if blanks else pl.lit(False)
            if excel and blanks:  # Excel day zero ("1900-01-00") is a blank date too
                blank = blank | t.str.contains(r"^0(\.0+)?$")
            values.append(blank.fill_null(False).alias(f"b__{name}"))
        elif kind in ("code_list", "country_list"):
            values.append(pl.col(f"s__{name}").struct.field("codes").alias(f"v__{name}"))
    df = df.with_columns(values)
    date_values = [
        pl.when(~pl.col(f"b__{n}")).then(pl.col(f"p__{n}")).alias(f"v__{n}") for n in fields if kinds[n] == "date"
    ]
    if date_values:
        df = df.with_columns(date_values)
    # phase 4: the first problem of each field
    errors: list[pl.Expr] = []
    for name in fields:
        kind, t, v = kinds[name], pl.col(f"t__{name}"), pl.col(f"v__{name}")
        present = t.is_not_null()
        if kind == "string":
            err = pl.lit(None, dtype=pl.String)
        elif kind == "integer":
            err = pl.when(present & ~t.str.contains(INTEGER)).then(pl.lit("integer_format"))
        elif kind == "date":
            unparsed = present & pl.col(f"p__{name}").is_null() & ~pl.col(f"b__{name}")
            nonexistent = t.str.contains(rf"^{EXCEL_LEAP_BUG_SERIAL}(\.\d+)?$") if excel else pl.lit(False)
            err = (
                pl.when(unparsed & nonexistent).then(pl.lit("date_nonexistent"))
                .when(unparsed).then(pl.lit("date_format"))
                .when(v < dt.date(1900, 1, 1)).then(pl.lit("date_before_1900"))
                .when(v > today).then(pl.lit("date_in_future"))
            )
        elif kind == "boolean":
            err = pl.when(present & v.is_null()).then(pl.lit("boolean_format"))
        elif kind in ("code", "country"):
            err = (
                pl.when(present & v.is_null() & t.str.starts_with("[") & t.str.ends_with("]")).then(pl.lit("single_value"))
                .when(present & v.is_null()).then(pl.lit("code_known"))
            )
        elif kind in ("code_list", "country_list"):
            err = pl.when(present & pl.col(f"s__{name}").struct.field("bad").fill_null(False)).then(pl.lit("code_known"))
        else:  # pragma: no cover - registry types are closed
            raise ValueError(f"field {name}: no parser for type {kind}")
        errors.append(pl.coalesce(pl.col(f"x__{name}"), err).alias(f"e__{name}"))
    df = df.with_columns(errors)
    temp = [c for c in df.columns if c[:3] in ("t__", "x__", "p__", "b__", "s__")]
    return df.drop(temp)


_SPLIT_TYPE = pl.Struct({"codes": pl.List(pl.String), "bad": pl.Boolean})


def _split(text: str, *, seps: tuple[str, ...], match, unique: bool) -> dict:
    codes, unknown = nz.split_multi(text, list(seps), match, unique=unique)
    return {"codes": codes or None, "bad": bool(unknown)}


def _split_cached(text: str, *, seps: tuple[str, ...], codelist: str | None, unique: bool) -> dict:
    """`_split` with the code list's matcher (None: countries), remembered across batches: a
    worker stages many batches, and the same multi-valued answers come back in each."""
    codes, bad = _split_key(text, seps, codelist, unique)
    return {"codes": list(codes) if codes is not None else None, "bad": bad}


@lru_cache(maxsize=1 << 17)
def _split_key(text: str, seps: tuple[str, ...], codelist: str | None, unique: bool) -> tuple[tuple[str, ...] | None, bool]:
    match = nz.country_code if codelist is None else partial(nz.code_value, codelist=codelist)
    out = _split(text, seps=seps, match=match, unique=unique)
    return (tuple(out["codes"]) if out["codes"] is not None else None), out["bad"]
