"""The Great Expectations Data Docs the research unit reads open in a real browser (Debian's
headless Chromium), offline, and list the suites."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ct_pipeline.expectations import run_expectations
from tests.unit.analysis.star import build_warehouse

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-extensions",
         "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--virtual-time-budget=5000"]


def test_data_docs_open_in_headless_chromium(tmp_path):
    db = tmp_path / "wh.duckdb"
    build_warehouse(db, n_cases=600)
    con = duckdb.connect(str(db))
    docs = tmp_path / "reports" / "research_unit" / "data_docs"
    results = run_expectations(con, ["fct_cases", "dim_countries"], docs_dir=docs,
                               store_dir=tmp_path / "restricted" / "gx_store", today=date(2026, 11, 28))
    con.close()
    index = docs / "index.html"
    assert index.exists()
    dom = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", index.as_uri()],
        capture_output=True, text=True, timeout=180, check=True,
    ).stdout
    assert "fct_cases" in dom and "dim_countries" in dom, dom[:2000]
    shot = tmp_path / "data_docs.png"
    subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile2'}", f"--screenshot={shot}",
         "--window-size=1280,900", index.as_uri()],
        capture_output=True, timeout=180, check=True,
    )
    assert shot.exists() and shot.stat().st_size > 10_000
    assert set(results) >= {"fct_cases", "dim_countries"}
