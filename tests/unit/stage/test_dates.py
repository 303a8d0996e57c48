"""Date parsers: era formats, day-first dates, Excel serials with the 1900 leap-year bug."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ct_pipeline.formats.eras import load_eras
from ct_pipeline.stage.dates import (
    NotADate,
    date_to_excel_serial,
    excel_serial_expr,
    excel_serial_to_date,
    parse_date,
    parse_date_expr,
)

LEGACY = load_eras()["ctm_legacy"].date_formats
MIMOSA = load_eras()["mimosa_xlsx"].date_formats
API = load_eras()["case_api_jsonl"].date_formats

dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))


def test_known_excel_serials():
    assert excel_serial_to_date(1) == dt.date(1900, 1, 1)
    assert excel_serial_to_date(59) == dt.date(1900, 2, 28)
    assert excel_serial_to_date(61) == dt.date(1900, 3, 1)
    assert excel_serial_to_date(36526) == dt.date(2000, 1, 1)
    assert excel_serial_to_date(43831.75) == dt.date(2020, 1, 1)  # time of day dropped
    with pytest.raises(NotADate):
        excel_serial_to_date(60)  # 1900-02-29 never existed
    with pytest.raises(NotADate):
        excel_serial_to_date(0)


@given(dates)
def test_excel_serial_round_trip(d):
    serial = date_to_excel_serial(d)
    assert serial != 60
    assert excel_serial_to_date(serial) == d
    # Excel's own rule: serials after the phantom 29 February are one more than the day count
    assert serial == (d - dt.date(1899, 12, 31)).days + (1 if d >= dt.date(1900, 3, 1) else 0)


@settings(max_examples=200)
@given(st.lists(st.integers(min_value=-5, max_value=3_000_000), min_size=1, max_size=50))
def test_vectorised_excel_serial_matches_scalar(serials):
    frame = pl.DataFrame({"t": [str(s) for s in serials]})
    got = frame.select(excel_serial_expr(pl.col("t"))).to_series().to_list()
    for s, g in zip(serials, got, strict=False):
        try:
            want = excel_serial_to_date(s)
        except NotADate:
            want = None
        assert g == want, s


@given(dates, st.sampled_from(["%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y"]))
def test_legacy_dates_are_day_first(d, fmt):
    assert parse_date(d.strftime(fmt), LEGACY) == d


@given(dates.filter(lambda d: d.day <= 12 and d.day != d.month))
def test_ambiguous_day_month_is_read_day_first(d):
    text = f"{d.day:02d}/{d.month:02d}/{d.year}"
    assert parse_date(text, LEGACY) == d  # never the US reading


@given(dates)
def test_mimosa_accepts_serials_iso_and_day_first(d):
    assert parse_date(str(date_to_excel_serial(d)), MIMOSA) == d
    assert parse_date(d.isoformat(), MIMOSA) == d
    assert parse_date(d.strftime("%d/%m/%Y"), MIMOSA) == d


@given(dates)
def test_api_iso_dates_and_datetimes(d):
    assert parse_date(d.isoformat(), API) == d
    assert parse_date(d.isoformat() + "T13:45:00Z", API) == d


@pytest.mark.parametrize("text", ["31/02/2005", "2005-13-01", "12/13/2005", "soon", "60", "1 janvier 2005"])
def test_not_dates_are_rejected(text):
    formats = MIMOSA if text == "60" else LEGACY
    with pytest.raises(NotADate):
        parse_date(text, formats)


def test_iso_is_not_a_legacy_format():
    with pytest.raises(NotADate):
        parse_date("2005-03-15", LEGACY)


def test_vectorised_parse_of_a_column():
    s = pl.Series("t", ["15/03/2005", "15.03.2005", "bad", None])
    got = pl.DataFrame({"t": s}).select(parse_date_expr(pl.col("t"), LEGACY)).to_series().to_list()
    assert got == [dt.date(2005, 3, 15), dt.date(2005, 3, 15), None, None]
