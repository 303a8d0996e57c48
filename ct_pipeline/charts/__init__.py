"""Charts of the published (pub_*) tables: one theme, offline HTML and PNG (kaleido + chromium)."""

from ct_pipeline.charts.data import Release, Slice, cells, release
from ct_pipeline.charts.figures import DONOR_CHARTS, Chart, quality_heatmap
from ct_pipeline.charts.render import PngResult, find_browser, write_html, write_pngs

__all__ = [
    "DONOR_CHARTS", "Chart", "PngResult", "Release", "Slice", "cells", "find_browser", "quality_heatmap",
    "release", "write_html", "write_pngs",
]
