"""GE's pandas mean/sum/std scan every value for a Decimal; skipped for typed (non-object) columns."""

from decimal import Decimal

import pandas as pd
import pytest

from ct_pipeline.expectations import runner


@pytest.mark.parametrize("name", runner._DECIMAL_SCANS)
def test_typed_columns_are_not_scanned_object_columns_are(name, monkeypatch):
    runner._gx()
    import importlib

    import great_expectations.util as gx_util

    module = importlib.import_module(f"great_expectations.expectations.metrics.column_aggregate_metrics.{name}")
    convert = module.convert_pandas_series_decimal_to_float_dtype
    assert convert._ct_typed_skip

    def no_scan(data):
        raise AssertionError("a typed column was scanned value by value")

    monkeypatch.setattr(gx_util, "does_ndarray_contain_decimal_dtype", no_scan)
    floats = pd.Series([1.5, 2.5, None])
    assert convert(data=floats, inplace=True) is None and floats.tolist()[:2] == [1.5, 2.5]
    ints = pd.Series([1, 2, 3])
    assert convert(data=ints) is ints
    monkeypatch.undo()
    decimals = pd.Series([Decimal("1.5"), Decimal("2.5")], dtype=object)
    assert convert(data=decimals).tolist() == [1.5, 2.5]  # object columns: GE's own conversion
    runner._gx()  # applied once: not wrapped twice
    assert module.convert_pandas_series_decimal_to_float_dtype is convert
