"""Smoke test of the whole-pipeline benchmark: ~300 cases, every section present."""

from __future__ import annotations

import json
import os

import duckdb

from ct_pipeline.bench import run_bench
from ct_pipeline.bench.suite import FLOOR_PROCESSES

STAGES = ["ingest", "checks_ingest", "load_reference", "build_core", "checks_core", "build_marts",
          "checks_marts", "build_public", "checks_public", "publish", "build_reports"]
QUERIES = ["yearly_trend", "top_corridors", "assistance_coverage", "mission_quality", "person_history"]


def test_bench_smoke(tmp_path, monkeypatch):
    monkeypatch.setenv("CT_PSEUDONYM_KEY", "v1:" + "ab" * 32)
    out, cache = tmp_path / "out", tmp_path / "cache"
    # a previous run of this size in the out folder: the new run compares itself with it
    out.mkdir()
    (out / "results-300.json").write_text(json.dumps({
        "seed": 3, "started_utc": "2026-01-01T00:00:00+00:00", "machine": {"cpu_model": None},
        "floor": {"wall_s": 0.5, "cpu_s": 0.5}, "stages": {"ingest": {"ok": True, "wall_s": 1.0, "cpu_s": 1.5}},
        "direct": {"ok": True, "wall_s": 5.0, "cpu_s": 8.0}, "ratios": {"end_to_end_over_floor": 10.0}}))
    res = run_bench(300, 3, out, cache, dagster=True, incremental=True, charts=False, repeat=2, log=lambda m: None)

    on_disk = json.loads((out / "results-300.json").read_text())
    assert on_disk["seed"] == 3 and (out / "results-300.md").read_text().startswith("# ct_pipeline benchmark")
    assert res["errors"] == [], res["errors"]
    for section in ("machine", "data", "floor", "stages", "direct", "incremental", "queries", "ratios", "verdict"):
        assert section in on_disk, section
    assert on_disk["data"]["files"] > 0 and on_disk["data"]["cases"] > 0
    # the processor is named (the ratios move with it), in the JSON and the table's heading
    model = on_disk["machine"]["cpu_model"]
    assert model and f"cores · {model}" in (out / "results-300.md").read_text()
    assert on_disk["floor"]["wall_s"] > 0 and on_disk["floor"]["failed_count"] == 0
    # read before the first run and after each; the faster of the two around the first is its floor
    reads = on_disk["floor"]["reads_wall_s"]
    assert len(reads) == 3 and on_disk["floor"]["wall_s"] == min(reads[:2])
    # the second end-to-end run: fresh warehouse, own process, its stages; the ratio is the median
    rep = on_disk["repeats"]
    assert len(rep["runs"]) == 2 and all(r["ok"] and r["ratio"] > 0 for r in rep["runs"]), rep
    assert set(rep["runs"][1]["stages_wall_s"]) == set(STAGES)
    assert rep["runs"][0]["wall_s"] == on_disk["direct"]["wall_s"]
    assert rep["runs"][1]["floor_wall_s"] == min(reads[1:])
    assert on_disk["ratios"]["end_to_end_over_floor"] == rep["ratio_median"]
    assert not (cache / "run-300-seed3" / "wh_repeat").exists()  # removed after its run
    assert "| end to end / floor (wall, median of 2 runs) |" in (out / "results-300.md").read_text()
    assert sum(v["rows"] for v in on_disk["floor"]["by_format"].values()) > 0
    # the floor read on every core, and again one file at a time (the floor until session 20): the
    # same files and rows, both read at every point, each run set against both
    one = on_disk["floor_one_process"]
    assert on_disk["floor"]["processes"] == min(FLOOR_PROCESSES, on_disk["data"]["files"]) and one["failed_count"] == 0
    # (a batch of JSON Lines whose first file has a field null throughout may fall back to file by
    # file: counted; a floor that parsed fewer values than file by file is an error, none here)
    assert on_disk["floor"]["failed_reads"] == one["failed_reads"] == 0
    assert all(on_disk["floor"]["by_format"][k]["values"] >= v["values"] > 0 for k, v in one["by_format"].items())
    # the floor's CPU counts its processes (they end within its timing), less their start
    # (about the seconds the processes spent reading, summed over them: not the waiting parent's)
    assert on_disk["floor"]["cpu_s"] >= 0.5 * sum(v["wall_s"] for v in on_disk["floor"]["by_format"].values()) > 0
    if on_disk["floor"]["processes"] > 1:
        assert on_disk["floor"]["start_cpu_s_taken_off"] > 0
    assert {k: (v["files"], v["rows"]) for k, v in on_disk["floor"]["by_format"].items()} == \
        {k: (v["files"], v["rows"]) for k, v in one["by_format"].items()}
    assert len(one["reads_wall_s"]) == 3 and one["wall_s"] == min(one["reads_wall_s"][:2])
    assert rep["runs"][1]["one_process_floor_wall_s"] == min(one["reads_wall_s"][1:])
    assert on_disk["ratios"]["end_to_end_over_one_process_floor"] == rep["ratio_one_process_median"] > 0
    assert "| floor, one process (one file at a time: the floor until session 20) |" in (out / "results-300.md").read_text()
    for name in STAGES:
        st = on_disk["stages"][name]
        assert st["ok"], (name, st.get("error"))
        assert st["wall_s"] > 0 and st["cpu_s"] >= 0 and st["peak_rss_mb"] > 0, (name, st)
    assert on_disk["direct"]["ok"] and on_disk["direct"]["wall_s"] > 0
    assert on_disk["incremental"]["ok"] and on_disk["incremental"]["wall_s"] > 0
    assert on_disk["incremental"]["drop"]["records"] > 0
    # the minimal night ran after it: one file of a few records, every step timed
    mini = on_disk["minimal_night"]
    assert mini["ok"] and mini["run_ok"] and mini["drop"] == {"records": 10, "files": 1}, mini
    assert {"ingest", "build_core", "publish"} <= set(mini["steps"])
    assert not (set(on_disk["incremental"]["steps"]) - set(mini["steps"]))  # the same steps ran
    # each night ran in a process of its own, as a nightly run does, every step with its peak
    assert os.getpid() != on_disk["incremental"]["pid"] != mini["pid"] != os.getpid()
    assert all(st["peak_rss_mb"] > 0 for st in mini["steps"].values())
    ledger = duckdb.connect(str(out.parent / "cache" / "run-300-seed3" / "wh_direct" / "restricted" / "build.duckdb"),
                            read_only=True)
    try:  # its file was loaded (ten case records: their screening and assistance rows)
        [(status, rows)] = ledger.sql("SELECT file_status, rows_read FROM ingestion_ledger WHERE received_date = "
                                      "DATE '2026-11-03'").fetchall()
        assert status == "loaded" and rows >= 10
        # the ~1% night read a few percent of what the full run read (its drop, not the exports again)
        [(night_rows, full_rows)] = ledger.sql(
            "SELECT sum(rows_read) FILTER (WHERE received_date = DATE '2026-11-02'), "
            "sum(rows_read) FILTER (WHERE received_date < DATE '2026-11-02') FROM ingestion_ledger").fetchall()
        assert 0 < night_rows < 0.2 * full_rows, (night_rows, full_rows)
    finally:
        ledger.close()
    for q in QUERIES:
        assert on_disk["queries"][q]["p50_ms"] > 0 and on_disk["queries"][q]["p95_ms"] >= on_disk["queries"][q]["p50_ms"]
    r = on_disk["ratios"]
    assert r["end_to_end_over_floor"] > 0 and r["incremental_over_full"] > 0
    # (not < 1: at 300 cases the night's ingest, in a process of its own, costs about what the
    # full run's does, its imports and fixed costs being most of both)
    assert r["incremental_ingest_over_full_ingest"] > 0
    assert r["dagster_over_direct"] > 0
    # the minimal night's ratios, computed from its wall time (not compared with the full run's: at
    # 300 cases a night costs about as much as the full run, and which is faster is the machine's
    # load, session 17's CI saw 1.03)
    wall = on_disk["minimal_night"]["wall_s"]
    assert r["minimal_night_over_incremental"] == round(wall / on_disk["incremental"]["wall_s"], 3)
    assert r["minimal_night_over_full"] == round(wall / on_disk["direct"]["wall_s"], 3)
    assert "| **minimal night** (after it) |" in (out / "results-300.md").read_text()
    vs = on_disk["vs_previous"]
    assert vs["previous_started_utc"] == "2026-01-01T00:00:00+00:00" and vs["same_processor"] is None
    # the previous run read the floor one file at a time (then its only floor): compared with that read
    assert vs["steps"]["ingest"]["share_of_floor_cpu"] == [round(on_disk["stages"]["ingest"]["cpu_s"] / one["cpu_s"], 3), 3.0]
    assert vs["end_to_end_over_one_process_floor"] == [on_disk["ratios"]["end_to_end_over_one_process_floor"], 10.0]
    assert vs["steps"]["build_core"] == {"failed": ["before"]}  # not in the previous run
    assert "Against the previous run of this size (2026-01-01" in (out / "results-300.md").read_text()
    # the Dagster run has a process of its own: its peak is that process tree's, its steps are timed
    dag = on_disk["dagster"]
    assert dag["ok"] and dag["run_ok"] and dag["peak_rss_mb"] > 0 and dag["cpu_s"] > 0, dag
    assert dag["harness_rss_mb_not_counted"] > 0 and {"ingest", "build_core", "publish"} <= set(dag["steps"])

    # the exports are cached by (cases, seed): a second call reuses them
    assert (cache / "synth-300-seed3" / "summary.json").exists()
