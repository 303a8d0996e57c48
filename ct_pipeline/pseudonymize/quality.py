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


def missed_pairs(truth_csv: str | Path | pl.DataFrame, links: pl.DataFrame, identities: pl.DataFrame) -> pl.DataFrame:
    """The true pairs ``links`` does not link, counted by what the two records have to go on (counts
    only): birth dates (two dates / a date and an age / two ages / a birth year unknown), names
    (equal after normalisation or a spelling variant), mission (same / another) and whether they
    share a document number or phone. ``identities``: the `tokens.identities_frame` of the records.
    """
    from ct_pipeline.pseudonymize.normalise import normalise_document, normalise_phone
    from ct_pipeline.pseudonymize.tokens import map_unique, person_name_key

    truth = truth_csv if isinstance(truth_csv, pl.DataFrame) else pl.read_csv(truth_csv, infer_schema=False)
    if "form" in truth.columns:
        truth = truth.filter(pl.col("form") == "screening")
    keys = ["source_file", "source_row"]
    truth = truth.select(pl.col("source_file").cast(pl.String), pl.col("source_row").cast(pl.Int64), "person_id")
    rec = identities.select(
        pl.col("source_file").cast(pl.String),
        pl.col("source_row").cast(pl.Int64),
        "mission_code",
        map_unique(identities, ["full_name", "given_name", "family_name"], person_name_key, "nk", pl.String),
        map_unique(identities, ["document_number"], normalise_document, "doc", pl.String),
        map_unique(identities, ["phone"], normalise_phone, "ph", pl.String),
        pl.when(pl.col("date_of_birth").is_not_null()).then(2).when(pl.col("age_reported").is_not_null()).then(1)
        .otherwise(0).alias("b"),
    ).join(truth, on=keys).join(links.select(*keys, "person_token"), on=keys)
    rec = rec.with_row_index("i")
    pairs = rec.join(rec, on="person_id", suffix="_r").filter(
        (pl.col("i") < pl.col("i_r")) & (pl.col("person_token") != pl.col("person_token_r"))
    )
    dates = (
        pl.when(pl.min_horizontal("b", "b_r") == 0).then(pl.lit("a birth year unknown"))
        .when(pl.col("b") + pl.col("b_r") == 4).then(pl.lit("two dates"))
        .when(pl.col("b") + pl.col("b_r") == 3).then(pl.lit("a date and an age"))
        .otherwise(pl.lit("two ages"))
    )  # fmt: skip
    shared = ((pl.col("doc") != "") & (pl.col("doc") == pl.col("doc_r"))) | (
        (pl.col("ph") != "") & (pl.col("ph") == pl.col("ph_r"))
    )
    return (
        pairs.select(
            dates.alias("birth"),
            pl.when(pl.col("nk") == pl.col("nk_r")).then(pl.lit("same name")).otherwise(pl.lit("spelling variant"))
            .alias("names"),
            pl.when(pl.col("mission_code") == pl.col("mission_code_r")).then(pl.lit("same mission"))
            .otherwise(pl.lit("another mission")).alias("mission"),
            shared.alias("shared_document_or_phone"),
        )
        .group_by(pl.all())
        .len("pairs")
        .sort("pairs", descending=True)
    )
