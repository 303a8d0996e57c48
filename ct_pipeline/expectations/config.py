"""The two configuration files of the suites: tolerances.yaml (numbers) and rules.yaml (rules)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

HERE = Path(__file__).parent


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Share(_Strict):
    """Share of `value` among the recorded values of `column` is within [min, max]."""

    column: str
    value: str | bool | int
    min: float = Field(ge=0, le=1)
    max: float = Field(ge=0, le=1)


class Mean(_Strict):
    column: str
    min: float | None = None
    max: float | None = None


class TableTolerances(_Strict):
    min_rows: int | None = Field(default=None, ge=0)
    shares: list[Share] = Field(default_factory=list)
    means: list[Mean] = Field(default_factory=list)


class Freshness(_Strict):
    max_age_days: int = Field(default=45, ge=0)
    active_within_years: int = Field(default=2, ge=1)
    counted_statuses: list[str] = Field(default_factory=lambda: ["loaded", "already_seen"])


class Performance(_Strict):
    max_rows_full: int = Field(default=2_000_000, ge=1)
    sample_rows: int = Field(default=500_000, ge=1)
    seed: int = 42


class DataDocs(_Strict):
    keep_runs: int = Field(default=60, ge=1)


class Tolerances(_Strict):
    default_min_rows: int = Field(default=1, ge=0)
    freshness: Freshness = Field(default_factory=Freshness)
    performance: Performance = Field(default_factory=Performance)
    data_docs: DataDocs = Field(default_factory=DataDocs)
    tables: dict[str, TableTolerances] = Field(default_factory=dict)

    def for_table(self, table: str) -> TableTolerances:
        return self.tables.get(table, TableTolerances())

    def min_rows(self, table: str) -> int:
        t = self.for_table(table)
        return self.default_min_rows if t.min_rows is None else t.min_rows


class Rule(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    tables: list[str] = Field(min_length=1)
    sql: str = Field(min_length=1)
    description: str = Field(min_length=5)
    mostly: float = Field(default=1.0, gt=0, le=1)


class Rules(_Strict):
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> Rules:
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"rules declared twice: {dupes}")
        return self

    def for_table(self, table: str) -> list[Rule]:
        return [r for r in self.rules if table in r.tables]


def load_tolerances(path: Path | None = None) -> Tolerances:
    return _load_tolerances(path or HERE / "tolerances.yaml")


def load_rules(path: Path | None = None) -> Rules:
    return _load_rules(path or HERE / "rules.yaml")


@cache
def _load_tolerances(path: Path) -> Tolerances:
    return Tolerances.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


@cache
def _load_rules(path: Path) -> Rules:
    return Rules.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
