"""Whole-pipeline benchmark (issue 8): `run_bench(cases, seed, out_dir, cache_dir, ...)`."""

from ct_pipeline.bench.suite import default_repeat, run_bench

__all__ = ["default_repeat", "run_bench"]
