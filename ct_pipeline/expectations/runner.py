"""Run the suites with Great Expectations 1.x and build the Data Docs site.

GE 1.x has no DuckDB or polars datasource (its SQL path through duckdb_engine fails), so each
suite validates a pandas frame that DuckDB computes from the table (see plan.py: keys numbered,
other text reduced to its presence, code lists and rules reduced to booleans). The GE context is
ephemeral: nothing is written into the repository.

With a store (`store_dir`), a call validates row by row only the rows whose frame values GE has
not passed yet (see _Memo): the rows that changed since the last pass, plus every row whose key is
null or duplicated anywhere in the table. The row count, means, shares and mostly-rules are
validated on a frame of every row, and the two results are merged into the suite's one result. A
table unchanged since a pass reuses that pass's results (GE is not even imported when every
table is unchanged). At 1M cases, an incremental night costs a few seconds instead of a full
validation's ~20. With `docs_dir`, the expectation suites and the (scrubbed) validation results
are kept as JSON in `store_dir` (default `docs_dir/.gx_store`) so that the Data Docs site shows
the history of runs and every suite, not only the last call's; without it, everything stays in
memory.

Results never contain a value: GE is asked for a format without them (results.RESULT_FORMAT),
and every result is scrubbed again before it is returned, stored or rendered.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ct_pipeline.expectations.config import Rules, Tolerances, load_rules, load_tolerances
from ct_pipeline.expectations.memo import PassedRows as _Memo
from ct_pipeline.expectations.memo import sql_text as _lit
from ct_pipeline.expectations.plan import (
    FRESHNESS_SUITE,
    KEY,
    ROW,
    TABLE,
    Check,
    SuitePlan,
    default_tables,
    plan_freshness,
    plan_table,
    qi,
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
_DIGESTS = "suite_digests.json"  # in the store folder: which suite definition each stored suite is
DATASOURCE = "ct_pipeline"


_GROUP_CELLS = 2_000_000  # frame cells per batch, roughly (see _column_groups)


def _rows_shown(meta: dict[str, Any] | None) -> dict[str, str]:
    """What the frame held, for the Data Docs page (GE shows the batch parameters, not our meta)."""
    info = (meta or {}).get("ct_pipeline")
    if not info:
        return {}
    out = {"rows validated row by row": f"{info['rows_validated_row_by_row']} of {info['rows_in_table']}"}
    if info["rows_unchanged_since_a_pass"]:
        out["rows unchanged since a validation they passed"] = str(info["rows_unchanged_since_a_pass"])
    out["checked over every row"] = _over_every_row(info)
    if info["table_sampled"]:
        out["checked on a sample"] = "row count, means, shares"
    return out


def _over_every_row(info: dict[str, Any]) -> str:
    return "key duplicates (in DuckDB)" + ("" if info["table_sampled"] else ", row count, means, shares")


def _column_groups(frame, checks: list[Check]) -> list[tuple[list[str], list[Check]]]:
    """Split the checks of a frame into batches of a few columns each. GE copies the whole frame
    for each column check (it drops the column's nulls from every column): at 1M rows and ~35
    columns, those copies were half of a suite's validation. A batch costs ~50 ms to set up, so
    the number of batches grows with the square root of the frame's size. Checks sharing a
    column stay together (a compound key's columns too); the row count goes with the first."""
    cols_of = [list(c.kwargs.get("column_list", [])) + ([c.kwargs["column"]] if "column" in c.kwargs else [])
               for c in checks]
    groups: list[tuple[set[str], list[int]]] = []  # connected by shared columns
    for i, cols in enumerate(cols_of):
        mine = [g for g in groups if g[0] & set(cols)]
        merged = (set(cols), [i])
        for g in mine:
            groups.remove(g)
            merged = (merged[0] | g[0], merged[1] + g[1])
        groups.append(merged)
    columns = [c for c in frame.columns if any(c in g[0] for g in groups)]
    k = max(1, min(len(groups), round((len(frame) * max(len(columns), 1) / _GROUP_CELLS) ** 0.5)))
    bins: list[tuple[set[str], list[int]]] = [(set(), []) for _ in range(k)]
    for cols, idx in sorted(groups, key=lambda g: -len(g[0])):
        target = min(bins, key=lambda b: len(b[0]))
        target[0].update(cols)
        target[1].extend(idx)
    out = []
    for cols, idx in bins:
        if not idx:
            continue
        names = [c for c in frame.columns if c in cols] or list(frame.columns[:1])
        out.append((names, [checks[i] for i in sorted(idx)]))
    return out


def _gx_version() -> str:
    """GE's version without importing it (the import takes seconds)."""
    from importlib.metadata import version

    return version("great_expectations")


def _gx():
    from ct_pipeline import preload

    preload.wait()  # GE imported by one thread at a time (see ct_pipeline.preload)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    _skip_decimal_scan_of_typed_columns()
    _skip_batch_fingerprint()
    return gx


def _skip_batch_fingerprint() -> None:
    """GE's pandas engine hashes every batch frame below 1 GB (`hash_pandas_dataframe`, pandas'
    hash of every cell, then md5) for a `pandas_data_fingerprint` batch marker nothing here reads:
    the frames are built from the warehouse for this one validation, and which rows they hold is
    said in the results' own meta (`ct_pipeline`). 0.75 s a night at a million cases, a fifth of
    the core suites' GE time. The threshold is GE's module constant; without it, nothing changes."""
    import importlib

    try:
        engine = importlib.import_module("great_expectations.execution_engine.pandas_execution_engine")
    except ImportError:
        return
    if hasattr(engine, "HASH_THRESHOLD"):
        engine.HASH_THRESHOLD = 0


#: GE modules whose pandas mean, sum and standard deviation first look for Decimal values
_DECIMAL_SCANS = ("column_mean", "column_sum", "column_standard_deviation")


def _skip_decimal_scan_of_typed_columns() -> None:
    """GE's pandas mean, sum and standard deviation call `convert_pandas_series_decimal_to_float_dtype`,
    which looks at every value in Python for a `decimal.Decimal` (`any(isinstance(v, Decimal) ...)`)
    even when the column is float64 or int64: ~1.2 s a night at a million cases, a third of the core
    suites' GE time. Only a column of dtype object can hold a Decimal, so for any other dtype the
    scan is skipped and the column left as it is -- what GE's own function returns after scanning.
    Applied once, to the modules' imported name; if GE stops importing it there, nothing is patched."""
    import importlib

    for name in _DECIMAL_SCANS:
        try:
            module = importlib.import_module(f"great_expectations.expectations.metrics.column_aggregate_metrics.{name}")
        except ImportError:
            continue
        original = getattr(module, "convert_pandas_series_decimal_to_float_dtype", None)
        if original is None or getattr(original, "_ct_typed_skip", False):
            continue

        def typed_skip(data, inplace: bool = False, _original=original):
            if getattr(data, "dtype", None) is not None and data.dtype != object:
                return None if inplace else data
            return _original(data=data, inplace=inplace)

        typed_skip._ct_typed_skip = True
        module.convert_pandas_series_decimal_to_float_dtype = typed_skip


class _Context:
    """One ephemeral GE context for a call of run_expectations."""

    def __init__(self, docs_dir: Path | None, store_dir: Path | None):
        gx = self.gx = _gx()
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        from ct_pipeline.expectations import docs

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
            # GE's builders, minus the listing and loading of every stored result (docs.py)
            section = {"class_name": "SectionBuilder", "module_name": docs.MODULE}
            sites[SITE_NAME] = {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": str(docs_dir.resolve())},
                "site_index_builder": {"class_name": "IndexBuilder", "module_name": docs.MODULE,
                                       "facts_path": str((store_dir / docs.INDEX_FACTS).resolve())},
                "site_section_builders": {name: dict(section) for name in ("expectations", "validations", "profiling")},
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
        self._batch_defs: dict[str, Any] = {}
        self.written: list[Any] = []  # identifiers of the pages this call renders
        self.store_dir = (store_dir or docs_dir / ".gx_store") if docs_dir is not None else None
        self._digest_cache: dict[str, str] | None = None

    def _expectation(self, check: Check):
        import great_expectations.expectations as gxe

        cls = getattr(gxe, check.expectation)
        return cls(**check.kwargs, notes=check.note, meta={"origin": check.origin},
                   result_format=RESULT_FORMAT)

    def validate(self, plan: SuitePlan, frame, run_id, *, table_frame=None,
                 meta: dict[str, Any] | None = None) -> list[ExpectationSummary]:
        """Validate the suite of `plan` on `frame`; with `table_frame` (every row of the table),
        the TABLE checks run on it and the other checks on `frame`. The two results are merged
        into the suite's one validation result (one Data Docs page per suite and run)."""
        gx = self.gx
        from great_expectations.core.expectation_validation_result import (
            ExpectationSuiteValidationResult,
        )
        from great_expectations.validator.v1_validator import Validator
        from great_expectations.validator.validator import calc_validation_statistics

        batch_def = self._batch_definition(plan.suite)
        self._save_suite(plan)
        if table_frame is None:
            parts = [(frame, plan.checks)]
        else:
            parts = [(frame, [c for c in plan.checks if c.scope != TABLE]),
                     (table_frame, [c for c in plan.checks if c.scope == TABLE])]
        results, first = [], None
        for data, checks in [(d[cols], g) for d, cs in parts for cols, g in _column_groups(d, cs)]:
            part = gx.ExpectationSuite(name=plan.suite, expectations=[self._expectation(c) for c in checks])
            validator = Validator(batch_definition=batch_def, batch_parameters={"dataframe": data},
                                  result_format=RESULT_FORMAT)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = validator.validate_expectation_suite(part)
            first = first or res
            results.extend(res.results)
        order = {(c.snake, _col_key(c.kwargs)): i for i, c in enumerate(plan.checks)}
        results.sort(key=lambda r: order.get((r.expectation_config.type, _col_key(dict(r.expectation_config.kwargs))),
                                             len(order)))
        stats = calc_validation_statistics(results)
        result = ExpectationSuiteValidationResult(
            results=results,
            success=stats.success,
            suite_name=plan.suite,
            statistics={
                "evaluated_expectations": stats.evaluated_expectations,
                "successful_expectations": stats.successful_expectations,
                "unsuccessful_expectations": stats.unsuccessful_expectations,
                "success_percent": stats.success_percent,
            },
            meta={**first.meta, "run_id": run_id, "validation_time": run_id.run_time,
                  "batch_parameters": {"dataframe": "<DATAFRAME>", **_rows_shown(meta)}, **(meta or {})},
            batch_id=first.batch_id,
        )
        return self._scrub_and_store(plan, result)

    def _save_suite(self, plan: SuitePlan) -> None:
        """Store the suite (its Data Docs page), unless the stored one is this very suite: saving
        and rendering ~40 expectations costs a few tenths of a second per suite, every night."""
        digest = hashlib.sha256(json.dumps(
            [plan.table, plan.notes, [[c.expectation, c.kwargs, c.note, c.origin] for c in plan.checks]],
            sort_keys=True, default=str).encode()).hexdigest()
        stored = self.store_dir is not None and self.docs_dir is not None \
            and self._digests().get(plan.suite) == digest \
            and (self.store_dir / "expectations" / f"{plan.suite}.json").exists() \
            and (self.docs_dir / "expectations" / f"{plan.suite}.html").exists()
        if stored:
            return
        suite = self.gx.ExpectationSuite(
            name=plan.suite,
            expectations=[self._expectation(c) for c in plan.checks],
            meta={"table": plan.table, "notes": plan.notes,
                  "generated_by": "ct_pipeline.expectations (registry, tolerances.yaml, rules.yaml)"},
        )
        self.ctx.suites.add_or_update(suite)
        if self.docs_dir is not None:
            from great_expectations.data_context.types.resource_identifiers import (
                ExpectationSuiteIdentifier,
            )

            self.written.append(ExpectationSuiteIdentifier(name=plan.suite))
        if self.store_dir is not None and self.docs_dir is not None:
            digests = {**self._digests(), plan.suite: digest}
            (self.store_dir / _DIGESTS).write_text(json.dumps(digests, sort_keys=True), encoding="utf-8")
            self._digest_cache = digests

    def _digests(self) -> dict[str, str]:
        if self._digest_cache is None:
            try:
                self._digest_cache = json.loads((self.store_dir / _DIGESTS).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self._digest_cache = {}
        return self._digest_cache

    def _batch_definition(self, suite: str):
        if suite not in self._batch_defs:
            asset = self.datasource.add_dataframe_asset(suite)
            self._batch_defs[suite] = asset.add_batch_definition_whole_dataframe("whole_table")
        return self._batch_defs[suite]

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
                scope=check.scope if check else ROW,
            ))
        if self.docs_dir is not None:
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=plan.suite),
                run_id=result.meta["run_id"],
                batch_identifier=result.batch_id,
            )
            self.ctx.validation_results_store.set(key, result)
            self.written.append(key)
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
        """Render this call's pages and the index. The pages of earlier runs are already on disk:
        rendering every stored result again (up to keep_runs per suite) would cost more each night."""
        started = time.time() - 1
        from ct_pipeline.expectations import docs

        if self.store_dir is not None:  # a result (re)written here: its index facts are read again
            facts = docs.IndexFacts(self.store_dir / docs.INDEX_FACTS)
            for key in self.written:
                facts.forget(key)
            facts.save()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.ctx.build_data_docs(site_names=[SITE_NAME], resource_identifiers=self.written or None)
        _strip_beacons(self.docs_dir, since=started)
        return str((self.docs_dir / "index.html").resolve())


_BEACON = re.compile(r"https://great-expectations-web-assets\.s3[^\"')\s]*")
_NEWSLETTER = re.compile(r"<p>Stay current on everything GX.*?</p>", re.DOTALL)


def _strip_beacons(docs_dir: Path, since: float | None = None) -> None:
    """GE's pages load their logo from GE's S3 bucket with the context id and a timestamp in the
    URL: every opening of the docs would be reported to a third party. Replace it (and the
    newsletter footer) with nothing. The CDN stylesheets stay: without network the pages are
    unstyled but complete. With `since`, only pages written since then (the others were stripped
    when they were written)."""
    for page in docs_dir.rglob("*.html"):
        if since is not None and page.stat().st_mtime < since:
            continue
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


@dataclass
class _Frames:
    frame: Any  # pandas: the rows the ROW and KEY checks see (with table None: every check)
    table: Any = None  # pandas: every row, the columns of the TABLE checks
    rows_reused: int = 0  # rows not validated row by row: they passed before, unchanged
    sampled: bool = False  # `frame` is a sample of the rows to validate
    table_sampled: bool = False  # `table` is a sample of the table's rows
    hashes: Any = None  # pandas: (h1, h2) of `frame`'s rows, when remembered
    seen: bool = False  # the temp table _gx_rows exists
    summary: list[str] | None = None  # the table's fingerprint multiset: count, sum h1, sum h2
    problems: int = 0  # rows with a key problem, or a null in a not-null column
    reuse: dict | None = None  # the memo of a pass over this very table


_ROWS = "_gx_rows"


@dataclass
class _Loaded:
    """A suite's frames as read ahead of its validation, with the connection that holds its temp
    table (`_ROWS`: the remembering of passed rows reads it)."""

    cur: duckdb.DuckDBPyConnection
    incremental: bool
    signature: str
    prior: dict | None = None
    frames: _Frames | None = None
    error: Exception | None = None
    seconds: float = 0.0


def _read_frames(con: duckdb.DuckDBPyConnection, plan: SuitePlan, prior: dict | None, remember: bool,
                 perf) -> _Frames:
    """The frames of a suite. Without a prior pass: every row, every check (above max_rows_full, a
    sample, every problem row kept). With one: the rows whose fingerprint has not passed yet and
    every problem row, for the ROW and KEY checks; every row for the TABLE checks (a few numeric
    columns). A table unchanged since a full pass: no frame (its results are reused)."""
    h1, h2 = plan.fingerprint_sql()
    hashes = (f"{h1} AS __h1", f"{h2} AS __h2") if remember else ()
    n_rows = plan.rows_in_table or 0
    if prior is None and n_rows <= perf.max_rows_full:
        frame = con.sql(plan.select(list(plan.columns), extra=hashes)).df()
        return _Frames(frame, hashes=_pop_hashes(frame) if remember else None)
    # one pass over the table: each row's fingerprint and problem flag, kept in a temp table
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_ROWS} AS SELECT rowid AS rid, {h1} AS h1, {h2} AS h2, "
        f"coalesce({plan.problem_sql()}, FALSE) AS problem, FALSE AS seen FROM {qi(plan.table)}"
    )
    count, s1, s2, problems = con.execute(
        f"SELECT count(*), sum(h1::HUGEINT), sum(h2::HUGEINT), count(*) FILTER (WHERE problem) FROM {_ROWS}"
    ).fetchall()[0]
    summary = [str(count), str(s1 or 0), str(s2 or 0)]
    if prior is not None and problems == 0 and prior.get("table") == summary and prior.get("results"):
        return _Frames(None, seen=True, summary=summary, reuse=prior, rows_reused=count)
    if prior is not None:  # a semi-join: a fingerprint is seen or not, however often it was written
        files = ", ".join(_lit(x) for x in prior["paths"])
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_ROWS} AS SELECT rid, h1, h2, problem, "
            f"EXISTS (SELECT 1 FROM read_parquet([{files}]) p WHERE p.h1 = f.h1 AND p.h2 = f.h2) AS seen "
            f"FROM {_ROWS} f"
        )
    todo = con.execute(f"SELECT count(*) FILTER (WHERE NOT seen OR problem) FROM {_ROWS}").fetchall()[0][0]
    sampled = todo > perf.max_rows_full
    if sampled:
        pick = (f"SELECT rid FROM {_ROWS} WHERE problem UNION ALL SELECT rid FROM "
                f"(SELECT rid FROM {_ROWS} WHERE NOT seen AND NOT problem) "
                f"USING SAMPLE reservoir({perf.sample_rows} ROWS) REPEATABLE ({perf.seed})")
    else:
        pick = f"SELECT rid FROM {_ROWS} WHERE NOT seen OR problem"
    frame = con.sql(plan.select(plan.frame_columns(ROW, KEY), rows=pick, extra=hashes)).df()
    out = _Frames(frame, hashes=_pop_hashes(frame) if remember else None, sampled=sampled, seen=True,
                  summary=summary, problems=problems)
    out.rows_reused = count - len(frame)
    table_rows = None
    if count > perf.max_rows_full:
        # as before this frame existed: above max_rows_full, means and shares on a sample (GE's
        # mean walks every value in Python, looking for Decimals: 10M rows cost seconds per mean)
        out.table_sampled = True
        table_rows = (f"SELECT rid FROM {_ROWS} USING SAMPLE reservoir({perf.sample_rows} ROWS) "
                      f"REPEATABLE ({perf.seed})")
    out.table = con.sql(plan.select(plan.frame_columns(TABLE), rows=table_rows)).df()
    return out


@contextlib.contextmanager
def _interrupted_on_exit(pending: Callable[[], tuple[Any, duckdb.DuckDBPyConnection] | None]):
    """On an exception, interrupt the query of the connection `pending()` returns (the suite read
    ahead) before the executor's exit waits for it; the error goes on."""
    try:
        yield
    except BaseException:
        ahead = pending()
        if ahead is not None:
            ahead[1].interrupt()
        raise


def _pop_hashes(frame):
    import pandas as pd

    return pd.DataFrame({"h1": frame.pop("__h1"), "h2": frame.pop("__h2")})


def _remember(con: duckdb.DuckDBPyConnection, memo: _Memo, plan: SuitePlan, signature: str, prior: dict | None,
              frames: _Frames, summaries: list[ExpectationSummary], run_time: dt.datetime) -> None:
    """After a pass of the ROW checks: remember the rows just validated (the rows that passed
    before stay remembered); and, when every row is covered and the whole suite passed, the
    table's summary and results."""
    name = "_gx_passed"
    con.register(name, frames.hashes)
    try:
        summary = frames.summary
        if summary is None:  # every row was in the frame: summarise its hashes
            n, s1, s2 = con.execute(f"SELECT count(*), sum(h1::HUGEINT), sum(h2::HUGEINT) FROM {name}").fetchall()[0]
            summary = [str(n), str(s1 or 0), str(s2 or 0)]
        new_rows = f"SELECT h1, h2 FROM {name}"
        all_rows = new_rows + (f" UNION ALL SELECT h1, h2 FROM {_ROWS} WHERE seen" if frames.seen else "")
        extra: dict[str, Any] = {"validated_at": run_time.isoformat(timespec="seconds")}
        # every row covered by a pass (means and shares on a sample, maybe: as good next time)
        if not frames.sampled and all(e.success for e in summaries):
            extra.update(table=summary, results=[e.to_dict() for e in summaries])
        memo.write(con, plan.suite, signature, prior, new_rows if len(frames.hashes) else None, all_rows, extra)
    finally:
        con.unregister(name)


def _reused(plan: SuitePlan, memo: dict, notes: list[str], seconds: float) -> TableResult:
    """The result of a table GE already passed as it is now (same checks, same frame rows)."""
    when = memo.get("validated_at", "an earlier run")
    return TableResult(
        table=plan.table,
        suite=plan.suite,
        success=True,
        expectations=[ExpectationSummary(**e) for e in memo["results"]],
        notes=[*notes, f"unchanged since the validation of {when}, which it passed: its results are reused "
                       "(keys checked for nulls and duplicates over the whole table again)"],
        rows_in_table=plan.rows_in_table,
        rows_validated=0,
        seconds=seconds,
        details=plan.details,
    )


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
    remember: bool | None = None,
) -> dict[str, TableResult]:
    """Validate `tables` (default: core tables, marts and the ingestion ledger of the registry) and,
    with `docs_dir`, build the Data Docs site there. Returns one TableResult per suite, keyed by
    suite name: the table name, plus `ingestion_ledger__freshness` when the ledger is checked.
    Tables missing from the database are skipped with a note (skipped=True, success=True).

    With `remember` (default: when `store_dir` is given), the fingerprints of the rows that passed
    are kept in `store_dir`/validated_rows, and a later call validates row by row only the rows
    whose checked values changed (the uniqueness of keys, the row count, means, shares and
    mostly-rules always over the whole table).

    The suites' rows are read on cursors of `con` (the next suite's while GE validates one): they
    see what `con`'s database has committed, not `con`'s own temp tables, registered frames or an
    open transaction's changes."""
    reg = registry or load_registry()
    tol = tolerances or load_tolerances()
    rls = rules or load_rules()
    names = default_tables(reg) if tables is None else list(dict.fromkeys(tables))
    docs_dir = Path(docs_dir) if docs_dir is not None else None
    remember = store_dir is not None if remember is None else remember
    memo = _Memo(Path(store_dir) / "validated_rows") if remember and store_dir is not None else None

    plans: list[SuitePlan] = []
    for name in names:
        plans.append(plan_table(con, name, registry=reg, tolerances=tol, rules=rls, today=today))
        if name == "ingestion_ledger":
            plans.append(plan_freshness(con, registry=reg, tolerances=tol, today=today))

    results: dict[str, TableResult] = {}
    ctx: _Context | None = None  # made (GE imported) only when a suite has something to validate
    gx_run_id = None
    run_time = dt.datetime.now(dt.UTC)
    gx_version = _gx_version() if memo is not None else ""
    def load(plan: SuitePlan, cur: duckdb.DuckDBPyConnection) -> _Loaded:
        """A suite's frames, read on a connection of its own (`cur`, where its temp table stays)."""
        t0 = time.perf_counter()
        incremental = memo is not None and plan.suite != FRESHNESS_SUITE and bool(plan.columns)
        out = _Loaded(cur, incremental, "")
        try:
            out.signature = f"{plan.signature()}-gx{gx_version}" if incremental else ""
            out.prior = memo.load(plan.suite, out.signature) if incremental else None
            if plan.suite == FRESHNESS_SUITE:
                out.frames = _Frames(cur.sql(plan.sql).df())
            else:
                out.frames = _read_frames(cur, plan, out.prior, incremental, tol.performance)
        except Exception as exc:  # raised again where the suite is validated: a failure of that suite
            out.error = exc
        out.seconds = time.perf_counter() - t0
        return out

    todo = [p for p in plans if p.skip is None]
    # the next suite's frames are read (DuckDB, which releases the GIL) while GE validates this
    # one's (Python): both cores busy instead of one after the other
    pending = None  # (future, its connection) of the suite read ahead

    def read_ahead(plan: SuitePlan):
        cur = con.cursor()
        return reader.submit(load, plan, cur), cur

    # leaving early (an interrupt, a termination): the read ahead is stopped, not waited for
    with ThreadPoolExecutor(max_workers=1) as reader, _interrupted_on_exit(lambda: pending):
        pending = read_ahead(todo[0]) if todo else None
        done = 0
        for plan in plans:
            if plan.skip is not None:
                log.info("expectations: %s", plan.skip)
                results[plan.suite] = TableResult(plan.table, plan.suite, True, notes=[plan.skip], skipped=True)
                continue
            loaded = pending[0].result()
            done += 1
            pending = read_ahead(todo[done]) if done < len(todo) else None
            t0 = time.perf_counter() - loaded.seconds  # the suite's time: its reading, then this
            notes = list(plan.notes)
            frames = loaded.frames
            try:
                if loaded.error is not None:
                    raise loaded.error
                if frames.reuse is not None:
                    results[plan.suite] = _reused(plan, frames.reuse, notes, loaded.seconds)
                    results[plan.suite].seconds_read = loaded.seconds
                    continue
                if ctx is None:
                    ctx = _Context(docs_dir, store_dir)
                    from great_expectations.core.run_identifier import RunIdentifier

                    gx_run_id = RunIdentifier(run_name=f"as of {today.isoformat()}", run_time=run_time)
                rows_validated = len(frames.frame)
                meta = None
                if frames.rows_reused or frames.sampled or frames.table_sampled:
                    meta = {"ct_pipeline": {"rows_in_table": plan.rows_in_table,
                                            "rows_validated_row_by_row": rows_validated,
                                            "rows_unchanged_since_a_pass": frames.rows_reused,
                                            "sampled": frames.sampled, "table_sampled": frames.table_sampled}}
                summaries = ctx.validate(plan, frames.frame, gx_run_id, table_frame=frames.table, meta=meta)
                for m in plan.missing_columns:  # before remembering: a suite missing a column did not pass
                    summaries.append(ExpectationSummary("expect_column_to_exist", m, False, origin="schema",
                                                        description=f"{m} is a column of {plan.table} in the registry.",
                                                        scope=TABLE))
                if loaded.incremental and all(e.success for e in summaries if e.scope == ROW):
                    # only the ROW checks say something of each row on its own; KEY and TABLE checks
                    # are validated over the whole table on every call
                    try:
                        _remember(loaded.cur, memo, plan, loaded.signature, loaded.prior, frames, summaries,
                                  gx_run_id.run_time)
                    except (OSError, duckdb.Error) as exc:  # only a cost: the next call validates more rows
                        log.warning("expectations: %s: passed rows not remembered: %s", plan.suite,
                                    exception_class(exc))
            except Exception as exc:  # one broken suite must not hide the others' results
                msg = f"the suite could not run: {exception_class(exc)}: {sanitize_message(str(exc), roots=[])}"
                log.warning("expectations: %s: %s", plan.suite, msg)
                results[plan.suite] = TableResult(plan.table, plan.suite, False, notes=[*notes, msg],
                                                  rows_in_table=plan.rows_in_table,
                                                  seconds=time.perf_counter() - t0, details=plan.details)
                continue
            finally:
                loaded.cur.close()  # and its temp table with it
                loaded.frames = frames = None
            if meta:
                info = meta["ct_pipeline"]
                notes.append(
                    f"{info['rows_validated_row_by_row']} of {info['rows_in_table']} rows validated row by row"
                    + (" (a sample of the rows not validated yet, above max_rows_full in tolerances.yaml, and every "
                       "row with a key or not-null problem)" if info["sampled"] else "")
                    + (f"; {info['rows_unchanged_since_a_pass']} rows unchanged since a validation they passed"
                       if info["rows_unchanged_since_a_pass"] else "")
                    + f"; {_over_every_row(info)} over every row"
                    + ("; row count, means and shares on a sample" if info["table_sampled"] else "")
                )
            results[plan.suite] = TableResult(
                table=plan.table,
                suite=plan.suite,
                success=all(s.success for s in summaries),
                expectations=summaries,
                notes=notes,
                rows_in_table=plan.rows_in_table,
                rows_validated=rows_validated,
                sampled=bool(meta and (meta["ct_pipeline"]["sampled"] or meta["ct_pipeline"]["table_sampled"])),
                seconds=time.perf_counter() - t0,
                seconds_read=loaded.seconds,
                details=plan.details,
            )
    if docs_dir is not None and any(not r.skipped for r in results.values()):
        index = docs_dir / "index.html"
        if (ctx is not None and ctx.written) or not index.exists():  # else: no new page, nothing removed
            ctx = ctx or _Context(docs_dir, store_dir)
            ctx.prune(tol.data_docs.keep_runs)
            ctx.build_docs()
        for r in results.values():
            if not r.skipped:
                r.data_docs = str(index.resolve())
    return results
