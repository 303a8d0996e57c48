"""Analyses of the warehouse: the mart_* tables (analyst zone)."""

from ct_pipeline.analysis.marts import MARTS, build_marts, check_marts, flow_class_sql
from ct_pipeline.analysis.sources import SourceError, missing_sources

__all__ = ["MARTS", "SourceError", "build_marts", "check_marts", "flow_class_sql", "missing_sources"]
