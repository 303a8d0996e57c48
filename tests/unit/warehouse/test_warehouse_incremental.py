"""Incremental loads give the same warehouse as a full rebuild; re-running changes nothing."""

from __future__ import annotations

import datetime as dt

import duckdb
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from ct_pipeline.warehouse import assert_reconciled, load_core
from ct_pipeline.warehouse.synthetic import (
    assistance_row,
    insert_stg,
    screening_row,
    stg_frame,
    synthetic_night,
    synthetic_stg,
)
from ct_pipeline.warehouse.tables import CORE_TABLES, fingerprints

BASE = 600


def _night(n):
    return synthetic_night(BASE, n_new=20, n_changed=8, n_unchanged=6, seed=5, night=n,
                           received_date=dt.date(2026, 7, n))


def test_incremental_equals_full_and_rerun_changes_nothing(con):
    base = synthetic_stg(BASE, seed=5, pre1999=0.02)
    insert_stg(con, base.stg_screenings, base.stg_assistance)
    assert load_core(con).mode == "full"
    for n in (1, 2, 3):
        night = _night(n)
        insert_stg(con, night.stg_screenings, night.stg_assistance)
        result = load_core(con)
        assert result.mode == "incremental"
        assert 0 < result.cases_rebuilt < BASE / 5
        assert_reconciled(con)
    incremental = fingerprints(con)

    again = load_core(con)
    assert again.mode == "noop"
    assert fingerprints(con) == incremental

    load_core(con, full=True)
    assert fingerprints(con) == incremental

    fresh = duckdb.connect()  # everything at once, in another database
    insert_stg(fresh, con.sql("SELECT * FROM stg_screenings").pl(), con.sql("SELECT * FROM stg_assistance").pl())
    load_core(fresh)
    assert fingerprints(fresh) == incremental


def test_a_removed_or_restaged_file_is_rebuilt(con):
    base = synthetic_stg(300, seed=9)
    insert_stg(con, base.stg_screenings, base.stg_assistance)
    load_core(con)
    # staging re-ran on one export after a fix: its rows are replaced (another sha, fewer rows)
    f = con.sql("SELECT source_file FROM stg_screenings GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchall()[0][0]
    con.execute("DELETE FROM stg_screenings WHERE source_file = ? AND source_row > 1", [f])
    con.execute("UPDATE stg_screenings SET source_sha256 = 'restaged' WHERE source_file = ?", [f])
    other = con.sql("SELECT source_file FROM stg_assistance GROUP BY 1 ORDER BY 1 LIMIT 1").fetchall()[0][0]
    con.execute("DELETE FROM stg_assistance WHERE source_file = ?", [other])
    assert load_core(con).mode == "incremental"
    assert_reconciled(con)
    incremental = fingerprints(con)
    load_core(con, full=True)
    assert fingerprints(con) == incremental


# --- property: any sequence of exports, loaded night by night, equals one full load -------------
MISSIONS = ["TH-BKK", "DE-BER"]
STATUSES = ["victim", "presumed_victim", "not_victim"]

row_spec = st.tuples(
    st.integers(0, 5),  # case
    st.sampled_from(STATUSES),
    st.sampled_from([None, ["forced_labour"], ["sexual_exploitation", "other"], []]),
    st.sampled_from([dt.date(1998, 6, 1), dt.date(2000, 7, 1), dt.date(2010, 3, 1)]),
)
episode_spec = st.tuples(
    st.integers(0, 6),  # case (6 has no screening: unmatched)
    st.sampled_from(["shelter", "medical"]),
    st.sampled_from([None, dt.date(2010, 3, 5)]),
    st.sampled_from([None, dt.date(2010, 4, 1)]),
)
night_spec = st.tuples(st.lists(row_spec, max_size=5), st.lists(episode_spec, max_size=4))


def _stage_night(con, i: int, night) -> None:
    screenings, episodes = night
    scr = [screening_row(f"case{c}", f"{MISSIONS[c % 2]}/2020-01-{i + 1:02d}/export.xlsx", r + 1,
                         victim_status=s, exploitation_types=e, registration_date=d, identification_date=None)
           for r, (c, s, e, d) in enumerate(screenings)]
    ast = [assistance_row(f"case{c}", f"{MISSIONS[c % 2]}/2020-01-{i + 1:02d}/export.xlsx", r + 1,
                          assistance_type=t, assistance_start_date=start, assistance_end_date=end)
           for r, (c, t, start, end) in enumerate(episodes)]
    insert_stg(con, stg_frame("stg_screenings", scr), stg_frame("stg_assistance", ast))


@hsettings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(night_spec, min_size=1, max_size=3))
def test_property_nightly_loads_equal_a_full_load(nights):
    nightly = duckdb.connect()
    for i, night in enumerate(nights):
        _stage_night(nightly, i, night)
        load_core(nightly)
        assert_reconciled(nightly)
    once = duckdb.connect()
    for i, night in enumerate(nights):
        _stage_night(once, i, night)
    load_core(once)
    assert fingerprints(nightly, CORE_TABLES) == fingerprints(once, CORE_TABLES)


def test_rows_changed_in_place_are_seen(con):
    """Staging may rewrite staged rows of a loaded file without changing its row count or sha:
    a person relinked across nights (UPDATE person_token) or a file reloaded after a parser fix."""
    base = synthetic_stg(200, seed=13)
    insert_stg(con, base.stg_screenings, base.stg_assistance)
    load_core(con)
    case = con.sql("SELECT case_token FROM fct_screenings ORDER BY 1 LIMIT 1").fetchall()[0][0]
    con.execute("UPDATE stg_screenings SET person_token = 'relinked-person' WHERE case_token = ?", [case])
    con.execute("UPDATE stg_assistance SET assistance_end_date = NULL WHERE source_row = 1")
    result = load_core(con)
    assert result.mode == "incremental" and result.files_changed > 0
    assert con.sql("SELECT person_token FROM fct_screenings WHERE case_token = ?", params=[case]).fetchall() == [
        ("relinked-person",)]
    assert con.sql("SELECT count(*) FROM dim_persons WHERE person_token = 'relinked-person'").fetchall() == [(1,)]
    incremental = fingerprints(con)
    load_core(con, full=True)
    assert fingerprints(con) == incremental
