"""Staging: types, code lists, cross-field rules, duplicates, Pandera, accounting."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from ct_pipeline.metadata.registry import load_registry
from ct_pipeline.metadata.types import polars_schema
from ct_pipeline.stage import stage

TODAY = dt.date(2026, 11, 28)
PROV = {"source_sha256": "0" * 64, "mission_code": "MD-CHI", "received_date": dt.date(2024, 3, 1)}


def raw(table: str, rows: list[dict], era: str, source_file: str = "MD-CHI/2024-03-01/f") -> pl.DataFrame:
    schema = polars_schema(load_registry(), table)
    full = []
    for i, r in enumerate(rows, start=1):
        rec = {c: None for c in schema} | PROV | {"source_file": source_file, "source_row": i, "era": era} | r
        full.append(rec)
    return pl.DataFrame(full, schema=schema)


def screening(era: str = "ctm_legacy", **kw) -> dict:
    base = {
        "ctm_legacy": {"case_ref": "CHI-1", "registration_date": "15/03/2005", "identification_date": "10/03/2005",
                       "date_of_birth": "01/02/1985", "sex": "Femme", "citizenship": "Moldavie"},
        "mimosa_xlsx": {"case_ref": "M-1", "registration_date": "2014-05-02", "identification_date": "41759",
                        "sex": "F", "citizenship": "NA"},
        "case_api_jsonl": {"case_ref": "A-1", "registration_date": "2021-06-01", "sex": "male", "citizenship": "UKR"},
    }[era]
    return base | kw


def run(scr: list[dict] = (), ast: list[dict] = (), era: str = "ctm_legacy", **kw):
    return stage(raw("raw_screenings", list(scr), era, **kw), raw("raw_assistance", list(ast), era, **kw), today=TODAY)


def rules(st) -> list[tuple]:
    return [tuple(r) for r in st.quarantine.select("source_row", "field_name", "rule").sort("source_row", "field_name").iter_rows()]


def test_a_clean_legacy_record_is_typed():
    st = run([screening(is_eligible_for_assistance="Oui", means_of_control="menaces / dette", transit_countries="Roumanie+Hongrie",
                        age_reported="-99", victim_status="inconnu")])
    assert rules(st) == []
    r = st.typed_screenings.row(0, named=True)
    assert r["registration_date"] == dt.date(2005, 3, 15) and r["identification_date"] == dt.date(2005, 3, 10)
    assert (r["sex"], r["citizenship"], r["is_eligible_for_assistance"]) == ("female", "MD", True)
    assert r["means_of_control"] == ["threats", "debt_bondage"] and r["transit_countries"] == ["RO", "HU"]
    assert r["age_reported"] is None and r["victim_status"] is None  # -99 and 'inconnu' are not recorded


def test_mimosa_serials_blanks_and_namibia():
    st = run([screening("mimosa_xlsx", recruitment_date="1900-01-01", exploitation_start_date="0",
                        exploitation_end_date="41000.5", has_research_consent="-99", is_eligible_for_assistance="1")],
             era="mimosa_xlsx")
    assert rules(st) == []
    r = st.typed_screenings.row(0, named=True)
    assert r["identification_date"] == dt.date(2014, 4, 30)
    assert r["recruitment_date"] is None and r["exploitation_start_date"] is None
    assert r["exploitation_end_date"] == dt.date(2012, 4, 1)
    assert r["citizenship"] == "NA" and r["has_research_consent"] is None and r["is_eligible_for_assistance"] is True


def test_excel_leap_bug_serial_is_quarantined():
    st = run([screening("mimosa_xlsx", date_of_birth="60")], era="mimosa_xlsx")
    assert rules(st) == [(1, "date_of_birth", "date_nonexistent")]


@pytest.mark.parametrize(
    "field,value,rule",
    [
        ("sex", "Alien", "code_known"),
        ("citizenship", "Atlantis", "code_known"),
        ("registration_date", "2005-03-15", "date_format"),  # ISO is not a legacy format
        ("registration_date", "", "required"),
        ("case_ref", "-99", "required"),
        ("age_reported", "vingt", "integer_format"),
        ("age_reported", "120", "age_range"),
        ("is_eligible_for_assistance", "peut-être", "boolean_format"),
        ("identification_date", "01/01/2099", "date_in_future"),
        ("date_of_birth", "01/01/1899", "date_before_1900"),
        ("date_of_birth", "01/01/1900", "age_range"),
        ("identification_date", "01/01/1980", "identification_after_birth"),
        ("exploitation_end_date", "01/01/2003", "exploitation_end_after_start"),
        ("narrative", "a\x00b", "control_character"),
        ("labour_sectors", "agriculture, moon mining", "code_known"),
    ],
)
def test_rules(field, value, rule):
    rec = screening(exploitation_start_date="01/01/2004") | {field: value}
    st = run([rec])
    assert (1, field, rule) in rules(st)
    assert st.typed_screenings.height == 0
    assert "MD-CHI" not in st.quarantine["reason"][0] and (value == "" or value not in st.quarantine["reason"][0])


def test_registration_before_1999_is_staged():
    st = run([screening(registration_date="15/03/1997", identification_date="10/03/1997")])
    assert rules(st) == [] and st.typed_screenings.height == 1


def test_json_array_in_single_valued_field():
    st = run([screening("case_api_jsonl", recruitment_country='["UKR","POL"]', transit_countries='["POL","DEU","POL"]')],
             era="case_api_jsonl")
    assert rules(st) == [(1, "recruitment_country", "single_value")]


def test_assistance_rules_and_the_identification_join():
    scr = [screening(case_ref="C1", identification_date="10/03/2005"), screening(case_ref="C2")]
    ast = [
        {"case_ref": "C1", "assistance_type": "hébergement", "assistance_start_date": "01/03/2005"},  # before identification
        {"case_ref": "C1", "assistance_type": "médical", "assistance_start_date": "01/04/2005", "funding_source": "GAF"},
        {"case_ref": "C9", "assistance_type": "retour", "assistance_start_date": "01/07/2000", "funding_source": "GAF"},  # GAF too early
        {"case_ref": "C2", "assistance_type": None},  # required
        {"case_ref": "C2", "assistance_type": "shelter", "assistance_start_date": "10/05/2005", "assistance_end_date": "01/05/2005"},
    ]
    st = run(scr, ast)
    q = st.quarantine.filter(pl.col("form") == "assistance")
    got = sorted(q.select("source_row", "field_name", "rule").iter_rows())
    assert got == [
        (1, "assistance_start_date", "assistance_after_identification"),
        (3, "funding_source", "gaf_from_2000_08"),
        (4, "assistance_type", "required"),
        (5, "assistance_end_date", "assistance_end_after_start"),
    ]
    assert st.typed_assistance.get_column("assistance_type").to_list() == ["medical"]


def test_exact_duplicates_count_once_per_file():
    rec = screening()
    st = stage(
        pl.concat([
            raw("raw_screenings", [rec, rec, screening(case_ref="X"), rec], "ctm_legacy"),
            raw("raw_screenings", [rec], "ctm_legacy", source_file="MD-CHI/2024-03-01/other"),
        ]),
        raw("raw_assistance", [], "ctm_legacy"),
        today=TODAY,
    )
    assert st.duplicates.select("source_file", "source_row", "duplicate_of_row").rows() == [
        ("MD-CHI/2024-03-01/f", 2, 1), ("MD-CHI/2024-03-01/f", 4, 1)
    ]
    acct = {r["source_file"]: r for r in st.accounting.filter(pl.col("form") == "screening").iter_rows(named=True)}
    assert (acct["MD-CHI/2024-03-01/f"]["rows_read"], acct["MD-CHI/2024-03-01/f"]["rows_duplicate"]) == (4, 2)
    assert acct["MD-CHI/2024-03-01/other"]["rows_staged"] == 1  # another file's copy is not a duplicate here


def test_typed_frames_fit_the_registry_schemas():
    from ct_pipeline.metadata.schemas import validate

    st = run([screening()], [{"case_ref": "CHI-1", "assistance_type": "shelter"}])
    validate("typed_screenings", st.typed_screenings)
    validate("typed_assistance", st.typed_assistance)
    assert st.quarantine.schema == polars_schema(load_registry(), "quarantine")


def test_pandera_data_checks_really_run(monkeypatch):
    """A value the parsers let through but the registry forbids is caught by Pandera."""
    import ct_pipeline.stage.normalize as nz

    monkeypatch.setattr(nz, "code_value", lambda text, codelist: "not_a_code" if codelist == "sex" else None)
    st = run([{"case_ref": "C", "registration_date": "15/03/2005", "sex": "F"}])
    assert rules(st) == [(1, "sex", "code_known")]


def test_empty_input():
    st = run([], [])
    assert st.typed_screenings.height == 0 and st.quarantine.height == 0 and st.accounting.height == 0


def test_reported_age_must_agree_with_the_date_of_birth():
    ok = run([screening(age_reported="20")])  # born 1985-02-01, identified 2005-03-10: 20
    assert rules(ok) == []
    st = run([screening(age_reported="35")])
    assert rules(st) == [(1, "age_reported", "age_consistent")]
