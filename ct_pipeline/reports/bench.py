"""Benchmark of the analysis and publication steps on a realistic warehouse.

    python -m ct_pipeline.reports.bench --cases 15000 [--workdir DIR] [--no-png]

Builds the star schema with the warehouse's own loader from synthetic staged rows
(ct_pipeline.warehouse.synthetic; invented values only), then times: the marts, the pub_* tables
(cubes + secondary suppression), the disclosure check, the charts (figures + offline HTML), the
PNGs (kaleido + chromium, one browser session) and the whole donor-pack build of donors.example.yaml.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import tempfile
import time
from pathlib import Path

import duckdb


def run(cases: int, workdir: Path, *, png: bool = True, seed: int = 7) -> dict:
    from ct_pipeline.analysis import build_marts
    from ct_pipeline.charts import DONOR_CHARTS, Slice, release, write_html, write_pngs
    from ct_pipeline.disclosure import build_pub_tables, check_disclosure
    from ct_pipeline.reports import audiences, build_donor_packs, default_donors_file, load_donors
    from ct_pipeline.settings import get_settings
    from ct_pipeline.warehouse import load_core
    from ct_pipeline.warehouse.synthetic import insert_stg, synthetic_stg

    out: dict = {"cases_requested": cases}
    settings = get_settings(warehouse_dir=workdir / "warehouse")
    con = duckdb.connect(str(workdir / "build.duckdb"))

    def timed(name: str, fn):
        start, cpu = time.perf_counter(), time.process_time()
        result = fn()
        out[name] = {"wall_s": round(time.perf_counter() - start, 2), "cpu_s": round(time.process_time() - cpu, 2)}
        return result

    synth = timed("synthesise", lambda: synthetic_stg(cases, seed=seed))
    timed("stage+load_core", lambda: (insert_stg(con, synth.stg_screenings, synth.stg_assistance), load_core(con)))
    out["fct_cases"] = con.sql("SELECT count(*) FROM fct_cases").fetchall()[0][0]
    out["consented_cases"] = con.sql("SELECT count(*) FROM fct_cases WHERE has_research_consent").fetchall()[0][0]
    donors = default_donors_file()
    out["marts_rows"] = timed("marts", lambda: build_marts(con))
    pub = timed("pub_tables", lambda: build_pub_tables(con, audiences=audiences(load_donors(donors))))
    out["pub_cells"] = {k: v for k, v in pub.items() if not k.endswith(".suppressed")}
    out["pub_withheld"] = {k.removesuffix(".suppressed"): v for k, v in pub.items() if k.endswith(".suppressed")}
    out["disclosure_problems"] = len(timed("check_disclosure", lambda: check_disclosure(con)))

    rel = release(con)
    charts_dir = workdir / "charts"

    def figures():
        made = []
        for build in DONOR_CHARTS:
            c = build(con, Slice(), rel)
            write_html(c.figure, charts_dir / f"{c.name}.html", c.title)
            made.append(c)
        return made

    charts = timed("7 charts: figures + offline HTML", figures)
    if png:
        result = timed("7 charts: PNG (kaleido, one browser)",
                       lambda: write_pngs([(c.figure, charts_dir / f"{c.name}.png") for c in charts]))
        out["png"] = result.status
    packs = timed("donor packs (2 donors + research unit, PNG included)" if png else "donor packs (no PNG)",
                  lambda: build_donor_packs(con, settings, donors, dt.date.today(), png=png))
    out["packs"] = [str(p.relative_to(workdir)) for p in packs]
    out["pack_bytes"] = sum(f.stat().st_size for p in packs for f in p.iterdir())
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    con.close()
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=15_000)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--no-png", action="store_true")
    args = ap.parse_args(argv)
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        result = run(args.cases, args.workdir, png=not args.no_png)
    else:
        with tempfile.TemporaryDirectory(prefix="ct_reports_bench_") as tmp:
            result = run(args.cases, Path(tmp), png=not args.no_png)
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
