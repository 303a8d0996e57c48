"""Date parsing with each era's explicit formats (polars 2 never casts text to dates implicitly).

Formats come from eras.yaml (`date_formats`); the pseudo-format ``excel`` means an Excel serial
number in the 1900 date system, as MiMOSA workbooks hold date cells:

- serial 1 is 1900-01-01, serial 59 is 1900-02-28;
- serial 60 is 1900-02-29, a day that never existed (Lotus 1-2-3's leap-year bug, kept by Excel):
  not a date, the value is quarantined;
- from serial 61 (1900-03-01) on, Excel counts one day too many: date = 1899-12-30 + serial;
- a fractional serial carries a time of day, dropped for date fields;
- serials below 1 are not dates.

Blank dates (``blank_dates`` of the era, e.g. MiMOSA's 1900-01-01 = serial 1) are not recorded:
null, not an error. ISO date-times (``2020-01-02T10:00:00``) count as their date when the era
accepts ``%Y-%m-%d``.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

EXCEL_LEAP_BUG_SERIAL = 60
_EPOCH_BEFORE_BUG = dt.date(1899, 12, 31)  # serial 1 = 1900-01-01
_EPOCH_AFTER_BUG = dt.date(1899, 12, 30)  # serial 61 = 1900-03-01
MAX_EXCEL_SERIAL = 2958465  # 9999-12-31

SERIAL_PATTERN = r"^\d+(\.\d+)?$"
ISO_DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"


class NotADate(ValueError):
    """A value that cannot be a date (the message names no value)."""


def excel_serial_to_date(serial: float) -> dt.date:
    """The calendar date of an Excel 1900-system serial (time of day dropped)."""
    if serial != serial or serial < 1 or serial >= MAX_EXCEL_SERIAL + 1:
        raise NotADate("Excel serial out of range")
    day = int(serial)
    if day == EXCEL_LEAP_BUG_SERIAL:
        raise NotADate("Excel serial 60 is 29 February 1900, which does not exist")
    if day < EXCEL_LEAP_BUG_SERIAL:
        return _EPOCH_BEFORE_BUG + dt.timedelta(days=day)
    return _EPOCH_AFTER_BUG + dt.timedelta(days=day)


def date_to_excel_serial(d: dt.date) -> int:
    """Inverse of `excel_serial_to_date` (for tests and synthetic data)."""
    if d < dt.date(1900, 3, 1):
        return (d - _EPOCH_BEFORE_BUG).days
    return (d - _EPOCH_AFTER_BUG).days


def excel_serial_expr(text: pl.Expr) -> pl.Expr:
    """Vectorised `excel_serial_to_date` over a text column (null where not a valid serial)."""
    is_serial = text.str.contains(SERIAL_PATTERN)
    serial = pl.when(is_serial).then(text).cast(pl.Float64, strict=False)
    day = serial.floor().cast(pl.Int64, strict=False)
    ok = (day >= 1) & (day <= MAX_EXCEL_SERIAL) & (day != EXCEL_LEAP_BUG_SERIAL)
    offset = pl.when(day < EXCEL_LEAP_BUG_SERIAL).then(day).otherwise(day - 1)
    return pl.when(ok).then(pl.lit(_EPOCH_BEFORE_BUG) + pl.duration(days=offset)).cast(pl.Date)


def parse_date_expr(text: pl.Expr, formats: list[str]) -> pl.Expr:
    """Parse trimmed text with the era's formats, first that fits wins (null where none fits)."""
    candidates: list[pl.Expr] = []
    for fmt in formats:
        if fmt == "excel":
            candidates.append(excel_serial_expr(text))
            continue
        candidates.append(text.str.to_date(fmt, strict=False))
        if fmt == "%Y-%m-%d":
            iso_dt = pl.when(text.str.contains(ISO_DATETIME_PATTERN)).then(text.str.slice(0, 10))
            candidates.append(iso_dt.str.to_date(fmt, strict=False))
    if not candidates:
        return pl.lit(None, dtype=pl.Date)
    return pl.coalesce(candidates)


def parse_date(text: str, formats: list[str]) -> dt.date:
    """Scalar twin of `parse_date_expr` (for tests, and a reference implementation)."""
    out = pl.select(parse_date_expr(pl.lit(text.strip()), formats)).item()
    if out is None:
        raise NotADate("not a date in this export's formats")
    return out
