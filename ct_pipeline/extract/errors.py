"""Why a whole export file is refused, in words a mission officer understands."""

from __future__ import annotations


class FileRefused(Exception):
    """The file as a whole cannot be ingested.

    `reason` is written to the ingestion ledger and the mission's data-quality report: it names
    columns, sheets, line numbers, encodings and formats, never a value from the file.
    """

    def __init__(self, reason: str, *, era: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.era = era

    def __reduce__(self):  # picklable with its era (files are extracted in worker processes)
        return (_refused, (self.reason, self.era))


def _refused(reason: str, era: str | None) -> FileRefused:
    return FileRefused(reason, era=era)
