"""Fingerprints of the rows a validation has passed (restricted zone), so that a nightly run
validates row by row only what changed. Used by the Great Expectations suites (runner.py) and the
pandera gates (checks.pandera_check)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb


def sql_text(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


class PassedRows:
    """What a validation has already passed, per suite, under the suite's signature (for GE,
    SuitePlan.signature; for pandera, the schema's):

    - <suite>/part-*.parquet: fingerprints (h1, h2: two 64-bit hashes; GE: SuitePlan.fingerprint_sql
      of the frame rows, pandera: `hashing.registry_row_hash` of the table rows) of rows whose ROW
      checks all passed. Such a row is not validated row by row again: its ROW checks would see
      the same values and pass again. A pass adds a part with the rows it validated; every
      MAX_PARTS passes, the parts are replaced by one of the table's current rows (a fingerprint
      no row has any more is harmless, only space).
    - <suite>.json: the signature and the parts; and, when the whole suite passed on every row, the
      multiset summary of the table's fingerprints (count and sums) with the results. A table found
      with that same summary and no key problem is the table GE passed: its results are reused.

    Kept in the restricted zone: hashes only (GE: of codes, numbers and booleans; pandera: of the
    analyst-zone columns of staged and core rows, which hold no direct identifier).
    Written only after a pass; parts first, the JSON last (a part it does not list is ignored).
    A missing, unreadable or outdated JSON means every row is validated."""

    MAX_PARTS = 8

    def __init__(self, root: Path):
        self.root = root

    def load(self, suite: str, signature: str) -> dict | None:
        try:
            meta = json.loads((self.root / f"{suite}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        parts = [self.root / suite / p for p in meta.get("parts", [])]
        if meta.get("signature") != signature or not parts or not all(p.exists() for p in parts):
            return None
        return {**meta, "paths": [str(p) for p in parts]}

    def write(self, con: duckdb.DuckDBPyConnection, suite: str, signature: str, prior: dict | None,
              new_rows_sql: str | None, all_rows_sql: str, extra: dict[str, Any]) -> None:
        """Add a part with the distinct (h1, h2) of `new_rows_sql` (None: nothing new) to the
        prior's parts, or start again from `all_rows_sql`; then write the JSON."""
        info = self.root / f"{suite}.json"
        folder = self.root / suite
        folder.mkdir(parents=True, exist_ok=True)
        parts = list(prior.get("parts", [])) if prior else []
        info.unlink(missing_ok=True)  # never a signature over another signature's parts
        if not parts or len(parts) >= self.MAX_PARTS:
            parts, rows_sql = [], all_rows_sql
        else:
            rows_sql = new_rows_sql
        if rows_sql is not None:
            name = f"part-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}.parquet"
            con.execute(f"COPY (SELECT DISTINCT h1, h2 FROM ({rows_sql})) TO {sql_text(folder / name)} (FORMAT parquet)")
            parts.append(name)
        info.write_text(json.dumps({"signature": signature, "parts": parts, **extra}, default=str),
                        encoding="utf-8")
        for old in folder.glob("part-*.parquet"):  # replaced parts, or left by an interrupted write
            if old.name not in parts:
                old.unlink(missing_ok=True)


__all__ = ["PassedRows", "sql_text"]
