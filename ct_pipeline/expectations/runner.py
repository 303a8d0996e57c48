"""Run the suites with Great Expectations 1.x and build the Data Docs site.

GE 1.x has no DuckDB or polars datasource (its SQL path through duckdb_engine fails), so each
suite validates a pandas frame that DuckDB computes from the table (see plan.py: text and keys
hashed, code lists and rules reduced to booleans). The GE context is ephemeral: nothing is written
into the repository. With `docs_dir`, the expectation suites and the (scrubbed) validation results
are kept as JSON in `store_dir` (default `docs_dir/.gx_store`) so that the Data Docs site shows
the history of runs and every suite, not only the last call's; without it, everything stays in
memory.

Results never contain a value: GE is asked for a format without them (results.RESULT_FORMAT),
and every result is scrubbed again before it is returned, stored or rendered.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import time
import warnings
from pathlib import Path
from typing import Any

import duckdb

from ct_pipeline.expectations.config import Rules, Tolerances, load_rules, load_tolerances
from ct_pipeline.expectations.plan import (
    Check,
    SuitePlan,
    default_tables,
    plan_freshness,
    plan_table,
)
from ct_pipeline.expectations.results import (
    AGGREGATE_EXPECTATIONS,
    RESULT_FORMAT,
    ExpectationSummary,
    TableResult,
    scrub,
    scrub_exception_info,
)
from ct_pipeline.metadata.registry import Registry, load_registry
from ct_pipeline.notify.sanitize import exception_class, sanitize_message

log = logging.getLogger(__name__)

SITE_NAME = "research_unit"
DATASOURCE = "ct_pipeline"


def _gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    return gx


class _Context:
    """One ephemeral GE context for a call of run_expectations."""

    def __init__(self, docs_dir: Path | None, store_dir: Path | None):
        gx = self.gx = _gx()
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        defaults = InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
        stores = dict(defaults.stores)
        sites: dict[str, Any] = {}
        if docs_dir is not None:
            store_dir = store_dir or docs_dir / ".gx_store"
            for name, sub in ((defaults.expectations_store_name, "expectations"),
                              (defaults.validation_results_store_name, "validations")):
                stores[name] = {
                    **stores[name],
                    "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                      "base_directory": str((store_dir / sub).resolve())},
                }
            sites[SITE_NAME] = {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": str(docs_dir.resolve())},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        config = DataContextConfig(
            stores=stores,
            expectations_store_name=defaults.expectations_store_name,
            validation_results_store_name=defaults.validation_results_store_name,
            checkpoint_store_name=defaults.checkpoint_store_name,
            data_docs_sites=sites,
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        )
        self.ctx = gx.get_context(project_config=config, mode="ephemeral")
        self.datasource = self.ctx.data_sources.add_pandas(DATASOURCE)
        self.docs_dir = docs_dir

    def _expectation(self, check: Check):
        import great_expectations.expectations as gxe

        cls = getattr(gxe, check.expectation)
        return cls(**check.kwargs, notes=check.note, meta={"origin": check.origin},
                   result_format=RESULT_FORMAT)

    def validate(self, plan: SuitePlan, frame, run_id) -> list[ExpectationSummary]:
        gx = self.gx
        asset = self.datasource.add_dataframe_asset(plan.suite)
        batch_def = asset.add_batch_definition_whole_dataframe("whole_table")
        suite = gx.ExpectationSuite(
            name=plan.suite,
            expectations=[self._expectation(c) for c in plan.checks],
            meta={"table": plan.table, "notes": plan.notes,
                  "generated_by": "ct_pipeline.expectations (registry, tolerances.yaml, rules.yaml)"},
        )
        suite = self.ctx.suites.add_or_update(suite)
        vd = self.ctx.validation_definitions.add(
            gx.ValidationDefinition(name=f"{plan.suite}__{run_id.run_time:%Y%m%dT%H%M%S%f}", data=batch_def,
                                    suite=suite)
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = vd.run(batch_parameters={"dataframe": frame}, result_format=RESULT_FORMAT, run_id=run_id)
        summaries = self._scrub_and_store(plan, result)
        return summaries

    def _scrub_and_store(self, plan: SuitePlan, result) -> list[ExpectationSummary]:
        """Remove anything value-like from the result, store it again (the Data Docs are rendered
        from the store), and summarise it."""
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        by_type_col = {(c.snake, _col_key(c.kwargs)): c for c in plan.checks}
        out = []
        for evr in result.results:
            cfg = evr.expectation_config
            etype = cfg.type
            evr.result = scrub(dict(evr.result or {}), etype)
            evr.exception_info = scrub_exception_info(dict(evr.exception_info or {}))
            kwargs = dict(cfg.kwargs)
            check = by_type_col.get((etype, _col_key(kwargs)))
            column = kwargs.get("column") or (", ".join(kwargs["column_list"]) if kwargs.get("column_list") else None)
            obs = evr.result.get("observed_value") if etype in AGGREGATE_EXPECTATIONS else None
            raised = bool((evr.exception_info or {}).get("raised_exception")) or any(
                isinstance(v, dict) and v.get("raised_exception") for v in (evr.exception_info or {}).values()
            )
            out.append(ExpectationSummary(
                expectation=etype,
                column=column,
                success=bool(evr.success),
                unexpected_count=_int(evr.result.get("unexpected_count")),
                unexpected_percent=_float(evr.result.get("unexpected_percent")),
                observed=_float(obs),
                origin=check.origin if check else "",
                description=check.note if check else "",
                raised_exception=raised,
            ))
        if self.docs_dir is not None:
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=plan.suite),
                run_id=result.meta["run_id"],
                batch_identifier=result.batch_id,
            )
            self.ctx.validation_results_store.set(key, result)
        return out

    def prune(self, keep_runs: int) -> None:
        store = self.ctx.validation_results_store
        by_suite: dict[str, list] = {}
        for key in store.list_keys():
            by_suite.setdefault(key.expectation_suite_identifier.name, []).append(key)
        for keys in by_suite.values():
            keys.sort(key=lambda k: str(k.run_id.run_time), reverse=True)
            for old in keys[keep_runs:]:
                store.remove_key(old)

    def build_docs(self) -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.ctx.build_data_docs(site_names=[SITE_NAME])
        _strip_beacons(self.docs_dir)
        return str((self.docs_dir / "index.html").resolve())


_BEACON = re.compile(r"https://great-expectations-web-assets\.s3[^\"')\s]*")
_NEWSLETTER = re.compile(r"<p>Stay current on everything GX.*?</p>", re.DOTALL)


def _strip_beacons(docs_dir: Path) -> None:
    """GE's pages load their logo from GE's S3 bucket with the context id and a timestamp in the
    URL: every opening of the docs would be reported to a third party. Replace it (and the
    newsletter footer) with nothing. The CDN stylesheets stay: without network the pages are
    unstyled but complete."""
    for page in docs_dir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        new = _NEWSLETTER.sub("", _BEACON.sub("data:,", text))
        if new != text:
            page.write_text(new, encoding="utf-8")


def _col_key(kwargs: dict) -> str:
    if kwargs.get("column"):
        return str(kwargs["column"])
    if kwargs.get("column_list"):
        return ",".join(kwargs["column_list"])
    return ""


def _int(v: Any) -> int | None:
    try:
        return None if v is None else int(v)
    except (TypeError, ValueError):
        return None


def _float(v: Any) -> float | None:
    try:
        f = None if v is None else float(v)
    except (TypeError, ValueError):
        return None
    return None if f is None or f != f else f


def run_expectations(
    con: duckdb.DuckDBPyConnection,
    tables: list[str] | None = None,
    *,
    docs_dir: Path | None,
    today: dt.date,
    store_dir: Path | None = None,
    registry: Registry | None = None,
    tolerances: Tolerances | None = None,
    rules: Rules | None = None,
) -> dict[str, TableResult]:
    """Validate `tables` (default: core tables, marts and the ingestion ledger of the registry) and,
    with `docs_dir`, build the Data Docs site there. Returns one TableResult per suite, keyed by
    suite name: the table name, plus `ingestion_ledger__freshness` when the ledger is checked.
    Tables missing from the database are skipped with a note (skipped=True, success=True)."""
    reg = registry or load_registry()
    tol = tolerances or load_tolerances()
    rls = rules or load_rules()
    names = default_tables(reg) if tables is None else list(dict.fromkeys(tables))
    docs_dir = Path(docs_dir) if docs_dir is not None else None

    plans: list[SuitePlan] = []
    for name in names:
        plans.append(plan_table(con, name, registry=reg, tolerances=tol, rules=rls, today=today))
        if name == "ingestion_ledger":
            plans.append(plan_freshness(con, registry=reg, tolerances=tol, today=today))

    results: dict[str, TableResult] = {}
    runnable = [p for p in plans if p.skip is None]
    ctx = _Context(docs_dir, store_dir) if runnable else None
    gx_run_id = None
    if ctx is not None:
        from great_expectations.core.run_identifier import RunIdentifier

        gx_run_id = RunIdentifier(run_name=f"as of {today.isoformat()}",
                                  run_time=dt.datetime.now(dt.UTC))
    for plan in plans:
        if plan.skip is not None:
            log.info("expectations: %s", plan.skip)
            results[plan.suite] = TableResult(plan.table, plan.suite, True, notes=[plan.skip], skipped=True)
            continue
        t0 = time.perf_counter()
        try:
            frame = con.sql(plan.sql).df()
            t_read = time.perf_counter() - t0
            summaries = ctx.validate(plan, frame, gx_run_id)
            rows_validated = len(frame)
            del frame
        except Exception as exc:  # one broken suite must not hide the others' results
            msg = f"the suite could not run: {exception_class(exc)}: {sanitize_message(str(exc), roots=[])}"
            log.warning("expectations: %s: %s", plan.suite, msg)
            results[plan.suite] = TableResult(plan.table, plan.suite, False, notes=[*plan.notes, msg],
                                              rows_in_table=plan.rows_in_table,
                                              seconds=time.perf_counter() - t0, details=plan.details)
            continue
        for m in plan.missing_columns:
            summaries.append(ExpectationSummary("expect_column_to_exist", m, False, origin="schema",
                                                description=f"{m} is a column of {plan.table} in the registry."))
        results[plan.suite] = TableResult(
            table=plan.table,
            suite=plan.suite,
            success=all(s.success for s in summaries),
            expectations=summaries,
            notes=list(plan.notes),
            rows_in_table=plan.rows_in_table,
            rows_validated=rows_validated,
            sampled=plan.sampled,
            seconds=time.perf_counter() - t0,
            seconds_read=t_read,
            details=plan.details,
        )
    if ctx is not None and docs_dir is not None:
        ctx.prune(tol.data_docs.keep_runs)
        index = ctx.build_docs()
        for r in results.values():
            if not r.skipped:
                r.data_docs = index
    return results
