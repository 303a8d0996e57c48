"""Worker batches handed over as files in the restricted zone (`ct_pipeline.ingest.handoff`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import polars as pl

import ct_pipeline.ingest as ingest_mod
from ct_pipeline.ingest import handoff


def _batch():
    frame = lambda n: pl.DataFrame({"source_row": list(range(n)), "name": [f"p{i}" for i in range(n)]})  # noqa: E731
    staged = SimpleNamespace(typed_screenings=frame(3), typed_assistance=frame(2), quarantine=frame(1))
    return SimpleNamespace(raw_screenings=frame(4), raw_assistance=frame(5), staged=staged)


def test_pack_writes_owner_only_files_and_unpack_restores_and_removes_them(tmp_path):
    before = _batch()
    folder = handoff.run_folder(tmp_path)
    assert folder.parent == tmp_path and folder.stat().st_mode & 0o777 == 0o700
    packed = handoff.pack(_batch(), folder, "b0")
    assert isinstance(packed.raw_screenings, Path) and isinstance(packed.staged.typed_assistance, Path)
    assert isinstance(packed.staged.quarantine, pl.DataFrame)  # small frames stay in the batch
    assert len(list(folder.iterdir())) == len(handoff.LARGE)
    back = handoff.unpack(packed)
    for attr in ("raw_screenings", "raw_assistance"):
        assert getattr(back, attr).equals(getattr(before, attr))
    assert back.staged.typed_screenings.equals(before.staged.typed_screenings)
    assert not list(folder.iterdir())
    assert handoff.unpack(back) is back  # a batch staged in-process passes through


def test_two_runs_in_one_process_get_their_own_folders(tmp_path):
    a, b = handoff.run_folder(tmp_path), handoff.run_folder(tmp_path)
    assert a != b and a.name.startswith(f"handoff-{__import__('os').getpid()}-")


def test_folders_of_dead_runs_are_removed_and_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"handoff-{dead.stdout.strip()}-x1"
    stale.mkdir()
    (stale / "b0.raw_screenings.arrow").write_bytes(b"x")
    mine = handoff.run_folder(tmp_path)
    other = tmp_path / "keep-me"
    other.mkdir()
    handoff.remove_stale(tmp_path)
    assert not stale.exists() and mine.exists() and other.exists()


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
