"""Measure pseudonymisation speed and linkage quality (synthetic data only).

    python -m ct_pipeline.pseudonymize.bench synth  [--cases N] [--seed 1] [--workdir DIR]
        default demo data of ct_pipeline.synth (exports + ground truth) → extract → stage →
        pseudonymize (with linkage) → pairwise precision / recall against the truth's person_id, and
        the true pairs not linked counted by what the two records have to go on
    python -m ct_pipeline.pseudonymize.bench variants [--persons 500000] [--seed 1]
        ct_pipeline.pseudonymize.variants: persons registered several times with spelling variants
        (about 2.2 records per person), for the 1M-record timing

Prints counts, seconds and quality figures only (never a record value).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import polars as pl

from ct_pipeline.pseudonymize.keys import generate_key
from ct_pipeline.pseudonymize.linkage import link_persons
from ct_pipeline.pseudonymize.quality import measure_linkage, missed_pairs
from ct_pipeline.pseudonymize.tokens import identities_frame, pseudonymize


def _typed_from_synth(workdir: Path, cases: int | None, seed: int) -> tuple[pl.DataFrame, pl.DataFrame, Path]:
    from ct_pipeline.extract import extract_file
    from ct_pipeline.ingest import scan_files
    from ct_pipeline.stage import stage
    from ct_pipeline.synth import generate

    exports, truth = workdir / "exports", workdir / "truth.csv"
    cache_s, cache_a = workdir / "typed_screenings.parquet", workdir / "typed_assistance.parquet"
    if cache_s.exists() and cache_a.exists() and truth.exists():
        return pl.read_parquet(cache_s), pl.read_parquet(cache_a), truth
    t = time.perf_counter()
    summary = generate(exports, cases=cases, seed=seed, truth=truth)
    print(f"synth: {summary['cases']} cases, {summary['persons']} persons, {summary['records']} in {time.perf_counter() - t:.0f}s")
    t = time.perf_counter()
    scr, ass, refused = [], [], 0
    for p in scan_files(exports):
        try:
            e = extract_file(p, exports)
        except Exception:  # refused files are part of the test bed
            refused += 1
            continue
        scr.append(e.screenings)
        ass.append(e.assistance)
    staged = stage(pl.concat(scr, how="vertical_relaxed"), pl.concat(ass, how="vertical_relaxed"))
    print(f"extract + stage: {staged.typed_screenings.height} screenings, {staged.typed_assistance.height} "
          f"assistance, {refused} files refused, in {time.perf_counter() - t:.0f}s")  # fmt: skip
    staged.typed_screenings.write_parquet(cache_s)
    staged.typed_assistance.write_parquet(cache_a)
    return staged.typed_screenings, staged.typed_assistance, truth


def bench_synth(workdir: Path, cases: int | None, seed: int, threshold: float) -> None:
    from ct_pipeline.pseudonymize.tokens import StgValidationError

    s, a, truth = _typed_from_synth(workdir, cases, seed)
    key = generate_key("bench")
    t = time.perf_counter()
    ids = identities_frame(s, key)
    print(f"tokens for {s.height} screening records in {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    try:
        pseudonymize(s, a, key, link=False)
        print(f"pseudonymize without linkage: {s.height} + {a.height} records in {time.perf_counter() - t:.1f}s")
    except StgValidationError as e:  # e.g. cases registered before 1999 (staged as out of scope)
        print(f"pseudonymize: {e}")
    t = time.perf_counter()
    links, model = link_persons(ids, restricted_dir=workdir / "restricted", threshold=threshold, return_model=True)
    print(f"linkage: {model.records} records, {model.candidate_pairs} candidate pairs, {model.linked_pairs} links, "
          f"{model.refused_merges} merges refused, {model.persons} persons in {time.perf_counter() - t:.1f}s "
          f"{ {k: round(v, 1) for k, v in model.seconds.items()} }")  # fmt: skip
    print("linkage quality vs ground truth:", measure_linkage(truth, links))
    exact = ids.select("source_file", "source_row", pl.col("identity_token").alias("person_token"))
    print("exact tokens only (no linkage):  ", measure_linkage(truth, exact))
    with pl.Config(tbl_rows=40, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        print("true pairs not linked, by what the two records have to go on (counts only):")
        print(missed_pairs(truth, links, ids))


def bench_variants(persons: int, seed: int, threshold: float, workdir: Path) -> None:
    from ct_pipeline.pseudonymize.variants import synthetic_assistance, synthetic_screenings

    t = time.perf_counter()
    s, truth = synthetic_screenings(persons, seed=seed)
    a = synthetic_assistance(s.head(min(s.height, 200_000)), seed=seed)
    print(f"generated {s.height} screenings for {persons} persons in {time.perf_counter() - t:.0f}s")
    key = generate_key("bench")
    t = time.perf_counter()
    ids = identities_frame(s, key)
    print(f"tokens (case + identity) for {s.height} records in {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    out = pseudonymize(s, a, key, link=False)
    print(f"pseudonymize without linkage ({s.height} + {a.height} records, validated) in {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    links, model = link_persons(ids, restricted_dir=workdir / "restricted", threshold=threshold, return_model=True)
    print(f"linkage: {model.records} records, {model.candidate_pairs} candidate pairs, {model.linked_pairs} links, "
          f"{model.persons} persons in {time.perf_counter() - t:.1f}s { {k: round(v, 1) for k, v in model.seconds.items()} }")  # fmt: skip
    print("linkage quality vs ground truth:", measure_linkage(truth, links))
    del out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m ct_pipeline.pseudonymize.bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = ap.add_subparsers(dest="what", required=True)
    sp = sub.add_parser("synth")
    sp.add_argument("--cases", type=int, default=None, help="default: the synth's calibrated default (~100k)")
    sp.add_argument("--seed", type=int, default=1)
    sp.add_argument("--workdir", type=Path, default=None, help="kept for re-runs (typed frames cached)")
    sp.add_argument("--threshold", type=float, default=None)
    vp = sub.add_parser("variants")
    vp.add_argument("--persons", type=int, default=500_000)
    vp.add_argument("--seed", type=int, default=1)
    vp.add_argument("--threshold", type=float, default=None)
    args = ap.parse_args(argv)
    from ct_pipeline.pseudonymize.linkage import DEFAULT_THRESHOLD

    threshold = args.threshold if args.threshold is not None else DEFAULT_THRESHOLD
    if args.what == "synth":
        workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ct_bench_"))
        workdir.mkdir(parents=True, exist_ok=True)
        bench_synth(workdir, args.cases, args.seed, threshold)
    else:
        with tempfile.TemporaryDirectory(prefix="ct_bench_") as d:
            bench_variants(args.persons, args.seed, threshold, Path(d))


if __name__ == "__main__":
    main()
