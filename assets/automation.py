"""The nightly job, its 02:00 schedule, the drop-folder sensor and the failure hook."""


import hashlib
import json
import os

import dagster as dg

from ct_pipeline import pipeline
from ct_pipeline.settings import get_settings


@dg.failure_hook(name="explain_failure")
def explain_failure(context: dg.HookContext) -> None:
    """Write a readable summary of the failed step (and email it when SMTP is configured)."""
    pipeline.report_failure(
        get_settings(),
        {"run_id": context.run_id, "job": context.job_name, "step": context.op.name,
         "error": context.op_exception, "kind": "step_error"},
        log=context.log.error,
    )


nightly_job = dg.define_asset_job(
    "nightly",
    selection=dg.AssetSelection.all(),
    description="The whole graph: ingest new exports, build the warehouse and marts, publish, report.",
    hooks={explain_failure},
    tags={"ct_pipeline/writer": "build.duckdb"},
)

nightly_schedule = dg.ScheduleDefinition(
    name="nightly_0200",
    job=nightly_job,
    cron_schedule=os.environ.get("CT_NIGHTLY_CRON", "0 2 * * *"),
    execution_timezone=os.environ.get("CT_NIGHTLY_TZ", "UTC"),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night at 02:00 (CT_NIGHTLY_TZ, default UTC): the whole graph.",
)


@dg.sensor(
    name="new_exports",
    job=nightly_job,
    minimum_interval_seconds=int(os.environ.get("CT_SENSOR_INTERVAL", "30")),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a run when new export files appear in the exports folder.",
)
def new_exports(context: dg.SensorEvaluationContext):
    listing = pipeline.list_export_files(get_settings())  # {relative path: "size:mtime"}
    seen = json.loads(context.cursor) if context.cursor else {}
    new = sorted(p for p, stamp in listing.items() if seen.get(p) != stamp)
    if not new:
        return dg.SkipReason(f"No new export files ({len(listing)} known).")
    context.update_cursor(json.dumps(listing, sort_keys=True))
    run_key = hashlib.sha256("\n".join(f"{p}={listing[p]}" for p in new).encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=run_key, tags={"ct_pipeline/new_files": str(len(new))})
