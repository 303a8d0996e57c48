"""One look for every chart: a Plotly template, a colour-blind-safe palette, titles that say what is
shown (with the scope as subtitle) and a footer with the source, the data vintage and the rule."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

TEMPLATE = "ct_pipeline"
FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#e4e7eb"
# Okabe-Ito, then greys: distinguishable with the common colour-vision deficiencies
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
           "#7B8794", "#3E4C59"]
SEQUENTIAL = ["#f0f4f8", "#bcccdc", "#829ab1", "#486581", "#243b53"]
FEMALE, MALE = "#CC79A7", "#0072B2"
WIDTH, HEIGHT = 960, 560
SOURCE = "Source: IOM counter-trafficking case data (mission exports), cases with research consent"


def _template() -> go.layout.Template:
    t = go.layout.Template(pio.templates["plotly_white"])
    t.layout.update(
        font=dict(family=FONT, size=13, color=INK),
        colorway=PALETTE,
        title=dict(x=0.0, xanchor="left", xref="paper", font=dict(size=19, color=INK)),
        margin=dict(l=70, r=30, t=95, b=125),
        paper_bgcolor="white", plot_bgcolor="white",
        xaxis=dict(gridcolor=GRID, zerolinecolor=GRID, linecolor=GRID, ticks="outside", tickcolor=GRID),
        yaxis=dict(gridcolor=GRID, zerolinecolor=GRID, linecolor=GRID, rangemode="tozero"),
        legend=dict(orientation="v", yanchor="top", y=1.0, xanchor="left", x=1.02, title_text="",
                    font=dict(size=12)),
        hoverlabel=dict(font=dict(family=FONT)),
        width=WIDTH, height=HEIGHT,
    )
    return t


pio.templates[TEMPLATE] = _template()


def footer_text(vintage, k: int, note: str | None = None, source: str = SOURCE) -> str:
    text = f"{source}. Data as of {vintage}.<br>Counts below {k} and cells that would reveal them are withheld."
    return text + (f" {note}" if note else "")


def style(fig: go.Figure, *, title: str, subtitle: str, footer: str) -> go.Figure:
    """Apply the theme, the title (what is shown), the subtitle (scope) and the footer."""
    fig.update_layout(
        template=TEMPLATE,
        title=dict(text=title, subtitle=dict(text=subtitle, font=dict(size=13, color=MUTED))),
    )
    if sum(1 for t in fig.data if t.type in ("scatter", "bar")) > 1:
        fig.update_layout(margin=dict(r=210))
    fig.add_annotation(
        text=footer, xref="paper", yref="paper", x=0, y=0, yshift=-70, xanchor="left", yanchor="top",
        showarrow=False, align="left", font=dict(size=11, color=MUTED),
    )
    return fig


def empty_note(fig: go.Figure, text: str = "No published figure for this selection (all cells withheld or none)") -> go.Figure:
    fig.add_annotation(text=text, xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False,
                       font=dict(size=14, color=MUTED))
    return fig
