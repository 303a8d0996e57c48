"""The core load on hand-made staged rows: versions, duplicates, scope, GAF, routes, assistance."""

from __future__ import annotations

import datetime as dt

import pytest

from ct_pipeline.metadata.schemas import validate
from ct_pipeline.warehouse import ReconciliationError, assert_reconciled, load_core, reconcile
from ct_pipeline.warehouse.synthetic import assistance_row, insert_stg, screening_row, stg_frame
from ct_pipeline.warehouse.tables import CORE_TABLES

D = dt.date
F1 = "TH-BKK/2010-06-01/export.xlsx"
F2 = "TH-BKK/2011-06-01/export.xlsx"
F3 = "TH-BKK/2012-06-01/export.xlsx"


def stage(con, screenings=(), assistance=()):
    insert_stg(con, stg_frame("stg_screenings", list(screenings)), stg_frame("stg_assistance", list(assistance)))


def rows(con, sql):
    return con.sql(sql).fetchall()


def test_latest_export_wins_and_history_is_kept(con):
    stage(con, [
        screening_row("c1", F1, 1, victim_status="presumed_victim"),
        screening_row("c1", F2, 4, victim_status="presumed_victim"),  # unchanged: duplicate
        screening_row("c1", F3, 2, victim_status="victim"),  # changed: new version
    ])
    load_core(con)
    assert rows(con, "SELECT victim_status, source_file, source_row, version_count FROM fct_screenings") == [
        ("victim", F3, 2, 2)]
    got = rows(con, """SELECT source_file, version_number, record_status, is_current, superseded_by_source_file,
                              superseded_by_source_row, superseded_by_received_date, duplicate_of_source_file,
                              duplicate_of_source_row
                       FROM fct_case_versions ORDER BY received_date""")
    assert got == [
        (F1, 1, "superseded", False, F3, 2, D(2012, 6, 1), None, None),
        (F2, 1, "duplicate", False, F3, 2, D(2012, 6, 1), F1, 1),
        (F3, 2, "current", True, None, None, None, None, None),
    ]
    assert_reconciled(con)


def test_a_reverted_case_is_a_new_version_and_same_file_later_row_wins(con):
    stage(con, [
        screening_row("c1", F1, 1, sex="female"),
        screening_row("c1", F2, 1, sex="male"),
        screening_row("c1", F3, 1, sex="female"),  # back to the first content: a third version
        screening_row("c2", F1, 2, sex="female"),
        screening_row("c2", F1, 3, sex="male"),  # same file, later row
    ])
    load_core(con)
    assert rows(con, "SELECT case_token, sex, version_count FROM fct_screenings ORDER BY 1") == [
        ("c1", "female", 3), ("c2", "male", 2)]
    assert rows(con, "SELECT count(*) FROM fct_case_versions WHERE record_status = 'duplicate'") == [(0,)]


def test_null_and_empty_list_are_different_content(con):
    stage(con, [screening_row("c1", F1, 1, means_of_control=None), screening_row("c1", F2, 1, means_of_control=[])])
    load_core(con)
    assert rows(con, "SELECT record_status FROM fct_case_versions ORDER BY received_date") == [
        ("superseded",), ("current",)]


# DuckDB's hash() maps these two to one value (the same byte changed 16 positions apart)
COLLIDING = ("BY-MINSK/2025-01-11/cases_20250108.jsonl", "BY-MINSK/2025-05-11/cases_20250508.jsonl")


def test_an_edit_duckdb_hash_cannot_see_is_a_new_version(con):
    assert rows(con, f"SELECT hash('{COLLIDING[0]}') = hash('{COLLIDING[1]}')") == [(True,)]
    stage(con, [screening_row("c1", F1, 1, identifying_agency=COLLIDING[0]),
                screening_row("c1", F2, 1, identifying_agency=COLLIDING[1]),
                screening_row("c2", F1, 2, means_of_control=[None]), screening_row("c2", F2, 2, means_of_control=[])])
    load_core(con)
    assert rows(con, "SELECT case_token, record_status FROM fct_case_versions ORDER BY 1, received_date") == [
        ("c1", "superseded"), ("c1", "current"), ("c2", "superseded"), ("c2", "current")]


def test_table_fingerprints_tell_texts_and_lists_apart(con):
    from ct_pipeline.warehouse.tables import fingerprint

    seen = set()
    for agency, lst in [(COLLIDING[0], None), (COLLIDING[1], None), (COLLIDING[1], []), (COLLIDING[1], [None])]:
        stage(con, [screening_row("c1", F1, 1, identifying_agency=agency, means_of_control=lst)])
        seen.add(fingerprint(con, "stg_screenings"))
        con.execute("DELETE FROM stg_screenings")
    assert len(seen) == 4


def test_cases_registered_before_1999_are_out_of_scope(con):
    stage(
        con,
        [screening_row("old", F1, 1, registration_date=D(1998, 12, 31), identification_date=None),
         screening_row("old", F2, 1, registration_date=D(1998, 12, 31), identification_date=None),
         screening_row("new", F1, 2, registration_date=D(1999, 1, 1), identification_date=D(1999, 1, 1))],
        [assistance_row("old", F1, 1), assistance_row("nobody", F1, 2), assistance_row("new", F1, 3)],
    )
    load_core(con)
    assert rows(con, "SELECT case_token FROM fct_screenings") == [("new",)]
    assert rows(con, "SELECT case_token FROM fct_cases") == [("new",)]
    r = reconcile(con)
    assert r["ok"]
    assert (r["screenings"]["staged"], r["screenings"]["current"], r["screenings"]["out_of_scope"]) == (3, 1, 2)
    assert (r["assistance"]["current"], r["assistance"]["out_of_scope"], r["assistance"]["unmatched"]) == (1, 1, 1)


def test_fct_cases_holds_victims_and_presumed_victims_only(con):
    stage(con, [screening_row(f"c{i}", F1, i, victim_status=s)
                for i, s in enumerate(["victim", "presumed_victim", "not_victim", "undetermined", None], start=1)])
    load_core(con)
    assert rows(con, "SELECT count(*) FROM fct_screenings") == [(5,)]
    assert rows(con, "SELECT case_token FROM fct_cases ORDER BY 1") == [("c1",), ("c2",)]
    assert_reconciled(con)


@pytest.mark.parametrize(
    ("mission", "status", "identified", "registered", "eligible", "reason"),
    [
        ("TH-BKK", "victim", D(2005, 1, 1), D(2005, 1, 2), True, "eligible"),
        ("TH-BKK", "presumed_victim", D(2005, 1, 1), D(2005, 1, 2), False, "not_identified_as_victim"),
        ("DE-BER", "victim", D(2005, 1, 1), D(2005, 1, 2), False, "identified_in_excluded_country"),
        ("JP-TYO", "victim", D(2005, 1, 1), D(2005, 1, 2), False, "identified_in_excluded_country"),
        ("US-WAS", "victim", D(2005, 1, 1), D(2005, 1, 2), False, "identified_in_excluded_country"),
        ("NA-WDH", "victim", D(2005, 1, 1), D(2005, 1, 2), True, "eligible"),  # NA is Namibia
        ("TH-BKK", "victim", D(2000, 7, 31), D(2000, 8, 5), False, "identified_before_gaf"),
        ("TH-BKK", "victim", D(2000, 8, 1), D(2000, 8, 5), True, "eligible"),
        ("TH-BKK", "victim", None, D(2000, 7, 1), False, "identified_before_gaf"),
        ("TH-BKK", "victim", None, D(2000, 9, 1), True, "eligible"),
        ("ZZZ", "victim", D(2005, 1, 1), D(2005, 1, 2), None, "mission_country_unknown"),
    ],
)
def test_gaf_eligibility(con, mission, status, identified, registered, eligible, reason):
    stage(con, [screening_row("c1", f"{mission}/2006-01-01/export.xlsx", 1, victim_status=status,
                              identification_date=identified, registration_date=registered)])
    load_core(con)
    assert rows(con, "SELECT is_gaf_eligible, gaf_eligibility_reason FROM fct_cases") == [(eligible, reason)]


def test_route_legs_in_order_skipping_unrecorded_stages(con):
    stage(con, [
        screening_row("c1", F1, 1, recruitment_country="KH", transit_countries=["VN", None, "LA"],
                      exploitation_country="TH"),
        screening_row("c2", F1, 2, recruitment_country=None, transit_countries=[], exploitation_country="MY"),
        screening_row("c3", F1, 3, recruitment_country=None, transit_countries=None, exploitation_country=None),
        screening_row("c4", F1, 4, victim_status="not_victim"),  # not a case: no route
    ])
    load_core(con)
    assert rows(con, "SELECT case_token, leg_order, route_stage, country_code FROM fct_route_legs ORDER BY 1, 2") == [
        ("c1", 1, "recruitment", "KH"), ("c1", 2, "transit", "VN"), ("c1", 3, "transit", "LA"),
        ("c1", 4, "exploitation", "TH"), ("c2", 1, "exploitation", "MY")]


def test_assistance_latest_export_wins_per_type_and_start_date(con):
    stage(
        con,
        [screening_row("c1", F1, 1, identification_date=D(2010, 4, 20))],
        [
            assistance_row("c1", F1, 1, assistance_type="shelter", assistance_start_date=D(2010, 5, 2),
                           assistance_end_date=None),
            assistance_row("c1", F2, 1, assistance_type="shelter", assistance_start_date=D(2010, 5, 2),
                           assistance_end_date=D(2010, 5, 31)),  # the episode ended: supersedes
            assistance_row("c1", F2, 2, assistance_type="medical", assistance_start_date=D(2010, 5, 1),
                           assistance_end_date=D(2010, 5, 1), funding_source="mission_project"),
            assistance_row("c1", F3, 1, assistance_type="medical", assistance_start_date=D(2010, 5, 1),
                           assistance_end_date=D(2010, 5, 1), funding_source="mission_project"),  # duplicate
            assistance_row("c1", F1, 2, assistance_type="legal", assistance_start_date=None,
                           assistance_end_date=None, funding_source=None),
            assistance_row("c1", F2, 3, assistance_type="legal", assistance_start_date=None,
                           assistance_end_date=None, funding_source="government"),  # undated: same key
        ],
    )
    load_core(con)
    got = rows(con, """SELECT episode_number, assistance_type, assistance_start_date, assistance_days,
                              days_from_identification, funding_source, is_gaf_funded, source_file, source_row
                       FROM fct_assistance ORDER BY episode_number""")
    assert got == [
        (1, "medical", D(2010, 5, 1), 1, 11, "mission_project", False, F2, 2),
        (2, "shelter", D(2010, 5, 2), 30, 12, "gaf", True, F2, 1),
        (3, "legal", None, None, None, "government", False, F2, 3),
    ]
    assert rows(con, "SELECT record_status, count(*) FROM fct_assistance_versions GROUP BY ALL ORDER BY 1") == [
        ("current", 3), ("duplicate", 1), ("superseded", 2)]
    assert_reconciled(con)


def test_dim_persons_counts_and_latest_attributes(con):
    stage(con, [
        screening_row("c1", F1, 1, person_token="p1", registration_date=D(2003, 1, 1), sex="female",
                      citizenship="KH", birth_year=1980, mission_code="TH-BKK"),
        screening_row("c2", "VN-HAN/2011-06-01/export.xlsx", 1, person_token="p1", registration_date=D(2009, 1, 1),
                      sex=None, citizenship="VN", birth_year=1981),
        screening_row("c3", F2, 2, person_token="p1", registration_date=D(2006, 1, 1), victim_status="not_victim"),
        screening_row("c4", F2, 3, person_token=None),
    ])
    load_core(con)
    assert rows(con, "SELECT * FROM dim_persons") == [("p1", "female", 1981, "VN", 2003, 3, 2, 2)]


def test_dim_missions_and_countries(con):
    stage(con, [screening_row("c1", F1, 1), screening_row("c2", F2, 1),
                screening_row("c3", "NA-WDH/2012-01-01/export.xlsx", 1),
                screening_row("c4", "ZZZ/2012-01-01/export.xlsx", 1)],
          [assistance_row("c1", "TH-BKK/2013-01-01/assistance.csv", 1)])
    load_core(con)
    assert rows(con, "SELECT * FROM dim_missions ORDER BY 1") == [
        ("NA-WDH", "NA", "Namibia", "Africa", "Sub-Saharan Africa", False, D(2012, 1, 1), D(2012, 1, 1), 1),
        ("TH-BKK", "TH", "Thailand", "Asia", "South-eastern Asia", False, D(2010, 6, 1), D(2013, 1, 1), 3),
        ("ZZZ", None, None, None, None, None, D(2012, 1, 1), D(2012, 1, 1), 1),
    ]
    assert rows(con, "SELECT country_code, is_gaf_excluded FROM dim_countries WHERE country_code IN ('NA', 'DE', 'AU')"
                     " ORDER BY 1") == [("AU", True), ("DE", True), ("NA", False)]


def test_dim_dates_covers_1999_to_end_of_this_year(con):
    stage(con, [screening_row("c1", F1, 1)])
    load_core(con, today=D(2026, 11, 28))
    assert rows(con, "SELECT min(calendar_date), max(calendar_date), count(*) FROM dim_dates") == [
        (D(1999, 1, 1), D(2026, 12, 31), 10227)]
    assert rows(con, "SELECT iso_year, iso_week, day_of_week, day_name, is_weekend, quarter_of_year "
                     "FROM dim_dates WHERE calendar_date = DATE '1999-01-01'") == [(1998, 53, 5, "Friday", False, 1)]


def test_every_core_table_matches_its_registry_schema(con):
    from ct_pipeline.warehouse.synthetic import synthetic_stg

    s = synthetic_stg(400, seed=3)
    insert_stg(con, s.stg_screenings, s.stg_assistance)
    load_core(con)
    for table in CORE_TABLES:
        validate(table, con.sql(f"SELECT * FROM {table}").pl())
    assert_reconciled(con)


def test_reconciliation_fails_loudly_when_rows_go_missing(con):
    stage(con, [screening_row("c1", F1, 1), screening_row("c2", F1, 2)], [assistance_row("c1", F1, 1)])
    load_core(con)
    assert_reconciled(con)
    con.execute("DELETE FROM fct_case_versions WHERE case_token = 'c2'")
    with pytest.raises(ReconciliationError) as err:
        assert_reconciled(con)
    assert "screenings" in str(err.value) and "c2" not in str(err.value)


def test_a_failed_load_rolls_back(con, monkeypatch):
    stage(con, [screening_row("c1", F1, 1)])
    load_core(con)
    stage(con, [screening_row("c2", F2, 1)])
    import ct_pipeline.warehouse.load as load_module

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(load_module, "_build_persons", boom)
    with pytest.raises(RuntimeError):
        load_core(con)
    assert rows(con, "SELECT case_token FROM fct_screenings") == [("c1",)]
    monkeypatch.undo()
    load_core(con)
    assert rows(con, "SELECT case_token FROM fct_screenings ORDER BY 1") == [("c1",), ("c2",)]


def test_load_inside_the_callers_transaction(con):
    stage(con, [screening_row("c1", F1, 1)])
    con.begin()
    stage(con, [screening_row("c2", F2, 1)])
    load_core(con, own_transaction=False)
    con.rollback()  # staging and core go back together
    load_core(con)
    assert rows(con, "SELECT case_token FROM fct_screenings") == [("c1",)]


def test_summary_and_flat_metadata_hold_counts_only(con):
    from ct_pipeline.warehouse import flatten, summary

    stage(con, [screening_row("c1", F1, 1), screening_row("c1", F2, 1)], [assistance_row("c9", F1, 1)])
    load_core(con)
    r = reconcile(con)
    assert summary(r).startswith("screenings staged 2 = current 1 + superseded 0 + duplicate 1 + out of scope 0")
    flat = flatten(r)
    assert flat["screenings.staged"] == 2 and flat["assistance.unmatched"] == 1 and flat["ok"] is True
    assert all(isinstance(v, int) for v in flat.values())


def test_a_night_of_files_already_seen_leaves_marts_and_cubes_nothing_to_do(con):
    """The marts and disclosure cubes read the core tables: ledger rows of files already seen (a
    mission re-sending an export) change the publish's and the reports' inputs, not theirs."""
    from ct_pipeline.pipeline import _fingerprint, ensure_tables

    ensure_tables(con, ["ingestion_ledger"])
    stage(con, [screening_row("c1", F1, 1)])
    load_core(con)
    before = (_fingerprint(con), _fingerprint(con, ledger=False))
    con.execute(
        "INSERT INTO ingestion_ledger (source_file, source_sha256, file_status, rows_read, rows_staged, "
        "rows_quarantined, rows_duplicate, ingested_at) VALUES (?, 'ab', 'already_seen', 3, 0, 0, 0, ?)",
        ["TH-BKK/2010-07-01/again.xlsx", dt.datetime(2026, 11, 3)])
    assert _fingerprint(con) != before[0]  # the ledger (published, in the reports) changed
    assert _fingerprint(con, ledger=False) == before[1]
    stage(con, [screening_row("c2", F1, 2)])  # new staged content: everything has work
    load_core(con)
    assert _fingerprint(con, ledger=False) != before[1]
