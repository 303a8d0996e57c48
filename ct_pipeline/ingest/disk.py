"""Refuse to start a load that the restricted zone's disk cannot hold.

A load writes more than its exports: raw, staged and vault rows, held until the person linkage at
the end of the run, spill into the restricted zone's temporary folder (DuckDB's temp files), and
the build database then grows by about as much again at COMMIT. At ten million cases (8.3 GiB of
exports) the temporary folder reached ~32 GB before the COMMIT (bench/HISTORY.md, session 9): about
4 bytes of disk for each byte of exports read. A disk that fills half-way through an hour's load
fails it with an I/O error after the hour (the transaction rolls back: nothing is lost, but the
night is); this check says so before anything is written.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

#: free disk needed per byte of the export files a run will read (measured: see the docstring)
DISK_PER_EXPORT_BYTE = 4
SKIP_ENV = "CT_SKIP_DISK_CHECK"
SKIP_VALUES = ("1", "true", "yes", "on")


class InsufficientDiskSpace(RuntimeError):
    """Less free space on the restricted zone's disk than the run's exports need."""


def _gib(n: int) -> str:
    return f"{n / (1 << 30):.1f} GiB"


def check_free_space(folder: str | Path, export_bytes: int, files: int) -> None:
    """Raise InsufficientDiskSpace when `folder`'s file system has less free space than
    DISK_PER_EXPORT_BYTE times the bytes of the `files` export files the run will read.
    ${SKIP_ENV}=1 (or true, yes, on) skips the check (a custodian who knows better); any other
    value, "false" included, keeps it."""
    if os.environ.get(SKIP_ENV, "").strip().lower() in SKIP_VALUES or export_bytes <= 0:
        return
    need = export_bytes * DISK_PER_EXPORT_BYTE
    existing = Path(folder)
    while not existing.exists() and existing != existing.parent:  # not created yet: its disk
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    if free < need:
        raise InsufficientDiskSpace(
            f"Not enough free disk space for this load: {files} new export files ({_gib(export_bytes)}) need "
            f"about {_gib(need)} free on the disk of the restricted folder {folder} (rows held until the "
            f"person linkage, temporary files, the database growing), and it has {_gib(free)}. Nothing was "
            f"loaded. Free space there, or move the warehouse to a larger disk, and run again "
            f"(or set {SKIP_ENV}=1 to load anyway)."
        )


__all__ = ["DISK_PER_EXPORT_BYTE", "InsufficientDiskSpace", "check_free_space"]
