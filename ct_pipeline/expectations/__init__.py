"""Great Expectations suites of the core tables and marts, generated from the registry plus
tolerances (tolerances.yaml) and hand-written rules (rules.yaml); freshness of mission exports;
a Data Docs site for the research unit. Results carry counts, never values.

Great Expectations is imported only when suites run (its import takes seconds)."""

from ct_pipeline.expectations.config import load_rules, load_tolerances
from ct_pipeline.expectations.plan import FRESHNESS_SUITE, default_tables
from ct_pipeline.expectations.results import ExpectationSummary, TableResult
from ct_pipeline.expectations.runner import run_expectations

__all__ = [
    "FRESHNESS_SUITE",
    "ExpectationSummary",
    "TableResult",
    "default_tables",
    "load_rules",
    "load_tolerances",
    "run_expectations",
]
