"""Extraction: one export file -> raw records (text + provenance), or a refusal with a reason.

`extract_file(path, exports_root)`:
1. mission code and received date from the path `<MISSION>/<YYYY-MM-DD>/<file>`;
2. the era from the file's extension and header signature (`formats.signature(era, form)`): exactly
   one (era, form) must match, else the file is refused naming the closest format's missing and
   unexpected headers;
3. strict decoding in the era's encoding (never lossy), then the era's reader (CSV, XLSX, JSONL);
4. raw frames shaped like the registry tables `raw_screenings` / `raw_assistance`: every value as
   text, provenance typed (source_file relative with forward slashes, source_row, SHA-256 of the
   bytes, era, mission code, received date). Records that cannot be read at all (a broken JSON
   line, a CSV row cut off) are returned in `quarantine` with their rule, so they are accounted.

A refused file raises `FileRefused` whose `reason` names formats, columns, sheets and line numbers,
never a value from the file. `extract_reference(path)` reads the CTDC global dataset into
`ref_ctdc_cases` (typed) the same strict way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

import polars as pl

from ct_pipeline.extract import csv_export, jsonl_export, xlsx_export
from ct_pipeline.extract.ctdc import ERA as CTDC_ERA
from ct_pipeline.extract.ctdc import MISSION as CTDC_MISSION
from ct_pipeline.extract.ctdc import type_ctdc
from ct_pipeline.extract.errors import FileRefused
from ct_pipeline.extract.frames import (
    Provenance,
    quarantine_frame,
    raw_frames,
    text_frame,
    value_frame,
)
from ct_pipeline.extract.paths import ExportPath, parse_export_path, relative_name
from ct_pipeline.formats import eras as formats

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
# A header row and no record is a valid, empty export (e.g. no assistance in the period): it is
# loaded with 0 rows and this note in the ledger, not refused.
EMPTY_NOTE = "The file has a header row but no records: nothing to load."
CTDC_PATH = PACKAGE_ROOT / "reference" / "ctdc" / "ctdc_global_dataset_2020_subset.csv"


@dataclass
class Extracted:
    """What one file yielded. rows_read counts every record, read or set aside.

    `screenings` / `assistance` are the registry's raw tables for this file (built on first use);
    `raw_frames` builds them for many files at once, which is what the ingestion does.
    """

    source_file: str
    source_sha256: str
    era: str
    mission_code: str | None
    received_date: dt.date | None
    screening_values: pl.DataFrame  # source_row + mapped fields as text
    assistance_values: pl.DataFrame
    quarantine: pl.DataFrame
    reference: pl.DataFrame | None = None
    notes: list[str] = field(default_factory=list)  # for the ledger's error_message of a loaded file

    @property
    def provenance(self) -> Provenance:
        return Provenance(self.source_file, self.source_sha256, self.era, self.mission_code, self.received_date)

    def values(self, form: str) -> pl.DataFrame:
        return self.screening_values if form == "screening" else self.assistance_values

    @cached_property
    def screenings(self) -> pl.DataFrame:
        return raw_frames([(self.provenance, self.screening_values)], "raw_screenings")

    @cached_property
    def assistance(self) -> pl.DataFrame:
        return raw_frames([(self.provenance, self.assistance_values)], "raw_assistance")

    @property
    def rows_read(self) -> int:
        q = self.quarantine.select("form", "source_row").unique().height if self.quarantine.height else 0
        ref = self.reference.height if self.reference is not None else 0
        return self.screening_values.height + self.assistance_values.height + ref + q

    def rows_by_form(self) -> dict[str, int]:
        q = self.quarantine.select("form", "source_row").unique().group_by("form").len()
        out = {"screening": self.screening_values.height, "assistance": self.assistance_values.height}
        if self.reference is not None:
            out["reference"] = self.reference.height
        for form, n in q.iter_rows():
            out[form] = out.get(form, 0) + n
        return out


def raw_tables(extracted: list[Extracted]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(raw_screenings, raw_assistance) of many extracted files, in file order."""
    return (
        raw_frames([(e.provenance, e.screening_values) for e in extracted], "raw_screenings"),
        raw_frames([(e.provenance, e.assistance_values) for e in extracted], "raw_assistance"),
    )


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@cache
def _no_values() -> pl.DataFrame:
    return pl.DataFrame({"source_row": pl.Series([], dtype=pl.Int64)})


def _kind_of(path: Path) -> tuple[str, list[formats.Era]]:
    suffix = path.suffix.lower()
    eras = [e for e in formats.load_eras().values() if suffix in e.extensions]
    if not eras:
        known = sorted({x for e in formats.load_eras().values() if not e.reference for x in e.extensions})
        hint = " (an old .xls workbook must be saved as .xlsx)" if suffix == ".xls" else ""
        raise FileRefused(
            f"The file type '{suffix or '(none)'}' is not an export format{hint}; expected one of "
            + ", ".join(known) + "."
        )
    kinds = {e.file_kind for e in eras}
    return kinds.pop() if len(kinds) == 1 else "csv", eras


def extract_file(
    path: Path, exports_root: Path, *, today: dt.date | None = None, data: bytes | None = None
) -> Extracted:
    """Extract one mission export (see module docstring). Raises FileRefused.

    `data`: the file's bytes when the caller has read them already (they are not read again).
    """
    path = Path(path)
    where: ExportPath = parse_export_path(path, exports_root, today=today)
    data = path.read_bytes() if data is None else data
    return _extract_one(path, where, data)


def _extract_one(path: Path, where: ExportPath, data: bytes) -> Extracted:
    if not data:
        raise FileRefused("The file is empty (0 bytes).")
    kind, _ = _kind_of(path)
    sha = sha256_of(data)
    if kind == "csv":
        return _extract_csv(path, data, sha, where)
    if kind == "xlsx":
        return _extract_xlsx(path, data, sha, where)
    return _extract_jsonl(data, sha, where)


def _extract_csv(path: Path, data: bytes, sha: str, where: ExportPath) -> Extracted:
    if data.startswith(xlsx_export.ZIP_MAGIC):
        raise FileRefused("The file is named like a text export but is a zip container (an Excel workbook?); "
                          "save MiMOSA workbooks as .xlsx.")
    era, form = csv_export.detect_csv(data, path.suffix.lower(), allow_reference=False)
    try:
        header, parsed = csv_export.read_csv_export(data, era)
    except FileRefused as e:
        e.era = era
        raise
    notes = [EMPTY_NOTE] if parsed.rows_read == 0 else []
    values = csv_export.mapped_columns(header, parsed, formats.column_map(era, form))
    frame = value_frame(values, parsed.data.get_column("source_row"))
    quarantine = quarantine_frame(csv_export.bad_record_rows(parsed, form, where.source_file, where.mission_code, era))
    frames = {"screening": _no_values(), "assistance": _no_values(), form: frame}
    return Extracted(where.source_file, sha, era, where.mission_code, where.received_date,
                     frames["screening"], frames["assistance"], quarantine, notes=notes)


def _extract_xlsx(path: Path, data: bytes, sha: str, where: ExportPath) -> Extracted:
    era = next(e for e in formats.load_eras().values() if e.file_kind == "xlsx")
    wb = xlsx_export.open_workbook(path, data)
    try:
        sheets = xlsx_export.check_sheets(wb, era)
    finally:
        try:
            wb.close()
        except Exception:  # noqa: BLE001
            pass
    notes = [EMPTY_NOTE] if sum(len(s.rows) for s in sheets.values()) == 0 else []
    frames = {}
    for form, sheet in sheets.items():
        values = {f: pl.Series(f, sheet.text(h), dtype=pl.String) for f, h in formats.column_map(era.name, form).items()}
        for fld, flags in formats.flag_map(era.name, form).items():
            values[fld] = xlsx_export.flags_to_multi(sheet, flags)
        frames[form] = value_frame(values, pl.Series("source_row", sheet.rows, dtype=pl.Int64))
    return Extracted(where.source_file, sha, era.name, where.mission_code, where.received_date,
                     frames["screening"], frames["assistance"], quarantine_frame([]), notes=notes)


def _jsonl_extracted(where: ExportPath, sha: str, parsed: jsonl_export.Parsed) -> Extracted:
    return Extracted(
        where.source_file, sha, jsonl_export.ERA, where.mission_code, where.received_date,
        text_frame(parsed.screening), text_frame(parsed.assistance), quarantine_frame(parsed.quarantine),
    )


def _extract_jsonl(data: bytes, sha: str, where: ExportPath) -> Extracted:
    text = jsonl_export.decode_text(data)
    out = jsonl_export.parse_texts({where.source_file: text}, {where.source_file: where.mission_code})
    res = out[where.source_file]
    if isinstance(res, FileRefused):
        raise res
    return _jsonl_extracted(where, sha, res)


JSONL_BATCH_BYTES = 256 * 1024 * 1024


class ExtractionFailed(Exception):
    """A bug hit while extracting one file (type name only: an exception's text may quote values)."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


def extract_files(
    paths: list[Path],
    exports_root: Path,
    *,
    today: dt.date | None = None,
    data: dict[Path, bytes] | None = None,
) -> list[Extracted | FileRefused | Exception]:
    """`extract_file` for many files, in order: per file an Extracted, a FileRefused, or (a bug)
    another exception. JSON Lines files are parsed together, in batches, in one DuckDB query each;
    a failure of a batch falls back to one file at a time, so one file never stops the others.
    (`ct_pipeline.ingest.stage_groups` runs this in worker processes, a batch of missions each.)"""
    results: list[Extracted | FileRefused | Exception | None] = [None] * len(paths)
    pending: dict[str, tuple[int, ExportPath, str, object]] = {}
    pending_bytes = 0

    def flush() -> None:
        nonlocal pending, pending_bytes
        if not pending:
            return
        batch = {k: v[3] for k, v in pending.items()}
        try:
            out = jsonl_export.parse_texts(batch, {k: v[1].mission_code for k, v in pending.items()})
        except Exception:  # noqa: BLE001 - retry one by one so that only the culprit fails
            out = {}
            for k, text in batch.items():
                try:
                    out[k] = jsonl_export.parse_texts({k: text}, {k: pending[k][1].mission_code})[k]
                except Exception as e:  # noqa: BLE001
                    out[k] = e
        for k, (i, where, sha, _) in pending.items():
            res = out[k]
            try:
                results[i] = res if isinstance(res, Exception) else _jsonl_extracted(where, sha, res)
            except Exception as e:  # noqa: BLE001
                results[i] = e
        pending, pending_bytes = {}, 0

    for i, path in enumerate(paths):
        path = Path(path)
        try:
            raw = data.get(path) if data else None
            where = parse_export_path(path, exports_root, today=today)
            raw = path.read_bytes() if raw is None else raw
            if not raw:
                raise FileRefused("The file is empty (0 bytes).")
            kind, _ = _kind_of(path)
            if kind != "jsonl":
                results[i] = _extract_one(path, where, raw)
                continue
            # decoded here (a file that is not UTF-8 is refused on its own); its lines are split
            # and numbered with the rest of the batch
            text = jsonl_export.decode_text(raw)
            pending[where.source_file] = (i, where, sha256_of(raw), text)
            pending_bytes += len(raw)
            if pending_bytes >= JSONL_BATCH_BYTES:
                flush()
        except Exception as e:  # noqa: BLE001 - FileRefused, or a bug confined to this file
            results[i] = e
    flush()
    return results  # type: ignore[return-value]


def reference_name(path: Path) -> str:
    """Lineage name of a reference file: `reference/ctdc/<file>` for the shipped copy."""
    path = Path(path).resolve()
    try:
        return "reference/" + path.relative_to(PACKAGE_ROOT / "reference").as_posix()
    except ValueError:
        return "reference/" + path.name


def extract_reference(path: Path = CTDC_PATH) -> Extracted:
    """The CTDC global dataset -> Extracted with `reference` = ref_ctdc_cases (typed)."""
    path = Path(path)
    data = path.read_bytes()
    if not data:
        raise FileRefused("The file is empty (0 bytes).", era=CTDC_ERA)
    sha = sha256_of(data)
    era, form = csv_export.detect_csv(data, path.suffix.lower(), allow_reference=True)
    if era != CTDC_ERA:
        raise FileRefused("This is a mission export, not the CTDC global dataset.", era=era)
    header, parsed = csv_export.read_csv_export(data, era)
    name = reference_name(path)
    values = csv_export.mapped_columns(header, parsed, formats.column_map(era, form))
    raw = pl.DataFrame(values | {"source_row": parsed.data.get_column("source_row")})
    typed, quarantine = type_ctdc(raw, name, sha)
    bad = quarantine_frame(csv_export.bad_record_rows(parsed, form, name, CTDC_MISSION, era))
    return Extracted(
        name, sha, era, CTDC_MISSION, None, _no_values(), _no_values(),
        pl.concat([quarantine, bad]), reference=typed,
    )


__all__ = [
    "CTDC_PATH",
    "Extracted",
    "FileRefused",
    "extract_file",
    "extract_files",
    "extract_reference",
    "ExtractionFailed",
    "raw_tables",
    "parse_export_path",
    "reference_name",
    "relative_name",
]
