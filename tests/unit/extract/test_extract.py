"""Extraction: era detection, strict decoding, CSV structure, XLSX cells, JSON Lines paths."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ct_pipeline.extract import FileRefused, extract_file, parse_export_path
from ct_pipeline.extract.delimited import read_delimited
from ct_pipeline.extract.text import decode_strict
from ct_pipeline.extract.xlsx_export import _cell_text
from ct_pipeline.formats.eras import column_map, signature
from tests.fixtures.bad_inputs import builders as b

# --- paths -----------------------------------------------------------------------------------


def test_path_gives_mission_and_received_date(tmp_path):
    p = b.export_path(tmp_path, "x.csv", mission="MD-CHI", received="2024-02-29")
    where = parse_export_path(p, tmp_path)
    assert (where.source_file, where.mission_code, where.received_date) == ("MD-CHI/2024-02-29/x.csv", "MD-CHI", dt.date(2024, 2, 29))


@pytest.mark.parametrize("rel", ["x.csv", "MD-CHI/x.csv", "md chi/2024-01-01/x.csv", "MD-CHI/2023-02-29/x.csv",
                                 "MD-CHI/2099-01-01/x.csv", "MD-CHI/2024-01-01/sub/x.csv"])
def test_bad_paths_are_refused(tmp_path, rel):
    p = tmp_path / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b"x")
    with pytest.raises(FileRefused) as e:
        parse_export_path(p, tmp_path, today=dt.date(2026, 11, 28))
    assert "MISSION" in e.value.reason or "mission" in e.value.reason or "future" in e.value.reason


# --- decoding --------------------------------------------------------------------------------


def test_cp1252_decodes_strictly():
    text, utf8 = decode_strict("Récit – “cité”".encode("cp1252"), "cp1252", format_label="legacy")
    assert text == "Récit – “cité”" and utf8.decode("utf-8") == text
    with pytest.raises(FileRefused, match="not Windows-1252"):
        decode_strict(b"abc\n\x81def", "cp1252", format_label="legacy")  # 0x81 is undefined in cp1252
    with pytest.raises(FileRefused, match="UTF-16"):
        decode_strict("a;b".encode("utf-16"), "cp1252", format_label="legacy")


# --- CSV structure ---------------------------------------------------------------------------

# a bare carriage return inside an unquoted value is a line end for every CSV reader: left out
cell = st.text(alphabet=st.sampled_from(list('ab;"\n ,é')), max_size=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cell, min_size=3, max_size=3), min_size=1, max_size=12), st.booleans())
def test_fast_path_agrees_with_the_csv_module(rows, crlf):
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\r\n" if crlf else "\n").writerows([["h1", "h2", "h3"], *rows])
    text = buf.getvalue()
    parsed = read_delimited(text, text.encode("utf-8"), ";", 3)
    assert parsed.bad == []
    got = [list(r) for r in parsed.data.drop("source_row").rows()]
    # a record whose three values are empty is written as ';;' (a record, not a blank line)
    assert got == [[v or None for v in r] for r in rows]
    assert parsed.data["source_row"].to_list() == list(range(1, len(rows) + 1))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(cell, min_size=3, max_size=3), min_size=2, max_size=8), st.data())
def test_a_file_cut_anywhere_loses_no_complete_row(rows, data):
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\n").writerows([["h1", "h2", "h3"], *rows])
    text = buf.getvalue()
    header_end = text.index("\n") + 1
    cut = data.draw(st.integers(header_end, len(text)))
    short = text[:cut]
    parsed = read_delimited(short, short.encode(), ";", 3)
    # every record is either kept or set aside with a rule: nothing disappears silently
    kept = parsed.data["source_row"].to_list()
    bad = [x.row for x in parsed.bad]
    assert sorted(kept + bad) == sorted(set(kept + bad))
    assert all(x.rule in ("csv_row_shape", "csv_quoting", "csv_row_incomplete") for x in parsed.bad)


def test_blank_lines_are_skipped_but_numbered():
    text = "h1;h2\n1;2\n\n3;4\n"
    parsed = read_delimited(text, text.encode(), ";", 2)
    assert parsed.data.rows() == [("1", "2", 1), ("3", "4", 3)]


def test_short_row_in_the_middle_is_set_aside():
    text = "h1;h2;h3\n1;2;3\n4;5\n6;7;8\n"
    parsed = read_delimited(text, text.encode(), ";", 3)
    assert parsed.used_fallback and [(x.row, x.rule) for x in parsed.bad] == [(2, "csv_row_shape")]
    assert parsed.data["source_row"].to_list() == [1, 3]


# --- era detection ---------------------------------------------------------------------------


def test_signatures_are_distinct_per_era_and_form():
    sigs = {(e, f): signature(e, f) for e in ("ctm_legacy", "mimosa_xlsx") for f in ("screening", "assistance")}
    assert len(set(sigs.values())) == len(sigs)


def test_every_form_of_every_era_is_detected(tmp_path):
    f1 = b.write_legacy(b.export_path(tmp_path, "s.csv"), "screening", [b.legacy_screening(1)])
    f2 = b.write_legacy(b.export_path(tmp_path, "a.txt"), "assistance", [b.legacy_assistance(1)])
    f3 = b.write_mimosa(b.export_path(tmp_path, "m.xlsx"), [b.mimosa_screening(1)], [b.mimosa_assistance(1)])
    f4 = b.write_jsonl(b.export_path(tmp_path, "c.ndjson"), [b.jsonl_case(1)])
    got = [(extract_file(f, tmp_path).era, extract_file(f, tmp_path).rows_by_form()) for f in (f1, f2, f3, f4)]
    assert got == [
        ("ctm_legacy", {"screening": 1, "assistance": 0}),
        ("ctm_legacy", {"screening": 0, "assistance": 1}),
        ("mimosa_xlsx", {"screening": 1, "assistance": 1}),
        ("case_api_jsonl", {"screening": 1, "assistance": 2}),
    ]


def test_the_ctdc_file_in_the_drop_folder_is_refused(tmp_path):
    from ct_pipeline.extract import CTDC_PATH

    p = b.export_path(tmp_path, "ctdc.csv")
    p.write_bytes(CTDC_PATH.read_bytes()[:2000].rsplit(b"\n", 1)[0] + b"\n")
    with pytest.raises(FileRefused, match="reference source"):
        extract_file(p, tmp_path)


def test_raw_frames_are_text_with_typed_provenance(tmp_path):
    f = b.write_legacy(b.export_path(tmp_path, "s.csv"), "screening", [b.legacy_screening(1, phone="")])
    ex = extract_file(f, tmp_path)
    r = ex.screenings.row(0, named=True)
    assert r["source_file"] == "MD-CHI/2024-03-01/s.csv" and r["source_row"] == 1
    assert r["received_date"] == dt.date(2024, 3, 1) and len(r["source_sha256"]) == 64
    assert r["age_reported"] == "20" and r["phone"] is None and r["given_name"] is None


# --- XLSX ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell,text",
    [("NA", "NA"), (43831.0, "43831"), (-99.0, "-99"), (3.5, "3.5"), (True, "TRUE"),
     (dt.date(2020, 1, 2), "2020-01-02"), (dt.datetime(2020, 1, 2), "2020-01-02"),
     (dt.datetime(2020, 1, 2, 13, 5), "2020-01-02T13:05:00"), (dt.time(0, 0), "0"), (None, None)],
)
def test_cells_become_text_losslessly(cell, text):
    assert _cell_text(cell) == text


def test_flag_columns_become_one_multi_valued_text(tmp_path):
    recs = [b.mimosa_screening(1, __flags__={"sexual_exploitation": 1.0, "forced_labour": 1.0}),
            b.mimosa_screening(2, __flags__={"forced_marriage": -99.0}),
            b.mimosa_screening(3, __flags__={"organ_removal": 2.0})]
    f = b.write_mimosa(b.export_path(tmp_path, "m.xlsx"), recs, [b.mimosa_assistance(1)])
    ex = extract_file(f, tmp_path)
    assert ex.screenings["exploitation_types"].to_list() == ["sexual_exploitation,forced_labour", None, "organ_removal=2"]


# --- JSON Lines ------------------------------------------------------------------------------


def test_jsonl_paths_and_row_numbers(tmp_path):
    one_transit = b.jsonl_case(2, route=[{"stage": "transit", "country": "POL"}, {"stage": "recruitment", "country": "UKR"},
                                         {"stage": "recruitment", "country": "MDA"}], assistance=[])
    f = b.write_jsonl(b.export_path(tmp_path, "c.jsonl"), [b.jsonl_case(1), "", one_transit])
    ex = extract_file(f, tmp_path)
    s = ex.screenings.select("source_row", "transit_countries", "recruitment_country", "exploitation_types").rows()
    assert s == [(1, '["POL","DEU"]', "UKR", '["forced_labour"]'), (3, '["POL"]', '["UKR","MDA"]', '["forced_labour"]')]
    assert ex.assistance["source_row"].to_list() == [1001, 1002]
    assert ex.assistance["case_ref"].to_list() == ["API-00001", "API-00001"]


def test_jsonl_structure_problems_are_quarantined_whole(tmp_path):
    lines = [json.dumps(b.jsonl_case(1, route="Ukraine")), "[1, 2]", json.dumps(b.jsonl_case(3))]
    f = b.write_jsonl(b.export_path(tmp_path, "c.jsonl"), lines)
    ex = extract_file(f, tmp_path)
    assert ex.quarantine.select("source_row", "rule").rows() == [(1, "json_structure"), (2, "json_parse")]
    assert ex.rows_read == 1 + 2 + 2


def test_jsonl_unexpected_key_refuses_the_file(tmp_path):
    f = b.write_jsonl(b.export_path(tmp_path, "c.jsonl"), [b.jsonl_case(1, favourite_colour="blue")])
    with pytest.raises(FileRefused, match="unexpected column.*favourite_colour"):
        extract_file(f, tmp_path)


def test_column_map_covers_every_raw_field():
    from ct_pipeline.metadata.registry import PROVENANCE, load_registry

    fields = {c for c in load_registry().column_names("raw_screenings") if c not in PROVENANCE}
    mapped = set()
    for era in ("ctm_legacy", "mimosa_xlsx", "case_api_jsonl"):
        mapped |= set(column_map(era, "screening"))
    assert fields - mapped - {"exploitation_types"} == set()
