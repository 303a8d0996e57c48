"""Delimited text (CSV) parsing that never pads, truncates or merges a row silently.

Fast path: polars reads the file (all values as text) and a vectorised verifier checks the file's
structure independently: records found by quote parity, every record well formed (quotes only
around whole values) with exactly as many values as the header, no quoted value left open at the
end of the file, and as many records as polars returned rows. polars alone would pad a short row
with empty values and turn a blank line into an empty record.

Slow path, only when the verifier objects: Python's csv module in strict mode, record by record,
which recovers after a bad record. A record that is not well formed is set aside with a rule:

- ``csv_row_shape``      the record has more or fewer values than the header has columns
                         (a file cut off mid-row, a stray separator);
- ``csv_quoting``        a quotation mark out of place: the values cannot be separated reliably;
- ``csv_row_incomplete`` the file ends inside a quoted value (the file was cut off).

Choice (issue 3): a CSV cut off mid-row keeps its complete rows; the broken last row is quarantined
with one of these rules and counted, so the mission sees it in its report and the accounting holds.

Row numbers: row 1 is the first record after the header; blank lines are skipped but keep their
number, so row N is row N+1 when the file is opened in a spreadsheet (without multi-line values).
"""

from __future__ import annotations

import csv
import io
import re
import sys
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import polars as pl

QUOTE = '"'


@dataclass
class BadRecord:
    row: int
    rule: str
    detail: str  # no value: counts only
    raw_text: str  # restricted: the record as received


@dataclass
class Delimited:
    header: list[str]
    data: pl.DataFrame  # columns c0..c{n-1} (text) + source_row (Int64)
    bad: list[BadRecord] = field(default_factory=list)
    used_fallback: bool = False

    @property
    def rows_read(self) -> int:
        return self.data.height + len(self.bad)


def header_of(text: str, sep: str) -> list[str]:
    first = text.split("\n", 1)[0].rstrip("\r")
    if not first.strip():
        return []
    return [h.strip() for h in next(csv.reader([first], delimiter=sep, quotechar=QUOTE))]


def _columns(n: int) -> list[str]:
    return [f"c{i}" for i in range(n)]


_QUOTED = r'"[^"]*(?:""[^"]*)*"'
_QUOTED_RE = re.compile(_QUOTED)


@cache
def _record_pattern(sep: str) -> re.Pattern:
    s = re.escape(sep)
    value = rf'(?:{_QUOTED}|[^"{s}\n]*)'
    return re.compile(rf"{value}(?:{s}{value})*")


def _verify(text: str, sep: str, n_cols: int, polars_rows: int) -> list[bool] | None:
    """Blank-record flags (one per data record) if the structure is sound, else None.

    Plain Python string methods (C speed) rather than a dataframe: files are many and mostly small.
    """
    if text.count(QUOTE) % 2:
        return None
    body = text.split("\n", 1)[1] if "\n" in text else ""
    if body.endswith("\n"):
        body = body[:-1]
    if not body:
        return [] if polars_rows == 0 else None
    lines = body.split("\n")
    want = n_cols - 1
    blank: list[bool] = []
    if QUOTE not in body:
        if len(lines) != polars_rows:
            return None
        for line in lines:
            if line == "" or line == "\r":
                blank.append(True)
            elif line.count(sep) != want:
                return None
            else:
                blank.append(False)
        return blank
    records: list[str] = []
    current: list[str] = []
    inside = False
    for line in lines:
        current.append(line)
        if line.count(QUOTE) % 2:
            inside = not inside
        if not inside:
            records.append(current[0] if len(current) == 1 else "\n".join(current))
            current = []
    if inside or len(records) != polars_rows:
        return None
    pattern = _record_pattern(sep)
    for rec in records:
        if rec == "" or rec == "\r":
            blank.append(True)
            continue
        if QUOTE in rec:
            if pattern.fullmatch(rec[:-1] if rec.endswith("\r") else rec) is None:
                return None
            if _QUOTED_RE.sub("", rec).count(sep) != want:
                return None
        elif rec.count(sep) != want:
            return None
        blank.append(False)
    return blank


def _fallback(text: str, sep: str, n_cols: int) -> tuple[pl.DataFrame, list[BadRecord]]:
    """Record by record with Python's csv module (strict), keeping what is sound."""
    csv.field_size_limit(sys.maxsize)
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar=QUOTE, strict=True)
    columns: list[list[str]] = [[] for _ in range(n_cols)]
    rows: list[int] = []
    bad: list[BadRecord] = []
    row = -1  # the header is record 0
    last_line = 0
    while True:
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            row += 1
            raw = "".join(lines[last_line: reader.line_num])
            last_line = reader.line_num
            if "unexpected end of data" in str(e):
                bad.append(BadRecord(row, "csv_row_incomplete", "the file ends inside a quoted value", raw))
            else:
                bad.append(BadRecord(row, "csv_quoting", "a quotation mark out of place", raw))
            continue
        row += 1
        raw = "".join(lines[last_line: reader.line_num])
        last_line = reader.line_num
        if row == 0 or not rec:
            continue
        if len(rec) != n_cols:
            bad.append(BadRecord(row, "csv_row_shape", f"{len(rec)} values where the header has {n_cols} columns", raw))
            continue
        rows.append(row)
        for i, v in enumerate(rec):
            columns[i].append(v or None)
    data = pl.DataFrame(
        {name: pl.Series(name, col, dtype=pl.String) for name, col in zip(_columns(n_cols), columns, strict=False)}
        | {"source_row": pl.Series("source_row", rows, dtype=pl.Int64)}
    )
    return data, bad


def read_delimited(text: str, utf8: bytes, sep: str, n_cols: int) -> Delimited:
    """Parse a decoded delimited file whose header (first line) has `n_cols` columns."""
    header = header_of(text, sep)
    data = None
    try:
        df = pl.read_csv(
            utf8,
            separator=sep,
            quote_char=QUOTE,
            has_header=True,
            new_columns=_columns(n_cols),
            infer_schema=False,
            empty_string_is_null=True,  # an empty cell is no value: null in the raw table
            truncate_ragged_lines=False,
            raise_if_empty=False,
        )
        if df.width == n_cols:
            blank = _verify(text, sep, n_cols, df.height)
            if blank is not None:
                data = df.hstack([pl.Series("source_row", np.arange(1, df.height + 1, dtype=np.int64))])
                if any(blank):
                    data = data.filter(~pl.Series(blank, dtype=pl.Boolean))
    except Exception:  # noqa: BLE001 - polars objects to the structure: the slow path will say where
        data = None
    if data is not None:
        return Delimited(header, data)
    data, bad = _fallback(text, sep, n_cols)
    return Delimited(header, data, bad, used_fallback=True)
