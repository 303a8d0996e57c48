"""Donor chart packs and the research unit's data-quality pack, from the pub_* tables only.

`<reports_dir>/<donor>/<YYYY-MM-DD>/` holds report.html (the charts, the data vintage and the
suppression rule), one offline HTML and one PNG per chart, the CSV each chart draws, and
manifest.json (files with sha256, data vintage, k). A pack is built in a temporary folder and
renamed into place, so a reader never sees half a pack; a rebuild on the same day replaces it.
Nothing is written before `check_disclosure` passes on the published tables."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from ct_pipeline.charts import render
from ct_pipeline.charts.data import Release, Slice, release
from ct_pipeline.charts.figures import DONOR_CHARTS, Chart, quality_heatmap
from ct_pipeline.disclosure import DisclosureError, DisclosureProblem, check_disclosure
from ct_pipeline.disclosure.suppress import TOTAL
from ct_pipeline.reports.csvsafe import write_csv
from ct_pipeline.reports.donors import Donor, load_donors
from ct_pipeline.settings import Settings

log = logging.getLogger(__name__)

RESEARCH_UNIT = "research_unit"


@dataclass
class _Pack:
    name: str
    title: str
    final: Path
    tmp: Path
    charts: list[Chart] = field(default_factory=list)
    meta: dict = field(default_factory=dict)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _assert_threshold(chart: Chart, k: int) -> None:
    """Defence in depth: no count written out is between 1 and k - 1 (sums of published cells are >= k)."""
    if "value" in chart.data.columns:
        small = chart.data.filter((pl.col("value") > 0) & (pl.col("value") < k)).height
        if small:  # pragma: no cover - cannot happen after check_disclosure
            raise DisclosureError([DisclosureProblem(chart.name, "below_threshold", small, "a chart holds small counts")])


def _csv_frame(chart: Chart) -> pl.DataFrame:
    df = chart.data
    if "value" in df.columns:
        unit = "person_count" if chart.name in ("assistance_by_type", "gaf_assisted_persons") else "case_count"
        df = df.rename({"value": unit})
    return df


def _publishable_regions(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.sql(
        f"SELECT DISTINCT programme_region FROM pub_cases__type_yearly WHERE programme_region <> '{TOTAL}'").fetchall()}


def _start(reports_dir: Path, name: str, title: str, run_date: dt.date) -> _Pack:
    final = reports_dir / name / run_date.isoformat()
    tmp = reports_dir / name / f".{run_date.isoformat()}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    return _Pack(name, title, final, tmp)


def _swap(pack: _Pack) -> Path:
    old = pack.final.with_name(f".{pack.final.name}.old-{os.getpid()}")
    if pack.final.exists():
        pack.final.rename(old)
    pack.tmp.rename(pack.final)
    if old.exists():
        shutil.rmtree(old)
    return pack.final


def _report_html(pack: _Pack, rel: Release, scope: str, intro: str, png_status: str) -> str:
    sections = []
    for i, c in enumerate(pack.charts):
        sections.append(
            f'<h2 id="{c.name}">{i + 1}. {html.escape(c.title)}</h2>\n<div class="chart">'
            f"{render.figure_div(c.figure, f'chart-{c.name}')}</div>\n"
            f'<p class="meta">Files: <a href="{c.name}.html">{c.name}.html</a> (interactive, offline) · '
            f'<a href="{c.name}.png">{c.name}.png</a> · <a href="{c.name}.csv">{c.name}.csv</a> (the figures drawn)</p>'
        )
    body = f"""
<header>
<h1>{html.escape(pack.title)}</h1>
<p class="meta">{html.escape(scope)} · report of {pack.final.name} · data as of {rel.vintage}</p>
</header>
<p>{intro}</p>
<div class="note">
<p><strong>Data vintage.</strong> The figures include mission exports received up to {rel.vintage},
registration years {rel.first_period}–{rel.last_period}. Only cases whose person consented to the research use
of their anonymised data are counted.</p>
<p><strong>Disclosure control (k = {rel.k}).</strong> No figure in this report counts fewer than {rel.k}
persons or cases: smaller counts are withheld (left out of the charts, empty in the CSV files, with
<code>is_suppressed</code> true). So that a withheld count cannot be worked out from totals, other counts in
the same row, column, region, year or table are withheld as well (secondary suppression): every total that
contains a withheld count hides at least two, together at least {rel.k}. Totals shown are published counts,
or sums of published counts only (marked <code>is_partial</code>: lower bounds).</p>
<p class="meta">{html.escape(rel.method)}</p>
<p class="meta">PNG images: {html.escape(png_status)}</p>
</div>
{''.join(sections)}
"""
    geo = any(render.has_geo(c.figure) for c in pack.charts)
    return render.page(pack.title, body, geo=geo)


def _write_manifest(pack: _Pack, rel: Release, run_date: dt.date, extra: dict) -> None:
    files = []
    for p in sorted(pack.tmp.iterdir()):
        if p.is_file() and p.name != "manifest.json":
            files.append({"path": p.name, "sha256": _sha256(p), "bytes": p.stat().st_size})
    manifest = {
        "pack": pack.name, "title": pack.title, "run_date": run_date.isoformat(),
        "data_vintage": rel.vintage.isoformat(), "disclosure_k": rel.k,
        "registration_years": [rel.first_period, rel.last_period],
        "suppression_method": rel.method,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **extra, "files": files,
    }
    (pack.tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _write_charts(pack: _Pack, charts: list[Chart], k: int) -> list[tuple]:
    pngs = []
    for c in charts:
        _assert_threshold(c, k)
        render.write_html(c.figure, pack.tmp / f"{c.name}.html", c.title)
        write_csv(_csv_frame(c), pack.tmp / f"{c.name}.csv")
        pngs.append((c.figure, pack.tmp / f"{c.name}.png"))
    pack.charts = charts
    return pngs


def _gate(con: duckdb.DuckDBPyConnection, k: int) -> None:
    problems = check_disclosure(con, k)
    if problems:
        raise DisclosureError(problems)


def _research_charts(con: duckdb.DuckDBPyConnection, settings: Settings, rel: Release,
                     run_date: dt.date) -> tuple[_Pack, list[tuple]]:
    pack = _start(settings.reports_dir, RESEARCH_UNIT, "Data quality of the mission exports", run_date)
    return pack, _write_charts(pack, [quality_heatmap(con, rel)], rel.k)


def _finish_research(pack: _Pack, rel: Release, run_date: dt.date, png_status: str) -> Path:
    intro = ("Completeness of every optional field of the screening and assistance forms, by mission, over all "
             "registration years: the share of records in which the field is recorded. Missions with fewer "
             f"records than {rel.k} are left blank. The figures are percentages of all cases, research consent or not.")
    (pack.tmp / "report.html").write_text(
        _report_html(pack, rel, "All missions · all cases", intro, png_status), encoding="utf-8")
    _write_manifest(pack, rel, run_date, {"png": png_status, "charts": [c.name for c in pack.charts]})
    return _swap(pack)


def build_donor_packs(con: duckdb.DuckDBPyConnection, settings: Settings, donors_yaml: str | Path,
                      run_date: dt.date | None = None, *, research_unit: bool = True,
                      png: bool = True, browser: str | None = None) -> list[Path]:
    """One pack per donor of `donors_yaml` under settings.reports_dir/<donor>/<run_date>/, and (with
    `research_unit`) the research unit's data-quality pack, its path last. PNGs of every pack are
    rendered in one browser session (`png=False`: HTML and CSV only). Returns the pack folders.

    Refuses (DisclosureError) when the published tables fail the disclosure check."""
    run_date = run_date or dt.date.today()
    rel = release(con)
    _gate(con, rel.k)
    donors = load_donors(donors_yaml)
    known = _publishable_regions(con)
    packs: list[tuple[_Pack, Donor, Slice]] = []
    pngs: list[tuple] = []
    for donor in donors:
        sl = donor.filters.slice()
        unknown = sorted(set(sl.regions or ()) - known)
        if unknown:
            raise ValueError(f"donor {donor.name}: no published data for region(s) {unknown}; known: {sorted(known)}")
        pack = _start(settings.reports_dir, donor.name, donor.title, run_date)
        pngs += _write_charts(pack, [build(con, sl, rel) for build in DONOR_CHARTS], rel.k)
        packs.append((pack, donor, sl))
    research = None
    if research_unit:
        research, more = _research_charts(con, settings, rel, run_date)
        pngs += more
    png = render.write_pngs(pngs, browser=browser) if png else render.PngResult(skipped="not rendered (png=False)")
    out = []
    for pack, donor, sl in packs:
        scope = sl.describe(rel)
        intro = (f"Charts and tables for {html.escape(donor.title)}: trafficking cases registered by IOM missions, "
                 "the routes between countries and regions, and the assistance persons received. Each chart says "
                 "what it shows; its CSV file holds the published figures it draws.")
        (pack.tmp / "report.html").write_text(_report_html(pack, rel, scope, intro, png.status), encoding="utf-8")
        _write_manifest(pack, rel, run_date, {
            "filters": donor.filters.model_dump(mode="json"), "scope": scope, "png": png.status,
            "charts": [c.name for c in pack.charts],
        })
        out.append(_swap(pack))
        log.info("donor pack %s written: %s", donor.name, pack.final)
    if research is not None:
        out.append(_finish_research(research, rel, run_date, png.status))
    return out


def build_research_pack(con: duckdb.DuckDBPyConnection, settings: Settings, run_date: dt.date | None = None,
                        *, browser: str | None = None) -> Path:
    """The research unit's data-quality pack alone: completeness by mission × field (heatmap, CSV, report)."""
    run_date = run_date or dt.date.today()
    rel = release(con)
    _gate(con, rel.k)
    pack, pngs = _research_charts(con, settings, rel, run_date)
    png = render.write_pngs(pngs, browser=browser)
    return _finish_research(pack, rel, run_date, png.status)
