"""Load the registry (fields.yaml, tables.yaml, codelists/) once, check it is consistent."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from ct_pipeline.metadata.model import Code, CodeList, FieldSpec, TableSpec

#: the logical types DuckDB stores as lists (types.duckdb_type): an index cannot key on them
NESTED_TYPES = frozenset({"code_list"})

HERE = Path(__file__).parent
CODELIST_DIR = HERE / "codelists"

# Columns that describe where a raw row came from; typed even in the raw layer.
PROVENANCE = ("source_file", "source_row", "source_sha256", "era", "form", "mission_code", "received_date")


@dataclass(frozen=True)
class Column:
    """A column of a table: the field it holds and its nullability in that table."""

    field: FieldSpec
    nullable: bool

    @property
    def name(self) -> str:
        return self.field.name


@dataclass(frozen=True)
class Registry:
    fields: dict[str, FieldSpec]
    tables: dict[str, TableSpec]
    codelists: dict[str, CodeList]
    countries: tuple[dict[str, str], ...]

    def table(self, name: str) -> TableSpec:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"table {name!r} is not in the registry") from None

    def columns(self, table: str) -> list[Column]:
        spec = self.table(table)
        out = []
        for ref in spec.columns:
            f = self.fields[ref.name]
            nullable = f.nullable if ref.nullable is None else ref.nullable
            if spec.layer == "raw" and ref.name not in PROVENANCE:
                nullable = True  # raw rows keep what was received, empty or not: staging decides
            if ref.name in spec.primary_key:
                nullable = False
            out.append(Column(f, nullable))
        return out

    def column_names(self, table: str) -> list[str]:
        return [c.name for c in self.table(table).columns]

    def codes(self, codelist: str) -> frozenset[str]:
        return self.codelists[codelist].codes_set

    def tables_in(self, *, layer: str | None = None, zone: str | None = None) -> list[str]:
        return [
            n
            for n, t in self.tables.items()
            if (layer is None or t.layer == layer) and (zone is None or t.zone == zone)
        ]


def _load_codelists() -> dict[str, CodeList]:
    lists: dict[str, CodeList] = {}
    for path in sorted(CODELIST_DIR.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "codes" not in doc:  # value lists such as not_recorded are not code lists
            continue
        cl = CodeList.model_validate(doc)
        lists[cl.name] = cl
    countries = _load_countries()
    lists["country"] = CodeList(
        name="country",
        description="Countries and territories, ISO 3166-1 alpha-2 codes (NA is Namibia).",
        codes=[Code(code=c["alpha2"], label=c["name"]) for c in countries],
    )
    return lists


def _load_countries() -> tuple[dict[str, str], ...]:
    path = CODELIST_DIR / "countries.csv"
    if not path.exists():
        return ()
    with path.open(encoding="utf-8", newline="") as fh:
        # csv keeps "NA" as text: Namibia is never read as missing here.
        return tuple(dict(row) for row in csv.DictReader(fh))


def _check(reg: Registry) -> None:
    problems = []
    for tname, t in reg.tables.items():
        names = [c.name for c in t.columns]
        for c in names:
            if c not in reg.fields:
                problems.append(f"table {tname}: column {c!r} is not a declared field")
        for k in t.primary_key:
            if k not in names:
                problems.append(f"table {tname}: primary key {k!r} is not one of its columns")
        for k in t.lookup_index:
            if k not in names:
                problems.append(f"table {tname}: lookup index {k!r} is not one of its columns")
            elif k in reg.fields and reg.fields[k].type in NESTED_TYPES:
                problems.append(f"table {tname}: lookup index {k!r} is a {reg.fields[k].type} (DuckDB indexes "
                                "scalar columns only)")
        if t.lookup_index and t.zone == "restricted":
            problems.append(f"table {tname}: a lookup index is kept in the published file only, and a "
                            "restricted table is never published")
        if len(set(names)) != len(names):
            problems.append(f"table {tname}: a column is listed twice")
        if t.zone != "restricted":
            direct = [c for c in names if c in reg.fields and reg.fields[c].pii == "direct"]
            if direct:
                problems.append(f"table {tname} ({t.zone} zone) holds direct identifiers {direct}")
    for f in reg.fields.values():
        if f.codelist and f.codelist not in reg.codelists:
            problems.append(f"field {f.name}: unknown code list {f.codelist!r}")
    if problems:
        raise ValueError("registry is inconsistent:\n  " + "\n  ".join(problems))


def _merged(kind: str) -> dict:
    """`fields.yaml` then `fields_<subject>.yaml` (same for tables): one registry, a file per subject."""
    merged: dict = {}
    for path in [HERE / f"{kind}.yaml", *sorted(HERE.glob(f"{kind}_*.yaml"))]:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, spec in (doc.get(kind) or {}).items():
            if name in merged:
                raise ValueError(f"{kind[:-1]} {name!r} is declared twice (again in {path.name})")
            merged[name] = spec
    return merged


@cache
def load_registry() -> Registry:
    fields = {
        n: FieldSpec.model_validate({**spec, "name": n}) for n, spec in _merged("fields").items()
    }
    tables = {
        n: TableSpec.model_validate(
            {**spec, "name": n, "columns": [c if isinstance(c, dict) else {"name": c} for c in spec["columns"]]}
        )
        for n, spec in _merged("tables").items()
    }
    reg = Registry(fields, tables, _load_codelists(), _load_countries())
    _check(reg)
    return reg
