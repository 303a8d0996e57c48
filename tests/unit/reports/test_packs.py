"""Donor packs: the folder, report, CSVs and manifest; formula-safe CSV; the donors file; a pack is
refused when the disclosure check fails; without a browser the HTML still appears."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from pathlib import Path

import polars as pl
import pytest
from pydantic import ValidationError

from ct_pipeline.charts import render
from ct_pipeline.disclosure import DisclosureError
from ct_pipeline.reports import (
    RESEARCH_UNIT,
    build_donor_packs,
    build_research_pack,
    load_donors,
    period_ranges,
    safe_text,
    write_csv,
)
from ct_pipeline.settings import get_settings

ROOT = Path(__file__).resolve().parents[3]
DONORS = ROOT / "donors.example.yaml"
DAY = dt.date(2026, 11, 28)


@pytest.fixture
def settings(tmp_path: Path):
    return get_settings(warehouse_dir=tmp_path / "warehouse")


def test_the_example_donors_file_has_a_gaf_and_a_regional_donor():
    donors = load_donors(DONORS)
    assert [d.name for d in donors] == ["gaf-programme", "asia-regional"]
    assert donors[0].filters.programme == "gaf" and donors[0].filters.years == (2001, 2026)
    assert donors[1].filters.regions == ["Asia"]
    assert period_ranges(donors) == [(2001, 2026)]


@pytest.mark.parametrize("doc, message", [
    ("donors: [{name: Bad Name, title: x y z}]", "name"),
    ("donors: [{name: a, title: abc, filters: {years: [2020, 2010]}}]", "first year is after the last"),
    ("donors: [{name: a, title: abc, filters: {colour: red}}]", "colour"),
    ("donors: [{name: a, title: abc}, {name: a, title: abc}]", "unique"),
    ("donors: [{name: a, title: abc, filters: {programme: other}}]", "programme"),
])
def test_a_bad_donors_file_is_refused(tmp_path: Path, doc: str, message: str):
    path = tmp_path / "donors.yaml"
    path.write_text(doc)
    with pytest.raises(ValidationError, match=message):
        load_donors(path)


def test_csv_cells_cannot_become_formulas(tmp_path: Path):
    for value in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert safe_text(value) == "'" + value
    assert safe_text("Asia") == "Asia" and safe_text(None) is None and safe_text("") == ""
    df = pl.DataFrame({"region": ["=HYPERLINK(\"x\")", "Asia", "-2+3"], "case_count": [12, None, -5]})
    rows = list(csv.reader(write_csv(df, tmp_path / "a.csv").open(encoding="utf-8")))
    assert rows[0] == ["region", "case_count"]
    assert rows[1][0].startswith("'=") and rows[2][0] == "Asia" and rows[3][0] == "'-2+3"
    assert rows[3][1] == "-5"  # numbers stay numbers


def test_donor_packs_are_written_with_report_csv_and_manifest(built, settings):
    packs = build_donor_packs(built, settings, DONORS, DAY, png=False)
    assert [p.relative_to(settings.reports_dir).as_posix() for p in packs] == [
        "gaf-programme/2026-11-28", "asia-regional/2026-11-28", f"{RESEARCH_UNIT}/2026-11-28"]
    rel = built.sql("SELECT data_vintage, disclosure_k FROM pub_release").fetchall()[0]
    for pack in packs:
        manifest = json.loads((pack / "manifest.json").read_text())
        assert manifest["data_vintage"] == rel[0].isoformat() and manifest["disclosure_k"] == rel[1] == 11
        listed = {f["path"] for f in manifest["files"]}
        on_disk = {p.name for p in pack.iterdir()} - {"manifest.json"}
        assert listed == on_disk
        for f in manifest["files"]:
            assert hashlib.sha256((pack / f["path"]).read_bytes()).hexdigest() == f["sha256"]
        report = (pack / "report.html").read_text(encoding="utf-8")
        assert f"data as of {rel[0]}" in report and "k = 11" in report and "secondary suppression" in report
        assert "research consent" in report or RESEARCH_UNIT in str(pack)
        for name in manifest["charts"]:
            assert {f"{name}.html", f"{name}.csv"} <= on_disk
            table = pl.read_csv(pack / f"{name}.csv", infer_schema_length=None)
            for col in ("case_count", "person_count"):
                if col in table.columns:
                    n = pl.col(col).cast(pl.Int64, strict=False)
                    assert table.filter((n > 0) & (n < 11)).is_empty(), (pack, name)
        assert not list(pack.parent.glob(".*")), "no temporary folder left behind"
    gaf = json.loads((packs[0] / "manifest.json").read_text())
    assert gaf["filters"] == {"regions": None, "years": [2001, 2026], "programme": "gaf"}
    assert len(gaf["charts"]) == 7 and "not rendered" in gaf["png"]


def test_rebuilding_a_pack_on_the_same_day_replaces_it(built, settings, tmp_path: Path):
    one = tmp_path / "donors.yaml"
    one.write_text("donors: [{name: asia, title: Asia donor, filters: {regions: [Asia]}}]")
    first = build_donor_packs(built, settings, one, DAY, png=False, research_unit=False)[0]
    (first / "stale.txt").write_text("left from an earlier build")
    again = build_donor_packs(built, settings, one, DAY, png=False, research_unit=False)[0]
    assert again == first and not (again / "stale.txt").exists()


def test_a_pack_is_refused_when_the_disclosure_check_fails(built, settings):
    built.execute("""UPDATE pub_cases__sex_age SET case_count = 2, is_suppressed = false
                     WHERE rowid = (SELECT min(rowid) FROM pub_cases__sex_age)""")
    with pytest.raises(DisclosureError, match="below_threshold"):
        build_donor_packs(built, settings, DONORS, DAY, png=False)
    assert not settings.reports_dir.exists()


def test_an_unknown_region_is_named(built, settings, tmp_path: Path):
    path = tmp_path / "donors.yaml"
    path.write_text("donors: [{name: x, title: xyz, filters: {regions: [Atlantis]}}]")
    with pytest.raises(ValueError, match="Atlantis"):
        build_donor_packs(built, settings, path, DAY, png=False)


def test_without_a_browser_the_html_still_appears_and_the_pack_says_why(built, settings, monkeypatch):
    monkeypatch.setattr(render, "find_browser", lambda: None)
    pack = build_research_pack(built, settings, DAY)
    manifest = json.loads((pack / "manifest.json").read_text())
    assert "no Chrome-family browser found" in manifest["png"]
    assert (pack / "quality_heatmap.html").exists() and not (pack / "quality_heatmap.png").exists()
    assert "no Chrome-family browser found" in (pack / "report.html").read_text(encoding="utf-8")
