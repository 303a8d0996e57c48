"""Keyed tokens (HMAC-SHA256) and the generalisation of quasi-identifiers at the staging boundary.

Tokens
------
``token = HMAC-SHA256(key, kind 0x1F part 0x1F part …)``, the first 128 bits in hex (32 characters),
with the key version in the row's ``key_version`` column. Never a plain hash: without the key a token
cannot be recomputed from a guessed name and date of birth.

- ``case_token``: kind ``case``, parts: normalised mission code, normalised case number.
- ``identity_token`` (restricted zone; the exact, record-level person token):
  - name **and** date of birth known → kind ``person``: normalised name (order-free, see
    `normalise.py`) + ISO date of birth. Global: the same person in two missions or eras gets the
    same token whenever these agree. ``identity_basis = 'name_dob'``.
  - otherwise (only an age, or no name) → kind ``person-case``: mission, case number and name.
    An age is too weak to identify anyone (every "Maria Popescu, 25" would merge), so the exact
    token is scoped to the case, ``identity_basis = 'case'``; the record is linked to the same
    person elsewhere only by the probabilistic linkage (`linkage.py`), which compares the birth
    year estimated from the age with a ±1 year tolerance.
- ``person_token`` (analyst zone): the token of the linked cluster the record belongs to — the
  ``identity_token`` of the cluster's earliest record, kept stable across runs (`linkage.py`).

Generalisation (stg_*)
----------------------
date of birth → ``birth_year``, ``age_at_identification`` (completed years on the identification
date, or on the registration date when the identification date is missing) and the CTDC
``age_band``; with only a reported age: age_at_identification = the reported age and birth_year =
year of (identification or registration) − age (an estimate, ±1). ``registration_year``,
``identification_year``, ``exploitation_days`` (end − start). Names, case numbers, documents, phones,
addresses, narratives, interviewer and provider names are dropped: stg_* hold exactly the registry
columns, and `validate` checks them. Impossible values (age < 0 or > 100, negative durations) become
null and are counted in `Pseudonymized.report` (counts only).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from ct_pipeline.metadata.registry import load_registry
from ct_pipeline.metadata.schemas import validate
from ct_pipeline.pseudonymize.keys import PseudonymKey
from ct_pipeline.pseudonymize.normalise import (
    normalise_case_ref,
    normalise_case_refs,
    normalise_document,
    normalise_documents,
    normalise_mission,
    normalise_name,
    normalise_names,
    normalise_phone,
    normalise_phones,
)

log = logging.getLogger(__name__)

TOKEN_HEX_CHARS = 32  # 128 bits
SEP = "\x1f"

# The identity of a screening record, as kept (encrypted) in the vault and used for linkage.
IDENTITY_FIELDS = (
    "mission_code", "case_ref", "submission_uuid", "full_name", "given_name", "family_name",
    "date_of_birth", "age_reported", "sex", "citizenship", "document_number", "phone", "address",
    "registration_date", "identification_date",
)  # fmt: skip
# Facts of the trafficking episode, not identifiers: kept with the identity because the same episode
# registered by two missions (identified abroad, assisted at home) shares them — linkage evidence.
EPISODE_FIELDS = (
    "exploitation_start_date", "exploitation_end_date", "recruitment_date", "recruitment_country",
    "exploitation_country",
)  # fmt: skip
TOKEN_FIELDS = ("case_token", "identity_token", "identity_basis", "person_token", "key_version")


def keyed_token(key: PseudonymKey, kind: str, *parts: str) -> str:
    msg = SEP.join((kind, *parts)).encode("utf-8")
    return hmac.digest(key.secret, msg, "sha256").hex()[:TOKEN_HEX_CHARS]


def case_token(key: PseudonymKey, mission_code: str | None, case_ref: str | None) -> str:
    return keyed_token(key, "case", normalise_mission(mission_code), normalise_case_ref(case_ref))


def person_name_key(full_name: str | None, given_name: str | None, family_name: str | None) -> str:
    """Given + family names when present, else the legacy one-cell full name (same result)."""
    key = normalise_name(given_name, family_name)
    return key or normalise_name(full_name)


def person_name_keys(names: pl.DataFrame) -> pl.Series:
    """`person_name_key` of every row of (full_name, given_name, family_name), vectorised."""
    full, given, family = names.columns
    key = normalise_names(names.select(given, family))
    legacy = key.eq("")  # no given or family name: the one-cell full name
    if legacy.any():
        idx = legacy.arg_true()
        key = key.scatter(idx, normalise_names(names.select(full)[idx]))
    return key


# map_unique(df, [full, given, family], person_name_key, ...) takes the vectorised path
person_name_key.vectorised = person_name_keys  # type: ignore[attr-defined]
normalise_case_ref.vectorised = normalise_case_refs  # type: ignore[attr-defined]
normalise_mission.vectorised = normalise_case_refs  # type: ignore[attr-defined]
normalise_document.vectorised = normalise_documents  # type: ignore[attr-defined]
normalise_phone.vectorised = normalise_phones  # type: ignore[attr-defined]


def identity_token(
    key: PseudonymKey,
    *,
    full_name: str | None = None,
    given_name: str | None = None,
    family_name: str | None = None,
    date_of_birth: date | None = None,
    mission_code: str | None = None,
    case_ref: str | None = None,
) -> tuple[str, str]:
    """(token, basis) of one record; see the module docstring."""
    name = person_name_key(full_name, given_name, family_name)
    if name and date_of_birth is not None:
        return keyed_token(key, "person", name, date_of_birth.isoformat()), "name_dob"
    return (
        keyed_token(key, "person-case", normalise_mission(mission_code), normalise_case_ref(case_ref), name),
        "case",
    )


# --- vectorised over frames ----------------------------------------------------------------------


def map_unique(
    df: pl.DataFrame, columns: Sequence[str], fn: Callable[..., object], name: str, dtype: pl.DataType
) -> pl.Series:
    """Apply ``fn(*row)`` once per distinct combination of ``columns``; return it for every row.

    A function with a ``vectorised`` twin (frame of ``columns`` -> Series, same values) is applied
    through it: e.g. the name and case-number normalisers, mostly polars string expressions."""
    vectorised = getattr(fn, "vectorised", None)
    if vectorised is not None:
        sub = df.select(columns)
        out = vectorised(sub) if len(columns) > 1 else vectorised(sub.to_series())
        return out.cast(dtype).alias(name)
    uniq = df.select(columns).unique()
    values = [fn(*row) for row in uniq.iter_rows()]
    uniq = uniq.with_columns(pl.Series(name, values, dtype=dtype))
    out = df.select(columns).join(uniq, on=list(columns), how="left", nulls_equal=True, maintain_order="left")
    return out[name]


_HMAC_BLOCK = 64  # bytes, SHA-256's block


def _hmac_states(secret: bytes):
    """SHA-256 states after the HMAC key pads (RFC 2104): HMAC(k, m) = H(k^opad ‖ H(k^ipad ‖ m)).
    Copying these states per message skips the key set-up `hmac.digest` repeats for each one."""
    if len(secret) > _HMAC_BLOCK:
        secret = hashlib.sha256(secret).digest()
    secret = secret.ljust(_HMAC_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in secret))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in secret))
    return inner, outer


def hmac_tokens(key: PseudonymKey, messages: pl.Series) -> pl.Series:
    """``keyed_token`` of each message (kind and parts already joined by SEP), once per distinct one.

    Same bytes as `keyed_token`: the messages' UTF-8 (polars strings are UTF-8) through HMAC-SHA256
    from precomputed key states, the first 128 bits in lower-case hex."""
    uniq = messages.unique().drop_nulls()
    inner, outer = _hmac_states(key.secret)
    new_inner, new_outer = inner.copy, outer.copy
    digests = []
    append = digests.append
    for m in uniq.cast(pl.Binary).to_list():
        h = new_inner()
        h.update(m)
        o = new_outer()
        o.update(h.digest())
        append(o.digest())
    toks = pl.Series(digests, dtype=pl.Binary).bin.encode("hex").str.slice(0, TOKEN_HEX_CHARS)
    return messages.replace_strict(uniq, toks, default=None, return_dtype=pl.String)


def _normalised(df: pl.DataFrame, *, names: bool = True) -> pl.DataFrame:
    """Normalised mission, case number and (``names``) name key columns (_m, _c, _n), unless the
    frame has them already (`identities_frame` normalises once for both kinds of token)."""
    out = {}
    if "_m" not in df.columns:
        out["_m"] = normalise_case_refs(df.get_column("mission_code"))
        out["_c"] = normalise_case_refs(df.get_column("case_ref"))
    if names and "_n" not in df.columns and "full_name" in df.columns:
        out["_n"] = person_name_keys(df.select("full_name", "given_name", "family_name"))
    return df.with_columns(**out) if out else df


def add_case_tokens(df: pl.DataFrame, key: PseudonymKey) -> pl.DataFrame:
    d = _normalised(df, names=False)
    msg = pl.concat_str([pl.lit("case"), "_m", "_c"], separator=SEP)
    tok = hmac_tokens(key, d.select(msg.alias("m"))["m"])
    return df.with_columns(tok.alias("case_token"))


def add_identity_tokens(df: pl.DataFrame, key: PseudonymKey) -> pl.DataFrame:
    """identity_token and identity_basis of each record (vectorised `identity_token`)."""
    d = _normalised(df)
    dob = pl.col("date_of_birth")
    global_ = (pl.col("_n") != "") & dob.is_not_null()
    msg = (
        pl.when(global_)
        .then(pl.concat_str([pl.lit("person"), "_n", dob.dt.strftime("%Y-%m-%d")], separator=SEP))
        .otherwise(pl.concat_str([pl.lit("person-case"), "_m", "_c", "_n"], separator=SEP))
    )
    d = d.select(msg.alias("m"), pl.when(global_).then(pl.lit("name_dob")).otherwise(pl.lit("case")).alias("b"))
    return df.with_columns(hmac_tokens(key, d["m"]).alias("identity_token"), d["b"].alias("identity_basis"))


# --- generalisation ------------------------------------------------------------------------------


def _age_band_expr(age: pl.Expr) -> pl.Expr:
    bands = load_registry().codelists["age_band"].codes
    expr = None
    for c in bands:
        lo, hi = int(c.min_age), int(c.max_age)
        cond = age.is_between(lo, hi)
        expr = pl.when(cond).then(pl.lit(c.code)) if expr is None else expr.when(cond).then(pl.lit(c.code))
    return expr.otherwise(pl.lit(None, dtype=pl.String))


def _require(df: pl.DataFrame, table: str, needed: Sequence[str]) -> None:
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise ValueError(f"{table}: missing columns {missing}")


def generalise_screenings(typed: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, int]]:
    """Derived, generalised columns (years, ages, age band, durations) of typed screenings."""
    ref = pl.coalesce(pl.col("identification_date"), pl.col("registration_date"))
    dob = pl.col("date_of_birth")
    age_from_dob = (
        ref.dt.year().cast(pl.Int64)
        - dob.dt.year().cast(pl.Int64)
        - ((ref.dt.month().cast(pl.Int64) * 100 + ref.dt.day()) < (dob.dt.month().cast(pl.Int64) * 100 + dob.dt.day())).cast(pl.Int64)
    )  # fmt: skip
    age_raw = pl.when(dob.is_not_null()).then(age_from_dob).otherwise(pl.col("age_reported").cast(pl.Int64))
    birth_raw = pl.coalesce(
        dob.dt.year().cast(pl.Int64), ref.dt.year().cast(pl.Int64) - pl.col("age_reported").cast(pl.Int64)
    )
    days_raw = (pl.col("exploitation_end_date") - pl.col("exploitation_start_date")).dt.total_days().cast(pl.Int64)
    df = typed.with_columns(
        _age=age_raw, _birth=birth_raw, _days=days_raw,
    )  # fmt: skip
    report = {
        "age_out_of_range": int(df.select(((pl.col("_age") < 0) | (pl.col("_age") > 100)).sum()).item() or 0),
        "birth_year_out_of_range": int(
            df.select(((pl.col("_birth") < 1900) | (pl.col("_birth") > 2100)).sum()).item() or 0
        ),
        "negative_exploitation_days": int(df.select((pl.col("_days") < 0).sum()).item() or 0),
        "age_from_reported_age": int(df.select((dob.is_null() & pl.col("age_reported").is_not_null()).sum()).item()),
    }
    age = pl.when(pl.col("_age").is_between(0, 100)).then(pl.col("_age"))
    df = df.with_columns(
        registration_year=pl.col("registration_date").dt.year().cast(pl.Int64),
        identification_year=pl.col("identification_date").dt.year().cast(pl.Int64),
        age_at_identification=age,
        birth_year=pl.when(pl.col("_birth").is_between(1900, 2100)).then(pl.col("_birth")),
        exploitation_days=pl.when(pl.col("_days") >= 0).then(pl.col("_days")),
    ).with_columns(age_band=_age_band_expr(pl.col("age_at_identification")))
    return df.drop("_age", "_birth", "_days"), report


# --- the entry point -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Pseudonymized:
    stg_screenings: pl.DataFrame  # analyst zone
    stg_assistance: pl.DataFrame  # analyst zone
    identities: pl.DataFrame  # restricted zone: one row per screening record, table person_identities
    report: dict[str, int] = field(default_factory=dict)  # counts only, safe to log
    # restricted zone: person_token of every linked record, this batch's and the prior ones; a prior
    # record's token changes only when new evidence merged two earlier persons (report: relinked)
    person_links: pl.DataFrame | None = None
    # restricted zone: the prior records whose person_token changed (source_file, source_row,
    # person_token = the new one) — apply to the vault (update_person_tokens) and to stg/dim tables
    relinked: pl.DataFrame | None = None
    # restricted zone: each identity's normalised name key (`linkage.name_keys`), in row order
    name_keys: pl.Series | None = None


SCREENING_INPUT = (
    "source_file", "source_row", "mission_code", "case_ref", "full_name", "given_name", "family_name",
    "date_of_birth", "age_reported", "registration_date", "identification_date",
    "exploitation_start_date", "exploitation_end_date",
)  # fmt: skip
ASSISTANCE_INPUT = ("source_file", "source_row", "mission_code", "case_ref")


def identities_frame(typed_screenings: pl.DataFrame, key: PseudonymKey) -> pl.DataFrame:
    """The restricted identities behind each screening record, with exact tokens (no linkage yet)."""
    return _identities(typed_screenings, key)[0]


def _identities(typed_screenings: pl.DataFrame, key: PseudonymKey) -> tuple[pl.DataFrame, pl.Series]:
    """`identities_frame`, and the records' normalised name keys (what the linkage compares names
    on: computed once here, for the identity token, and handed on)."""
    # normalised once (_m, _c, _n) for both tokens; the helper columns are not selected below (the
    # name key _n is returned beside the identities)
    df = add_identity_tokens(add_case_tokens(_normalised(typed_screenings), key), key)
    from ct_pipeline.metadata.types import polars_schema

    schema = polars_schema(load_registry(), "person_identities")
    cols = ["source_file", "source_row", *IDENTITY_FIELDS, *EPISODE_FIELDS]
    ident = df.select(
        *[pl.col(c) if c in df.columns else pl.lit(None, dtype=schema[c]).alias(c) for c in cols],
        "case_token", "identity_token", "identity_basis",
        pl.col("identity_token").alias("person_token"),
        pl.lit(key.version).alias("key_version"),
    )  # fmt: skip
    return ident, df.get_column("_n").alias("nk")


def pseudonymize(
    typed_screenings: pl.DataFrame,
    typed_assistance: pl.DataFrame,
    key: PseudonymKey,
    *,
    prior_identities: pl.DataFrame | None = None,
    link: bool = True,
    restricted_dir=None,
) -> Pseudonymized:
    """typed_* (restricted) → stg_* (analyst zone, validated) + identities (restricted zone).

    ``link``: give each record the person_token of its linked cluster (probabilistic linkage within
    this batch and with ``prior_identities``, e.g. `vault.load_identities(...)`, whose person_tokens
    are kept stable). With ``link=False`` the person_token is the exact identity token.
    ``restricted_dir``: where the linkage's DuckDB may spill (default `settings.restricted_dir`).
    """
    from ct_pipeline.pseudonymize.linkage import link_persons

    reg = load_registry()
    _require(typed_screenings, "typed_screenings", SCREENING_INPUT)
    _require(typed_assistance, "typed_assistance", ASSISTANCE_INPUT)

    identities, name_keys = _identities(typed_screenings, key)
    report: dict[str, int] = {}
    links = relinked = None
    if link and identities.height:
        links = link_persons(identities.with_columns(name_keys), prior=prior_identities, restricted_dir=restricted_dir)
        if prior_identities is not None and prior_identities.height:
            moved = prior_identities.select("source_file", "source_row", "person_token").join(
                links.select("source_file", "source_row", pl.col("person_token").alias("_new")),
                on=["source_file", "source_row"],
            )
            relinked = moved.filter(pl.col("person_token") != pl.col("_new")).select(
                "source_file", "source_row", pl.col("_new").alias("person_token")
            )
            report["relinked"] = relinked.height
        identities = identities.drop("person_token").join(
            links.select("source_file", "source_row", "person_token"),
            on=["source_file", "source_row"], how="left", maintain_order="left",
        ).select(identities.columns)  # fmt: skip
        report["person_clusters"] = identities["person_token"].n_unique()

    screen = typed_screenings.join(
        identities.select("source_file", "source_row", "case_token", "person_token"),
        on=["source_file", "source_row"], how="left", maintain_order="left",
    )  # fmt: skip
    screen, gen_report = generalise_screenings(screen)
    report.update(gen_report)
    screen = screen.with_columns(key_version=pl.lit(key.version))
    stg_s = _validated("stg_screenings", _conform(screen, reg, "stg_screenings"))

    assist = add_case_tokens(typed_assistance, key).with_columns(key_version=pl.lit(key.version))
    stg_a = _validated("stg_assistance", _conform(assist, reg, "stg_assistance"))

    report.update(screenings=stg_s.height, assistance=stg_a.height, identities=identities.height)
    log.info("pseudonymised %d screening and %d assistance records", stg_s.height, stg_a.height)
    return Pseudonymized(stg_s, stg_a, identities, report, links, relinked, name_keys)


class StgValidationError(ValueError):
    """A stg_* frame failed the registry schema. The message names columns, checks and counts only:
    pandera's own error lists failing values, which must not reach logs."""

    def __init__(self, table: str, summary: list[tuple[str, str, int]]):
        self.table, self.summary = table, summary
        parts = ", ".join(f"{col}: {check} ({n} rows)" for col, check, n in summary)
        super().__init__(f"{table} failed validation against the registry: {parts}")


def _validated(table: str, df: pl.DataFrame) -> pl.DataFrame:
    from pandera.errors import SchemaErrors

    try:
        return validate(table, df)
    except SchemaErrors as e:
        fc = e.failure_cases
        fc = fc if isinstance(fc, pl.DataFrame) else pl.from_pandas(fc)
        cols = [c for c in ("column", "check") if c in fc.columns]
        summary = [
            (str(r[0]), str(r[1]) if len(r) > 2 else "", int(r[-1]))
            for r in fc.group_by(cols).len().sort(cols).iter_rows()
        ]
        raise StgValidationError(table, summary) from None


def _conform(df: pl.DataFrame, reg, table: str) -> pl.DataFrame:
    """Exactly the registry columns of ``table``, in registry order and types (drops everything else)."""
    from ct_pipeline.metadata.types import polars_schema

    schema = polars_schema(reg, table)
    _require(df, table, list(schema.names()))
    return df.select([pl.col(n).cast(t) for n, t in schema.items()])
