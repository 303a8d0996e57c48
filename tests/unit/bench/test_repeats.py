"""The end-to-end runs of a bench against the floor read next to each (`repeat_ratios`)."""

from __future__ import annotations

from ct_pipeline.bench.suite import _ratios, default_repeat, repeat_ratios


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
