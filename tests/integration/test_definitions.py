"""The Dagster definitions (assets/definitions.py `defs`): they load, their shape matches a committed
snapshot, every table asset documents itself, and no asset metadata carries data.

The definitions are loaded once in a subprocess with the CT_* variables that shape them
(CT_NIGHTLY_CRON, CT_NIGHTLY_TZ, CT_SENSOR_INTERVAL) removed, so the snapshot shows the defaults
whatever the shell or other tests set, and this process never imports Dagster.

Regenerate the snapshot after an intended change:
    CT_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/integration/test_definitions.py
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"
REGENERATE = "CT_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/integration/test_definitions.py"
SHAPING_ENV = ("CT_NIGHTLY_CRON", "CT_NIGHTLY_TZ", "CT_SENSOR_INTERVAL")

# Assets that are not tables: no column schema expected.
NON_TABLE_ASSETS = {"ct_duckdb", "reports"}
# The only metadata keys an asset definition may carry: names and documentation, never data.
ALLOWED_METADATA_KEYS = {"dagster/column_schema", "grain", "zone", "primary_key", "lookup_index"}  # names only
ZONES = {"restricted", "analyst", "public"}
# Dates that are documented rules, not data: the start of the warehouse period and the date the
# Global Assistance Fund began.
DOCUMENTED_DATES = {"1999-01-01", "2000-08-01"}

DATA_PATTERNS = {
    "an e-mail address": re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),
    "a phone number": re.compile(r"\+\d[\d \-]{6,}"),
    "a run of 5+ digits (document, phone or case number)": re.compile(r"\d{5,}"),
    "a code with 4+ digits (document or case number)": re.compile(r"\b[A-Za-z]+[-_]?\d{4,}\b"),
    "a UUID": re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I),
    "a hex token or hash": re.compile(r"\b[0-9a-f]{16,}\b", re.I),
    "an export file path": re.compile(r"[A-Z0-9][A-Z0-9_-]+/\d{4}-\d{2}-\d{2}/|\.(?:jsonl|csv|xlsx|duckdb|parquet)\b"),
    "an absolute path": re.compile(r"(?:^|\s)(?:/[\w.-]+){2,}"),
    "a date": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
}

# Runs in a clean subprocess; prints one JSON document: the snapshot and what the lint needs.
DESCRIBE = r"""
import json
import dagster as dg
from assets.definitions import defs

repo = defs.get_repository_def()
graph = repo.asset_graph

def plain(value):
    if isinstance(value, dg.TableSchema):
        return {"kind": "TableSchema", "columns": [
            {"name": c.name, "type": c.type, "description": c.description, "tags": dict(c.tags or {})}
            for c in value.columns]}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return {"kind": type(value).__name__, "value": value}
    if isinstance(value, (dg.TextMetadataValue, dg.IntMetadataValue, dg.FloatMetadataValue,
                          dg.BoolMetadataValue)):
        return {"kind": type(value).__name__, "value": value.value}
    return {"kind": type(value).__name__, "value": repr(value)}

assets = {}
for key in graph.get_all_asset_keys():
    node = graph.get(key)
    assets[key.to_user_string()] = {
        "group": node.group_name,
        "description": node.description,
        "metadata": {k: plain(v) for k, v in node.metadata.items()},
    }
snapshot = {
    "assets": sorted(assets),
    "asset_checks": sorted(f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys),
    "jobs": sorted(j.name for j in repo.get_all_jobs() if not j.name.startswith("__")),
    "schedules": sorted(
        ({"name": s.name, "cron": s.cron_schedule, "timezone": s.execution_timezone}
         for s in repo.schedule_defs), key=lambda s: s["name"]),
    "sensors": sorted(s.name for s in repo.sensor_defs),
}
print("@@JSON@@" + json.dumps({"snapshot": snapshot, "assets": assets}))
"""


@pytest.fixture(scope="module")
def described() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in SHAPING_ENV}
    proc = subprocess.run([sys.executable, "-c", DESCRIBE], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, f"assets.definitions does not load:\n{proc.stderr[-4000:]}"
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("@@JSON@@")), None)
    assert line, f"no description printed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return json.loads(line.removeprefix("@@JSON@@"))


def _key(item) -> str:
    return json.dumps(item, sort_keys=True)


def test_definitions_match_the_committed_snapshot(described):
    current = described["snapshot"]
    if os.environ.get("CT_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(json.dumps(current, indent=2) + "\n")
    assert SNAPSHOT.exists(), f"No snapshot at {SNAPSHOT.relative_to(ROOT)}; write it with: {REGENERATE}"
    committed = json.loads(SNAPSHOT.read_text())
    if committed != current:
        diff = []
        for part in sorted(set(committed) | set(current)):
            old, new = committed.get(part, []), current.get(part, [])
            old_keys, new_keys = {_key(x) for x in old}, {_key(x) for x in new}
            gone = [x for x in old if _key(x) not in new_keys]
            added = [x for x in new if _key(x) not in old_keys]
            if gone or added:
                diff.append(f"  {part}: removed {gone}, added {added}")
        pytest.fail(
            "The Dagster definitions differ from tests/integration/snapshots/definitions.json:\n"
            + "\n".join(diff)
            + f"\nIf the change is intended, regenerate the snapshot: {REGENERATE}"
        )


def test_the_automation_is_there(described):
    snap = described["snapshot"]
    assert "nightly" in snap["jobs"]
    assert {"name": "nightly_0200", "cron": "0 2 * * *", "timezone": "UTC"} in snap["schedules"]
    assert "new_exports" in snap["sensors"]
    # every asset check belongs to an asset of the graph
    assert {c.split(":", 1)[0] for c in snap["asset_checks"]} <= set(snap["assets"])


def test_every_asset_documents_itself(described):
    problems = []
    for key, asset in sorted(described["assets"].items()):
        if not (asset["description"] or "").strip():
            problems.append(f"{key}: no description")
        if key in NON_TABLE_ASSETS:
            continue
        schema = asset["metadata"].get("dagster/column_schema")
        if not schema or schema["kind"] != "TableSchema" or not schema["columns"]:
            problems.append(f"{key}: no dagster/column_schema")
            continue
        for col in schema["columns"]:
            if not (col["description"] or "").strip():
                problems.append(f"{key}.{col['name']}: column without a description")
            if not (col["type"] or "").strip():
                problems.append(f"{key}.{col['name']}: column without a type")
        names = [c["name"] for c in schema["columns"]]
        if len(names) != len(set(names)):
            problems.append(f"{key}: duplicate column names")
        pk = asset["metadata"].get("primary_key", {}).get("value", "—")
        if pk != "—":
            missing = [c.strip() for c in pk.split(",") if c.strip() not in names]
            if missing:
                problems.append(f"{key}: primary key columns {missing} not in the column schema")
        lookup = asset["metadata"].get("lookup_index", {}).get("value")
        if lookup is not None and [c for c in lookup.split(", ") if c not in names]:
            problems.append(f"{key}: lookup index columns not in the column schema")
    # the registry's lookup indexes show beside the tables they serve
    assert described["assets"]["fct_cases"]["metadata"]["lookup_index"]["value"] == "person_token"
    assert not problems, "Assets that do not document themselves in the UI:\n  " + "\n  ".join(problems)


def _strings(value: dict):
    if value["kind"] == "TableSchema":
        for c in value["columns"]:
            yield f"column {c['name']} name", c["name"]
            yield f"column {c['name']} type", c["type"]
            yield f"column {c['name']} description", c["description"] or ""
            for tk, tv in c["tags"].items():
                yield f"column {c['name']} tag {tk}", str(tv)
    else:
        yield "value", str(value["value"])


def test_no_asset_metadata_looks_like_data(described):
    """Definition metadata shows in the UI to everyone: names, documentation and counts only."""
    problems = []
    for key, asset in sorted(described["assets"].items()):
        extra = set(asset["metadata"]) - ALLOWED_METADATA_KEYS
        if extra:
            problems.append(f"{key}: metadata keys {sorted(extra)} are not reviewed as data-free "
                            f"(allowed: {sorted(ALLOWED_METADATA_KEYS)}; extend the list in this test "
                            "only for names or counts)")
        for mkey, value in asset["metadata"].items():
            if value["kind"] not in {"TableSchema", "str", "int", "float", "bool", "TextMetadataValue",
                                     "IntMetadataValue", "FloatMetadataValue", "BoolMetadataValue"}:
                problems.append(f"{key}: metadata {mkey} is a {value['kind']} (tables, JSON and "
                                "markdown values can carry rows)")
                continue
            for where, text in _strings(value):
                if len(text) > 600:
                    problems.append(f"{key}: metadata {mkey} {where} is {len(text)} characters long")
                for what, pattern in DATA_PATTERNS.items():
                    for m in pattern.finditer(text):
                        if what == "a date" and m.group() in DOCUMENTED_DATES:
                            continue
                        problems.append(f"{key}: metadata {mkey} {where} contains {what}")
        zone = asset["metadata"].get("zone", {}).get("value")
        if key not in NON_TABLE_ASSETS and zone not in ZONES:
            problems.append(f"{key}: zone {zone!r} is not one of {sorted(ZONES)}")
        schema = asset["metadata"].get("dagster/column_schema")
        for col in (schema or {}).get("columns", []):
            if not re.fullmatch(r"[a-z][a-z0-9_]*", col["name"]):
                problems.append(f"{key}: column name {col['name']!r} is not an identifier")
    assert not problems, "Asset metadata that may carry data:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("planted", [
    "+373 69 424 242", "someone@example.org", "CANARY7781", "MD-CHI/2024-03-01/export.xlsx",
    "3f2a9c1e-5b7d-4e2f-9a1c-2b3d4e5f6a7b", "9f3c0a1b2c3d4e5f6a7b", "born 1987-05-14",
    "/srv/ct/warehouse/ct.duckdb",
])
def test_the_data_patterns_catch_planted_values(planted):
    hits = [what for what, p in DATA_PATTERNS.items()
            if any(m.group() not in DOCUMENTED_DATES for m in p.finditer(planted))]
    assert hits, f"{planted!r} would pass the metadata lint"
