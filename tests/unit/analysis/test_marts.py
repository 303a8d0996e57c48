"""The marts: built from the registry DDL, documented in DuckDB, consent respected, flow classes as
UNODC classes them, invariants hold."""

from __future__ import annotations

import duckdb
import pytest

from ct_pipeline.analysis import MARTS, SourceError, build_marts, check_marts, flow_class_sql
from ct_pipeline.metadata.registry import load_registry
from tests.unit.analysis.star import make_star


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    make_star(c, n_cases=500, seed=3)
    build_marts(c)
    yield c
    c.close()


def one(con, sql: str, params=None):
    return con.sql(sql, params=params).fetchall()[0][0] if params is None else con.execute(sql, params).fetchall()[0][0]


def test_every_mart_of_the_registry_is_built_documented_and_checked(con):
    reg = load_registry()
    assert set(reg.tables_in(layer="mart")) == set(MARTS)
    for name in MARTS:
        assert reg.table(name).zone == "analyst"
        cols = con.sql(f"SELECT column_name, comment FROM duckdb_columns() WHERE table_name = '{name}'").fetchall()
        assert [c for c, _ in cols] == reg.column_names(name)
        assert all(comment for _, comment in cols), name
        assert one(con, f"SELECT comment FROM duckdb_tables() WHERE table_name = '{name}'").count("Grain: one row per")
        assert one(con, f"SELECT count(*) FROM {name}") > 0, name
    assert check_marts(con) == []


def test_marts_count_only_cases_with_research_consent(con):
    consented = one(con, "SELECT count(*) FROM fct_cases WHERE has_research_consent")
    everyone = one(con, "SELECT count(*) FROM fct_cases")
    assert consented < everyone
    assert one(con, "SELECT sum(case_count) FROM mart_revictimisation__yearly") == consented
    typed = one(con, "SELECT count(*) FROM (SELECT unnest(CASE WHEN len(coalesce(exploitation_types, [])) > 0 "
                     "THEN list_distinct(exploitation_types) ELSE [NULL] END) FROM fct_cases WHERE has_research_consent)")
    assert one(con, "SELECT sum(case_count) FROM mart_cases__yearly") == typed
    # the data-quality mart measures every case, consent or not
    assert one(con, "SELECT sum(record_count) FROM mart_quality__mission_year_field WHERE field_name = 'sex'") == everyone


def test_flow_classes_follow_the_unodc_global_report(con):
    pairs = [("TH", "TH", "domestic"), ("MD", "RU", "intra_subregional"), ("TH", "MY", "intra_subregional"),
             ("TH", "JP", "intra_regional"), ("NG", "IT", "trans_regional"), ("NG", "LY", "intra_regional")]
    flow = flow_class_sql("o.country_code", "o.sub_region", "o.region", "e.country_code", "e.sub_region", "e.region")
    for origin, dest, expected in pairs:
        got = one(con, f"SELECT {flow} FROM dim_countries o, dim_countries e "
                       f"WHERE o.country_code = '{origin}' AND e.country_code = '{dest}'")
        assert got == expected, (origin, dest)
    classes = {r[0] for r in con.sql("SELECT DISTINCT flow_class FROM mart_routes__yearly").fetchall()}
    assert classes <= {"domestic", "intra_subregional", "intra_regional", "trans_regional"}
    assert "domestic" in classes and "trans_regional" in classes


def test_routes_corridors_and_transit_agree(con):
    top = con.sql("SELECT origin_country, exploitation_country, case_count FROM mart_corridors__top "
                  "ORDER BY corridor_rank LIMIT 1").fetchall()[0]
    total = one(con, "SELECT sum(case_count) FROM mart_routes__yearly WHERE origin_basis = 'citizenship' "
                     f"AND origin_country = '{top[0]}' AND exploitation_country = '{top[1]}'")
    assert total == top[2]
    assert one(con, "SELECT max(case_count) FROM mart_corridors__top") == top[2]
    assert one(con, "SELECT count(*) FROM mart_corridors__top") <= 25
    transits = one(con, "SELECT count(DISTINCT l.case_token) FROM fct_route_legs l JOIN fct_cases c USING (case_token) "
                        "WHERE route_stage = 'transit' AND c.has_research_consent")
    assert one(con, "SELECT count(*) FROM mart_transit__yearly") > 0
    assert one(con, "SELECT sum(case_count) FROM mart_transit__yearly") >= transits


def test_assistance_marts(con):
    rows = con.sql("SELECT coverage_share, median_days_to_assistance, p90_days_to_assistance FROM mart_assistance__yearly "
                   "WHERE assisted_case_count > 0").fetchall()
    assert rows and all(0 <= c <= 1 for c, _, _ in rows)
    assert all(m is None or p is None or m <= p for _, m, p in rows)
    # GAF-assisted persons: none before August 2000, never more than persons assisted
    assert one(con, "SELECT coalesce(sum(gaf_assisted_person_count), 0) FROM mart_assisted_persons__yearly "
                    "WHERE assistance_year < 2000") == 0
    assert one(con, "SELECT count(*) FROM mart_assisted_persons__yearly "
                    "WHERE gaf_assisted_person_count > assisted_person_count") == 0
    assert one(con, "SELECT sum(voluntary_return_person_count) FROM mart_assisted_persons__yearly") > 0
    outcomes = {r[0] for r in con.sql("SELECT DISTINCT reintegration_outcome FROM mart_reintegration__yearly").fetchall()}
    assert outcomes - {None} <= {"completed", "ongoing", "dropped_out", "lost_contact"}


def test_coverage_mart_is_the_join_of_the_two_facts(con):
    # the headline an analyst would otherwise compute by joining fct_cases and fct_assistance
    expected = con.sql("""
        SELECT c.identification_year, count(*), count(a.case_token)
        FROM fct_cases c LEFT JOIN (SELECT DISTINCT case_token FROM fct_assistance) a USING (case_token)
        WHERE c.identification_year IS NOT NULL AND c.has_research_consent GROUP BY ALL ORDER BY ALL""").fetchall()
    got = con.sql("SELECT identification_year, identified_case_count, assisted_case_count "
                  "FROM mart_assistance__coverage_yearly ORDER BY ALL").fetchall()
    assert got == expected and got


def test_revictimisation_counts_persons_with_an_earlier_case():
    c = duckdb.connect()
    make_star(c, n_cases=50, seed=5)
    c.execute("UPDATE fct_cases SET has_research_consent = true")
    c.execute("UPDATE fct_cases SET person_token = 'p-same', registration_year = 2010, "
              "registration_date = DATE '2010-01-01' + CAST(source_row AS INTEGER) WHERE source_row IN (1, 2, 3)")
    c.execute("UPDATE fct_cases SET registration_year = 2011 WHERE source_row = 3")
    build_marts(c, ["mart_revictimisation__yearly"])
    y2010 = c.sql("SELECT revictimised_person_count, multi_case_person_count FROM mart_revictimisation__yearly "
                  "WHERE registration_year = 2010").fetchall()[0]
    y2011 = c.sql("SELECT revictimised_person_count FROM mart_revictimisation__yearly "
                  "WHERE registration_year = 2011").fetchall()[0]
    assert y2010[0] >= 1 and y2010[1] >= 1 and y2011[0] >= 1


def test_quality_mart_measures_completeness_by_mission_year_field(con):
    got = con.sql("""SELECT mission_code, registration_year, record_count, filled_count, completeness_share
                     FROM mart_quality__mission_year_field WHERE field_name = 'sex' ORDER BY record_count DESC LIMIT 1""").fetchall()[0]
    m, y, n, filled, share = got
    assert n == one(con, f"SELECT count(*) FROM fct_cases WHERE mission_code = '{m}' AND registration_year = {y}")
    assert filled == one(con, f"SELECT count(sex) FROM fct_cases WHERE mission_code = '{m}' AND registration_year = {y}")
    assert share == pytest.approx(filled / n)
    fields = {r[0] for r in con.sql("SELECT DISTINCT field_name FROM mart_quality__mission_year_field").fetchall()}
    assert {"sex", "citizenship", "exploitation_types", "funding_source"} <= fields
    assert not fields & {"case_token", "source_file", "mission_code"}


def test_ctdc_comparison_puts_both_sources_side_by_side(con):
    for year, wh, ctdc in con.sql("SELECT registration_year, warehouse_case_count, ctdc_case_count "
                                  "FROM mart_ctdc_comparison__yearly WHERE comparison_cut = 'total'").fetchall():
        assert wh == one(con, f"SELECT count(*) FROM fct_cases WHERE has_research_consent AND registration_year = {year}")
        assert ctdc == one(con, f"SELECT count(*) FROM ref_ctdc_cases WHERE registration_year = {year}")
    cuts = {r[0] for r in con.sql("SELECT DISTINCT comparison_cut FROM mart_ctdc_comparison__yearly").fetchall()}
    assert cuts == {"total", "sex", "age_band", "exploitation_type", "citizenship", "exploitation_country", "corridor"}
    shares = con.sql("SELECT sum(ctdc_share) FROM mart_ctdc_comparison__yearly WHERE comparison_cut = 'sex' "
                     "AND ctdc_case_count > 0 GROUP BY registration_year").fetchall()
    assert all(s[0] == pytest.approx(1.0) for s in shares)


def test_a_missing_source_is_named():
    c = duckdb.connect()
    make_star(c, n_cases=20)
    c.execute("ALTER TABLE fct_cases DROP COLUMN has_research_consent")
    with pytest.raises(SourceError, match="fct_cases lacks column.*has_research_consent"):
        build_marts(c)
    c.execute("DROP TABLE fct_route_legs")
    with pytest.raises(SourceError, match="fct_route_legs is missing"):
        build_marts(c)


def test_rebuilding_is_idempotent(con):
    before = {m: con.sql(f"SELECT * FROM {m} ORDER BY ALL").fetchall() for m in ("mart_cases__yearly", "mart_routes__yearly")}
    build_marts(con, ["mart_cases__yearly", "mart_routes__yearly"])
    after = {m: con.sql(f"SELECT * FROM {m} ORDER BY ALL").fetchall() for m in before}
    assert before == after


def test_no_identifying_value_in_the_marts(con):
    reg = load_registry()
    for name in MARTS:
        pii = {c.name: c.field.pii for c in reg.columns(name)}
        assert "direct" not in pii.values() and "token" not in pii.values(), name
        dates = [c.name for c in reg.columns(name) if c.field.type in ("date", "timestamp")]
        assert not dates, (name, dates)  # aggregates only: no date of an individual
