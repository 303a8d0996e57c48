"""The restricted zone on disk: owner-only folders (0700) and files (0600), spill files kept inside.

What can write identifying values to disk, and how each is kept in the restricted zone:

- our own files (key, vault exports): `write_restricted_file` — created 0600 with O_EXCL in the target
  folder, then renamed into place (atomic, never a moment with wider permissions);
- DuckDB: `restricted_connection(path)` opens the database with ``temp_directory`` set to
  ``<restricted>/tmp/duckdb`` (spill files of big joins/sorts; by default DuckDB would spill to
  ``<db>.tmp`` or, for an in-memory database, ``./.tmp`` in the working directory!). The database
  file and its WAL are created while the umask is 077 and tightened to 0600 when found wider;
  DuckDB creates the WAL and spill files later, with the process umask — hence `harden_process`;
- polars (streaming spill: POLARS_TEMP_DIR), pandas/pyarrow/`tempfile` users (TMPDIR,
  `tempfile.tempdir`): `harden_process(restricted_dir)` points them all at ``<restricted>/tmp``;
- frames inserted into DuckDB: `insert_frame` streams them as Arrow batches (nothing on disk);
- crash dumps: `harden_process` sets RLIMIT_CORE to 0 (a core dump holds the heap: names, keys).

Whatever the file modes, every path below a 0700 folder is unreachable to other users: the folder
mode is the real guarantee, the file modes a second line (and what survives a copy).
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
RESTRICTED_DB_NAME = "restricted.duckdb"


@contextlib.contextmanager
def owner_only_umask() -> Iterator[None]:
    """Temporarily set the process umask to 077 (process-wide: not for use from many threads)."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def ensure_restricted_dir(path: str | Path) -> Path:
    """Create ``path`` (and missing parents) owner-only; tighten it to 0700 if it exists wider.

    Existing parents are left alone (they may be the user's home); every folder this call creates
    is 0700.
    """
    path = Path(path).expanduser().resolve()
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        with owner_only_umask():
            d.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(d, DIR_MODE)
    if not path.is_dir():
        raise NotADirectoryError(f"restricted path {path} exists and is not a folder")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode != DIR_MODE:
        os.chmod(path, DIR_MODE)
        log.info("tightened restricted folder %s from %04o to 0700", path, mode)
    return path


def write_restricted_file(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` with mode 0600, atomically (temp file in the same folder + rename)."""
    path = Path(path).expanduser().resolve()
    ensure_restricted_dir(path.parent)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def tighten_files(folder: str | Path) -> int:
    """chmod every file below ``folder`` to 0600 and every folder to 0700; returns how many changed."""
    changed = 0
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            p = os.path.join(root, d)
            if stat.S_IMODE(os.lstat(p).st_mode) != DIR_MODE:
                os.chmod(p, DIR_MODE)
                changed += 1
        for f in files:
            p = os.path.join(root, f)
            st = os.lstat(p)
            if stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) & 0o077:
                os.chmod(p, FILE_MODE)
                changed += 1
    return changed


def permission_problems(folder: str | Path) -> list[str]:
    """Paths below ``folder`` readable by group or others (for a blocking check). Names paths only."""
    problems = []
    folder = Path(folder)
    if not folder.exists():
        return problems
    for p in [folder, *folder.rglob("*")]:
        st = p.lstat()
        if stat.S_ISLNK(st.st_mode):
            continue
        if stat.S_IMODE(st.st_mode) & 0o077:
            problems.append(f"{p} has mode {stat.S_IMODE(st.st_mode):04o}")
    return problems


def restricted_tmp_dir(restricted_dir: str | Path) -> Path:
    return ensure_restricted_dir(Path(restricted_dir) / "tmp")


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, df) -> None:
    """INSERT a polars frame into ``table``, streamed to DuckDB as Arrow record batches.

    Why not ``con.register(frame)``: inside an explicit transaction DuckDB 2.0 keeps the data of
    every object registered that way in memory until the transaction ends (measured: about 1 GB
    per 200,000 cases of an ingestion run, whatever the memory_limit; a registered Arrow reader
    too), and a nightly load is one transaction. A RecordBatchReader found by name (DuckDB's
    replacement scan of the local variable ``batches``) is consumed once and leaves nothing
    behind (measured: 10 inserts of 200,000 rows, RSS 406 MB as through a Parquet file, 891 MB
    registered). The frames went through an owner-only Parquet file in the restricted zone before:
    nothing is written to disk now, and the writing and re-reading (~10 s of CPU in a 1M-case
    ingest, in the process every batch waits for) is gone."""
    if df.height == 0:
        return
    batches = df.to_arrow().to_reader()  # noqa: F841 (read by DuckDB's replacement scan below)
    cols = ", ".join(df.columns)
    con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM batches")


class KeyCollision(AssertionError):
    """Two rows of a table share their primary key: a pipeline bug."""


def check_run_keys(con: duckdb.DuckDBPyConnection, tables: list[str], files: list[str]) -> None:
    """Raise KeyCollision unless the rows of ``files`` in each table have distinct keys.

    The ingest's tables (raw_*, stg_*, identity_vault) keep no key index (registry ``key_index:
    false``: an index doubles the cost of bulk inserts; the key columns stay NOT NULL). A key is
    (source_file, source_row) and a run replaces whole files, so only rows of the run's own files
    can collide: checking them after they are written, before COMMIT, guards what the index did
    at the cost of the run's rows, not the table's."""
    if not files:
        return
    from ct_pipeline.metadata.registry import load_registry

    for table in tables:
        keys = ", ".join(load_registry().table(table).primary_key)
        shared = con.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE source_file IN (SELECT unnest(?)) "
            f"GROUP BY {keys} HAVING count(*) > 1)",
            [files],
        ).fetchall()[0][0]
        if shared:
            raise KeyCollision(f"{table}: {shared} keys ({keys}) held by more than one row, among the rows this run wrote")


def restricted_connection(
    path: str | Path | None = None,
    *,
    restricted_dir: str | Path | None = None,
    read_only: bool = False,
    memory_limit: str | None = None,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection whose files and spill files all stay in the restricted zone.

    ``path``: the database file (its folder is made 0700), a folder (the database is
    ``<folder>/restricted.duckdb``), or None / ":memory:" for an in-memory database, which still spills
    to ``<restricted_dir>/tmp/duckdb`` (default `settings.restricted_dir`).
    ``memory_limit``: DuckDB's limit (default `duckdb_memory_limit`).
    """
    in_memory = path is None or str(path) == ":memory:"
    if in_memory:
        if restricted_dir is None:
            from ct_pipeline.settings import get_settings

            restricted_dir = get_settings().restricted_dir
        rdir = ensure_restricted_dir(restricted_dir)
        database = ":memory:"
    else:
        p = Path(path).expanduser().resolve()
        if p.is_dir():
            p = p / RESTRICTED_DB_NAME
        rdir = ensure_restricted_dir(restricted_dir or p.parent)
        ensure_restricted_dir(p.parent)
        database = str(p)
    temp = ensure_restricted_dir(rdir / "tmp" / "duckdb")
    with owner_only_umask():
        con = duckdb.connect(database, read_only=read_only,
                             config={"temp_directory": str(temp),
                                     "memory_limit": memory_limit or duckdb_memory_limit(None if in_memory else Path(database))})
    con.execute("SET enable_progress_bar = false")  # nothing of ours on the terminal mid-query
    if not in_memory:
        for f in (Path(database), Path(database + ".wal")):
            if f.exists() and stat.S_IMODE(f.stat().st_mode) & 0o077:
                os.chmod(f, FILE_MODE)
    return con


DEFAULT_MEMORY_LIMIT = "2GB"
MIN_MEMORY_LIMIT = 2 << 30
# a database file's worth of working memory: the build database at a million cases is 2.1 GB and
# its steps peak at 2-2.5 GB; at ten million it is ~20 GB, and with 2 GB its joins spilled most
# of what they touched (10M build_core 137 s with 2 GB, 115 s with 9.4 GB; measured)
MEMORY_PER_DB_BYTE = 0.5
MAX_MEMORY_SHARE = 0.4  # of the machine's memory, whatever the database's size


def duckdb_memory_limit(database: Path | None = None) -> str:
    """DuckDB's memory limit for the pipeline's connections: $CT_DUCKDB_MEMORY_LIMIT (e.g. 4GB);
    else 2GB, or for a database file, half its size when that is more, up to 40% of the machine's
    memory. DuckDB's own default (80% of the machine) lets one big join take the memory the rest
    of the night needs; above the limit it spills to the restricted temp folder instead."""
    env = os.environ.get("CT_DUCKDB_MEMORY_LIMIT", "").strip()
    if env:
        return env
    try:
        size = database.stat().st_size if database is not None else 0
        machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (OSError, ValueError, AttributeError):
        return DEFAULT_MEMORY_LIMIT
    limit = min(int(size * MEMORY_PER_DB_BYTE), int(machine * MAX_MEMORY_SHARE))
    return f"{max(limit, MIN_MEMORY_LIMIT) >> 20}MB"


# The person linkage's own in-memory connection, sized to the records it links. With the 2 GB
# floor above it held 1.3 GB more than it needed at a million records (its peak 1,265 MB over
# its input; 325 MB with 1 GB, same wall time within noise, `link_persons` alone, measured in
# session 9); at ten million it had 2 GB and spilled the rest.
LINKAGE_BYTES_PER_RECORD = 1 << 10
LINKAGE_MIN_LIMIT = 512 << 20


def linkage_memory_limit(records: int, scale: int = 1) -> str:
    """DuckDB's memory limit for a linkage of ``records`` records: $CT_DUCKDB_MEMORY_LIMIT, else
    1 KiB a record, at least 512 MB and at most the in-memory default (2 GB), times ``scale``
    (the ingest's retry after an OutOfMemory error doubles it)."""
    env = os.environ.get("CT_DUCKDB_MEMORY_LIMIT", "").strip()
    if env:
        return env
    limit = min(max(records * LINKAGE_BYTES_PER_RECORD, LINKAGE_MIN_LIMIT), MIN_MEMORY_LIMIT) * max(1, scale)
    return f"{limit >> 20}MiB"  # DuckDB's "MB" is 10^6 bytes


def harden_process(restricted_dir: str | Path | None = None) -> Path:
    """Call once at the start of a pipeline process (CLI, Dagster run worker) that handles identities.

    umask 077 (every file this process creates is owner-only), no core dumps, and every temp-file
    user (tempfile, pandas/pyarrow via TMPDIR, polars via POLARS_TEMP_DIR) pointed at
    ``<restricted_dir>/tmp``. Returns that temp folder.
    """
    if restricted_dir is None:
        from ct_pipeline.settings import get_settings

        restricted_dir = get_settings().restricted_dir
    os.umask(0o077)
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    tmp = restricted_tmp_dir(restricted_dir)
    os.environ["TMPDIR"] = str(tmp)
    os.environ["POLARS_TEMP_DIR"] = str(tmp)
    tempfile.tempdir = str(tmp)
    return tmp
