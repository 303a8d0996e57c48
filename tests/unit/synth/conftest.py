"""Shared synthetic exports for the generator tests (generated once per test session)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import polars as pl
import pytest

from ct_pipeline.synth import SynthConfig, generate

from .readers import all_records

CANARIES = [
    {"given_name": "Zyxwanda", "family_name": "Qorvathian", "phone": "+000 55 555 0101", "document_number": "ZZ0000001",
     "address": "1 Canary Lane, Nowhere", "narrative": "CANARY-NARRATIVE-ALPHA must never leave the restricted zone."},
    {"given_name": "Ølvira", "family_name": "Brekkestrand", "phone": "+000 55 555 0202", "document_number": "ZZ0000002",
     "address": "2 Canary Lane, Nowhere", "narrative": "CANARY-NARRATIVE-BETA must never leave the restricted zone."},
    {"given_name": "Quintessa", "family_name": "Vahlgrind", "phone": "+000 55 555 0303", "document_number": "ZZ0000003",
     "address": "3 Canary Lane, Nowhere", "narrative": "CANARY-NARRATIVE-GAMMA must never leave the restricted zone."},
]


@dataclass
class Run:
    out: Path
    truth_path: Path
    summary: dict

    @cached_property
    def truth(self) -> pl.DataFrame:
        return pl.read_csv(self.truth_path, infer_schema_length=0).with_columns(pl.col("source_row").cast(pl.Int64))

    @cached_property
    def records(self) -> list:
        return list(all_records(self.out))


def _run(base: Path, name: str, **kw) -> Run:
    out, truth = base / name / "exports", base / name / "truth.csv"
    summary = generate(out, truth=truth, **kw)
    return Run(out, truth, summary)


@pytest.fixture(scope="session")
def synth_default(tmp_path_factory) -> Run:
    base = tmp_path_factory.mktemp("synth")
    return _run(base, "a", cases=2000, seed=7, config=SynthConfig(workers=1, canaries=CANARIES))


@pytest.fixture(scope="session")
def synth_clean(tmp_path_factory) -> Run:
    base = tmp_path_factory.mktemp("synth_clean")
    return _run(base, "c", cases=1500, seed=3, config=SynthConfig(workers=1, messiness=0))


@pytest.fixture(scope="session")
def synth_messy(tmp_path_factory) -> Run:
    base = tmp_path_factory.mktemp("synth_messy")
    return _run(base, "m", cases=1500, seed=5, config=SynthConfig(workers=1, messiness=6, registration_before_1999=0.5,
                                                                  gaf_before_august_2000=0.3))
