"""What each suite checks, and the DuckDB query that feeds it — generated from the registry,
tolerances.yaml and rules.yaml, and from the columns the table really has. No Great Expectations
import here: plans are plain data, cheap to build and to test.

Per table (registry-generated):
- row count >= min_rows;
- primary key unique (compound when several columns) and not null; not-null columns not null;
- code columns within their code list (countries: alpha-2 of countries.csv); code-list columns
  (VARCHAR[]) have every element in the list;
- numeric columns within the registry's min/max;
plus, from tolerances.yaml, shares of a value and means within tolerances; from rules.yaml,
hand-written row rules. For ingestion_ledger, a second suite checks freshness.

The query never copies a text value into pandas: key and other text columns are replaced by a
64-bit hash computed in DuckDB (NULL kept NULL); code columns become an ENUM of their code list,
a value outside the list turning into "(not in the code list)" inside DuckDB; code-list columns
become "all codes known"; rules their boolean; shares a 0/1 indicator. Only codes of the (public)
code lists, numbers and booleans reach the frame.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import duckdb

from ct_pipeline.expectations.config import Rule, Rules, Tolerances
from ct_pipeline.metadata.registry import Registry

FRESHNESS_SUITE = "ingestion_ledger__freshness"
NUMERIC_TYPES = {"integer", "float"}


def qi(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


def ql(value: Any) -> str:
    """A SQL literal of a code value, a boolean or a number."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _slug(value: Any) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(value).lower()).strip("_") or "value"


@dataclass(frozen=True)
class Check:
    """One expectation: the GE class name, its arguments, where it comes from and why."""

    expectation: str  # e.g. "ExpectColumnValuesToBeInSet"
    kwargs: dict[str, Any]
    origin: str  # registry | tolerance | rule | freshness
    note: str

    @property
    def snake(self) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.expectation).lower()

    @property
    def column(self) -> str | None:
        if "column" in self.kwargs:
            return self.kwargs["column"]
        if "column_list" in self.kwargs:
            return ", ".join(self.kwargs["column_list"])
        return None


@dataclass
class SuitePlan:
    suite: str
    table: str
    sql: str = ""
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skip: str | None = None
    rows_in_table: int | None = None
    sampled: bool = False
    missing_columns: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


# -- the database side -------------------------------------------------------------------------

def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str] | None:
    """Column name -> DuckDB type of a table or view in the current schema; None if it is absent."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = ? AND table_schema = current_schema() AND table_catalog = current_database() "
        "ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return {r[0]: r[1] for r in rows} if rows else None


def _row_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {qi(table)}").fetchall()[0][0])


NOT_IN_LIST = "(not in the code list)"


def code_enum_sql(column: str, codes) -> str:
    """A code column as an ENUM of its code list (pandas reads it as a categorical, several times
    faster than text); a value outside the list becomes NOT_IN_LIST inside DuckDB, so GE counts it
    as unexpected without the value itself ever leaving the database. The membership test is a
    MAP lookup (faster than IN over the 250 country codes)."""
    ordered = sorted(codes)
    lits = ", ".join(ql(x) for x in ordered)
    mapping = ", ".join(f"{ql(x)}: {ql(x)}" for x in ordered)
    col = f"CAST({qi(column)} AS VARCHAR)"
    return (
        f"CAST(coalesce(MAP {{{mapping}}}[{col}], CASE WHEN {col} IS NULL THEN NULL ELSE {ql(NOT_IN_LIST)} END) "
        f"AS ENUM({lits}, {ql(NOT_IN_LIST)}))"
    )


def _age_band_sql(reg: Registry, column: str) -> str:
    parts = []
    for c in reg.codelists["age_band"].codes:
        lo, hi = getattr(c, "min_age", None), getattr(c, "max_age", None)
        if lo is None:
            continue
        cond = f"{qi(column)} >= {int(lo)}" + (f" AND {qi(column)} <= {int(hi)}" if hi is not None else "")
        parts.append(f"WHEN {cond} THEN {ql(c.code)}")
    return f"(CASE WHEN {qi(column)} IS NULL THEN NULL {' '.join(parts)} END)"


def rule_sql(rule: Rule, reg: Registry, today: dt.date) -> str:
    sql = rule.sql.replace("{today}", f"DATE '{today.isoformat()}'")
    return re.sub(r"\{age_band:([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: _age_band_sql(reg, m.group(1)), sql)


# -- one table ---------------------------------------------------------------------------------

def plan_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    *,
    registry: Registry,
    tolerances: Tolerances,
    rules: Rules,
    today: dt.date,
) -> SuitePlan:
    plan = SuitePlan(suite=table, table=table)
    if table not in registry.tables:
        plan.skip = f"{table} is not in the registry: no suite."
        return plan
    spec = registry.table(table)
    if spec.zone == "restricted":
        plan.skip = f"{table} is in the restricted zone: not validated by Great Expectations."
        return plan
    cols = table_columns(con, table)
    if cols is None:
        plan.skip = f"{table} does not exist in the database (not built yet): skipped."
        return plan

    proj: dict[str, str] = {}  # frame column -> SQL expression
    hashed: set[str] = set()
    key = list(spec.primary_key)

    def need_hash(name: str) -> str:
        # 64 bits of md5, not DuckDB's hash(): that one collided on similar file paths (6,794 paths,
        # 6,793 hashes), failing a primary-key expectation that holds.
        proj[name] = f"CASE WHEN {qi(name)} IS NULL THEN NULL ELSE md5_number_lower(CAST({qi(name)} AS VARCHAR)) END"
        hashed.add(name)
        return name

    plan.checks.append(Check(
        "ExpectTableRowCountToBeBetween", {"min_value": tolerances.min_rows(table)}, "registry",
        f"{table} has at least {tolerances.min_rows(table)} row(s).",
    ))
    registry_cols = registry.columns(table)
    for c in registry_cols:
        if c.name not in cols:
            plan.missing_columns.append(c.name)
    if plan.missing_columns:
        plan.notes.append(f"columns of the registry missing from the table: {', '.join(plan.missing_columns)}")
    extra = [c for c in cols if c not in {rc.name for rc in registry_cols}]
    if extra:
        plan.notes.append(f"columns of the table not in the registry (not checked): {', '.join(extra)}")

    not_null: list[str] = []
    for c in registry_cols:
        if c.name not in cols:
            continue
        f = c.field
        db_type = cols[c.name].upper()
        if f.type == "code" and not db_type.endswith("[]"):
            proj[c.name] = code_enum_sql(c.name, registry.codes(f.codelist))
            plan.checks.append(Check(
                "ExpectColumnValuesToBeInSet",
                {"column": c.name, "value_set": sorted(registry.codes(f.codelist))},
                "registry", f"{c.name} is a code of the list {f.codelist}.",
            ))
            if not c.nullable:
                not_null.append(c.name)
        elif f.type == "code_list" or db_type.endswith("[]"):
            derived = f"{c.name}__codes_known"
            codes = ", ".join(ql(x) for x in sorted(registry.codes(f.codelist))) if f.codelist else ""
            proj[derived] = f"list_has_all([{codes}]::VARCHAR[], CAST({qi(c.name)} AS VARCHAR[]))"
            plan.checks.append(Check(
                "ExpectColumnValuesToBeInSet", {"column": derived, "value_set": [True]}, "registry",
                f"every element of {c.name} is a code of the list {f.codelist} "
                "(checked in DuckDB: true when all are known).",
            ))
            if not c.nullable:
                not_null.append(derived)
        elif f.type in NUMERIC_TYPES:
            proj[c.name] = qi(c.name) if f.type == "integer" else f"CAST({qi(c.name)} AS DOUBLE)"
            if f.min is not None or f.max is not None:
                kw: dict[str, Any] = {"column": c.name}
                if f.min is not None:
                    kw["min_value"] = f.min
                if f.max is not None:
                    kw["max_value"] = f.max
                rng = f"[{'' if f.min is None else f'{f.min:g}'}, {'' if f.max is None else f'{f.max:g}'}]"
                plan.checks.append(Check("ExpectColumnValuesToBeBetween", kw, "registry",
                                         f"{c.name} within the registry range {rng}."))
            if not c.nullable:
                not_null.append(c.name)
        elif f.type == "boolean":
            if not c.nullable:
                proj[c.name] = qi(c.name)
                not_null.append(c.name)
        else:  # string, date, timestamp: only their null-ness and uniqueness matter here
            if not c.nullable or c.name in key:
                need_hash(c.name)
                if not c.nullable:
                    not_null.append(c.name)

    present_key = [k for k in key if k in cols]
    for k in present_key:
        if k not in proj:  # e.g. a boolean or numeric key without other checks
            proj[k] = qi(k)
    if len(present_key) == 1:
        plan.checks.append(Check("ExpectColumnValuesToBeUnique", {"column": present_key[0]}, "registry",
                                 f"{present_key[0]} is the primary key of {table}: unique."))
    elif len(present_key) > 1:
        plan.checks.append(Check("ExpectCompoundColumnsToBeUnique", {"column_list": present_key}, "registry",
                                 f"({', '.join(present_key)}) is the primary key of {table}: unique."))
    for n in not_null:
        why = "part of the primary key" if n in key else "declared not null in the registry"
        plan.checks.append(Check("ExpectColumnValuesToNotBeNull", {"column": n}, "registry", f"{n}: {why}."))

    # tolerances: shares and means
    tol = tolerances.for_table(table)
    for s in tol.shares:
        if s.column not in cols:
            plan.notes.append(f"share of {s.column} = {s.value}: column missing, skipped")
            continue
        derived = f"{s.column}__is_{_slug(s.value)}"
        if cols[s.column].upper().endswith("[]"):
            expr = f"CASE WHEN {qi(s.column)} IS NULL THEN NULL ELSE CAST(list_contains({qi(s.column)}, {ql(s.value)}) AS DOUBLE) END"
        else:
            expr = f"CASE WHEN {qi(s.column)} IS NULL THEN NULL ELSE CAST({qi(s.column)} = {ql(s.value)} AS DOUBLE) END"
        proj[derived] = expr
        plan.checks.append(Check(
            "ExpectColumnMeanToBeBetween", {"column": derived, "min_value": s.min, "max_value": s.max}, "tolerance",
            f"share of {s.column} = {s.value} among recorded values between {s.min:g} and {s.max:g} "
            "(tolerances.yaml).",
        ))
    for m in tol.means:
        f = registry.fields.get(m.column)
        if m.column not in cols or f is None or f.type not in NUMERIC_TYPES:
            plan.notes.append(f"mean of {m.column}: column missing or not numeric, skipped")
            continue
        proj.setdefault(m.column, f"CAST({qi(m.column)} AS DOUBLE)")
        kw = {"column": m.column}
        if m.min is not None:
            kw["min_value"] = m.min
        if m.max is not None:
            kw["max_value"] = m.max
        plan.checks.append(Check("ExpectColumnMeanToBeBetween", kw, "tolerance",
                                 f"mean of {m.column} between {m.min:g} and {m.max:g} (tolerances.yaml)."))

    # hand-written rules
    for r in rules.for_table(table):
        expr = rule_sql(r, registry, today)
        try:
            con.execute(f"SELECT CAST(({expr}) AS BOOLEAN) FROM {qi(table)} LIMIT 0").fetchall()
        except duckdb.Error as exc:
            plan.notes.append(f"rule {r.name} skipped: {type(exc).__name__} (a column it needs is missing?)")
            continue
        derived = f"rule__{r.name}"
        proj[derived] = f"CAST(({expr}) AS BOOLEAN)"
        kw = {"column": derived, "value_set": [True]}
        if r.mostly < 1:
            kw["mostly"] = r.mostly
        plan.checks.append(Check("ExpectColumnValuesToBeInSet", kw, "rule",
                                 f"{r.description} (rules.yaml: {r.name})"))

    if hashed:
        plan.notes.append("text and key columns checked on a 64-bit hash computed in DuckDB "
                          f"(values never leave the database): {', '.join(sorted(hashed))}")
    if not proj:
        proj["__row__"] = "CAST(1 AS TINYINT)"

    select = ",\n       ".join(f"{expr} AS {qi(name)}" for name, expr in proj.items())
    base = f"SELECT {select}\nFROM {qi(table)}"
    plan.rows_in_table = _row_count(con, table)
    perf = tolerances.performance
    if plan.rows_in_table > perf.max_rows_full:
        plan.sampled = True
        problems = [f"{qi(k)} IS NULL" for k in present_key]
        if present_key:
            problems.append(f"count(*) OVER (PARTITION BY {', '.join(qi(k) for k in present_key)}) > 1")
        problems += [f"{qi(n)} IS NULL" for n in not_null if n in cols]
        flag = " OR ".join(problems) if problems else "FALSE"
        plan.sql = (
            f"WITH t AS (SELECT {select}, ({flag}) AS __problem__ FROM {qi(table)})\n"
            f"SELECT * EXCLUDE (__problem__) FROM t WHERE __problem__\n"
            f"UNION ALL\n"
            f"SELECT * EXCLUDE (__problem__) FROM (SELECT * FROM t WHERE NOT __problem__) "
            f"USING SAMPLE reservoir({perf.sample_rows} ROWS) REPEATABLE ({perf.seed})"
        )
        plan.notes.append(
            f"{plan.rows_in_table} rows > {perf.max_rows_full}: value and distribution rules on a sample of "
            f"{perf.sample_rows} rows; every row with a key or not-null problem is included"
        )
    else:
        plan.sql = base
    return plan


# -- freshness ---------------------------------------------------------------------------------

def plan_freshness(
    con: duckdb.DuckDBPyConnection, *, registry: Registry, tolerances: Tolerances, today: dt.date
) -> SuitePlan:
    """The newest export of each active mission is at most max_age_days old (as of `today`)."""
    plan = SuitePlan(suite=FRESHNESS_SUITE, table="ingestion_ledger")
    cols = table_columns(con, "ingestion_ledger")
    need = {"mission_code", "received_date", "file_status"}
    if cols is None or not need <= set(cols):
        plan.skip = "ingestion_ledger does not exist (or lacks mission_code, received_date, file_status): skipped."
        return plan
    # mission codes are reported by name: they must be declared non-identifying
    assert registry.fields["mission_code"].pii == "none"
    fr = tolerances.freshness
    t = f"DATE '{today.isoformat()}'"
    statuses = ", ".join(ql(s) for s in fr.counted_statuses) or "NULL"
    per_mission = (
        f"WITH l AS (SELECT mission_code, received_date, file_status FROM ingestion_ledger "
        f"           WHERE received_date <= {t}),\n"
        f"m AS (SELECT mission_code, max(received_date) AS newest_any,\n"
        f"             max(received_date) FILTER (WHERE file_status IN ({statuses})) AS newest_counted\n"
        f"      FROM l GROUP BY mission_code)\n"
        f"SELECT mission_code, date_diff('day', newest_counted, {t}) AS days_since_newest_export\n"
        f"FROM m WHERE newest_any >= CAST({t} - INTERVAL {int(fr.active_within_years)} YEAR AS DATE)"
    )
    total = int(con.execute("SELECT count(*) FROM ingestion_ledger").fetchall()[0][0])
    if total == 0:
        plan.skip = "ingestion_ledger is empty: no mission to check yet."
        return plan
    rows = con.execute(per_mission + " ORDER BY mission_code").fetchall()
    stale = [
        {"mission_code": m, "days_since_newest_export": d}
        for m, d in rows if d is None or d > fr.max_age_days
    ]
    plan.details = {
        "active_missions": len(rows),
        "stale_missions": stale,
        "max_age_days": fr.max_age_days,
        "active_within_years": fr.active_within_years,
        "as_of": today.isoformat(),
    }
    plan.rows_in_table = len(rows)
    plan.sql = f"SELECT days_since_newest_export FROM ({per_mission})"
    plan.checks = [
        Check("ExpectTableRowCountToBeBetween", {"min_value": 1}, "freshness",
              f"at least one mission sent an export in the last {fr.active_within_years} year(s)."),
        Check("ExpectColumnValuesToNotBeNull", {"column": "days_since_newest_export"}, "freshness",
              "every active mission has a loaded export (not only refused ones)."),
        Check("ExpectColumnValuesToBeBetween",
              {"column": "days_since_newest_export", "min_value": 0, "max_value": fr.max_age_days}, "freshness",
              f"the newest loaded export of every active mission is at most {fr.max_age_days} days old "
              f"as of {today.isoformat()} (tolerances.yaml)."),
    ]
    return plan


def default_tables(registry: Registry) -> list[str]:
    """Core tables, marts and the ingestion ledger (for freshness), in registry order."""
    return [
        n for n, t in registry.tables.items()
        if t.zone != "restricted" and (t.layer in ("core", "mart") or n == "ingestion_ledger")
    ]
