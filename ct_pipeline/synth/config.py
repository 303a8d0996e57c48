"""Configuration of the synthetic generator and the ground-truth defect vocabulary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

# Defect vocabulary of the truth file, in the order it is written.
DEFECTS: tuple[str, ...] = (
    "missing_value",
    "country_variant",
    "unknown_country",
    "ambiguous_date",
    "excel_serial_date",
    "excel_blank_date",
    "not_recorded_code",
    "reexport",
    "reexport_corrected",
    "migrated_legacy",
    "cross_mission_person",
    "exact_duplicate",
    "registration_before_1999",
    "date_in_future",
    "impossible_age",
    "identification_before_birth",
    "assistance_before_identification",
    "gaf_before_august_2000",
    "exploitation_end_before_start",
)
BIT = {d: 1 << i for i, d in enumerate(DEFECTS)}
# Internal bit (never written): a required field is missing -> quarantine.
REQUIRED_MISSING = 1 << 30

QUARANTINE = (
    "unknown_country",
    "date_in_future",
    "impossible_age",
    "identification_before_birth",
    "assistance_before_identification",
    "gaf_before_august_2000",
    "exploitation_end_before_start",
)
CORRECTED = ("country_variant", "ambiguous_date", "excel_serial_date", "excel_blank_date", "not_recorded_code")
OUT_OF_SCOPE = ("registration_before_1999",)
QUARANTINE_MASK = sum(BIT[d] for d in QUARANTINE) | REQUIRED_MISSING
CORRECTED_MASK = sum(BIT[d] for d in CORRECTED)
OUT_OF_SCOPE_MASK = sum(BIT[d] for d in OUT_OF_SCOPE)

# Canonical fields named in defect_fields, in the order they are written.
FIELDS: tuple[str, ...] = (
    "case_ref", "submission_uuid", "registration_date", "identification_date", "full_name", "given_name",
    "family_name", "date_of_birth", "age_reported", "sex", "citizenship", "document_number", "phone", "address",
    "narrative", "interviewer_name", "identifying_agency", "victim_status", "is_eligible_for_assistance",
    "exploitation_types", "labour_sectors", "means_of_control", "recruiter_relationship", "recruitment_country",
    "transit_countries", "exploitation_country", "recruitment_date", "exploitation_start_date",
    "exploitation_end_date", "has_research_consent",
    "assistance_type", "assistance_start_date", "assistance_end_date", "provider_name", "funding_source",
    "reintegration_outcome", "return_country",
)
FBIT = {f: 1 << i for i, f in enumerate(FIELDS)}


@dataclass
class SynthConfig:
    """Rates of every defect (probabilities, before the `messiness` multiplier) and a few knobs.

    `messiness` multiplies every defect rate (capped at 1): 0 gives perfectly clean exports (no row
    of the truth file has a defect), 1 the defaults, 3 a very messy test bed. Structural features
    that are not defects (re-trafficking in the same mission, people without a document or a phone,
    non-victims, ongoing assistance) do not depend on it.
    """

    messiness: float = 1.0
    # --- content defects, per case (all copies of the case carry them) -----------------------
    missing_value: float = 0.08  # a case loses 1-3 optional values it had
    missing_required: float = 0.0005  # the registration date is missing (quarantine)
    unknown_country: float = 0.003  # a country field holds garbage ("Atlantis", "XX", "XXX")
    date_in_future: float = 0.002  # registration / identification date in the 2090s
    impossible_age: float = 0.002  # age 120+ or a date of birth before 1906
    identification_before_birth: float = 0.0015
    exploitation_end_before_start: float = 0.002
    registration_before_1999: float = 0.03  # per legacy case registered in 1999 (moved to 1997-98)
    # --- content defects, per assistance episode ----------------------------------------------
    assistance_missing_value: float = 0.05
    assistance_before_identification: float = 0.003
    assistance_date_in_future: float = 0.001
    assistance_unknown_country: float = 0.005  # of voluntary-return episodes
    gaf_before_august_2000: float = 0.1  # of episodes starting before 2000-08-01
    # --- format defects (per era) --------------------------------------------------------------
    country_variant: float = 0.3  # legacy: a country cell written as a variant / misspelling
    country_variant_native: float = 0.85  # legacy, French/Spanish missions: country in their language
    ambiguous_date: float = 0.5  # legacy: share of cases whose dates may have day <= 12
    excel_serial_date: float = 0.12  # MiMOSA: per (file, date column): plain serial numbers
    excel_blank_date: float = 0.35  # MiMOSA: per file: blank dates exported as 1900-01-01
    not_recorded_code: float = 0.5  # legacy words / MiMOSA -99 for a value not recorded
    exact_duplicate: float = 0.004  # per row: the row appears twice in its file
    # --- records ----------------------------------------------------------------------------------
    reexport: float = 0.06  # a case is exported again in a later export of the same mission
    reexport_corrected: float = 0.35  # share of re-exports that correct a field
    migrated_legacy: float = 0.25  # a legacy case reappears in the mission's first MiMOSA exports
    cross_mission_person: float = 0.012  # share of cases that are a person's case in a 2nd mission
    # --- structure (not defects) ------------------------------------------------------------------
    retrafficking: float = 0.02  # share of cases that are a person's later case in the same mission
    same_document: float = 0.5  # a person's later case records the same document number (if any)
    same_phone: float = 0.3  # ... and the same phone number (if any)
    multiline_narrative: float = 0.02  # narratives with a line break (CSV: quoted multi-line cell)
    as_of: date = date(2026, 10, 31)  # no date after this (deterministic "today")
    workers: int | None = None  # processes; None: min(2, CPUs); 1: in-process
    canaries: list[dict] = field(default_factory=list)  # planted identities (privacy tests)
    xlsx_compresslevel: int = 1

    def rate(self, name: str) -> float:
        return min(1.0, max(0.0, float(getattr(self, name)) * self.messiness))
