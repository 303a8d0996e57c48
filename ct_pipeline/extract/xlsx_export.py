"""MiMOSA workbooks: a Screening and an Assistance sheet, read with python-calamine.

Cells become text without loss of what the cell holds:
- text cells as they are;
- numbers: whole numbers without a decimal part (``43831``, ``-99``, ``1``), others in Python's
  shortest round-trip form (``3.5``); a date typed as a bare number stays a serial number and
  staging converts it (1900 leap-year bug included);
- date cells (calamine turns date-formatted numbers into dates) as ISO dates ``YYYY-MM-DD``,
  date-times with a time of day as ISO date-times; a date-formatted cell holding less than one day
  comes back from calamine as a time of day and is written as its serial number (``0`` for day
  zero, which is what xlsxwriter writes for a 1900-01-01 blank date; staging reads serial 0 as a
  blank date, any other fraction as not a date);
- booleans as ``TRUE`` / ``FALSE``.
Limitation: calamine maps a date-formatted serial 60 (the nonexistent 29 February 1900) to
1900-02-28; as a bare number, serial 60 is caught by staging.

The exploitation-type flag columns (flag_columns.csv: one 0/1/-99 column per type) become one
multi-valued text, the codes whose flag is 1 joined with ","; a flag holding anything else than
1/0/-99/empty is kept as ``code=value`` so that staging quarantines it (rule code_known) rather
than dropping it. No flag set and none not-recorded -> empty.

Row numbers: row 1 is the first sheet row below the header (spreadsheet row 2 when the header is
in row 1); empty rows are skipped but keep their number.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import polars as pl

from ct_pipeline.extract.detect import compare, describe_mismatch, duplicated
from ct_pipeline.extract.errors import FileRefused
from ct_pipeline.formats import eras as formats

ZIP_MAGIC = b"PK\x03\x04"
TRUE_FLAGS = frozenset({"1", "1.0", "TRUE", "true", "True"})
FALSE_FLAGS = frozenset({"0", "0.0", "FALSE", "false", "False"})


def _cell_text(v) -> str | None:
    cls = v.__class__
    if cls is str:
        return v
    if cls is float:
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if cls is bool:
        return "TRUE" if v else "FALSE"
    if cls is int:
        return str(v)
    if cls is dt.datetime:
        if v.hour == v.minute == v.second == v.microsecond == 0:
            return v.date().isoformat()
        return v.isoformat()
    if cls is dt.date:
        return v.isoformat()
    if cls is dt.time:  # a date-formatted cell under one day: keep its serial number
        frac = (v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6) / 86400
        return "0" if frac == 0 else repr(frac)
    if cls is dt.timedelta:
        return str(v.total_seconds() / 86400)
    if v is None:
        return None
    return str(v)


@lru_cache(maxsize=65536)
def _float_text(v: float) -> str:
    return str(int(v)) if v.is_integer() and -1e15 < v < 1e15 else repr(v)


def _column_text(cells: tuple) -> list[str | None]:
    """Cells as text; an empty cell (calamine gives "") is null. Fast paths for the usual columns."""
    kinds = set(map(type, cells))
    if kinds <= {str}:
        return [c or None for c in cells]
    if kinds <= {str, float}:
        return [(c or None) if c.__class__ is str else _float_text(c) for c in cells]
    if kinds <= {str, dt.date}:
        return [(c or None) if c.__class__ is str else c.isoformat() for c in cells]
    return [(c or None) if c.__class__ is str else _cell_text(c) for c in cells]


def open_workbook(path, data: bytes):
    import python_calamine as pc

    if not data.startswith(ZIP_MAGIC):
        raise FileRefused(
            "The file is named .xlsx but is not an Excel workbook (it is not a zip container): it may be "
            "damaged, cut off, or another kind of file renamed. Export it again from MiMOSA."
        )
    try:
        return pc.CalamineWorkbook.from_path(str(path))
    except pc.PasswordError:
        raise FileRefused("The workbook is protected by a password; export it again without one.") from None
    except Exception:  # noqa: BLE001 - calamine's messages are technical; ours is enough
        raise FileRefused(
            "The workbook cannot be opened: the .xlsx file is damaged or incomplete. Export it again from MiMOSA."
        ) from None


class Sheet:
    """A sheet's header and its raw cell columns; text is made on demand (flag columns never need it)."""

    def __init__(self, header: list[str], cells: list[tuple], rows: list[int]):
        self.header = header
        self.cells = cells  # one tuple of raw calamine cells per header column
        self.rows = rows
        self._index = {h: j for j, h in enumerate(header)}

    def raw(self, header: str) -> tuple:
        return self.cells[self._index[header]]

    def text(self, header: str) -> list[str | None]:
        return _column_text(self.raw(header))


def _is_empty_row(r: list) -> bool:
    return r.count("") + r.count(None) == len(r)


def read_sheet(wb, sheet_name: str) -> Sheet:
    try:
        grid = wb.get_sheet_by_name(sheet_name).to_python(skip_empty_area=True)
    except Exception:  # noqa: BLE001
        raise FileRefused(f"The sheet '{sheet_name}' cannot be read: the workbook is damaged.") from None
    if not grid:
        return Sheet([], [], [])
    header_cells = [_cell_text(c) or "" for c in grid[0]]
    while header_cells and not header_cells[-1].strip():
        header_cells.pop()
    header = [h.strip() for h in header_cells]
    width = len(header)
    body = grid[1:]
    # empty rows keep their number but are not records (any() is a fast first test: 0.0 is falsy)
    keep = [i for i, r in enumerate(body) if any(r) or not _is_empty_row(r)]
    # a value in a column without a header is an unexpected column
    for i in keep if len(grid[0]) > width else ():
        extra = body[i][width:]
        if extra and not _is_empty_row(extra):
            raise FileRefused(
                f"The sheet '{sheet_name}' has values in a column without a header (right of column {width})."
            )
    rows = [i + 1 for i in keep]
    kept = body if len(keep) == len(body) else [body[i] for i in keep]
    cols = list(zip(*kept, strict=False)) if kept else []
    cells = [cols[j] if j < len(cols) else (None,) * len(rows) for j in range(width)]
    return Sheet(header, cells, rows)


def check_sheets(wb, era: formats.Era) -> dict[str, Sheet]:
    """form -> sheet, after checking sheet names and header signatures (FileRefused otherwise)."""
    names = list(wb.sheet_names)
    wanted = era.sheets or {}
    missing = [s for f, s in wanted.items() if s not in names]
    if missing:
        found = ", ".join(f"'{n}'" for n in names[:10]) or "none"
        raise FileRefused(
            "The workbook has no sheet named " + " or ".join(f"'{m}'" for m in missing)
            + f" (sheets found: {found}); a {era.label} export has a "
            + " and an ".join(f"'{s}'" for s in wanted.values()) + " sheet.",
            era=era.name,
        )
    sheets: dict[str, Sheet] = {}
    problems: list[str] = []
    for form, sheet_name in wanted.items():
        sheet = read_sheet(wb, sheet_name)
        dups = duplicated(sheet.header)
        if dups:
            problems.append(f"sheet '{sheet_name}': column(s) {', '.join(repr(d) for d in dups)} appear twice")
            continue
        c = compare(sheet.header, era.name, form)
        if not c.exact:
            problems.append(describe_mismatch(c, where=f", sheet '{sheet_name}'"))
        sheets[form] = sheet
    if problems:
        raise FileRefused("The workbook's column headers do not match the export format — " + "; ".join(problems) + ".", era=era.name)
    return sheets


_FLAG_FLOATS = {1.0: True, 0.0: False, -99.0: None}


def flags_to_multi(sheet: Sheet, flags: dict[str, str]) -> pl.Series:
    """One multi-valued text from 0/1/-99 flag columns (see module docstring)."""
    codes = list(flags)
    not_recorded = formats.not_recorded() | {"-99.0"}
    out: list[str | None] = []
    if not codes:
        return pl.Series("multi", [None] * len(sheet.rows), dtype=pl.String)
    for values in zip(*(sheet.raw(flags[c]) for c in codes), strict=False):
        parts = []
        for code, v in zip(codes, values, strict=False):
            if v.__class__ is float and v in _FLAG_FLOATS:
                if _FLAG_FLOATS[v]:
                    parts.append(code)
                continue
            if v is None or v is False or v == "":
                continue
            if v is True:
                parts.append(code)
                continue
            t = (v if v.__class__ is str else _cell_text(v) or "").strip()
            if t in TRUE_FLAGS:
                parts.append(code)
            elif t in FALSE_FLAGS or t.lower() in not_recorded:
                continue
            else:
                parts.append(f"{code}={t}")
        out.append(",".join(parts) if parts else None)
    return pl.Series("multi", out, dtype=pl.String)
