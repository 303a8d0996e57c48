"""The CTDC global dataset (public reference source) -> `ref_ctdc_cases`, typed.

Values (see ct_pipeline/reference/ctdc/README.md):
- ``yearOfRegistration`` -> registration_year (whole number);
- ``gender`` -> ctdc_gender through the sex code list; ``ageBroad`` (``18--20``…) -> age_band;
- ``citizenship``: ISO alpha-2 (``NA`` is Namibia); ``0``, ``00`` or ``ZZ`` = explicitly unknown
  -> is_citizenship_unknown true, citizenship null; empty = not recorded (both false/null);
- ``CountryOfExploitation``: ISO alpha-2; ``0``/``00``/``ZZ`` (unknown) and empty -> null;
- ``isForcedLabour`` / ``isSexualExploit``: ``1.0``/``1`` true, ``0.0``/``0`` false, ``-99`` or
  empty -> null.
Rows are never de-duplicated: the dataset is k-anonymised, identical rows are different people.
A value that fits none of these is quarantined (form ``reference``), so every record is accounted.
"""

from __future__ import annotations

import polars as pl
from pandera.errors import SchemaErrors

from ct_pipeline.extract.frames import quarantine_frame
from ct_pipeline.formats import eras as formats
from ct_pipeline.metadata.registry import load_registry
from ct_pipeline.metadata.schemas import validate
from ct_pipeline.metadata.types import polars_schema
from ct_pipeline.stage import normalize as nz
from ct_pipeline.stage.parse import _mapped, present_text
from ct_pipeline.stage.rules import reason

ERA = "ctdc_global"
FORM = "reference"
MISSION = "CTDC"  # ledger / quarantine label of the reference source (it has no mission)
UNKNOWN_COUNTRY = ["0", "00", "ZZ", "zz"]
FLAG = {"1": True, "1.0": True, "0": False, "0.0": False}


def type_ctdc(raw: pl.DataFrame, source_file: str, sha256: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """raw: text columns named by canonical field + source_row. Returns (ref_ctdc_cases, quarantine)."""
    reg = load_registry()
    df = raw.with_row_index("_i")
    ctry = lambda c: present_text(c)  # noqa: E731
    cit_unknown = pl.col("citizenship").str.strip_chars().is_in(UNKNOWN_COUNTRY)
    exp_unknown = pl.col("exploitation_country").str.strip_chars().is_in(UNKNOWN_COUNTRY)
    year_ok = present_text("registration_year").str.contains(r"^\d{4}(\.0+)?$")
    df = df.with_columns(
        _mapped(df, present_text("ctdc_gender"), lambda t: nz.code_value(t, "sex"), pl.String()).alias("v__ctdc_gender"),
        _mapped(df, present_text("age_band"), lambda t: nz.code_value(t, "age_band"), pl.String()).alias("v__age_band"),
        _mapped(df, pl.when(~cit_unknown).then(ctry("citizenship")), nz.country_code, pl.String()).alias("v__citizenship"),
        _mapped(df, pl.when(~exp_unknown).then(ctry("exploitation_country")), nz.country_code, pl.String()).alias(
            "v__exploitation_country"
        ),
        _mapped(df, present_text("is_forced_labour"), FLAG.get, pl.Boolean()).alias("v__is_forced_labour"),
        _mapped(df, present_text("is_sexual_exploitation"), FLAG.get, pl.Boolean()).alias("v__is_sexual_exploitation"),
    ).with_columns(
        v__registration_year=pl.when(year_ok).then(present_text("registration_year").str.slice(0, 4)).cast(pl.Int64),
        v__is_citizenship_unknown=cit_unknown.fill_null(False),
    )
    checks = {
        "registration_year": ("integer_format", present_text("registration_year").is_not_null() & ~year_ok),
        "ctdc_gender": ("code_known", present_text("ctdc_gender").is_not_null() & pl.col("v__ctdc_gender").is_null()),
        "age_band": ("code_known", present_text("age_band").is_not_null() & pl.col("v__age_band").is_null()),
        "citizenship": (
            "code_known",
            ~cit_unknown & present_text("citizenship").is_not_null() & pl.col("v__citizenship").is_null(),
        ),
        "exploitation_country": (
            "code_known",
            ~exp_unknown & present_text("exploitation_country").is_not_null() & pl.col("v__exploitation_country").is_null(),
        ),
        "is_forced_labour": (
            "boolean_format",
            present_text("is_forced_labour").is_not_null() & pl.col("v__is_forced_labour").is_null(),
        ),
        "is_sexual_exploitation": (
            "boolean_format",
            present_text("is_sexual_exploitation").is_not_null() & pl.col("v__is_sexual_exploitation").is_null(),
        ),
    }
    errors = pl.concat(
        [
            df.filter(cond.fill_null(False)).select("_i", pl.lit(f).alias("field_name"), pl.lit(rule).alias("rule"))
            for f, (rule, cond) in checks.items()
        ]
    )
    schema = polars_schema(reg, "ref_ctdc_cases")
    typed = df.select(
        "_i",
        *[
            (
                pl.lit(source_file).alias(c) if c == "source_file"
                else pl.lit(sha256).alias(c) if c == "source_sha256"
                else pl.col("source_row").alias(c) if c == "source_row"
                else pl.col(f"v__{c}").alias(c)
            ).cast(t)
            for c, t in schema.items()
        ],
    )
    try:
        validate("ref_ctdc_cases", typed.drop("_i"))
    except SchemaErrors as e:
        fc = e.failure_cases.select("column", "check", "index").filter(pl.col("index").is_not_null())
        extra = fc.select(
            pl.col("index").cast(pl.UInt32).alias("_i"),
            pl.col("column").alias("field_name"),
            pl.when(pl.col("check") == "not_nullable").then(pl.lit("required")).otherwise(pl.lit("range")).alias("rule"),
        )
        errors = pl.concat([errors, extra.cast(errors.schema)]).unique(maintain_order=True)
    bad = errors.select("_i").unique()
    rows = []
    if errors.height:
        raw_vals = df.join(bad, on="_i", how="semi")
        for i, field, rule in errors.iter_rows():
            r = raw_vals.filter(pl.col("_i") == i).row(0, named=True)
            rows.append(
                {
                    "source_file": source_file,
                    "source_row": r["source_row"],
                    "form": FORM,
                    "mission_code": MISSION,
                    "era": ERA,
                    "field_name": field,
                    "rule": rule,
                    "reason": reason(rule, field, reg.fields[field].codelist),
                    "raw_value": r.get(field),
                }
            )
    typed = typed.join(bad, on="_i", how="anti").drop("_i")
    return typed, quarantine_frame(rows)


def ctdc_columns() -> dict[str, str]:
    return formats.column_map(ERA, FORM)
