"""Dagster definitions: `dagster dev -m assets.definitions` (make dev) and `ct-pipeline run`."""


import dagster as dg

from assets.automation import new_exports, nightly_job, nightly_schedule
from assets.checks import ALL_CHECKS
from assets.layers import ALL_ASSETS
from assets.resources import PipelineSettings

defs = dg.Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    jobs=[nightly_job],
    schedules=[nightly_schedule],
    sensors=[new_exports],
    resources={"settings": PipelineSettings()},
    # Every step and check opens the one DuckDB build file read-write, and DuckDB allows one process
    # per file: steps must run one after the other in the run's process. (The default multiprocess
    # executor runs independent steps and checks in parallel subprocesses: "Could not set lock on
    # file build.duckdb".) Applies to `nightly` and to the runs automation and the UI launch.
    executor=dg.in_process_executor,
)
