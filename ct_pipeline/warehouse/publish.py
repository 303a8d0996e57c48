"""Publish the analyst warehouse (ct.duckdb + Parquet) from the build database, and query it.

Publishing never writes the file analysts read: it builds `ct.duckdb.tmp-<pid>` next to it
(same filesystem), copies only the registry's analyst- and public-zone tables (DDL and
COMMENT ON generated from the registry, then INSERT … SELECT in one read transaction of the
build database, so every table comes from the same snapshot), adds the `warehouse_tables`,
`data_dictionary` and `code_lists` views, checkpoints, detaches, fsyncs and renames it over
`ct.duckdb` (atomic). A reader that has the old file open keeps reading the old inode; a new
connection opens the new file. Restricted tables (raw_*, quarantine, vault …) are never copied:
the list comes from the registry, not from what the build database holds.

**Incremental publish.** Each publish records, next to ct.duckdb, a fingerprint of every table
it holds (per change unit - registration year for the facts, export file for the staged rows and
the version histories, else the whole table: row count and the sum of its rows' hashes (row_hash), with
the table's DDL) and the identity of the file it wrote. The next publish starts from a byte copy
of that file instead of an empty one and, in the units whose fingerprint changed, replaces the
rows whose hash changed - a night that adds 1% of cases writes about that many rows, not the
warehouse. When the record is missing, of another format, or the file is not the one recorded,
the whole file is rebuilt. The Parquet generation hard-links unchanged files and partitions from
the previous one likewise (a table kept in one Parquet file is rewritten when any unit changed).
At a million cases a night costs about 13-19 s of CPU (8-14 s wall): 4.5 s to hash every row of
the build (the fingerprints, the cost that grows with the warehouse, not with the night; the
byte copy of the file runs meanwhile), 5 s to hash both sides of the changed units and replace
their changed rows, 4-7 s to write Parquet (fct_*_versions and dim_persons, one file each, are
rewritten whole), 1 s for the rest.

**Lookup indexes.** The registry's `lookup_index` columns (a person's cases by person_token, a
case's assistance by case_token) get an ART index in the published file, built once its tables
are filled; the incremental publish keeps them through its deletes and inserts (a night at 1M:
about 1 s more), and writes a table anew, its indexes built again, when over a quarter of its rows
would change in place (INDEXED_REWRITE_SHARE). The build database has none.

The Parquet copy is written to a new hidden generation folder and `parquet/` is a symbolic link
swapped atomically onto it; the previous generation is kept (a reader may be scanning it) and
older ones are removed.

Note for in-process readers: DuckDB caches a database per path inside one process, so
`duckdb.connect(path)` while another connection to the same path is open in that process returns
the old snapshot. `query()` avoids that by attaching the file to a fresh in-memory database.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from ct_pipeline.metadata.registry import load_registry
from ct_pipeline.metadata.types import duckdb_type
from ct_pipeline.processes import pid_alive
from ct_pipeline.settings import Settings
from ct_pipeline.warehouse.build import open_build
from ct_pipeline.warehouse.faults import pause_point
from ct_pipeline.warehouse.hashing import value_terms, xor_terms
from ct_pipeline.warehouse.tables import PARTITIONED_FACTS, col_list, existing_tables, warehouse_ddl

log = logging.getLogger(__name__)

PUBLISHED_ZONES = ("analyst", "public")
PARTITION = "registration_year"
ALL_ROWS = "*"
#: the unit a table is compared and rewritten in by the incremental publish: the facts by
#: registration year (as their Parquet), the staged rows and their version history by export
#: file (a night adds files and touches a few old ones: relinked persons, superseded versions),
#: every other table whole
CHANGE_UNIT = {**dict.fromkeys(PARTITIONED_FACTS, PARTITION),
               **dict.fromkeys(("stg_screenings", "stg_assistance", "fct_case_versions",
                                "fct_assistance_versions"), "source_file")}
#: the record's fingerprints are comparable only with those of the same version of this format
#: (3: row hashes combine their columns by XOR, not by a HUGEINT sum)
RECORD_FORMAT = 3
ALIAS = "ct_publish"
#: the lookup indexes' names: LOOKUP_PREFIX + table + "__" + column (others are not ours to drop)
LOOKUP_PREFIX = "lookup__"
#: a table with lookup indexes is written anew, its indexes then built in one pass, rather than
#: changed in place when the rows it would delete and insert, together, outnumber this share of
#: its rows: DuckDB keeps an ART index up row by row (measured: 1M rows deleted and inserted,
#: 55 s with the indexes, 4.8 s written anew); a night's 1% stays in place
INDEXED_REWRITE_SHARE = 0.25
VIEWS = ("warehouse_tables", "data_dictionary", "code_lists")


@dataclass
class PublishResult:
    path: Path
    tables: dict[str, int] = field(default_factory=dict)
    parquet_dir: Path | None = None
    seconds: float = 0.0
    #: started from a copy of the previous file (else the whole file was written)
    incremental: bool = False
    #: tables written (whole, or some of their partitions)
    rewritten: list[str] = field(default_factory=list)


def _q(text: str | None) -> str:
    return "NULL" if text is None else "'" + str(text).replace("'", "''") + "'"


def _cleanup_stale(warehouse_dir: Path, analyst_name: str) -> None:
    """Remove temporary files and folders left by a publish that was killed."""
    for p in warehouse_dir.glob(f"{analyst_name}.tmp-*"):
        pid = p.name.split(".tmp-")[1].split(".")[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            p.unlink(missing_ok=True)
    for p in warehouse_dir.glob(".parquet-new-*"):
        pid = p.name.rsplit("-", 1)[1]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(p, ignore_errors=True)
    for p in warehouse_dir.glob(".parquet-link-*"):
        pid = p.name.rsplit("-", 1)[1]
        if pid.isdigit() and not pid_alive(int(pid)):
            p.unlink(missing_ok=True)


def _fsync(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def published_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Registry tables of the analyst and public zones that the build database holds, in registry order."""
    reg = load_registry()
    have = existing_tables(con)
    return [n for n, t in reg.tables.items() if t.zone in PUBLISHED_ZONES and n in have]


# --- documentation views -----------------------------------------------------------------------
def _lit(v) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return _q(v)


def _values_view(name: str, columns: list[tuple[str, str, str]], rows: list[tuple], comment: str, order: str) -> str:
    """A view over literal rows; columns are (name, DuckDB type, description)."""
    select = ", ".join(f"CAST(c{i} AS {typ}) AS {col}" for i, (col, typ, _) in enumerate(columns))
    if rows:
        body = ",\n".join("(" + ", ".join(_lit(v) for v in row) + ")" for row in rows)
        names = ", ".join(f"c{i}" for i in range(len(columns)))
        source = f"(VALUES\n{body}\n) AS t({names})"
    else:
        source = "(SELECT " + ", ".join(f"NULL AS c{i}" for i in range(len(columns))) + " WHERE false) AS t"
    sql = [f"CREATE VIEW {name} AS SELECT {select} FROM {source} ORDER BY {order};",
           f"COMMENT ON VIEW {name} IS {_q(comment)};"]
    sql += [f"COMMENT ON COLUMN {name}.{c} IS {_q(d)};" for c, _, d in columns]
    return "\n".join(sql)


def _views_sql(tables: list[str], counts: dict[str, int]) -> str:
    reg = load_registry()
    wt = [
        (t, reg.tables[t].layer, reg.tables[t].zone, reg.tables[t].grain, reg.tables[t].description,
         ", ".join(reg.tables[t].primary_key), ", ".join(reg.tables[t].lookup_index) or None, counts[t])
        for t in tables
    ]
    dd = []
    for t in tables:
        pk = set(reg.tables[t].primary_key)
        for i, c in enumerate(reg.columns(t), start=1):
            f = c.field
            dd.append((t, c.name, i, duckdb_type(reg, t, c), c.nullable, c.name in pk, f.pii, f.codelist,
                       f.unit, f.description))
    cl = [(name, code.code, code.label, i)
          for name, lst in sorted(reg.codelists.items()) for i, code in enumerate(lst.codes, start=1)]
    return "\n".join([
        _values_view(
            "warehouse_tables",
            [("table_name", "VARCHAR", "Name of the table."), ("layer", "VARCHAR", "Layer of the pipeline the table belongs to (ledger, staging, core, mart, public, reference)."),
             ("zone", "VARCHAR", "Access zone of the table (analyst or public; restricted tables are never published)."),
             ("grain", "VARCHAR", "What one row of the table stands for."), ("description", "VARCHAR", "What the table holds."),
             ("primary_key", "VARCHAR", "Columns that identify a row, comma-separated (checked unique at load; not a DuckDB constraint)."),
             ("lookup_index", "VARCHAR", "Columns indexed for looking up one value (WHERE column = value), comma-separated."),
             ("row_count", "BIGINT", "Number of rows in this published snapshot.")],
            wt, "Every table of this published warehouse with its layer, grain, description, key, indexed lookup columns and row count.",
            "table_name",
        ),
        _values_view(
            "data_dictionary",
            [("table_name", "VARCHAR", "Table the column belongs to."), ("column_name", "VARCHAR", "Name of the column."),
             ("column_index", "BIGINT", "Position of the column in its table, 1 = first."),
             ("data_type", "VARCHAR", "DuckDB type of the column."), ("is_nullable", "BOOLEAN", "The column may be empty."),
             ("is_primary_key", "BOOLEAN", "The column is part of the table's primary key."),
             ("pii", "VARCHAR", "Privacy class of the field: quasi (identifies in combination), token (keyed pseudonym) or none."),
             ("codelist", "VARCHAR", "Code list the values come from (see the code_lists view), if any."),
             ("unit", "VARCHAR", "Unit of the values, if any."), ("description", "VARCHAR", "What the column means.")],
            dd, "Every column of every published table, from the field registry (ct_pipeline/metadata).",
            "table_name, column_index",
        ),
        _values_view(
            "code_lists",
            [("codelist", "VARCHAR", "Name of the code list."), ("code", "VARCHAR", "The code stored in the data."),
             ("code_label", "VARCHAR", "Readable English label of the code."), ("code_order", "BIGINT", "Position of the code in its list.")],
            cl, "The codes of every code list with their labels (countries: see dim_countries too).",
            "codelist, code_order",
        ),
    ])


# --- fingerprints (incremental publish) ----------------------------------------------------------
def row_hash(con: duckdb.DuckDBPyConnection, src_db: str, table: str) -> str:
    """SQL for a hash of a row (UBIGINT): one 64-bit hash per column (two for text;
    `hashing.value_terms`), combined by XOR (`hashing.xor_terms`; adding them up as HUGEINT, record
    format 2, took 6.6-7.0 s of CPU for the 1M warehouse's fingerprints, XOR 4.5-4.6 s). Not md5 of
    the row's text (the first incremental publish): that costs about 0.7 us a row, 18 s of CPU a
    night at a million cases, more than writing the tables."""
    types = dict(con.sql(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? AND schema_name = 'main' "
        "AND table_name = ?", params=[src_db, table]).fetchall())
    terms = []
    for c in col_list(table).split(", "):
        typ = types[c]
        nested = typ.endswith("]") or typ.startswith(("STRUCT", "MAP", "UNION"))
        value = f"CAST({c} AS VARCHAR)" if nested else c
        terms += value_terms(value, table, c, text=(nested or typ == "VARCHAR") and not c.endswith("_token"))
    return xor_terms(terms)


def table_fingerprints(con: duckdb.DuckDBPyConnection, src_db: str, tables: list[str]) -> dict[str, dict[str, str]]:
    """Per table, per change unit (see CHANGE_UNIT; ``*`` for a whole table): its DDL, row count
    and the sum of its rows' hashes (row_hash). Equal fingerprints: equal content."""
    out: dict[str, dict[str, str]] = {}
    for t in tables:
        ddl = hashlib.sha256(warehouse_ddl(t).encode()).hexdigest()[:16]
        unit = CHANGE_UNIT.get(t) or f"'{ALL_ROWS}'"
        # grouped by the unit's own value, cast to text per group (not per row)
        rows = con.sql(
            f"SELECT p::VARCHAR, n, h FROM (SELECT {unit} AS p, count(*) AS n, "
            f"coalesce(sum({row_hash(con, src_db, t)}), 0) AS h FROM {src_db}.main.{t} GROUP BY ALL)"
        ).fetchall()
        out[t] = {("NULL" if p is None else p): f"{ddl}:{n}:{h}" for p, n, h in rows}
        out[t].setdefault("", ddl)  # the table itself (an empty table still has its DDL)
    return out


def _record_path(settings: Settings) -> Path:
    return settings.analyst_db.with_name(f".{settings.analyst_db.name}.publish.json")


def _file_identity(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ino": st.st_ino}


def _previous(settings: Settings) -> dict | None:
    """The record of the last publish, if ct.duckdb is still the file it wrote."""
    rec, target = _record_path(settings), settings.analyst_db
    try:
        doc = json.loads(rec.read_text())
        if target.exists() and doc.get("file") == _file_identity(target) and doc.get("format") == RECORD_FORMAT:
            return doc
    except (OSError, ValueError):
        pass
    return None


def _rows(t: str, parts: list[str] | None) -> str:
    """A WHERE clause for the given change units of a table (None, or a table compared whole:
    every row)."""
    if parts is None or t not in CHANGE_UNIT:
        return ""
    unit = CHANGE_UNIT[t]
    values = [p for p in parts if p != "NULL"]
    conds = [f"{unit}::VARCHAR IN ({', '.join(_q(p) for p in values)})"] if values else []
    if "NULL" in parts:
        conds.append(f"{unit} IS NULL")
    return " WHERE " + " OR ".join(conds) if conds else " WHERE false"


def _changes(tables: list[str], new: dict, old: dict | None) -> dict[str, list[str] | None]:
    """Per table: None to create it anew (new, or its DDL changed), else the change units whose
    fingerprint changed (``*`` for a table compared whole; [] when unchanged)."""
    out: dict[str, list[str] | None] = {}
    for t in tables:
        before = (old or {}).get(t)
        if before is None or before.get("") != new[t][""]:
            out[t] = None
        else:
            out[t] = sorted(p for p in set(new[t]) | set(before) if p and new[t].get(p) != before.get(p))
    return out


# --- publish -----------------------------------------------------------------------------------
def _copy_parquet(con: duckdb.DuckDBPyConnection, src_db: str, t: str, target: Path, parts: list[str] | None) -> None:
    cols = col_list(t)
    if t in PARTITIONED_FACTS:
        con.execute(f"COPY (SELECT {cols} FROM {src_db}.main.{t}{_rows(t, parts)}) TO {_q(str(target / t))} "
                    f"(FORMAT parquet, PARTITION_BY ({PARTITION}), OVERWRITE_OR_IGNORE)")
    else:
        con.execute(f"COPY (SELECT {cols} FROM {src_db}.main.{t}) TO {_q(str(target / (t + '.parquet')))} "
                    "(FORMAT parquet)")


def _link_tree(src: Path, dst: Path) -> None:
    """Hard-link every file of src into dst (same filesystem: no data copied)."""
    for f in src.rglob("*"):
        if f.is_file():
            (dst / f.relative_to(src)).parent.mkdir(parents=True, exist_ok=True)
            os.link(f, dst / f.relative_to(src))


def _write_parquet(con: duckdb.DuckDBPyConnection, src_db: str, tables: list[str], target: Path,
                   changes: dict[str, list[str] | None] | None = None, previous: Path | None = None,
                   stop: threading.Event | None = None) -> None:
    """One Parquet generation: the dim_ and fct_ tables (facts partitioned by registration year).
    With `changes` and the `previous` generation, unchanged tables and partitions are hard-linked.
    `stop`: set by a publish that failed meanwhile (checked before each table: DuckDB drops an
    interrupt that arrives between two statements)."""
    target.mkdir(parents=True)
    for t in tables:
        if not (t.startswith("dim_") or t.startswith("fct_")):
            continue
        if stop is not None and stop.is_set():
            raise RuntimeError("publish: the Parquet generation was stopped (the publish failed)")
        parts = changes.get(t) if changes is not None and previous is not None else None
        old = previous / (t if t in PARTITIONED_FACTS else t + ".parquet") if previous is not None else None
        if parts is None or old is None or not old.exists() or (parts and t not in PARTITIONED_FACTS):
            _copy_parquet(con, src_db, t, target, None)
            continue
        if t not in PARTITIONED_FACTS:
            os.link(old, target / (t + ".parquet"))
            continue
        (target / t).mkdir()
        for d in old.iterdir():
            if d.name.split("=", 1)[-1] not in parts:
                _link_tree(d, target / t / d.name)
        if parts:
            _copy_parquet(con, src_db, t, target, parts)


def _swap_parquet(settings: Settings, new_generation: Path) -> str:
    """Point parquet/ at the new generation with an atomic symlink replace; keep one previous.
    Returns the generation's folder name (what the link points to)."""
    link = settings.parquet_dir
    final = link.parent / (".parquet-" + new_generation.name.split("new-", 1)[1])
    os.replace(new_generation, final)
    previous = Path(os.readlink(link)).name if link.is_symlink() else None
    if link.exists() and not link.is_symlink():  # a plain folder from before: move it aside once
        os.replace(link, link.parent / f".parquet-legacy-{time.time_ns()}")
    tmp_link = link.parent / f".parquet-link-{os.getpid()}"
    tmp_link.unlink(missing_ok=True)
    os.symlink(final.name, tmp_link)
    os.replace(tmp_link, link)
    _fsync(link.parent, directory=True)
    for old in link.parent.glob(".parquet-*"):
        if old.name not in (final.name, previous) and not old.name.startswith((".parquet-new-", ".parquet-link-")):
            shutil.rmtree(old, ignore_errors=True)
    return final.name


def _rewrite_table(con: duckdb.DuckDBPyConnection, src_db: str, t: str) -> None:
    """The table in the attached copy written anew from the build (its lookup indexes, dropped
    with it, are built again by `_lookup_indexes`)."""
    cols = col_list(t)
    con.execute(f"DROP TABLE IF EXISTS {ALIAS}.main.{t}")
    con.execute(warehouse_ddl(t))
    con.execute(f"INSERT INTO {ALIAS}.main.{t} ({cols}) SELECT {cols} FROM {src_db}.main.{t}")


def _replace_rows(con: duckdb.DuckDBPyConnection, src_db: str, t: str, parts: list[str], expected: tuple[int, int]) -> None:
    """Within the changed units of a table, delete the copy's rows that the build no longer has and
    insert the build's rows the copy lacks, matched by row hash: a night changes a few percent of
    the rows of a registration year, and writing only those keeps the COMMIT and the file small.
    `expected` is the build's (rows, hash sum) over those units; if the copy does not end with
    exactly that (duplicate rows, say), the units are rewritten whole instead. A table with lookup
    indexes whose rows would mostly be deleted and inserted (a key rotation, a full reload) is
    written anew instead (INDEXED_REWRITE_SHARE)."""
    where, cols = _rows(t, parts), col_list(t)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _publish_new AS SELECT rowid AS r, {row_hash(con, src_db, t)} AS h "
                f"FROM {src_db}.main.{t}{where}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _publish_old AS SELECT rowid AS r, {row_hash(con, ALIAS, t)} AS h "
                f"FROM {ALIAS}.main.{t}{where}")
    # each difference computed once (anti joins: a hash is never NULL, no NOT IN null handling)
    con.execute("CREATE OR REPLACE TEMP TABLE _publish_gone AS SELECT r, h FROM _publish_old o "
                "WHERE NOT EXISTS (SELECT 1 FROM _publish_new n WHERE n.h = o.h)")
    con.execute("CREATE OR REPLACE TEMP TABLE _publish_added AS SELECT r, h FROM _publish_new n "
                "WHERE NOT EXISTS (SELECT 1 FROM _publish_old o WHERE o.h = n.h)")
    try:
        # what the copy would hold: its rows, less the gone ones, plus the added ones
        n, h = con.sql(
            "SELECT sum(n)::BIGINT, coalesce(sum(h), 0) FROM ("
            "SELECT count(*) AS n, sum(h) AS h FROM _publish_old UNION ALL "
            "SELECT -count(*), -sum(h) FROM _publish_gone UNION ALL "
            "SELECT count(*), sum(h) FROM _publish_added)").fetchall()[0]
        matched = (n, h) == expected
        if load_registry().tables[t].lookup_index and _moved(con, matched) > \
                INDEXED_REWRITE_SHARE * con.sql(f"SELECT count(*) FROM {ALIAS}.main.{t}").fetchall()[0][0]:
            log.info("publish: %s: over a quarter of its rows changed; written anew, its lookup indexes built again", t)
            _rewrite_table(con, src_db, t)
        elif matched:
            con.execute(f"DELETE FROM {ALIAS}.main.{t} WHERE rowid IN (SELECT r FROM _publish_gone)")
            con.execute(f"INSERT INTO {ALIAS}.main.{t} ({cols}) SELECT {cols} FROM {src_db}.main.{t} WHERE rowid IN "
                        "(SELECT r FROM _publish_added)")
        else:
            log.info("publish: %s: rows not matched one to one by hash; %d unit(s) rewritten whole", t, len(parts))
            con.execute(f"DELETE FROM {ALIAS}.main.{t}{where}")
            con.execute(f"INSERT INTO {ALIAS}.main.{t} ({cols}) SELECT {cols} FROM {src_db}.main.{t}{where}")
    finally:
        con.execute(";".join(f"DROP TABLE IF EXISTS {x}" for x in ("_publish_new", "_publish_old", "_publish_gone",
                                                                     "_publish_added")))



def _moved(con: duckdb.DuckDBPyConnection, matched: bool) -> int:
    """The rows `_replace_rows` would delete and insert: the unmatched ones, or (when the rows
    were not matched one to one) every row of the changed units, on both sides."""
    tables = ("_publish_gone", "_publish_added") if matched else ("_publish_old", "_publish_new")
    return con.sql("SELECT " + " + ".join(f"(SELECT count(*) FROM {x})" for x in tables)).fetchall()[0][0]


def _lookup_indexes(con: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
    """In the attached new file: the registry's lookup indexes (`TableSpec.lookup_index`), built
    once its tables are filled (one bulk build, not an index kept up row by row through the
    copy). A table written anew lost its indexes with it; one changed in place kept them, DuckDB
    maintaining them through its deletes and inserts. An index of ours that the registry no
    longer declares is dropped."""
    reg = load_registry()
    want = {f"{LOOKUP_PREFIX}{t}__{c}": (t, c) for t in tables for c in reg.tables[t].lookup_index}
    have = {name for (name,) in con.sql(
        "SELECT index_name FROM duckdb_indexes() WHERE database_name = ? AND starts_with(index_name, ?)",
        params=[ALIAS, LOOKUP_PREFIX]).fetchall()}
    for name in sorted(have - want.keys()):
        con.execute(f"DROP INDEX {ALIAS}.main.{name}")
    for name in sorted(want.keys() - have):
        t, c = want[name]
        con.execute(f"CREATE INDEX {name} ON {ALIAS}.main.{t} ({c})")


def _replace_tables(con: duckdb.DuckDBPyConnection, src_db: str, tables: list[str],
                    changes: dict[str, list[str] | None], stale: set[str], fingerprints: dict) -> None:
    """In the attached copy of the last published file: drop what is no longer published and
    rewrite the changed tables and units."""
    for t in sorted(stale):
        con.execute(f"DROP TABLE IF EXISTS {ALIAS}.main.{t}")
    for t in tables:
        parts = changes[t]
        if parts == []:
            continue
        if parts is None:
            _rewrite_table(con, src_db, t)
            continue
        counted = [fingerprints[t][p].split(":")[1:] for p in parts if p in fingerprints[t]]
        expected = (sum(int(n) for n, _ in counted), sum(int(h) for _, h in counted))
        _replace_rows(con, src_db, t, parts, expected)


def publish(
    settings: Settings,
    con_or_build_path: duckdb.DuckDBPyConnection | str | Path,
    *,
    parquet: bool = True,
    incremental: bool = True,
) -> PublishResult:
    """Build a new analyst file from the build database and rename it over settings.analyst_db
    (from a copy of the last published file when `incremental` and that file is still ours)."""
    started = time.perf_counter()
    own = not isinstance(con_or_build_path, duckdb.DuckDBPyConnection)
    con = open_build(con_or_build_path) if own else con_or_build_path
    target = settings.analyst_db
    target.parent.mkdir(parents=True, exist_ok=True)
    _cleanup_stale(target.parent, target.name)
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    for p in (tmp, Path(str(tmp) + ".wal")):
        p.unlink(missing_ok=True)
    new_parquet = target.parent / f".parquet-new-{time.time_ns()}-{os.getpid()}"
    try:
        src_db = con.sql("SELECT current_database()").fetchall()[0][0]
        tables = published_tables(con)
        attached = False
        writing = parquet_con = None
        stop = threading.Event()
        try:
            # leaving the block waits for what runs beside (before a failure's clean-up removes files)
            with ThreadPoolExecutor(max_workers=1) as background:
                con.begin()  # one snapshot of the build database for the fingerprints and the copy
                try:
                    if parquet and tables:
                        # the Parquet generation reads the build on a second connection, in a read
                        # transaction of its own, while this one fills the analyst file (DuckDB writes
                        # a Parquet file, or inserts a table, on about one core, and the machine has
                        # two). Both snapshots are taken here, together (DuckDB takes one at a
                        # transaction's first read of a database): the same rows, whatever commits later.
                        parquet_con = con.cursor()
                        parquet_con.begin()
                        for c in (con, parquet_con):
                            c.execute(f"SELECT count(*) FROM {src_db}.main.{tables[0]}").fetchall()
                    previous = _previous(settings) if incremental else None
                    # the byte copy of the last file (I/O, ~1 s at 1M) runs while DuckDB hashes the build
                    copied = background.submit(shutil.copyfile, target, tmp) if previous is not None else None
                    fingerprints = table_fingerprints(con, src_db, tables)
                    if copied is not None:
                        copied.result()
                    old_parquet = None
                    if previous is not None:
                        gen = previous.get("parquet")
                        if gen and settings.parquet_dir.is_symlink() and os.readlink(settings.parquet_dir) == gen:
                            old_parquet = settings.parquet_dir.parent / gen
                    changes = _changes(tables, fingerprints, previous["tables"] if previous else None)
                    if parquet_con is not None:
                        writing = background.submit(_write_parquet, parquet_con, src_db, tables, new_parquet,
                                                    changes if old_parquet else None, old_parquet, stop)
                    con.execute(f"ATTACH {_q(str(tmp))} AS {ALIAS}")
                    attached = True
                    con.execute(f"USE {ALIAS}")
                    counts = {}
                    if previous is None:
                        for t in tables:
                            _rewrite_table(con, src_db, t)
                    else:
                        for v in VIEWS:
                            con.execute(f"DROP VIEW IF EXISTS {ALIAS}.main.{v}")
                        _replace_tables(con, src_db, tables, changes, existing_tables(con, ALIAS) - set(tables),
                                        fingerprints)
                    _lookup_indexes(con, tables)
                    for t in tables:
                        counts[t] = con.sql(f"SELECT count(*) FROM {ALIAS}.main.{t}").fetchall()[0][0]
                    con.execute(_views_sql(tables, counts))
                    pause_point("publish:copied")
                    if writing is not None and writing.done():
                        writing.result()  # a Parquet failure stops the publish before its COMMIT
                    con.execute(f"USE {src_db}")
                    con.commit()
                    con.execute(f"CHECKPOINT {ALIAS}")
                    if writing is not None:
                        writing.result()
                except BaseException:
                    stop.set()  # the Parquet generation stops at its next table, or now:
                    if parquet_con is not None:
                        parquet_con.interrupt()
                    with contextlib.suppress(duckdb.Error):  # after a failed CHECKPOINT nothing is open
                        con.execute(f"USE {src_db}")
                        con.rollback()
                    raise
                finally:
                    if attached:
                        con.execute(f"DETACH DATABASE IF EXISTS {ALIAS}")
        finally:  # after the executor's exit: nothing reads through it any more
            if parquet_con is not None:
                parquet_con.close()  # a read-only transaction: nothing to commit
        if Path(str(tmp) + ".wal").exists():
            raise RuntimeError("publish: the new file still has a write-ahead log after DETACH; not renamed")
        _fsync(tmp)
        pause_point("publish:replace")
        os.replace(tmp, target)
        _fsync(target.parent, directory=True)
        generation = None
        if parquet:
            generation = _swap_parquet(settings, new_parquet)
        record = {"format": RECORD_FORMAT, "file": _file_identity(target), "tables": fingerprints,
                  "parquet": generation}
        rec = _record_path(settings)
        rec.with_suffix(".tmp").write_text(json.dumps(record))
        os.replace(rec.with_suffix(".tmp"), rec)
    except BaseException:
        tmp.unlink(missing_ok=True)
        shutil.rmtree(new_parquet, ignore_errors=True)
        raise
    finally:
        if own:
            con.close()
    rewritten = [t for t, c in changes.items() if c != []]
    result = PublishResult(target, counts, settings.parquet_dir if parquet else None, time.perf_counter() - started,
                           previous is not None, rewritten)
    log.info("published %d tables to %s in %.2fs (%s; %d rewritten)", len(counts), target.name, result.seconds,
             "from the previous file" if previous is not None else "whole file", len(rewritten))
    return result


# --- query -------------------------------------------------------------------------------------
class QueryRefused(ValueError):
    """The statement would write, or is not a single query."""


_ALLOWED = {"SELECT", "EXPLAIN"}


def open_published(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published file: attached READ_ONLY to a private in-memory
    database (so an open connection elsewhere in this process never hands back an old snapshot),
    file access and configuration changes disabled."""
    path = settings.analyst_db
    if not path.exists():
        raise FileNotFoundError(f"no published warehouse at {path}: run the pipeline first (make demo)")
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH {_q(str(path))} AS ct (READ_ONLY)")
        con.execute("USE ct")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def query_frame(settings: Settings, sql: str) -> pl.DataFrame:
    con = open_published(settings)
    try:
        statements = con.extract_statements(sql)
        if len(statements) != 1:
            raise QueryRefused(f"give exactly one statement (got {len(statements)})")
        kind = statements[0].type.name
        if kind not in _ALLOWED:
            raise QueryRefused(f"the warehouse is read-only: {kind} statements are refused (SELECT and EXPLAIN only)")
        return con.sql(sql).pl()
    finally:
        con.close()


def format_frame(df: pl.DataFrame, fmt: str = "table") -> str:
    if fmt == "csv":
        flat = df.with_columns(
            [pl.col(c).cast(pl.List(pl.String)).list.join("|") for c, t in df.schema.items() if isinstance(t, pl.List)]
        )
        return flat.write_csv()
    if fmt == "json":
        return df.write_json()
    if fmt == "table":
        with pl.Config(tbl_rows=-1, tbl_cols=-1, fmt_str_lengths=200, fmt_table_cell_list_len=20,
                       tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=False):
            return str(df)
    raise ValueError(f"unknown format {fmt!r}: table, csv or json")


def query(settings: Settings, sql: str, fmt: str = "table") -> str:
    """Run one read-only statement against the published ct.duckdb; table, CSV or JSON text."""
    return format_frame(query_frame(settings, sql), fmt)
