"""A real browser: the donor report opens in Debian's headless Chromium, offline, with no console
error and no network request, and every chart is drawn (checked in the DOM and on a screenshot).

Chromium is driven over the DevTools protocol with a small websocket client (`websockets`).
Skipped, with the reason, only when no Chromium is installed (CI installs it)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import struct
import subprocess
import time
import urllib.request
import zlib
from pathlib import Path

import duckdb
import pytest

from ct_pipeline.charts.figures import DONOR_CHARTS
from ct_pipeline.reports import build_donor_packs
from ct_pipeline.settings import get_settings
from tests.unit.analysis.star import built_warehouse_file

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).exists()), None)
websockets = pytest.importorskip("websockets.sync.client", reason="the websockets package drives Chromium (CDP)")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-extensions", "--hide-scrollbars",
         "--mute-audio", "--remote-debugging-port=0", "--remote-allow-origins=*",
         # any attempt to reach the network fails loudly: the report must need none
         "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]


class Chrome:
    """Headless Chromium and one page, driven over the DevTools protocol."""

    def __init__(self, profile: Path):
        # a loaded 2-core CI machine can take long to start Chromium: wait, and try a second start
        for attempt in (1, 2):
            log_path = profile.parent / f"chromium-{attempt}.log"
            with open(log_path, "wb") as log:
                self.proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                             stdout=subprocess.DEVNULL, stderr=log)
            port_file = profile / "DevToolsActivePort"
            deadline = time.monotonic() + 90
            while not (port_file.exists() and port_file.read_text().strip()):
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    break
                time.sleep(0.05)
            if port_file.exists() and port_file.read_text().strip():
                break
            self.proc.kill()
            self.proc.wait()
            err = log_path.read_text(errors="replace")[-2000:]
            if attempt == 2:
                raise RuntimeError(f"Chromium did not open its DevTools port; its stderr ends:\n{err}")
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            page = next(t for t in json.load(r) if t["type"] == "page")
        self._conn = websockets.connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=10)
        self.ws = self._conn.__enter__()
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        for e in self.events:
            if e["method"] == method:
                return e
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == method:
                    return msg
        raise TimeoutError(method)

    def evaluate(self, expression: str):
        r = self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError(r["exceptionDetails"].get("text"))
        return r["result"].get("value")

    def close(self) -> None:
        try:
            self._conn.__exit__(None, None, None)
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _png_size_and_colours(data: bytes) -> tuple[int, int, int]:
    """Width, height and number of distinct colours (sampled) of an 8-bit RGB(A) PNG, stdlib only."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    colours, prev = set(), bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):  # undo the PNG filter of the row
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        if y % 7 == 0:
            colours.update(bytes(line[x:x + 3]) for x in range(0, stride, bpp * 5))
        prev = line
    return width, height, len(colours)


@pytest.fixture(scope="module")
def pack(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("browser")
    shutil.copy(built_warehouse_file(), tmp / "build.duckdb")  # star schema, marts, pub tables (k = 11)
    con = duckdb.connect(str(tmp / "build.duckdb"))
    donors = ROOT / "donors.example.yaml"
    settings = get_settings(warehouse_dir=tmp / "warehouse")
    packs = build_donor_packs(con, settings, donors, dt.date(2026, 11, 28), research_unit=False, png=False)
    con.close()
    return packs[0]


def test_donor_report_draws_every_chart_offline_without_console_errors(pack: Path, tmp_path: Path):
    report = pack / "report.html"
    assert report.exists()
    chrome = Chrome(tmp_path / "profile")
    try:
        for domain in ("Runtime", "Log", "Page", "Network"):
            chrome.send(f"{domain}.enable")
        chrome.send("Emulation.setDeviceMetricsOverride", width=1200, height=900, deviceScaleFactor=1, mobile=False)
        chrome.send("Page.navigate", url=report.as_uri())
        chrome.wait_event("Page.loadEventFired")
        drawn = chrome.evaluate("""
            new Promise(resolve => {
              const t0 = Date.now();
              const check = () => {
                const plots = [...document.querySelectorAll('.js-plotly-plot')];
                const ready = plots.length > 0 && plots.every(p => p._fullLayout && p.querySelector('.main-svg'));
                if (ready || Date.now() - t0 > 20000) resolve({
                  plots: plots.length,
                  ready: ready,
                  lines: document.querySelectorAll('.scatterlayer path.js-line').length,
                  bars: document.querySelectorAll('.barlayer path').length,
                  countries: document.querySelectorAll('path.choroplethlocation').length,
                  basemap: document.querySelectorAll('.geo .layer path').length,
                  sankey: document.querySelectorAll('.sankey-link').length,
                  titles: plots.map(p => (p.querySelector('.gtitle') || {}).textContent || ''),
                  footers: plots.filter(p => [...p.querySelectorAll('.annotation-text')]
                                     .some(a => a.textContent.includes('Data as of'))).length,
                });
                else setTimeout(check, 100);
              };
              check();
            })""")
        shot = base64.b64decode(chrome.send("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                                            clip={"x": 0, "y": 0, "width": 1200, "height": 2400, "scale": 0.25})["data"])
    finally:
        chrome.close()
    (pack.parent / "report_screenshot.png").write_bytes(shot)

    errors = [e for e in chrome.events if
              (e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert"))
              or e["method"] == "Runtime.exceptionThrown"
              or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]
    assert not errors, [json.dumps(e["params"])[:300] for e in errors]
    remote = [e["params"]["request"]["url"][:80] for e in chrome.events if e["method"] == "Network.requestWillBeSent"
              and not e["params"]["request"]["url"].startswith(("file:", "data:", "about:", "blob:"))]
    assert not remote, remote

    assert drawn["ready"] and drawn["plots"] == len(DONOR_CHARTS)
    assert drawn["lines"] > 0 and drawn["bars"] > 0 and drawn["sankey"] > 0
    assert drawn["countries"] > 0 and drawn["basemap"] > 0, "the map drew no country: geometry not available offline"
    assert all(t.strip() for t in drawn["titles"]) and drawn["footers"] == drawn["plots"]

    width, height, colours = _png_size_and_colours(shot)
    assert (width, height) == (300, 600)
    assert colours > 20, "the screenshot is (nearly) blank"
