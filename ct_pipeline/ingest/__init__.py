"""A whole ingestion run: scan the exports folder, extract and stage the new files, keep the ledger.

`run_ingestion(settings, con)`:

1. scans `settings.raw_exports_dir` (every file but README.md and hidden files; `files` / `missions`
   narrow it down);
2. skips files already in the ingestion ledger (same path: re-running changes nothing). A file
   whose *content* (SHA-256 of its bytes) was already loaded, even under another name, gets its own
   ledger row with status ``already_seen`` and is not read again;
3. extracts each new file on its own: a file that cannot be read is ``refused`` with a reason for
   the mission (the other files go on), never a crash of the run;
4. stages the extracted records a few whole missions at a time (`stage_groups`, in worker
   processes for a large set; `ct_pipeline.stage.stage`: nothing in staging crosses missions);
5. checks the accounting per file: rows_read = rows_staged + rows_quarantined + rows_duplicate
   (an imbalance is a pipeline bug and stops the run before anything is written), and that the raw
   rows of the run's files have distinct keys (`restricted.check_run_keys`: the tables keep no key index);
6. writes `raw_screenings`, `raw_assistance`, `quarantine` (batch by batch, streamed as Arrow
   batches: `restricted.insert_frame`) and `ingestion_ledger` in the given DuckDB connection (the restricted
   database), in one transaction unless the caller holds one;
7. returns the typed records of the new files (for pseudonymisation) and the per-file accounting;
   or, with `on_batch`, hands each batch's typed records over as soon as it is written and keeps
   none (the nightly step: memory stays bounded by a batch, not by the run).

Ledger statuses: ``loaded`` (read; its records staged, quarantined or counted as duplicates; a
header-only file is loaded with 0 rows and a note in error_message), ``refused`` (error_message says
why; all counts 0), ``already_seen`` (same content as a loaded file, named in error_message; all
counts 0: the rows were accounted under that file). `reload=True` re-ingests the selected files even if seen before: their earlier raw
rows, quarantine rows and ledger row are replaced.

Log lines and messages carry paths, statuses, counts, field names and rule ids, never values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import multiprocessing as mp
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from ct_pipeline.extract import (
    CTDC_PATH,
    Extracted,
    ExtractionFailed,
    FileRefused,
    extract_files,
    extract_reference,
    raw_tables,
)
from ct_pipeline.extract.paths import files_under, parse_export_path, relative_name
from ct_pipeline.ingest import handoff
from ct_pipeline.ingest.disk import InsufficientDiskSpace, check_free_space
from ct_pipeline.metadata.ddl import table_ddl
from ct_pipeline.metadata.registry import load_registry
from ct_pipeline.metadata.types import empty_frame, polars_schema
from ct_pipeline.pseudonymize.restricted import check_run_keys, insert_frame, restricted_tmp_dir
from ct_pipeline.settings import Settings
from ct_pipeline.stage import Staged, stage

log = logging.getLogger("ct_pipeline.ingest")

TABLES = ["ingestion_ledger", "raw_screenings", "raw_assistance", "quarantine"]
REFERENCE_TABLES = ["ingestion_ledger", "quarantine", "ref_ctdc_cases"]
LOADED, REFUSED, ALREADY_SEEN = "loaded", "refused", "already_seen"


class AccountingError(AssertionError):
    """rows_read != rows_staged + rows_quarantined + rows_duplicate for a file: a pipeline bug."""


@dataclass
class FileResult:
    """One ledger row."""

    source_file: str
    source_sha256: str
    file_status: str
    mission_code: str | None = None
    received_date: dt.date | None = None
    era: str | None = None
    rows_read: int = 0
    rows_staged: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    error_message: str | None = None
    ingested_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None))

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_staged + self.rows_quarantined + self.rows_duplicate

    def ledger_row(self) -> dict:
        return {k: getattr(self, k) for k in polars_schema(load_registry(), "ingestion_ledger")}


@dataclass
class IngestionResult:
    files: list[FileResult]
    typed_screenings: pl.DataFrame
    typed_assistance: pl.DataFrame
    quarantine: pl.DataFrame
    duplicates: pl.DataFrame
    skipped: list[str] = field(default_factory=list)  # already in the ledger: not processed again
    warnings: list[str] = field(default_factory=list)

    def by_status(self) -> dict[str, int]:
        out = {LOADED: 0, REFUSED: 0, ALREADY_SEEN: 0}
        for f in self.files:
            out[f.file_status] += 1
        return out

    def totals(self) -> dict[str, int]:
        keys = ("rows_read", "rows_staged", "rows_quarantined", "rows_duplicate")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}

    @property
    def changed(self) -> bool:
        return bool(self.files)


# --------------------------------------------------------------------------------------------
# scanning
# --------------------------------------------------------------------------------------------


def scan_files(exports_root: Path) -> list[Path]:
    """Every export candidate under the folder (README.md and hidden files excepted), sorted."""
    root = Path(exports_root)
    return [root.joinpath(*parts) for parts, _ in files_under(root)
            if parts[-1] != "README.md" and not any(part.startswith(".") for part in parts)]


def _relative_names(paths: list[Path], root: Path) -> dict[Path, str]:
    """`relative_name` of each path scan_files found, without resolving each one (a system call per
    path component: ~1 s of a night for ~8,000 exports). scan_files does not follow links to
    folders, so below the root a path's folders are real ones and its name is its parts; only a
    file that is itself a link is resolved, as before."""
    out: dict[Path, str] = {}
    for p in paths:
        try:
            lexical = p.relative_to(root).as_posix()
        except ValueError:
            lexical = None
        out[p] = lexical if lexical is not None and not p.is_symlink() else relative_name(p, root)
    return out


def _select(paths: list[Path], root: Path, files: Iterable[str | Path] | None, missions: Iterable[str] | None,
            rels: dict[Path, str]) -> list[Path]:
    if files:
        wanted = set()
        for f in files:
            fp = Path(f)
            wanted.add(relative_name(fp if fp.is_absolute() else root / fp, root))
        paths = [p for p in paths if rels[p] in wanted]
    if missions:
        ms = set(missions)
        paths = [p for p in paths if rels[p].split("/", 1)[0] in ms]
    return paths


def survey_exports(exports_root: Path) -> dict[str, dict[str, int]]:
    """What the exports folder holds, per era: files, records (rows read), for the demo.

    Files that would be refused are counted under ``refused``. Nothing is staged or written.
    """
    out: dict[str, dict[str, int]] = {}
    paths = scan_files(exports_root)
    for p, ex in zip(paths, extract_files(paths, exports_root), strict=False):
        if isinstance(ex, Extracted):
            key, rows = ex.era, ex.rows_read
        else:
            if not isinstance(ex, FileRefused):
                log.error("survey: %s failed with %s", relative_name(p, exports_root), type(ex).__name__)
            key, rows = "refused", 0
        d = out.setdefault(key, {"files": 0, "rows": 0})
        d["files"] += 1
        d["rows"] += rows
    return out


# --------------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------------


@dataclass
class FileOutcome:
    """An extracted file, once its records are in its batch's raw frames: what the ledger and the
    accounting need. The per-file value frames are dropped, since they hold the same values as the
    raw frames and would otherwise travel from the worker and sit in memory twice."""

    source_file: str
    era: str
    mission_code: str | None
    received_date: dt.date | None
    rows_read: int
    quarantine: pl.DataFrame
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, ex: Extracted) -> FileOutcome:
        return cls(ex.source_file, ex.era, ex.mission_code, ex.received_date, ex.rows_read, ex.quarantine, list(ex.notes))


@dataclass
class StagedGroup:
    """Extraction and staging of a batch of whole missions' new files."""

    missions: str
    items: list[tuple[Path, object]]  # (path, ExportPath)
    outcomes: list  # per item: FileOutcome | FileRefused | Exception
    extracted: dict[str, FileOutcome]
    raw_screenings: pl.DataFrame
    raw_assistance: pl.DataFrame
    staged: Staged


# A batch of export files takes about 10x its size in memory while it is staged (measured): 32 MB
# keeps each worker near 1 GB, and smaller batches cost more per file than they save.
STAGE_BATCH_BYTES = 32 * 1024 * 1024
PARALLEL_MIN_BYTES = 64 * 1024 * 1024  # below this, worker processes cost more than they save


def default_workers() -> int:
    """Extraction worker processes: CT_INGEST_WORKERS, else up to 2 (one per core)."""
    env = os.environ.get("CT_INGEST_WORKERS")
    if env and env.isdigit():
        return max(1, int(env))
    return max(1, min(2, os.cpu_count() or 1))


def stage_groups(
    items: list[tuple[Path, object]],
    exports_root: Path,
    *,
    today: dt.date | None = None,
    batch_bytes: int | None = None,
    workers: int | None = None,
    handoff_dir: Path | None = None,
):
    """Extract and stage files a few missions at a time (yields StagedGroup).

    Nothing in staging crosses missions (duplicates are per file, the identification date is
    joined on mission + case number), so staging whole missions in batches of about `batch_bytes`
    of export files gives the same result as staging everything at once, with bounded memory and
    few fixed costs.

    `handoff_dir`: a folder in the restricted zone through which worker processes hand their
    batches' large frames over as files (`ct_pipeline.ingest.handoff`); without it they come back
    pickled through the pool's pipe. Never a folder outside the restricted zone: the frames hold
    raw identities.
    """
    if handoff_dir is not None:  # a killed run's files go, whichever way this run stages
        handoff.remove_stale(handoff_dir)
    batch_bytes = STAGE_BATCH_BYTES if batch_bytes is None else batch_bytes
    by_mission: dict[str | None, list] = {}
    for item in items:
        by_mission.setdefault(item[1].mission_code, []).append(item)
    batches: list[list] = []
    current: list = []
    size = 0
    for _, group in sorted(by_mission.items(), key=lambda kv: kv[0] or ""):
        current += group
        size += sum(_size(p) for p, _ in group)
        if size >= batch_bytes:
            batches.append(current)
            current, size = [], 0
    if current:
        batches.append(current)
    workers = default_workers() if workers is None else workers
    total = sum(_size(p) for p, _ in items)
    if workers <= 1 or total < PARALLEL_MIN_BYTES or len(batches) < 2:
        for group in batches:
            outcomes = extract_files([p for p, _ in group], exports_root, today=today)
            yield _stage_batch(group, outcomes, today)
        return
    # Worker processes extract and stage whole batches, `workers` at a time (a window of work in
    # flight bounds memory); this process takes the results in order.
    folder = executor = None
    try:
        folder = None if handoff_dir is None else handoff.run_folder(handoff_dir)
        executor = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))
        pending: list = []
        queue = list(enumerate(batches))
        while queue or pending:
            while queue and len(pending) < workers + 1:
                i, group = queue.pop(0)
                pending.append(executor.submit(_extract_and_stage, group, exports_root, today, folder, f"b{i}"))
            yield handoff.unpack(pending.pop(0).result())
    finally:
        if executor is not None:  # (waits for the batches in progress: nothing writes after this)
            executor.shutdown(cancel_futures=True)
        if folder is not None:  # with batches done but not taken, when a run stopped half-way
            handoff.close_folder(folder)


def _extract_and_stage(group: list, exports_root: Path, today: dt.date | None,
                       handoff_folder: Path | None = None, name: str = "") -> StagedGroup:
    """Worker side of `stage_groups`: the batch's results, picklable (bugs in one file become
    ExtractionFailed; a staging failure propagates and stops the run, as in this process); with
    `handoff_folder`, its large frames written there (`handoff.pack`)."""
    outcomes = extract_files([p for p, _ in group], exports_root, today=today)
    outcomes = [o if isinstance(o, (Extracted, FileRefused)) or not isinstance(o, Exception)
                else ExtractionFailed(type(o).__name__) for o in outcomes]
    staged = _stage_batch(group, outcomes, today)
    return staged if handoff_folder is None else handoff.pack(staged, handoff_folder, name)


def _stage_batch(group: list, outcomes: list, today: dt.date | None) -> StagedGroup:
    raw_s, raw_a = raw_tables([o for o in outcomes if isinstance(o, Extracted)])
    outcomes = [FileOutcome.of(o) if isinstance(o, Extracted) else o for o in outcomes]
    extracted = {o.source_file: o for o in outcomes if isinstance(o, FileOutcome)}
    staged = stage(raw_s, raw_a, today=today)
    missions = sorted({w.mission_code or "" for _, w in group})
    return StagedGroup(", ".join(missions), group, outcomes, extracted, raw_s, raw_a, staged)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def ensure_tables(con: duckdb.DuckDBPyConnection, tables: list[str] = TABLES) -> None:
    for t in tables:
        con.execute(table_ddl(t))


def _ledger_state(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, str], dict[str, str]]:
    """(path -> content hash, content hash -> first loaded file with records)."""
    rows = con.sql("SELECT source_file, source_sha256, file_status, rows_read FROM ingestion_ledger").fetchall()
    by_path = {r[0]: r[1] for r in rows}
    loaded = {}
    for path, sha, status, n in sorted(rows):
        if status == LOADED and n > 0:  # an empty export (header only) is no content to skip
            loaded.setdefault(sha, path)
    return by_path, loaded


STAT_CACHE = "export_stats.json"


def _read_stat_cache(settings: Settings) -> dict[str, list]:
    """Size, modification time and SHA-256 of each export file when it was last hashed (restricted
    zone: file names carry mission codes and dates). Missing or unreadable: every file is hashed."""
    try:
        return json.loads((settings.restricted_dir / STAT_CACHE).read_text())
    except (OSError, ValueError):
        return {}


def _write_stat_cache(settings: Settings, seen: dict[str, list]) -> None:
    from ct_pipeline.pseudonymize.restricted import write_restricted_file

    try:
        write_restricted_file(settings.restricted_dir / STAT_CACHE, json.dumps(seen, separators=(",", ":")))
    except OSError as e:  # only a cache: the next night hashes every file again
        log.warning("could not write the export stat cache (%s)", type(e).__name__)


def _same_content(rel: str, first: str) -> str:
    """The already_seen note: names the first file only within the same mission (the note reaches
    the mission's report; another mission's file names are not theirs to see)."""
    if rel.split("/", 1)[0] == first.split("/", 1)[0]:
        return f"Same content as {first}, already ingested."
    return "Same content as an export already ingested from another mission (see the ledger's content hash)."


def _insert(con: duckdb.DuckDBPyConnection, table: str, df: pl.DataFrame) -> None:
    if df.height == 0:
        return
    name = f"_ingest_{table}"
    con.register(name, df)
    try:
        cols = ", ".join(df.columns)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name}")
    finally:
        try:
            con.unregister(name)
        except duckdb.Error:  # an aborted transaction refuses even this; the caller rolls back
            pass


def _refused(rel: str, sha: str, reason: str, where=None, era: str | None = None) -> FileResult:
    return FileResult(
        source_file=rel,
        source_sha256=sha,
        file_status=REFUSED,
        mission_code=getattr(where, "mission_code", None),
        received_date=getattr(where, "received_date", None),
        era=era,
        error_message=reason,
    )


def _account(files: list[FileResult], extracted: dict[str, FileOutcome], staged: Staged) -> None:
    acct = staged.accounting.group_by("source_file").agg(
        pl.col("rows_staged").sum(), pl.col("rows_quarantined").sum(), pl.col("rows_duplicate").sum()
    )
    by_file = {r["source_file"]: r for r in acct.iter_rows(named=True)}
    for f in files:
        if f.file_status != LOADED or f.source_file not in extracted:
            continue
        ex = extracted[f.source_file]
        a = by_file.get(f.source_file, {"rows_staged": 0, "rows_quarantined": 0, "rows_duplicate": 0})
        extraction_q = ex.quarantine.select("form", "source_row").unique().height if ex.quarantine.height else 0
        f.rows_read = ex.rows_read
        f.rows_staged = a["rows_staged"]
        f.rows_quarantined = a["rows_quarantined"] + extraction_q
        f.rows_duplicate = a["rows_duplicate"]
        if not f.balanced:
            raise AccountingError(
                f"{f.source_file}: rows read {f.rows_read} != staged {f.rows_staged} + quarantined "
                f"{f.rows_quarantined} + duplicate {f.rows_duplicate}"
            )


def run_ingestion(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    *,
    files: Iterable[str | Path] | None = None,
    missions: Iterable[str] | None = None,
    reload: bool = False,
    own_transaction: bool = True,
    today: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
    on_batch: Callable[[Staged, list[str]], None] | None = None,
) -> IngestionResult:
    """Ingest the new export files (see module docstring). `workers`: extraction processes
    (default `default_workers()`; 1 = in this process).

    `on_batch(staged, loaded_files)`: called inside the transaction after each batch's raw and
    quarantine rows are written, with the batch's staged records and its loaded files. With it,
    the typed records, quarantine and duplicates are handed over batch by batch and NOT kept: the
    result's frames are empty, so a large run never holds every record at once."""
    say = progress or (lambda msg: log.info(msg))
    root = settings.raw_exports_dir
    reg = load_registry()
    ensure_tables(con)
    by_path, loaded_sha = _ledger_state(con)
    scanned = scan_files(root)
    rels = _relative_names(scanned, root)
    candidates = _select(scanned, root, files, missions, rels)
    results: list[FileResult] = []
    skipped: list[str] = []
    warnings: list[str] = []
    reloaded: list[str] = []
    to_extract: list[tuple] = []
    run_sha: dict[str, str] = {}  # content -> first file of this run with it
    copies: list[tuple] = []  # later files of this run with the same content
    run_sha_of: dict[str, str] = {}
    if reload:
        reloaded = [rels[p] for p in candidates if rels[p] in by_path]
        loaded_sha = {s: p for s, p in loaded_sha.items() if p not in reloaded}
    known = _read_stat_cache(settings)
    seen: dict[str, list] = {}
    for path in candidates:
        rel = rels[path]
        try:
            st = path.stat()
            stamp = [st.st_size, st.st_mtime_ns]
            if rel in by_path and not reload and known.get(rel) == [*stamp, by_path[rel]]:
                # in the ledger, same size and modification time as when it was hashed: not read
                # again (the nightly run would otherwise re-read every export ever received)
                seen[rel] = known[rel]
                skipped.append(rel)
                continue
            data = path.read_bytes()
        except OSError as e:
            results.append(_refused(rel, hashlib.sha256(b"").hexdigest(), f"The file cannot be read ({type(e).__name__})."))
            continue
        sha = hashlib.sha256(data).hexdigest()
        seen[rel] = [*stamp, sha]
        if rel in by_path and not reload:
            if by_path[rel] != sha:
                msg = f"{rel}: content changed after it was ingested; exports are immutable (drop a new file instead)"
                warnings.append(msg)
                log.warning(msg)
            skipped.append(rel)
            continue
        try:
            where = parse_export_path(path, root, today=today)
        except FileRefused as e:
            results.append(_refused(rel, sha, e.reason))
            say(f"refused {rel}: bad folder layout")
            continue
        if sha in loaded_sha and not reload:
            results.append(FileResult(rel, sha, ALREADY_SEEN, where.mission_code, where.received_date,
                                      error_message=_same_content(rel, loaded_sha[sha])))
            say(f"already seen {rel} (same content as {loaded_sha[sha]})")
            continue
        if sha in run_sha:  # the same content earlier in this run: only the first is extracted
            copies.append((rel, sha, where, run_sha[sha]))
            continue
        run_sha[sha] = rel
        run_sha_of[rel] = sha
        to_extract.append((path, rel, sha, where))
        del data  # extraction reads the file again (page cache): bytes are not held for the whole run
    by_rel: dict[str, FileResult] = {}
    typed_s: list[pl.DataFrame] = []
    typed_a: list[pl.DataFrame] = []
    quarantines: list[pl.DataFrame] = []
    duplicates: list[pl.DataFrame] = []

    def begin() -> None:
        if own_transaction:
            con.execute("BEGIN TRANSACTION")
        if reloaded:
            con.register("_reload", pl.DataFrame({"source_file": reloaded}))
            try:
                for t in TABLES:
                    con.execute(f"DELETE FROM {t} WHERE source_file IN (SELECT source_file FROM _reload)")
            finally:
                con.unregister("_reload")

    # before anything is written: a load the disk cannot hold fails now, not an hour in
    # (sizes from the scan's own stat: a file gone since then is that file's problem, met when it
    # is extracted, not the whole night's)
    check_free_space(settings.restricted_dir, sum(seen[rel][0] for _, rel, *_ in to_extract), len(to_extract))
    begin()
    try:
        # whole missions in batches: staging needs nothing across missions, so memory stays bounded
        for group in stage_groups([(t[0], t[3]) for t in to_extract], root, today=today, workers=workers,
                                  handoff_dir=restricted_tmp_dir(settings.restricted_dir)):
            for (_, where), ex in zip(group.items, group.outcomes, strict=True):
                rel = where.source_file
                sha = run_sha_of[rel]
                if isinstance(ex, FileRefused):
                    res = _refused(rel, sha, ex.reason, where, ex.era)
                    say(f"refused {rel}")
                elif isinstance(ex, Exception):  # one bad file never stops the others
                    kind = ex.kind if isinstance(ex, ExtractionFailed) else type(ex).__name__
                    log.error("extraction of %s failed with %s", rel, kind)
                    res = _refused(
                        rel, sha,
                        f"The file could not be read (internal error {kind}); the research unit has been told.",
                        where,
                    )
                else:
                    res = FileResult(rel, sha, LOADED, ex.mission_code, ex.received_date, ex.era,
                                     error_message=" ".join(ex.notes) or None)
                results.append(res)
                by_rel[rel] = res
            _account(results, group.extracted, group.staged)
            # streamed: a frame registered with DuckDB would stay in memory until COMMIT
            insert_frame(con, "raw_screenings", group.raw_screenings)
            insert_frame(con, "raw_assistance", group.raw_assistance)
            quarantine = pl.concat([*(e.quarantine for e in group.extracted.values()), group.staged.quarantine])
            insert_frame(con, "quarantine", quarantine)
            if on_batch is not None:
                on_batch(group.staged, list(group.extracted))
            else:
                typed_s.append(group.staged.typed_screenings)
                typed_a.append(group.staged.typed_assistance)
                quarantines.append(quarantine)
                duplicates.append(group.staged.duplicates)
            del group, quarantine
        for rel, sha, where, first in copies:
            f0 = by_rel[first]
            if f0.file_status == LOADED and f0.rows_read == 0:  # the same empty export: loaded, empty
                results.append(FileResult(rel, sha, LOADED, where.mission_code, where.received_date, f0.era,
                                          error_message=f0.error_message))
            elif f0.file_status == LOADED:
                results.append(FileResult(rel, sha, ALREADY_SEEN, where.mission_code, where.received_date,
                                          error_message=_same_content(rel, first)))
            else:  # the first copy was refused: so is this one, for the same reason
                results.append(_refused(rel, sha, by_rel[first].error_message or "", where, by_rel[first].era))
        results.sort(key=lambda r: r.source_file)
        check_run_keys(con, ["raw_screenings", "raw_assistance"], [r.source_file for r in results if r.file_status == LOADED])
        ledger = pl.DataFrame([r.ledger_row() for r in results], schema=polars_schema(reg, "ingestion_ledger"))
        _insert(con, "ingestion_ledger", ledger)
    except BaseException:
        if own_transaction:
            con.execute("ROLLBACK")
        raise
    if own_transaction:
        con.execute("COMMIT")
    # only files the ledger holds: a file refused for a read error is hashed again next night
    ledgered = set(by_path) | {r.source_file for r in results}
    _write_stat_cache(settings, {r: v for r, v in seen.items() if r in ledgered})
    empty = stage(empty_frame(reg, "raw_screenings"), empty_frame(reg, "raw_assistance"))
    result = IngestionResult(
        files=results,
        typed_screenings=pl.concat(typed_s) if typed_s else empty.typed_screenings,
        typed_assistance=pl.concat(typed_a) if typed_a else empty.typed_assistance,
        quarantine=pl.concat(quarantines) if quarantines else empty.quarantine,
        duplicates=pl.concat(duplicates) if duplicates else empty.duplicates,
        skipped=skipped,
        warnings=warnings,
    )
    t = result.totals()
    say(
        f"ingestion: {len(results)} new file(s) {result.by_status()}, {len(skipped)} already in the ledger; "
        f"rows read {t['rows_read']} = staged {t['rows_staged']} + quarantined {t['rows_quarantined']} "
        f"+ duplicate {t['rows_duplicate']}"
    )
    return result


# --------------------------------------------------------------------------------------------
# the CTDC reference source
# --------------------------------------------------------------------------------------------


def ingest_reference(
    con: duckdb.DuckDBPyConnection,
    path: Path = CTDC_PATH,
    *,
    own_transaction: bool = True,
) -> FileResult:
    """Load the CTDC global dataset into `ref_ctdc_cases`, with its ledger row (mission ``CTDC``).

    Same content as the ledger's row for this file: nothing happens (status of that row returned).
    New content: the table is replaced. Every record is accounted: rows_read = staged + quarantined.
    """
    ensure_tables(con, REFERENCE_TABLES)
    data = Path(path).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    from ct_pipeline.extract import reference_name

    name = reference_name(path)
    row = con.execute("SELECT source_sha256, file_status FROM ingestion_ledger WHERE source_file = ?", [name]).fetchall()
    if row and row[0][0] == sha:
        return FileResult(name, sha, row[0][1], "CTDC", None, "ctdc_global")
    try:
        ex = extract_reference(path)
        res = FileResult(name, sha, LOADED, "CTDC", None, ex.era)
        res.rows_read = ex.rows_read
        res.rows_staged = ex.reference.height
        res.rows_quarantined = ex.quarantine.select("form", "source_row").unique().height
        if not res.balanced:
            raise AccountingError(f"{name}: reference accounting does not balance")
    except FileRefused as e:
        ex = None
        res = _refused(name, sha, e.reason, era="ctdc_global")
        res.mission_code = "CTDC"

    def write() -> None:
        con.execute("DELETE FROM ingestion_ledger WHERE source_file = ?", [name])
        con.execute("DELETE FROM quarantine WHERE source_file = ?", [name])
        if ex is not None:
            con.execute("DELETE FROM ref_ctdc_cases")
            _insert(con, "ref_ctdc_cases", ex.reference)
            _insert(con, "quarantine", ex.quarantine)
        _insert(con, "ingestion_ledger", pl.DataFrame([res.ledger_row()], schema=polars_schema(load_registry(), "ingestion_ledger")))

    if own_transaction:
        con.execute("BEGIN TRANSACTION")
        try:
            write()
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    else:
        write()
    log.info("reference %s: %s, %d records", name, res.file_status, res.rows_read)
    return res


# --------------------------------------------------------------------------------------------
# the ledger, for `ct-pipeline status`
# --------------------------------------------------------------------------------------------


def ledger_rows(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The ingestion ledger, oldest first, JSON-ready (dates and times as ISO text)."""
    exists = con.sql("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'ingestion_ledger'").fetchall()[0][0]
    if not exists:
        return []
    cols = list(polars_schema(load_registry(), "ingestion_ledger"))
    rows = con.sql(f"SELECT {', '.join(cols)} FROM ingestion_ledger ORDER BY ingested_at, source_file").fetchall()
    out = []
    for r in rows:
        d = dict(zip(cols, r, strict=False))
        for k, v in d.items():
            if isinstance(v, (dt.date, dt.datetime)):
                d[k] = v.isoformat()
        out.append(d)
    return out


__all__ = [
    "AccountingError",
    "FileResult",
    "IngestionResult",
    "InsufficientDiskSpace",
    "ingest_reference",
    "ledger_rows",
    "run_ingestion",
    "scan_files",
    "survey_exports",
]
