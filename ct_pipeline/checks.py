"""Checks that gate each layer, as library functions (Dagster wraps them in assets/checks.py).

An outcome carries counts, table, column and rule names — never a value from the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from ct_pipeline.metadata import load_registry
from ct_pipeline.settings import Settings


@dataclass
class CheckOutcome:
    passed: bool
    summary: str
    blocking: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)


def _con(settings: Settings):
    from ct_pipeline.pipeline import build_connection

    return build_connection(settings)


def _rules_version() -> str:
    """The suites' own definition (code, rules, tolerances, registry): a change re-runs them."""
    import hashlib
    from pathlib import Path

    pkg = Path(__file__).parent
    files = sorted([*(pkg / "expectations").glob("*.py"), *(pkg / "expectations").glob("*.yaml"),
                    *(pkg / "metadata").glob("*.yaml")])
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:16]


def _memoized(settings: Settings, name: str, extra: str, compute, *, ledger: bool = True,
              tables: list[str] | None = None) -> CheckOutcome:
    """Great Expectations costs seconds just to import: when the tables it validates have not changed
    since its last run (same content fingerprint), re-use that run's outcome instead.
    ``ledger=False`` for suites that do not read the ingestion ledger: a night that brings only
    files already seen adds ledger rows and leaves the core tables and marts as they were.
    ``tables``: the tables the check reads (counted; the warehouse ledger's content fingerprints
    stand for the content of the core): the marts rebuilt after the core suites ran do not make
    the next night's core suites run again."""
    import json

    from ct_pipeline.pipeline import _fingerprint

    with _con(settings) as con:
        fp = _fingerprint(con, ledger=ledger, tables=tables) + extra + _rules_version()
    memo_path = settings.restricted_dir / "check_memo.json"
    memo = json.loads(memo_path.read_text()) if memo_path.exists() else {}
    hit = memo.get(name)
    if hit and hit["fingerprint"] == fp:
        out = CheckOutcome(**hit["outcome"])
        out.metadata = {**out.metadata, "reused_from_unchanged_inputs": True}
        return out
    out = compute()
    memo[name] = {"fingerprint": fp, "outcome": {"passed": out.passed, "summary": out.summary,
                                                  "blocking": out.blocking, "metadata": out.metadata}}
    memo_path.write_text(json.dumps(memo, default=str))
    return out


def _exists(con, table: str) -> bool:
    return bool(con.execute("select count(*) from duckdb_tables() where table_name = ?", [table]).fetchall()[0][0])


def row_accounting(settings: Settings) -> CheckOutcome:
    with _con(settings) as con:
        if not _exists(con, "ingestion_ledger"):
            return CheckOutcome(True, "No ledger yet: nothing ingested.", metadata={"files": 0})
        bad = con.execute(
            "select count(*) from ingestion_ledger "
            "where rows_read <> rows_staged + rows_quarantined + rows_duplicate"
        ).fetchall()[0][0]
        files, refused, read, staged, quarantined, dup = con.execute(
            "select count(*), count(*) filter (where file_status = 'refused'), coalesce(sum(rows_read),0), "
            "coalesce(sum(rows_staged),0), coalesce(sum(rows_quarantined),0), coalesce(sum(rows_duplicate),0) "
            "from ingestion_ledger"
        ).fetchall()[0]
        unexplained = con.execute(
            "select count(*) from ingestion_ledger where file_status = 'refused' and coalesce(error_message, '') = ''"
        ).fetchall()[0][0]
    md = {"files": files, "refused_files": refused, "rows_read": read, "rows_staged": staged,
          "rows_quarantined": quarantined, "rows_duplicate": dup, "files_not_accounted": bad}
    ok = bad == 0 and unexplained == 0
    summary = (
        f"{files} files, {read} rows read = {staged} staged + {quarantined} quarantined + {dup} duplicate"
        if ok else f"{bad} files whose rows do not add up, {unexplained} refused files without a reason"
    )
    return CheckOutcome(ok, summary, metadata=md)


def freshness(settings: Settings, today: date | None = None) -> CheckOutcome:
    """The newest export of each active mission is recent enough (tolerances.yaml: freshness)."""
    today = today or date.today()
    return _memoized(settings, "freshness", today.isoformat(), lambda: _freshness(settings, today))


def _freshness(settings: Settings, today: date) -> CheckOutcome:
    from ct_pipeline.expectations import FRESHNESS_SUITE, run_expectations

    with _con(settings) as con:
        if not _exists(con, "ingestion_ledger"):
            return CheckOutcome(True, "No ledger yet.", blocking=False)
        results = run_expectations(
            con, ["ingestion_ledger"], docs_dir=_docs_dir(settings), store_dir=_gx_store(settings),
            today=today,
        )
    r = results[FRESHNESS_SUITE]
    return CheckOutcome(r.success, r.summary_line(), blocking=False, metadata=r.to_metadata())


def _docs_dir(settings: Settings):
    return settings.reports_dir / "research_unit" / "data_docs"


def _gx_store(settings: Settings):
    return settings.restricted_dir / "gx_store"


# Rows validated at once: stg_assistance at ten million cases is 18 M rows, gigabytes as a frame
PANDERA_CHUNK_ROWS = 2_000_000
_PANDERA_ROWS = "_pandera_rows"


def _pandera_signature(table: str) -> str:
    """What a pass of a table's schema depends on: the registry (fields, tables, code lists), the
    code that turns it into a schema, pandera's version."""
    import hashlib
    from pathlib import Path

    import pandera

    meta = Path(__file__).parent / "metadata"
    h = hashlib.sha256()
    for f in sorted(meta.rglob("*")):
        if f.suffix in (".py", ".yaml", ".csv"):
            h.update(f.relative_to(meta).as_posix().encode() + b"\0" + f.read_bytes())
    return f"{table}-{h.hexdigest()[:16]}-pandera{pandera.__version__}"


def pandera_check(settings: Settings, table: str) -> CheckOutcome:
    """The registry's pandera schema, over the rows not passed yet: a row whose values passed the
    schema before passes again, so a night validates the rows it added or changed (the fingerprints
    of passed rows are kept in the restricted zone, `expectations.memo.PassedRows`), plus every row
    whose primary key is null or shared with another row anywhere in the table (so the uniqueness
    check stays exact). The columns, their types and the key are checked on every call. The rows
    are validated in parts of about PANDERA_CHUNK_ROWS rows split by a hash of the first
    primary-key column (rows that could share a key are in one part)."""
    import pandera.errors
    import polars as pl

    from ct_pipeline.expectations.memo import PassedRows, sql_text
    from ct_pipeline.metadata.schemas import validate
    from ct_pipeline.warehouse.hashing import registry_row_hash

    key = load_registry().table(table).primary_key
    memo = PassedRows(settings.restricted_dir / "pandera_store")
    signature = _pandera_signature(table)
    failures, rows, total = [], 0, 0
    with _con(settings) as con:
        if not _exists(con, table):
            return CheckOutcome(False, f"{table} does not exist")
        prior = memo.load(table, signature)
        h = registry_row_hash(table)
        if key and prior is not None:  # (without a prior pass every row is validated anyway)
            keys, nulls = ", ".join(key), " OR ".join(f"{k} IS NULL" for k in key)
            problem = f"({nulls} OR ({keys}) IN (SELECT ({keys}) FROM {table} GROUP BY ALL HAVING count(*) > 1))"
        else:
            problem = "FALSE"
        # each row's fingerprint, and whether it is to be validated now: not passed before, or a
        # null or shared key
        seen = "FALSE"
        if prior is not None:
            files = ", ".join(sql_text(x) for x in prior["paths"])
            seen = f"EXISTS (SELECT 1 FROM read_parquet([{files}]) p WHERE p.h1 = f.h1 AND p.h2 = f.h2)"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_PANDERA_ROWS} AS SELECT rid, h1, h2, problem OR NOT {seen} AS todo "
            f"FROM (SELECT rid, (h & 18446744073709551615)::UBIGINT AS h1, (h >> 64)::UBIGINT AS h2, problem "
            f"FROM (SELECT rowid AS rid, {h} AS h, coalesce({problem}, FALSE) AS problem FROM {table})) f"
        )
        try:
            total, n = con.sql(f"select count(*), count(*) filter (where todo) from {_PANDERA_ROWS}").fetchall()[0]
            parts = max(1, -(-n // PANDERA_CHUNK_ROWS))
            split = f"coalesce(hash({key[0]}), 0)" if key else "rowid"
            picked = f"rowid IN (SELECT rid FROM {_PANDERA_ROWS} WHERE todo)" if prior is not None else "TRUE"
            for i in range(parts):
                where = f" and {split} % {parts} = {i}" if parts > 1 else ""
                df = con.sql(f"select * from {table} where {picked}{where}").pl()
                rows += df.height
                try:
                    validate(table, df)
                except pandera.errors.SchemaErrors as err:
                    failures.append(err.failure_cases.select(pl.col("column", "check").cast(pl.String)))
                del df
            if not failures:
                try:  # only a cost if it fails: the next call validates more rows
                    memo.write(con, table, signature, prior, f"SELECT h1, h2 FROM {_PANDERA_ROWS} WHERE todo",
                               f"SELECT h1, h2 FROM {_PANDERA_ROWS}", {})
                except (OSError, duckdb.Error):
                    pass
        finally:
            con.execute(f"DROP TABLE IF EXISTS temp.main.{_PANDERA_ROWS}")
    if failures:
        # failure cases hold values: report only columns, checks and counts
        fc = pl.concat(failures)
        by = fc.group_by(["column", "check"]).len().sort("len", descending=True)
        lines = [f"{r['column']}: {r['check']} ({r['len']} rows)" for r in by.head(20).to_dicts()]
        return CheckOutcome(False, f"{table}: {fc.height} failures — " + "; ".join(lines),
                            metadata={"failures": fc.height, "rows": total, "rows_validated": rows})
    reused = total - rows
    return CheckOutcome(
        True,
        f"{table}: {total} rows valid" + (f" ({rows} validated now, {reused} unchanged since they passed)"
                                          if reused else ""),
        metadata={"rows": total, "rows_validated": rows, "rows_unchanged_since_a_pass": reused})


def pii_gate(settings: Settings) -> CheckOutcome:
    reg = load_registry()
    leaks = [
        f"{t}.{c.name}"
        for t in reg.tables
        if reg.tables[t].zone != "restricted"
        for c in reg.columns(t)
        if c.field.pii == "direct"
    ]
    with _con(settings) as con:
        analyst = [t for t in reg.tables if reg.tables[t].zone != "restricted" and _exists(con, t)]
        undeclared = []
        for t in analyst:
            cols = [r[0] for r in con.execute(
                "select column_name from duckdb_columns() where table_name = ?", [t]).fetchall()]
            undeclared += [f"{t}.{c}" for c in cols if c not in reg.column_names(t)]
    ok = not leaks and not undeclared
    return CheckOutcome(
        ok,
        "No direct identifier in the analyst zone." if ok
        else f"direct identifiers: {leaks}; columns not in the registry: {undeclared}",
        metadata={"analyst_tables": len(analyst)},
    )


def reconciliation(settings: Settings) -> CheckOutcome:
    from ct_pipeline.warehouse import flatten, reconcile, summary

    with _con(settings) as con:
        r = reconcile(con)
    return CheckOutcome(bool(r.get("ok", False)), summary(r), metadata=flatten(r))


def expectations(settings: Settings, layer: str) -> CheckOutcome:
    """Great Expectations suites of a layer's tables; Data Docs written for the research unit."""
    from ct_pipeline.pipeline import _code_version

    reg = load_registry()
    tables = [t for t in reg.tables_in(layer=layer) if reg.tables[t].zone != "restricted"]
    # the marts' code too: a new release rebuilds them, maybe with the same row counts
    extra = date.today().isoformat() + (_code_version("ct_pipeline.analysis") if layer == "mart" else "")
    return _memoized(settings, f"expectations:{layer}", extra, lambda: _expectations(settings, layer),
                     ledger="ingestion_ledger" in tables, tables=tables)


def _expectations(settings: Settings, layer: str) -> CheckOutcome:
    from ct_pipeline.expectations import run_expectations

    reg = load_registry()
    tables = [t for t in reg.tables_in(layer=layer) if reg.tables[t].zone != "restricted"]
    with _con(settings) as con:
        results = run_expectations(
            con, tables, docs_dir=_docs_dir(settings), store_dir=_gx_store(settings), today=date.today()
        )
    failed = [r for r in results.values() if not r.success]
    md: dict[str, Any] = {"suites": len(results), "failed_suites": len(failed),
                          "data_docs": str(_docs_dir(settings) / "index.html")}
    for name, r in results.items():
        md[f"suite {name}"] = r.summary_line()
    return CheckOutcome(
        not failed,
        f"{len(results)} suites, {len(failed)} failed. " + " | ".join(r.summary_line() for r in failed)[:2000],
        blocking=layer == "core",
        metadata=md,
    )


# check_disclosure reads every pub_* table (links between tables are part of the proof), and a
# run checks each table on its own: the problems of one state of the public zone, computed once
_DISCLOSURE_MEMO: dict[tuple[str, str, int], list] = {}


def disclosure(settings: Settings, table: str) -> CheckOutcome:
    from ct_pipeline.disclosure import check_disclosure, pub_tables, threshold
    from ct_pipeline.warehouse.hashing import row_text_hash

    k = threshold()
    with _con(settings) as con:
        # the content of every pub_* table (small: aggregates), not only row counts
        state = ",".join(
            str(con.sql(f"SELECT '{t}', count(*), sum({row_text_hash('r', t)}) FROM {t} r").fetchall()[0])
            for t in pub_tables(con)
        )
        memo_key = (str(settings.warehouse_dir.resolve()), state, k)
        if memo_key not in _DISCLOSURE_MEMO:
            _DISCLOSURE_MEMO.clear()
            _DISCLOSURE_MEMO[memo_key] = check_disclosure(con, k)
        problems = [p for p in _DISCLOSURE_MEMO[memo_key] if table in str(p)]
    return CheckOutcome(
        not problems,
        f"{table}: no cell below k" if not problems else f"{table}: {len(problems)} problems: {problems[:5]}",
        metadata={"problems": len(problems)},
    )
