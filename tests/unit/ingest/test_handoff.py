"""Worker batches handed over as files in the restricted zone (`ct_pipeline.ingest.handoff`)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import polars as pl

import ct_pipeline.ingest as ingest_mod
from ct_pipeline.ingest import handoff


def _frame(n: int) -> pl.DataFrame:
    """The dtypes the typed frames use (an Enum, dates, decimals, lists...) must come back as they were."""
    return pl.DataFrame({
        "source_row": list(range(n)),
        "name": [f"p{i}" if i % 3 else None for i in range(n)],
        "sex": pl.Series([("female", "male", None)[i % 3] for i in range(n)], dtype=pl.Enum(["female", "male"])),
        "born": [dt.date(1990, 1, 1 + i % 28) for i in range(n)],
        "at": pl.Series([dt.datetime(2024, 1, 1, i % 24) for i in range(n)]).dt.replace_time_zone("UTC"),
        "amount": pl.Series([Decimal(i) / 4 for i in range(n)], dtype=pl.Decimal(12, 2)),
        "needs": [["shelter"] * (i % 3) for i in range(n)],
        "flag": pl.Series([i % 2 == 0 for i in range(n)], dtype=pl.Boolean),
    })  # fmt: skip


def _batch():
    frame = _frame
    staged = SimpleNamespace(typed_screenings=frame(3), typed_assistance=frame(2), quarantine=frame(1))
    return SimpleNamespace(raw_screenings=frame(4), raw_assistance=frame(5), staged=staged)


def test_pack_writes_owner_only_files_and_unpack_restores_and_removes_them(tmp_path):
    before = _batch()
    folder = handoff.run_folder(tmp_path)
    assert folder.parent == tmp_path and folder.stat().st_mode & 0o777 == 0o700
    packed = handoff.pack(_batch(), folder, "b0")
    assert isinstance(packed.raw_screenings, Path) and isinstance(packed.staged.typed_assistance, Path)
    assert isinstance(packed.staged.quarantine, pl.DataFrame)  # small frames stay in the batch
    files = list(folder.glob("*.arrow"))
    assert len(files) == len(handoff.LARGE)
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in files)  # whatever the umask
    back = handoff.unpack(packed)
    for attr in ("raw_screenings", "raw_assistance"):
        assert getattr(back, attr).equals(getattr(before, attr))
        assert getattr(back, attr).schema == getattr(before, attr).schema
    assert back.staged.typed_screenings.equals(before.staged.typed_screenings)
    assert not list(folder.glob("*.arrow"))
    handoff.close_folder(folder)
    assert not folder.exists()
    assert handoff.unpack(back) is back  # a batch staged in-process passes through


def test_two_runs_in_one_process_get_their_own_folders(tmp_path):
    a, b = handoff.run_folder(tmp_path), handoff.run_folder(tmp_path)
    assert a != b and a.name.startswith(f"handoff-{os.getpid()}-")
    assert handoff.remove_stale(tmp_path) == 0  # both live
    for f in (a, b):
        handoff.close_folder(f)


_KILLED_RUN = """
import os, sys
from pathlib import Path
from ct_pipeline.ingest import handoff
folder = handoff.run_folder(Path(sys.argv[1]))
(folder / "b0.raw_screenings.arrow").write_bytes(b"x")
print(folder, flush=True)
os._exit(0)  # no clean-up, as a killed run
"""


def test_folders_of_dead_runs_are_removed_and_live_ones_kept(tmp_path):
    out = subprocess.run([sys.executable, "-c", _KILLED_RUN, str(tmp_path)], capture_output=True, text=True, check=True)
    stale = Path(out.stdout.strip())
    assert stale.exists()
    mine = handoff.run_folder(tmp_path)
    other = tmp_path / "keep-me"
    other.mkdir()
    # a live run in another process, even one with a pid that looks dead or reused
    child = subprocess.Popen([sys.executable, "-c", _KILLED_RUN.replace("os._exit(0)", "sys.stdin.read()"),
                              str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    live = Path(child.stdout.readline().strip())
    # a folder caught before its lock file exists: young, kept; old, removed
    young, old = tmp_path / "handoff-1-young", tmp_path / "handoff-1-old"
    young.mkdir(), old.mkdir()
    past = time.time() - 2 * handoff.UNLOCKED_GRACE_SECONDS
    os.utime(old, (past, past))
    try:
        assert handoff.remove_stale(tmp_path) == 2
        assert not stale.exists() and not old.exists()
        assert mine.exists() and live.exists() and young.exists() and other.exists()
    finally:
        child.communicate("")
    assert handoff.remove_stale(tmp_path) == 1 and not live.exists()  # its run ended without clean-up
    handoff.close_folder(mine)


def test_a_run_stopped_half_way_leaves_no_hand_off_files(tmp_path, exports, good_files, monkeypatch):
    monkeypatch.setattr(ingest_mod, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingest_mod, "STAGE_BATCH_BYTES", 1)  # one mission per batch, in workers
    items = [(p, ingest_mod.parse_export_path(p, exports)) for p in good_files]
    tmp = tmp_path / "restricted-tmp"
    groups = ingest_mod.stage_groups(items, exports, workers=2, handoff_dir=tmp)
    first = next(groups)
    assert isinstance(first.raw_screenings, pl.DataFrame)
    assert len(list(tmp.glob("handoff-*"))) == 1
    groups.close()
    assert not list(tmp.glob("handoff-*"))


def test_a_killed_runs_files_go_with_the_next_run_even_a_serial_one(settings, con, good_files):
    from ct_pipeline.ingest import run_ingestion

    tmp = settings.restricted_dir / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    out = subprocess.run([sys.executable, "-c", _KILLED_RUN, str(tmp)], capture_output=True, text=True, check=True)
    stale = Path(out.stdout.strip())
    assert stale.exists()
    run_ingestion(settings, con, workers=1)
    assert not stale.exists()
