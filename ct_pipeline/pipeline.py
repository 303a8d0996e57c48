"""The pipeline's steps as plain library functions, shared by Dagster (assets/) and the CLI.

Every step opens the one build database (restricted zone: it holds raw rows and the vault beside the
analyst tables), does its work in ONE transaction — killed half-way, the database is as before —
and returns counts. Each step is a deterministic function of the tables before it, so re-running a
step after a crash completes the work. Analysts never see the build file: `publish` copies the
analyst- and public-zone tables into a new file and renames it over warehouse/ct.duckdb.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from ct_pipeline.metadata import load_registry
from ct_pipeline.metadata.ddl import table_ddl, upgrade_storage
from ct_pipeline.settings import Settings, temporary_env

Log = Callable[[str], None]

INGEST_TABLES = [
    "ingestion_ledger", "raw_screenings", "raw_assistance", "quarantine", "identity_vault",
    "stg_screenings", "stg_assistance",
]  # fmt: skip


def _layer(layer: str) -> list[str]:
    reg = load_registry()
    return [t for t in reg.tables_in(layer=layer) if t not in INGEST_TABLES and reg.tables[t].zone != "restricted"]


CORE_TABLES = ["warehouse_ledger", *_layer("core")]
MART_TABLES = _layer("mart")
PUBLIC_TABLES = _layer("public")


@dataclass
class StepResult:
    """Row counts per table written, metadata per table (counts and names only), and whether
    anything changed (a step with nothing new to do returns quickly and rewrites nothing)."""

    tables: dict[str, int] = field(default_factory=dict)
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: bool = True


def build_path(settings: Settings) -> Path:
    from ct_pipeline.warehouse import build_db_path

    return build_db_path(settings)


def _quiet(_: str) -> None:
    pass


@contextmanager
def build_connection(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """The build database, with DuckDB's temp/spill files kept inside the restricted zone."""
    from ct_pipeline.pseudonymize import harden_process
    from ct_pipeline.warehouse import connect_build

    harden_process(settings.restricted_dir)  # umask 077, temp files inside the restricted zone
    con = connect_build(settings)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    else:
        con.execute("COMMIT")


def ensure_tables(con: duckdb.DuckDBPyConnection, tables: list[str], log: Log = _quiet) -> None:
    """Create the missing tables; rebuild those whose column storage the registry changed since."""
    for t in tables:
        con.execute(table_ddl(t))
        started = time.perf_counter()
        rows = upgrade_storage(con, t)
        if rows is not None:
            log(f"{t}: rebuilt with the registry's column storage ({rows} rows, {time.perf_counter() - started:.1f} s, once)")


def row_counts(con: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, int]:
    existing = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    return {t: con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in tables if t in existing}


def list_export_files(settings: Settings) -> dict[str, str]:
    """Every file under the exports folder (README excepted): relative path -> 'size:mtime_ns'."""
    from ct_pipeline.extract.paths import files_under

    return {"/".join(parts): f"{st.st_size}:{st.st_mtime_ns}" for parts, st in files_under(settings.raw_exports_dir)
            if parts[-1] != "README.md" and not parts[-1].startswith(".")}


# --------------------------------------------------------------------------------------------
# the steps
# --------------------------------------------------------------------------------------------


def _ingest_memory_limit(settings: Settings) -> str:
    """The build database's memory_limit during the ingest step.

    $CT_DUCKDB_MEMORY_LIMIT when set. Otherwise sized to the load rather than the fixed default:
    what the load transaction must keep in memory until COMMIT, about a fifth of the exports' size
    when the restricted tables had primary-key indexes (measured; a limit below that failed the
    run; they have none since session 8, the limit was kept), with half again as margin (0.3 of
    the exports' size), plus 256 MB. Any more is cache that ingestion, which
    streams its rows in and hardly reads, and DuckDB fills it: with 512 MB + half the exports the
    ingest's peak was 0.5 GB higher at a million cases (4.0 -> 3.5 GB, same time) and 2.1 GB at ten
    million (16.8 -> 14.7 GB). 0.5 GB at 1M, 2.8 GB at 10M. `ingest` retries with twice the limit."""
    if os.environ.get("CT_DUCKDB_MEMORY_LIMIT", "").strip():
        return os.environ["CT_DUCKDB_MEMORY_LIMIT"].strip()
    exports = sum(int(v.split(":", 1)[0]) for v in list_export_files(settings).values())
    return f"{((256 << 20) + exports * 3 // 10) >> 20}MB"


# The held rows of a full load (the vault's and stg_screenings', see BatchPseudonymizer) are
# written after the linkage, when its frames are gone. Under the ingest's limit (514 MB at a
# million cases) that INSERT ran on one thread, reading back what the limit had spilled: 4.2 s
# for stg_screenings, 2.5 s with 1,024 MB, on two threads. The raised limit holds from there to
# the end of the step (the COMMIT included); its peak stayed below the linkage's (measured:
# 2.3 GB against 3.2-3.4 GB). Ten million cases already have more.
WRITE_MIN_LIMIT_MB = 1024


def _write_memory_limit(limit: str, memory_scale: int = 1) -> str | None:
    """The limit for writing the held rows: the ingest's own, at least WRITE_MIN_LIMIT_MB times
    ``memory_scale`` (the retry after an OutOfMemory error doubles both); None (keep it) when
    $CT_DUCKDB_MEMORY_LIMIT sets the limit."""
    if os.environ.get("CT_DUCKDB_MEMORY_LIMIT", "").strip() or not limit.endswith("MB"):
        return None
    return f"{max(int(limit.removesuffix('MB')), WRITE_MIN_LIMIT_MB * max(1, memory_scale))}MB"


def _ingest_transaction(settings: Settings, key, limit: str, missions, files, reload, log: Log, memory_scale: int = 1):
    """The ingest step's one transaction; returns (ingestion result, row counts)."""
    from ct_pipeline import preload
    from ct_pipeline.ingest import run_ingestion
    from ct_pipeline.pseudonymize.batches import BatchPseudonymizer

    with build_connection(settings) as con:
        with transaction(con):
            con.execute(f"SET memory_limit = '{limit}'")
            ensure_tables(con, INGEST_TABLES, log)
            # each staged batch is pseudonymised and written as soon as it is staged, so the run never
            # holds every record at once; the person linkage runs once, over the whole run, at the end
            pseudo = BatchPseudonymizer(con, key, restricted_dir=settings.restricted_dir, log=log,
                                        memory_scale=memory_scale, write_memory_limit=_write_memory_limit(limit, memory_scale))

            def on_batch(staged, loaded) -> None:
                # new rows: the checks after this step validate them with pandera and GE, whose
                # imports (seconds) run beside the ingest's own work instead of before the checks
                preload.start()
                pseudo.add(staged.typed_screenings, staged.typed_assistance, loaded)

            res = run_ingestion(settings, con, files=files, missions=missions, reload=reload, own_transaction=False,
                                progress=log, on_batch=on_batch)
            pseudo.finish()
            # The checkpoint at COMMIT merges the small row groups a night appends to the raw, stg and
            # vault tables into the ones before them (~7 s of a 1% night at 1M). Until session 23 an
            # incremental night turned that off here (`max_vacuum_tasks = 0`), which only moved the
            # merge to the night's next checkpoint (the next step's connection, in a nightly run's
            # own process) and hid it from a benchmark night run in the benchmark's process.
            counts = row_counts(con, INGEST_TABLES)
    return res, counts


def ingest(
    settings: Settings,
    *,
    missions: list[str] | None = None,
    files: list[str] | None = None,
    reload: bool = False,
    log: Log = _quiet,
) -> StepResult:
    """Extract, stage, validate and pseudonymise the new export files; one transaction.

    Raw rows, quarantine and the sealed identities stay in the restricted tables of the build
    database; stg_* (pseudonymous) go on. Persons are linked against the identities already in the
    vault, so a person's token stays stable across nights.
    """
    from ct_pipeline.pseudonymize import load_key

    key = load_key(settings.key_file)  # refuses to run without a key
    limit = _ingest_memory_limit(settings)
    try:
        res, counts = _ingest_transaction(settings, key, limit, missions, files, reload, log)
    except duckdb.OutOfMemoryException:
        # the limit is sized from the exports' bytes, what it must hold grows with their rows
        # (and with the key indexes of a build database created before session 8): exports of unusually short rows could need more. The transaction rolled back
        # (the linkage state it may have written no longer matches the vault: the retry links
        # in full), so the night runs once more with twice the limit rather than failing; the
        # linkage's own connection gets twice its limit too (either may have run out).
        if os.environ.get("CT_DUCKDB_MEMORY_LIMIT", "").strip():
            raise
        limit = f"{int(limit.removesuffix('MB')) * 2}MB"
        log(f"ingest: DuckDB's memory limit was too small for this load; rolled back, running again with {limit}")
        res, counts = _ingest_transaction(settings, key, limit, missions, files, reload, log, memory_scale=2)
    st = res.by_status()
    tot = res.totals()
    log(
        f"ingest: {len(res.files)} new files ({st['loaded']} loaded, {st['refused']} refused, "
        f"{st['already_seen']} already seen); rows read {tot['rows_read']} = staged {tot['rows_staged']} "
        f"+ quarantined {tot['rows_quarantined']} + duplicate {tot['rows_duplicate']}"
    )
    md = {
        "ingestion_ledger": {
            "new_files": len(res.files), "loaded_files": st["loaded"], "refused_files": st["refused"],
            "already_seen_files": st["already_seen"], **tot,
            "refused": "\n".join(f"{f.source_file}: {f.error_message}" for f in res.files if f.file_status == "refused")[:4000] or "none",
        }
    }
    return StepResult(tables=counts, metadata=md, changed=res.changed)


def load_reference(settings: Settings, *, log: Log = _quiet) -> StepResult:
    """The public CTDC dataset as a reference source (its own lineage; never mixed into facts)."""
    from ct_pipeline.ingest import ingest_reference

    with build_connection(settings) as con:
        res = ingest_reference(con)
        counts = row_counts(con, ["ref_ctdc_cases"])
    log(f"reference: {res.source_file} {res.file_status}, {res.rows_read} records")
    return StepResult(tables=counts, metadata={"ref_ctdc_cases": {"records_read": res.rows_read}})


def report_failure(settings: Settings, info: dict[str, Any], *, log: Log = _quiet) -> Path:
    """Explain a failure in plain text for the research unit (file, check, what to do), keep it
    under reports/research_unit/failures/, and email it when CT_SMTP_HOST is configured."""
    from ct_pipeline.notify import failure_summary, send_email, subject_for, write_summary

    info = {"exports_dir": settings.raw_exports_dir, "warehouse_dir": settings.warehouse_dir, **info}
    summary = failure_summary(info)
    path = write_summary(summary, settings.reports_dir / "research_unit" / "failures")
    outcome = send_email(summary, subject_for(info))
    log(f"failure summary written to {path}; email: {outcome.detail}")
    return path


def build_core(settings: Settings, *, full: bool = False, log: Log = _quiet) -> StepResult:
    """dim_* and fct_* from stg_*: latest export wins, earlier versions kept; incremental."""
    from ct_pipeline.warehouse import load_core

    with build_connection(settings) as con:
        res = load_core(con, full=full)
        counts = row_counts(con, CORE_TABLES)
    # the row accounting is proved by the blocking reconciliation check (checks.reconciliation)
    log(f"core: {res.mode} load, {res.files_changed} files changed, {res.cases_rebuilt} cases rebuilt "
        f"in {res.seconds:.1f} s")
    return StepResult(
        tables=counts,
        metadata={"fct_cases": {"load_mode": res.mode, "files_changed": res.files_changed,
                                "cases_rebuilt": res.cases_rebuilt}},
        changed=res.mode != "noop",
    )


def _fingerprint(con: duckdb.DuckDBPyConnection, *, ledger: bool = True, tables: list[str] | None = None) -> str:
    """What the analyst file would contain, cheaply: every analyst/public table's row count and the
    ledger's newest entry. Equal fingerprints mean there is nothing new to publish.

    ``ledger=False`` for the steps that do not read the ingestion ledger (marts, disclosure cubes:
    they read the core tables, whose content the warehouse ledger's fingerprints stand for): a night
    that only brings files already seen adds ledger rows and changes nothing else, and those steps
    then have nothing to do (at 10M they cost ~45 s on such a night). ``tables``: count only these
    (a check of the core tables is not concerned by the marts built after it)."""
    import hashlib

    reg = load_registry()
    tables = sorted(t for t, spec in reg.tables.items()
                    if spec.zone != "restricted" and (ledger or t != "ingestion_ledger")
                    and (tables is None or t in tables))
    parts = [f"{t}={n}" for t, n in sorted(row_counts(con, tables).items())]
    have = row_counts(con, ["ingestion_ledger", "warehouse_ledger"])
    if "ingestion_ledger" in have and ledger:
        parts.append(str(con.execute("select max(ingested_at), count(*) from ingestion_ledger").fetchall()[0]))
    if "warehouse_ledger" in have:
        # content, not only counts: a night that only relinks person tokens changes no count
        parts.append(str(con.execute(
            "select sum(content_fingerprint::HUGEINT) from warehouse_ledger").fetchall()[0]))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _code_version(*packages: str) -> str:
    """A hash of the source of the packages a step runs: a new release of the suppression method
    (or of the marts) rebuilds its tables even when the data did not change."""
    import hashlib
    import importlib

    h = hashlib.sha256()
    for name in packages:
        root = Path(importlib.import_module(name).__file__).parent
        for f in sorted(root.rglob("*")):
            if f.suffix in {".py", ".yaml", ".sql", ".csv"}:
                h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def _memo_path(settings: Settings) -> Path:
    return settings.restricted_dir / "step_inputs.json"


def _unchanged(settings: Settings, step: str, fp: str) -> bool:
    import json

    p = _memo_path(settings)
    return p.exists() and json.loads(p.read_text()).get(step) == fp


def _remember(settings: Settings, step: str, fp: str) -> None:
    import json

    p = _memo_path(settings)
    memo = json.loads(p.read_text()) if p.exists() else {}
    memo[step] = fp
    p.write_text(json.dumps(memo, indent=1, sort_keys=True))


def publish(settings: Settings, *, force: bool = False, log: Log = _quiet) -> StepResult:
    """Publish warehouse/ct.duckdb (analyst and public tables only) and Parquet, atomically.
    Skipped when nothing changed since the last publish (the nightly no-op run rewrites nothing)."""
    from ct_pipeline.warehouse import publish as _publish

    with build_connection(settings) as con:
        fp = _fingerprint(con) + _code_version("ct_pipeline.disclosure", "ct_pipeline.analysis", "ct_pipeline.warehouse")
        if not force and settings.analyst_db.exists() and _unchanged(settings, "publish", fp):
            log("publish: nothing changed since the last publish; ct.duckdb left as it is")
            return StepResult(metadata={"ct_duckdb": {"path": str(settings.analyst_db), "skipped": True}},
                              changed=False)
        res = _publish(settings, con)
    _remember(settings, "publish", fp)
    log(f"published {res.path} ({len(res.tables)} tables, {res.seconds:.1f} s)")
    return StepResult(
        tables=res.tables,
        metadata={"ct_duckdb": {"path": str(res.path), "tables": len(res.tables),
                                "rows": sum(res.tables.values()), "seconds": round(res.seconds, 2),
                                "parquet": str(res.parquet_dir)}},
    )


def build_marts(settings: Settings, *, log: Log = _quiet) -> StepResult:
    """Trend, route, assistance, re-victimisation, data-quality and CTDC-comparison marts."""
    from ct_pipeline.analysis import build_marts as _build

    with build_connection(settings) as con:
        fp = _fingerprint(con, ledger=False) + _code_version("ct_pipeline.analysis")
        if _unchanged(settings, "marts", fp):
            log("marts: inputs unchanged; nothing rebuilt")
            return StepResult(tables=row_counts(con, MART_TABLES), changed=False)
        counts = _build(con)
        _remember(settings, "marts", _fingerprint(con, ledger=False) + _code_version("ct_pipeline.analysis"))
    log(f"marts: {len(counts)} tables, {sum(counts.values())} rows")
    return StepResult(tables=counts)


def build_public(settings: Settings, *, log: Log = _quiet) -> StepResult:
    """pub_* tables: small-cell (k) and secondary suppression for the donors' audiences."""
    import hashlib

    from ct_pipeline.disclosure import build_pub_tables, threshold
    from ct_pipeline.reports import audiences, default_donors_file, load_donors

    with build_connection(settings) as con:
        k = threshold()
        donors = default_donors_file()
        # the donors' slices decide what is released: a new donors.yaml rebuilds the tables
        version = f"k={k}" + _code_version("ct_pipeline.disclosure", "ct_pipeline.analysis") + (
            hashlib.sha256(donors.read_bytes()).hexdigest() if donors.exists() else "")
        fp = _fingerprint(con, ledger=False) + version
        if _unchanged(settings, "public", fp):
            log("public: inputs unchanged; nothing rebuilt")
            return StepResult(tables=row_counts(con, PUBLIC_TABLES), changed=False)
        build_pub_tables(con, k, audiences=audiences(load_donors(donors)))
        counts = row_counts(con, PUBLIC_TABLES)
        _remember(settings, "public", _fingerprint(con, ledger=False) + version)
    log(f"public: {len(counts)} tables at k = {k}")
    return StepResult(tables=counts, metadata={t: {"k": k} for t in counts})


def build_reports(settings: Settings, *, run_date: date | None = None, png: bool | None = None, log: Log = _quiet) -> StepResult:
    """Donor packs and the research unit's pack (charts), plus each mission's data-quality report.
    PNGs need Debian's chromium; CT_CHARTS_PNG=0 skips them (the HTML is always written)."""
    if png is None:
        png = os.environ.get("CT_CHARTS_PNG", "1") != "0"
    from ct_pipeline.quality import write_quality_reports
    from ct_pipeline.reports import build_donor_packs, default_donors_file

    run_date = run_date or date.today()
    with build_connection(settings) as con:
        fp = _fingerprint(con) + run_date.isoformat() + _code_version("ct_pipeline.charts", "ct_pipeline.reports",
                                                                     "ct_pipeline.disclosure")
        if _unchanged(settings, "reports", fp):
            log("reports: inputs unchanged; nothing rewritten")
            return StepResult(metadata={"reports": {"skipped": True}}, changed=False)
        # Chromium (kaleido) puts its socket under TMPDIR, whose restricted-zone path can exceed the
        # socket path limit; the charts hold only disclosure-controlled aggregates, so /tmp is fine.
        with temporary_env(TMPDIR="/tmp"):
            packs = build_donor_packs(con, settings, default_donors_file(), run_date, png=png)
        quality = write_quality_reports(con, settings.reports_dir / "missions", cache_dir=settings.restricted_dir)
    _remember(settings, "reports", fp)
    log(f"reports: {len(packs)} packs, {len(quality)} mission data-quality files")
    return StepResult(
        metadata={"reports": {
            "packs": "\n".join(str(p) for p in packs),
            "mission_quality_reports": str(settings.reports_dir / "missions"),
            "data_docs": str(settings.reports_dir / "research_unit" / "data_docs" / "index.html"),
        }}
    )
