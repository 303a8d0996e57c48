"""Benchmark: extraction + staging of an exports folder against the floor of reading every file once.

    python -m ct_pipeline.ingest.bench --exports DIR [--truth truth.csv] [--json]

Each phase runs in its own fresh process (peak RSS is per phase) after a warm-up pass that reads
every file's bytes, so both phases read from the page cache:

- floor: every file read once with the fastest reader available, per kind the faster of polars and
  DuckDB for CSV (all columns as text) and JSON Lines, python-calamine for XLSX (every sheet);
- pipeline: what `run_ingestion` does before writing to DuckDB: `stage_groups` extracts the files
  (in `default_workers()` worker processes when the set is large) and stages them, whole missions
  in batches. CPU time counts this process and its workers; peak RSS is the larger of the main
  process's and a worker's (both are printed).

Reports wall seconds, peak RSS (MiB), records, and the ratio pipeline / floor (target: <= 3).
With --truth, also checks the synthetic ground truth: every expected=quarantine record quarantined,
no clean/corrected/out_of_scope record quarantined.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path


def _files(root: Path) -> list[Path]:
    from ct_pipeline.ingest import scan_files

    return scan_files(root)


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _floor_polars_csv(paths: list[Path]) -> int:
    import polars as pl

    n = 0
    for p in paths:
        head = p.open("rb").readline()
        sep = ";" if head.count(b";") > head.count(b",") else ","
        try:
            n += pl.read_csv(p, separator=sep, infer_schema=False, encoding="utf8-lossy", truncate_ragged_lines=True).height
        except Exception:  # noqa: BLE001 - a file polars cannot read counts as read (floor favours the reader)
            pass
    return n


def _floor_duckdb_csv(paths: list[Path]) -> int:
    import duckdb

    con = duckdb.connect()
    n = 0
    for p in paths:
        head = p.open("rb").readline()
        sep = ";" if head.count(b";") > head.count(b",") else ","
        try:
            t = con.sql(
                f"SELECT * FROM read_csv('{p}', delim='{sep}', header=true, all_varchar=true, ignore_errors=true, "
                "encoding='latin-1')"
            ).to_arrow_table()
            n += t.num_rows
        except Exception:  # noqa: BLE001
            pass
    return n


def _floor_polars_jsonl(paths: list[Path]) -> int:
    import polars as pl

    n = 0
    for p in paths:
        try:
            n += pl.read_ndjson(p, infer_schema_length=None, ignore_errors=True).height
        except Exception:  # noqa: BLE001
            pass
    return n


def _floor_duckdb_jsonl(paths: list[Path]) -> int:
    import duckdb

    con = duckdb.connect()
    n = 0
    for p in paths:
        try:
            n += con.sql(
                f"SELECT * FROM read_json('{p}', format='newline_delimited', ignore_errors=true)"
            ).to_arrow_table().num_rows
        except Exception:  # noqa: BLE001
            pass
    return n


def _floor_xlsx(paths: list[Path]) -> int:
    import python_calamine as pc

    n = 0
    for p in paths:
        try:
            wb = pc.CalamineWorkbook.from_path(str(p))
            for name in wb.sheet_names:
                n += len(wb.get_sheet_by_name(name).to_python())
        except Exception:  # noqa: BLE001
            pass
    return n


def _timed(fn, paths):
    t, c = time.perf_counter(), time.process_time()
    n = fn(paths)
    return time.perf_counter() - t, n, time.process_time() - c


def floor_phase(root: str) -> dict:
    paths = _files(Path(root))
    kinds = {
        "csv": [p for p in paths if p.suffix.lower() in (".csv", ".txt")],
        "jsonl": [p for p in paths if p.suffix.lower() in (".jsonl", ".ndjson")],
        "xlsx": [p for p in paths if p.suffix.lower() == ".xlsx"],
    }
    out: dict = {"kinds": {}}
    total = 0.0
    cpu_best = 0.0
    for kind, readers in (
        ("csv", {"polars": _floor_polars_csv, "duckdb": _floor_duckdb_csv}),
        ("jsonl", {"polars": _floor_polars_jsonl, "duckdb": _floor_duckdb_jsonl}),
        ("xlsx", {"calamine": _floor_xlsx}),
    ):
        timings = {name: _timed(fn, kinds[kind]) for name, fn in readers.items()}
        best = min(timings, key=lambda k: timings[k][0])
        out["kinds"][kind] = {
            "files": len(kinds[kind]),
            "readers": {k: round(v[0], 2) for k, v in timings.items()},
            "best": best,
            "rows": timings[best][1],
            "best_cpu_seconds": round(timings[best][2], 2),
        }
        total += timings[best][0]
        cpu_best += timings[best][2]
    out["seconds"] = total
    out["cpu_seconds"] = cpu_best  # CPU time of the fastest reader of each kind
    out["peak_rss_mib"] = _rss_mib()
    return out


def pipeline_phase(root: str) -> dict:
    """What run_ingestion does before writing to DuckDB: extract and stage, one mission at a time."""
    import polars as pl

    from ct_pipeline.extract import FileRefused
    from ct_pipeline.extract.paths import parse_export_path
    from ct_pipeline.ingest import default_workers, stage_groups
    from ct_pipeline.metadata.registry import load_registry

    load_registry()  # registry parsing is start-up, not per-file work
    rootp = Path(root)
    items = []
    refused = 0
    c0 = time.process_time()
    t0 = time.perf_counter()
    for p in _files(rootp):
        try:
            items.append((p, parse_export_path(p, rootp)))
        except FileRefused:
            refused += 1
    totals = dict.fromkeys(("rows_read", "rows_staged", "rows_quarantined", "rows_duplicate"), 0)
    from ct_pipeline.pseudonymize.restricted import restricted_tmp_dir
    from ct_pipeline.settings import get_settings

    handoff_dir = restricted_tmp_dir(get_settings().restricted_dir)  # as run_ingestion hands batches over
    for g in stage_groups(items, rootp, handoff_dir=handoff_dir):  # extraction + staging, one mission at a time
        refused += sum(1 for o in g.outcomes if isinstance(o, Exception))
        q = pl.concat([*(e.quarantine for e in g.extracted.values()), g.staged.quarantine])
        totals["rows_read"] += sum(e.rows_read for e in g.extracted.values())
        totals["rows_staged"] += g.staged.typed_screenings.height + g.staged.typed_assistance.height
        totals["rows_quarantined"] += q.select("source_file", "form", "source_row").unique().height
        totals["rows_duplicate"] += g.staged.duplicates.height
        del g, q
    t2 = time.perf_counter()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the extraction workers, reaped
    return {
        "files": len(items) + refused,
        "refused": refused,
        **totals,
        "seconds": t2 - t0,
        "cpu_seconds": time.process_time() - c0 + children.ru_utime + children.ru_stime,
        "workers": default_workers(),
        "peak_rss_mib": max(_rss_mib(), children.ru_maxrss / 1024),
        "peak_rss_main_mib": _rss_mib(),
        "peak_rss_worker_mib": children.ru_maxrss / 1024,
    }


def truth_phase(root: str, truth: str) -> dict:
    import duckdb
    import polars as pl

    from ct_pipeline.ingest import run_ingestion
    from ct_pipeline.settings import get_settings

    settings = get_settings(raw_exports_dir=root, warehouse_dir=Path(truth).parent / "bench_warehouse")
    r = run_ingestion(settings, duckdb.connect(), progress=lambda _: None)
    return compare_with_truth(r, pl.read_csv(truth, infer_schema=False))


def compare_with_truth(result, truth) -> dict:
    """Outcome of every truth record against what the ingestion did with it."""
    import polars as pl

    seen = [f.source_file for f in result.files if f.file_status == "already_seen"]
    truth = truth.with_columns(pl.col("source_row").cast(pl.Int64)).filter(~pl.col("source_file").is_in(seen))
    got = pl.concat([
        result.typed_screenings.select("source_file", "source_row", pl.lit("screening").alias("form"), pl.lit("staged").alias("got")),
        result.typed_assistance.select("source_file", "source_row", pl.lit("assistance").alias("form"), pl.lit("staged").alias("got")),
        result.quarantine.select("source_file", "source_row", "form").unique().with_columns(pl.lit("quarantine").alias("got")),
        result.duplicates.select("source_file", "source_row", "form", pl.lit("duplicate").alias("got")),
    ])
    j = truth.join(got, on=["source_file", "source_row", "form"], how="full", coalesce=True)
    counts = {f"{e}->{g}": n for e, g, n in j.group_by("expected", "got").len().sort("expected", "got").iter_rows()}
    missed = j.filter((pl.col("expected") == "quarantine") & (pl.col("got") != "quarantine")).height
    wrongly = j.filter(pl.col("expected").is_in(["clean", "corrected", "out_of_scope"]) & (pl.col("got") == "quarantine")).height
    unmatched = j.filter(pl.col("expected").is_null() | pl.col("got").is_null()).height
    return {"outcomes": counts, "quarantine_missed": missed, "clean_quarantined": wrongly, "unmatched": unmatched,
            "files_already_seen": len(seen)}


def _child(fn, args, q):
    q.put(fn(*args))


def _in_fresh_process(fn, *args) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(fn, args, q))
    p.start()
    out = q.get()
    p.join()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ct_pipeline.ingest.bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--exports", required=True, type=Path, help="exports folder (<MISSION>/<date>/<file>)")
    ap.add_argument("--truth", type=Path, help="synthetic ground truth CSV: check the quarantine against it")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    root = str(args.exports.resolve())
    t = time.perf_counter()
    size = 0
    for p in _files(Path(root)):  # warm-up: everything in the page cache for both phases
        size += len(p.read_bytes())
    warm = time.perf_counter() - t
    floor = _in_fresh_process(floor_phase, root)
    pipe = _in_fresh_process(pipeline_phase, root)
    out = {
        "exports": root,
        "bytes": size,
        "warmup_read_seconds": round(warm, 2),
        "floor": floor,
        "pipeline": pipe,
        "ratio": round(pipe["seconds"] / floor["seconds"], 2) if floor["seconds"] else None,
        "cpu_ratio": round(pipe["cpu_seconds"] / floor["cpu_seconds"], 2) if floor["cpu_seconds"] else None,
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }
    if args.truth:
        out["truth"] = _in_fresh_process(truth_phase, root, str(args.truth.resolve()))
    if args.json:
        print(json.dumps(out, indent=2, default=str))
    else:
        print(f"exports: {root} ({size / 1e6:,.0f} MB, {pipe['files']} files, {pipe['rows_read']:,} records)")
        for kind, k in floor["kinds"].items():
            print(f"  floor {kind:5s}: {k['files']:5d} files, readers {k['readers']} -> {k['best']}")
        print(f"floor (fastest reader, every file once): {floor['seconds']:8.1f} s   peak RSS {floor['peak_rss_mib']:8.0f} MiB")
        print(
            f"extract + stage ({pipe['workers']} worker(s)):            {pipe['seconds']:8.1f} s   peak RSS "
            f"{pipe['peak_rss_main_mib']:5.0f} MiB main, {pipe['peak_rss_worker_mib']:5.0f} MiB per worker"
            f"   (cpu {pipe['cpu_seconds']:.1f} s vs floor cpu {floor['cpu_seconds']:.1f} s: {out['cpu_ratio']} x)"
        )
        print(f"ratio: {out['ratio']} x the floor (target <= 3); load average {out['load_average']}")
        print(
            f"records: read {pipe['rows_read']:,} = staged {pipe['rows_staged']:,} + quarantined "
            f"{pipe['rows_quarantined']:,} + duplicate {pipe['rows_duplicate']:,}; refused files {pipe['refused']}"
        )
        if "truth" in out:
            print("truth:", json.dumps(out["truth"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
