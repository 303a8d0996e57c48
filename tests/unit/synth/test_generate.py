"""The synthetic mission-export generator: formats, ground truth, defects, determinism."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from ct_pipeline.formats.eras import column_map, flag_map, not_recorded, signature
from ct_pipeline.synth import DEFECTS, FIELDS, SynthConfig, generate
from ct_pipeline.synth import reference as R
from ct_pipeline.synth.world import build_world, default_cases, ymd

from .conftest import CANARIES, _run
from .readers import read_any

GAF_START = date(2000, 8, 1)
QUARANTINE = {"unknown_country", "date_in_future", "impossible_age", "identification_before_birth",
              "assistance_before_identification", "gaf_before_august_2000", "exploitation_end_before_start"}
CORRECTED = {"country_variant", "ambiguous_date", "excel_serial_date", "excel_blank_date", "not_recorded_code"}


def _truth_index(run) -> dict[tuple[str, str, int], tuple[set[str], set[str], str]]:
    out = {}
    for r in run.truth.iter_rows(named=True):
        d = set(filter(None, (r["defects"] or "").split(";")))
        f = set(filter(None, (r["defect_fields"] or "").split(";")))
        out[(r["source_file"], r["form"], int(r["source_row"]))] = (d, f, r["expected"])
    return out


def _files(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.is_file())


def _to_date(v) -> date | None:
    if v in (None, ""):
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, float | int):
        return date(1899, 12, 30) + timedelta(days=int(v))
    for fmt in ("%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(v, fmt).date()
        except ValueError:
            pass
    raise AssertionError(f"unparsable date {v!r}")


def _code(list_name: str, value) -> str | None:
    if value is None or str(value).strip().lower() in not_recorded():
        return None
    for code in R.codes(list_name):
        if R.resolves(list_name, str(value), code):
            return code
    return "?"


# ------------------------------------------------------------------------------------------------
def test_layout_and_file_names(synth_default):
    files = _files(synth_default.out)
    missions = {p.relative_to(synth_default.out).parts[0] for p in files}
    assert len(missions) >= 35
    assert {"IT-ROME", "DE-BERLIN", "JP-TOKYO", "US-WASHINGTON", "AU-CANBERRA", "MD-CHISINAU", "TH-BANGKOK",
            "NG-LAGOS"} <= missions
    kinds = Counter()
    for p in files:
        mission, received, name = p.relative_to(synth_default.out).parts
        date.fromisoformat(received)
        if name.endswith(".csv"):
            assert re.fullmatch(rf"CTM_{mission}_(screening|assistance)_\d{{8}}\.csv", name), name
            assert received < "2011-01-01"
            kinds["ctm_legacy"] += 1
        elif name.endswith(".xlsx"):
            assert re.fullmatch(rf"MiMOSA_{mission}_\d{{8}}\.xlsx", name), name
            assert "2011-01-01" <= received < "2019-01-01"
            kinds["mimosa_xlsx"] += 1
        else:
            assert re.fullmatch(r"cases_\d{8}\.jsonl", name), name
            assert received >= "2019-01-01"
            kinds["case_api_jsonl"] += 1
    assert set(kinds) == {"ctm_legacy", "mimosa_xlsx", "case_api_jsonl"}
    assert kinds == Counter(synth_default.summary["files"])
    # legacy exports come in pairs
    legacy = [p for p in files if p.suffix == ".csv"]
    assert {p.name.replace("_screening_", "_x_") for p in legacy if "_screening_" in p.name} == \
        {p.name.replace("_assistance_", "_x_") for p in legacy if "_assistance_" in p.name}


def test_legacy_csv_is_cp1252_semicolon_with_column_map_headers(synth_default):
    for p in _files(synth_default.out):
        if p.suffix != ".csv":
            continue
        raw = p.read_bytes()
        text = raw.decode("cp1252")  # strict
        form = "screening" if "_screening_" in p.name else "assistance"
        assert text.split("\r\n", 1)[0].split(";") == list(column_map("ctm_legacy", form).values())
        assert text.endswith("\r\n")
        rows = read_any(p)[form]
        for _, rec in rows:
            assert len(rec) == len(column_map("ctm_legacy", form))


def test_xlsx_opens_with_both_sheets_and_headers(synth_default):
    from python_calamine import CalamineWorkbook

    n = 0
    for p in _files(synth_default.out):
        if p.suffix != ".xlsx":
            continue
        wb = CalamineWorkbook.from_path(str(p))
        assert wb.sheet_names == ["Screening", "Assistance"]
        for sheet, form in (("Screening", "screening"), ("Assistance", "assistance")):
            header = wb.get_sheet_by_name(sheet).to_python()[0]
            expected = list(column_map("mimosa_xlsx", form).values())
            for flags in flag_map("mimosa_xlsx", form).values():
                expected += list(flags.values())
            assert header == expected
        n += 1
    assert n > 0


def test_jsonl_lines_parse_with_the_column_map_paths(synth_default):
    keys = signature("case_api_jsonl", "screening") | signature("case_api_jsonl", "assistance")
    uuids: dict[str, str] = {}
    n = 0
    for p in _files(synth_default.out):
        if p.suffix != ".jsonl":
            continue
        for _, rec in read_any(p)["screening"]:
            obj = rec["_obj"]
            assert set(obj) == keys
            assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                                obj["submission_uuid"])
            assert uuids.setdefault(obj["case_id"], obj["submission_uuid"]) == obj["submission_uuid"]
            for leg in obj["route"]:
                assert leg["stage"] in ("recruitment", "transit", "exploitation")
            assert isinstance(obj["screening"]["eligible_for_assistance"], bool | None)
            n += 1
    assert n > 0


def test_truth_accounts_for_every_record_of_every_file(synth_default):
    counted = Counter()
    for rel, form, _row, _rec in synth_default.records:
        counted[(rel, form)] += 1
    t = synth_default.truth
    assert t.columns == ["source_file", "source_row", "form", "mission_code", "case_ref", "person_id", "defects",
                         "expected", "defect_fields"]
    truth_counts = Counter({(r[0], r[1]): r[2] for r in t.group_by("source_file", "form").len().iter_rows()})
    assert truth_counts == counted
    assert t.select(pl.struct("source_file", "form", "source_row").is_unique().all()).item()
    key = t.select("source_file", (pl.col("form") == "assistance").alias("f"), "source_row")
    assert key.equals(key.sort("source_file", "f", "source_row"))
    assert sum(synth_default.summary["records"].values()) == t.height


def test_truth_rows_match_records(synth_default):
    """case_ref of every truth row is the one written in that row; JSONL assistance rows are
    line * 1000 + position."""
    index = {(r["source_file"], r["form"], int(r["source_row"])): r["case_ref"]
             for r in synth_default.truth.iter_rows(named=True)}
    for rel, form, row, rec in synth_default.records:
        assert index[(rel, form, row)] == rec["case_ref"], (rel, form, row)


def test_truth_vocabulary_and_expected_rules(synth_default, synth_messy):
    for run in (synth_default, synth_messy):
        t = run.truth
        assert set(t["expected"].unique()) <= {"clean", "corrected", "quarantine", "duplicate", "out_of_scope"}
        assert re.fullmatch(r"P\d{7}", t["person_id"][0])
        for d, f, exp in _truth_index(run).values():
            assert d <= set(DEFECTS) and f <= set(FIELDS)
            if d & QUARANTINE:
                assert exp == "quarantine"
            elif "missing_value" in d and exp == "quarantine":
                assert "registration_date" in f
            elif "registration_before_1999" in d:
                assert exp == "out_of_scope"
            elif "exact_duplicate" in d:
                assert exp == "duplicate"
            elif d & CORRECTED:
                assert exp == "corrected"
            else:
                assert exp == "clean"


def test_defects_only_where_they_belong(synth_messy):
    for (rel, form, _), (d, _f, _e) in _truth_index(synth_messy).items():
        if d & {"ambiguous_date", "country_variant", "registration_before_1999"}:
            assert rel.endswith(".csv") or ("migrated_legacy" in d and "registration_before_1999" in d), (rel, d)
        if d & {"excel_serial_date", "excel_blank_date", "migrated_legacy"}:
            assert rel.endswith(".xlsx"), (rel, d)
        if "not_recorded_code" in d:
            assert not rel.endswith(".jsonl")
        if "gaf_before_august_2000" in d:
            assert form == "assistance"


def test_defects_present_by_default(synth_default):
    present = {x for d, _, _ in _truth_index(synth_default).values() for x in d}
    assert {"missing_value", "country_variant", "ambiguous_date", "excel_serial_date", "excel_blank_date",
            "not_recorded_code", "reexport", "migrated_legacy"} <= present
    assert synth_default.truth.filter(pl.col("expected") == "clean").height > synth_default.truth.height / 2


def test_every_defect_appears_when_messy(synth_messy):
    present = {x for d, _, _ in _truth_index(synth_messy).values() for x in d}
    assert present == set(DEFECTS)


def test_messiness_zero_gives_clean_exports(synth_clean):
    t = synth_clean.truth
    assert t["defects"].null_count() == t.height
    assert set(t["expected"].unique()) == {"clean"}
    names = set(str(x) for x in R.countries().name)
    for rel, _form, _row, rec in synth_clean.records:
        if rel.endswith(".csv"):
            for f, v in rec.items():
                if f.endswith("_date") or f == "date_of_birth":
                    d = _to_date(v)
                    assert d is None or d.day > 12 or d.day == d.month, (rel, f, v)
                if f in ("citizenship", "recruitment_country", "exploitation_country", "return_country") and v:
                    assert v in names, (rel, f, v)
        if rel.endswith(".xlsx"):
            for f, v in rec.items():
                if f.endswith("_date") or f == "date_of_birth":
                    assert v in ("", None) or isinstance(v, date), (rel, f, v)
                    assert v != date(1900, 1, 1)
                assert v != -99


def test_gaf_funding_never_before_august_2000_unless_flagged(synth_default, synth_messy):
    for run in (synth_default, synth_messy):
        truth = _truth_index(run)
        flagged = 0
        for rel, form, row, rec in run.records:
            if form != "assistance":
                continue
            d, _f, _e = truth[(rel, form, row)]
            start = _to_date(rec["assistance_start_date"])
            is_gaf = _code("funding_source", rec["funding_source"]) == "gaf"
            early = is_gaf and start is not None and start < GAF_START
            assert early == ("gaf_before_august_2000" in d), (rel, row, rec)
            flagged += early
        if run is synth_messy:
            assert flagged > 0


def test_written_values_resolve_or_are_flagged(synth_default):
    truth = _truth_index(synth_default)
    c = R.countries()
    a2 = set(map(str, c.alpha2))
    a3 = set(map(str, c.alpha3))
    variants = {v.casefold() for vs in c.variants.values() for v in vs} | {str(x).casefold() for x in c.name}
    names = set(map(str, c.name))
    lists = {"sex": "sex", "victim_status": "victim_status", "identifying_agency": "identifying_agency",
             "recruiter_relationship": "recruiter_relationship", "assistance_type": "assistance_type",
             "funding_source": "funding_source", "reintegration_outcome": "reintegration_outcome"}
    for rel, form, row, rec in synth_default.records:
        d, f, _e = truth[(rel, form, row)]
        for field, lst in lists.items():
            v = rec.get(field)
            if v in (None, ""):
                continue
            code = _code(lst, v)
            if code is None or v == -99 or v == "-99":
                assert "not_recorded_code" in d and field in f, (rel, row, field, v)
            else:
                assert code != "?", (rel, row, field, v)
        for field in ("citizenship", "recruitment_country", "exploitation_country", "return_country",
                      "transit_countries"):
            v = rec.get(field)
            if v in (None, "") or (isinstance(v, str) and v.strip().lower() in not_recorded()):
                continue
            vals = v if isinstance(v, list) else re.split(r"\s*[,/+]\s*", v) if field == "transit_countries" else [v]
            for x in vals:
                if rel.endswith(".jsonl"):
                    ok = x in a3
                elif rel.endswith(".xlsx"):
                    ok = x in a2
                else:
                    ok = x.casefold() in variants
                    if ok and x not in names:
                        assert "country_variant" in d and field in f, (rel, row, field, x)
                if not ok:
                    assert "unknown_country" in d and field in f, (rel, row, field, x)


def test_legacy_ambiguous_dates_are_flagged(synth_default):
    truth = _truth_index(synth_default)
    seen = 0
    for rel, form, row, rec in synth_default.records:
        if not rel.endswith(".csv"):
            continue
        d, f, _e = truth[(rel, form, row)]
        any_amb = False
        for field, v in rec.items():
            if field.endswith("_date") or field == "date_of_birth":
                dt = _to_date(v)
                amb = dt is not None and dt.day <= 12 and dt.day != dt.month
                if amb:
                    assert "ambiguous_date" in d and field in f, (rel, field, v)
                any_amb |= amb
        assert any_amb == ("ambiguous_date" in d), (rel, row)
        seen += any_amb
    assert seen > 0


def test_excel_dates_are_flagged(synth_default):
    truth = _truth_index(synth_default)
    for rel, form, row, rec in synth_default.records:
        if not rel.endswith(".xlsx"):
            continue
        d, f, _e = truth[(rel, form, row)]
        for field, v in rec.items():
            if not (field.endswith("_date") or field == "date_of_birth"):
                continue
            if isinstance(v, float) and v != 1.0:
                assert "excel_serial_date" in d and field in f, (rel, row, field, v)
            if v == date(1900, 1, 1) or v == 1.0:
                assert "excel_blank_date" in d and field in f, (rel, row, field, v)


def test_same_person_in_two_missions_and_reexports(synth_default):
    t = synth_default.truth.filter(pl.col("form") == "screening")
    multi = t.group_by("person_id").agg(pl.col("mission_code").n_unique().alias("m"), pl.col("case_ref").n_unique()
                                        .alias("c"))
    assert multi.filter(pl.col("m") >= 2).height > 0
    assert multi.filter(pl.col("c") >= 2).height > 0
    flagged = t.filter(pl.col("defects").str.contains("cross_mission_person"))
    assert flagged.height > 0
    assert flagged["defect_fields"].str.contains("name").all()
    # a re-exported case appears in two files of the same mission with the same case_ref
    rx = t.filter(pl.col("defects").str.contains("reexport"))
    assert rx.height > 0
    both = t.filter(pl.col("case_ref").is_in(rx["case_ref"].implode()))
    assert both.group_by("case_ref", "mission_code").len()["len"].min() >= 2


def test_canaries_are_planted(synth_default):
    texts = []
    for _rel, _form, _row, rec in synth_default.records:
        texts.append(" | ".join(str(v) for k, v in rec.items() if k != "_obj"))
    blob = "\n".join(texts)
    for can in CANARIES:
        for key in ("phone", "document_number", "address", "narrative"):
            assert can[key] in blob, (key, can[key])
        assert can["family_name"] in blob or can["family_name"].upper() in blob


def test_deterministic_and_independent_of_workers(synth_default, tmp_path):
    again = _run(tmp_path, "b", cases=2000, seed=7, config=SynthConfig(workers=2, canaries=CANARIES))
    a_files = [p.relative_to(synth_default.out) for p in _files(synth_default.out)]
    b_files = [p.relative_to(again.out) for p in _files(again.out)]
    assert a_files == b_files
    for rel in a_files:
        assert (synth_default.out / rel).read_bytes() == (again.out / rel).read_bytes(), rel
    assert synth_default.truth_path.read_bytes() == again.truth_path.read_bytes()


def test_xlsx_zip_entries_have_fixed_timestamps(synth_default):
    import zipfile

    p = next(p for p in _files(synth_default.out) if p.suffix == ".xlsx")
    with zipfile.ZipFile(p) as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_truth_must_be_outside_the_exports(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path / "ex", cases=10, truth=tmp_path / "ex" / "truth.csv")


def test_default_size_is_calibrated():
    cfg = SynthConfig()
    n = default_cases(cfg, 1999, 2026)
    assert 80_000 <= n <= 120_000
    w = build_world(cfg, None, 1, 1999, 2026)
    assert w.stats["cases"] == n
    assert abs(w.stats["cases_1999_2007"] - 12_600) / 12_600 < 0.02
    assert abs(w.stats["persons_by_2009"] - 15_000) / 15_000 < 0.02
    years = np.bincount(ymd(w.cases["reg_anchor"])[0] - 1999)
    assert years[-2] > years[5] > years[0]  # volume rises over the years


def test_code_terms_resolve_to_their_codes():
    for lst in ("sex", "victim_status", "identifying_agency", "exploitation_type", "labour_sector",
                "means_of_control", "recruiter_relationship", "assistance_type", "funding_source",
                "reintegration_outcome"):
        for style in ("label", "en", "fr", "es", "ru", "code"):
            for code, term in zip(R.codes(lst), R.terms(lst, style), strict=True):
                assert R.resolves(lst, term, code), (lst, style, code, term)
                if lst in R.MULTI_FIELDS_LISTS and style not in ("label", "code"):
                    assert not set(term) & set(",/+"), (lst, style, term)


def test_every_mission_has_corridors_and_language():
    from ct_pipeline.synth.world import _Tables

    t = _Tables()
    assert (t.role.sum(axis=1) > 0).all()
    excluded = {m.code for m, x in zip(R.MISSIONS, t.mission_excluded, strict=True) if x}
    assert {"IT-ROME", "DE-BERLIN", "JP-TOKYO", "US-WASHINGTON", "AU-CANBERRA"} <= excluded
    assert {"TH-BANGKOK", "NG-LAGOS", "ET-ADDISABABA"}.isdisjoint(excluded)


def test_messiness_multiplies_rates():
    c = SynthConfig(messiness=0)
    assert c.rate("exact_duplicate") == 0
    assert SynthConfig(messiness=1000).rate("missing_value") == 1.0


def test_labelled_content_defects_are_detectable():
    """A defect the truth labels must be one the pipeline can see: a date of birth in 1901-1905 makes
    the person older than 100 on the identification date (else the age is valid), and an episode
    labelled as starting before identification never belongs to a case whose identification date is
    in the 2090s (that record is quarantined, so there is no date to compare with)."""
    from ct_pipeline.synth.world import CD_DOB_OLD, CD_FUTURE_IDENT, ED_BEFORE_IDENT, age_at

    w = build_world(SynthConfig(messiness=3.0), None, 1, 1999, 2026)
    c = w.cases
    old = np.nonzero(c["cd_kind"] == CD_DOB_OLD)[0]
    assert len(old) > 50
    assert (age_at(c["cd_val"][old], c["ident"][old]) > 100).all()
    abi_cases = w.episodes["case"][w.episodes["ed_kind"] == ED_BEFORE_IDENT]
    assert len(abi_cases) > 50
    assert not (c["cd_kind"][abi_cases] == CD_FUTURE_IDENT).any()


def test_namesakes_are_rare():
    """Few persons share their full name and birth year with another (the name pools have a long
    tail): otherwise linkage measured on the demo would measure the pools."""
    w = build_world(SynthConfig(), None, 1, 1999, 2026)
    p = w.persons
    key = np.stack([p["given"], p["family"], p["family2"], ymd(p["dob"])[0]], axis=1)
    _, inverse, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    shared = (counts[inverse.ravel()] > 1).mean()
    assert shared < 0.05, shared


def test_task_folders_of_killed_generations_are_removed(tmp_path):
    import os

    from ct_pipeline.synth.generate import _remove_stale_task_dirs

    dead = tmp_path / ".tasks-999999999-abc"  # no such process
    mine = tmp_path / f".tasks-{os.getpid()}-def"
    other = tmp_path / ".tasks-notes"
    for d in (dead, mine, other):
        d.mkdir()
        (d / "0.0.pkl").write_bytes(b"x")
    _remove_stale_task_dirs(tmp_path)
    assert not dead.exists() and mine.exists() and other.exists()
