"""Staging: raw text records -> typed, validated records; failing records -> quarantine.

`stage(raw_screenings, raw_assistance)` parses every field with its era's rules (dates in the era's
formats, Excel serials with the 1900 leap-year bug, not-recorded markers -> null, yes/no words,
multi-valued cells, code lists and countries through their variants), validates with the registry's
Pandera schemas for `typed_screenings` / `typed_assistance` (collected frames, lazy=True: data-level
checks run) and with the cross-field rules of `ct_pipeline.stage.rules`.

- A record failing any rule goes to `quarantine` (one row per failed rule and field: file, row,
  form, field, rule id, reason naming field and rule, raw value for the custodian); it does not go
  on. Every other record goes on, typed.
- Exact duplicates inside one file (every raw value equal but the row number) count once: later
  copies are `duplicates`, neither staged nor quarantined.
- `accounting` has, per file and form: rows_read = rows_staged + rows_quarantined + rows_duplicate.

Registration before 1999 is not a staging error: such cases are staged and the warehouse accounts
for them as out of scope. Registration in the future is (rule date_in_future).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from pandera.errors import SchemaErrors

from ct_pipeline.formats import eras as formats
from ct_pipeline.metadata.registry import PROVENANCE, load_registry
from ct_pipeline.metadata.schemas import validate
from ct_pipeline.metadata.types import empty_frame, polars_schema
from ct_pipeline.stage.parse import parse_frame
from ct_pipeline.stage.rules import AGE_TOLERANCE_YEARS, GAF_START, MAX_VALUE_CHARS, reason

TYPED = {"screening": "typed_screenings", "assistance": "typed_assistance"}
RAW = {"screening": "raw_screenings", "assistance": "raw_assistance"}
ACCOUNTING_SCHEMA = {
    "source_file": pl.String,
    "form": pl.String,
    "rows_read": pl.Int64,
    "rows_staged": pl.Int64,
    "rows_quarantined": pl.Int64,
    "rows_duplicate": pl.Int64,
}
DUPLICATES_SCHEMA = {
    "source_file": pl.String,
    "form": pl.String,
    "source_row": pl.Int64,
    "duplicate_of_row": pl.Int64,
}
_ERR = {"_i": pl.Int64, "field_name": pl.String, "rule": pl.String}


@dataclass
class Staged:
    typed_screenings: pl.DataFrame
    typed_assistance: pl.DataFrame
    quarantine: pl.DataFrame
    duplicates: pl.DataFrame
    accounting: pl.DataFrame

    def typed(self, form: str) -> pl.DataFrame:
        return self.typed_screenings if form == "screening" else self.typed_assistance


class StagingSchemaError(RuntimeError):
    """The staged frame does not fit the registry schema structurally: a pipeline bug, not bad data."""


def _value_fields(table: str) -> dict:
    reg = load_registry()
    return {c.name: c.field for c in reg.columns(table) if c.name not in PROVENANCE}


def _mark_duplicates(raw: pl.DataFrame) -> pl.DataFrame:
    values = [c for c in raw.columns if c not in ("_i", "source_row")]
    key = pl.struct(values)
    return raw.with_columns(
        _dup=~key.is_first_distinct(),
        _dup_of=pl.col("source_row").first().over(key.hash(seed=7)),
    )


def _parse(raw: pl.DataFrame, table: str, today: dt.date) -> pl.DataFrame:
    fields = _value_fields(table)
    eras = formats.load_eras()
    parts = []
    for (era_name,), part in raw.partition_by("era", as_dict=True, maintain_order=True).items():
        parts.append(parse_frame(part, fields, eras[era_name], today=today))
    if not parts:
        return parse_frame(raw, fields, eras["case_api_jsonl"], today=today)
    return pl.concat(parts, how="vertical")


def _errors_from_columns(df: pl.DataFrame, fields: list[str]) -> pl.DataFrame:
    frames = [
        df.select(pl.col("_i"), pl.lit(f).alias("field_name"), pl.col(f"e__{f}").alias("rule")).filter(
            pl.col("rule").is_not_null()
        )
        for f in fields
    ]
    return pl.concat(frames) if frames else pl.DataFrame(schema=_ERR)


def _cross_field(df: pl.DataFrame, form: str, id_dates: pl.DataFrame | None) -> pl.DataFrame:
    """Cross-field rules on parsed values (a null value, parsed or not, never fails a rule)."""
    def v(f: str) -> pl.Expr:  # a value that failed its own rule takes part in no other rule
        return pl.when(pl.col(f"e__{f}").is_null()).then(pl.col(f"v__{f}"))

    rules: list[tuple[str, str, pl.Expr]] = []
    if form == "screening":
        # age at identification (at registration when the identification date is missing)
        at = pl.coalesce(v("identification_date"), v("registration_date"))
        age = (
            at.dt.year() - v("date_of_birth").dt.year()
            - (
                (at.dt.month() * 100 + at.dt.day()) < (v("date_of_birth").dt.month() * 100 + v("date_of_birth").dt.day())
            ).cast(pl.Int32)
        )
        rules += [
            ("identification_date", "identification_after_birth", v("identification_date") < v("date_of_birth")),
            ("date_of_birth", "age_range", (age > 100) | ((age < 0) & v("identification_date").is_null())),
            ("age_reported", "age_consistent", (v("age_reported") - age).abs() > AGE_TOLERANCE_YEARS),
            ("exploitation_end_date", "exploitation_end_after_start", v("exploitation_end_date") < v("exploitation_start_date")),
        ]
    else:
        rules += [
            ("assistance_end_date", "assistance_end_after_start", v("assistance_end_date") < v("assistance_start_date")),
            (
                "funding_source",
                "gaf_from_2000_08",
                (v("funding_source") == "gaf") & (v("assistance_start_date") < dt.date.fromisoformat(GAF_START)),
            ),
        ]
        if id_dates is not None and id_dates.height:
            df = df.join(id_dates, left_on=["mission_code", "v__case_ref"], right_on=["mission_code", "case_ref"], how="left")
            rules.append(
                ("assistance_start_date", "assistance_after_identification", v("assistance_start_date") < pl.col("_id_date"))
            )
    frames = [
        df.filter(cond.fill_null(False)).select(pl.col("_i"), pl.lit(field).alias("field_name"), pl.lit(rule).alias("rule"))
        for field, rule, cond in rules
    ]
    return pl.concat(frames) if frames else pl.DataFrame(schema=_ERR)


def _pandera(df: pl.DataFrame, form: str) -> pl.DataFrame:
    """Validate the typed frame with the registry schema; failures as (_i, field, rule)."""
    table = TYPED[form]
    typed = _typed_view(df, table)
    try:
        validate(table, typed)
        return pl.DataFrame(schema=_ERR)
    except SchemaErrors as e:
        fc = e.failure_cases
    # failure_cases hold values: only column, check and index are read here
    fc = fc.select("column", "check", "index")
    structural = fc.filter(pl.col("index").is_null())
    if structural.height:
        checks = sorted({f"{r['column']}:{r['check']}" for r in structural.iter_rows(named=True)})
        raise StagingSchemaError(f"{table}: staged frame fails schema-level checks {checks}")
    positions = df.select(pl.int_range(0, df.height, dtype=pl.Int64).alias("index"), "_i")
    out = fc.with_columns(pl.col("index").cast(pl.Int64)).join(positions, on="index", how="left")
    rule = (
        pl.when(pl.col("check") == "not_nullable").then(pl.lit("required"))
        .when(pl.col("check").str.contains("code")).then(pl.lit("code_known"))  # name or error text
        .when((pl.col("column") == "age_reported") & pl.col("check").str.contains("than")).then(pl.lit("age_range"))
        .when(pl.col("check").str.contains("than")).then(pl.lit("range"))
        .otherwise(pl.lit("schema_") + pl.col("check"))
    )
    if out.filter(pl.col("check") == "multiple_fields_uniqueness").height:
        raise StagingSchemaError(f"{table}: two records share a primary key (source_file, source_row)")
    return out.select("_i", pl.col("column").alias("field_name"), rule.alias("rule"))


def _typed_view(df: pl.DataFrame, table: str) -> pl.DataFrame:
    reg = load_registry()
    schema = polars_schema(reg, table)
    cols = []
    for name, dtype in schema.items():
        src = name if name in PROVENANCE else f"v__{name}"
        cols.append(pl.col(src).cast(dtype).alias(name))
    return df.select(cols)


def _id_dates(parsed_screenings: pl.DataFrame) -> pl.DataFrame:
    """Identification date per (mission, case number): the latest export's value."""
    if parsed_screenings.height == 0:
        return pl.DataFrame(schema={"mission_code": pl.String, "case_ref": pl.String, "_id_date": pl.Date})
    return (
        parsed_screenings.filter(pl.col("v__case_ref").is_not_null() & pl.col("e__identification_date").is_null())
        .sort(["received_date", "source_file", "source_row"])
        .group_by(["mission_code", "v__case_ref"])
        .agg(pl.col("v__identification_date").last().alias("_id_date"))
        .rename({"v__case_ref": "case_ref"})
    )


def _prepare(raw: pl.DataFrame, form: str) -> pl.DataFrame:
    reg = load_registry()
    expected = polars_schema(reg, RAW[form])
    missing = [c for c in expected if c not in raw.columns]
    if missing:
        raise ValueError(f"{RAW[form]} frame lacks columns {missing}")
    # Frames come in file order, each file's rows in row order (as extraction gives them): the
    # first of identical rows is the one kept. No sort: it would copy every value.
    raw = raw.select(list(expected))
    raw = _mark_duplicates(raw.with_row_index("_i").with_columns(pl.col("_i").cast(pl.Int64)))
    return _shorten_long_values(raw, [c for c in expected if c not in PROVENANCE])


def _shorten_long_values(raw: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Values over MAX_VALUE_CHARS are flagged (_long__<col>) and cut to a short excerpt for the
    rest of staging (and the quarantine's raw_value); the raw table keeps the whole value."""
    exprs: list[pl.Expr] = []
    for c in columns:
        if raw.height == 0 or (raw.get_column(c).str.len_bytes().max() or 0) <= MAX_VALUE_CHARS:
            continue
        long = pl.col(c).str.len_bytes() > MAX_VALUE_CHARS
        note = pl.format(
            "{} … [cut: {} characters in all; the whole value is in the raw table]",
            pl.col(c).str.slice(0, 1000), pl.col(c).str.len_chars(),
        )
        exprs += [long.fill_null(False).alias(f"_long__{c}"), pl.when(long).then(note).otherwise(pl.col(c)).alias(c)]
    return raw.with_columns(exprs) if exprs else raw


def stage(
    raw_screenings: pl.DataFrame,
    raw_assistance: pl.DataFrame,
    *,
    today: dt.date | None = None,
) -> Staged:
    """Parse, validate and split raw records into typed records, quarantine and duplicates."""
    today = today or dt.date.today()
    reg = load_registry()
    prepared = {"screening": _prepare(raw_screenings, "screening"), "assistance": _prepare(raw_assistance, "assistance")}
    parsed = {
        form: _parse(p.filter(~pl.col("_dup")), TYPED[form], today) for form, p in prepared.items()
    }
    id_dates = _id_dates(parsed["screening"])
    typed_out: dict[str, pl.DataFrame] = {}
    quarantine_parts: list[pl.DataFrame] = []
    dup_parts: list[pl.DataFrame] = []
    acct_parts: list[pl.DataFrame] = []
    for form in ("screening", "assistance"):
        table = TYPED[form]
        fields = list(_value_fields(table))
        p = parsed[form]
        parse_errors = _errors_from_columns(p, fields)
        # Pandera on every parsed record; a field that already failed parsing is not reported twice
        schema_errors = _pandera(p, form).join(parse_errors, on=["_i", "field_name"], how="anti")
        errors = pl.concat(
            [parse_errors, _cross_field(p, form, id_dates if form == "assistance" else None), schema_errors]
        ).unique(["_i", "field_name", "rule"], maintain_order=True)
        bad_rows = errors.select("_i").unique()
        typed_out[form] = _typed_view(p.join(bad_rows, on="_i", how="anti"), table)
        quarantine_parts.append(_quarantine_rows(prepared[form], errors, form))
        raw = prepared[form]
        dups = raw.filter(pl.col("_dup")).select(
            "source_file", pl.lit(form).alias("form"), "source_row", pl.col("_dup_of").alias("duplicate_of_row")
        )
        dup_parts.append(dups)
        q_rows = raw.join(bad_rows, on="_i", how="semi")
        acct = (
            raw.group_by("source_file")
            .agg(pl.len().alias("rows_read"), pl.col("_dup").sum().alias("rows_duplicate"))
            .join(q_rows.group_by("source_file").agg(pl.len().alias("rows_quarantined")), on="source_file", how="left")
            .join(typed_out[form].group_by("source_file").agg(pl.len().alias("rows_staged")), on="source_file", how="left")
            .with_columns(pl.lit(form).alias("form"))
        )
        acct_parts.append(acct.select(
            pl.col(c).fill_null(0).cast(t) if t == pl.Int64 else pl.col(c).cast(t) for c, t in ACCOUNTING_SCHEMA.items()
        ))
    accounting = pl.concat(acct_parts).sort(["source_file", "form"])
    unbalanced = accounting.filter(
        pl.col("rows_read") != pl.col("rows_staged") + pl.col("rows_quarantined") + pl.col("rows_duplicate")
    )
    if unbalanced.height:
        raise AssertionError(f"staging row accounting does not balance for {unbalanced.get_column('source_file').to_list()}")
    quarantine = pl.concat(quarantine_parts) if quarantine_parts else empty_frame(reg, "quarantine")
    return Staged(
        typed_screenings=typed_out["screening"],
        typed_assistance=typed_out["assistance"],
        quarantine=quarantine,
        duplicates=pl.concat(dup_parts).cast(DUPLICATES_SCHEMA),
        accounting=accounting,
    )


def _quarantine_rows(raw: pl.DataFrame, errors: pl.DataFrame, form: str) -> pl.DataFrame:
    reg = load_registry()
    schema = polars_schema(reg, "quarantine")
    if errors.height == 0:
        return empty_frame(reg, "quarantine")
    fields = sorted(set(errors.get_column("field_name").to_list()))
    rows = raw.join(errors.select("_i").unique(), on="_i", how="semi")
    long = rows.select("_i", *fields).unpivot(index="_i", variable_name="field_name", value_name="raw_value")
    codelists = {f: reg.fields[f].codelist for f in fields if f in reg.fields}
    reasons = {
        (f, r): reason(r, f, codelists.get(f))
        for f, r in errors.select("field_name", "rule").unique().iter_rows()
    }
    keys = [f"{f}\x1f{r}" for f, r in reasons]
    q = (
        errors.join(long, on=["_i", "field_name"], how="left")
        .join(rows.select("_i", "source_file", "source_row", "mission_code", "era"), on="_i", how="left")
        .with_columns(
            form=pl.lit(form),
            reason=(pl.col("field_name") + "\x1f" + pl.col("rule")).replace_strict(keys, list(reasons.values())),
        )
    )
    return q.select([pl.col(c).cast(t) for c, t in schema.items()]).sort(["source_file", "source_row", "field_name", "rule"])


__all__ = ["Staged", "StagingSchemaError", "stage"]
