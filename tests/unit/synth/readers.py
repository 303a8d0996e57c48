"""Minimal readers of the three export eras, for checking the generator's files (not the pipeline's
extractor): each returns {form: [(source_row, {canonical field: raw value})]}."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from python_calamine import CalamineWorkbook

from ct_pipeline.formats.eras import column_map, flag_map


def _inverse(era: str, form: str) -> dict[str, str]:
    inv = {h: f for f, h in column_map(era, form).items()}
    for _field, flags in flag_map(era, form).items():
        for code, h in flags.items():
            inv[h] = f"flag:{code}"
    return inv


def read_legacy(path: Path) -> dict[str, list[tuple[int, dict]]]:
    form = "screening" if "_screening_" in path.name else "assistance"
    text = path.read_bytes().decode("cp1252")  # strict
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    inv = _inverse("ctm_legacy", form)
    header = rows[0]
    return {form: [(i, {inv[h]: v for h, v in zip(header, r, strict=True)}) for i, r in enumerate(rows[1:], 1)]}


def read_mimosa(path: Path) -> dict[str, list[tuple[int, dict]]]:
    wb = CalamineWorkbook.from_path(str(path))
    out = {}
    for sheet, form in (("Screening", "screening"), ("Assistance", "assistance")):
        data = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        inv = _inverse("mimosa_xlsx", form)
        header = data[0]
        out[form] = [(i, {inv[h]: v for h, v in zip(header, r, strict=False)}) for i, r in enumerate(data[1:], 1)]
    return out


def _get(obj, path: str):
    cur = obj
    for part in path.split("."):
        if "[" in part:
            name, sel = part.split("[", 1)
            sel = sel.rstrip("]")
            lst = cur.get(name) or []
            if "=" in sel:
                k, v = sel.split("=")
                hits = [x for x in lst if x.get(k) == v]
                cur = hits
            else:
                cur = lst
        elif isinstance(cur, list):
            vals = [x.get(part) for x in cur]
            cur = vals if len(vals) != 1 else vals[0]
            if cur == []:
                cur = None
        else:
            cur = cur.get(part) if isinstance(cur, dict) else None
    return cur


def read_api(path: Path) -> dict[str, list[tuple[int, dict]]]:
    lines = path.read_bytes().decode("utf-8").split("\n")
    assert lines[-1] == ""
    s_map = column_map("case_api_jsonl", "screening")
    a_map = column_map("case_api_jsonl", "assistance")
    scr, ass = [], []
    for i, line in enumerate(lines[:-1], 1):
        obj = json.loads(line)
        scr.append((i, {f: _get(obj, p) for f, p in s_map.items()} | {"_obj": obj}))
        for k, ep in enumerate(obj["assistance"], 1):
            rec = {"case_ref": obj["case_id"]}
            for f, p in a_map.items():
                if p.startswith("assistance[]."):
                    rec[f] = ep.get(p.split(".", 1)[1])
            ass.append((i * 1000 + k, rec))
    return {"screening": scr, "assistance": ass}


def read_any(path: Path) -> dict[str, list[tuple[int, dict]]]:
    if path.suffix == ".csv":
        return read_legacy(path)
    if path.suffix == ".xlsx":
        return read_mimosa(path)
    return read_api(path)


def all_records(out: Path):
    """(relative path, form, source_row, record) for every record of every file."""
    for p in sorted(x for x in out.rglob("*") if x.is_file()):
        rel = p.relative_to(out).as_posix()
        for form, rows in read_any(p).items():
            for row, rec in rows:
                yield rel, form, row, rec
