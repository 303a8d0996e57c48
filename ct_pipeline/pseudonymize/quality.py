"""Pairwise precision and recall of a person linkage against a ground truth (synthetic data only).

Counts only: pairs are counted from group sizes, never enumerated, and no record value is printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl


@dataclass(frozen=True)
class LinkageQuality:
    precision: float
    recall: float
    f1: float
    records: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    records_not_in_truth: int

    def __str__(self) -> str:
        return (
            f"pairwise precision {self.precision:.4f}, recall {self.recall:.4f}, F1 {self.f1:.4f} "
            f"({self.records} records, {self.true_pairs} true pairs, {self.predicted_pairs} predicted, "
            f"{self.correct_pairs} correct)"
        )


def _pairs(counts: pl.Series) -> int:
    c = counts.cast(pl.Int64)
    return int((c * (c - 1) // 2).sum())


def pairwise_quality(df: pl.DataFrame, truth_col: str = "person_id", pred_col: str = "person_token") -> LinkageQuality:
    """Pairwise precision/recall of a clustering against a true one (counts, no pair enumeration)."""
    df = df.filter(pl.col(truth_col).is_not_null() & pl.col(pred_col).is_not_null())
    true_pairs = _pairs(df.group_by(truth_col).len()["len"])
    pred_pairs = _pairs(df.group_by(pred_col).len()["len"])
    correct = _pairs(df.group_by(truth_col, pred_col).len()["len"])
    precision = correct / pred_pairs if pred_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return LinkageQuality(precision, recall, f1, df.height, true_pairs, pred_pairs, correct, 0)


def measure_linkage(truth_csv: str | Path | pl.DataFrame, links: pl.DataFrame, *, form: str = "screening") -> LinkageQuality:
    """Pairwise precision and recall of ``links`` (source_file, source_row, person_token) against the
    synthetic ground truth (CSV with source_file, source_row, form, person_id, …).

    Only records present in both are measured (quarantined records have no link); how many linked
    records had no truth row is reported.
    """
    if isinstance(truth_csv, pl.DataFrame):
        truth = truth_csv
    else:
        truth = pl.read_csv(truth_csv, infer_schema=False)
    if "form" in truth.columns and form:
        truth = truth.filter(pl.col("form") == form)
    truth = truth.select(
        pl.col("source_file").cast(pl.String),
        pl.col("source_row").cast(pl.Int64),
        pl.col("person_id").cast(pl.String),
    ).unique(["source_file", "source_row"])
    lk = links.select(pl.col("source_file").cast(pl.String), pl.col("source_row").cast(pl.Int64), "person_token")
    joined = lk.join(truth, on=["source_file", "source_row"], how="inner")
    q = pairwise_quality(joined)
    return LinkageQuality(**{**q.__dict__, "records_not_in_truth": lk.height - joined.height})
