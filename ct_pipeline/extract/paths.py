"""Mission code and received date from the drop-folder path `<MISSION>/<YYYY-MM-DD>/<file>`."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ct_pipeline.extract.errors import FileRefused

MISSION_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")
LAYOUT = "<MISSION>/<YYYY-MM-DD>/<file> (for example MD-CHI/2024-03-01/export.xlsx)"


@dataclass(frozen=True)
class ExportPath:
    source_file: str  # relative to the exports folder, forward slashes
    mission_code: str | None
    received_date: dt.date | None


def files_under(root: Path) -> list[tuple[tuple[str, ...], os.stat_result]]:
    """Every file under `root` as (its path's parts relative to root, its stat), in the order of
    `sorted(root.rglob("*"))` (by parts); symbolic links to folders are not followed, links to
    files are (as rglob and is_file do). One scandir per folder: a night lists ~8,000 exports,
    and rglob + is_file + stat cost ~0.5 s of it."""
    out: list[tuple[tuple[str, ...], os.stat_result]] = []

    def walk(folder: str, parts: tuple[str, ...]) -> None:
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                walk(e.path, (*parts, e.name))
            elif e.is_file():
                try:
                    out.append(((*parts, e.name), e.stat()))
                except FileNotFoundError:  # removed while listing
                    continue

    walk(str(root), ())
    out.sort(key=lambda item: item[0])
    return out


def relative_name(path: Path, exports_root: Path) -> str:
    """The file's path relative to the exports folder, with forward slashes (or its absolute path)."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(exports_root.resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def parse_export_path(path: Path, exports_root: Path, *, today: dt.date | None = None) -> ExportPath:
    """Check the drop-folder layout; raise FileRefused (with what could be read) when it is wrong."""
    # each resolve() is a system call per path component: once each (relative_name's result)
    try:
        inside = path.resolve().relative_to(exports_root.resolve())
    except ValueError:
        raise FileRefused(f"The file is not inside the exports folder; exports go in {LAYOUT}.") from None
    rel, parts = inside.as_posix(), inside.parts
    if len(parts) != 3:
        raise FileRefused(
            f"The file is not in the expected folder layout: exports go in {LAYOUT}; "
            f"this file is {len(parts) - 1} folder(s) deep."
        )
    mission, received, _ = parts
    if not MISSION_CODE.match(mission):
        raise FileRefused(
            "The first folder is not a mission code (capital letters, digits and '-' or '_', "
            f"up to 32 characters); exports go in {LAYOUT}."
        )
    try:
        day = dt.date.fromisoformat(received) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", received) else None
    except ValueError:
        day = None
    if day is None:
        raise FileRefused(
            f"The second folder is not a received date written YYYY-MM-DD (a real calendar date); exports go in {LAYOUT}."
        )
    if day > (today or dt.date.today()):
        raise FileRefused("The received-date folder is in the future; exports go in " + LAYOUT + ".")
    return ExportPath(rel, mission, day)
