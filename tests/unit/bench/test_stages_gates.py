"""The bench's stages stop where `runner.run_direct` stops (`run_stages`, `STOP_AFTER`)."""

from __future__ import annotations

import pytest

from ct_pipeline import checks, pipeline
from ct_pipeline.bench.suite import Meter, _Sampler, run_stages
from ct_pipeline.checks import CheckOutcome

PASS = CheckOutcome(True, "ok")


@pytest.fixture
def called(monkeypatch):
    """Every pipeline step and check replaced by a recorder (no warehouse is touched)."""
    calls: list[str] = []

    def step(name):
        return lambda *a, **k: calls.append(name)

    for name in ("ingest", "load_reference", "build_core", "build_marts", "build_public", "publish", "build_reports"):
        monkeypatch.setattr(pipeline, name, step(name))
    for name in ("row_accounting", "pandera_check", "pii_gate", "reconciliation", "expectations", "disclosure"):
        monkeypatch.setattr(checks, name, lambda *a, **k: PASS)
    return calls


def _run():
    sampler = _Sampler()
    lines: list[str] = []
    stages, failed = run_stages(None, Meter(sampler, lines.append), png=False, log=lines.append)
    return stages, failed, lines


def test_every_stage_runs_when_the_checks_pass(called):
    stages, failed, _ = _run()
    assert called == ["ingest", "load_reference", "build_core", "build_marts", "build_public", "publish",
                      "build_reports"]
    assert failed == [] and all(s["ok"] for s in stages.values())


def test_a_failed_disclosure_check_stops_before_publish(called, monkeypatch):
    monkeypatch.setattr(checks, "disclosure", lambda *a, **k: CheckOutcome(False, "a cell below the threshold"))
    stages, failed, lines = _run()
    assert "publish" not in called and "build_reports" not in called
    assert not stages["checks_public"]["ok"] and "publish" not in stages
    assert failed and failed[0].endswith(":disclosure_threshold: a cell below the threshold")
    assert "  stopping after checks_public: later stages depend on it" in lines


def test_a_failed_mart_expectation_does_not_stop_the_run(called, monkeypatch):
    """As in run_direct: the mart suites are not blocking (their outcome says so)."""
    monkeypatch.setattr(checks, "expectations", lambda settings, layer: PASS if layer == "core"
                        else CheckOutcome(False, "a share out of its tolerance", blocking=False))
    stages, failed, _ = _run()
    assert called[-2:] == ["publish", "build_reports"] and stages["checks_marts"]["ok"]
    assert failed == ["marts:great_expectations: a share out of its tolerance"]
