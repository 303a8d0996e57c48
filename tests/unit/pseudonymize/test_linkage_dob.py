"""The cheap date-of-birth tests of the linkage (`linkage._DOB_ONE_EDIT`, `_DOB_SWAPPED`) decide
exactly what the plain ones did: Damerau-Levenshtein <= 1 on the yyyymmdd strings, and day and
month swapped in the same year. The guard before the edit distance must be implied by it, for
every kind of single edit (each digit substituted, each adjacent pair transposed), at any year."""

from __future__ import annotations

import datetime as dt
import random

import duckdb
import polars as pl
import pytest

from ct_pipeline.pseudonymize.linkage import _DOB_ONE_EDIT, _DOB_SWAPPED

PLAIN_ONE_EDIT = "damerau_levenshtein(a.dob_s, b.dob_s) <= 1"
PLAIN_SWAPPED = "(year(a.dob) = year(b.dob) AND month(a.dob) = day(b.dob) AND day(a.dob) = month(b.dob))"


def _date(s: str) -> dt.date | None:
    try:
        return dt.date(int(s[:4]), int(s[4:6]), int(s[6:]))
    except ValueError:
        return None


def _edits(d: dt.date) -> list[dt.date]:
    """Every valid date one substitution or one adjacent transposition away from d's yyyymmdd."""
    s = d.strftime("%Y%m%d").zfill(8)
    out = set()
    for i in range(8):
        for c in "0123456789":
            out.add(s[:i] + c + s[i + 1:])
        if i < 7:
            out.add(s[:i] + s[i + 1] + s[i] + s[i + 2:])
    return [e for e in map(_date, sorted(out)) if e is not None and e.year > 0]


def _pairs(seed: int) -> list[tuple[dt.date, dt.date]]:
    rng = random.Random(seed)
    pairs = []
    years = [1, 9, 10, 99, 100, 999, 1000, 1899, 1900, 1959, 1999, 2000, 2009, 2010, 2019, 2026, 9999]
    for i in range(400):
        year = years[i % len(years)] if i < 2 * len(years) else rng.randint(1, 9999)
        a = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
        pairs += [(a, b) for b in _edits(a)]  # one edit apart
        pairs.append((a, dt.date(a.year, a.day, a.month) if a.day <= 12 else a))  # day and month swapped
        pairs.append((a, a.replace(year=max(1, a.year - 1))))  # the year before, same day
        pairs.append((a, dt.date(rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 28))))  # any date
    return pairs


@pytest.mark.parametrize("seed", [1, 2])
def test_cheap_dob_tests_decide_as_the_plain_ones(seed: int) -> None:
    pairs = _pairs(seed)
    con = duckdb.connect()
    for side, idx in (("a", 0), ("b", 1)):
        dates = [p[idx] for p in pairs]
        # dob_s as linkage.features makes it (polars: years zero-padded to 4 digits), dob_i as the SQL
        frame = pl.DataFrame({"i": range(len(dates)), "dob": dates}, schema={"i": pl.Int64, "dob": pl.Date})
        con.register(side, frame.with_columns(dob_s=pl.col("dob").dt.strftime("%Y%m%d")))
        con.execute(f"CREATE TABLE {side}2 AS SELECT dob, dob_s, dob_s::INTEGER AS dob_i FROM {side} ORDER BY i")
    rows = con.sql(
        f"SELECT a.dob, b.dob, {PLAIN_ONE_EDIT}, {_DOB_ONE_EDIT}, {PLAIN_SWAPPED}, {_DOB_SWAPPED} "
        "FROM a2 a POSITIONAL JOIN b2 b"
    ).fetchall()
    assert len(rows) == len(pairs)
    one_edit = sum(1 for r in rows if r[2])
    assert one_edit > 10 * 400, "the pairs must exercise the edit-distance branch"
    assert sum(1 for r in rows if r[4]) > 100
    wrong = [(r[0], r[1]) for r in rows if r[2] != r[3] or r[4] != r[5]]
    assert not wrong, f"{len(wrong)} pairs decided differently, e.g. {wrong[:3]}"


def test_dob_strings_have_eight_digits_at_any_year() -> None:
    """The guard reads positions of an 8-digit yyyymmdd; polars pads years below 1000 to 4 digits."""
    s = pl.Series([dt.date(5, 3, 4), dt.date(999, 12, 31), dt.date(2026, 1, 2)]).dt.strftime("%Y%m%d")
    assert s.to_list() == ["00050304", "09991231", "20260102"]
