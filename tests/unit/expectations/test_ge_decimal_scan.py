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


def test_no_md5_of_every_batch_frame():
    runner._gx()
    from great_expectations.execution_engine import pandas_execution_engine as engine

    assert engine.HASH_THRESHOLD == 0  # `memory_usage().sum() < 0` is never true: no batch fingerprint


def test_the_checks_libraries_imported_in_the_background_once():
    """In a fresh interpreter: pandera and GE are imported in a thread, a suite's _gx() waits for
    it, and a second start() starts nothing."""
    import subprocess
    import sys

    code = (
        "import sys, threading\n"
        "from ct_pipeline import preload\n"
        "from ct_pipeline.expectations import runner as r\n"
        "assert 'great_expectations' not in sys.modules and 'pandera' not in sys.modules\n"
        "preload.start(); t = preload._THREAD\n"
        "assert t is not None and t.name == 'ct-preload' and not t.daemon\n"
        "preload.start(); assert preload._THREAD is t\n"
        "gx = r._gx(); assert not t.is_alive() and gx is sys.modules['great_expectations']\n"
        "assert 'ct_pipeline.metadata.schemas' in sys.modules and 'pandera' in sys.modules\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
