"""Row accounting of the core load, as a blocking check.

    staged screenings = current (in fct_screenings) + superseded + duplicate + out of scope
    staged assistance = current (in fct_assistance) + superseded + duplicate + out of scope + unmatched

plus: every registry primary key of the core tables unique and not null (the warehouse keeps no
PRIMARY KEY index, see tables.warehouse_ddl), references resolve (facts -> dimensions), the
warehouse ledger matches the staged files, fct_cases is exactly the victim screenings, and — when
the ingestion ledger has rows — its staged row counts match the staged tables.
The result holds counts and table/column names only.
"""

from __future__ import annotations

import duckdb

from ct_pipeline.metadata.registry import load_registry
from ct_pipeline.warehouse.load import CASE_STATUSES
from ct_pipeline.warehouse.tables import CORE_TABLES, existing_tables, scalar

SCREENING_STATUSES = ("current", "superseded", "duplicate", "out_of_scope")
ASSISTANCE_STATUSES = (*SCREENING_STATUSES, "unmatched")

#: (check name, SQL counting the rows that break it)
REFERENCES = (
    ("fct_screenings.person_token -> dim_persons",
     "SELECT count(*) FROM fct_screenings f WHERE person_token IS NOT NULL "
     "AND NOT EXISTS (SELECT 1 FROM dim_persons d WHERE d.person_token = f.person_token)"),
    ("fct_screenings.mission_code -> dim_missions",
     "SELECT count(*) FROM fct_screenings f WHERE NOT EXISTS "
     "(SELECT 1 FROM dim_missions d WHERE d.mission_code = f.mission_code)"),
    ("fct_screenings.registration_date -> dim_dates",
     "SELECT count(*) FROM fct_screenings f WHERE NOT EXISTS "
     "(SELECT 1 FROM dim_dates d WHERE d.calendar_date = f.registration_date)"),
    ("fct_cases.case_token -> fct_screenings",
     "SELECT count(*) FROM fct_cases f WHERE NOT EXISTS "
     "(SELECT 1 FROM fct_screenings s WHERE s.case_token = f.case_token)"),
    ("fct_cases.exploitation_types -> dim_exploitation_types",
     "SELECT count(*) FROM (SELECT unnest(exploitation_types) AS t FROM fct_cases) f WHERE t IS NOT NULL "
     "AND NOT EXISTS (SELECT 1 FROM dim_exploitation_types d WHERE d.exploitation_type = f.t)"),
    ("fct_route_legs.case_token -> fct_cases",
     "SELECT count(*) FROM fct_route_legs f WHERE NOT EXISTS "
     "(SELECT 1 FROM fct_cases c WHERE c.case_token = f.case_token)"),
    ("fct_route_legs.country_code -> dim_countries",
     "SELECT count(*) FROM fct_route_legs f WHERE NOT EXISTS "
     "(SELECT 1 FROM dim_countries d WHERE d.country_code = f.country_code)"),
    ("fct_assistance.case_token -> fct_screenings",
     "SELECT count(*) FROM fct_assistance f WHERE NOT EXISTS "
     "(SELECT 1 FROM fct_screenings s WHERE s.case_token = f.case_token)"),
    ("fct_assistance.assistance_type -> dim_assistance_types",
     "SELECT count(*) FROM fct_assistance f WHERE NOT EXISTS "
     "(SELECT 1 FROM dim_assistance_types d WHERE d.assistance_type = f.assistance_type)"),
)


class ReconciliationError(AssertionError):
    """The core tables do not account for the staged rows; the message has counts only."""


def _by_status(con, table: str, statuses: tuple[str, ...]) -> dict[str, int]:
    got = dict(con.sql(f"SELECT record_status, count(*) FROM {table} GROUP BY ALL").fetchall())
    out = {s: int(got.pop(s, 0)) for s in statuses}
    out["unknown_status"] = int(sum(got.values()))
    return out


def _accounting(con, stg: str, versions: str, fact: str, statuses: tuple[str, ...]) -> dict:
    staged = scalar(con, f"SELECT count(*) FROM {stg}")
    counts = _by_status(con, versions, statuses)
    in_facts = scalar(con, f"SELECT count(*) FROM {fact}")
    # every staged row has exactly one status row, and no status row lacks its staged row
    unaccounted = scalar(
        con,
        f"SELECT count(*) FROM {stg} s ANTI JOIN {versions} v USING (source_file, source_row)",
    )
    orphaned = scalar(
        con,
        f"SELECT count(*) FROM {versions} v ANTI JOIN {stg} s USING (source_file, source_row)",
    )
    total = sum(counts[s] for s in statuses)
    ok = (staged == total and counts["current"] == in_facts and unaccounted == 0 and orphaned == 0
          and counts["unknown_status"] == 0)
    return {"staged": staged, **counts, "in_facts": in_facts, "unaccounted_staged_rows": unaccounted,
            "orphaned_version_rows": orphaned, "ok": ok}


#: keys implied by the accounting: each staged row (unique by the stg key: checked per run at ingest,
#: `restricted.check_run_keys`, and over the table by the blocking pandera check) has exactly one
#: version row when counts agree and both anti-joins are empty, so these are not re-checked
_KEYS_IMPLIED = ("fct_case_versions", "fct_assistance_versions")


def _key_problems(con) -> dict[str, int]:
    reg = load_registry()
    out = {}
    for t in CORE_TABLES:
        if t in _KEYS_IMPLIED:
            continue
        pk = reg.table(t).primary_key
        keys = ", ".join(pk)
        nulls = " OR ".join(f"{k} IS NULL" for k in pk)
        out[t] = scalar(
            con,
            f"SELECT (SELECT count(*) FROM {t}) - (SELECT count(*) FROM (SELECT DISTINCT {keys} FROM {t}))"
            f" + (SELECT count(*) FROM {t} WHERE {nulls})",
        )
    return out


def reconcile(con: duckdb.DuckDBPyConnection) -> dict:
    """Counts of the row accounting and the integrity checks; result["ok"] is the verdict."""
    have = existing_tables(con)
    missing = [t for t in ("stg_screenings", "stg_assistance", *CORE_TABLES) if t not in have]
    if missing:
        return {"ok": False, "missing_tables": missing}
    statuses = ", ".join(f"'{s}'" for s in CASE_STATUSES)
    result: dict = {
        "screenings": _accounting(con, "stg_screenings", "fct_case_versions", "fct_screenings", SCREENING_STATUSES),
        "assistance": _accounting(con, "stg_assistance", "fct_assistance_versions", "fct_assistance",
                                  ASSISTANCE_STATUSES),
    }
    cases = scalar(con, "SELECT count(*) FROM fct_cases")
    expected = scalar(con, f"SELECT count(*) FROM fct_screenings WHERE victim_status IN ({statuses})")
    result["cases"] = {"in_facts": cases, "victim_screenings": expected, "ok": cases == expected}
    ledger = dict(con.sql("SELECT form, sum(rows_staged)::BIGINT FROM warehouse_ledger GROUP BY ALL").fetchall())
    result["warehouse_ledger"] = {
        "screening_rows": int(ledger.get("screening", 0)),
        "assistance_rows": int(ledger.get("assistance", 0)),
        "ok": ledger.get("screening", 0) == result["screenings"]["staged"]
        and ledger.get("assistance", 0) == result["assistance"]["staged"],
    }
    keys = _key_problems(con)
    result["keys"] = {"duplicate_or_null_keys": keys, "ok": not any(keys.values())}
    refs = {name: scalar(con, sql) for name, sql in REFERENCES}
    result["references"] = {"unresolved": refs, "ok": not any(refs.values())}
    if "ingestion_ledger" in have and scalar(con, "SELECT count(*) FROM ingestion_ledger"):
        ingested = scalar(
            con, "SELECT coalesce(sum(rows_staged), 0)::BIGINT FROM ingestion_ledger WHERE file_status = 'loaded' AND era IS DISTINCT FROM 'ctdc_global'")
        staged = result["screenings"]["staged"] + result["assistance"]["staged"]
        result["ingestion_ledger"] = {"rows_staged": ingested, "staged_rows": staged, "ok": ingested == staged}
    result["ok"] = all(v["ok"] for v in result.values() if isinstance(v, dict))
    return result


def assert_reconciled(con: duckdb.DuckDBPyConnection) -> dict:
    """Blocking check: raise ReconciliationError (counts only) unless reconcile(con)["ok"]."""
    result = reconcile(con)
    if not result["ok"]:
        failed = {k: v for k, v in result.items() if isinstance(v, dict) and not v.get("ok", True)}
        if "missing_tables" in result:
            failed["missing_tables"] = result["missing_tables"]
        raise ReconciliationError(f"core row accounting does not hold: {failed}")
    return result


def flatten(result: dict) -> dict[str, int | bool]:
    """The nested result as flat "section.count" numbers (for Dagster metadata / check results)."""
    out: dict[str, int | bool] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        elif isinstance(value, bool | int):
            out[prefix] = value

    walk("", result)
    return out


def summary(result: dict) -> str:
    """One line: the two accountings and the verdict of every section (counts only)."""
    if "missing_tables" in result:
        return f"missing tables: {', '.join(result['missing_tables'])}"
    s, a = result["screenings"], result["assistance"]
    parts = [
        f"screenings staged {s['staged']} = current {s['current']} + superseded {s['superseded']} + duplicate "
        f"{s['duplicate']} + out of scope {s['out_of_scope']}",
        f"assistance staged {a['staged']} = current {a['current']} + superseded {a['superseded']} + duplicate "
        f"{a['duplicate']} + out of scope {a['out_of_scope']} + unmatched {a['unmatched']}",
    ]
    failed = [k for k, v in result.items() if isinstance(v, dict) and not v.get("ok", True)]
    parts.append("all checks pass" if result["ok"] else f"FAILED: {', '.join(failed)}")
    return "; ".join(parts)
