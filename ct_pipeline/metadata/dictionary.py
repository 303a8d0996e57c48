"""The markdown data dictionary that analysts read, generated from the registry."""

from __future__ import annotations

from ct_pipeline.metadata.registry import Registry, load_registry
from ct_pipeline.metadata.types import duckdb_type


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def data_dictionary(reg: Registry | None = None, *, zones: tuple[str, ...] = ("analyst", "public")) -> str:
    reg = reg or load_registry()
    lines = [
        "# ct_pipeline data dictionary",
        "",
        "Generated from `ct_pipeline/metadata/` — do not edit by hand.",
        "",
    ]
    for name, t in reg.tables.items():
        if t.zone not in zones:
            continue
        lines += [f"## `{name}`", "", f"*{t.layer} layer, {t.zone} zone.* {t.description}", ""]
        lines += [f"**Grain:** {t.grain}.  ", f"**Primary key:** {', '.join(t.primary_key) or '—'}"
                  + (f"  \n**Indexed for lookups of one value:** {', '.join(t.lookup_index)}" if t.lookup_index else ""), ""]
        lines += ["| column | type | null | pii | description |", "| --- | --- | --- | --- | --- |"]
        for c in reg.columns(name):
            desc = c.field.description + (f" Code list: `{c.field.codelist}`." if c.field.codelist else "")
            lines.append(
                f"| `{c.name}` | {duckdb_type(reg, name, c)} | {'yes' if c.nullable else 'no'} "
                f"| {c.field.pii} | {_cell(desc)} |"
            )
        lines.append("")
    lines += ["# Code lists", ""]
    for cl in sorted(reg.codelists.values(), key=lambda c: c.name):
        if cl.name == "country":
            lines += ["## `country`", "", cl.description + f" {len(cl.codes)} codes; see `codelists/countries.csv`.", ""]
            continue
        lines += [f"## `{cl.name}`", "", cl.description, "", "| code | label |", "| --- | --- |"]
        lines += [f"| `{c.code}` | {_cell(c.label)} |" for c in cl.codes]
        lines.append("")
    return "\n".join(lines)
