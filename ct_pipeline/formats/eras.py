"""Era entries (eras.yaml) and per-era column maps (column_map.csv, flag_columns.csv).

The column map is canonical field x era -> source header (blank: not collected in that era).
For case_api_jsonl the "header" is a path into the JSON object: `a.b`, `list[key=value].field`,
`list[].field` (one assistance row per list element).
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict

HERE = Path(__file__).parent
FORMS = ("screening", "assistance")


class Era(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = ""
    label: str
    description: str
    file_kind: Literal["csv", "xlsx", "jsonl"]
    extensions: list[str]
    encoding: str | None = None
    delimiter: str | None = None
    sheets: dict[str, str] | None = None
    date_formats: list[str]
    blank_dates: list[str] = []
    multi_separators: list[str] = []
    country_format: Literal["name", "alpha2", "alpha3"]
    boolean_format: Literal["words", "flags", "json"]
    first_year: int
    reference: bool = False

    @property
    def forms(self) -> tuple[str, ...]:
        return ("reference",) if self.reference else FORMS


@cache
def load_eras() -> dict[str, Era]:
    doc = yaml.safe_load((HERE / "eras.yaml").read_text(encoding="utf-8"))
    return {n: Era.model_validate({**e, "name": n}) for n, e in doc["eras"].items()}


@cache
def not_recorded() -> frozenset[str]:
    """Trimmed lower-case values meaning "not recorded": eras.yaml's list and the registry's
    codelists/not_recorded.yaml (the two were written apart; a value in either one counts)."""
    doc = yaml.safe_load((HERE / "eras.yaml").read_text(encoding="utf-8"))
    values = set(doc["not_recorded"])
    extra = HERE.parent / "metadata" / "codelists" / "not_recorded.yaml"
    if extra.exists():
        values |= set(yaml.safe_load(extra.read_text(encoding="utf-8")).get("values") or [])
    return frozenset(str(v).strip().lower() for v in values)


@cache
def _column_rows() -> tuple[dict[str, str], ...]:
    with (HERE / "column_map.csv").open(encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


@cache
def _flag_rows() -> tuple[dict[str, str], ...]:
    with (HERE / "flag_columns.csv").open(encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


# Extraction asks for these per file (thousands of files a batch): built once, handed out as
# fresh copies so that a caller may change what it gets.


@cache
def _column_map(era: str, form: str) -> tuple[tuple[str, str], ...]:
    if era not in load_eras():
        raise KeyError(f"unknown era {era!r}")
    return tuple((r["field"], r[era]) for r in _column_rows() if r["form"] == form and r[era])


def column_map(era: str, form: str) -> dict[str, str]:
    """Canonical field -> source header for one era and form (fields the era did not collect left out)."""
    return dict(_column_map(era, form))


@cache
def _flag_map(era: str, form: str) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    out: dict[str, dict[str, str]] = {}
    for r in _flag_rows():
        if r["era"] == era and r["form"] == form:
            out.setdefault(r["field"], {})[r["code"]] = r["header"]
    return tuple((f, tuple(codes.items())) for f, codes in out.items())


def flag_map(era: str, form: str) -> dict[str, dict[str, str]]:
    """Multi-valued fields spread over 0/1/-99 flag columns: field -> {code: header}."""
    return {f: dict(codes) for f, codes in _flag_map(era, form)}


@cache
def signature(era: str, form: str) -> frozenset[str]:
    """The headers a file of this era and form carries, exactly (JSONL: its top-level keys)."""
    headers = list(column_map(era, form).values())
    for flags in flag_map(era, form).values():
        headers += flags.values()
    if load_eras()[era].file_kind == "jsonl":
        return frozenset(h.split(".")[0].split("[")[0] for h in headers)
    return frozenset(headers)
