"""Every bad input of issue 3: a clear error (ledger or quarantine), the other files still load,
nothing lost (rows read = staged + quarantined + duplicate for every file)."""

from __future__ import annotations

import io
import json
import shutil
import zipfile

import pytest

from ct_pipeline.ingest import run_ingestion
from tests.fixtures.bad_inputs import builders as b

GOOD = {
    "MD-CHI/2024-03-01/good_scr.csv": 5,
    "MD-CHI/2024-03-01/good_ast.csv": 5,
    "NA-WIN/2024-03-01/good.xlsx": 4,
    "UA-KYIV/2024-03-01/good.jsonl": 3 + 6,
}


def ingest(settings, con):
    result = run_ingestion(settings, con)
    files = {f.source_file: f for f in result.files}
    for f in result.files:
        assert f.rows_read == f.rows_staged + f.rows_quarantined + f.rows_duplicate, f.source_file
    for name, n in GOOD.items():  # the control group always loads, clean
        if name in files:
            assert files[name].file_status == "loaded", files[name].error_message
            assert (files[name].rows_read, files[name].rows_staged) == (n, n), name
    ledger = con.sql("select count(*) from ingestion_ledger").fetchall()[0][0]
    assert ledger == len(result.files)
    return result, files


def quarantined(con, source_file):
    return con.execute(
        "select source_row, field_name, rule, reason from quarantine where source_file = ? order by 1, 2, 3",
        [source_file],
    ).fetchall()


def bad(exports, name, mission="MD-CHI"):
    return b.export_path(exports, name, mission=mission)


def test_empty_file(settings, con, exports, good_files):
    bad(exports, "empty.csv").write_bytes(b"")
    _, files = ingest(settings, con)
    f = files["MD-CHI/2024-03-01/empty.csv"]
    assert f.file_status == "refused" and "empty" in f.error_message


def test_header_only(settings, con, exports, good_files):
    b.write_legacy(bad(exports, "header.csv"), "screening", [])
    _, files = ingest(settings, con)
    f = files["MD-CHI/2024-03-01/header.csv"]
    # a valid, empty export (no assistance in the period happens): loaded, 0 rows, and said so
    assert (f.file_status, f.rows_read) == ("loaded", 0) and "no records" in f.error_message


@pytest.mark.parametrize("cut", ["unquoted", "quoted"])
def test_csv_cut_off_mid_row(settings, con, exports, good_files, cut):
    recs = [b.legacy_screening(i) for i in range(1, 5)]
    recs[3]["narrative"] = "line one\nline two"  # a quoted multi-line value in the last row
    text = b.legacy_text("screening", recs)
    cut_at = text.index("PERSONNE Test 4") if cut == "unquoted" else text.index("line two")
    bad(exports, "cut.csv").write_bytes(text[:cut_at].encode("cp1252"))
    _, files = ingest(settings, con)
    f = files["MD-CHI/2024-03-01/cut.csv"]
    assert f.file_status == "loaded"
    assert (f.rows_read, f.rows_staged, f.rows_quarantined) == (4, 3, 1)
    ((row, field, rule, reason),) = quarantined(con, f.source_file)
    assert row == 4 and field is None
    assert rule == ("csv_row_shape" if cut == "unquoted" else "csv_row_incomplete")
    assert "PERSONNE" not in reason


def test_utf8_where_cp1252_is_expected(settings, con, exports, good_files):
    b.write_legacy(bad(exports, "utf8.csv"), "screening", [b.legacy_screening(1)], encoding="utf-8")
    _, files = ingest(settings, con)
    f = files["MD-CHI/2024-03-01/utf8.csv"]
    assert f.file_status == "refused" and f.era == "ctm_legacy"
    assert "UTF-8" in f.error_message and "Windows-1252" in f.error_message


def test_cp1252_where_utf8_is_expected(settings, con, exports, good_files):
    line = json.dumps(b.jsonl_case(1, registered_on="2021-06-01"), ensure_ascii=False).replace("Synthetic text", "Récit")
    bad(exports, "ansi.jsonl").write_bytes((json.dumps(b.jsonl_case(2)) + "\n" + line + "\n").encode("cp1252"))
    _, files = ingest(settings, con)
    f = files["MD-CHI/2024-03-01/ansi.jsonl"]
    assert f.file_status == "refused"
    assert "not valid UTF-8" in f.error_message and "line 2" in f.error_message


def test_wrong_delimiter(settings, con, exports, good_files):
    b.write_legacy(bad(exports, "commas.csv"), "screening", [b.legacy_screening(1)], sep=",")
    _, files = ingest(settings, con)
    f = files["MD-CHI/2024-03-01/commas.csv"]
    assert f.file_status == "refused" and "separated by commas" in f.error_message


def test_headers_of_no_known_era(settings, con, exports, good_files):
    bad(exports, "other.csv").write_text("id;name;value\n1;Test Person;3\n", encoding="cp1252")
    _, files = ingest(settings, con)
    f = files["MD-CHI/2024-03-01/other.csv"]
    assert f.file_status == "refused" and "do not match any export format" in f.error_message
    assert "Test Person" not in f.error_message


def test_no_header_row_is_not_echoed(settings, con, exports, good_files):
    text = b.legacy_text("screening", [b.legacy_screening(1), b.legacy_screening(2)]).split("\n", 1)[1]
    bad(exports, "noheader.csv").write_bytes(text.encode("cp1252"))
    _, files = ingest(settings, con)
    f = files["MD-CHI/2024-03-01/noheader.csv"]
    assert f.file_status == "refused" and "does not look like its header row" in f.error_message
    assert "PERSONNE" not in f.error_message and "CHI-0001" not in f.error_message


def test_required_column_missing(settings, con, exports, good_files):
    from ct_pipeline.formats.eras import column_map

    headers = [h for h in column_map("ctm_legacy", "screening").values()]
    text = b.legacy_text("screening", [b.legacy_screening(1)], headers=headers)
    lines = [";".join(p for i, p in enumerate(ln.split(";")) if i != headers.index("SEXE")) for ln in text.splitlines()]
    bad(exports, "nosex.csv").write_bytes(("\n".join(lines) + "\n").encode("cp1252"))
    _, files = ingest(settings, con)
    f = files["MD-CHI/2024-03-01/nosex.csv"]
    assert f.file_status == "refused" and "missing column(s): 'SEXE'" in f.error_message


def test_unknown_extra_column(settings, con, exports, good_files):
    b.write_mimosa(bad(exports, "extra.xlsx"), [b.mimosa_screening(1)], [b.mimosa_assistance(1)],
                   extra_screening_header="Favourite Colour")
    _, files = ingest(settings, con)
    f = files["MD-CHI/2024-03-01/extra.xlsx"]
    assert f.file_status == "refused"
    assert "unexpected column(s): 'Favourite Colour'" in f.error_message and "'Screening'" in f.error_message


def test_workbook_without_assistance_sheet(settings, con, exports, good_files):
    b.write_mimosa(bad(exports, "onesheet.xlsx"), [b.mimosa_screening(1)], None)
    _, files = ingest(settings, con)
    f = files["MD-CHI/2024-03-01/onesheet.xlsx"]
    assert f.file_status == "refused" and "no sheet named 'Assistance'" in f.error_message


@pytest.mark.parametrize("kind", ["not_a_zip", "truncated_zip", "zip_of_something_else"])
def test_corrupt_xlsx(settings, con, exports, good_files, kind):
    path = bad(exports, "corrupt.xlsx")
    if kind == "not_a_zip":
        path.write_bytes(b"Case No;Sex\n1;F\n")
    elif kind == "truncated_zip":
        src = exports.parent / "full.xlsx"
        b.write_mimosa(src, [b.mimosa_screening(i) for i in range(1, 50)], [b.mimosa_assistance(1)])
        data = src.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("hello.txt", "not a workbook")
        path.write_bytes(buf.getvalue())
    _, files = ingest(settings, con)
    f = files["MD-CHI/2024-03-01/corrupt.xlsx"]
    assert f.file_status == "refused"
    assert "workbook" in f.error_message


def test_jsonl_with_one_broken_line(settings, con, exports, good_files):
    cases = [b.jsonl_case(1), b.jsonl_case(2)]
    text = json.dumps(cases[0]) + "\n" + json.dumps(cases[1])[:-40] + "\n" + json.dumps(b.jsonl_case(3)) + "\n"
    bad(exports, "broken.jsonl").write_text(text, encoding="utf-8")
    _, files = ingest(settings, con)
    f = files["MD-CHI/2024-03-01/broken.jsonl"]
    assert f.file_status == "loaded"
    assert (f.rows_read, f.rows_staged, f.rows_quarantined) == (2 + 4 + 1, 6, 1)
    assert quarantined(con, f.source_file) == [(2, None, "json_parse", "whole record, rule json_parse: the line is not a valid JSON object")]
    rows = con.execute("select source_row from raw_assistance where source_file = ? order by 1", [f.source_file]).fetchall()
    assert [r[0] for r in rows] == [1001, 1002, 3001, 3002]


def test_50_mb_single_field(settings, con, exports, good_files):
    recs = [b.legacy_screening(i) for i in range(1, 4)]
    recs[1]["narrative"] = "x" * (50 * 1024 * 1024)
    b.write_legacy(bad(exports, "huge.csv"), "screening", recs)
    _, files = ingest(settings, con)
    f = files["MD-CHI/2024-03-01/huge.csv"]
    assert (f.file_status, f.rows_read, f.rows_staged, f.rows_quarantined) == ("loaded", 3, 2, 1)
    assert [q[1:3] for q in quarantined(con, f.source_file)] == [("narrative", "value_too_long")]


def test_formula_and_sql_like_text_is_loaded_as_text(settings, con, exports, good_files):
    texts = ["=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(A1)", "'); DROP TABLE raw_screenings; --",
             "Robert'); DELETE FROM quarantine;"]
    recs = [b.legacy_screening(i, narrative=t, address=t) for i, t in enumerate(texts, start=1)]
    b.write_legacy(bad(exports, "formula.csv"), "screening", recs)
    result, files = ingest(settings, con)
    f = files["MD-CHI/2024-03-01/formula.csv"]
    assert (f.rows_read, f.rows_staged) == (len(texts), len(texts))
    stored = con.execute(
        "select narrative from raw_screenings where source_file = ? order by source_row", [f.source_file]
    ).fetchall()
    assert [r[0] for r in stored] == texts
    typed = result.typed_screenings.filter(result.typed_screenings["source_file"] == f.source_file)
    assert sorted(typed["narrative"].to_list()) == sorted(texts)


def test_nul_bytes(settings, con, exports, good_files):
    recs = [b.legacy_screening(i) for i in range(1, 4)]
    recs[0]["full_name"] = "PERSONNE\x00Test"
    b.write_legacy(bad(exports, "nul.csv"), "screening", recs)
    _, files = ingest(settings, con)
    f = files["MD-CHI/2024-03-01/nul.csv"]
    assert (f.file_status, f.rows_read, f.rows_staged, f.rows_quarantined) == ("loaded", 3, 2, 1)
    assert [q[:3] for q in quarantined(con, f.source_file)] == [(1, "full_name", "control_character")]


@pytest.mark.parametrize("era", ["legacy_ascii", "jsonl", "legacy_accented"])
def test_byte_order_mark(settings, con, exports, good_files, era):
    if era == "jsonl":
        path = bad(exports, "bom.jsonl")
        path.write_bytes(b"\xef\xbb\xbf" + (json.dumps(b.jsonl_case(1)) + "\n").encode())
    else:
        recs = [b.legacy_screening(1, narrative="plain ascii", sex="F", citizenship="Moldova",
                                   exploitation_types="sexual", means_of_control="threats", transit_countries="Romania",
                                   exploitation_country="Italy", victim_status="victim")]
        if era == "legacy_accented":
            recs[0]["narrative"] = "récit"
        path = bad(exports, "bom.csv")
        path.write_bytes(b"\xef\xbb\xbf" + b.legacy_text("screening", recs).encode("utf-8"))
    _, files = ingest(settings, con)
    f = files[f"MD-CHI/2024-03-01/{path.name}"]
    if era == "legacy_accented":
        assert f.file_status == "refused" and "UTF-8" in f.error_message
    else:
        assert f.file_status == "loaded" and f.rows_staged == f.rows_read > 0
        table = "raw_screenings"
        first = con.execute(f"select case_ref from {table} where source_file = ?", [f.source_file]).fetchall()[0][0]
        assert not first.startswith("\ufeff")


def test_crlf_line_ends(settings, con, exports, good_files):
    recs = [b.legacy_screening(i) for i in range(1, 4)]
    recs[2]["narrative"] = "first\r\nsecond"
    b.write_legacy(bad(exports, "crlf.csv"), "screening", recs, newline="\r\n")
    b.write_jsonl(bad(exports, "crlf.jsonl"), [b.jsonl_case(i) for i in range(1, 3)], newline="\r\n")
    _, files = ingest(settings, con)
    for name, n in (("crlf.csv", 3), ("crlf.jsonl", 2 + 4)):
        f = files[f"MD-CHI/2024-03-01/{name}"]
        assert (f.file_status, f.rows_read, f.rows_staged) == ("loaded", n, n), name
    values = con.execute(
        "select has_research_consent, narrative from raw_screenings where source_file like '%crlf.csv' order by source_row"
    ).fetchall()
    assert all(not v[0].endswith("\r") for v in values)
    assert values[2][1] == "first\r\nsecond"


def test_unknown_country(settings, con, exports, good_files):
    recs = [b.legacy_screening(1, citizenship="Atlantis"), b.legacy_screening(2, transit_countries="Roumanie, XXX")]
    b.write_legacy(bad(exports, "country.csv"), "screening", recs)
    _, files = ingest(settings, con)
    f = files["MD-CHI/2024-03-01/country.csv"]
    assert (f.rows_read, f.rows_staged, f.rows_quarantined) == (2, 0, 2)
    rows = quarantined(con, f.source_file)
    assert [r[:3] for r in rows] == [(1, "citizenship", "code_known"), (2, "transit_countries", "code_known")]
    assert all("Atlantis" not in r[3] and "XXX" not in r[3] for r in rows)
    raw = con.execute("select raw_value from quarantine where source_file = ? order by source_row", [f.source_file]).fetchall()
    assert raw == [("Atlantis",), ("Roumanie, XXX",)]


def test_dates_in_1899_and_2099(settings, con, exports, good_files):
    recs = [b.legacy_screening(1, date_of_birth="01/01/1899"), b.legacy_screening(2, registration_date="01/01/2099"),
            b.legacy_screening(3, registration_date="01/01/1997", identification_date="01/01/1997",
                               recruitment_date="", exploitation_start_date="", exploitation_end_date="")]
    b.write_legacy(bad(exports, "dates.csv"), "screening", recs)
    _, files = ingest(settings, con)
    f = files["MD-CHI/2024-03-01/dates.csv"]
    assert (f.rows_read, f.rows_staged, f.rows_quarantined) == (3, 1, 2)  # 1997 is staged (out of scope later)
    assert [r[:3] for r in quarantined(con, f.source_file)] == [
        (1, "date_of_birth", "date_before_1900"), (2, "registration_date", "date_in_future")
    ]


def test_same_file_twice_under_different_names(settings, con, exports, good_files):
    src = good_files[0]
    shutil.copy(src, bad(exports, "zz_again.csv", mission="MD-CHI"))
    shutil.copy(src, b.export_path(exports, "zz_other_day.csv", received="2024-04-01"))
    result, files = ingest(settings, con)
    seen = [f for f in result.files if f.file_status == "already_seen"]
    assert len(seen) == 2 and all(f.rows_read == 0 for f in seen)
    assert "good_scr.csv" in (files["MD-CHI/2024-03-01/zz_again.csv"].error_message or "") or \
        files["MD-CHI/2024-03-01/zz_again.csv"].file_status == "loaded"
    loaded = [f for f in result.files if f.source_sha256 == seen[0].source_sha256 and f.file_status == "loaded"]
    assert len(loaded) == 1
    n = con.execute("select count(*) from raw_screenings where source_sha256 = ?", [loaded[0].source_sha256]).fetchall()
    assert n[0][0] == 5


def test_bad_folder_layout(settings, con, exports, good_files):
    (exports / "loose.csv").write_bytes(b"x")
    (exports / "MD-CHI" / "not-a-date").mkdir(parents=True)
    (exports / "MD-CHI" / "not-a-date" / "f.csv").write_bytes(b"x")
    _, files = ingest(settings, con)
    assert files["loose.csv"].file_status == "refused" and files["loose.csv"].mission_code is None
    assert "received date" in files["MD-CHI/not-a-date/f.csv"].error_message


def test_unknown_file_type(settings, con, exports, good_files):
    bad(exports, "export.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    _, files = ingest(settings, con)
    f = files["MD-CHI/2024-03-01/export.xls"]
    assert f.file_status == "refused" and ".xlsx" in f.error_message
