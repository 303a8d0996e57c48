"""Write charts as self-contained HTML (plotly.js and the world map embedded: opens offline) and as
PNG through kaleido and a Chrome-family browser (Debian's chromium).

Maps: plotly.js fetches its world geometry from a CDN at draw time. We ship that geometry
(`geo/world_110m.json`, see its README) and pre-load it as `window.PlotlyGeoAssets`, which plotly.js
consults before fetching, both in the HTML and in kaleido's page, so nothing touches the network.

No browser: `write_pngs` writes nothing, says why (log and return value) and the HTML stays."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

log = logging.getLogger(__name__)

GEO_DIR = Path(__file__).parent / "geo"
TOPOJSON_NAME = "world_110m"
CONFIG = {"displaylogo": False, "responsive": True, "toImageButtonOptions": {"format": "png", "scale": 2}}
BROWSER_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PNG_SCALE = 2


@cache
def geo_assets_js() -> str:
    """JavaScript that hands plotly.js the world geometry so that maps never fetch it."""
    topo = json.loads((GEO_DIR / f"{TOPOJSON_NAME}.json").read_text(encoding="utf-8"))
    return (
        "window.PlotlyGeoAssets = window.PlotlyGeoAssets || {topojson: {}};\n"
        "window.PlotlyGeoAssets.topojson = window.PlotlyGeoAssets.topojson || {};\n"
        f"window.PlotlyGeoAssets.topojson[{json.dumps(TOPOJSON_NAME)}] = "
        + json.dumps(topo, separators=(",", ":")) + ";\n"
    )


def has_geo(fig: go.Figure) -> bool:
    return any(t.type in ("choropleth", "scattergeo") for t in fig.data)


def figure_div(fig: go.Figure, div_id: str) -> str:
    """The figure as an HTML fragment, without plotly.js (the page carries it once)."""
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=CONFIG)


def write_html(fig: go.Figure, path: Path, title: str) -> Path:
    """A standalone page: plotly.js inline (include_plotlyjs=True) and, for maps, the geometry."""
    html = fig.to_html(full_html=True, include_plotlyjs=True, config=CONFIG, div_id=path.stem)
    head = f'<meta charset="utf-8"><title>{_escape(title)}</title>'
    if has_geo(fig):
        head += f"<script>{geo_assets_js()}</script>"
    html = html.replace("<head>", "<head>" + head, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


def page(title: str, body: str, *, geo: bool = True) -> str:
    """An offline HTML page with plotly.js (and the world geometry) inline and the given body."""
    geo_script = f"<script>{geo_assets_js()}</script>" if geo else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{_escape(title)}</title>\n<script type=\"text/javascript\">{get_plotlyjs()}</script>\n{geo_script}\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


_CSS = """
body { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; color: #1f2933; margin: 0 auto;
       max-width: 1040px; padding: 24px 32px 64px; line-height: 1.5; }
h1 { font-size: 26px; margin-bottom: 4px; } h2 { font-size: 19px; margin-top: 40px; }
.meta { color: #616e7c; margin-top: 0; } .chart { margin: 8px 0 8px; }
.note { background: #f5f7fa; border-left: 4px solid #0072B2; padding: 10px 16px; }
table.files { border-collapse: collapse; font-size: 13px; } table.files td { padding: 2px 12px 2px 0; }
"""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def find_browser() -> str | None:
    """A Chrome-family browser for kaleido: $CT_CHROMIUM, $BROWSER_PATH, Debian's /usr/bin/chromium,
    or chromium / google-chrome on PATH."""
    for env in ("CT_CHROMIUM", "BROWSER_PATH"):
        value = os.environ.get(env)
        if value and (Path(value).is_file() or shutil.which(value)):
            return str(Path(value)) if Path(value).is_file() else shutil.which(value)
    for cand in BROWSER_CANDIDATES:
        found = cand if Path(cand).is_file() else shutil.which(cand)
        if found and os.access(found, os.X_OK):
            return found
    return None


NO_BROWSER = ("PNG charts skipped: no Chrome-family browser found (looked at $CT_CHROMIUM, $BROWSER_PATH, "
              "/usr/bin/chromium and chromium on PATH). Install Debian's chromium (apt-get install chromium) "
              "to get PNGs; the HTML charts were written and work offline.")


@dataclass
class PngResult:
    written: list[Path] = field(default_factory=list)
    skipped: str | None = None
    seconds: float = 0.0
    browser: str | None = None

    @property
    def status(self) -> str:
        return self.skipped or f"written ({len(self.written)} files in {self.seconds:.1f} s with {self.browser})"


def _written(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0


def write_pngs(items: list[tuple[go.Figure, Path]], *, browser: str | None = None, scale: int = PNG_SCALE,
               tabs: int = 2, timeout: float = 120) -> PngResult:
    """Render figures to PNG in one browser session. Never raises for a missing or failing browser:
    the result says what happened (and it is logged)."""
    browser = browser or find_browser()
    if not items:
        return PngResult(browser=browser)
    if browser is None:
        log.warning(NO_BROWSER)
        return PngResult(skipped=NO_BROWSER)
    try:
        import kaleido
    except ImportError:  # pragma: no cover - kaleido is a dependency
        msg = "PNG charts skipped: the kaleido package is not installed; the HTML charts were written."
        log.warning(msg)
        return PngResult(skipped=msg)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ct_kaleido_") as tmp:
        geo_js = Path(tmp) / "geo_assets.js"
        geo_js.write_text(geo_assets_js(), encoding="utf-8")
        specs = []
        for fig, path in items:
            path.parent.mkdir(parents=True, exist_ok=True)
            opts = {"format": "png", "scale": scale, "width": fig.layout.width or 960, "height": fig.layout.height or 560}
            specs.append({"fig": fig, "path": str(path), "opts": opts})
        errors: list = []
        # a figure that fails once (a tab timing out on a machine busy with other work: seen in CI
        # with one of four charts) is tried again, alone, in a fresh browser session
        todo = specs
        for attempt in range(2):
            for sp in todo:  # a file of an earlier run is not this run's chart
                Path(sp["path"]).unlink(missing_ok=True)
            try:
                generator = kaleido.PageGenerator(mathjax=False, others=[str(geo_js)])
                errors = kaleido.write_fig_from_object_sync(
                    todo, kopts={"path": browser, "page_generator": generator,
                                 "n": 1 if attempt else max(1, min(tabs, len(todo))), "timeout": timeout},
                ) or []
            except Exception as exc:  # a browser that will not start, a crash: report, keep the HTML
                msg = (f"PNG charts skipped: rendering with {browser} failed ({type(exc).__name__}); "
                       "the HTML charts were written.")
                log.warning("%s %s", msg, exc)
                return PngResult(skipped=msg, browser=browser, seconds=time.perf_counter() - start)
            if errors:
                log.info("PNG charts: %d of %d failed on attempt %d (%s)", len(errors), len(todo), attempt + 1,
                         ", ".join(sorted({type(e).__name__ for e in errors})))
            todo = [sp for sp in todo if not _written(Path(sp["path"]))]
            if not todo:
                break
    written = [p for _, p in items if _written(p)]
    result = PngResult(written=written, browser=browser, seconds=time.perf_counter() - start)
    if len(written) < len(items):
        result.skipped = (f"PNG charts incomplete: {len(written)} of {len(items)} written with {browser}; "
                          "the HTML charts were written.")
        log.warning(result.skipped)
    return result
