"""Incremental validation: with a store, GE validates row by row only the rows whose checked values
it has not passed yet, while keys, row count, means and shares still see every row — and a bad row
that arrives in a later night is caught all the same (and is never remembered as passed)."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from ct_pipeline.expectations import load_tolerances, run_expectations
from ct_pipeline.expectations.bench import create_table, fill_fct_cases

TODAY = dt.date(2026, 1, 31)
BAD_SEX = "PLANTED-SEX-Tamarind"
N = 400


def _run(con, tmp, **kw):
    res = run_expectations(con, ["fct_cases"], docs_dir=tmp / "reports" / "data_docs",
                           store_dir=tmp / "restricted" / "gx_store", today=kw.pop("today", TODAY), **kw)
    return res["fct_cases"]


def _failed(r):
    return {(e.expectation, e.column): e.unexpected_count for e in r.failed}


@pytest.fixture
def night(tmp_path):
    """A clean fct_cases validated once (every row), so that the store remembers it."""
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    create_table(con, "fct_cases", constraints=False)
    fill_fct_cases(con, N)
    first = _run(con, tmp_path)
    assert first.success, first.summary_line()
    assert first.rows_validated == N
    yield con, tmp_path
    con.close()


def test_an_unchanged_table_reuses_its_pass(night):
    con, tmp = night
    r = _run(con, tmp)
    assert r.success and r.rows_validated == 0 and r.rows_in_table == N
    assert len(r.expectations) > 30  # the results of the pass, not an empty list
    assert any("unchanged since the validation" in n for n in r.notes)


def test_a_bad_row_added_in_a_later_night_is_caught(night):
    con, tmp = night
    fill_fct_cases(con, 20, start=N)  # new, valid cases
    fill_fct_cases(con, 1, start=N + 20)
    con.execute(f"UPDATE fct_cases SET sex = '{BAD_SEX}' WHERE case_token = sha256('case' || {N + 20}::VARCHAR)")
    r = _run(con, tmp)
    assert 0 < r.rows_validated < N  # only the rows not passed yet, row by row
    assert not r.success
    assert _failed(r) == {("expect_column_values_to_be_in_set", "sex"): 1}
    row_count = next(e for e in r.expectations if e.expectation == "expect_table_row_count_to_be_between")
    assert row_count.observed == N + 21  # the table-wide checks see every row
    assert BAD_SEX not in json.dumps(r.to_metadata(), default=str)
    # the failing row was not remembered as passed: the next night finds it again
    again = _run(con, tmp)
    assert _failed(again) == {("expect_column_values_to_be_in_set", "sex"): 1}
    con.execute(f"UPDATE fct_cases SET sex = 'female' WHERE sex = '{BAD_SEX}'")
    assert _run(con, tmp).success


def test_a_row_changed_in_place_is_validated_again(night):
    """Same row count, one value changed: not the table that passed, so not reused."""
    con, tmp = night
    con.execute("UPDATE fct_cases SET age_at_identification = 187, age_band = '48+' "
                "WHERE case_token = sha256('case7')")
    r = _run(con, tmp)
    assert r.rows_validated == 1
    assert _failed(r) == {("expect_column_values_to_be_between", "age_at_identification"): 1}


def test_deleted_rows_leave_nothing_to_validate_row_by_row(night):
    con, tmp = night
    con.execute("DELETE FROM fct_cases WHERE case_token IN (sha256('case1'), sha256('case2'))")
    r = _run(con, tmp)
    assert r.success and r.rows_validated == 0, r.summary_line()
    row_count = next(e for e in r.expectations if e.expectation == "expect_table_row_count_to_be_between")
    assert row_count.observed == N - 2


def test_a_duplicate_key_added_later_is_caught(night):
    """A copy of a passed row under the same key has the fingerprint of a passed row (keys enter
    it as null-ness only): its uniqueness is checked over the whole table all the same."""
    con, tmp = night
    con.execute("INSERT INTO fct_cases SELECT * FROM fct_cases WHERE case_token = sha256('case3')")
    r = _run(con, tmp)
    assert _failed(r) == {("expect_column_values_to_be_unique", "case_token"): 2}
    con.execute("UPDATE fct_cases SET case_token = NULL WHERE rowid = (SELECT max(rowid) FROM fct_cases)")
    r = _run(con, tmp)
    assert _failed(r) == {("expect_column_values_to_not_be_null", "case_token"): 1}


def test_means_and_shares_see_every_row(night):
    """Rows each valid on their own can still move a mean out of its tolerance: the mean is
    validated over the whole table, not over the new rows."""
    con, tmp = night
    fill_fct_cases(con, 600, start=N)
    con.execute(f"UPDATE fct_cases SET age_at_identification = 90, age_band = '48+' WHERE source_row > 0 "
                f"AND case_token IN (SELECT sha256('case' || i::VARCHAR) FROM range({N}, {N + 600}) t(i))")
    r = _run(con, tmp)
    assert r.rows_validated < N + 600
    failed = [e for e in r.failed]
    assert [(e.expectation, e.column) for e in failed] == [("expect_column_mean_to_be_between", "age_at_identification")]
    mean = con.execute("SELECT avg(age_at_identification) FROM fct_cases").fetchall()[0][0]
    assert failed[0].observed == pytest.approx(mean)


def test_new_tolerances_validate_every_row_again(night):
    con, tmp = night
    tol = load_tolerances()
    tol = tol.model_copy(update={"default_min_rows": 2})
    r = _run(con, tmp, tolerances=tol)
    assert r.success and r.rows_validated == N


def test_a_damaged_memo_means_a_full_validation(night):
    con, tmp = night
    for f in (tmp / "restricted" / "gx_store" / "validated_rows").glob("*.json"):
        f.write_text("{not json", encoding="utf-8")
    r = _run(con, tmp)
    assert r.success and r.rows_validated == N


def test_without_a_store_every_row_is_validated(night):
    con, tmp = night
    r = run_expectations(con, ["fct_cases"], docs_dir=None, today=TODAY)["fct_cases"]
    assert r.success and r.rows_validated == N


def test_a_later_day_keeps_the_pass_of_rows_whose_rule_values_hold(night):
    """Rules over `today` enter a row's fingerprint through their value: the next day, the rows
    whose dates are still not in the future are not validated again."""
    con, tmp = night
    r = _run(con, tmp, today=TODAY + dt.timedelta(days=1))
    assert r.success and r.rows_validated == 0


def test_a_table_missing_a_column_is_never_reused_as_passed(tmp_path):
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    create_table(con, "fct_cases", constraints=False)
    fill_fct_cases(con, 50)
    con.execute("ALTER TABLE fct_cases DROP COLUMN era")
    for _ in range(2):
        r = _run(con, tmp_path)
        assert not r.success
        assert _failed(r) == {("expect_column_to_exist", "era"): None}


def test_above_max_rows_full_a_sample_is_validated_and_key_problems_are_kept(tmp_path):
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    create_table(con, "fct_cases", constraints=False)
    fill_fct_cases(con, 300)
    con.execute("INSERT INTO fct_cases SELECT * FROM fct_cases WHERE case_token = sha256('case5')")
    tol = load_tolerances()
    tol = tol.model_copy(update={"performance": tol.performance.model_copy(
        update={"max_rows_full": 100, "sample_rows": 50})})
    r = _run(con, tmp_path, tolerances=tol)
    assert r.sampled and r.rows_in_table == 301
    assert r.rows_validated == 52  # the sample and both rows of the duplicated key
    assert _failed(r) == {("expect_column_values_to_be_unique", "case_token"): 2}
    # the rows of the sample passed their row checks: the next call samples among the others
    again = _run(con, tmp_path, tolerances=tol)
    assert again.sampled and again.rows_validated == 52
    assert _failed(again) == {("expect_column_values_to_be_unique", "case_token"): 2}


def test_checks_split_into_column_batches_give_the_same_results(tmp_path, monkeypatch):
    """A large frame is validated in batches of a few columns (GE copies the whole frame for each
    column check); the merged result counts the same problems, a compound key's columns together."""
    from ct_pipeline.expectations import runner

    monkeypatch.setattr(runner, "_GROUP_CELLS", 100)  # 400 rows x ~33 columns: about 11 batches
    con = duckdb.connect()
    create_table(con, "fct_cases", constraints=False)
    fill_fct_cases(con, N)
    con.execute(f"UPDATE fct_cases SET sex = '{BAD_SEX}' WHERE case_token IN (sha256('case1'), sha256('case2'))")
    con.execute("UPDATE fct_cases SET case_token = sha256('case9') WHERE case_token = sha256('case10')")
    con.execute("UPDATE fct_cases SET age_at_identification = 187, age_band = '48+' WHERE case_token = sha256('case7')")
    plan_checks = []
    real = runner._column_groups

    def spy(frame, checks):
        out = real(frame, checks)
        plan_checks.append(len(out))
        return out

    monkeypatch.setattr(runner, "_column_groups", spy)
    r = run_expectations(con, ["fct_cases"], docs_dir=None, today=TODAY)["fct_cases"]
    assert plan_checks and plan_checks[0] > 5
    assert _failed(r) == {("expect_column_values_to_be_in_set", "sex"): 2,
                          ("expect_column_values_to_be_unique", "case_token"): 2,
                          ("expect_column_values_to_be_between", "age_at_identification"): 1}
    assert len(r.expectations) == len({(e.expectation, e.column) for e in r.expectations}) > 30
    legs = duckdb.connect()
    create_table(legs, "fct_route_legs", constraints=False)
    legs.execute("INSERT INTO fct_route_legs SELECT sha256('c' || (i // 3)::VARCHAR), 1 + i % 3, 'transit', 'TR', 2020 "
                 "FROM range(300) t(i)")
    legs.execute("INSERT INTO fct_route_legs SELECT * FROM fct_route_legs LIMIT 1")
    r = run_expectations(legs, ["fct_route_legs"], docs_dir=None, today=TODAY)["fct_route_legs"]
    assert _failed(r) == {("expect_compound_columns_to_be_unique", "case_token, leg_order"): 2}


def test_above_max_rows_full_the_passes_add_up_until_every_row_is_covered(tmp_path):
    """Each call validates a sample of the rows not passed yet; once every row has passed (the
    last ones without sampling), an unchanged table reuses its pass."""
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    create_table(con, "fct_cases", constraints=False)
    fill_fct_cases(con, 300)
    tol = load_tolerances()
    tol = tol.model_copy(update={"performance": tol.performance.model_copy(
        update={"max_rows_full": 100, "sample_rows": 60})})
    validated = []
    for _ in range(6):
        r = _run(con, tmp_path, tolerances=tol)
        assert r.success, r.summary_line()
        validated.append(r.rows_validated)
    assert validated == [60, 60, 60, 60, 60, 0]  # 300, 240, 180, 120 rows to do: samples; 60: all
    assert any("unchanged since the validation" in n for n in r.notes)
