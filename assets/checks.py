"""Asset checks: thin wrappers over ct_pipeline.checks. Results carry counts, table, column and rule
names — never values. Blocking checks stop downstream assets in the run and under automation."""


import dagster as dg

from assets.resources import PipelineSettings
from ct_pipeline import checks as lib
from ct_pipeline import pipeline


def _result(outcome: lib.CheckOutcome, **key) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR if outcome.blocking else dg.AssetCheckSeverity.WARN,
        description=outcome.summary,
        metadata={k: v for k, v in outcome.metadata.items()},
        **key,
    )


def _check(asset: str, name: str, fn, *, blocking: bool, description: str, **kwargs):
    @dg.asset_check(asset=asset, name=name, blocking=blocking, description=description)
    def _run(context: dg.AssetCheckExecutionContext, settings: PipelineSettings) -> dg.AssetCheckResult:
        outcome = fn(settings.get(), **kwargs)
        if not outcome.passed and blocking:
            pipeline.report_failure(
                settings.get(),
                {"run_id": context.run.run_id, "kind": "check_failed", "check": name, "table": asset,
                 "blocking": True, "error_message": outcome.summary},
                log=context.log.error,
            )
        return _result(outcome)

    return _run


ALL_CHECKS = [
    _check("ingestion_ledger", "row_accounting", lib.row_accounting, blocking=True,
           description="Every file: rows read = staged + quarantined + duplicate; refused files explained."),
    _check("ingestion_ledger", "freshness", lib.freshness, blocking=False,
           description="The newest export of each active mission is not older than the allowed number of days.",
           today=None),
    _check("stg_screenings", "pandera_schema", lib.pandera_check, blocking=True,
           description="Registry-generated Pandera schema (types, codes, ranges), data-level checks on.",
           table="stg_screenings"),
    _check("stg_assistance", "pandera_schema", lib.pandera_check, blocking=True,
           description="Registry-generated Pandera schema (types, codes, ranges), data-level checks on.",
           table="stg_assistance"),
    _check("stg_screenings", "pii_gate", lib.pii_gate, blocking=True,
           description="No column of the analyst zone is a direct identifier; no raw identifier text in it."),
    _check("fct_cases", "reconciliation", lib.reconciliation, blocking=True,
           description="Staged screenings = current + superseded + duplicate + out of scope."),
    _check("fct_cases", "pandera_schema", lib.pandera_check, blocking=True,
           description="Registry-generated Pandera schema of the fact table.", table="fct_cases"),
    _check("fct_cases", "great_expectations", lib.expectations, blocking=True,
           description="Great Expectations suites of the core tables (Data Docs for the research unit).",
           layer="core"),
]


def _public_checks():
    out = []
    for t in pipeline.PUBLIC_TABLES:
        out.append(_check(t, "disclosure_threshold", lib.disclosure, blocking=True,
                          description="No published count below the threshold k; secondary suppression holds.",
                          table=t))
    for t in pipeline.MART_TABLES[:1]:
        out.append(_check(t, "great_expectations", lib.expectations, blocking=False,
                          description="Great Expectations suites of the marts.", layer="mart"))
    return out


ALL_CHECKS += _public_checks()
