"""The DuckDB warehouse: the star schema built from staging, its row accounting, and publishing.

    con = connect_build(settings)            # warehouse/restricted/build.duckdb (everything)
    load_core(con)                           # dim_* / fct_* from stg_*, one transaction, incremental
    assert_reconciled(con)                   # blocking check: staged = current + superseded + duplicate + out of scope
    publish(settings, con)                   # ct.duckdb (analyst/public tables only) + parquet/, atomic
    query(settings, "select …", fmt="csv")   # read-only, against the published file
"""

from ct_pipeline.warehouse.build import build_db_path, connect_build, open_build
from ct_pipeline.warehouse.load import LoadResult, load_core
from ct_pipeline.warehouse.publish import (
    PublishResult,
    QueryRefused,
    open_published,
    publish,
    published_tables,
    query,
    query_frame,
)
from ct_pipeline.warehouse.reconcile import (
    ReconciliationError,
    assert_reconciled,
    flatten,
    reconcile,
    summary,
)

__all__ = [
    "LoadResult",
    "PublishResult",
    "QueryRefused",
    "ReconciliationError",
    "assert_reconciled",
    "build_db_path",
    "connect_build",
    "flatten",
    "load_core",
    "open_build",
    "open_published",
    "publish",
    "published_tables",
    "query",
    "query_frame",
    "reconcile",
    "summary",
]
