"""Benchmark of the Great Expectations suite of fct_cases on a synthetic table.

    python -m ct_pipeline.expectations.bench [--rows 1000000] [--sample-above N]

Builds fct_cases from the registry DDL in an in-memory DuckDB with synthetic rows (no person's
data), then times: the GE import, the plan, DuckDB -> pandas, the validation, the Data Docs build
(in a temporary folder). `--sample-above` lowers performance.max_rows_full to time the sampled path.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

import duckdb

from ct_pipeline.expectations.plan import qi
from ct_pipeline.metadata import load_registry
from ct_pipeline.metadata.ddl import table_ddl
from ct_pipeline.metadata.types import duckdb_type

# Expressions for the columns of fct_cases (by field name); `i` is the row number. Columns of the
# table that are not listed get a generic value of their type (NULL when nullable).
_FCT_CASES = {
    "case_token": "sha256('case' || i::VARCHAR)",
    "person_token": "sha256('person' || (i // 2)::VARCHAR)",
    "mission_code": "'M' || lpad((i % 97)::VARCHAR, 2, '0') || '-X'",
    "registration_date": "DATE '2000-01-01' + CAST(i % 9000 AS INTEGER)",
    "registration_year": "year(DATE '2000-01-01' + CAST(i % 9000 AS INTEGER))",
    "identification_date": "DATE '2000-01-01' + CAST(i % 9000 AS INTEGER)",
    "identification_year": "year(DATE '2000-01-01' + CAST(i % 9000 AS INTEGER))",
    "age_at_identification": "CASE WHEN i % 10 = 0 THEN NULL ELSE 12 + CAST(i % 37 AS INTEGER) END",
    "sex": "CASE WHEN i % 3 = 0 THEN 'male' WHEN i % 50 = 1 THEN NULL ELSE 'female' END",
    "citizenship": "['MD', 'UA', 'NG', 'TH', 'NA', 'PH'][1 + CAST(i % 6 AS INTEGER)]",
    "victim_status": "CASE WHEN i % 4 = 0 THEN 'presumed_victim' ELSE 'victim' END",
    "exploitation_types": "CASE WHEN i % 5 = 0 THEN NULL WHEN i % 2 = 0 THEN ['sexual_exploitation'] "
                          "ELSE ['forced_labour', 'forced_begging'] END",
    "exploitation_days": "CAST(i % 900 AS INTEGER)",
    "recruitment_country": "['MD', 'UA', 'NG'][1 + CAST(i % 3 AS INTEGER)]",
    "exploitation_country": "['RU', 'TR', 'IT', 'TH'][1 + CAST(i % 4 AS INTEGER)]",
    "is_gaf_eligible": "i % 3 <> 0",
    "gaf_eligibility_reason": "CASE WHEN i % 3 <> 0 THEN 'eligible' ELSE 'identified_in_excluded_country' END",
    "has_research_consent": "i % 7 <> 0",
    "key_version": "'v1'",
    "source_file": "'M' || lpad((i % 97)::VARCHAR, 2, '0') || '-X/2024-01-01/export.csv'",
    "source_row": "CAST(1 + i // 97 AS BIGINT)",
    "era": "'case_api_jsonl'",
    "received_date": "DATE '2024-01-01'",
}


def _age_band(reg) -> str:
    from ct_pipeline.expectations.plan import _age_band_sql

    return _age_band_sql(reg, "age_at_identification").replace('"age_at_identification"',
                                                                 _FCT_CASES["age_at_identification"])


def create_table(con: duckdb.DuckDBPyConnection, table: str, *, constraints: bool = True) -> None:
    """Create a registry table; without constraints (no NOT NULL, no key) bad rows can be planted."""
    reg = load_registry()
    if constraints:
        con.execute(table_ddl(table, reg))
        return
    cols = ", ".join(f"{qi(c.name)} {duckdb_type(reg, table, c)}" for c in reg.columns(table))
    con.execute(f"CREATE TABLE {qi(table)} ({cols})")


def fill_fct_cases(con: duckdb.DuckDBPyConnection, rows: int, *, start: int = 0) -> None:
    """Insert `rows` synthetic, valid rows into fct_cases (which must exist)."""
    reg = load_registry()
    exprs = []
    for c in reg.columns("fct_cases"):
        if c.name in _FCT_CASES:
            e = _FCT_CASES[c.name]
        elif c.name == "age_band":
            e = _age_band(reg)
        elif c.field.type == "code" and not c.nullable:
            e = f"'{sorted(reg.codes(c.field.codelist))[0]}'"
        elif c.field.type in ("integer", "float") and not c.nullable:
            e = str(int(c.field.min or 0))
        elif c.field.type == "boolean" and not c.nullable:
            e = "TRUE"
        elif c.field.type == "date" and not c.nullable:
            e = "DATE '2024-01-01'"
        elif not c.nullable:
            e = "'x'"
        else:
            e = "NULL"
        exprs.append(f"{e} AS {qi(c.name)}")
    con.execute(f"INSERT INTO fct_cases BY NAME SELECT {', '.join(exprs)} FROM range({start}, {start + rows}) t(i)")


def build_fct_cases(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    create_table(con, "fct_cases", constraints=False)
    fill_fct_cases(con, rows)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--sample-above", type=int, default=None)
    args = ap.parse_args(argv)

    t0, c0 = time.perf_counter(), time.process_time()
    from ct_pipeline.expectations.runner import _gx

    _gx()
    t_import, c_import = time.perf_counter() - t0, time.process_time() - c0

    from ct_pipeline.expectations import load_tolerances, run_expectations

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    t0 = time.perf_counter()
    build_fct_cases(con, args.rows)
    t_build = time.perf_counter() - t0

    tol = load_tolerances()
    if args.sample_above:
        tol = tol.model_copy(update={"performance": tol.performance.model_copy(
            update={"max_rows_full": args.sample_above})})
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), time.process_time()
        res = run_expectations(con, ["fct_cases"], docs_dir=Path(tmp) / "data_docs",
                               today=dt.date(2026, 1, 31), tolerances=tol)
        t_total, c_total = time.perf_counter() - t0, time.process_time() - c0
    r = res["fct_cases"]
    out = {
        "rows": args.rows,
        "sampled": r.sampled,
        "rows_validated": r.rows_validated,
        "expectations": len(r.expectations),
        "failed": len(r.failed),
        "ge_import_s": round(t_import, 2),
        "ge_import_cpu_s": round(c_import, 2),
        "build_table_s": round(t_build, 2),
        "duckdb_to_pandas_s": round(r.seconds_read, 2),
        "ge_validate_s": round(r.seconds - r.seconds_read, 2),
        "run_expectations_total_s": round(t_total, 2),
        "plan_context_docs_s": round(t_total - r.seconds, 2),
        "run_expectations_cpu_s": round(c_total, 2),
        "load_average_1min": round(os.getloadavg()[0], 1),
        "cpus": os.cpu_count(),
    }
    for k, v in out.items():
        print(f"{k:>26}: {v}")
    for e in r.failed:
        print(f"  failed: {e.expectation} {e.column} {e.unexpected_count}")
    return out


if __name__ == "__main__":
    main()
