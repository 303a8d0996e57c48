"""The charts, each built only from published cells (`ct_pipeline.charts.data`).

Every builder takes a connection, a `Slice` and the `Release`, and returns a `Chart`: the figure and
the exact table it draws (written as CSV beside it). Withheld cells are never drawn as numbers:
lines have gaps, bars and links are left out, and the footer says so."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import duckdb
import plotly.graph_objects as go
import polars as pl

from ct_pipeline.charts import theme
from ct_pipeline.charts.data import Release, Slice, cells, quality_cells
from ct_pipeline.disclosure.suppress import NOT_RECORDED, TOTAL
from ct_pipeline.metadata.registry import load_registry


@dataclass
class Chart:
    name: str
    title: str
    figure: go.Figure
    data: pl.DataFrame


@cache
def labels(codelist: str) -> dict[str, str]:
    return {c.code: c.label for c in load_registry().codelists[codelist].codes}


@cache
def code_order(codelist: str) -> list[str]:
    return [c.code for c in load_registry().codelists[codelist].codes]


@cache
def countries() -> dict[str, dict[str, str]]:
    return {c["alpha2"]: c for c in load_registry().countries}


def _label(code: str, codelist: str) -> str:
    return {TOTAL: "All", NOT_RECORDED: "Not recorded"}.get(code) or labels(codelist).get(code, code)


def _partial_note(df: pl.DataFrame) -> str | None:
    if "is_partial" in df.columns and df["is_partial"].fill_null(False).any():
        return "Some figures add up published cells only (withheld cells excluded): they are lower bounds."
    return None


def _footer(rel: Release, *notes: str | None, source: str = theme.SOURCE) -> str:
    return theme.footer_text(rel.vintage, rel.k, " ".join(n for n in notes if n) or None, source=source)


def cases_by_type(con: duckdb.DuckDBPyConnection, sl: Slice, rel: Release) -> Chart:
    df = cells(con, "pub_cases__type_yearly", sl, ("exploitation_type_code",), yearly=True, rel=rel)
    title = "Cases registered per year, by type of exploitation"
    fig = go.Figure()
    order = [TOTAL, *code_order("exploitation_type")]
    for i, code in enumerate(c for c in order if c in set(df["exploitation_type_code"].to_list())):
        part = df.filter(pl.col("exploitation_type_code") == code).sort("period")
        fig.add_trace(go.Scatter(
            x=part["period"].to_list(), y=part["value"].to_list(), mode="lines+markers", connectgaps=False,
            name="All cases" if code == TOTAL else _label(code, "exploitation_type"),
            line=dict(color="#3E4C59" if code == TOTAL else theme.PALETTE[(i - 1) % len(theme.PALETTE)],
                      dash="dot" if code == TOTAL else "solid", width=2),
            hovertemplate="%{x}: %{y:,} cases<extra>%{fullData.name}</extra>",
        ))
    fig.update_layout(xaxis_title="Year of registration", yaxis_title="Cases", hovermode="x unified")
    if df.filter(~pl.col("is_suppressed")).is_empty():
        theme.empty_note(fig)
    theme.style(fig, title=title, subtitle=sl.describe(rel), footer=_footer(
        rel, "A case with several types of exploitation counts under each. Gaps: withheld cells.", _partial_note(df)))
    return Chart("cases_by_type", title, fig, df)


def sex_age_pyramid(con: duckdb.DuckDBPyConnection, sl: Slice, rel: Release) -> Chart:
    df = cells(con, "pub_cases__sex_age", sl, ("sex_code", "age_band_code"), rel=rel)
    title = "Cases by sex and age at identification"
    bands = code_order("age_band")
    fig = go.Figure()
    for sex, colour, sign in (("female", theme.FEMALE, -1), ("male", theme.MALE, 1)):
        part = df.filter((pl.col("sex_code") == sex) & pl.col("age_band_code").is_in(bands))
        values = dict(zip(part["age_band_code"].to_list(), part["value"].to_list(), strict=True))
        xs = [None if values.get(b) is None else sign * values[b] for b in bands]
        fig.add_trace(go.Bar(
            y=bands, x=xs, orientation="h", name=_label(sex, "sex"), marker_color=colour,
            customdata=[values.get(b) for b in bands],
            hovertemplate="%{y}: %{customdata:,} cases<extra>%{fullData.name}</extra>",
        ))
    peak = max([v for v in df.filter(pl.col("sex_code").is_in(["female", "male"])
                                     & pl.col("age_band_code").is_in(bands))["value"].drop_nulls().to_list()] or [1])
    ticks = _symmetric_ticks(peak)
    fig.update_layout(
        barmode="relative", bargap=0.08, yaxis_title="Age band (years)", xaxis_title="Cases",
        xaxis=dict(tickvals=[-t for t in ticks[::-1]] + ticks[1:], ticktext=[f"{t:,}" for t in ticks[::-1]] + [f"{t:,}" for t in ticks[1:]],
                   range=[-peak * 1.1, peak * 1.1]),
    )
    if df.filter(~pl.col("is_suppressed") & pl.col("sex_code").is_in(["female", "male"])).is_empty():
        theme.empty_note(fig)
    theme.style(fig, title=title, subtitle=sl.describe(rel) + " · women and girls left, men and boys right",
                footer=_footer(rel, "Other sex and unrecorded sex or age are not drawn. Missing bars: withheld cells.",
                               _partial_note(df)))
    return Chart("sex_age_pyramid", title, fig, df)


def _symmetric_ticks(peak: float) -> list[int]:
    step = max(1, int(round(peak / 4, -len(str(int(peak / 4))) + 1)) or 1)
    return list(range(0, int(peak * 1.1) + 1, step))[:6]


def routes_sankey(con: duckdb.DuckDBPyConnection, sl: Slice, rel: Release) -> Chart:
    df = cells(con, "pub_routes__regions", sl, ("origin_region", "transit_region", "exploitation_region"), rel=rel)
    title = "Routes: region of citizenship → region of first transit → region of exploitation"
    real = ~pl.col("origin_region").is_in([TOTAL, NOT_RECORDED])
    first = df.filter(real & (pl.col("transit_region") != TOTAL) & (pl.col("exploitation_region") == TOTAL)
                      & ~pl.col("is_suppressed") & (pl.col("value") > 0))
    second = df.filter((pl.col("origin_region") == TOTAL) & (pl.col("transit_region") != TOTAL)
                       & ~pl.col("exploitation_region").is_in([TOTAL, NOT_RECORDED])
                       & ~pl.col("is_suppressed") & (pl.col("value") > 0))
    nodes: list[str] = []
    colours: list[str] = []
    column: list[int] = []

    def node(label: str, colour: str, col: int) -> int:
        if label not in nodes:
            nodes.append(label)
            colours.append(colour)
            column.append(col)
        return nodes.index(label)

    def transit_label(t: str) -> str:
        return {"none": "No transit country recorded", NOT_RECORDED: "Transit, region unknown"}.get(t, f"Via {t}")

    src, dst, val = [], [], []
    for o, t, v in first.select("origin_region", "transit_region", "value").iter_rows():
        src.append(node(f"{o} (citizenship)", theme.PALETTE[0], 0))
        dst.append(node(transit_label(t), theme.PALETTE[8], 1))
        val.append(v)
    for t, e, v in second.select("transit_region", "exploitation_region", "value").iter_rows():
        src.append(node(transit_label(t), theme.PALETTE[8], 1))
        dst.append(node(f"{e} (exploitation)", theme.PALETTE[3], 2))
        val.append(v)
    # fixed columns (origin, transit, exploitation), even if a node has links on one side only
    xs = [(0.001, 0.5, 0.999)[c] for c in column]
    ys = [(sum(1 for d in column[:i] if d == c) + 0.5) / max(1, column.count(c)) for i, c in enumerate(column)]
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node=dict(label=nodes, color=colours, pad=18, thickness=16, line=dict(width=0), x=xs, y=ys),
        link=dict(source=src, target=dst, value=val, color="rgba(123,135,148,0.35)",
                  hovertemplate="%{source.label} → %{target.label}: %{value:,} cases<extra></extra>"),
    ))
    if not val:
        theme.empty_note(fig)
    theme.style(fig, title=title, subtitle=sl.describe(rel), footer=_footer(
        rel, "Each flow is a published cell; withheld flows are left out, so the two stages may not balance.",
        _partial_note(df)))
    return Chart("routes_sankey", title, fig, df)


def exploitation_map(con: duckdb.DuckDBPyConnection, sl: Slice, rel: Release) -> Chart:
    df = cells(con, "pub_routes__countries", sl, ("exploitation_region", "exploitation_country_code"), rel=rel)
    title = "Cases by country of exploitation"
    shown = df.filter(~pl.col("exploitation_country_code").is_in([TOTAL, NOT_RECORDED]) & ~pl.col("is_suppressed")
                      & (pl.col("value") > 0))
    names = countries()
    codes = [c for c in shown["exploitation_country_code"].to_list()]
    fig = go.Figure(go.Choropleth(
        locations=[names[c]["alpha3"] for c in codes if c in names],
        z=[v for c, v in zip(codes, shown["value"].to_list(), strict=True) if c in names],
        text=[names[c]["name"] for c in codes if c in names],
        locationmode="ISO-3", colorscale=theme.SEQUENTIAL, marker_line_color="white", marker_line_width=0.5,
        colorbar=dict(title=dict(text="Cases"), thickness=12),
        hovertemplate="%{text}: %{z:,} cases<extra></extra>",
    ))
    fig.update_geos(projection_type="natural earth", showcountries=True, countrycolor="#cbd2d9",
                    showcoastlines=False, showland=True, landcolor="#f5f7fa", showframe=False,
                    resolution=110, scope="world", projection_rotation_lon=0, center=dict(lon=0, lat=15),
                    lonaxis_range=[-180, 180], lataxis_range=[-58, 85])
    fig.update_layout(margin=dict(l=10, r=10))
    if shown.is_empty():
        theme.empty_note(fig)
    theme.style(fig, title=title, subtitle=sl.describe(rel), footer=_footer(
        rel, "Countries with withheld counts are not coloured.", _partial_note(df)))
    return Chart("exploitation_map", title, fig, df)


def top_corridors(con: duckdb.DuckDBPyConnection, sl: Slice, rel: Release, n: int = 15) -> Chart:
    df = cells(con, "pub_routes__countries", sl,
               ("origin_region", "origin_country_code", "exploitation_region", "exploitation_country_code"), rel=rel)
    title = "Corridors with the most cases: country of citizenship → country of exploitation"
    real = ~pl.col("origin_country_code").is_in([TOTAL, NOT_RECORDED]) & ~pl.col("exploitation_country_code").is_in(
        [TOTAL, NOT_RECORDED])
    top = (df.filter(real & ~pl.col("is_suppressed") & (pl.col("value") > 0))
           .sort(["value", "origin_country_code", "exploitation_country_code"], descending=[True, False, False])
           .head(n))
    names = countries()

    def name(c: str) -> str:
        return names.get(c, {}).get("name", c)

    ylab = [f"{name(o)} → {name(e)}" for o, e in top.select("origin_country_code", "exploitation_country_code").iter_rows()]
    fig = go.Figure(go.Bar(
        x=top["value"].to_list()[::-1], y=ylab[::-1], orientation="h", marker_color=theme.PALETTE[0],
        hovertemplate="%{y}: %{x:,} cases<extra></extra>",
    ))
    fig.update_layout(xaxis_title="Cases", yaxis=dict(automargin=True), margin=dict(l=10))
    if top.is_empty():
        theme.empty_note(fig)
    theme.style(fig, title=title, subtitle=f"{sl.describe(rel)} · top {n} published", footer=_footer(
        rel, "Only corridors with a published count are ranked.<br>A corridor within one country is domestic trafficking.",
        _partial_note(top)))
    return Chart("top_corridors", title, fig, top)


def assistance_by_type(con: duckdb.DuckDBPyConnection, sl: Slice, rel: Release) -> Chart:
    df = cells(con, "pub_assistance__type_yearly", sl, ("assistance_type_code",), yearly=True, rel=rel)
    title = "Persons assisted per year, by type of assistance"
    fig = go.Figure()
    present = set(df["assistance_type_code"].to_list())
    for i, code in enumerate(c for c in code_order("assistance_type") if c in present):
        part = df.filter(pl.col("assistance_type_code") == code).sort("period")
        fig.add_trace(go.Scatter(
            x=part["period"].to_list(), y=part["value"].to_list(), mode="lines+markers", connectgaps=False,
            name=_label(code, "assistance_type"), line=dict(color=theme.PALETTE[i % len(theme.PALETTE)], width=2),
            hovertemplate="%{x}: %{y:,} persons<extra>%{fullData.name}</extra>",
        ))
    fig.update_layout(xaxis_title="Year the assistance began", yaxis_title="Persons", hovermode="x unified")
    if df.filter(~pl.col("is_suppressed") & (pl.col("assistance_type_code") != TOTAL)).is_empty():
        theme.empty_note(fig)
    theme.style(fig, title=title, subtitle=sl.describe(rel), footer=_footer(
        rel, "A person receiving several types counts under each. Gaps: withheld cells.", _partial_note(df)))
    return Chart("assistance_by_type", title, fig, df)


def gaf_assisted_persons(con: duckdb.DuckDBPyConnection, sl: Slice, rel: Release) -> Chart:
    df = cells(con, "pub_assistance__type_yearly", sl, ("assistance_type_code",), yearly=True, programme="gaf", rel=rel)
    df = df.filter((pl.col("assistance_type_code") == TOTAL) & (pl.col("period") >= 2000)).drop("assistance_type_code")
    title = "Persons assisted by the Global Assistance Fund (GAF) per year"
    fig = go.Figure(go.Bar(
        x=df["period"].to_list(), y=df["value"].to_list(), marker_color=theme.PALETTE[2],
        hovertemplate="%{x}: %{y:,} persons<extra></extra>",
    ))
    fig.update_layout(xaxis_title="Year the assistance began", yaxis_title="Persons", bargap=0.25)
    if df.filter(~pl.col("is_suppressed")).is_empty():
        theme.empty_note(fig)
    theme.style(fig, title=title, subtitle=sl.describe(rel), footer=_footer(
        rel, "GAF was created in August 2000; episodes funded by it from then on. Missing bars: withheld cells.",
        _partial_note(df)))
    return Chart("gaf_assisted_persons", title, fig, df)


def quality_heatmap(con: duckdb.DuckDBPyConnection, rel: Release, period: str = TOTAL) -> Chart:
    df = quality_cells(con, period)
    span = f"{rel.first_period}–{rel.last_period}" if period == TOTAL else period
    title = "Completeness of case fields by mission (% of records where the field is recorded)"
    missions = sorted(set(df["mission_code"].to_list()))
    fields = list(dict.fromkeys(df["field_name"].to_list()))
    grid = {(m, f): v for m, f, v in df.select("mission_code", "field_name", "completeness_pct").iter_rows()}
    z = [[grid.get((m, f)) for f in fields] for m in missions]
    fig = go.Figure(go.Heatmap(
        z=z, x=fields, y=missions, zmin=0, zmax=100, colorscale=[[0, "#D55E00"], [0.5, "#F0E442"], [1, "#009E73"]],
        colorbar=dict(title=dict(text="%"), thickness=12), xgap=1, ygap=1,
        hovertemplate="%{y} · %{x}: %{z}%<extra></extra>",
    ))
    fig.update_layout(height=max(420, 260 + 22 * len(missions)), xaxis=dict(tickangle=-40, side="bottom", type="category"),
                      yaxis=dict(autorange="reversed", type="category", dtick=1), margin=dict(b=200))
    if not missions:
        theme.empty_note(fig)
    theme.style(fig, title=title, subtitle=f"All missions · registration years {span} · all cases",
                footer=_footer(rel, "Blank: fewer records than the threshold were measured (withheld).",
                               source="Source: IOM counter-trafficking case data (mission exports), all cases")
                ).update_annotations(selector=dict(yshift=-70), yshift=-150)
    return Chart("quality_heatmap", title, fig, df)


#: the donor charts, in report order
DONOR_CHARTS: tuple[Callable[[duckdb.DuckDBPyConnection, Slice, Release], Chart], ...] = (
    cases_by_type, sex_age_pyramid, routes_sankey, exploitation_map, top_corridors, assistance_by_type,
    gaf_assisted_persons,
)
