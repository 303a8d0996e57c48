"""SIGKILL a nightly load (staging + core in one transaction, then publish) at named points and at
random moments: the build database comes back exactly as before the transaction (or as after it,
once committed), the analysts' file is never half-written, and re-running gives the same warehouse
as an uninterrupted run."""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import signal
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ct_pipeline.settings import get_settings
from ct_pipeline.warehouse import (
    assert_reconciled,
    build_db_path,
    connect_build,
    load_core,
    publish,
)
from ct_pipeline.warehouse.faults import ENV_AT, ENV_FILE
from ct_pipeline.warehouse.synthetic import insert_stg, synthetic_night, synthetic_stg
from ct_pipeline.warehouse.tables import CORE_TABLES, INPUT_TABLES, fingerprints

BASE = 200
ALL = (*INPUT_TABLES, *CORE_TABLES)


def nightly(warehouse_dir: str, night_dir: str, parquet: str = "") -> None:
    """What the nightly run does here: stage a drop and load the core in ONE transaction, then publish.
    A drop already staged (the run was killed after its commit) is not staged twice."""
    settings = get_settings(warehouse_dir=warehouse_dir)
    scr = pl.read_parquet(Path(night_dir) / "screenings.parquet")
    ast = pl.read_parquet(Path(night_dir) / "assistance.parquet")
    con = connect_build(settings)
    try:
        con.begin()
        files = scr["source_file"].unique().to_list()
        staged = con.execute("SELECT count(*) FROM stg_screenings WHERE list_contains(?, source_file)",
                             [files]).fetchall()[0][0]
        if not staged:
            insert_stg(con, scr, ast)
        load_core(con, own_transaction=False)
        con.commit()
        publish(settings, con, parquet=bool(parquet))
    finally:
        con.close()


def _published_count(settings) -> int:
    ro = duckdb.connect(str(settings.analyst_db), read_only=True)
    try:
        return ro.sql("SELECT row_count FROM warehouse_tables WHERE table_name = 'fct_screenings'").fetchall()[0][0]
    finally:
        ro.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("kill")
    pristine = get_settings(warehouse_dir=root / "pristine")
    con = connect_build(pristine)
    base = synthetic_stg(BASE, seed=31)
    insert_stg(con, base.stg_screenings, base.stg_assistance)
    load_core(con)
    publish(pristine, con, parquet=False)
    before = fingerprints(con, ALL)
    con.close()
    night_dir = root / "night"
    night_dir.mkdir()
    drop = synthetic_night(BASE, n_new=12, n_changed=5, n_unchanged=3, seed=31)
    drop.stg_screenings.write_parquet(night_dir / "screenings.parquet")
    drop.stg_assistance.write_parquet(night_dir / "assistance.parquet")

    reference = get_settings(warehouse_dir=root / "reference")
    _restore(pristine, reference)
    nightly(str(reference.warehouse_dir), str(night_dir))
    with connect_build(reference) as ref:
        after = fingerprints(ref, ALL)
    assert after != before
    return {"root": root, "pristine": pristine, "night": night_dir, "before": before, "after": after,
            "published_before": _published_count(pristine), "published_after": _published_count(reference)}


def _restore(src, dst) -> None:
    shutil.rmtree(dst.warehouse_dir, ignore_errors=True)
    build_db_path(dst).parent.mkdir(parents=True)
    shutil.copy(build_db_path(src), build_db_path(dst))
    shutil.copy(src.analyst_db, dst.analyst_db)


_CTX = None


def _context():
    """A forkserver that has imported the pipeline once: each load process is a cheap fork of it
    (a fresh interpreter would spend seconds importing polars, DuckDB and pandera)."""
    global _CTX
    if _CTX is None:
        _CTX = multiprocessing.get_context("forkserver")
        _CTX.set_forkserver_preload(["ct_pipeline.warehouse", "ct_pipeline.warehouse.synthetic",
                                     "ct_pipeline.pseudonymize.restricted", __name__])
    return _CTX


def _child(warehouse_dir: str, night_dir: str, parquet: str, env: dict) -> None:
    os.environ.update(env)  # the pause point reads these
    nightly(warehouse_dir, night_dir, parquet)


def _spawn(settings, night_dir, env_extra=None, parquet: bool = False):
    proc = _context().Process(target=_child, args=(str(settings.warehouse_dir), str(night_dir),
                                                    "parquet" if parquet else "", env_extra or {}))
    proc.start()
    return proc


def _check_and_finish(world, settings, committed: bool | None, parquet: bool = False) -> None:
    """After a kill: the build is as before (or, once committed, as after); the analysts' file is a
    complete publish; re-running completes the work exactly like an uninterrupted run."""
    with connect_build(settings) as con:
        state = fingerprints(con, ALL)
    if committed is None:
        assert state in (world["before"], world["after"])
    else:
        assert state == (world["after"] if committed else world["before"])
    assert _published_count(settings) in (world["published_before"], world["published_after"])
    nightly(str(settings.warehouse_dir), str(world["night"]), "parquet" if parquet else "")
    with connect_build(settings) as con:
        assert fingerprints(con, ALL) == world["after"]
        assert_reconciled(con)
    assert _published_count(settings) == world["published_after"]
    assert not list(settings.warehouse_dir.glob("ct.duckdb.tmp-*"))
    assert not list(settings.warehouse_dir.glob(".parquet-new-*"))


@pytest.mark.parametrize(
    ("point", "committed"),
    [
        ("core:deleted", False),  # touched cases deleted from the facts, nothing rebuilt yet
        ("core:commit", False),  # everything written, COMMIT not reached
        ("publish:copied", True),  # committed; the new analyst file is half built
        ("publish:replace", True),  # the new file is complete and fsynced, not yet renamed
    ],
)
def test_sigkill_at_a_named_point(world, point, committed):
    settings = get_settings(warehouse_dir=world["root"] / point.replace(":", "_"))
    _restore(world["pristine"], settings)
    marker = settings.warehouse_dir / "paused"
    parquet = point.startswith("publish")  # the Parquet swap is part of what a publish kill may cut
    proc = _spawn(settings, world["night"], {ENV_AT: point, ENV_FILE: str(marker)}, parquet=parquet)
    deadline = time.monotonic() + 90
    while not marker.exists():
        assert proc.exitcode is None, f"the load process ended with {proc.exitcode} before {point}"
        assert time.monotonic() < deadline, "the load never reached " + point
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(timeout=30)
    assert proc.exitcode == -signal.SIGKILL
    assert _published_count(settings) == world["published_before"]  # never half a publish
    _check_and_finish(world, settings, committed, parquet)


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_at_a_random_moment(world, seed):
    """Killed at a random moment after the transaction began (a marker at core:begin, no pause)."""
    settings = get_settings(warehouse_dir=world["root"] / f"random_{seed}")
    _restore(world["pristine"], settings)
    marker = settings.warehouse_dir / "started"
    proc = _spawn(settings, world["night"], {ENV_AT: "core:begin", ENV_FILE: str(marker),
                                             "CT_WAREHOUSE_PAUSE_SECONDS": "0"})
    deadline = time.monotonic() + 90
    while not marker.exists() and proc.exitcode is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(random.Random(seed).uniform(0.0, 0.6))
    try:
        os.kill(proc.pid, signal.SIGKILL)
    except ProcessLookupError:  # it finished first (and its forkserver parent reaped it)
        pass
    proc.join(timeout=30)
    _check_and_finish(world, settings, None)
