"""python -m ct_pipeline.bench --cases N --seed S [--out bench] [--cache DIR] [--no-dagster] [--repeat N] ..."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ct_pipeline.settings import project_root


def main(argv: list[str] | None = None) -> int:
    from ct_pipeline.bench.suite import __doc__ as doc
    from ct_pipeline.bench.suite import default_repeat, run_bench

    ap = argparse.ArgumentParser(prog="python -m ct_pipeline.bench", description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=project_root() / "bench", help="results folder")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "ct_pipeline" / "bench",
                    help="synthetic exports (reused) and the run's warehouses")
    ap.add_argument("--no-dagster", action="store_true")
    ap.add_argument("--no-incremental", action="store_true")
    ap.add_argument("--charts", action="store_true", help="render PNG charts in build_reports (needs chromium)")
    ap.add_argument("--repeat", type=int, default=None, metavar="N",
                    help="end-to-end runs, each followed by a read of the floors (default: 3 up to 1M cases, else 1)")
    a = ap.parse_args(argv)
    res = run_bench(a.cases, a.seed, a.out, a.cache, dagster=not a.no_dagster,
                    incremental=not a.no_incremental, charts=a.charts,
                    repeat=a.repeat if a.repeat is not None else default_repeat(a.cases), log=lambda m: print(m, flush=True))
    return 1 if res.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
