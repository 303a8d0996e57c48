"""The bench's comparison with the previous run of the same size (regressions, the machine aside)."""

from __future__ import annotations

import json

from ct_pipeline.bench.suite import _previous_results, _previous_table, compare_runs


def _run(floor_cpu: float, steps: dict[str, float], cpu_model: str | None = "CPU A", e2e: float = 4.0) -> dict:
    stages = {name: {"ok": True, "wall_s": cpu / 1.8, "cpu_s": cpu} for name, cpu in steps.items()}
    total = sum(steps.values())
    return {"seed": 1, "started_utc": "2026-12-01T00:00:00+00:00", "machine": {"cpu_model": cpu_model},
            "floor": {"wall_s": floor_cpu, "cpu_s": floor_cpu}, "stages": stages,
            "direct": {"ok": True, "wall_s": total / 1.8, "cpu_s": total},
            "ratios": {"end_to_end_over_floor": e2e}}


def test_a_step_slower_for_the_same_machine_is_named():
    before = _run(30.0, {"ingest": 150.0, "build_core": 18.0, "publish": 20.0, "build_marts": 1.0})
    now = _run(30.0, {"ingest": 160.0,  # +7 %: the VM's noise
                      "build_core": 27.0,  # +50 %, +9 s
                      "publish": 20.5,
                      "build_marts": 1.6})  # +60 %, but 0.6 s
    vs = compare_runs(now, before)
    assert vs["slower"] == ["build_core"]
    assert vs["same_processor"] is True
    assert vs["steps"]["build_core"]["cpu"] == 1.5
    assert vs["steps"]["build_core"]["share_of_floor_cpu"] == [0.9, 0.6]


def test_a_faster_hour_is_not_a_regression_nor_hides_one():
    before = _run(40.0, {"ingest": 160.0, "build_core": 20.0, "publish": 24.0})
    # everything 30 % faster, as the floor, but publish's share of the floor up by half
    now = _run(28.0, {"ingest": 112.0, "build_core": 14.0, "publish": 25.2})
    vs = compare_runs(now, before)
    assert vs["slower"] == ["publish"] and vs["share_up"] == []  # in seconds barely slower
    md = "\n".join(_previous_table(vs))
    assert "same processor" in md and "| publish **slower** |" in md and "| ingest |" in md


def test_on_another_processor_a_grown_share_is_only_a_hint():
    before = _run(40.0, {"ingest": 160.0, "build_core": 20.0, "publish": 24.0})
    now = _run(28.0, {"ingest": 112.0, "build_core": 14.0, "publish": 25.2}, cpu_model="CPU B")
    vs = compare_runs(now, before)
    assert vs["same_processor"] is False and vs["slower"] == [] and vs["share_up"] == ["publish"]
    md = "\n".join(_previous_table(vs))
    assert "another processor" in md and "| publish **up** |" in md and "**slower**" not in md


def test_the_clock_is_not_the_processor():
    before = _run(30.0, {"ingest": 150.0}, cpu_model="AMD EPYC (family 26 model 2, 2596 MHz)")
    now = _run(30.0, {"ingest": 200.0}, cpu_model="AMD EPYC (family 26 model 2)")
    vs = compare_runs(now, before)
    assert vs["same_processor"] is True and vs["slower"] == ["ingest", "direct"]


def test_a_failed_step_is_shown_not_compared():
    before = _run(30.0, {"ingest": 150.0, "publish": 20.0})
    now = _run(30.0, {"ingest": 150.0, "publish": 90.0})
    now["stages"]["publish"]["ok"] = False
    del before["stages"]["ingest"]
    vs = compare_runs(now, before)
    assert vs["steps"]["publish"] == {"failed": ["now"]} and vs["steps"]["ingest"] == {"failed": ["before"]}
    assert "publish" not in vs["slower"]
    assert "| publish **failed or not run (now)** |" in "\n".join(_previous_table(vs))


def test_no_floor_no_share():
    before, now = _run(30.0, {"ingest": 150.0}), _run(30.0, {"ingest": 300.0})
    del now["floor"]
    vs = compare_runs(now, before)
    assert vs["steps"]["ingest"]["cpu"] == 2.0 and "share_of_floor_cpu" not in vs["steps"]["ingest"]
    assert vs["slower"] == [] and vs["floor"] == {"failed": ["now"]}


def test_only_a_comparable_previous_run_is_used(tmp_path):
    path = tmp_path / "results-300.json"
    assert _previous_results(path, 1) is None  # none yet
    path.write_text("{not json")
    assert _previous_results(path, 1) is None
    run = _run(30.0, {"ingest": 150.0})
    path.write_text(json.dumps(run))
    assert _previous_results(path, 1) == run
    assert _previous_results(path, 2) is None  # other exports
    assert _previous_results(path, 1, charts=True) is None  # PNG charts change build_reports
    path.write_text(json.dumps({**run, "synth_overrides": {"persons_share": 0.5}}))
    assert _previous_results(path, 1) is None  # other generator settings: other exports
    run["direct"]["ok"] = False
    path.write_text(json.dumps(run))
    assert _previous_results(path, 1) is None  # a failed run is no baseline


def test_the_nights_against_the_floors_last_read():
    """The machine slowed by half after the first run's floor was read: the nights (after every
    end-to-end run) are set against the last read, and are not slower; a previous run without the
    reads kept is set against its floor."""
    before = _run(30.0, {"ingest": 150.0})
    before["incremental"] = {"ok": True, "wall_s": 26.0, "cpu_s": 40.0}
    now = _run(30.0, {"ingest": 150.0})
    now["floor"]["reads_cpu_s"] = [31.0, 30.0, 38.0, 45.0]
    now["incremental"] = {"ok": True, "wall_s": 37.0, "cpu_s": 60.0}  # 1.5x: the machine's
    vs = compare_runs(now, before)
    assert vs["slower"] == [] and vs["steps"]["incremental"]["share_of_floor_cpu"] == [round(60 / 45, 3), round(40 / 30, 3)]
    now["incremental"]["cpu_s"] = 90.0  # 1.5x more than the machine's
    assert compare_runs(now, before)["slower"] == ["incremental"]
    # the stages against the first run's floor, not the last read
    assert vs["steps"]["ingest"]["share_of_floor_cpu"] == [5.0, 5.0]


def test_a_run_with_the_fastest_floor_against_one_before_it():
    """From session 20 the floor is read on every core (`floor`) and one file at a time
    (`floor_one_process`, the only floor before): a step's share, the floor row and the end-to-end
    ratio are compared on the one-process read, which both runs made."""
    before = _run(30.0, {"ingest": 150.0, "publish": 20.0}, e2e=4.0)
    now = _run(15.0, {"ingest": 150.0, "publish": 30.0}, e2e=8.0)  # `floor`: the fastest read
    now["floor_one_process"] = {"wall_s": 30.0, "cpu_s": 30.0, "reads_cpu_s": [30.0, 31.0]}
    now["ratios"]["end_to_end_over_one_process_floor"] = 4.1
    vs = compare_runs(now, before)
    assert vs["steps"]["ingest"]["share_of_floor_cpu"] == [5.0, 5.0]  # not 10.0: the same kind of read
    assert vs["slower"] == ["publish"]
    assert vs["floor"]["cpu_s"] == [30.0, 30.0]
    assert vs["end_to_end_over_one_process_floor"] == [4.1, 4.0]
    assert "end to end / one-process floor 4.10 (was 4.00)" in "\n".join(_previous_table(vs))
    # the nights against the one-process floor's last read
    now["incremental"] = {"ok": True, "wall_s": 20.0, "cpu_s": 31.0}
    before["incremental"] = {"ok": True, "wall_s": 20.0, "cpu_s": 30.0}
    assert compare_runs(now, before)["steps"]["incremental"]["share_of_floor_cpu"] == [1.0, 1.0]
