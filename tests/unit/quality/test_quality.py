"""Per-mission data-quality reports: content, no identifying value, safe CSV."""

from __future__ import annotations

import csv
import datetime as dt
import json

import duckdb
import pytest

from ct_pipeline.ingest import run_ingestion
from ct_pipeline.quality import compress_rows, safe_cell, write_quality_reports
from ct_pipeline.settings import get_settings
from tests.fixtures.bad_inputs import builders as b

CANARY = "Zyxwvut Canary"  # an invented identifying value that must never appear in a report


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("q")
    exports = tmp / "raw_exports"
    recs = [b.legacy_screening(i, full_name=f"{CANARY} {i}") for i in range(1, 6)]
    recs[1]["citizenship"] = CANARY  # unknown country: quarantined with the canary as raw value
    recs[2]["narrative"] = "=HYPERLINK(\"http://evil\")"
    recs[3]["sex"] = "=1+1"
    b.write_legacy(b.export_path(exports, "scr.csv"), "screening", recs)
    b.write_legacy(b.export_path(exports, "ast.csv"), "assistance", [b.legacy_assistance(1)])
    b.write_jsonl(b.export_path(exports, "c.jsonl", mission="UA-KYIV"),
                  [b.jsonl_case(1), "{" + CANARY, b.jsonl_case(2)])
    (exports / "UA-KYIV" / "2024-03-01" / "=cmd.csv").write_bytes(b"")
    (exports / "loose.csv").write_bytes(b"x")
    con = duckdb.connect()
    run_ingestion(get_settings(raw_exports_dir=exports, warehouse_dir=tmp / "wh"), con)
    paths = write_quality_reports(con, tmp / "reports", generated=dt.datetime(2026, 11, 28, 12, 0))
    return con, paths


def test_one_html_and_two_csv_per_mission(reports):
    _, paths = reports
    names = sorted(p.name for p in paths)
    assert names == sorted(
        f"{m}{s}" for m in ("MD-CHI", "UA-KYIV", "UNSORTED") for s in (".html", "_quality.csv", "_quarantined_rows.csv")
    )


def test_no_identifying_value_anywhere(reports):
    con, paths = reports
    assert con.execute("select count(*) from quarantine where raw_value like ?", [f"%{CANARY}%"]).fetchall()[0][0] == 2
    for p in paths:
        text = p.read_text(encoding="utf-8")
        assert CANARY not in text, p.name
        assert "CHI-0001" not in text and "HYPERLINK" not in text


def test_html_is_self_contained(reports):
    _, paths = reports
    html = next(p for p in paths if p.name == "MD-CHI.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower() and "http://" not in html and "https://" not in html
    assert "<style>" in html and "citizenship" in html and "code_known" in html
    assert "MD-CHI/2024-03-01/scr.csv" in html


def test_csv_content_and_formula_safety(reports):
    _, paths = reports
    rows = list(csv.DictReader(next(p for p in paths if p.name == "MD-CHI_quality.csv").open(encoding="utf-8")))
    files = {r["source_file"]: r for r in rows if r["section"] == "file"}
    scr = files["MD-CHI/2024-03-01/scr.csv"]
    assert (scr["rows_read"], scr["rows_staged"], scr["rows_quarantined"]) == ("5", "3", "2")
    q = [r for r in rows if r["section"] == "quarantine"]
    assert {(r["field_name"], r["rule"]) for r in q} == {("citizenship", "code_known"), ("sex", "code_known")}
    assert any(r["section"] == "completeness" and r["field_name"] == "sex" for r in rows)
    ua = list(csv.reader(next(p for p in paths if p.name == "UA-KYIV_quality.csv").open(encoding="utf-8")))
    cells = [c for r in ua for c in r]
    assert "'=cmd.csv" not in cells  # the path is not at the cell start...
    assert all(not c.startswith(("=", "+", "-", "@")) for c in cells)
    per_row = list(csv.DictReader(next(p for p in paths if p.name == "UA-KYIV_quarantined_rows.csv").open(encoding="utf-8")))
    assert [(r["source_row"], r["field_name"], r["rule"]) for r in per_row] == [("2", "(whole record)", "json_parse")]


def test_refusals_are_explained(reports):
    _, paths = reports
    rows = list(csv.DictReader(next(p for p in paths if p.name == "UNSORTED_quality.csv").open(encoding="utf-8")))
    assert rows[0]["file_status"] == "refused" and "folder layout" in rows[0]["detail"]


def test_helpers():
    assert compress_rows([5, 1, 2, 3, 9, 10, 3]) == "1-3, 5, 9-10"
    assert safe_cell("=SUM(A1)") == "'=SUM(A1)" and safe_cell("-2") == "'-2" and safe_cell(3) == 3
    assert safe_cell("@x") == "'@x" and safe_cell("plain") == "plain"
    json.dumps([safe_cell("\tx")])


def test_csv_is_written_as_the_csv_module_with_safe_cells_wrote_it(tmp_path):
    # _write_csv writes with polars: the bytes must stay those of csv.writer + safe_cell per cell
    import datetime as dt
    import io

    import polars as pl

    from ct_pipeline.quality import _write_csv

    schema = {"text": pl.String, "day": pl.Date, "n": pl.Int64, "pct": pl.Float64, "other": pl.String}
    texts = ["plain", "a,b", 'say "x"', "two\nlines", "cr\rhere", "=SUM(A1)", "+1", "-2", "@x", "\tx", "\rx",
             "", None, " spaced ", "it's", "é ü 中", "x;y", "'=already"]
    rows = [[t, dt.date(2008, 4, 7) if i % 3 else None, [-2, 0, 7, None][i % 4], [100.0, 33.3, 0.0, None, 12.05][i % 5],
             texts[-1 - i]] for i, t in enumerate(texts)]
    _write_csv(tmp_path / "out.csv", schema, rows)
    expected = io.StringIO(newline="")
    w = csv.writer(expected)
    w.writerow(list(schema))
    w.writerows([safe_cell("" if v is None else v) for v in r] for r in rows)
    assert (tmp_path / "out.csv").read_bytes() == expected.getvalue().encode("utf-8")


def test_completeness_cache_gives_the_same_reports_and_follows_the_file_hash(reports, tmp_path):
    con, paths = reports
    when = dt.datetime(2026, 11, 28, 12, 0)
    for run in ("a", "b"):  # a: computes and caches; b: reads the cache
        again = write_quality_reports(con, tmp_path / run, generated=when, cache_dir=tmp_path / "cache")
        assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]
    cache = tmp_path / "cache" / "quality_completeness.json"
    data = json.loads(cache.read_text())
    assert data and all(v["sha"] for v in data.values())
    assert oct(cache.stat().st_mode & 0o777) == "0o600"
    # a reloaded file (another hash) is computed again, not taken from the cache
    f = next(iter(data))
    data[f] = {"sha": "0" * 64, "fields": [{"form": "screening", "field_name": "sex", "rows": 1, "percent": 1.0}]}
    cache.write_text(json.dumps(data))
    again = write_quality_reports(con, tmp_path / "c", generated=when, cache_dir=tmp_path / "cache")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]


def test_a_mission_that_sent_nothing_keeps_its_report(reports, tmp_path):
    """With the restricted cache, a mission whose ledger and quarantine rows did not change keeps
    its report (and the date it was generated); a mission with a new ledger row, or a report file
    gone, is written again; `missions` names are always written."""
    con, paths = reports
    out, cache = tmp_path / "out", tmp_path / "cache"
    first = write_quality_reports(con, out, generated=dt.datetime(2026, 11, 1), cache_dir=cache)
    assert [p.name for p in first] == [p.name for p in paths]
    assert oct((cache / "quality_reports.json").stat().st_mode & 0o777) == "0o600"
    before = {p.name: p.read_bytes() for p in first}
    missions = sorted({p.name.split("_quality.csv")[0] for p in first if p.name.endswith("_quality.csv")})
    assert len(missions) >= 3, missions
    kept, changed, gone = missions[0], missions[1], missions[2]

    def stamp(m):
        return "Generated 2026-11-0" in (out / f"{m}.html").read_text() and (out / f"{m}.html").read_text()

    con.execute("CREATE TEMP TABLE _ledger_copy AS SELECT * FROM ingestion_ledger")
    try:  # a new export of `changed`: one more ledger row of that mission
        con.execute(
            "INSERT INTO ingestion_ledger SELECT * REPLACE (source_file || '.again' AS source_file, "
            "ingested_at + INTERVAL 1 DAY AS ingested_at) FROM ingestion_ledger "
            "WHERE coalesce(mission_code, 'UNSORTED') = ? LIMIT 1", [changed])
        (out / f"{gone}_quarantined_rows.csv").unlink()
        second = write_quality_reports(con, out, generated=dt.datetime(2026, 11, 2), cache_dir=cache)
        assert [p.name for p in second] == [p.name for p in first]
        assert {p.name: p.read_bytes() for p in second if p.name.startswith(kept)} == \
            {n: b for n, b in before.items() if n.startswith(kept)}
        assert "2026-11-01" in stamp(kept)
        assert "2026-11-02" in stamp(changed) and ".again" in (out / f"{changed}_quality.csv").read_text()
        assert "2026-11-02" in stamp(gone) and (out / f"{gone}_quarantined_rows.csv").exists()
        write_quality_reports(con, out, generated=dt.datetime(2026, 11, 3), missions=[kept], cache_dir=cache)
        assert "2026-11-03" in stamp(kept) and "2026-11-02" in stamp(changed)
    finally:
        con.execute("DELETE FROM ingestion_ledger")
        con.execute("INSERT INTO ingestion_ledger SELECT * FROM _ledger_copy")
        con.execute("DROP TABLE _ledger_copy")
