"""Delimited exports: the legacy Counter-Trafficking Module (one CSV per form) and the CTDC file."""

from __future__ import annotations

import polars as pl

from ct_pipeline.extract.delimited import QUOTE, Delimited, header_of, read_delimited
from ct_pipeline.extract.detect import (
    DELIMITER_NAMES,
    Comparison,
    closest,
    compare,
    describe_mismatch,
    duplicated,
)
from ct_pipeline.extract.errors import FileRefused
from ct_pipeline.extract.frames import WHOLE_RECORD
from ct_pipeline.extract.text import decode_strict
from ct_pipeline.formats import eras as formats

OTHER_DELIMITERS = [",", ";", "\t", "|"]


def _lenient_first_line(data: bytes, encoding: str) -> str:
    head = data[:65536]
    for bom in (b"\xef\xbb\xbf",):
        if head.startswith(bom):
            head = head[len(bom):]
    return head.decode(encoding, errors="replace").split("\n", 1)[0]


def detect_csv(data: bytes, suffix: str, *, allow_reference: bool) -> tuple[str, str]:
    """(era, form) of a delimited file from its header line; FileRefused when not exactly one."""
    eras = [e for e in formats.load_eras().values() if e.file_kind == "csv" and suffix in e.extensions]
    comparisons: list[Comparison] = []
    for era in eras:
        first = _lenient_first_line(data, era.encoding or "utf-8")
        headers = header_of(first, era.delimiter or ",")
        if not headers:
            continue
        dups = duplicated(headers)
        for form in era.forms:
            c = compare(headers, era.name, form)
            if c.exact and not dups:
                comparisons.insert(0, c)
            else:
                comparisons.append(c)
    matches = [c for c in comparisons if c.exact]
    if len(matches) == 1:
        m = matches[0]
        era = formats.load_eras()[m.era]
        if era.reference and not allow_reference:
            raise FileRefused(
                "This is the CTDC global dataset, a public reference source, not a mission export; "
                "it is loaded from the project's reference folder, not from the exports folder.",
                era=m.era,
            )
        return m.era, m.form
    if len(matches) > 1:  # the column maps make this impossible; say so plainly if it ever happens
        raise FileRefused("The column headers fit more than one export format; the formats need fixing.")
    if not comparisons:
        raise FileRefused("The file has no header row: its first line is empty.")
    # A header with duplicated names
    for era in eras:
        headers = header_of(_lenient_first_line(data, era.encoding or "utf-8"), era.delimiter or ",")
        for form in era.forms:
            sig = formats.signature(era.name, form)
            if set(headers) == sig and duplicated(headers):
                names = ", ".join(f"'{h}'" for h in duplicated(headers))
                raise FileRefused(f"The column(s) {names} appear more than once in the header row.", era=era.name)
    # The wrong delimiter?
    for era in eras:
        first = _lenient_first_line(data, era.encoding or "utf-8")
        for other in OTHER_DELIMITERS:
            if other == era.delimiter:
                continue
            headers = header_of(first, other)
            for form in era.forms:
                if compare(headers, era.name, form).exact:
                    raise FileRefused(
                        f"The columns are separated by {DELIMITER_NAMES[other]}, but a {era.label} file "
                        f"uses {DELIMITER_NAMES[era.delimiter or ',']} ({form} form headers recognised). "
                        "Export it again with the module's own settings.",
                        era=era.name,
                    )
    best = closest(comparisons)
    raise FileRefused(
        "The column headers do not match any export format — " + describe_mismatch(best) + ".",
        era=None,
    )


def read_csv_export(data: bytes, era_name: str) -> tuple[list[str], Delimited]:
    """Decode strictly and parse; (header, parsed records)."""
    era = formats.load_eras()[era_name]
    text, utf8 = decode_strict(data, era.encoding or "utf-8", format_label=era.label)
    sep = era.delimiter or ","
    header = header_of(text, sep)
    parsed = read_delimited(text, utf8, sep, len(header))
    return header, parsed


def mapped_columns(header: list[str], parsed: Delimited, mapping: dict[str, str]) -> dict[str, pl.Series]:
    """field -> text column, from the header position of each mapped source header."""
    index = {h: i for i, h in enumerate(header)}
    return {f: parsed.data.get_column(f"c{index[h]}") for f, h in mapping.items() if h in index}


def bad_record_rows(parsed: Delimited, form: str, source_file: str, mission: str | None, era: str) -> list[dict]:
    from ct_pipeline.stage.rules import reason

    return [
        {
            "source_file": source_file,
            "source_row": b.row,
            "form": form,
            "mission_code": mission,
            "era": era,
            "field_name": WHOLE_RECORD,
            "rule": b.rule,
            "reason": f"{reason(b.rule, None)} ({b.detail})",
            "raw_value": b.raw_text,
        }
        for b in parsed.bad
    ]


__all__ = ["QUOTE", "bad_record_rows", "detect_csv", "mapped_columns", "read_csv_export"]
