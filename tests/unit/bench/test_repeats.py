"""The end-to-end runs of a bench against the floor read next to each (`repeat_ratios`)."""

from __future__ import annotations

from ct_pipeline.bench.suite import _ratios, default_repeat, repeat_ratios, step_errors, to_markdown


def _run(wall, cpu, ok=True, reports=1.0):
    return {"ok": ok, "wall_s": wall, "cpu_s": cpu, "peak_rss_mb": 100.0, "excluding_reports_wall_s": wall - reports}


def _read(wall, cpu=None):
    return {"wall_s": wall, "cpu_s": cpu if cpu is not None else wall + 1}


def test_each_run_against_the_faster_read_next_to_it_and_the_median():
    # reads: before run 1, between 1 and 2, between 2 and 3, after 3 (a slow minute in the middle)
    reads = [_read(30.0), _read(25.0), _read(40.0), _read(28.0)]
    runs = [_run(125.0, 230.0), _run(150.0, 240.0), _run(120.0, 220.0)]
    rep = repeat_ratios(runs, reads)
    assert [r["floor_wall_s"] for r in rep["runs"]] == [25.0, 25.0, 28.0]
    assert [r["ratio"] for r in rep["runs"]] == [5.0, 6.0, round(120 / 28, 3)]
    assert rep["ratio_median"] == 5.0 and rep["ratio_min"] == round(120 / 28, 3) and rep["ratio_max"] == 6.0
    assert rep["runs"][0]["cpu_ratio"] == round(230 / 26, 3)  # the CPU of the read taken as the floor
    assert rep["cpu_ratio_median"] == round(230 / 26, 3)


def test_one_run_is_the_ratio_of_before():
    """With one run the figure is what the bench always gave: its wall over the faster of two reads."""
    rep = repeat_ratios([_run(132.2, 231.5)], [_read(33.2), _read(28.2)])
    assert rep["ratio_median"] == round(132.2 / 28.2, 3) and len(rep["runs"]) == 1
    res = {"repeats": rep, "floor": _read(28.2), "direct": _run(132.2, 231.5)}
    assert _ratios(res, charts=False)["end_to_end_over_floor"] == round(132.2 / 28.2, 3)


def test_a_failed_run_counts_in_no_ratio():
    runs = [_run(100.0, 190.0), {"ok": False, "error": "RuntimeError: stages failed: build_core"}, _run(110.0, 200.0)]
    rep = repeat_ratios(runs, [_read(25.0), _read(25.0), _read(25.0), _read(25.0)])
    assert rep["runs"][1]["ratio"] is None and rep["runs"][1]["error"].startswith("RuntimeError")
    assert rep["ratio_median"] == 4.2  # of 4.0 and 4.4
    none = repeat_ratios([{"ok": False}], [_read(25.0), _read(26.0)])
    assert none["ratio_median"] is None and none["cpu_ratio_median"] is None


def test_charts_leave_the_reports_out():
    rep = repeat_ratios([_run(101.0, 190.0, reports=1.0)], [_read(25.0), _read(25.0)], charts=True)
    assert rep["runs"][0]["ratio"] == 4.0


def test_default_repeats():
    assert default_repeat(1_000_000) == 3 and default_repeat(300) == 3 and default_repeat(10_000_000) == 1


def test_a_failed_later_run_is_an_error_of_the_bench():
    rep = repeat_ratios([_run(100.0, 190.0), {"ok": False, "error": "build_core: RuntimeError: boom"}],
                        [_read(25.0), _read(25.0), _read(25.0)])
    res = {"stages": {"ingest": {"ok": True}}, "repeats": rep}
    assert step_errors(res) == ["end_to_end_2: build_core: RuntimeError: boom"]


def test_no_ratio_when_the_first_run_failed():
    """Its warehouse is incomplete and no later run is made: nothing is judged."""
    rep = repeat_ratios([_run(50.0, 60.0, ok=False)], [_read(25.0), _read(25.0)])
    res = {"repeats": rep, "floor": _read(25.0), "direct": _run(50.0, 60.0, ok=False)}
    r = _ratios(res, charts=False)
    assert r["end_to_end_over_floor"] is None and r["end_to_end_cpu_over_floor_cpu"] is None


def _result(runs, reads):
    from ct_pipeline.bench.suite import _verdict, targets_for

    res = {
        "seed": 1, "started_utc": "2026-12-04T21:00:00+00:00", "options": {"charts": False},
        "machine": {"cores": 2, "cpu_model": "AMD EPYC (family 26 model 2)", "memory_gib": 23.5, "python": "3.11",
                    "duckdb": "2", "polars": "2", "dagster": "1", "load_average_1min_at_start": 0.5},
        "data": {"cases": 1_000_000, "files": 1, "bytes": 1}, "floor": reads[0], "stages": {},
        "direct": runs[0], "repeats": repeat_ratios(runs, reads), "targets": targets_for(1_000_000),
        "total": {"wall_s": 1.0, "cpu_s": 1.0},
    }
    res["ratios"] = _ratios(res, charts=False)
    res["verdict"] = _verdict(res)
    return to_markdown(res)


def test_the_table_shows_the_median_the_range_and_each_run():
    md = _result([_run(125.0, 230.0), _run(150.0, 240.0), _run(120.0, 220.0)],
                 [_read(30.0), _read(25.0), _read(40.0), _read(28.0)])
    assert "| end to end / floor (wall, median of 3 runs) | 5.00 | ≤ 4.0 | **no** |" in md
    assert "| end to end / floor, the runs' range | 4.29–6.00 | | |" in md
    assert "| 2 | 150.00 | 240.00 | 100 | 25.00 | 6.00 | 9.23 |" in md


def test_the_table_says_how_many_runs_the_median_is_of():
    md = _result([_run(100.0, 190.0), {"ok": False, "error": "publish: OSError: disk full"}, _run(110.0, 200.0)],
                 [_read(25.0), _read(25.0), _read(25.0), _read(25.0)])
    assert "| end to end / floor (wall, median of 2 of 3 runs) | 4.20 |" in md
    assert "| 2 **FAILED** (publish: OSError: disk full) | – |" in md


def test_each_run_against_the_one_process_floor_too():
    """Every read holds the fastest read and the one-file-at-a-time one (`one_process`): a run has a
    ratio to each, the nearest faster read of each kind."""
    reads = [{**_read(15.0), "one_process": _read(33.0)}, {**_read(16.0), "one_process": _read(31.0)},
             {**_read(14.0), "one_process": _read(35.0)}]
    rep = repeat_ratios([_run(150.0, 250.0), _run(140.0, 240.0)], reads)
    assert [r["floor_wall_s"] for r in rep["runs"]] == [15.0, 14.0]
    assert [r["one_process_floor_wall_s"] for r in rep["runs"]] == [31.0, 31.0]
    assert [r["ratio_one_process"] for r in rep["runs"]] == [round(150 / 31, 3), round(140 / 31, 3)]
    assert rep["ratio_one_process_median"] == round((round(150 / 31, 3) + round(140 / 31, 3)) / 2, 3)
    res = {"repeats": rep, "floor": _read(15.0), "floor_one_process": _read(31.0), "direct": _run(150.0, 250.0)}
    r = _ratios(res, charts=False)
    assert r["end_to_end_over_floor"] == rep["ratio_median"] == 10.0  # median of 10.0 and 10.0
    assert r["end_to_end_over_one_process_floor"] == rep["ratio_one_process_median"]
    # reads of results before session 20 have no one-process part: no such ratio
    assert repeat_ratios([_run(150.0, 250.0)], [_read(30.0), _read(31.0)])["ratio_one_process_median"] is None
