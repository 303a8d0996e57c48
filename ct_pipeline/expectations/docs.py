"""The Data Docs site builders: GE's own, minus the work that grows with the history kept.

The site keeps `keep_runs` validation pages per suite (~60 x 30 suites). GE's builders, even when
told which pages to render, list every stored result for each of their three sections, and the
index builder loads (deserialises) every stored result in full -- thousands of expectation results
-- to read four facts of each: its success and its batch's asset name, kwargs and spec. At 60 runs
kept, that was ~10 s of a night's two builds. Here:

- a section renders the resources it is given without listing its store (with none given, it
  renders the whole store, as GE does);
- the index reads those four facts from a small cache (`IndexFacts`, JSON in the restricted store
  folder), filled from the result itself the first time a result is listed: the index page is the
  one GE renders from the loaded results.

Imported only when GE is (the runner's context names these classes in its site config).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
from great_expectations.render.renderer.site_builder import (
    DefaultSiteIndexBuilder,
    DefaultSiteSectionBuilder,
)

MODULE = __name__
INDEX_FACTS = "index_facts.json"  # in the store folder (suite names, run ids, success: no data)
_META_KEYS = ("batch_kwargs", "batch_spec", "active_batch_definition")


class IndexFacts:
    """Per stored validation result (by its key), what the index shows of it: success and the meta
    the index reads. The runner forgets a key when it (re)writes that result."""

    def __init__(self, path: Path | None):
        self.path = path
        self.facts: dict[str, dict[str, Any]] = {}
        self.used: set[str] = set()
        if path is not None:
            try:
                self.facts = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.facts = {}

    @staticmethod
    def name(key) -> str:
        return json.dumps([str(part) for part in key.to_tuple()])

    def forget(self, key) -> None:
        self.facts.pop(self.name(key), None)

    def get(self, key, load) -> ExpectationSuiteValidationResult | dict:
        """A result carrying only what the index reads; `load()` gives the stored one when the
        facts of `key` are not known yet."""
        name = self.name(key)
        self.used.add(name)
        fact = self.facts.get(name)
        if fact is None:
            full = load()
            if not isinstance(full, ExpectationSuiteValidationResult):
                return full
            fact = {"success": full.success,
                    "meta": {k: _plain(full.meta[k]) for k in _META_KEYS if k in full.meta}}
            self.facts[name] = fact
        return ExpectationSuiteValidationResult(success=fact["success"], results=[],
                                                suite_name=key.expectation_suite_identifier.name,
                                                meta=dict(fact["meta"]))

    def save(self, *, only_used: bool = False) -> None:
        """Write the facts (with `only_used`, only those asked for since loading: the index lists
        every stored result that has a page, so the others were pruned)."""
        if self.path is None:
            return
        if only_used:
            self.facts = {k: v for k, v in self.facts.items() if k in self.used}
        # atomically: a write cut short would leave JSON that does not parse (only slower: the
        # cache then starts empty), and a reader never sees half a file
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.facts, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


def _plain(value: Any) -> Any:
    """A JSON round trip of a meta value (a stored result's meta is JSON already)."""
    if hasattr(value, "to_json_dict"):
        value = value.to_json_dict()
    return json.loads(json.dumps(value, default=str))


class _Listed:
    """A store whose list_keys is a given list (every other attribute is the store's)."""

    def __init__(self, store, keys: list):
        self._store, self._keys = store, keys

    def list_keys(self):
        return list(self._keys)

    def __getattr__(self, name):
        return getattr(self._store, name)


class SectionBuilder(DefaultSiteSectionBuilder):
    """GE's section builder; given resources, it renders those of its store without listing the
    store (GE lists it, then keeps the given ones: the same pages)."""

    def build(self, resource_identifiers=None) -> None:
        if not resource_identifiers or self.validation_results_limit:
            return super().build(resource_identifiers=resource_identifiers)
        store = self.source_store
        mine = [k for k in resource_identifiers if isinstance(k, store.key_class) and store.has_key(k)]
        self.source_store = _Listed(store, mine)
        try:
            return super().build(resource_identifiers=resource_identifiers)
        finally:
            self.source_store = store


class _KnownFacts:
    """The data context, whose get_validation_result answers from IndexFacts."""

    def __init__(self, context, facts: IndexFacts):
        self._context, self._facts = context, facts

    def get_validation_result(self, expectation_suite_name, run_id=None, batch_identifier=None,
                              validation_results_store_name=None, failed_only=False):
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        def load():
            return self._context.get_validation_result(
                expectation_suite_name, run_id=run_id, batch_identifier=batch_identifier,
                validation_results_store_name=validation_results_store_name, failed_only=failed_only)

        if run_id is None or batch_identifier is None or failed_only:
            return load()
        key = ValidationResultIdentifier(ExpectationSuiteIdentifier(name=expectation_suite_name),
                                         run_id=run_id, batch_identifier=batch_identifier)
        return self._facts.get(key, load)

    def __getattr__(self, name):
        return getattr(self._context, name)


class IndexBuilder(DefaultSiteIndexBuilder):
    """GE's index builder, reading each listed result's success and meta from IndexFacts (in the
    file named by `facts_path`) instead of loading the whole result."""

    def __init__(self, name, site_name, data_context, target_store, site_section_builders_config,  # noqa: PLR0913
                 custom_styles_directory=None, custom_views_directory=None, show_how_to_buttons=True,
                 validation_results_limit=None, renderer=None, view=None, data_context_id=None,
                 source_stores=None, facts_path: str | None = None, **kwargs):
        # (GE passes its runtime arguments by the names this signature declares)
        super().__init__(name, site_name, data_context, target_store, site_section_builders_config,
                         custom_styles_directory=custom_styles_directory,
                         custom_views_directory=custom_views_directory, show_how_to_buttons=show_how_to_buttons,
                         validation_results_limit=validation_results_limit, renderer=renderer, view=view,
                         data_context_id=data_context_id, source_stores=source_stores, **kwargs)
        self.facts = IndexFacts(Path(facts_path) if facts_path else None)

    def build(self, skip_and_clean_missing=True, build_index: bool = True):
        context = self.data_context
        self.data_context = _KnownFacts(context, self.facts)
        try:
            out = super().build(skip_and_clean_missing=skip_and_clean_missing, build_index=build_index)
        finally:
            self.data_context = context
        if build_index:
            self.facts.save(only_used=True)
        return out
