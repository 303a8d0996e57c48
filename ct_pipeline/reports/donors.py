"""The donors file: who gets a chart pack, and which slice of the published tables it shows."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ct_pipeline.charts.data import Slice
from ct_pipeline.settings import project_root


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DonorFilters(_Strict):
    #: UN M49 regions of the missions (programme regions); empty: every region
    regions: list[str] | None = None
    #: [first year, last year], inclusive; empty: every year
    years: tuple[int, int] | None = None
    #: gaf: cases eligible for the Global Assistance Fund and GAF-funded assistance; empty: all
    programme: Literal["gaf"] | None = None

    @model_validator(mode="after")
    def _years_in_order(self) -> DonorFilters:
        if self.years and self.years[0] > self.years[1]:
            raise ValueError(f"years {list(self.years)}: the first year is after the last")
        if self.regions is not None and not self.regions:
            raise ValueError("regions is empty: leave it out for every region")
        return self

    def slice(self) -> Slice:
        return Slice(regions=tuple(self.regions) if self.regions else None, programme=self.programme,
                     years=self.years)


class Donor(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="folder name of the donor's packs")
    title: str = Field(min_length=3)
    filters: DonorFilters = DonorFilters()


class DonorsFile(_Strict):
    donors: list[Donor]

    @model_validator(mode="after")
    def _unique(self) -> DonorsFile:
        names = [d.name for d in self.donors]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"donor names must be unique: {dupes}")
        return self


def load_donors(path: str | Path) -> list[Donor]:
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return DonorsFile.model_validate(doc).donors


def period_ranges(donors: list[Donor]) -> list[tuple[int, int]]:
    """The donors' year spans, for build_pub_tables(period_ranges=…): each becomes a published period."""
    return sorted({d.filters.years for d in donors if d.filters.years})


def audiences(donors: list[Donor]) -> list[Slice]:
    """The donors' slices, for build_pub_tables(audiences=…): their spans of years are published as
    one period each, and secondary suppression keeps the cells they read where it has a choice."""
    return [d.filters.slice() for d in donors]


def default_donors_file() -> Path:
    """$CT_DONORS_FILE, else donors.yaml at the project root, else the shipped donors.example.yaml."""
    env = os.environ.get("CT_DONORS_FILE")
    if env:
        return Path(env).expanduser().resolve()
    root = project_root()
    own = root / "donors.yaml"
    return own if own.exists() else root / "donors.example.yaml"
