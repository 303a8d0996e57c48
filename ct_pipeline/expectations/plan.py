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

The query never copies a text value into pandas: text and date key columns are replaced by a
number standing for each value, computed in DuckDB (NULL kept NULL; see SuitePlan.select), other
text and date columns (checked for null-ness only) by a presence marker (TRUE, or NULL when not
recorded); code columns become an ENUM of their code list,
a value outside the list turning into "(not in the code list)" inside DuckDB; code-list columns
become "all codes known"; rules their boolean; shares a 0/1 indicator; numbers a DOUBLE (GE checks
ranges of float64 and int64 columns vectorised, but walks pandas' nullable Int64 value by value in
Python). Only codes of the (public) code lists, numbers and booleans reach the frame.

Each check has a scope (see Check.scope), which lets the runner validate only the rows GE has not
already passed (runner.py) while the checks that need the whole table still see all of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import duckdb

from ct_pipeline.expectations.config import Rule, Rules, Tolerances
from ct_pipeline.metadata.registry import Registry

FRESHNESS_SUITE = "ingestion_ledger__freshness"
NUMERIC_TYPES = {"integer", "float"}

# Scopes of a check. ROW: a property of each row on its own (mostly = 1), so a row whose frame
# values GE has already passed passes again. KEY: uniqueness, decided by the rows sharing a key:
# validated on every row whose key is null or duplicated anywhere in the table (found by DuckDB
# over the whole table) plus the rows being validated. TABLE: an aggregate over every row (row
# count, means, shares, a rule with mostly < 1): always validated on the whole table.
ROW, KEY, TABLE = "row", "key", "table"


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
    scope: str = ROW  # ROW | KEY | TABLE

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
    columns: dict[str, str] = field(default_factory=dict)  # frame column -> SQL expression
    key_ids: set[str] = field(default_factory=set)  # key columns reaching the frame as a number (see select)
    key: list[str] = field(default_factory=list)  # the primary key columns present in the table
    required: list[str] = field(default_factory=list)  # not-null columns present in the table
    today: dt.date | None = None

    def frame_columns(self, *scopes: str) -> list[str]:
        """The frame columns the checks of `scopes` read, in frame order."""
        used: set[str] = set()
        for c in self.checks:
            if c.scope in scopes:
                used.update(c.kwargs.get("column_list", []))
                if "column" in c.kwargs:
                    used.add(c.kwargs["column"])
        return [n for n in self.columns if n in used]

    def select(self, names: list[str], rows: str | None = None, extra: tuple[str, ...] = ()) -> str:
        """The frame query for `names` (and the `extra` select items), over the rows whose rowid
        the query `rows` returns, or every row. A key column (text or date) becomes a number
        standing for its value: the rank of the value among the distinct values of those rows,
        by a join (equal values, equal numbers, so GE's uniqueness is exact; NULL stays NULL). It
        costs a fraction of hashing every value (md5) and shows nothing of the value."""
        where = f"\nWHERE t.rowid IN ({rows})" if rows else ""
        items, joins = [], []
        for n in names:
            if n in self.key_ids:
                v, i = qi(f"__value_{n}"), qi(f"__id_{n}")
                distinct = f"SELECT DISTINCT t.{qi(n)} AS {v} FROM {qi(self.table)} AS t{where}"
                joins.append(f"\nLEFT JOIN (SELECT {v}, row_number() OVER () AS {i} FROM ({distinct}) "
                             f"WHERE {v} IS NOT NULL) ON t.{qi(n)} = {v}")
                items.append(f"{i} AS {qi(n)}")
            else:
                items.append(f"{self.columns[n]} AS {qi(n)}")
        items += extra
        if not items:  # GE needs a column to count rows
            items = ["CAST(NULL AS BOOLEAN) AS \"__row__\""]
        return f"SELECT {', '.join(items)}\nFROM {qi(self.table)} AS t{''.join(joins)}{where}"

    def sample_rows_sql(self, sample_rows: int, seed: int) -> str:
        """A query of rowids: every row with a problem (problem_sql), and a reservoir sample of
        `sample_rows` of the others."""
        problem = f"coalesce({self.problem_sql()}, FALSE)"
        return (f"SELECT rowid FROM {qi(self.table)} WHERE {problem} UNION ALL SELECT rowid FROM "
                f"(SELECT rowid FROM {qi(self.table)} WHERE NOT {problem}) "
                f"USING SAMPLE reservoir({sample_rows} ROWS) REPEATABLE ({seed})")

    def fingerprint_sql(self) -> tuple[str, str]:
        """Two 64-bit hashes of what the checks see of a row: its frame values. DuckDB's hash() is
        a bijective mix of each number, date, boolean or ENUM index, and no text is hashed (its
        string hash maps strings that differ by the same byte 16 positions apart to one value).
        Text and date keys enter as their null-ness only: their uniqueness is checked over the
        whole table on every run. The second hash takes the columns in reverse order: 128 bits."""
        exprs = [f"({qi(n)} IS NULL)" if n in self.key_ids else self.columns[n] for n in self.columns] or ["TRUE"]
        return f"hash({', '.join(exprs)})", f"hash({', '.join(reversed(exprs))}, 1)"

    def _dup_keys_sql(self) -> str:
        """The key values more than one row has, over the whole table (NULLs group together),
        exactly. First grouped by hash() of the key (a 64-bit integer groups faster than text),
        then the candidates -- true duplicates and hash collisions -- by the values themselves."""
        keys = ", ".join(qi(k) for k in self.key)
        return f"SELECT {keys} FROM {self._hash_candidates_sql()} GROUP BY ALL HAVING count(*) > 1"

    def _hash_candidates_sql(self) -> str:
        """The table's rows whose hash(key) another row shares: duplicates and hash collisions."""
        keys = ", ".join(qi(k) for k in self.key)
        t = qi(self.table)
        return f"(SELECT * FROM {t} WHERE hash({keys}) IN (SELECT hash({keys}) FROM {t} GROUP BY 1 HAVING count(*) > 1))"

    def key_problem_sql(self) -> str:
        """A predicate on the table's rows: the key is null or shared with another row (over the
        whole table, exact)."""
        if not self.key:
            return "FALSE"
        keys = ", ".join(qi(k) for k in self.key)
        nulls = " OR ".join(f"{qi(k)} IS NULL" for k in self.key)
        return f"({nulls} OR ({keys}) IN (SELECT ({keys}) FROM ({self._dup_keys_sql()})))"

    def key_dup_rows_sql(self) -> str:
        """A query: the number of rows whose key another row shares, over the whole table (NULL
        keys, grouped together, included)."""
        if not self.key:
            return "SELECT 0"
        keys = ", ".join(qi(k) for k in self.key)
        return (f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {self._hash_candidates_sql()} "
                f"GROUP BY {keys}) WHERE n > 1")

    def problem_sql(self) -> str:
        """A predicate: the row has a key problem, or a null in a not-null column. A sample never
        leaves such a row out (a key problem in particular only shows with all its rows)."""
        nulls = [f"{qi(c)} IS NULL" for c in self.required if c not in self.key]
        return " OR ".join([self.key_problem_sql(), *nulls])

    def signature(self) -> str:
        """What a row was checked against: the checks, the frame columns and their SQL (the run
        date written as a placeholder: a rule over `today` enters a row's fingerprint through its
        value instead). A change to the registry, the tolerances, the rules or this module's SQL
        changes it, and every row is validated again."""
        today = f"DATE '{self.today.isoformat()}'" if self.today else None
        spec = {
            "v": 1,
            "table": self.table,
            "checks": [[c.expectation, c.kwargs, c.scope] for c in self.checks],
            "columns": [[n, e.replace(today, "{today}") if today else e, n in self.key_ids]
                        for n, e in self.columns.items()],
        }
        return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:32]


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
    as unexpected without the value itself ever leaving the database. The membership test is
    TRY_CAST to the ENUM (an exact lookup, case and spaces included; six times faster than a MAP
    over the 250 country codes)."""
    lits = ", ".join(ql(x) for x in sorted(codes))
    enum = f"ENUM({lits}{', ' if lits else ''}{ql(NOT_IN_LIST)})"
    col = f"CAST({qi(column)} AS VARCHAR)"
    # (a value spelt like NOT_IN_LIST casts to it: unknown as well)
    return (f"CASE WHEN {col} IS NULL THEN NULL "
            f"ELSE coalesce(TRY_CAST({col} AS {enum}), {ql(NOT_IN_LIST)}::{enum}) END")


def codes_known_sql(column: str, codes) -> str:
    """TRUE when every element of a code-list column is in its code list (NULL elements count as
    known, a NULL list stays NULL: list_has_all's semantics, at a seventh of its cost; membership
    by TRY_CAST to an ENUM of the list, as in code_enum_sql)."""
    lits = ", ".join(ql(x) for x in sorted(codes))
    col = f"CAST({qi(column)} AS VARCHAR[])"
    unknown = f"lambda x: x IS NOT NULL AND TRY_CAST(x AS ENUM({lits})) IS NULL" if lits else "lambda x: x IS NOT NULL"
    return f"CASE WHEN {col} IS NULL THEN NULL ELSE len(list_filter({col}, {unknown})) = 0 END"


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

    proj: dict[str, str] = plan.columns  # frame column -> SQL expression
    key = list(spec.primary_key)
    plan.today = today

    def key_id(name: str) -> None:
        # not a hash: DuckDB's hash() collided on similar file paths (6,794 paths, 6,793 hashes),
        # failing a primary-key expectation that holds; md5 is exact enough but costs 5x a join
        proj[name] = qi(name)
        plan.key_ids.add(name)

    plan.checks.append(Check(
        "ExpectTableRowCountToBeBetween", {"min_value": tolerances.min_rows(table)}, "registry",
        f"{table} has at least {tolerances.min_rows(table)} row(s).", TABLE,
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
            proj[derived] = codes_known_sql(c.name, registry.codes(f.codelist) if f.codelist else ())
            plan.checks.append(Check(
                "ExpectColumnValuesToBeInSet", {"column": derived, "value_set": [True]}, "registry",
                f"every element of {c.name} is a code of the list {f.codelist} "
                "(checked in DuckDB: true when all are known).",
            ))
            if not c.nullable:
                not_null.append(derived)
        elif f.type in NUMERIC_TYPES:
            # DOUBLE, not BIGINT: a nullable integer column reaches pandas as Int64, whose range
            # GE checks one Python call per value (25x slower); integers are exact in a double
            # up to 2**53.
            proj[c.name] = f"CAST({qi(c.name)} AS DOUBLE)"
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
            if c.name in key:
                key_id(c.name)
            elif not c.nullable:
                # only whether it is recorded is checked: a marker is cheaper than a hash
                proj[c.name] = f"CASE WHEN {qi(c.name)} IS NULL THEN NULL ELSE TRUE END"
            if not c.nullable:
                not_null.append(c.name)

    present_key = [k for k in key if k in cols]
    for k in present_key:
        if k not in proj:  # e.g. a boolean or numeric key without other checks
            proj[k] = qi(k)
    plan.key = present_key
    plan.required = [c.name for c in registry_cols if c.name in cols and not c.nullable]
    if len(present_key) == 1:
        plan.checks.append(Check("ExpectColumnValuesToBeUnique", {"column": present_key[0]}, "registry",
                                 f"{present_key[0]} is the primary key of {table}: unique.", KEY))
    elif len(present_key) > 1:
        plan.checks.append(Check("ExpectCompoundColumnsToBeUnique", {"column_list": present_key}, "registry",
                                 f"({', '.join(present_key)}) is the primary key of {table}: unique.", KEY))
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
            "(tolerances.yaml).", TABLE,
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
                                 f"mean of {m.column} between {m.min:g} and {m.max:g} (tolerances.yaml).", TABLE))

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
        # mostly < 1 is a share over the whole table, not a property of each row
        plan.checks.append(Check("ExpectColumnValuesToBeInSet", kw, "rule",
                                 f"{r.description} (rules.yaml: {r.name})", ROW if r.mostly >= 1 else TABLE))

    if plan.key_ids:
        plan.notes.append("key columns checked on a number standing for each value, computed in DuckDB "
                          f"(values never leave the database): {', '.join(sorted(plan.key_ids))}")
    if not proj:
        proj["__row__"] = "CAST(1 AS TINYINT)"

    plan.rows_in_table = _row_count(con, table)
    perf = tolerances.performance
    if plan.rows_in_table > perf.max_rows_full:
        plan.sampled = True
        plan.sql = plan.select(list(proj), rows=plan.sample_rows_sql(perf.sample_rows, perf.seed))
    else:
        plan.sql = plan.select(list(proj))
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
