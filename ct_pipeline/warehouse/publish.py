"""Publish the analyst warehouse (ct.duckdb + Parquet) from the build database, and query it.

Publishing never writes the file analysts read: it builds `ct.duckdb.tmp-<pid>` next to it
(same filesystem), copies only the registry's analyst- and public-zone tables (DDL and
COMMENT ON generated from the registry, then INSERT … SELECT in one read transaction of the
build database, so every table comes from the same snapshot), adds the `warehouse_tables`,
`data_dictionary` and `code_lists` views, checkpoints, detaches, fsyncs and renames it over
`ct.duckdb` (atomic). A reader that has the old file open keeps reading the old inode; a new
connection opens the new file. Restricted tables (raw_*, quarantine, vault …) are never copied:
the list comes from the registry, not from what the build database holds.

The Parquet copy is written to a new hidden generation folder and `parquet/` is a symbolic link
swapped atomically onto it; the previous generation is kept (a reader may be scanning it) and
older ones are removed.

Note for in-process readers: DuckDB caches a database per path inside one process, so
`duckdb.connect(path)` while another connection to the same path is open in that process returns
the old snapshot. `query()` avoids that by attaching the file to a fresh in-memory database.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from ct_pipeline.metadata.registry import load_registry
from ct_pipeline.metadata.types import duckdb_type
from ct_pipeline.settings import Settings
from ct_pipeline.warehouse.build import open_build
from ct_pipeline.warehouse.faults import pause_point
from ct_pipeline.warehouse.tables import PARTITIONED_FACTS, col_list, existing_tables, warehouse_ddl

log = logging.getLogger(__name__)

PUBLISHED_ZONES = ("analyst", "public")
ALIAS = "ct_publish"
VIEWS = ("warehouse_tables", "data_dictionary", "code_lists")


@dataclass
class PublishResult:
    path: Path
    tables: dict[str, int] = field(default_factory=dict)
    parquet_dir: Path | None = None
    seconds: float = 0.0


def _q(text: str | None) -> str:
    return "NULL" if text is None else "'" + str(text).replace("'", "''") + "'"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cleanup_stale(warehouse_dir: Path, analyst_name: str) -> None:
    """Remove temporary files and folders left by a publish that was killed."""
    for p in warehouse_dir.glob(f"{analyst_name}.tmp-*"):
        pid = p.name.split(".tmp-")[1].split(".")[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            p.unlink(missing_ok=True)
    for p in warehouse_dir.glob(".parquet-new-*"):
        pid = p.name.rsplit("-", 1)[1]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(p, ignore_errors=True)
    for p in warehouse_dir.glob(".parquet-link-*"):
        pid = p.name.rsplit("-", 1)[1]
        if pid.isdigit() and not _pid_alive(int(pid)):
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
         ", ".join(reg.tables[t].primary_key), counts[t])
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
             ("primary_key", "VARCHAR", "Columns that identify a row, comma-separated (checked unique at load; no index)."),
             ("row_count", "BIGINT", "Number of rows in this published snapshot.")],
            wt, "Every table of this published warehouse with its layer, grain, description, key and row count.",
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


# --- publish -----------------------------------------------------------------------------------
def _write_parquet(con: duckdb.DuckDBPyConnection, src_db: str, tables: list[str], target: Path) -> None:
    target.mkdir(parents=True)
    for t in tables:
        if not (t.startswith("dim_") or t.startswith("fct_")):
            continue
        cols = col_list(t)
        if t in PARTITIONED_FACTS:
            con.execute(
                f"COPY (SELECT {cols} FROM {src_db}.main.{t}) TO {_q(str(target / t))} "
                "(FORMAT parquet, PARTITION_BY (registration_year))"
            )
        else:
            con.execute(f"COPY (SELECT {cols} FROM {src_db}.main.{t}) TO {_q(str(target / (t + '.parquet')))} "
                        "(FORMAT parquet)")


def _swap_parquet(settings: Settings, new_generation: Path) -> None:
    """Point parquet/ at the new generation with an atomic symlink replace; keep one previous."""
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


def publish(
    settings: Settings,
    con_or_build_path: duckdb.DuckDBPyConnection | str | Path,
    *,
    parquet: bool = True,
) -> PublishResult:
    """Build a new analyst file from the build database and rename it over settings.analyst_db."""
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
        con.execute(f"ATTACH {_q(str(tmp))} AS {ALIAS}")
        try:
            con.begin()
            try:
                con.execute(f"USE {ALIAS}")
                counts = {}
                for t in tables:
                    cols = col_list(t)
                    con.execute(warehouse_ddl(t))
                    con.execute(f"INSERT INTO {ALIAS}.main.{t} ({cols}) SELECT {cols} FROM {src_db}.main.{t}")
                    counts[t] = con.sql(f"SELECT count(*) FROM {ALIAS}.main.{t}").fetchall()[0][0]
                con.execute(_views_sql(tables, counts))
                pause_point("publish:copied")
                if parquet:
                    _write_parquet(con, src_db, tables, new_parquet)
                con.execute(f"USE {src_db}")
                con.commit()
            except BaseException:
                con.rollback()
                con.execute(f"USE {src_db}")
                raise
            con.execute(f"CHECKPOINT {ALIAS}")
        finally:
            con.execute(f"DETACH DATABASE IF EXISTS {ALIAS}")
        if Path(str(tmp) + ".wal").exists():
            raise RuntimeError("publish: the new file still has a write-ahead log after DETACH; not renamed")
        _fsync(tmp)
        pause_point("publish:replace")
        os.replace(tmp, target)
        _fsync(target.parent, directory=True)
        if parquet:
            _swap_parquet(settings, new_parquet)
    except BaseException:
        tmp.unlink(missing_ok=True)
        shutil.rmtree(new_parquet, ignore_errors=True)
        raise
    finally:
        if own:
            con.close()
    result = PublishResult(target, counts, settings.parquet_dir if parquet else None, time.perf_counter() - started)
    log.info("published %d tables to %s in %.2fs", len(counts), target.name, result.seconds)
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
