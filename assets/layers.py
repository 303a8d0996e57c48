"""One multi-asset per pipeline step; asset key = table name, group = layer.

Each step runs in one DuckDB transaction in the build database, so a step's tables are
materialised together; checks (checks.py) gate what flows on.
"""


from datetime import date

import dagster as dg

from assets.resources import PipelineSettings
from assets.specs import table_spec
from ct_pipeline import pipeline
from ct_pipeline.pipeline import StepResult

RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)


class IngestConfig(dg.Config):
    """Re-run part of the data: only these missions / export files (paths under the exports folder),
    and `reload` to re-ingest them even if their content was seen before (after a mission fixed a
    quarantined export, or to rebuild one mission)."""

    missions: list[str] = []
    files: list[str] = []
    reload: bool = False


def _emit(result: StepResult, tables: list[str]):
    for t in tables:
        md = {"dagster/row_count": dg.MetadataValue.int(result.tables.get(t, 0))}
        md.update({k: v for k, v in result.metadata.get(t, {}).items()})
        yield dg.MaterializeResult(asset_key=t, metadata=md)


def _multi(name: str, tables: list[str], deps: dict[str, list[str]], description: str):
    return dg.multi_asset(
        name=name,
        specs=[table_spec(t, deps.get(t, [])) for t in tables],
        retry_policy=RETRY,
        description=description,
        can_subset=False,
    )


@_multi(
    "ingest",
    pipeline.INGEST_TABLES,
    {t: [] for t in pipeline.INGEST_TABLES},
    "Scan the exports folder; extract, stage, validate and pseudonymise new export files.",
)
def ingest(context: dg.AssetExecutionContext, config: IngestConfig, settings: PipelineSettings):
    result = pipeline.ingest(
        settings.get(), missions=config.missions or None, files=config.files or None, reload=config.reload,
        log=context.log.info,
    )
    yield from _emit(result, pipeline.INGEST_TABLES)


@dg.asset(
    key="ref_ctdc_cases",
    description=table_spec("ref_ctdc_cases").description,
    group_name="reference",
    metadata=table_spec("ref_ctdc_cases").metadata,
    kinds={"duckdb"},
    retry_policy=RETRY,
)
def ref_ctdc_cases(context: dg.AssetExecutionContext, settings: PipelineSettings):
    result = pipeline.load_reference(settings.get(), log=context.log.info)
    return dg.MaterializeResult(metadata={"dagster/row_count": result.tables["ref_ctdc_cases"]})


@_multi(
    "core",
    pipeline.CORE_TABLES,
    {t: ["stg_screenings", "stg_assistance"] for t in pipeline.CORE_TABLES},
    "Link persons, then build the star schema from staging: latest export wins, history kept.",
)
def core(context: dg.AssetExecutionContext, settings: PipelineSettings):
    yield from _emit(pipeline.build_core(settings.get(), log=context.log.info), pipeline.CORE_TABLES)


@_multi(
    "marts",
    pipeline.MART_TABLES,
    {t: ["fct_cases", "fct_assistance", "fct_route_legs", "ref_ctdc_cases"] for t in pipeline.MART_TABLES},
    "Trend, route, assistance, re-victimisation, data-quality and CTDC-comparison marts.",
)
def marts(context: dg.AssetExecutionContext, settings: PipelineSettings):
    yield from _emit(pipeline.build_marts(settings.get(), log=context.log.info), pipeline.MART_TABLES)


@_multi(
    "public",
    pipeline.PUBLIC_TABLES,
    {t: list(pipeline.MART_TABLES) for t in pipeline.PUBLIC_TABLES},
    "Disclosure control: small-cell and secondary suppression of the marts (k from settings).",
)
def public(context: dg.AssetExecutionContext, settings: PipelineSettings):
    yield from _emit(pipeline.build_public(settings.get(), log=context.log.info), pipeline.PUBLIC_TABLES)


@dg.asset(
    key="ct_duckdb",
    deps=[*pipeline.CORE_TABLES, *pipeline.MART_TABLES, *pipeline.PUBLIC_TABLES, "ref_ctdc_cases", "ingestion_ledger"],
    group_name="publish",
    description="The analyst warehouse warehouse/ct.duckdb (and Parquet copies), published by atomic rename.",
    kinds={"duckdb", "parquet"},
    retry_policy=RETRY,
    automation_condition=dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed(),
)
def ct_duckdb(context: dg.AssetExecutionContext, settings: PipelineSettings):
    result = pipeline.publish(settings.get(), log=context.log.info)
    return dg.MaterializeResult(metadata={**result.metadata.get("ct_duckdb", {})})


@dg.asset(
    key="reports",
    deps=["ct_duckdb"],
    group_name="publish",
    description="Donor packs (charts, CSVs, manifest), mission data-quality reports and Data Docs.",
    kinds={"html", "plotly"},
    retry_policy=RETRY,
    automation_condition=dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed(),
)
def reports(context: dg.AssetExecutionContext, settings: PipelineSettings):
    result = pipeline.build_reports(settings.get(), run_date=date.today(), log=context.log.info)
    return dg.MaterializeResult(metadata={**result.metadata.get("reports", {})})


ALL_ASSETS = [ingest, ref_ctdc_cases, core, marts, public, ct_duckdb, reports]
