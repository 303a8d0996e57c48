"""Charts read published cells only, carry no count below k, say what they show, work offline, and
render to PNG with Debian's chromium (or say clearly that they cannot)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import plotly.graph_objects as go
import pytest

from ct_pipeline.charts import (
    DONOR_CHARTS,
    Slice,
    cells,
    quality_heatmap,
    release,
    render,
    write_html,
    write_pngs,
)

K = 11
SLICES = [Slice(), Slice(programme="gaf", years=(2001, 2026)), Slice(regions=("Asia",)),
          Slice(regions=("Asia", "Africa"), years=(2005, 2015))]
CHROMIUM = render.find_browser()


def numbers(obj) -> list[float]:
    """Every number a figure's data carries (what anyone can read from its JSON)."""
    out = []
    if isinstance(obj, dict):
        for key, v in obj.items():
            if key in ("x", "y", "z", "value", "customdata"):
                out += [n for n in _flat(v) if isinstance(n, (int, float)) and not isinstance(n, bool)]
            else:
                out += numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            out += numbers(v)
    return out


def _flat(v):
    if isinstance(v, list):
        for x in v:
            yield from _flat(x)
    else:
        yield v


@pytest.mark.parametrize("sl", SLICES, ids=["all", "gaf", "asia", "two-regions"])
def test_every_chart_holds_only_published_counts(built, sl):
    rel = release(built)
    for build in DONOR_CHARTS:
        chart = build(built, sl, rel)
        data = chart.figure.to_plotly_json()["data"]
        # counts are whole numbers (node positions of the Sankey are fractions); years on x axes are not counts
        counts = [abs(n) for n in numbers(data) if float(n).is_integer() and n < 1900]
        assert all(n == 0 or n >= K for n in counts), (chart.name, sorted(n for n in counts if 0 < n < K))
        if "value" in chart.data.columns:
            small = chart.data.filter((chart.data["value"] > 0) & (chart.data["value"] < K))
            assert small.is_empty(), chart.name
        layout = chart.figure.layout
        assert layout.title.text and layout.title.subtitle.text
        footer = " ".join(a.text for a in layout.annotations)
        assert f"Data as of {rel.vintage}" in footer and f"Counts below {K}" in footer


def test_charts_read_pub_tables_only(built):
    with pytest.raises(ValueError, match="published cube tables only"):
        cells(built, "mart_cases__yearly", Slice(), ("sex",))
    with pytest.raises(ValueError):
        cells(built, "fct_cases", Slice(), ("sex",))


def test_a_slice_of_several_regions_adds_published_cells_and_says_so(built):
    rel = release(built)
    one = cells(built, "pub_cases__type_yearly", Slice(regions=("Asia",)), ("exploitation_type_code",), rel=rel)
    two = cells(built, "pub_cases__type_yearly", Slice(regions=("Asia", "Africa")), ("exploitation_type_code",), rel=rel)
    total_one = one.filter(one["exploitation_type_code"] == "total")["value"].item()
    total_two = two.filter(two["exploitation_type_code"] == "total")["value"].item()
    assert total_two >= total_one
    assert set(two.columns) >= {"value", "is_suppressed", "is_partial"}


def test_a_donor_year_span_is_read_as_one_published_period(built):
    rel = release(built)
    gaf = cells(built, "pub_cases__sex_age", Slice(programme="gaf", years=(2001, 2026)), ("sex_code", "age_band_code"), rel=rel)
    assert not gaf["is_partial"].any()  # 2001-2026 is published as one protected period


def test_html_is_self_contained_and_maps_need_no_network(built, tmp_path: Path):
    rel = release(built)
    for build in DONOR_CHARTS:
        chart = build(built, Slice(), rel)
        path = write_html(chart.figure, tmp_path / f"{chart.name}.html", chart.title)
        html = path.read_text(encoding="utf-8")
        assert "Plotly.newPlot" in html and len(html) > 3_000_000  # plotly.js inline
        assert not re.search(r"<script[^>]+src=", html), "no external script"
        assert "cdn.plot.ly" not in html.split("</script>")[-1]
        if chart.name == "exploitation_map":
            assert "window.PlotlyGeoAssets.topojson[\"world_110m\"]" in html
            assert json.loads(render.geo_assets_js().rsplit("] = ", 1)[-1].rstrip(";\n"))["objects"]["countries"]


def test_the_world_geometry_ships_with_the_package():
    topo = json.loads((render.GEO_DIR / "world_110m.json").read_text(encoding="utf-8"))
    ids = {g.get("id") for g in topo["objects"]["countries"]["geometries"]}
    assert {"THA", "RUS", "NGA", "BRA", "MDA"} <= ids
    assert (render.GEO_DIR / "README.md").exists()


def test_quality_heatmap_is_built_from_published_percentages(built):
    chart = quality_heatmap(built, release(built))
    z = [v for row in chart.figure.data[0].z for v in row if v is not None]
    assert z and all(0 <= v <= 100 for v in z)
    assert "all cases" in " ".join(a.text for a in chart.figure.layout.annotations)


def test_without_a_browser_png_is_skipped_with_a_clear_message(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(render, "find_browser", lambda: None)
    result = write_pngs([(go.Figure(go.Bar(x=[1], y=[20])), tmp_path / "a.png")])
    assert result.written == [] and "no Chrome-family browser found" in result.skipped
    assert "apt-get install chromium" in result.skipped and "HTML" in result.skipped
    assert not (tmp_path / "a.png").exists()


def test_a_browser_that_fails_is_reported_not_raised(tmp_path: Path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    result = write_pngs([(go.Figure(go.Bar(x=[1], y=[20])), tmp_path / "a.png")], browser=str(fake), timeout=20)
    assert result.skipped and "HTML" in result.skipped


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
def test_png_through_kaleido_and_chromium(built, tmp_path: Path):
    rel = release(built)
    charts = [build(built, Slice(), rel) for build in DONOR_CHARTS[:4]]  # line, pyramid, sankey, map
    items = [(c.figure, tmp_path / f"{c.name}.png") for c in charts]
    result = write_pngs(items)
    assert result.skipped is None, result.skipped
    for _, path in items:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    shutil.copy(items[3][1], tmp_path / "map_copy.png")


def test_a_png_that_fails_once_is_rendered_again_and_stale_files_do_not_count(monkeypatch, tmp_path: Path):
    import kaleido

    calls = []

    def fake_render(specs, kopts):  # as kaleido: every target touched first, a failed one deleted
        calls.append([Path(s["path"]).name for s in specs])
        for s in specs:
            Path(s["path"]).touch()
        for s in specs[:-1] if len(calls) == 1 else specs:  # the first session loses its last figure
            Path(s["path"]).write_bytes(b"\x89PNG" + b"0" * 100)
        if len(calls) == 1:
            Path(specs[-1]["path"]).unlink()
            return [TimeoutError()]
        return []

    monkeypatch.setattr(kaleido, "write_fig_from_object_sync", fake_render)
    items = [(go.Figure(go.Bar(x=[1], y=[20])), tmp_path / f"{n}.png") for n in ("a", "b", "c")]
    (tmp_path / "c.png").write_bytes(b"an earlier run's chart")  # at the path of the figure that fails
    result = write_pngs(items, browser="/bin/true")
    assert calls == [["a.png", "b.png", "c.png"], ["c.png"]]  # the failed one again, alone
    assert result.skipped is None and len(result.written) == 3

    calls.clear()  # a browser that renders nothing: the files of the run above do not count
    monkeypatch.setattr(kaleido, "write_fig_from_object_sync", lambda specs, kopts: calls.append(1) or [TimeoutError()])
    result = write_pngs(items, browser="/bin/true")
    assert len(calls) == 2 and result.written == [] and "0 of 3 written" in result.skipped
    assert not any(path.exists() for _, path in items)
