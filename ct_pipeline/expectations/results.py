"""Results of the suites, with counts only — never a value from the data.

Great Expectations results can carry the failing values (`partial_unexpected_list`,
`partial_unexpected_counts`, `unexpected_list`, `unexpected_index_list`, `unexpected_rows`, ...).
The runner asks for a result format that omits them, and `scrub` removes them again before
anything is returned or stored (Data Docs are rendered from the scrubbed results).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ct_pipeline.notify.sanitize import sanitize_message

# Keys of a GE result that can hold values, row indices or queries that select them.
FORBIDDEN_KEYS = frozenset({
    "partial_unexpected_list",
    "partial_unexpected_counts",
    "partial_unexpected_index_list",
    "unexpected_list",
    "unexpected_index_list",
    "unexpected_index_query",
    "unexpected_index_column_names",
    "unexpected_rows",
    "details",
})
# Expectations whose observed_value is an aggregate over the whole frame (safe to show).
AGGREGATE_EXPECTATIONS = frozenset({"expect_table_row_count_to_be_between", "expect_column_mean_to_be_between"})

# The result format asked of GE: counts and percentages, no values, no row indices.
RESULT_FORMAT: dict[str, Any] = {
    "result_format": "BASIC",
    "partial_unexpected_count": 0,
    "exclude_unexpected_values": True,
    "include_unexpected_rows": False,
    "return_unexpected_index_query": False,
}


def scrub(result: dict | None, expectation_type: str) -> dict:
    """A GE expectation result without anything that could hold a value."""
    if not result:
        return {}
    out = {}
    for k, v in result.items():
        if k in FORBIDDEN_KEYS:
            continue
        if k == "observed_value" and expectation_type not in AGGREGATE_EXPECTATIONS:
            continue
        if isinstance(v, dict | list | tuple | set):
            continue  # nested structures are where values hide; counts are scalars
        out[k] = v
    return out


def scrub_exception_info(info: dict | None) -> dict:
    """Keep whether an exception was raised and a sanitised message; drop tracebacks."""
    if not info:
        return info or {}
    if "raised_exception" in info or "exception_message" in info:
        return {
            "raised_exception": bool(info.get("raised_exception")),
            "exception_message": sanitize_message(info.get("exception_message") or "", roots=[]) or None,
            "exception_traceback": None,
        }
    return {k: scrub_exception_info(v) if isinstance(v, dict) else None for k, v in info.items()}


@dataclass(frozen=True)
class ExpectationSummary:
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed: float | None = None  # row count, or a mean/share: aggregates only
    origin: str = ""  # registry | tolerance | rule | freshness | schema
    description: str = ""
    raised_exception: bool = False
    scope: str = "row"  # plan.ROW | KEY | TABLE: checked on the rows validated, or over the whole table

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TableResult:
    table: str
    suite: str
    success: bool
    expectations: list[ExpectationSummary] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: bool = False
    rows_in_table: int | None = None
    rows_validated: int | None = None  # rows the ROW and KEY checks saw (see notes when < rows_in_table)
    sampled: bool = False
    seconds: float = 0.0  # read (DuckDB -> pandas) + validate
    seconds_read: float = 0.0
    data_docs: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # freshness: mission codes (pii none) and days

    @property
    def failed(self) -> list[ExpectationSummary]:
        return [e for e in self.expectations if not e.success]

    def summary_line(self) -> str:
        if self.skipped:
            return f"{self.suite}: skipped — {'; '.join(self.notes)}"
        n, bad = len(self.expectations), len(self.failed)
        line = f"{self.suite}: {n - bad}/{n} expectations passed"
        if bad:
            parts = []
            for e in self.failed[:10]:
                where = f" on {e.column}" if e.column else ""
                cnt = f" ({e.unexpected_count} rows)" if e.unexpected_count is not None else ""
                parts.append(f"{e.expectation}{where}{cnt}")
            line += "; failed: " + "; ".join(parts)
        return line

    def run_info(self, *, check: str = "great_expectations", blocking: bool | None = None) -> dict[str, Any]:
        """The facts notify.failure_summary needs to explain this result."""
        info: dict[str, Any] = {
            "check": check,
            "table": self.table,
            "failed_expectations": self.failed,
            "data_docs": self.data_docs,
            "counts": {"rows_in_table": self.rows_in_table or 0, "failed_rules": len(self.failed)},
        }
        if blocking is not None:
            info["blocking"] = blocking
        if self.details.get("stale_missions"):
            info["stale_missions"] = self.details["stale_missions"]
        return info

    def to_metadata(self) -> dict[str, Any]:
        """JSON-safe counts for Dagster metadata or a report."""
        return {
            "suite": self.suite,
            "success": self.success,
            "skipped": self.skipped,
            "expectations": len(self.expectations),
            "failed_expectations": len(self.failed),
            "rows_in_table": self.rows_in_table,
            "rows_validated": self.rows_validated,
            "sampled": self.sampled,
            "seconds": round(self.seconds, 3),
            "seconds_read": round(self.seconds_read, 3),
            "data_docs": self.data_docs,
            "failed": [e.to_dict() for e in self.failed],
            "notes": list(self.notes),
            **({"details": self.details} if self.details else {}),
        }
