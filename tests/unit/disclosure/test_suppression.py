"""Primary and secondary suppression on small hand-made tables, with an exact audit: no withheld
cell is determined by the published cells and the table's equations (linear algebra)."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest

from ct_pipeline.disclosure.suppress import TOTAL, CubeSpec, line_members, suppress

K = 11


def cube_from(counts: dict[tuple[str, ...], int], dims: tuple[str, ...]) -> pl.DataFrame:
    """A full cube (every margin) from the inner cells of a table."""
    rows: dict[tuple, int] = {}
    for key, v in counts.items():
        for mask in itertools.product((False, True), repeat=len(dims)):
            cell = tuple(TOTAL if m else x for x, m in zip(key, mask, strict=True))
            rows[cell] = rows.get(cell, 0) + v
    return pl.DataFrame([dict(zip(dims, k, strict=True)) | {"value": v} for k, v in rows.items() if v > 0])


def determined(published: pl.DataFrame, truth: pl.DataFrame, spec: CubeSpec) -> list[dict]:
    """Withheld cells whose value follows exactly from the published cells and the line equations
    (total = sum of parts): e_j lies in the row space of the equations restricted to the unknowns."""
    # cells never published (the years outside a range) are unknowns like the withheld ones
    df = (truth.join(published, on=list(spec.dims), how="left").with_columns(pl.col("is_suppressed").fill_null(True))
          .with_row_index("cell").with_columns(pl.col("cell").cast(pl.Int64)))
    lines = line_members(df, spec)
    unknown = df.filter(pl.col("is_suppressed"))["cell"].to_list()
    if not unknown:
        return []
    col = {c: i for i, c in enumerate(unknown)}
    rows = []
    for _, members in lines.group_by("line"):
        row = np.zeros(len(unknown))
        for cell, is_total in members.select("cell", "is_total").iter_rows():
            if cell in col:
                row[col[cell]] += -1.0 if is_total else 1.0
        if row.any():
            rows.append(row)
    a = np.array(rows) if rows else np.zeros((1, len(unknown)))
    rank = np.linalg.matrix_rank(a)
    out = []
    for j, cell in enumerate(unknown):
        e = np.zeros(len(unknown))
        e[j] = 1
        if np.linalg.matrix_rank(np.vstack([a, e])) == rank:  # e_j in the row space: recoverable
            out.append(df.filter(pl.col("cell") == cell).select(*spec.dims).row(0, named=True))
    return out


SPEC = CubeSpec("pub_test", "people", "case_count", ("period", "sex"))


def table_2x3(small: int = 3) -> pl.DataFrame:
    return cube_from({("2019", "female"): 40, ("2019", "male"): 25, ("2019", "other"): small,
                      ("2020", "female"): 38, ("2020", "male"): 30, ("2020", "other"): 14}, SPEC.dims)


def test_primary_suppression_withholds_small_counts():
    out = suppress({"pub_test": table_2x3()}, {"pub_test": SPEC}, K)["pub_test"]
    cell = out.filter((pl.col("period") == "2019") & (pl.col("sex") == "other")).row(0, named=True)
    assert cell["case_count"] is None and cell["is_suppressed"] is True
    assert out.filter(~pl.col("is_suppressed"))["case_count"].min() >= K


def test_without_secondary_suppression_the_small_cell_is_recoverable_from_totals():
    truth = table_2x3()
    primary_only = truth.with_columns(((pl.col("value") > 0) & (pl.col("value") < K)).alias("is_suppressed")).with_columns(
        pl.when(pl.col("is_suppressed")).then(None).otherwise(pl.col("value")).alias("case_count"))
    assert determined(primary_only.drop("value"), truth, SPEC), "the audit must see the row-total attack"
    # the attack itself: the 2019 total minus the published 2019 cells
    row = primary_only.filter(pl.col("period") == "2019")
    total = row.filter(pl.col("sex") == TOTAL)["case_count"].item()
    parts = row.filter((pl.col("sex") != TOTAL) & ~pl.col("is_suppressed"))["case_count"].sum()
    assert total - parts == 3


def test_secondary_suppression_prevents_recovery_from_row_column_and_year_totals():
    truth = table_2x3()
    out = suppress({"pub_test": truth}, {"pub_test": SPEC}, K)["pub_test"]
    assert out["is_suppressed"].sum() >= 4  # the small cell, one in its row, one in its column, one more
    lines = line_members(out.with_row_index("cell").with_columns(pl.col("cell").cast(pl.Int64)), SPEC)
    per_line = lines.join(out.with_row_index("cell").with_columns(pl.col("cell").cast(pl.Int64)), on="cell") \
        .group_by("line").agg(pl.col("is_suppressed").sum().alias("n"))
    assert per_line.filter(pl.col("n") == 1).is_empty()
    assert determined(out, truth, SPEC) == []
    # what a published total reveals about its withheld parts is never a small group
    for period in ("2019", "2020", TOTAL):
        row = out.filter(pl.col("period") == period)
        total = row.filter(pl.col("sex") == TOTAL)["case_count"].item()
        if total is not None:
            hidden = total - row.filter((pl.col("sex") != TOTAL) & ~pl.col("is_suppressed"))["case_count"].sum()
            assert hidden == 0 or hidden >= K


def test_withheld_cells_of_a_line_hold_at_least_k_together():
    spec = CubeSpec("pub_test", "people", "case_count", ("sex",))
    truth = cube_from({("female",): 60, ("male",): 40, ("other",): 2, ("unknown",): 1}, spec.dims)
    out = suppress({"t": truth}, {"t": spec}, K)["t"]
    withheld = truth.join(out.filter(pl.col("is_suppressed")), on="sex")["value"].sum()
    assert withheld >= K  # 2 + 1 alone would reveal 3 persons; the smallest published cell joins them
    assert out.filter(pl.col("sex") == "male")["is_suppressed"].item()


def test_linked_tables_withhold_shared_cells_together():
    a = CubeSpec("pub_a", "people", "case_count", ("period", "sex"))
    b = CubeSpec("pub_b", "people", "case_count", ("period", "kind"))
    ta = cube_from({("2019", "female"): 5, ("2019", "male"): 7, ("2020", "female"): 40, ("2020", "male"): 30}, a.dims)
    tb = cube_from({("2019", "x"): 12, ("2020", "x"): 35, ("2020", "y"): 35}, b.dims)
    out = suppress({"pub_a": ta, "pub_b": tb}, {"pub_a": a, "pub_b": b}, K)
    # 2019 holds 12 people in both tables: published in one and not the other would undo suppression
    a2019 = out["pub_a"].filter((pl.col("period") == "2019") & (pl.col("sex") == TOTAL))["is_suppressed"].item()
    b2019 = out["pub_b"].filter((pl.col("period") == "2019") & (pl.col("kind") == TOTAL))["is_suppressed"].item()
    assert a2019 == b2019
    for name, spec, truth in (("pub_a", a, ta), ("pub_b", b, tb)):
        assert determined(out[name], truth, spec) == []


def test_hierarchies_protect_countries_within_their_region():
    spec = CubeSpec("pub_geo", "people", "case_count", ("region", "country"), hierarchy={"country": "region"})
    counts = {("Asia", "TH"): 50, ("Asia", "MY"): 30, ("Asia", "LA"): 4, ("Europe", "MD"): 20, ("Europe", "UA"): 25}
    rows: dict[tuple, int] = {}
    for (r, c), v in counts.items():
        for cell in ((r, c), (r, TOTAL), (TOTAL, TOTAL)):
            rows[cell] = rows.get(cell, 0) + v
    truth = pl.DataFrame([{"region": r, "country": c, "value": v} for (r, c), v in rows.items()])
    out = suppress({"g": truth}, {"g": spec}, K)["g"]
    asia = out.filter((pl.col("region") == "Asia") & (pl.col("country") != TOTAL))
    assert asia["is_suppressed"].sum() >= 2  # LA and one more Asian country: the Asia total cannot reveal LA
    assert determined(out, truth, spec) == []


def test_a_year_range_is_protected_against_its_years_and_the_outside_years():
    spec = CubeSpec("pub_r", "people", "case_count", ("period",))
    truth = pl.DataFrame({"period": ["2000", "2001", "2002", "2001-2002", "outside:2001-2002", TOTAL],
                          "value": [3, 40, 30, 70, 3, 73]})
    out = suppress({"r": truth}, {"r": spec}, K)["r"]
    assert "outside:2001-2002" not in out["period"].to_list()  # never published
    # total (73) - range (70) would reveal the 3 of 2000: the range (or the total) must be withheld too
    sup = dict(out.select("period", "is_suppressed").iter_rows())
    assert sup["2000"] and (sup["2001-2002"] or sup[TOTAL])
    assert determined(out, truth, spec) == []


@pytest.mark.parametrize("seed", range(6))
def test_random_tables_are_never_recoverable(seed):
    rng = np.random.default_rng(seed)
    spec = CubeSpec("pub_rand", "people", "case_count", ("a", "b", "c"))
    counts = {(f"a{i}", f"b{j}", f"c{m}"): int(rng.choice([0, 1, 2, 5, 9, 12, 20, 40]))
              for i in range(3) for j in range(3) for m in range(2)}
    truth = cube_from({k: v for k, v in counts.items() if v}, spec.dims)
    out = suppress({"r": truth}, {"r": spec}, K)["r"]
    assert out.filter(~pl.col("is_suppressed"))["case_count"].min() >= K
    assert determined(out, truth, spec) == []


def test_k_must_be_positive():
    with pytest.raises(ValueError):
        suppress({"pub_test": table_2x3()}, {"pub_test": SPEC}, 0)


def test_cells_nobody_reads_are_withheld_but_may_follow_when_not_small():
    # two regions released with their total; the third region is not released: it follows from the
    # total (total - the released ones) and that is fine as long as it is not a small count
    spec = CubeSpec("pub_s", "people", "case_count", ("region", "sex"))
    truth = cube_from({("A", "f"): 40, ("A", "m"): 30, ("B", "f"): 25, ("B", "m"): 20,
                       ("C", "f"): 15, ("C", "m"): 12}, spec.dims)
    released = truth.with_columns((pl.col("region") != "C").alias("released"))
    out = suppress({"s": released}, {"s": spec}, K)["s"]
    c = out.filter(pl.col("region") == "C")
    assert c["is_suppressed"].all() and c["case_count"].is_null().all()
    assert not out.filter(pl.col("region") != "C")["is_suppressed"].any()  # nothing else lost


def test_the_difference_of_two_released_slices_is_protected():
    # Asia and the whole world are released, the rest of the world is not: world - Asia per sex must
    # not reveal a small group (3 men outside Asia)
    spec = CubeSpec("pub_s", "people", "case_count", ("region", "sex"))
    truth = cube_from({("Asia", "f"): 40, ("Asia", "m"): 30, ("Africa", "f"): 25, ("Africa", "m"): 3}, spec.dims)
    released = truth.with_columns(pl.col("region").is_in(["Asia", TOTAL]).alias("released"))
    out = suppress({"s": released}, {"s": spec}, K)["s"]
    men = dict(out.filter(pl.col("sex") == "m").select("region", "is_suppressed").iter_rows())
    assert men["Asia"] or men[TOTAL]
    rows = determined(out, truth, spec)
    small = truth.filter((pl.col("value") > 0) & (pl.col("value") < K)).select(*spec.dims).to_dicts()
    assert not [r for r in rows if r in small]


@pytest.mark.parametrize("seed", range(6))
def test_random_tables_with_unreleased_slices_never_give_a_small_count_away(seed):
    rng = np.random.default_rng(100 + seed)
    spec = CubeSpec("pub_rand", "people", "case_count", ("a", "b", "c"))
    counts = {(f"a{i}", f"b{j}", f"c{m}"): int(rng.choice([0, 1, 2, 5, 9, 12, 20, 40]))
              for i in range(3) for j in range(3) for m in range(2)}
    truth = cube_from({k: v for k, v in counts.items() if v}, spec.dims)
    hidden_a = f"a{int(rng.integers(0, 3))}"
    released = truth.with_columns((pl.col("a") != hidden_a).alias("released"))
    out = suppress({"r": released}, {"r": spec}, K)["r"]
    assert out.filter(~pl.col("is_suppressed"))["case_count"].min() >= K
    withheld_released = out.filter(pl.col("is_suppressed") & (pl.col("a") != hidden_a)).select(*spec.dims).to_dicts()
    small = truth.filter((pl.col("value") > 0) & (pl.col("value") < K)).select(*spec.dims).to_dicts()
    leaked = [r for r in determined(out, truth, spec) if r in small or r in withheld_released]
    assert leaked == []
