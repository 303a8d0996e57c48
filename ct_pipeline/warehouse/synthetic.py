"""Synthetic staged frames (stg_screenings, stg_assistance) for warehouse tests and the benchmark.

Vectorised (numpy + polars) so that a million cases take seconds. Every value is invented: tokens
are random hex, no name or date of birth exists anywhere. Attributes are a pure function of
(case id, seed, version), so a later "night" can re-export an existing case consistently.

Shapes mimic the real flow: each mission exports quarterly (one file per mission and quarter;
the legacy era has separate screening and assistance CSVs), a share of cases is exported again
later (legacy cases migrated into MiMOSA, later exports carrying older cases) either unchanged
(duplicates) or changed (new versions), and assistance episodes hang off screened cases.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import numpy as np
import polars as pl

from ct_pipeline.metadata.registry import load_registry
from ct_pipeline.metadata.types import polars_schema

EPOCH = dt.date(1999, 1, 1)
END = dt.date(2026, 6, 30)
GAF_START = dt.date(2000, 8, 1)
MIGRATION = dt.date(2011, 9, 15)  # legacy cases migrated into MiMOSA and re-exported

MISSIONS = [
    "TH-BKK", "VN-HAN", "NG-LOS", "GH-ACC", "ET-ADD", "KH-PNH", "ID-JKT", "PH-MNL", "CO-BOG",
    "MX-MEX", "GT-GUA", "HT-PAP", "EG-CAI", "MA-RAB", "KG-BIS", "UZ-TAS", "KZ-AST", "AF-KBL",
    "PK-ISB", "BD-DHA", "NP-KTM", "LK-CMB", "MM-RGN", "LA-VTE", "ZA-PRE", "KE-NBO", "UG-KLA",
    "TZ-DAR", "ZW-HRE", "NA-WDH", "SN-DKR", "ML-BKO", "BF-OUA", "CD-KIN", "DO-SDQ", "BO-LPB",
    "PE-LIM", "AR-BUE", "BR-BSB", "TR-ANK", "IQ-BGW", "JO-AMM", "LB-BEY", "YE-SAH", "UA-KIE",
    "MD-CHI", "BY-MSK", "AL-TIA", "XK-PRN", "RS-BEG", "DE-BER", "IT-ROM", "US-WAS", "JP-TYO",
    "AU-CBR", "NZ-WLG", "GE-TBS", "AM-EVN", "AZ-BAK", "CN-BJS",
]
ORIGINS = [
    "TH", "VN", "NG", "GH", "ET", "KH", "ID", "PH", "CO", "MX", "GT", "HT", "EG", "MA", "KG", "UZ",
    "KZ", "AF", "PK", "BD", "NP", "LK", "MM", "LA", "ZA", "KE", "UG", "TZ", "ZW", "NA", "SN", "ML",
    "UA", "MD", "BY", "AL", "RO", "BG", "CN", "IN",
]
DESTINATIONS = [
    "TH", "MY", "SA", "AE", "QA", "KW", "RU", "TR", "DE", "IT", "GB", "US", "JP", "CN", "ZA", "NG",
    "GH", "IN", "ID", "KZ", "PL", "ES", "FR", "MX", "BR", "AR",
]
TRANSITS = ["TR", "LY", "NE", "MX", "GT", "RS", "HU", "MY", "SG", "UZ", "UA", "ET", "SD", "TH"]

EXPLOITATION = ["sexual_exploitation", "forced_labour", "forced_marriage", "forced_military",
                "slavery_and_practices", "forced_criminality", "organ_removal", "forced_begging", "other"]
EXPLOITATION_P = [0.42, 0.35, 0.05, 0.01, 0.04, 0.04, 0.005, 0.04, 0.045]
SECTORS = ["agriculture", "aquafarming", "begging", "construction", "domestic_work", "hospitality",
           "manufacturing", "mining_or_drilling", "peddling"]
MEANS = ["debt_bondage", "takes_earnings", "restricts_financial_access", "threats", "psychological_abuse",
         "physical_abuse", "sexual_abuse", "false_promises", "psychoactive_substances"]
RECRUITERS = ["intimate_partner", "friend", "family_member", "acquaintance", "employer_or_agency", "stranger", "other"]
AGENCIES = ["self", "family_or_friend", "police", "immigration_or_border", "ngo", "iom",
            "embassy_or_consulate", "labour_inspection", "health_services", "other"]
ASSISTANCE = ["shelter", "medical", "psychosocial", "legal", "voluntary_return", "reintegration",
              "education_or_training", "financial", "family_tracing"]
OUTCOMES = ["completed", "ongoing", "dropped_out", "lost_contact"]
FUNDING = ["gaf", "mission_project", "government", "ngo_partner", "other"]


# --- counter-based randomness: attribute = f(case id, salt, seed) --------------------------------
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = x + _GOLD
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        return x ^ (x >> np.uint64(31))


def _bits(ids: np.ndarray, salt: int, seed: int) -> np.ndarray:
    with np.errstate(over="ignore"):
        key = np.uint64((seed * 1_000_003 + salt * 7_919 + 1) & 0xFFFFFFFFFFFFFFFF)
        return _mix(_mix(ids.astype(np.uint64) ^ _mix(np.array([key], dtype=np.uint64))[0]))


def _u(ids: np.ndarray, salt: int, seed: int) -> np.ndarray:
    """Uniform [0, 1) per id."""
    return (_bits(ids, salt, seed) >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _pick(ids, salt, seed, choices, p=None) -> np.ndarray:
    u = _u(ids, salt, seed)
    if p is None:
        idx = np.minimum((u * len(choices)).astype(np.int64), len(choices) - 1)
    else:
        cum = np.cumsum(np.asarray(p, dtype=np.float64))
        idx = np.minimum(np.searchsorted(cum / cum[-1], u, side="right"), len(choices) - 1)
    return np.asarray(choices, dtype=object)[idx]


def _hex(ids: np.ndarray, salt: int, seed: int) -> pl.Series:
    """32 hex characters per id (a stand-in for a keyed HMAC token)."""
    a = _bits(ids, salt, seed)
    b = _mix(a ^ np.uint64(salt + 17))
    raw = np.stack([a, b], axis=1).astype(">u8").tobytes()
    blobs = [raw[i : i + 16] for i in range(0, len(raw), 16)]
    return pl.Series(blobs, dtype=pl.Binary).bin.encode("hex")


def _null_where(values: np.ndarray, mask: np.ndarray) -> list:
    out = values.astype(object)
    out[mask] = None
    return out


def _frame(cols: dict) -> pl.DataFrame:
    """numpy object arrays -> typed polars columns (strings, booleans, with None)."""
    out = {}
    for name, v in cols.items():
        if isinstance(v, np.ndarray) and v.dtype == object:
            out[name] = pl.Series(name, v.tolist())
        else:
            out[name] = v
    return pl.DataFrame(out)


def _days(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _dates(days: np.ndarray) -> pl.Series:
    return pl.Series(days.astype(np.int32)).cast(pl.Date)


# --- cases ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Synth:
    stg_screenings: pl.DataFrame
    stg_assistance: pl.DataFrame


def _age_bands() -> tuple[np.ndarray, np.ndarray]:
    cl = load_registry().codelists["age_band"]
    mins = np.array([int(c.model_extra["min_age"]) for c in cl.codes])
    return mins, np.array([c.code for c in cl.codes], dtype=object)


def _case_core(ids: np.ndarray, seed: int, pre1999: float) -> dict[str, np.ndarray]:
    """Attributes that never change between versions of a case: mission, registration date."""
    mission = _pick(ids, 1, seed, MISSIONS)
    span = _days(END) - _days(EPOCH)
    reg = _days(EPOCH) + (np.sqrt(_u(ids, 2, seed)) * span).astype(np.int64)
    if pre1999:
        old = _u(ids, 3, seed) < pre1999
        reg = np.where(old, _days(dt.date(1997, 1, 1)) + (_u(ids, 4, seed) * 700).astype(np.int64), reg)
    return {"mission_code": mission, "reg": reg}


def _screening_rows(ids: np.ndarray, seed: int, version: int, pre1999: float) -> pl.DataFrame:
    """One screening row per id, content of the given version (1 = original)."""
    n = len(ids)
    core = _case_core(ids, seed, pre1999)
    reg = core["reg"]
    v = seed + 7_777 * (version - 1)  # salt of the attributes a later version may change
    changed = version > 1

    ident = reg - (_u(ids, 10, seed) * 20).astype(np.int64)
    ident = np.maximum(ident, np.where(reg >= _days(EPOCH), _days(EPOCH), reg))
    if changed:  # a later export corrects the identification date
        ident = np.minimum(ident + (_u(ids, 11, v) * 10).astype(np.int64), reg)
    ident_null = _u(ids, 12, seed) < 0.04

    age = 9 + (_u(ids, 13, seed) ** 1.6 * 45).astype(np.int64)
    age = np.where(_u(ids, 14, seed) < 0.08, (_u(ids, 15, seed) * 9).astype(np.int64), age)
    age_null = _u(ids, 16, seed) < 0.03
    ident_year = (ident.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970)
    reg_year = (reg.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970)
    birth_year = np.where(ident_null, reg_year, ident_year) - age
    mins, codes = _age_bands()
    band = codes[np.searchsorted(mins, age, side="right") - 1]

    status = _pick(ids, 20, v if changed else seed, ["victim", "presumed_victim", "not_victim", "undetermined"],
                   [0.68, 0.12, 0.12, 0.08])
    is_victim = np.isin(status, ["victim", "presumed_victim"])
    eligible = np.where(is_victim, _u(ids, 21, seed) < 0.95, _u(ids, 22, seed) < 0.05)

    e1 = _pick(ids, 30, v if changed else seed, EXPLOITATION, EXPLOITATION_P)
    e2 = _pick(ids, 31, seed, EXPLOITATION, EXPLOITATION_P)
    has_e2 = _u(ids, 32, seed) < 0.25
    m1, m2, m3 = (_pick(ids, s, seed, MEANS) for s in (40, 41, 42))
    n_means = (_u(ids, 43, seed) * 4).astype(np.int64)
    sector = _pick(ids, 44, seed, SECTORS)
    citizenship = _pick(ids, 50, seed, ORIGINS)
    recruit_c = np.where(_u(ids, 51, seed) < 0.9, citizenship, _pick(ids, 52, seed, ORIGINS))
    exploit_c = _pick(ids, 53, seed, DESTINATIONS)
    t1, t2 = _pick(ids, 54, seed, TRANSITS), _pick(ids, 55, seed, TRANSITS)
    n_transit = np.minimum((_u(ids, 56, seed) * 3.3).astype(np.int64), 2)
    start = ident - 30 - (_u(ids, 57, seed) * 900).astype(np.int64)
    end = ident - (_u(ids, 58, seed) * 20).astype(np.int64)
    recruited = start - (_u(ids, 59, seed) * 60).astype(np.int64)

    df = _frame(
        {
            "case_id": ids,
            "case_token": _hex(ids, 100, seed),
            "person_token": _hex(ids // 1 - (ids % 29 == 0) * (ids % 7 + 1), 101, seed),  # some persons have 2+ cases
            "key_version": np.full(n, "k1", dtype=object),
            "mission_code": core["mission_code"],
            "registration_date": _dates(reg),
            "identification_date": _dates(ident),
            "_ident_null": ident_null,
            "birth_year": _null_where(birth_year, age_null),
            "age_at_identification": _null_where(age, age_null | ident_null),
            "age_band": _null_where(band, age_null | ident_null),
            "sex": _pick(ids, 60, seed, ["female", "male", "other", None], [0.7, 0.28, 0.01, 0.01]),
            "citizenship": _null_where(citizenship, _u(ids, 61, seed) < 0.02),
            "identifying_agency": _null_where(_pick(ids, 62, seed, AGENCIES), _u(ids, 63, seed) < 0.1),
            "victim_status": status,
            "is_eligible_for_assistance": eligible,
            "_is_victim": is_victim,
            "_e1": e1, "_e2": _null_where(e2, ~has_e2),
            "_m1": _null_where(m1, n_means < 1), "_m2": _null_where(m2, n_means < 2), "_m3": _null_where(m3, n_means < 3),
            "_sector": sector,
            "recruiter_relationship": _null_where(_pick(ids, 64, seed, RECRUITERS), _u(ids, 65, seed) < 0.15),
            "recruitment_country": _null_where(recruit_c, _u(ids, 66, seed) < 0.05),
            "_t1": _null_where(t1, n_transit < 1), "_t2": _null_where(t2, n_transit < 2),
            "exploitation_country": _null_where(exploit_c, _u(ids, 67, seed) < 0.05),
            "recruitment_date": _dates(recruited),
            "exploitation_start_date": _dates(start),
            "exploitation_end_date": _dates(end),
            "has_research_consent": _pick(ids, 68, seed, [True, False, None], [0.8, 0.15, 0.05]),
        }
    )
    return df.with_columns(
        pl.when(pl.col("_ident_null")).then(None).otherwise(pl.col("identification_date")).alias("identification_date"),
        pl.col("registration_date").dt.year().cast(pl.Int64).alias("registration_year"),
        pl.when(pl.col("_is_victim")).then(
            pl.concat_list("_e1", "_e2").list.drop_nulls().list.unique(maintain_order=True)
        ).alias("exploitation_types"),
        pl.when(pl.col("_is_victim")).then(
            pl.concat_list("_m1", "_m2", "_m3").list.drop_nulls().list.unique(maintain_order=True)
        ).alias("means_of_control"),
        pl.when(pl.col("_is_victim") & ((pl.col("_e1") == "forced_labour") | (pl.col("_e2") == "forced_labour")))
        .then(pl.concat_list("_sector")).alias("labour_sectors"),
        pl.when(pl.col("_t1").is_not_null()).then(pl.concat_list("_t1", "_t2").list.drop_nulls()).alias("transit_countries"),
    ).with_columns(
        pl.col("identification_date").dt.year().cast(pl.Int64).alias("identification_year"),
        (pl.col("exploitation_end_date") - pl.col("exploitation_start_date")).dt.total_days().cast(pl.Int64)
        .alias("exploitation_days"),
    )


def _file_for(mission: pl.Expr, received: pl.Expr, form: str) -> pl.Expr:
    era = (
        pl.when(received < pl.date(2011, 7, 1)).then(pl.lit("ctm_legacy"))
        .when(received < pl.date(2019, 7, 1)).then(pl.lit("mimosa_xlsx"))
        .otherwise(pl.lit("case_api_jsonl"))
    )
    name = (
        pl.when(era == "ctm_legacy").then(pl.lit(f"{form}.csv"))
        .when(era == "mimosa_xlsx").then(pl.lit("export.xlsx"))
        .otherwise(pl.lit("cases.jsonl"))
    )
    return pl.concat_str([mission, received.dt.strftime("%Y-%m-%d"), name], separator="/"), era


def _quarter_received(reg: pl.Expr) -> pl.Expr:
    """Exports are sent 10 days after the end of the quarter of registration (never after END)."""
    q_end = reg.dt.truncate("1q").dt.offset_by("1q")
    return pl.min_horizontal(q_end.dt.offset_by("9d"), pl.lit(END))


def _lineage(df: pl.DataFrame, form: str) -> pl.DataFrame:
    path, era = _file_for(pl.col("mission_code"), pl.col("received_date"), form)
    df = df.with_columns(path.alias("source_file"), era.alias("era"))
    files = df.select("source_file").unique()
    sha = {f: hashlib.sha256(f.encode()).hexdigest() for f in files["source_file"].to_list()}
    order = ["source_file", "case_id"] + (["_episode"] if "_episode" in df.columns else [])
    return (
        df.sort(order)
        .with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("source_file").alias("source_row"),
            pl.col("source_file").replace_strict(sha, return_dtype=pl.String).alias("source_sha256"),
        )
    )


def _assistance_rows(scr: pl.DataFrame, seed: int, version: int) -> pl.DataFrame:
    """Episodes for the screening rows of victims: keyed by (case, type, start date); a later
    version changes end dates and outcomes but keeps the keys."""
    base = scr.filter(pl.col("_is_victim") & pl.col("is_eligible_for_assistance"))
    ids = base["case_id"].to_numpy()
    n_ep = np.searchsorted(np.cumsum([0.2, 0.3, 0.3, 0.15, 0.05]), _u(ids, 200, seed), side="right")
    rep = np.repeat(np.arange(len(ids)), n_ep)
    ep = np.concatenate([np.arange(k) for k in n_ep]) if len(n_ep) else np.array([], dtype=np.int64)
    eid = ids[rep] * 8 + ep  # an id per episode
    first_type = (_u(ids, 201, seed) * 9).astype(np.int64)[rep]
    step = np.array([1, 2, 4, 5, 7, 8])[(_u(ids, 202, seed) * 6).astype(np.int64)][rep]
    atype = np.asarray(ASSISTANCE, dtype=object)[(first_type + ep * step) % 9]
    reg = base["registration_date"].cast(pl.Int32).to_numpy()[rep].astype(np.int64)
    start = reg + ep * 20 + (_u(eid, 203, seed) * 30).astype(np.int64)
    v = seed + 7_777 * (version - 1)
    end = start + 1 + (_u(eid, 204, v if version > 1 else seed) * 180).astype(np.int64)
    ongoing = _u(eid, 205, seed) < 0.1
    gaf_ok = start >= _days(GAF_START)
    funding = _pick(eid, 206, seed, FUNDING, [0.3, 0.4, 0.15, 0.1, 0.05])
    funding = np.where((funding == "gaf") & ~gaf_ok, "mission_project", funding)
    cit = base["citizenship"].to_numpy()[rep]
    out = _frame(
        {
            "case_id": ids[rep],
            "_episode": ep,
            "case_token": base["case_token"].to_numpy()[rep],
            "key_version": np.full(len(rep), "k1", dtype=object),
            "mission_code": base["mission_code"].to_numpy()[rep],
            "assistance_type": atype,
            "assistance_start_date": _dates(start),
            "assistance_end_date": _dates(end),
            "_ongoing": ongoing,
            "funding_source": _null_where(funding, _u(eid, 207, seed) < 0.05),
            "reintegration_outcome": _null_where(_pick(eid, 208, v, OUTCOMES), atype != "reintegration"),
            "return_country": _null_where(cit, atype != "voluntary_return"),
        }
    )
    return out.with_columns(
        pl.when(pl.col("_ongoing")).then(None).otherwise(pl.col("assistance_end_date")).alias("assistance_end_date"),
        pl.col("assistance_start_date").alias("_start"),
    )


def _finish(df: pl.DataFrame, table: str) -> pl.DataFrame:
    schema = polars_schema(load_registry(), table)
    return df.select([pl.col(c).cast(t) for c, t in schema.items()])


def synthetic_stg(n_cases: int, *, seed: int = 1, reexport: float = 0.06, changed_share: float = 0.5,
                  pre1999: float = 0.0, first_id: int = 0) -> Synth:
    """The staged history of `n_cases` cases: quarterly exports per mission, a share of cases
    exported again later (half of them changed), assistance episodes of eligible victims.
    `pre1999` puts that share of cases before 1999 (staging normally refuses those: tests only)."""
    ids = np.arange(first_id, first_id + n_cases, dtype=np.int64)
    v1 = _screening_rows(ids, seed, 1, pre1999)
    v1 = v1.with_columns(_quarter_received(pl.col("registration_date")).alias("received_date"))

    again = ids[_u(ids, 300, seed) < reexport]
    chg = _u(again, 301, seed) < changed_share
    parts = [v1]
    if len(again):
        unchanged = _screening_rows(again[~chg], seed, 1, pre1999)
        changed = _screening_rows(again[chg], seed, 2, pre1999)
        re = pl.concat([unchanged, changed], how="vertical_relaxed")
        years_later = 1 + (_u(re["case_id"].to_numpy(), 302, seed) * 3).astype(np.int64)
        re = re.with_columns(pl.Series("_later", years_later)).with_columns(
            pl.when(pl.col("registration_date") < pl.date(2011, 7, 1)).then(pl.lit(MIGRATION))
            .otherwise(_quarter_received(pl.col("registration_date").dt.offset_by(pl.format("{}y", "_later"))))
            .alias("received_date")
        ).drop("_later")
        parts.append(re)
    scr = pl.concat(parts, how="vertical_relaxed")
    versions = [(v1, 1)]
    if len(again):
        versions += [(parts[1].filter(~pl.col("case_id").is_in(again[chg].tolist())), 1),
                     (parts[1].filter(pl.col("case_id").is_in(again[chg].tolist())), 2)]
    ast = pl.concat(
        [_assistance_rows(rows, seed, version).join(rows.select("case_id", "received_date"), on="case_id")
         for rows, version in versions],
        how="vertical_relaxed",
    )
    scr = _lineage(scr, "screening")
    ast = _lineage(ast, "assistance")
    return Synth(_finish(scr, "stg_screenings"), _finish(ast, "stg_assistance"))


def synthetic_night(n_existing: int, *, n_new: int, n_changed: int, n_unchanged: int = 0, seed: int = 1,
                    received_date: dt.date = dt.date(2026, 7, 2), night: int = 1) -> Synth:
    """One night's drop on top of `synthetic_stg(n_existing)`: new cases registered in the month
    before `received_date`, and existing cases exported again (changed or not), one JSONL per mission."""
    rng = np.random.default_rng(seed * 1000 + night)
    new_ids = np.arange(n_existing + (night - 1) * n_new, n_existing + night * n_new, dtype=np.int64)
    old = rng.choice(n_existing, size=min(n_changed + n_unchanged, n_existing), replace=False).astype(np.int64)
    chg_ids, same_ids = old[:n_changed], old[n_changed:]
    versions: list[tuple[pl.DataFrame, int]] = []
    if len(new_ids):
        new = _screening_rows(new_ids, seed, 1, 0.0)
        reg = _days(received_date) - 1 - (_u(new_ids, 400 + night, seed) * 30).astype(np.int64)
        new = new.with_columns(_dates(reg).alias("registration_date")).with_columns(
            pl.col("registration_date").dt.year().cast(pl.Int64).alias("registration_year"),
            pl.when(pl.col("identification_date").is_null()).then(None)
            .otherwise(pl.min_horizontal("identification_date", "registration_date")).alias("identification_date"),
        ).with_columns(pl.col("identification_date").dt.year().cast(pl.Int64).alias("identification_year"))
        versions.append((new, 1))
    if len(chg_ids):
        versions.append((_screening_rows(chg_ids, seed, 2 + night, 0.0), 2 + night))
    if len(same_ids):
        versions.append((_screening_rows(same_ids, seed, 1, 0.0), 1))
    scr = pl.concat([rows for rows, _ in versions], how="vertical_relaxed")
    ast = pl.concat([_assistance_rows(rows, seed, version) for rows, version in versions], how="vertical_relaxed")
    ast = ast.with_columns(pl.lit(received_date).alias("received_date"))
    scr = _lineage(scr.with_columns(pl.lit(received_date).alias("received_date")), "screening")
    ast = _lineage(ast, "assistance")
    return Synth(_finish(scr, "stg_screenings"), _finish(ast, "stg_assistance"))


# --- hand-made rows for scenario tests ------------------------------------------------------------
def _file_parts(source_file: str) -> tuple[str, dt.date]:
    mission, received = source_file.split("/")[:2]
    return mission, dt.date.fromisoformat(received)


def screening_row(case: str, source_file: str, source_row: int = 1, **values) -> dict:
    """One stg_screenings row (as a dict) with plausible defaults; `source_file` is
    'MISSION/YYYY-MM-DD/name' and gives mission_code and received_date unless overridden."""
    mission, received = _file_parts(source_file)
    row = {
        "case_token": case, "person_token": f"person-{case}", "key_version": "k1", "mission_code": mission,
        "registration_date": dt.date(2010, 5, 1), "identification_date": dt.date(2010, 4, 20),
        "birth_year": 1991, "age_at_identification": 18, "age_band": "18-20", "sex": "female",
        "citizenship": "KH", "identifying_agency": "police", "victim_status": "victim",
        "is_eligible_for_assistance": True, "exploitation_types": ["sexual_exploitation"],
        "labour_sectors": None, "means_of_control": ["debt_bondage"], "recruiter_relationship": "friend",
        "recruitment_country": "KH", "transit_countries": None, "exploitation_country": "TH",
        "recruitment_date": None, "exploitation_start_date": None, "exploitation_end_date": None,
        "exploitation_days": None, "has_research_consent": True, "source_file": source_file,
        "source_row": source_row, "source_sha256": hashlib.sha256(source_file.encode()).hexdigest(),
        "era": "mimosa_xlsx", "received_date": received,
    }
    row.update(values)
    row.setdefault("registration_year", row["registration_date"].year)
    if "identification_year" not in values:
        row["identification_year"] = row["identification_date"].year if row["identification_date"] else None
    return row


def assistance_row(case: str, source_file: str, source_row: int = 1, **values) -> dict:
    mission, received = _file_parts(source_file)
    row = {
        "case_token": case, "key_version": "k1", "mission_code": mission, "assistance_type": "shelter",
        "assistance_start_date": dt.date(2010, 5, 2), "assistance_end_date": dt.date(2010, 5, 31),
        "funding_source": "gaf", "reintegration_outcome": None, "return_country": None,
        "source_file": source_file, "source_row": source_row,
        "source_sha256": hashlib.sha256(source_file.encode()).hexdigest(), "era": "mimosa_xlsx",
        "received_date": received,
    }
    row.update(values)
    return row


def stg_frame(table: str, rows: list[dict]) -> pl.DataFrame:
    """Rows (dicts) as a frame with the registry's schema of `table`."""
    schema = polars_schema(load_registry(), table)
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema)


def insert_stg(con, screenings: pl.DataFrame | None = None, assistance: pl.DataFrame | None = None) -> None:
    """Append frames to stg_screenings / stg_assistance (creating them from the registry if needed).
    For tests and the benchmark; in the pipeline, staging writes these tables."""
    from ct_pipeline.warehouse.tables import INPUT_TABLES, col_list, ensure_tables

    ensure_tables(con, INPUT_TABLES)
    for table, df in (("stg_screenings", screenings), ("stg_assistance", assistance)):
        if df is None or df.height == 0:
            continue
        con.register("_stg_in", df)
        try:
            con.execute(f"INSERT INTO {table} ({col_list(table)}) SELECT {col_list(table)} FROM _stg_in")
        finally:
            con.unregister("_stg_in")
