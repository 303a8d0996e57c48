"""A staged batch's large frames go from an extraction worker to the ingesting process as files.

`stage_groups` runs extraction and staging in worker processes; each batch comes back with its raw
and typed records (~130 MB of frames for 32 MB of exports). Returned through the process pool they
were pickled (polars serialises a frame into a growing in-memory buffer), pushed through a pipe in
64 KB pieces and rebuilt on the other side: several copies of every byte into freshly mapped
memory, in the process every batch waits for (measured at 1M cases: the main process spent 19–24 s
of its CPU in the kernel, much of it zeroing and copying the pages of those transfers). Written as
uncompressed Arrow IPC files instead, a frame is copied into the page cache once and read back
into memory with one more copy; each file is removed as soon as it is read.

The files hold raw identities, so they live only in the restricted zone: a run's folder is
``<restricted>/tmp/handoff-<pid>-<random>`` (0700, its files 0600), removed when the run ends,
also when it stops half-way. A run killed outright leaves its folder; the next run removes every
folder whose run is gone (`remove_stale`). "Gone" is a lock, not a pid: each run holds an
exclusive `flock` on its folder's lock file while it lives, and the kernel drops it when the
process dies (a pid may be reused by another process, and a container's job may get the same pid
every night).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from pathlib import Path

import polars as pl

PREFIX = "handoff-"
LOCK = ".lock"
# a folder without its lock file yet is a run in its first instant, or one killed in it
UNLOCKED_GRACE_SECONDS = 60
# (attribute path, what it holds): the frames worth a file; the small ones (quarantine, accounting,
# duplicates, per-file outcomes) stay in the pickled batch
LARGE = ("raw_screenings", "raw_assistance", "staged.typed_screenings", "staged.typed_assistance")

_held: dict[Path, int] = {}  # this process's live folders -> the descriptor holding their lock


def run_folder(tmp_dir: Path) -> Path:
    """A new hand-off folder under the restricted temp folder (owner-only), locked by this process
    until `close_folder`. One per run, so two runs in one process never share."""
    Path(tmp_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=tmp_dir))
    fd = os.open(folder / LOCK, os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # new file: nobody else holds it
    _held[folder] = fd
    return folder


def close_folder(folder: Path) -> None:
    """Remove a run's folder, whatever is left in it, and release its lock."""
    shutil.rmtree(folder, ignore_errors=True)
    fd = _held.pop(Path(folder), None)
    if fd is not None:
        os.close(fd)


def _run_is_gone(folder: Path) -> bool:
    try:
        fd = os.open(folder / LOCK, os.O_RDWR)
    except FileNotFoundError:
        with contextlib.suppress(OSError):
            return time.time() - folder.stat().st_mtime > UNLOCKED_GRACE_SECONDS
        return False
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # its run's lock is free: the run is gone
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # (drops the lock just taken too)
    return True


def remove_stale(tmp_dir: Path) -> int:
    """Remove the hand-off folders of runs that are gone (killed mid-run); returns how many."""
    try:
        entries = [p for p in Path(tmp_dir).iterdir() if p.name.startswith(PREFIX) and p.is_dir()]
    except OSError:
        return 0
    gone = [p for p in entries if p not in _held and _run_is_gone(p)]
    for p in gone:
        shutil.rmtree(p, ignore_errors=True)
    return len(gone)


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
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)  # owner-only whatever the umask
        with os.fdopen(fd, "wb") as f:
            _get(group, attr).write_ipc(f, compression="uncompressed")
        _set(group, attr, path)
    return group


def _read(path: Path) -> pl.DataFrame:
    # polars' reader, measured against pyarrow's at 1M (the whole ingest, peak RSS of the process
    # tree): polars 3,150 MB; pyarrow into memory 3,612 (3,629 with the system allocator); pyarrow
    # memory-mapped 3,348; CPU the same within noise. polars copies the file into memory (no mapping
    # of it stays; a mapped frame would keep the deleted file's blocks on disk while it lived).
    return pl.read_ipc(path)


def unpack(group):
    """Ingesting side: read the frames back (and remove their files). A batch that was not packed
    (staged in this process) is returned as it is."""
    for attr in LARGE:
        path = _get(group, attr)
        if isinstance(path, Path):
            try:
                _set(group, attr, _read(path))
            finally:
                path.unlink(missing_ok=True)
    return group


__all__ = ["LARGE", "close_folder", "pack", "remove_stale", "run_folder", "unpack"]
