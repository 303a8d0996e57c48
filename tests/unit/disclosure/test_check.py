"""The blocking check of the public zone: passes on the built tables, fails on a deliberately small
cell, on an undone secondary suppression, on a mismatched flag, on an unknown table."""

from __future__ import annotations

import duckdb
import polars as pl

from ct_pipeline.disclosure import (
    PUB_TABLES,
    PUBLICATIONS,
    TOTAL,
    build_pub_tables,
    check_disclosure,
)
from ct_pipeline.metadata.registry import load_registry
from tests.unit.analysis.star import make_star


def rules(problems) -> set[tuple[str, str]]:
    return {(p.table, p.rule) for p in problems}


def test_the_built_tables_pass(built):
    assert check_disclosure(built, 11) == []


def test_every_pub_table_is_in_the_public_zone_of_the_registry(built):
    reg = load_registry()
    assert set(reg.tables_in(layer="public")) == set(PUB_TABLES)
    for name in PUB_TABLES:
        assert reg.table(name).zone == "public"
        assert not [c.name for c in reg.columns(name) if c.field.pii in ("direct", "token")], name
        assert built.sql(f"SELECT count(*) FROM {name}").fetchall()[0][0] > 0


def test_a_deliberately_small_cell_fails_the_check(built):
    built.execute("""UPDATE pub_cases__sex_age SET case_count = 3, is_suppressed = false
                     WHERE rowid = (SELECT min(rowid) FROM pub_cases__sex_age WHERE NOT is_suppressed)""")
    problems = check_disclosure(built, 11)
    assert ("pub_cases__sex_age", "below_threshold") in rules(problems)
    text = "\n".join(str(p) for p in problems)
    assert "3" not in text.replace("k - 1", "").split("below_threshold")[0]  # counts of cells, never values


def test_undoing_a_secondary_suppression_makes_a_cell_recoverable_and_fails(built):
    # publish again, with its true count, a withheld cell that is >= k (withheld only to protect a
    # smaller one): some of them must give a small cell away, and the check must say so
    from ct_pipeline.disclosure.publish import create_research_view, cube

    create_research_view(built)
    table = "pub_cases__sex_age"  # additive lines: a restored cell gives exact counts away
    dims = list(PUBLICATIONS[table].dims)
    truth = cube(built, PUBLICATIONS[table])
    secondary = (built.sql(f"SELECT * FROM {table} WHERE is_suppressed").pl().join(truth, on=dims)
                 .filter((pl.col("value") >= 11) & (pl.col("programme_region") == TOTAL) & (pl.col("programme") == TOTAL)))
    assert secondary.height > 0
    caught = 0
    for row in secondary.head(25).iter_rows(named=True):
        built.execute("BEGIN")
        built.execute(f"UPDATE {table} SET case_count = ?, is_suppressed = false WHERE "
                      + " AND ".join(f"{d} = ?" for d in dims), [row["value"], *(row[d] for d in dims)])
        found = rules(check_disclosure(built, 11))
        built.execute("ROLLBACK")
        caught += bool(found & {(table, "recoverable_from_total"), (table, "small_withheld_total"),
                                (table, "linked_mismatch")})
    assert caught > 0
    assert check_disclosure(built, 11) == []


def test_a_flag_that_disagrees_with_the_count_fails(built):
    built.execute("UPDATE pub_assistance__type_yearly SET is_suppressed = NOT is_suppressed "
                  "WHERE rowid = (SELECT min(rowid) FROM pub_assistance__type_yearly)")
    assert ("pub_assistance__type_yearly", "flag_mismatch") in rules(check_disclosure(built, 11))


def test_a_stricter_threshold_than_the_build_fails(built):
    found = rules(check_disclosure(built, 20))
    assert ("pub_release", "threshold_lower_than_required") in found
    assert any(r == "below_threshold" for _, r in found)


def test_quality_percentages_need_k_records(built):
    built.execute("""UPDATE pub_quality__mission_year_field SET completeness_pct = 50, is_suppressed = false
                     WHERE rowid = (SELECT min(rowid) FROM pub_quality__mission_year_field WHERE is_suppressed)""")
    assert ("pub_quality__mission_year_field", "below_threshold") in rules(check_disclosure(built, 11))


def test_an_unknown_pub_table_with_small_counts_fails(built):
    built.execute("CREATE TABLE pub_extra (region VARCHAR, case_count BIGINT)")
    built.execute("INSERT INTO pub_extra VALUES ('Asia', 4), ('Europe', 40)")
    found = rules(check_disclosure(built, 11))
    assert ("pub_extra", "below_threshold") in found and ("pub_extra", "no_suppression_flag") in found


def test_pub_tables_count_only_consented_cases_and_k_is_configurable():
    con = duckdb.connect()
    make_star(con, n_cases=400, seed=9)
    from ct_pipeline.analysis import build_marts

    build_marts(con)
    build_pub_tables(con, k=5)
    consented = con.sql("SELECT count(*) FROM fct_cases WHERE has_research_consent").fetchall()[0][0]
    total = con.sql(f"SELECT case_count FROM pub_cases__sex_age WHERE programme_region = '{TOTAL}' AND programme = '{TOTAL}' "
                    f"AND period = '{TOTAL}' AND sex_code = '{TOTAL}' AND age_band_code = '{TOTAL}'").fetchall()[0][0]
    assert total == consented
    assert check_disclosure(con, 5) == []
    assert con.sql("SELECT disclosure_k FROM pub_release").fetchall()[0][0] == 5
    assert con.sql("SELECT min(case_count) FROM pub_cases__sex_age WHERE NOT is_suppressed").fetchall()[0][0] >= 5
    assert set(PUBLICATIONS) < set(PUB_TABLES)


def test_problems_can_be_asked_for_one_table_and_k_comes_from_the_environment(built, monkeypatch):
    from ct_pipeline.disclosure import threshold

    built.execute("UPDATE pub_cases__sex_age SET case_count = 3, is_suppressed = false "
                  "WHERE rowid = (SELECT min(rowid) FROM pub_cases__sex_age WHERE NOT is_suppressed)")
    assert check_disclosure(built, 11, tables=["pub_cases__type_yearly"]) == []
    assert check_disclosure(built, 11, tables=["pub_cases__sex_age"])
    monkeypatch.delenv("CT_DISCLOSURE_K", raising=False)
    assert threshold() == 11
    monkeypatch.setenv("CT_DISCLOSURE_K", "15")
    assert threshold() == 15
    monkeypatch.setenv("CT_DISCLOSURE_K", "0")
    import pytest

    with pytest.raises(ValueError):
        threshold()


def test_the_per_table_checks_share_one_proof_and_see_a_changed_cell(warehouse_file, tmp_path, monkeypatch):
    # a run checks each pub_* table on its own; the proof reads them all, so it is computed once
    # per state of the public zone -- and again as soon as a cell changes
    import shutil

    import ct_pipeline.disclosure as disclosure_pkg
    from ct_pipeline import checks
    from ct_pipeline.pipeline import build_path
    from ct_pipeline.settings import get_settings

    settings = get_settings(raw_exports_dir=tmp_path / "raw", warehouse_dir=tmp_path / "wh", key_file=tmp_path / "k")
    build_path(settings).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(warehouse_file, build_path(settings))
    calls = []

    def counted(con, k=11, tables=None):
        calls.append(k)
        return check_disclosure(con, k, tables)

    monkeypatch.setattr(disclosure_pkg, "check_disclosure", counted)
    assert all(checks.disclosure(settings, t).passed for t in PUB_TABLES)
    assert len(calls) == 1
    con = duckdb.connect(str(build_path(settings)))
    con.execute("""UPDATE pub_cases__sex_age SET case_count = 3, is_suppressed = false
                   WHERE rowid = (SELECT min(rowid) FROM pub_cases__sex_age WHERE NOT is_suppressed)""")
    con.close()
    assert not checks.disclosure(settings, "pub_cases__sex_age").passed
    assert len(calls) == 2
