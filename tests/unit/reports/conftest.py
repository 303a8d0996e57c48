"""The shared built-database fixtures (see tests/unit/analysis/conftest.py)."""

from tests.unit.analysis.conftest import built, warehouse_file  # noqa: F401
