"""The information-loss report: what suppression takes from the drawn cells, counts only."""

from __future__ import annotations

from ct_pipeline.disclosure.loss import CHARTS, information_loss
from ct_pipeline.disclosure.publish import DRAWN, PUBLICATIONS


def test_every_published_cube_says_which_cells_charts_draw():
    assert set(DRAWN) == set(PUBLICATIONS)
    assert {table for table, _ in CHARTS.values()} == set(PUBLICATIONS)


def test_loss_is_reported_per_chart_without_values(built):
    loss = information_loss(built, audiences=[], k=11)
    assert loss["chart"].to_list() == list(CHARTS)
    assert (loss["withheld_cells"] <= loss["drawn_cells"]).all()
    assert loss["drawn_cells"].sum() > 0
    assert ((loss["cases_withheld_pct"] >= 0) & (loss["cases_withheld_pct"] <= 100)).all()
