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
)
