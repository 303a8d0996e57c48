"""Warehouse benchmark: full load, incremental nightly load, publish, analyst query latency.

    python -m ct_pipeline.warehouse.bench --cases 1000000 [--workdir DIR] [--json OUT]

Staged frames are synthesised directly (ct_pipeline.warehouse.synthetic, vectorised; no export
files). Each measured phase runs in a fresh process so that its peak RSS is its own:

1. prepare   synthesise N cases (+ re-exports) and one night's drop (~1% of N: 0.7% new cases,
             0.2% changed, 0.1% re-sent unchanged); stage the base into a new build database
2. full      load_core on the staged base (wall, CPU, peak RSS)
3. check     reconcile (the blocking row-accounting check)
4. night     stage the drop (not timed: that is staging's cost), then load_core incrementally
5. publish   ct.duckdb + Parquet
6. query     p50/p95 of the yearly trend query (cases by registration year x exploitation type,
             unnesting the list) on the published file: on an open read-only connection, and
             through query() (new connection each time)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

TREND_SQL = """
SELECT registration_year, exploitation_type, count(*) AS cases
FROM (SELECT registration_year, unnest(exploitation_types) AS exploitation_type FROM fct_cases)
GROUP BY ALL ORDER BY ALL
"""


def _settings(workdir: str):
    from ct_pipeline.settings import get_settings

    return get_settings(warehouse_dir=Path(workdir) / "warehouse", raw_exports_dir=Path(workdir) / "raw")


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class _Clock:
    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall_s = round(time.perf_counter() - self.wall, 3)
        self.cpu_s = round(time.process_time() - self.cpu, 3)

    def report(self, out: dict) -> dict:
        return {**out, "wall_s": self.wall_s, "cpu_s": self.cpu_s, "peak_rss_mb": _peak_rss_mb()}


def _measured(name: str, *args) -> dict:
    """Run phase `name` in this (fresh) process and time it (imports excluded)."""
    import ct_pipeline.warehouse  # noqa: F401
    import ct_pipeline.warehouse.synthetic  # noqa: F401

    with _Clock() as clock:
        out = globals()[name](*args) or {}
    return clock.report(out) if "wall_s" not in out else out


def _phase_prepare(workdir: str, cases: int, seed: int) -> dict:
    from ct_pipeline.warehouse import connect_build
    from ct_pipeline.warehouse.synthetic import insert_stg, synthetic_night, synthetic_stg

    started = time.perf_counter()
    base = synthetic_stg(cases, seed=seed)
    night = synthetic_night(cases, n_new=max(1, cases * 7 // 1000), n_changed=max(1, cases * 2 // 1000),
                            n_unchanged=max(1, cases // 1000), seed=seed)
    generated = time.perf_counter() - started
    night.stg_screenings.write_parquet(Path(workdir) / "night_screenings.parquet")
    night.stg_assistance.write_parquet(Path(workdir) / "night_assistance.parquet")
    con = connect_build(_settings(workdir))
    insert_stg(con, base.stg_screenings, base.stg_assistance)
    con.execute("CHECKPOINT")
    con.close()
    return {"generate_s": round(generated, 2), "stg_screenings_rows": base.stg_screenings.height,
            "stg_assistance_rows": base.stg_assistance.height,
            "night_screenings_rows": night.stg_screenings.height,
            "night_assistance_rows": night.stg_assistance.height}


def _phase_full(workdir: str) -> dict:
    from ct_pipeline.warehouse import connect_build, load_core

    con = connect_build(_settings(workdir))
    r = load_core(con)
    con.close()  # includes the final checkpoint
    return {"mode": r.mode, "rows": r.row_counts}


def _phase_check(workdir: str) -> dict:
    from ct_pipeline.warehouse import assert_reconciled, connect_build

    con = connect_build(_settings(workdir))
    r = assert_reconciled(con)
    con.close()
    return {"screenings": {k: v for k, v in r["screenings"].items() if k != "ok"}}


def _phase_night(workdir: str) -> dict:
    import polars as pl

    from ct_pipeline.warehouse import connect_build, load_core
    from ct_pipeline.warehouse.synthetic import insert_stg

    con = connect_build(_settings(workdir))
    insert_stg(con, pl.read_parquet(Path(workdir) / "night_screenings.parquet"),
               pl.read_parquet(Path(workdir) / "night_assistance.parquet"))
    con.execute("CHECKPOINT")

    with _Clock() as clock:  # the load and the checkpoint at close, as in the full phase
        r = load_core(con)
        con.close()
    return clock.report({"mode": r.mode, "files_changed": r.files_changed, "cases_rebuilt": r.cases_rebuilt})


def _phase_publish(workdir: str) -> dict:
    from ct_pipeline.warehouse import connect_build, publish

    settings = _settings(workdir)
    con = connect_build(settings)
    publish(settings, con)
    con.close()
    return {"ct_duckdb_mb": round(settings.analyst_db.stat().st_size / 2**20, 1),
            "parquet_mb": round(sum(p.stat().st_size for p in settings.parquet_dir.rglob("*.parquet")) / 2**20, 1)}


def _percentiles(samples: list[float]) -> dict:
    s = sorted(samples)
    return {"p50_ms": round(statistics.median(s) * 1000, 1),
            "p95_ms": round(s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))] * 1000, 1), "runs": len(s)}


def _phase_query(workdir: str, runs: int) -> dict:
    import duckdb

    from ct_pipeline.warehouse import query_frame

    settings = _settings(workdir)
    con = duckdb.connect(str(settings.analyst_db), read_only=True)
    for _ in range(3):
        con.sql(TREND_SQL).fetchall()
    open_conn = []
    for _ in range(runs):
        t = time.perf_counter()
        rows = con.sql(TREND_SQL).fetchall()
        open_conn.append(time.perf_counter() - t)
    con.close()
    fresh = []
    for _ in range(runs):
        t = time.perf_counter()
        query_frame(settings, TREND_SQL)
        fresh.append(time.perf_counter() - t)
    return {"result_rows": len(rows), "open_connection": _percentiles(open_conn),
            "new_connection_each_query": _percentiles(fresh)}


def _in_fresh_process(name: str, *args) -> dict:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_measured, name, *args).result()


def run(cases: int, workdir: Path, *, seed: int = 7, query_runs: int = 30) -> dict:
    import duckdb
    import polars as pl

    workdir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(workdir / "warehouse", ignore_errors=True)
    w = str(workdir)
    result = {
        "cases": cases,
        "machine": {"cpus": os.cpu_count(), "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
                    "python": platform.python_version(), "duckdb": duckdb.__version__, "polars": pl.__version__,
                    "load_average_start": [round(x, 2) for x in os.getloadavg()]},
    }
    result["prepare"] = _in_fresh_process("_phase_prepare", w, cases, seed)
    result["full_load"] = _in_fresh_process("_phase_full", w)
    result["reconcile"] = _in_fresh_process("_phase_check", w)
    result["incremental_load"] = _in_fresh_process("_phase_night", w)
    result["publish"] = _in_fresh_process("_phase_publish", w)
    result["trend_query"] = _in_fresh_process("_phase_query", w, query_runs)
    full, incr = result["full_load"], result["incremental_load"]
    result["incremental_over_full"] = {"wall": round(incr["wall_s"] / full["wall_s"], 3),
                                       "cpu": round(incr["cpu_s"] / full["cpu_s"], 3)}
    result["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


def markdown(r: dict) -> str:
    f, i, p, q = r["full_load"], r["incremental_load"], r["publish"], r["trend_query"]
    rows = [
        ("full load (load_core, empty core)", f"{f['wall_s']:.2f} s", f"{f['cpu_s']:.2f} s", f"{f['peak_rss_mb']:.0f} MB"),
        (f"incremental load ({i['cases_rebuilt']} cases rebuilt)", f"{i['wall_s']:.2f} s", f"{i['cpu_s']:.2f} s",
         f"{i['peak_rss_mb']:.0f} MB"),
        ("incremental / full", f"{r['incremental_over_full']['wall']:.1%}", f"{r['incremental_over_full']['cpu']:.1%}", ""),
        ("reconcile (blocking check)", f"{r['reconcile']['wall_s']:.2f} s", f"{r['reconcile']['cpu_s']:.2f} s", ""),
        (f"publish (ct.duckdb {p['ct_duckdb_mb']} MB + Parquet {p['parquet_mb']} MB)", f"{p['wall_s']:.2f} s",
         f"{p['cpu_s']:.2f} s", f"{p['peak_rss_mb']:.0f} MB"),
        ("trend query, open connection p50 / p95", f"{q['open_connection']['p50_ms']} / {q['open_connection']['p95_ms']} ms", "", ""),
        ("trend query via query() p50 / p95", f"{q['new_connection_each_query']['p50_ms']} / "
         f"{q['new_connection_each_query']['p95_ms']} ms", "", ""),
    ]
    m = r["machine"]
    out = [f"Warehouse benchmark, {r['cases']:,} cases ({r['prepare']['stg_screenings_rows']:,} staged screenings, "
           f"{r['prepare']['stg_assistance_rows']:,} staged assistance rows); {m['cpus']} CPUs, {m['memory_gb']} GB, "
           f"DuckDB {m['duckdb']}, polars {m['polars']}; load average {m['load_average_start']} -> {m['load_average_end']}",
           "", "| step | wall | CPU | peak RSS |", "| --- | --- | --- | --- |"]
    out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workdir", type=Path, default=None, help="kept afterwards when given")
    ap.add_argument("--query-runs", type=int, default=30)
    ap.add_argument("--json", type=Path, default=None, help="also write the result as JSON here")
    args = ap.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ct_warehouse_bench_"))
    try:
        result = run(args.cases, workdir, seed=args.seed, query_runs=args.query_runs)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(markdown(result))


if __name__ == "__main__":
    main()
