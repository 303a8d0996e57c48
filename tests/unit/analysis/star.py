"""A small synthetic star schema (dim_countries, dim_missions, fct_cases, fct_route_legs,
fct_assistance, ref_ctdc_cases) in a DuckDB connection, for the analysis, disclosure, chart and
report tests. Tables are created from the registry DDL, so the fixture follows the warehouse's
declared columns. Every value is invented (random hex tokens, no names, no dates of birth).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import polars as pl

from ct_pipeline.metadata.ddl import table_ddl
from ct_pipeline.metadata.registry import load_registry

STAR_TABLES = ("dim_countries", "dim_missions", "fct_cases", "fct_route_legs", "fct_assistance", "ref_ctdc_cases")

MISSIONS = ["TH-BKK", "VN-HAN", "KH-PNH", "ID-JKT", "PH-MNL", "NG-LOS", "ET-ADD", "MD-CHI", "UA-KIE",
            "CO-BOG", "MX-MEX", "DE-BER"]
MISSION_P = [0.16, 0.12, 0.08, 0.1, 0.08, 0.1, 0.06, 0.08, 0.07, 0.06, 0.06, 0.03]
# where people from a mission's country are exploited (the mission's own country first: domestic)
DESTINATIONS = {
    "TH": ["TH", "MY", "JP", "SA"], "VN": ["VN", "CN", "MY", "GB"], "KH": ["KH", "TH", "MY"],
    "ID": ["ID", "MY", "SA", "AE"], "PH": ["PH", "SA", "AE", "MY"], "NG": ["NG", "IT", "LY", "SA"],
    "ET": ["ET", "SA", "AE", "LB"], "MD": ["MD", "RU", "TR", "IT"], "UA": ["UA", "RU", "PL", "DE"],
    "CO": ["CO", "MX", "ES", "US"], "MX": ["MX", "US"], "DE": ["DE", "NL"],
}
TRANSITS = ["TR", "LY", "NE", "GT", "RS", "MY", "SG", "SD"]
EXPLOITATION = ["sexual_exploitation", "forced_labour", "forced_marriage", "forced_begging",
                "forced_criminality", "slavery_and_practices", "other"]
EXPLOITATION_P = [0.42, 0.38, 0.05, 0.05, 0.04, 0.03, 0.03]
ASSISTANCE = ["shelter", "medical", "psychosocial", "legal", "voluntary_return", "reintegration"]
OUTCOMES = ["completed", "ongoing", "dropped_out", "lost_contact", None]
BANDS = [(0, 8, "0-8"), (9, 17, "9-17"), (18, 20, "18-20"), (21, 23, "21-23"), (24, 26, "24-26"),
         (27, 29, "27-29"), (30, 38, "30-38"), (39, 47, "39-47"), (48, 120, "48+")]


def _band(age: int | None) -> str | None:
    if age is None:
        return None
    return next(b for lo, hi, b in BANDS if lo <= age <= hi)


def _create(con: duckdb.DuckDBPyConnection) -> None:
    for t in STAR_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {t}")
        con.execute(table_ddl(t))


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    df = pl.DataFrame(rows, infer_schema_length=None)
    con.register("_star_rows", df)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _star_rows")
    finally:
        con.unregister("_star_rows")


def make_star(con: duckdb.DuckDBPyConnection, n_cases: int = 800, seed: int = 6,
              first_year: int = 1999, last_year: int = 2026) -> dict[str, int]:
    """Create and fill the star schema tables; returns rows per table."""
    rng = np.random.default_rng(seed)
    reg = load_registry()
    _create(con)
    countries = {c["alpha2"]: c for c in reg.countries}
    _insert(con, "dim_countries", [
        {"country_code": c["alpha2"], "country_alpha3": c["alpha3"], "country_numeric": c["numeric"] or None,
         "country_name": c["name"], "region": c["region"] or None, "sub_region": c["sub_region"] or None,
         "is_gaf_excluded": c["is_gaf_excluded"] == "true"}
        for c in reg.countries
    ])
    _insert(con, "dim_missions", [
        {"mission_code": m, "mission_country_code": m[:2], "country_name": countries[m[:2]]["name"],
         "region": countries[m[:2]]["region"], "sub_region": countries[m[:2]]["sub_region"],
         "is_gaf_excluded": countries[m[:2]]["is_gaf_excluded"] == "true",
         "first_received_date": dt.date(first_year, 3, 1), "last_received_date": dt.date(last_year, 6, 30),
         "export_count": 4}
        for m in MISSIONS
    ])

    years = np.arange(first_year, last_year + 1)
    year_p = np.linspace(1.0, 3.0, len(years))
    year_p /= year_p.sum()
    cases, legs, episodes = [], [], []
    persons: list[str] = []
    for i in range(n_cases):
        mission = MISSIONS[rng.choice(len(MISSIONS), p=MISSION_P)]
        home = mission[:2]
        year = int(rng.choice(years, p=year_p))
        reg_date = dt.date(year, 1, 1) + dt.timedelta(days=int(rng.integers(0, 360)))
        ident = reg_date - dt.timedelta(days=int(rng.integers(0, 40))) if rng.random() < 0.93 else None
        if ident is not None and ident.year < first_year:
            ident = reg_date
        age = int(rng.integers(6, 60)) if rng.random() < 0.95 else None
        sex = rng.choice(["female", "male", "other", None], p=[0.62, 0.35, 0.01, 0.02])
        citizenship = home if rng.random() < 0.9 else (rng.choice(["LA", "MM", "NE", "GT"]) if rng.random() < 0.8 else None)
        dest = DESTINATIONS[home]
        exploitation = dest[int(rng.integers(0, len(dest)))] if rng.random() < 0.92 else None
        recruitment = citizenship if rng.random() < 0.8 else None
        n_types = 1 if rng.random() < 0.8 else (2 if rng.random() < 0.9 else 0)
        types = sorted(set(rng.choice(EXPLOITATION, size=n_types, p=EXPLOITATION_P).tolist())) if n_types else None
        if rng.random() < 0.06 and persons:
            person = persons[int(rng.integers(0, len(persons)))]  # a second case of a known person
        elif rng.random() < 0.97:
            person = f"{rng.integers(0, 2**62):016x}"
            persons.append(person)
        else:
            person = None
        mission_excluded = countries[home]["is_gaf_excluded"] == "true"
        victim = rng.choice(["victim", "presumed_victim"], p=[0.8, 0.2])
        eligible = (not mission_excluded) and victim == "victim" and (ident or reg_date) >= dt.date(2000, 8, 1)
        reason = ("eligible" if eligible else "identified_in_excluded_country" if mission_excluded
                  else "not_identified_as_victim" if victim != "victim" else "identified_before_gaf")
        token = f"c{i:06d}{rng.integers(0, 2**40):010x}"
        cases.append({
            "case_token": token, "person_token": person, "mission_code": mission,
            "registration_date": reg_date, "registration_year": year,
            "identification_date": ident, "identification_year": ident.year if ident else None,
            "age_at_identification": age, "age_band": _band(age), "sex": sex, "citizenship": citizenship,
            "victim_status": str(victim), "exploitation_types": types,
            "labour_sectors": ["agriculture"] if types and "forced_labour" in types else None,
            "means_of_control": ["threats"] if rng.random() < 0.5 else None,
            "recruiter_relationship": "acquaintance" if rng.random() < 0.6 else None,
            "recruitment_country": recruitment, "exploitation_country": exploitation,
            "exploitation_days": int(rng.integers(10, 900)) if rng.random() < 0.7 else None,
            "is_gaf_eligible": bool(eligible), "gaf_eligibility_reason": reason,
            "has_research_consent": bool(rng.random() < 0.88) if rng.random() < 0.97 else None,
            "key_version": "v1", "source_file": f"{mission}/{year}-12-31/export.csv", "era": "ctm_legacy",
            "source_row": i + 1, "received_date": dt.date(min(year + 1, last_year), 1, 15),
        })
        order = 1
        if recruitment:
            legs.append({"case_token": token, "leg_order": order, "route_stage": "recruitment",
                         "country_code": recruitment, "registration_year": year})
            order += 1
        if exploitation and exploitation != home and rng.random() < 0.35:
            for t in rng.choice(TRANSITS, size=int(rng.integers(1, 3)), replace=False).tolist():
                legs.append({"case_token": token, "leg_order": order, "route_stage": "transit",
                             "country_code": t, "registration_year": year})
                order += 1
        if exploitation:
            legs.append({"case_token": token, "leg_order": order, "route_stage": "exploitation",
                         "country_code": exploitation, "registration_year": year})
        if rng.random() < 0.75:
            kinds = rng.choice(ASSISTANCE, size=int(rng.integers(1, 4)), replace=False).tolist()
            base = ident or reg_date
            for n, kind in enumerate(kinds, start=1):
                start = base + dt.timedelta(days=int(rng.integers(0, 120))) if rng.random() < 0.95 else None
                gaf = eligible and rng.random() < 0.7
                episodes.append({
                    "case_token": token, "episode_number": n, "assistance_type": kind,
                    "assistance_start_date": start,
                    "assistance_end_date": start + dt.timedelta(days=30) if start else None,
                    "assistance_days": 31 if start else None,
                    "days_from_identification": (start - ident).days if start and ident else None,
                    "funding_source": "gaf" if gaf else "mission_project", "is_gaf_funded": bool(gaf),
                    "reintegration_outcome": rng.choice(OUTCOMES) if kind == "reintegration" else None,
                    "return_country": citizenship if kind == "voluntary_return" else None,
                    "registration_year": year, "key_version": "v1", "mission_code": mission,
                    "source_file": f"{mission}/{year}-12-31/export.csv", "source_row": 10_000 + len(episodes),
                    "era": "ctm_legacy", "received_date": dt.date(min(year + 1, last_year), 1, 15),
                })
    _insert(con, "fct_cases", cases)
    _insert(con, "fct_route_legs", legs)
    _insert(con, "fct_assistance", episodes)

    ctdc = []
    for j in range(max(n_cases // 2, 50)):
        home = rng.choice(["TH", "VN", "PH", "MD", "UA", "CO", "0"])
        ctdc.append({
            "registration_year": int(rng.integers(2002, 2019)),
            "ctdc_gender": rng.choice(["female", "male"], p=[0.7, 0.3]),
            "age_band": _band(int(rng.integers(6, 60))) if rng.random() < 0.7 else None,
            "citizenship": None if home == "0" else str(home), "is_citizenship_unknown": bool(home == "0"),
            "is_forced_labour": bool(rng.random() < 0.4), "is_sexual_exploitation": bool(rng.random() < 0.5),
            "exploitation_country": rng.choice(["RU", "TH", "US", "MY", None]),
            "source_file": "ctdc/ctdc_synthetic.csv", "source_row": j + 1, "source_sha256": "0" * 64,
        })
    _insert(con, "ref_ctdc_cases", ctdc)
    return {t: con.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in STAR_TABLES}


def build_warehouse(path, n_cases: int = 1500, seed: int = 6, k: int = 11) -> None:
    """A build database file with the synthetic star schema, the marts and the pub_* tables
    (for the audiences of donors.example.yaml)."""
    from pathlib import Path

    from ct_pipeline.analysis import build_marts
    from ct_pipeline.disclosure import build_pub_tables
    from ct_pipeline.reports import audiences, load_donors

    donors = load_donors(Path(__file__).resolve().parents[3] / "donors.example.yaml")

    con = duckdb.connect(str(path))
    try:
        make_star(con, n_cases=n_cases, seed=seed)
        build_marts(con)
        build_pub_tables(con, k, audiences=audiences(donors))
    finally:
        con.close()


_BUILT: dict[tuple, str] = {}


def built_warehouse_file(n_cases: int = 1500, seed: int = 6, k: int = 11) -> str:
    """One built database per test process and parameters (tests copy it before changing it)."""
    import atexit
    import shutil
    import tempfile
    from pathlib import Path

    key = (n_cases, seed, k)
    if key not in _BUILT:
        folder = tempfile.mkdtemp(prefix="ct_star_")
        atexit.register(shutil.rmtree, folder, True)
        path = Path(folder) / "build.duckdb"
        build_warehouse(path, n_cases=n_cases, seed=seed, k=k)
        _BUILT[key] = str(path)
    return _BUILT[key]
