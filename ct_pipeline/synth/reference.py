"""Reference data of the synthetic generator: missions, trafficking corridors, languages and the
terms each export era writes for each code.

Everything here is fixed data (no randomness); the code lists and countries are read from the
project's registry files (ct_pipeline/metadata/codelists), so a written value always maps back to a
code through the code list's label or variants.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import yaml

from ct_pipeline.formats.eras import column_map, flag_map

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

CODELIST_DIR = Path(__file__).resolve().parents[1] / "metadata" / "codelists"

ERAS = ("ctm_legacy", "mimosa_xlsx", "case_api_jsonl")
LEGACY, MIMOSA, API = 0, 1, 2


# --------------------------------------------------------------------------------------------
# code lists and countries
# --------------------------------------------------------------------------------------------
@cache
def codelists() -> dict[str, dict]:
    """name -> {codes: [code...], labels: {code: label}, variants: {code: [..]}}."""
    out: dict[str, dict] = {}
    for path in sorted(CODELIST_DIR.glob("*.yaml")):
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        if not isinstance(doc, dict) or "codes" not in doc:
            continue
        codes = [str(c["code"]) for c in doc["codes"]]
        out[doc["name"]] = {
            "codes": codes,
            "labels": {str(c["code"]): str(c.get("label", c["code"])) for c in doc["codes"]},
            "variants": {str(c["code"]): [str(v) for v in c.get("variants", []) or []] for c in doc["codes"]},
        }
    return out


def codes(name: str) -> list[str]:
    return codelists()[name]["codes"]


def code_index(name: str, code: str) -> int:
    return codes(name).index(code)


def resolves(name: str, term: str, code: str) -> bool:
    """Whether `term` maps to `code` in the code list (code, label or a variant; case-insensitive)."""
    cl = codelists()[name]
    t = term.strip().casefold()
    cands = {code.casefold(), cl["labels"][code].casefold(), *(v.casefold() for v in cl["variants"][code])}
    return t in cands


@dataclass(frozen=True)
class Countries:
    alpha2: np.ndarray  # object arrays, one entry per country (file order)
    alpha3: np.ndarray
    name: np.ndarray
    gaf_excluded: np.ndarray  # bool
    index: dict[str, int]  # alpha2 -> position
    variants: dict[str, list[str]]  # alpha2 -> variants from country_variants.csv


@cache
def countries() -> Countries:
    with (CODELIST_DIR / "countries.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    a2 = np.array([r["alpha2"] for r in rows], dtype=object)
    variants: dict[str, list[str]] = {}
    with (CODELIST_DIR / "country_variants.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            variants.setdefault(r["alpha2"], []).append(r["variant"])
    return Countries(
        alpha2=a2,
        alpha3=np.array([r["alpha3"] for r in rows], dtype=object),
        name=np.array([r["name"] for r in rows], dtype=object),
        gaf_excluded=np.array([r["is_gaf_excluded"].strip().lower() == "true" for r in rows]),
        index={r["alpha2"]: i for i, r in enumerate(rows)},
        variants=variants,
    )


def cidx(alpha2: str) -> int:
    return countries().index[alpha2]


# --------------------------------------------------------------------------------------------
# missions
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mission:
    code: str
    alpha2: str
    city: str
    lang: str  # en | fr | es | ru  (ru: English terms, da/net, dotted dates)
    start: int  # first year with cases
    w_early: float  # relative caseload in 1999
    w_late: float  # relative caseload in 2026


MISSIONS: tuple[Mission, ...] = (
    # Europe (not GAF-eligible)
    Mission("MD-CHISINAU", "MD", "Chișinău", "ru", 1999, 10, 2),
    Mission("UA-KYIV", "UA", "Kyiv", "ru", 1999, 8, 5),
    Mission("RO-BUCHAREST", "RO", "București", "en", 1999, 6, 1.5),
    Mission("AL-TIRANA", "AL", "Tirana", "en", 1999, 6, 1.5),
    Mission("BY-MINSK", "BY", "Minsk", "ru", 2000, 4, 1.5),
    Mission("RU-MOSCOW", "RU", "Moscow", "ru", 2002, 2, 2),
    Mission("IT-ROME", "IT", "Roma", "en", 2000, 3, 3),
    Mission("DE-BERLIN", "DE", "Berlin", "en", 2002, 2, 2),
    Mission("PL-WARSAW", "PL", "Warszawa", "en", 2003, 1.5, 2),
    Mission("ES-MADRID", "ES", "Madrid", "es", 2004, 1, 2),
    # Western and Central Asia
    Mission("TR-ANKARA", "TR", "Ankara", "en", 2004, 2, 3),
    Mission("KZ-ASTANA", "KZ", "Astana", "ru", 2004, 1.5, 3),
    Mission("KG-BISHKEK", "KG", "Bishkek", "ru", 2004, 1.5, 3),
    Mission("UZ-TASHKENT", "UZ", "Tashkent", "ru", 2006, 1, 4),
    Mission("AE-ABUDHABI", "AE", "Abu Dhabi", "en", 2008, 0.5, 3),
    # South-East, South and East Asia, Oceania
    Mission("TH-BANGKOK", "TH", "Bangkok", "en", 1999, 3, 7),
    Mission("KH-PHNOMPENH", "KH", "Phnom Penh", "en", 1999, 3, 4),
    Mission("MM-YANGON", "MM", "Yangon", "en", 2006, 1, 4),
    Mission("LA-VIENTIANE", "LA", "Vientiane", "en", 2002, 1.5, 3),
    Mission("VN-HANOI", "VN", "Hà Nội", "en", 2002, 1.5, 4),
    Mission("ID-JAKARTA", "ID", "Jakarta", "en", 2004, 2, 7),
    Mission("MY-KUALALUMPUR", "MY", "Kuala Lumpur", "en", 2008, 1, 4),
    Mission("PH-MANILA", "PH", "Manila", "en", 2003, 1.5, 5),
    Mission("NP-KATHMANDU", "NP", "Kathmandu", "en", 2003, 1.5, 4),
    Mission("BD-DHAKA", "BD", "Dhaka", "en", 2004, 1.5, 4),
    Mission("IN-NEWDELHI", "IN", "New Delhi", "en", 2005, 1, 4),
    Mission("JP-TOKYO", "JP", "Tokyo", "en", 2005, 1, 1),
    Mission("AU-CANBERRA", "AU", "Canberra", "en", 2006, 0.5, 1),
    # Africa
    Mission("NG-LAGOS", "NG", "Lagos", "en", 2001, 2, 6),
    Mission("NE-NIAMEY", "NE", "Niamey", "fr", 2008, 0.5, 4),
    Mission("LY-TRIPOLI", "LY", "Tripoli", "en", 2008, 0.5, 3),
    Mission("ET-ADDISABABA", "ET", "Addis Ababa", "en", 2004, 1, 5),
    Mission("DJ-DJIBOUTI", "DJ", "Djibouti", "fr", 2008, 0.5, 3),
    Mission("SN-DAKAR", "SN", "Dakar", "fr", 2002, 1, 2),
    Mission("GH-ACCRA", "GH", "Accra", "en", 2003, 1, 3),
    Mission("KE-NAIROBI", "KE", "Nairobi", "en", 2005, 1, 3),
    Mission("ZA-PRETORIA", "ZA", "Pretoria", "en", 2004, 1, 2),
    # Americas
    Mission("US-WASHINGTON", "US", "Washington", "en", 2004, 1, 2),
    Mission("MX-MEXICO", "MX", "Ciudad de México", "es", 2004, 1, 4),
    Mission("GT-GUATEMALA", "GT", "Ciudad de Guatemala", "es", 2003, 1.5, 3),
    Mission("HN-TEGUCIGALPA", "HN", "Tegucigalpa", "es", 2005, 1, 3),
    Mission("HT-PORTAUPRINCE", "HT", "Port-au-Prince", "fr", 2004, 1, 3),
    Mission("DO-SANTODOMINGO", "DO", "Santo Domingo", "es", 2003, 1.5, 2),
    Mission("CO-BOGOTA", "CO", "Bogotá", "es", 2000, 3, 3),
)

# Per-mission writing habits of the legacy module (fixed, by mission position).
MULTI_SEPARATORS = (", ", "/", ",", " / ", ", ", "+")
YES_NO = {"en": ("yes", "no"), "fr": ("oui", "non"), "es": ("sí", "no"), "ru": ("da", "net")}
NOT_RECORDED_WORD = {"en": "unknown", "fr": "inconnu", "es": "desconocido", "ru": "n/a"}
LEGACY_SEX = {
    "en": ("F", "M", "Other"),
    "ru": ("F", "M", "Other"),
    "fr": ("F", "H", "Autre"),
    "es": ("Mujer", "Hombre", "Otro"),
}


def mission_style(i: int) -> dict:
    m = MISSIONS[i]
    case = ("lower", "title", "upper")[i % 3]
    yes, no = YES_NO[m.lang]
    if case == "title":
        yes, no = yes.title(), no.title()
    elif case == "upper":
        yes, no = yes.upper(), no.upper()
    return {
        "yes": yes,
        "no": no,
        "multi_sep": MULTI_SEPARATORS[i % len(MULTI_SEPARATORS)],
        "date_fmt": "%d.%m.%Y" if m.lang == "ru" else "%d/%m/%Y",
        "family_first": i % 2 == 0,  # legacy NOM_COMPLET: "FAMILY Given" else "Given Family"
        "phone_style": i % 3,
        "city3": m.code.split("-", 1)[1][:3],
    }


CALLING_CODES = {
    "MD": "373", "UA": "380", "RO": "40", "AL": "355", "BY": "375", "RU": "7", "IT": "39", "DE": "49",
    "PL": "48", "ES": "34", "TR": "90", "KZ": "7", "KG": "996", "UZ": "998", "AE": "971", "TH": "66",
    "KH": "855", "MM": "95", "LA": "856", "VN": "84", "ID": "62", "MY": "60", "PH": "63", "NP": "977",
    "BD": "880", "IN": "91", "JP": "81", "AU": "61", "NG": "234", "NE": "227", "LY": "218", "ET": "251",
    "DJ": "253", "SN": "221", "GH": "233", "KE": "254", "ZA": "27", "US": "1", "MX": "52", "GT": "502",
    "HN": "504", "HT": "509", "DO": "1", "CO": "57",
}

# --------------------------------------------------------------------------------------------
# corridors
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Corridor:
    origin: str
    transits: tuple[str, ...]
    dest: str
    profile: str  # sex | labour | domestic | fishing | marriage | child | mixed | criminal
    w_early: float
    w_late: float
    from_year: int = 1999
    sectors: tuple[tuple[str, float], ...] | None = None  # override of the profile's sectors


_C = Corridor
CORRIDORS: tuple[Corridor, ...] = (
    # Eastern Europe and the CIS
    _C("MD", (), "TR", "sex", 5, 1), _C("MD", ("UA",), "TR", "sex", 2, 0.5),
    _C("MD", ("UA",), "RU", "labour", 3, 2), _C("MD", (), "RU", "labour", 2, 1.5),
    _C("MD", ("RO",), "IT", "mixed", 2, 1), _C("MD", (), "AE", "sex", 1, 0.5), _C("MD", (), "MD", "sex", 0.5, 1),
    _C("UA", (), "PL", "labour", 2, 3), _C("UA", (), "RU", "labour", 3, 1), _C("UA", (), "TR", "sex", 2, 0.5),
    _C("UA", ("PL",), "DE", "sex", 1, 1), _C("UA", ("HU", "AT"), "IT", "mixed", 1, 0.5),
    _C("UA", (), "UA", "mixed", 0.5, 2),
    _C("RO", (), "IT", "sex", 2, 1), _C("RO", (), "ES", "sex", 2, 1), _C("RO", ("HU", "AT"), "DE", "sex", 1, 1),
    _C("RO", (), "GB", "labour", 0.3, 1), _C("RO", (), "RO", "sex", 0.5, 1),
    _C("AL", (), "IT", "sex", 2, 0.5), _C("AL", (), "GR", "sex", 1.5, 0.5),
    _C("AL", ("IT", "FR"), "GB", "criminal", 0.2, 1), _C("AL", (), "AL", "sex", 0.5, 0.5),
    _C("BY", (), "RU", "labour", 2, 1), _C("BY", (), "PL", "labour", 1, 1), _C("BY", ("PL",), "DE", "sex", 0.5, 0.3),
    _C("BY", (), "TR", "sex", 0.5, 0.2), _C("RU", (), "RU", "mixed", 0.5, 1),
    _C("UZ", (), "KZ", "labour", 1, 3, sectors=(("agriculture", 5), ("construction", 4), ("manufacturing", 1))),
    _C("UZ", ("KZ",), "RU", "labour", 1, 3), _C("KG", ("KZ",), "RU", "labour", 1, 3),
    _C("KG", (), "KZ", "labour", 1, 1, sectors=(("agriculture", 6), ("construction", 3), ("other", 1))),
    _C("TJ", ("UZ", "KZ"), "RU", "labour", 0.5, 2), _C("KZ", (), "KZ", "mixed", 0.5, 1),
    _C("UZ", (), "TR", "sex", 0.5, 1), _C("UZ", (), "AE", "sex", 0.3, 1), _C("GE", (), "TR", "mixed", 0.3, 0.5),
    _C("SY", (), "TR", "child", 0, 2, from_year=2012),
    # Asia and the Pacific
    _C("KH", (), "TH", "fishing", 2, 3), _C("KH", (), "TH", "labour", 1, 2),
    _C("MM", (), "TH", "fishing", 1, 3), _C("MM", (), "TH", "labour", 1, 3),
    _C("LA", (), "TH", "sex", 2, 2), _C("LA", (), "TH", "domestic", 1, 1), _C("TH", (), "TH", "mixed", 1, 2),
    _C("KH", (), "MY", "domestic", 0.3, 1), _C("KH", (), "KH", "sex", 1, 1),
    _C("KH", (), "CN", "marriage", 0, 1, from_year=2010), _C("VN", (), "CN", "marriage", 1, 3),
    _C("VN", (), "MY", "sex", 0.3, 0.5), _C("VN", ("RU", "FR"), "GB", "criminal", 0.1, 1),
    _C("VN", (), "VN", "mixed", 0.3, 1), _C("MM", (), "CN", "marriage", 0.3, 2),
    _C("MM", ("TH",), "MY", "labour", 0.5, 1), _C("MM", (), "MM", "child", 0.2, 1),
    _C("ID", (), "MY", "domestic", 2, 4), _C("ID", (), "MY", "labour", 1, 2,
                                             sectors=(("agriculture", 6), ("construction", 2), ("manufacturing", 2))),
    _C("ID", (), "SA", "domestic", 1, 1), _C("ID", (), "ID", "sex", 1, 2),
    _C("PH", (), "AE", "domestic", 0.5, 3), _C("PH", (), "SA", "domestic", 0.5, 2), _C("PH", (), "MY", "labour", 0.3, 1),
    _C("PH", (), "JP", "sex", 1, 0.5), _C("PH", (), "PH", "sex", 0.5, 2), _C("PH", (), "AU", "domestic", 0.1, 0.3),
    _C("NP", (), "IN", "sex", 2, 2), _C("NP", (), "MY", "labour", 0.5, 2), _C("NP", (), "AE", "labour", 0.3, 2),
    _C("BD", (), "IN", "sex", 1, 1.5), _C("BD", (), "MY", "labour", 0.5, 2), _C("BD", (), "BD", "mixed", 0.3, 1),
    _C("IN", (), "IN", "labour", 1, 3, sectors=(("manufacturing", 4), ("agriculture", 4), ("construction", 2))),
    _C("IN", (), "AE", "labour", 0.3, 1), _C("TH", (), "JP", "sex", 1, 0.3), _C("CO", (), "JP", "sex", 0.5, 0.1),
    _C("TH", ("MY",), "AU", "sex", 0.3, 0.5), _C("IN", (), "AU", "labour", 0.1, 0.5),
    # Middle East and Africa
    _C("ET", ("DJ", "YE"), "SA", "domestic", 1, 4), _C("ET", (), "LB", "domestic", 0.5, 1),
    _C("ET", (), "AE", "domestic", 0.3, 1.5), _C("ET", (), "ET", "child", 0.3, 1),
    _C("ER", ("SD",), "LY", "labour", 0.2, 2), _C("KE", (), "SA", "domestic", 0.3, 2), _C("KE", (), "KE", "child", 0.3, 1),
    _C("UG", (), "AE", "domestic", 0.2, 1),
    _C("NG", ("NE", "LY"), "IT", "sex", 2, 4), _C("NG", ("NE", "DZ", "MA"), "ES", "sex", 0.5, 1),
    _C("NG", (), "DE", "sex", 0.3, 0.5), _C("NG", ("NE",), "LY", "labour", 0.3, 2),
    _C("NG", (), "NG", "child", 1, 2), _C("NG", (), "NG", "domestic", 0.5, 1), _C("BJ", (), "NG", "child", 0.5, 1),
    _C("NE", (), "NE", "child", 0.2, 1), _C("NE", (), "LY", "labour", 0.2, 1.5), _C("NE", (), "DZ", "child", 0.1, 0.5),
    _C("GH", (), "GH", "child", 1, 2, sectors=(("aquafarming", 6), ("peddling", 2), ("agriculture", 1), ("mining_or_drilling", 1))),
    _C("GH", ("NE",), "LY", "labour", 0.2, 1), _C("SN", (), "SN", "child", 1, 1.5, sectors=(("begging", 8), ("peddling", 2))),
    _C("GM", (), "SN", "child", 0.3, 0.5), _C("ML", (), "SN", "child", 0.3, 0.5), _C("SN", ("MA",), "ES", "labour", 0.2, 0.3),
    _C("ZW", (), "ZA", "mixed", 0.5, 1), _C("MZ", (), "ZA", "sex", 0.5, 1), _C("NA", (), "ZA", "mixed", 0.1, 0.3),
    _C("ZA", (), "ZA", "sex", 0.5, 1),
    # Americas
    _C("GT", (), "MX", "sex", 1, 2), _C("GT", ("MX",), "US", "labour", 1, 2), _C("HN", ("GT",), "MX", "sex", 0.5, 1),
    _C("HN", ("GT", "MX"), "US", "labour", 1, 2), _C("SV", ("GT", "MX"), "US", "labour", 0.5, 1),
    _C("MX", (), "US", "labour", 1, 1), _C("MX", (), "MX", "sex", 1, 2), _C("US", (), "US", "sex", 0.5, 1),
    _C("HT", (), "DO", "labour", 2, 2, sectors=(("agriculture", 5), ("construction", 4), ("other", 1))),
    _C("HT", (), "DO", "child", 0.5, 1), _C("DO", (), "DO", "sex", 1, 1), _C("DO", (), "ES", "sex", 0.5, 0.3),
    _C("CO", (), "ES", "sex", 1, 0.5), _C("CO", (), "CO", "sex", 1, 1.5), _C("CO", (), "MX", "sex", 0.3, 0.5),
    _C("VE", (), "CO", "sex", 0, 3, from_year=2015), _C("GT", (), "GT", "child", 0.3, 1), _C("HN", (), "HN", "sex", 0.2, 0.5),
    _C("HT", (), "HT", "child", 0.5, 1, sectors=(("domestic_work", 8), ("peddling", 2))),
)

# Mission's share of a corridor's caseload by its role on the route.
ROLE_DEST, ROLE_ORIGIN, ROLE_TRANSIT = 1.0, 0.6, 0.25

# Profile: share of women and girls, share of children, exploitation types by sex (F, M).
PROFILES: dict[str, dict] = {
    "sex": {"female": 0.88, "child": 0.12,
            "F": {"sexual_exploitation": 85, "forced_labour": 10, "forced_marriage": 2, "other": 3},
            "M": {"forced_labour": 65, "sexual_exploitation": 25, "forced_criminality": 5, "other": 5}},
    "labour": {"female": 0.25, "child": 0.08,
               "F": {"forced_labour": 60, "sexual_exploitation": 32, "forced_marriage": 3, "other": 5},
               "M": {"forced_labour": 92, "forced_criminality": 4, "slavery_and_practices": 2, "other": 2}},
    "domestic": {"female": 0.92, "child": 0.10,
                 "F": {"forced_labour": 85, "sexual_exploitation": 10, "slavery_and_practices": 3, "other": 2},
                 "M": {"forced_labour": 95, "other": 5}},
    "fishing": {"female": 0.10, "child": 0.12,
                "F": {"forced_labour": 70, "sexual_exploitation": 25, "other": 5},
                "M": {"forced_labour": 95, "slavery_and_practices": 4, "other": 1}},
    "marriage": {"female": 0.96, "child": 0.20,
                 "F": {"forced_marriage": 75, "sexual_exploitation": 15, "forced_labour": 10},
                 "M": {"forced_labour": 90, "other": 10}},
    "child": {"female": 0.45, "child": 0.75,
              "F": {"forced_begging": 25, "forced_labour": 40, "sexual_exploitation": 25, "forced_marriage": 5, "other": 5},
              "M": {"forced_begging": 40, "forced_labour": 45, "forced_criminality": 8, "forced_military": 2, "other": 5}},
    "mixed": {"female": 0.60, "child": 0.12,
              "F": {"sexual_exploitation": 55, "forced_labour": 35, "forced_marriage": 3, "other": 7},
              "M": {"forced_labour": 85, "sexual_exploitation": 5, "forced_criminality": 5, "other": 5}},
    "criminal": {"female": 0.30, "child": 0.20,
                 "F": {"sexual_exploitation": 50, "forced_criminality": 35, "forced_labour": 15},
                 "M": {"forced_criminality": 60, "forced_labour": 40}},
}

SECTORS_BY_PROFILE: dict[str, dict[str, float]] = {
    "labour": {"construction": 35, "agriculture": 25, "manufacturing": 15, "hospitality": 10, "transportation": 5,
               "mining_or_drilling": 5, "other": 5},
    "domestic": {"domestic_work": 90, "hospitality": 10},
    "fishing": {"aquafarming": 85, "manufacturing": 10, "agriculture": 5},
    "child": {"begging": 35, "peddling": 25, "agriculture": 20, "domestic_work": 15, "aquafarming": 5},
    "sex": {"hospitality": 50, "domestic_work": 30, "agriculture": 10, "other": 10},
    "mixed": {"agriculture": 25, "construction": 25, "domestic_work": 20, "hospitality": 15, "manufacturing": 10, "other": 5},
    "marriage": {"domestic_work": 70, "agriculture": 30},
    "criminal": {"agriculture": 40, "other": 30, "construction": 30},
}

MEANS_SEXUAL = {"physical_abuse": 40, "sexual_abuse": 35, "threats": 45, "psychological_abuse": 40, "takes_earnings": 35,
                "restricts_movement": 40, "psychoactive_substances": 15, "debt_bondage": 30, "false_promises": 50,
                "withholds_documents": 30, "threat_of_law_enforcement": 15, "restricts_financial_access": 10,
                "restricts_medical_care": 8, "excessive_working_hours": 10, "uses_children": 4,
                "withholds_necessities": 10, "other": 3}
MEANS_LABOUR = {"physical_abuse": 20, "sexual_abuse": 5, "threats": 40, "psychological_abuse": 30, "takes_earnings": 55,
                "restricts_movement": 35, "psychoactive_substances": 3, "debt_bondage": 45, "false_promises": 55,
                "withholds_documents": 50, "threat_of_law_enforcement": 25, "restricts_financial_access": 20,
                "restricts_medical_care": 12, "excessive_working_hours": 50, "uses_children": 2,
                "withholds_necessities": 20, "other": 3}

RECRUITER_BY_PROFILE: dict[str, dict[str, float]] = {
    "sex": {"intimate_partner": 20, "friend": 20, "acquaintance": 25, "employer_or_agency": 15, "stranger": 10,
            "family_member": 7, "other": 3},
    "labour": {"employer_or_agency": 45, "acquaintance": 20, "friend": 15, "stranger": 10, "family_member": 5, "other": 5},
    "domestic": {"employer_or_agency": 60, "acquaintance": 15, "friend": 10, "family_member": 10, "other": 5},
    "fishing": {"employer_or_agency": 45, "acquaintance": 20, "stranger": 20, "friend": 10, "other": 5},
    "marriage": {"family_member": 40, "acquaintance": 30, "intimate_partner": 10, "stranger": 10, "other": 10},
    "child": {"family_member": 45, "acquaintance": 25, "stranger": 15, "employer_or_agency": 10, "other": 5},
    "mixed": {"acquaintance": 30, "employer_or_agency": 25, "friend": 20, "family_member": 10, "stranger": 10, "other": 5},
    "criminal": {"acquaintance": 35, "stranger": 25, "friend": 20, "employer_or_agency": 15, "other": 5},
}

AGENCY_DEST = {"police": 30, "ngo": 20, "immigration_or_border": 12, "labour_inspection": 8, "self": 8,
               "health_services": 4, "iom": 8, "embassy_or_consulate": 5, "family_or_friend": 2, "other": 3}
AGENCY_ORIGIN = {"iom": 25, "embassy_or_consulate": 15, "ngo": 25, "police": 10, "family_or_friend": 10, "self": 10,
                 "other": 5}
AGENCY_DOMESTIC = {"police": 30, "ngo": 30, "self": 10, "family_or_friend": 15, "health_services": 5,
                   "labour_inspection": 5, "other": 5}

# Assistance: probability of each type for an eligible person assisted abroad (dest) or at home (origin).
ASSIST_DEST = {"shelter": 0.6, "medical": 0.5, "psychosocial": 0.5, "legal": 0.3, "voluntary_return": 0.7,
               "financial": 0.2, "family_tracing": 0.15}
ASSIST_ORIGIN = {"shelter": 0.35, "medical": 0.5, "psychosocial": 0.5, "legal": 0.2, "reintegration": 0.7,
                 "education_or_training": 0.35, "financial": 0.3, "family_tracing": 0.2}
# (start offset after identification: lo, hi days), (duration lo, hi days)
ASSIST_TIMING = {
    "shelter": ((0, 3), (7, 180)), "medical": ((0, 14), (1, 60)), "psychosocial": ((3, 60), (14, 365)),
    "legal": ((7, 180), (30, 720)), "voluntary_return": ((14, 120), (1, 3)), "reintegration": ((0, 60), (90, 720)),
    "education_or_training": ((30, 240), (60, 365)), "financial": ((7, 180), (0, 0)),
    "family_tracing": ((3, 60), (7, 90)),
}

# Year -> cases registered in the calibrated default (1999-2007: 12,600; ~15,000 persons by 2009).
YEAR_WEIGHTS = {
    1999: 200, 2000: 500, 2001: 900, 2002: 1200, 2003: 1500, 2004: 1800, 2005: 2000, 2006: 2200, 2007: 2300,
    2008: 1380, 2009: 1430, 2010: 2000, 2011: 2400, 2012: 2800, 2013: 3200, 2014: 3600, 2015: 4000,
    2016: 4400, 2017: 4800, 2018: 5200, 2019: 5600, 2020: 4200, 2021: 5400, 2022: 6200, 2023: 6600,
    2024: 7000, 2025: 7300, 2026: 7500,
}


def year_weight(y: int) -> float:
    if y in YEAR_WEIGHTS:
        return float(YEAR_WEIGHTS[y])
    return float(YEAR_WEIGHTS[2026] + 300 * (y - 2026))


# --------------------------------------------------------------------------------------------
# country names by language
# --------------------------------------------------------------------------------------------
_FR = {
    "MD": "Moldavie", "RO": "Roumanie", "AL": "Albanie", "BY": "Biélorussie", "RU": "Russie", "TR": "Turquie",
    "IT": "Italie", "DE": "Allemagne", "PL": "Pologne", "ES": "Espagne", "GR": "Grèce", "GB": "Royaume-Uni",
    "AT": "Autriche", "HU": "Hongrie", "KG": "Kirghizistan", "UZ": "Ouzbékistan", "TJ": "Tadjikistan",
    "TH": "Thaïlande", "KH": "Cambodge", "MM": "Birmanie", "LA": "Laos", "VN": "Viêt Nam", "CN": "Chine",
    "MY": "Malaisie", "ID": "Indonésie", "NP": "Népal", "IN": "Inde", "JP": "Japon", "AU": "Australie",
    "AE": "Émirats arabes unis", "SA": "Arabie saoudite", "LB": "Liban", "YE": "Yémen", "NG": "Nigéria",
    "LY": "Libye", "ET": "Éthiopie", "SN": "Sénégal", "ZA": "Afrique du Sud", "NA": "Namibie", "US": "États-Unis",
    "MX": "Mexique", "HT": "Haïti", "DO": "République dominicaine", "CO": "Colombie", "ER": "Érythrée",
    "SD": "Soudan", "SY": "Syrie", "EG": "Égypte", "GE": "Géorgie", "BJ": "Bénin", "GM": "Gambie",
    "SO": "Somalie", "DZ": "Algérie", "MA": "Maroc", "UG": "Ouganda", "KE": "Kenya",
}
_ES = {
    "MD": "Moldavia", "UA": "Ucrania", "RO": "Rumanía", "BY": "Bielorrusia", "RU": "Rusia", "TR": "Turquía",
    "IT": "Italia", "DE": "Alemania", "PL": "Polonia", "ES": "España", "GR": "Grecia", "GB": "Reino Unido",
    "FR": "Francia", "HU": "Hungría", "KZ": "Kazajistán", "KG": "Kirguistán", "UZ": "Uzbekistán",
    "TH": "Tailandia", "KH": "Camboya", "MM": "Birmania", "VN": "Vietnam", "JP": "Japón", "MY": "Malasia",
    "NG": "Nigeria", "NE": "Níger", "LY": "Libia", "ET": "Etiopía", "ZA": "Sudáfrica", "US": "Estados Unidos",
    "MX": "México", "HT": "Haití", "DO": "República Dominicana", "SV": "El Salvador", "VE": "Venezuela",
    "ER": "Eritrea", "SD": "Sudán", "SY": "Siria", "EG": "Egipto", "MA": "Marruecos", "DZ": "Argelia",
    "BO": "Bolivia", "AE": "Emiratos Árabes Unidos", "SA": "Arabia Saudita", "PH": "Filipinas", "CN": "China",
    "IN": "India", "KE": "Kenia", "GH": "Ghana", "SN": "Senegal",
}
# Short English names for narratives.
_EN_SHORT = {
    "MD": "Moldova", "RU": "Russia", "TR": "Turkey", "GB": "the United Kingdom", "LA": "Laos", "VN": "Viet Nam",
    "US": "the United States", "AE": "the UAE", "SY": "Syria", "VE": "Venezuela", "BO": "Bolivia",
    "DO": "the Dominican Republic", "KG": "Kyrgyzstan", "CI": "Côte d'Ivoire",
}


@cache
def language_country_names() -> dict[str, dict[str, str]]:
    """lang -> alpha2 -> the name a mission writing in that language uses (only names the variants
    table resolves; otherwise the canonical English name)."""
    c = countries()
    out: dict[str, dict[str, str]] = {"fr": {}, "es": {}}
    for lang, table in (("fr", _FR), ("es", _ES)):
        for a2, name in table.items():
            if a2 not in c.index:
                continue
            known = {v.casefold() for v in c.variants.get(a2, [])} | {c.name[c.index[a2]].casefold()}
            if name.casefold() in known:
                out[lang][a2] = name
    return out


def narrative_country_name(a2: str, lang: str) -> str:
    if lang in ("fr", "es"):
        t = (_FR if lang == "fr" else _ES).get(a2)
        if t:
            return t
    if a2 in _EN_SHORT:
        return _EN_SHORT[a2]
    c = countries()
    return str(c.name[c.index[a2]]) if a2 in c.index else a2


# --------------------------------------------------------------------------------------------
# terms written for codes
# --------------------------------------------------------------------------------------------
# Legacy module, French and Spanish missions: list -> code -> (fr, es).
_LEGACY_TERMS: dict[str, dict[str, tuple[str, str]]] = {
    "victim_status": {"victim": ("victime", "víctima"), "presumed_victim": ("victime présumée", "presunta víctima"),
                      "not_victim": ("non victime", "no víctima"), "undetermined": ("indéterminé", "indeterminado")},
    "identifying_agency": {
        "self": ("auto-référencement", "autorreferencia"), "family_or_friend": ("famille", "familia"),
        "police": ("police", "policía"), "immigration_or_border": ("police aux frontières", "migración"),
        "ngo": ("ONG", "ONG"), "iom": ("OIM", "OIM"), "embassy_or_consulate": ("ambassade", "embajada"),
        "labour_inspection": ("inspection du travail", "inspección de trabajo"),
        "health_services": ("services de santé", "servicios de salud"), "other": ("autre", "otro")},
    "exploitation_type": {
        "sexual_exploitation": ("exploitation sexuelle", "explotación sexual"),
        "forced_labour": ("travail forcé", "trabajo forzoso"), "forced_marriage": ("mariage forcé", "matrimonio forzado"),
        "forced_military": ("enfants soldats", "niños soldados"), "slavery_and_practices": ("esclavage", "esclavitud"),
        "forced_criminality": ("criminalité forcée", "criminalidad forzada"),
        "organ_removal": ("prélèvement d'organes", "extracción de órganos"),
        "forced_begging": ("mendicité forcée", "mendicidad forzada"), "other": ("autre", "otro")},
    "labour_sector": {
        "agriculture": ("travail agricole", "agricultura"), "aquafarming": ("pêche", "pesca"),
        "begging": ("mendicité", "mendicidad"), "construction": ("chantier", "construcción"),
        "domestic_work": ("travail domestique", "trabajo doméstico"), "hospitality": ("hôtellerie", "hostelería"),
        "manufacturing": ("usine", "fábrica"), "mining_or_drilling": ("exploitation minière", "minería"),
        "peddling": ("vente ambulante", "venta ambulante"), "transportation": ("transports", "transporte"),
        "other": ("autre", "otro")},
    "means_of_control": {
        "debt_bondage": ("servitude pour dettes", "servidumbre por deudas"),
        "takes_earnings": ("salaire retenu", "retención de salario"),
        "restricts_financial_access": ("contrôle financier", "control financiero"), "threats": ("menaces", "amenazas"),
        "psychological_abuse": ("violence psychologique", "violencia psicológica"),
        "physical_abuse": ("violence physique", "violencia física"),
        "sexual_abuse": ("violence sexuelle", "violencia sexual"), "false_promises": ("fausses promesses", "falsas promesas"),
        "psychoactive_substances": ("drogues", "drogas"), "restricts_movement": ("séquestration", "encierro"),
        "restricts_medical_care": ("refus de soins", "negación de atención médica"),
        "excessive_working_hours": ("horaires excessifs", "jornadas excesivas"),
        "uses_children": ("menaces envers les enfants", "amenazas a los hijos"),
        "threat_of_law_enforcement": ("menace d'expulsion", "amenaza de deportación"),
        "withholds_necessities": ("privation de nourriture", "privación de alimentos"),
        "withholds_documents": ("passeport confisqué", "pasaporte retenido"), "other": ("autre", "otro")},
    "recruiter_relationship": {
        "intimate_partner": ("petit ami", "novio"), "friend": ("ami", "amigo"),
        "family_member": ("membre de la famille", "familiar"), "acquaintance": ("connaissance", "conocido"),
        "employer_or_agency": ("agence de recrutement", "agencia de empleo"),
        "stranger": ("personne inconnue", "persona desconocida"), "other": ("autre", "otro")},
    "assistance_type": {
        "shelter": ("hébergement", "albergue"), "medical": ("assistance médicale", "asistencia médica"),
        "psychosocial": ("soutien psychosocial", "apoyo psicosocial"), "legal": ("assistance juridique", "asistencia legal"),
        "voluntary_return": ("retour volontaire", "retorno voluntario"), "reintegration": ("réintégration", "reintegración"),
        "education_or_training": ("formation professionnelle", "formación profesional"),
        "financial": ("aide financière", "asistencia financiera"),
        "family_tracing": ("recherche familiale", "búsqueda de familiares")},
    "funding_source": {"gaf": ("GAF", "GAF"), "mission_project": ("projet OIM", "proyecto OIM"),
                       "government": ("gouvernement", "gobierno"), "ngo_partner": ("ONG partenaire", "ONG socia"),
                       "other": ("autre", "otro")},
    "reintegration_outcome": {"completed": ("terminé", "completado"), "ongoing": ("en cours", "en curso"),
                              "dropped_out": ("abandonné", "abandonó"), "lost_contact": ("perdu de vue", "contacto perdido")},
}
# English legacy terms where the label does not suit a multi-valued cell.
_EN_MULTI = {"means_of_control": {"threat_of_law_enforcement": "threat of deportation", "false_promises": "false promises",
                                  "uses_children": "uses children"}}
MULTI_FIELDS_LISTS = ("exploitation_type", "labour_sector", "means_of_control")
_MULTI_FORBIDDEN = (",", "/", "+")


@cache
def terms(list_name: str, style: str) -> tuple[str, ...]:
    """The term written for each code of a list (code-list order).

    style: 'code' (case API), 'label' (MiMOSA), 'en' | 'fr' | 'es' | 'ru' (legacy module)."""
    cl = codelists()[list_name]
    out = []
    multi = list_name in MULTI_FIELDS_LISTS
    for code in cl["codes"]:
        if style == "code":
            out.append(code)
            continue
        label = cl["labels"][code]
        t = label
        if style in ("fr", "es"):
            pair = _LEGACY_TERMS.get(list_name, {}).get(code)
            if pair:
                cand = pair[0 if style == "fr" else 1]
                if resolves(list_name, cand, code):
                    t = cand
        elif style in ("en", "ru"):
            t = _EN_MULTI.get(list_name, {}).get(code, label)
            if not resolves(list_name, t, code):
                t = label
        if (multi and style != "label" and any(ch in t for ch in _MULTI_FORBIDDEN)) or (
            multi and style == "label" and "," in t
        ):
            safe = [v for v in cl["variants"][code] if not any(ch in v for ch in _MULTI_FORBIDDEN)]
            t = safe[0] if safe else code
        out.append(t)
    return tuple(out)


# --------------------------------------------------------------------------------------------
# column layouts (from the project's column map)
# --------------------------------------------------------------------------------------------
@cache
def layout(era: str, form: str) -> tuple[tuple[str, str], ...]:
    """(canonical field, header) in column-map order; MiMOSA flag columns appended as
    ('flag:<code>', header)."""
    cols = [(f, h) for f, h in column_map(era, form).items()]
    for _field, flags in flag_map(era, form).items():
        for code, header in flags.items():
            cols.append((f"flag:{code}", header))
    return tuple(cols)


# --------------------------------------------------------------------------------------------
# text helpers
# --------------------------------------------------------------------------------------------
_FOLD_TABLE = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i", "ø": "o", "Ø": "O", "ß": "ss",
                             "ħ": "h", "ŧ": "t", "ŀ": "l", "ĸ": "k"})


def ascii_fold(s: str) -> str:
    s = s.translate(_FOLD_TABLE)
    return "".join(ch for ch in unicodedata.normalize("NFKD", s) if not unicodedata.combining(ch))


def cp1252_fold(s: str) -> str:
    """Replace characters Windows-1252 cannot hold by their base letter (the legacy module did)."""
    try:
        s.encode("cp1252")
        return s
    except UnicodeEncodeError:
        pass
    out = []
    for ch in s:
        try:
            ch.encode("cp1252")
            out.append(ch)
        except UnicodeEncodeError:
            f = ascii_fold(ch)
            try:
                f.encode("cp1252")
                out.append(f)
            except UnicodeEncodeError:
                out.append("?")
    return "".join(out)
