"""Run the whole graph from the shell: through Dagster in-process (the default, same graph as the
daemon runs) or directly through the library steps (`--direct`, also what the benchmark compares).

Dagster is imported only inside `run_with_dagster`, so `import ct_pipeline` never imports it.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from ct_pipeline import checks, pipeline
from ct_pipeline.settings import Settings, get_settings, project_root

Log = Callable[[str], None]


def _export_env(settings: Settings) -> None:
    """The Dagster resources and hooks read the places from the environment: make them agree."""
    os.environ["CT_RAW_EXPORTS_DIR"] = str(settings.raw_exports_dir)
    os.environ["CT_WAREHOUSE_DIR"] = str(settings.warehouse_dir)
    os.environ["CT_KEY_FILE"] = str(settings.key_file)


def dagster_home() -> Path:
    """DAGSTER_HOME (default .dagster_home/ in the project), with the project's dagster.yaml."""
    home = Path(os.environ.get("DAGSTER_HOME") or project_root() / ".dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    src = project_root() / "dagster.yaml"
    if src.exists():  # always the project's instance config
        shutil.copy(src, home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def run_with_dagster(
    settings: Settings, *, missions=None, files=None, reload=False, log: Log = print
) -> bool:
    import dagster as dg

    from assets.definitions import defs

    _export_env(settings)
    dagster_home()
    job = defs.resolve_job_def("nightly")
    run_config = {"ops": {"ingest": {"config": {"missions": list(missions or []), "files": list(files or []),
                                                "reload": reload}}}}
    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(run_config=run_config, instance=instance, raise_on_error=False)
        failed_checks = []
        for ev in result.all_events:
            if ev.event_type_value == "ASSET_CHECK_EVALUATION":
                data = ev.event_specific_data
                if not data.passed:
                    failed_checks.append(f"{data.asset_key.to_user_string()}:{data.check_name}")
    log(f"Dagster run {result.run_id}: {'succeeded' if result.success else 'FAILED'} "
        f"in {time.perf_counter() - started:.1f} s")
    if failed_checks:
        log(f"Failed checks: {', '.join(failed_checks)} (summaries in {settings.reports_dir / 'research_unit' / 'failures'})")
    return result.success and not any(c for c in failed_checks if _blocking(c))


def _blocking(check: str) -> bool:
    return not check.endswith((":freshness",)) and not check.startswith("mart_")


def run_direct(
    settings: Settings, *, missions=None, files=None, reload=False, png: bool = True, log: Log = print
) -> bool:
    """The same steps and blocking checks, without Dagster."""
    started = time.perf_counter()

    def gate(outcome: checks.CheckOutcome, name: str) -> bool:
        log(f"  check {name}: {'passed' if outcome.passed else 'FAILED'} — {outcome.summary}")
        if not outcome.passed and outcome.blocking:
            pipeline.report_failure(settings, {"kind": "check_failed", "check": name, "blocking": True,
                                               "error_message": outcome.summary}, log=log)
            return False
        return True

    pipeline.ingest(settings, missions=missions, files=files, reload=reload, log=log)
    if not (gate(checks.row_accounting(settings), "ingestion_ledger:row_accounting")
            and gate(checks.pandera_check(settings, "stg_screenings"), "stg_screenings:pandera_schema")
            and gate(checks.pandera_check(settings, "stg_assistance"), "stg_assistance:pandera_schema")
            and gate(checks.pii_gate(settings), "stg_screenings:pii_gate")):
        return False
    pipeline.load_reference(settings, log=log)
    pipeline.build_core(settings, log=log)
    if not (gate(checks.reconciliation(settings), "fct_cases:reconciliation")
            and gate(checks.pandera_check(settings, "fct_cases"), "fct_cases:pandera_schema")
            and gate(checks.expectations(settings, "core"), "fct_cases:great_expectations")):
        return False
    pipeline.build_marts(settings, log=log)
    gate(checks.expectations(settings, "mart"), "marts:great_expectations")
    pipeline.build_public(settings, log=log)
    for t in pipeline.PUBLIC_TABLES:
        if not gate(checks.disclosure(settings, t), f"{t}:disclosure_threshold"):
            return False
    pipeline.publish(settings, log=log)
    pipeline.build_reports(settings, run_date=date.today(), png=png, log=log)
    log(f"Pipeline finished in {time.perf_counter() - started:.1f} s")
    return True


def run_pipeline(settings: Settings, *, direct: bool = False, png: bool = True, log: Log = print, **kw) -> bool:
    if direct:
        return run_direct(settings, png=png, log=log, **kw)
    if not png:
        os.environ["CT_CHARTS_PNG"] = "0"
    return run_with_dagster(settings, log=log, **kw)


def generate_demo_exports(settings: Settings, *, cases: int | None = None, seed: int = 1) -> dict:
    """Synthetic exports into the drop folder, owner-only like the restricted zone it belongs to
    (folders 0700, files 0600: synthetic, but the folder is where real exports land); the truth
    (which records are one person) goes to the restricted folder."""
    from ct_pipeline.pseudonymize.restricted import FILE_MODE, ensure_restricted_dir, tighten_files
    from ct_pipeline.synth import generate

    ensure_restricted_dir(settings.raw_exports_dir)
    ensure_restricted_dir(settings.restricted_dir)
    truth = settings.restricted_dir / "synth_truth.csv"
    summary = generate(settings.raw_exports_dir, cases=cases, seed=seed, truth=truth)
    tighten_files(settings.raw_exports_dir)
    if truth.exists():
        os.chmod(truth, FILE_MODE)
    return summary


def run_demo(settings: Settings, *, cases: int | None = None, seed: int = 1, direct: bool = False,
             log: Log = print) -> bool:
    """make demo: a throw-away key, synthetic exports (if none), the whole pipeline, where things are."""
    from ct_pipeline.pseudonymize import DEMO_KEY_NOTICE, MissingKeyError, demo_key, load_key
    from ct_pipeline.pseudonymize.restricted import ensure_restricted_dir

    ensure_restricted_dir(settings.restricted_dir)
    try:
        load_key(settings.key_file)
    except MissingKeyError:
        demo_path = settings.restricted_dir / "demo_pseudonym.key"
        demo_key(demo_path)
        settings = get_settings(settings.raw_exports_dir, settings.warehouse_dir, demo_path)
        log(f"[yellow]{DEMO_KEY_NOTICE}[/yellow] (kept at {demo_path})")
    has_exports = any(pipeline.list_export_files(settings))
    if not has_exports:
        log(f"Generating synthetic mission exports into {settings.raw_exports_dir} …")
        summary = generate_demo_exports(settings, cases=cases, seed=seed)
        log(f"  {summary.get('cases')} cases, {summary.get('persons')} persons, files per era: "
            f"{summary.get('files_per_era') or summary.get('files')}")
    else:
        log(f"Using the exports already in {settings.raw_exports_dir}")
    ok = run_pipeline(settings, direct=direct, log=log)
    reports = settings.reports_dir
    log("")
    log("[bold]Where things are[/bold]")
    log(f"  exports (restricted)        {settings.raw_exports_dir}")
    log(f"  build db (restricted)       {pipeline.build_path(settings)}")
    log(f"  analyst warehouse           {settings.analyst_db}   (try: ct-pipeline query \"select count(*) from fct_cases\")")
    log(f"  parquet                     {settings.parquet_dir}")
    log(f"  donor packs and charts      {reports}/<donor>/{date.today().isoformat()}/report.html")
    log(f"  mission data-quality        {reports / 'missions'}")
    log(f"  Data Docs (research unit)   {reports / 'research_unit' / 'data_docs' / 'index.html'}")
    log("  ingestion ledger            ct-pipeline status")
    log("  Dagster UI                  make dev  →  http://127.0.0.1:3000")
    return ok
