"""Benchmark of the synthetic generator: wall time and peak memory.

    python -m ct_pipeline.synth.bench --cases 1000000 [--out DIR] [--keep]

cpu_seconds adds user and system time of this process and its workers: on a shared machine it
tells more than the wall time (compare with the load average printed). Peak RSS is the larger of
this process's and its largest worker's (ru_maxrss of RUSAGE_SELF, RUSAGE_CHILDREN and, since the
workers fork from a fork server and so are not our children, the figures each worker reports);
their sum is printed too as an upper bound of the memory in use at once.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from ct_pipeline.synth import SynthConfig, generate


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None, help="folder (default: a temporary one, removed after)")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    args = ap.parse_args(argv)
    base = args.out or Path(tempfile.mkdtemp(prefix="ct_synth_bench_"))
    out, truth = base / "exports", base / "truth.csv"
    t0 = time.perf_counter()
    summary = generate(out, cases=args.cases, seed=args.seed, truth=truth, config=SynthConfig(workers=args.workers))
    wall = time.perf_counter() - t0
    ru_s = resource.getrusage(resource.RUSAGE_SELF)
    ru_c = resource.getrusage(resource.RUSAGE_CHILDREN)
    self_mb = ru_s.ru_maxrss / 1024
    child_mb = ru_c.ru_maxrss / 1024
    cpu = ru_s.ru_utime + ru_s.ru_stime + ru_c.ru_utime + ru_c.ru_stime
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    procs = summary["processes"]
    cpu += procs["cpu_seconds_workers"]  # workers fork from a fork server: not our children
    child_mb = max(child_mb, procs["peak_rss_mb_workers"])
    result = {
        "cases": summary["cases"],
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "load_average_1min": round(os.getloadavg()[0], 1),
        "timings": summary.get("timings"),
        "peak_rss_mb": round(max(self_mb, child_mb)),
        "peak_rss_self_mb": round(self_mb),
        "peak_rss_children_mb": round(child_mb),
        "peak_rss_sum_mb": round(self_mb + child_mb),
        "files": summary["files"],
        "records": summary["records"],
        "export_bytes": size,
        "truth_bytes": truth.stat().st_size,
    }
    print(json.dumps(result, indent=2))
    if not args.keep and args.out is None:
        shutil.rmtree(base, ignore_errors=True)
    return result


if __name__ == "__main__":
    main()
