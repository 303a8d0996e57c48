"""A staged batch's large frames go from an extraction worker to the ingesting process as files.

`stage_groups` runs extraction and staging in worker processes; each batch comes back with its raw
and typed records (~90 MB of frames for 32 MB of exports). Returned through the process pool they
were pickled (polars serialises a frame into a growing in-memory buffer), pushed through a pipe in
64 KB pieces and rebuilt on the other side: several copies of every byte into freshly mapped
memory, in the process every batch waits for (measured at 1M cases: the main process spent 24 s
of its 107 s of CPU in the kernel, much of it zeroing and copying the pages of those transfers).
Written as uncompressed Arrow IPC files instead, a frame is copied once into the page cache and
read back with one more; the files are removed as soon as they are read, usually before they
ever reach the disk.

The files hold raw identities, so they live only in the restricted zone: `folder` is a per-run
folder under ``<restricted>/tmp`` (owner-only), removed when the run ends; a run killed half-way
leaves a folder named after its pid, which the next run removes (`remove_stale`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import polars as pl

from ct_pipeline.processes import pid_alive

PREFIX = "handoff-"
# (attribute path, what it holds): the frames worth a file; the small ones (quarantine, accounting,
# duplicates, per-file outcomes) stay in the pickled batch
LARGE = ("raw_screenings", "raw_assistance", "staged.typed_screenings", "staged.typed_assistance")


def run_folder(tmp_dir: Path) -> Path:
    """A new hand-off folder under the restricted temp folder (owner-only), named after this
    process: ``handoff-<pid>-<random>``, one per run, so two runs in one process never share."""
    Path(tmp_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=tmp_dir))


def remove_stale(tmp_dir: Path) -> None:
    """Remove the hand-off folders of runs whose process is gone (killed mid-run)."""
    try:
        entries = list(Path(tmp_dir).iterdir())
    except OSError:
        return
    for p in entries:
        pid = p.name.removeprefix(PREFIX).split("-")[0]
        if p.name.startswith(PREFIX) and pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            shutil.rmtree(p, ignore_errors=True)


def _get(obj, path: str):
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _set(obj, path: str, value) -> None:
    *parents, last = path.split(".")
    for part in parents:
        obj = getattr(obj, part)
    setattr(obj, last, value)


def pack(group, folder: Path, name: str):
    """Worker side: write the batch's large frames to ``folder`` and put their paths in their place."""
    for attr in LARGE:
        path = Path(folder) / f"{name}.{attr}.arrow"
        _get(group, attr).write_ipc(path, compression="uncompressed")
        _set(group, attr, path)
    return group


def unpack(group):
    """Ingesting side: read the frames back (and remove their files). A batch that was not packed
    (staged in this process) is returned as it is."""
    for attr in LARGE:
        path = _get(group, attr)
        if isinstance(path, Path):
            try:
                _set(group, attr, pl.read_ipc(path))
            finally:
                path.unlink(missing_ok=True)
    return group


__all__ = ["LARGE", "pack", "remove_stale", "run_folder", "unpack"]
