"""Donor chart packs and the research unit's data-quality pack (public zone, from pub_* tables)."""

from ct_pipeline.reports.csvsafe import safe_text, write_csv
from ct_pipeline.reports.donors import (
    Donor,
    DonorFilters,
    audiences,
    default_donors_file,
    load_donors,
    period_ranges,
)
from ct_pipeline.reports.packs import RESEARCH_UNIT, build_donor_packs, build_research_pack

__all__ = [
    "RESEARCH_UNIT", "Donor", "DonorFilters", "audiences", "build_donor_packs", "build_research_pack",
    "default_donors_file", "load_donors", "period_ranges", "safe_text", "write_csv",
]
