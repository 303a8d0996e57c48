"""Synthetic persons registered several times with spelling variants: a linkage test bed.

Every name here is invented from common-name pools; no real person's record. Used by the unit tests
and by ``python -m ct_pipeline.pseudonymize.bench`` until/besides `ct_pipeline.synth`.

A person has 1–4 screening records, in the mission of their country and in destination missions,
some re-exported in another era (same mission and case number, legacy one-cell full name). Each
record may carry: a transliteration variant (Oleksandr / Aleksandr / Alexander), a one-character
typo, swapped name order, lost diacritics, upper case, a date of birth replaced by the reported age,
a typo in the date of birth, missing sex or citizenship, a document number (sometimes mistyped).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import polars as pl

# country: (missions, male given, female given, family) — each entry "canonical|variant|variant"
POOLS: dict[str, tuple[list[str], list[str], list[str], list[str]]] = {
    "UA": (
        ["UA-KYI", "UA-LVI"],
        ["Oleksandr|Aleksandr|Alexander|Olexandr", "Serhiy|Sergei|Serhii|Sergey", "Mykola|Nikolai|Mykola",
         "Andriy|Andrei|Andrii", "Dmytro|Dmitri|Dmitry", "Volodymyr|Vladimir", "Yuriy|Yuri|Iurii|Jurij",
         "Ivan", "Petro|Pyotr|Petr", "Vasyl|Vasily|Vasiliy", "Oleh|Oleg", "Ihor|Igor", "Maksym|Maxim|Maksim",
         "Bohdan|Bogdan", "Taras", "Roman", "Viktor|Victor", "Pavlo|Pavel", "Anatoliy|Anatoly", "Hryhoriy|Grigoriy"],
        ["Olena|Elena|Yelena", "Tetiana|Tatiana|Tetyana|Tatyana", "Nataliya|Natalia|Natalya", "Iryna|Irina",
         "Svitlana|Svetlana", "Oksana", "Yuliya|Yulia|Iuliia|Julia", "Kateryna|Ekaterina|Yekaterina",
         "Mariya|Maria", "Hanna|Anna|Ganna", "Liudmyla|Lyudmila|Ludmila", "Halyna|Galina", "Viktoriya|Viktoria",
         "Alina", "Dariya|Daria|Darya", "Valentyna|Valentina", "Larysa|Larisa", "Nadiya|Nadia", "Inna", "Olha|Olga"],
        ["Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Kravchenko", "Kovalchuk|Kowalczuk",
         "Oliynyk|Oleinik|Olijnyk", "Shevchuk", "Polishchuk|Polischuk", "Lysenko|Lisenko", "Marchenko",
         "Rudenko", "Savchenko", "Petrenko", "Moroz", "Melnyk|Melnik", "Boyko|Boiko", "Koval", "Tkachuk",
         "Kravets", "Zhuk|Shuk", "Hnatiuk|Gnatyuk", "Yakovenko|Iakovenko", "Pavlenko", "Kharchenko|Charchenko"],
    ),
    "MD": (
        ["MD-CHI", "MD-BAL"],
        ["Ion", "Vasile", "Gheorghe", "Nicolae|Nicolai", "Mihai|Mihail", "Andrei", "Alexandru|Aleksandru",
         "Sergiu", "Dumitru", "Victor", "Vladimir", "Iurie|Yuri", "Constantin", "Valeriu", "Igor"],
        ["Maria", "Elena", "Ana", "Natalia|Natalya", "Tatiana|Tatyana", "Olga", "Ecaterina|Ekaterina",
         "Cristina", "Ludmila|Liudmila", "Svetlana", "Angela", "Irina", "Doina", "Mariana", "Veronica",
         "Ina|Inna", "Aliona|Alyona", "Lilia|Liliya"],
        ["Popescu", "Rusu", "Ceban|Cheban", "Ciobanu|Chiobanu", "Țurcan|Turcan", "Munteanu", "Lungu",
         "Cojocaru", "Rotaru", "Sârbu|Sirbu|Sîrbu", "Bălan|Balan", "Moraru", "Guțu|Gutu", "Bîrcă|Birca",
         "Ștefan|Stefan", "Vrabie", "Melnic|Melnik", "Croitoru", "Botnari|Botnar", "Căldare|Caldare"],
    ),
    "NG": (
        ["NG-LOS", "NG-BEN"],
        ["Chukwuemeka|Chukwuemeca", "Emeka", "Uchenna|Uche", "Chinedu", "Ikechukwu", "Oluwaseun|Oluseun",
         "Babatunde|Tunde", "Adebayo", "Ibrahim", "Musa", "Osaro", "Efosa|Ephosa", "Godwin", "Samuel"],
        ["Blessing", "Joy", "Peace", "Favour|Favor", "Grace", "Precious", "Esther", "Mercy", "Gift",
         "Happiness", "Patience", "Comfort", "Osasere|Osaser", "Efe", "Ngozi", "Chiamaka|Chiamaca", "Aisha|Aishat"],
        ["Okafor", "Okonkwo", "Eze", "Nwosu", "Obi", "Adeyemi", "Ogunleye", "Okoro", "Bello", "Osagie",
         "Igbinedion", "Omoregie", "Ehigiator", "Obaseki", "Osaghae|Osage", "Iyamu", "Aigbe", "Uwaifo"],
    ),
    "TH": (
        ["TH-BKK"],
        ["Somchai", "Somsak", "Anan", "Prasert|Prasoet", "Sombat|Sombut", "Wichai|Vichai", "Chaiwat", "Kittisak"],
        ["Malee|Mali", "Siriporn|Siriphon", "Nattaya", "Kanya", "Wanida", "Sunisa", "Pranee|Prani",
         "Ratana|Rattana", "Supaporn|Suphaporn", "Araya", "Duangjai|Duangchai", "Pornthip|Phonthip"],
        ["Saetang|Sae-tang", "Srisuk", "Wongsawat|Wongsavat", "Chaiyaporn|Chaiyaphon", "Boonmee|Bunmi",
         "Phromma|Promma", "Kaewsai|Kaeosai", "Thongdee|Thongdi", "Suksawat", "Jaidee|Chaidee", "Sangthong"],
    ),
    "VN": (
        ["VN-HAN"],
        ["Văn Minh|Van Minh", "Văn Hùng|Van Hung", "Đức Anh|Duc Anh", "Quang Huy", "Văn Nam|Van Nam",
         "Minh Tuấn|Minh Tuan", "Thành Long|Thanh Long"],
        ["Thị Lan|Thi Lan", "Thị Hương|Thi Huong", "Thị Mai|Thi Mai", "Thu Hà|Thu Ha", "Ngọc Anh|Ngoc Anh",
         "Thị Hoa|Thi Hoa", "Phương Linh|Phuong Linh", "Thị Thu|Thi Thu", "Thanh Hằng|Thanh Hang"],
        ["Nguyễn|Nguyen", "Trần|Tran", "Lê|Le", "Phạm|Pham", "Hoàng|Hoang", "Vũ|Vu", "Đặng|Dang", "Bùi|Bui",
         "Đỗ|Do", "Hồ|Ho", "Ngô|Ngo", "Dương|Duong"],
    ),
    "NP": (
        ["NP-KTM"],
        ["Ram", "Hari", "Krishna", "Bishnu|Vishnu", "Suresh", "Ramesh", "Dipak|Deepak", "Santosh"],
        ["Sita", "Gita|Geeta", "Kumari", "Maya", "Laxmi|Lakshmi", "Sunita", "Sarita", "Anita", "Rita",
         "Parbati|Parvati", "Sabina"],
        ["Tamang", "Gurung", "Shrestha|Shresta", "Thapa", "Rai", "Magar", "Lama", "Sherpa", "Karki",
         "Bhandari", "Adhikari", "Bhattarai|Battarai"],
    ),
}  # fmt: skip
DESTINATIONS = ["TH-BKK", "MD-CHI", "UA-KYI", "NG-LOS", "AE-DXB", "TR-IST", "RU-MOW", "IT-ROM"]
ALNUM = "abcdefghijklmnopqrstuvwxyz"


def _typo(rng: random.Random, s: str) -> str:
    if len(s) < 4:
        return s
    i = rng.randrange(1, len(s) - 1)
    op = rng.choice("sdti")
    if op == "s":
        return s[:i] + rng.choice(ALNUM) + s[i + 1 :]
    if op == "d":
        return s[:i] + s[i + 1 :]
    if op == "t":
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    return s[:i] + rng.choice(ALNUM) + s[i:]


def _strip(s: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c)).replace("Đ", "D").replace("đ", "d")


def _dob_typo(rng: random.Random, d: date) -> date:
    if d.day <= 12 and d.day != d.month and rng.random() < 0.5:
        return date(d.year, d.day, d.month)
    for _ in range(10):
        try:
            return d.replace(day=rng.randint(1, 28)) if rng.random() < 0.5 else d.replace(month=rng.randint(1, 12))
        except ValueError:
            continue
    return d


def synthetic_screenings(
    n_persons: int = 1000,
    seed: int = 0,
    *,
    p_variant: float = 0.3,
    p_typo: float = 0.12,
    p_swap: float = 0.3,
    p_strip: float = 0.5,
    p_upper: float = 0.2,
    p_age_only: float = 0.15,
    p_no_dob: float = 0.02,
    p_dob_typo: float = 0.04,
    p_missing_sex: float = 0.04,
    p_missing_cit: float = 0.08,
    p_doc: float = 0.4,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(typed_screenings frame with every registry column, ground truth) for ``n_persons`` persons."""
    from ct_pipeline.metadata.registry import load_registry
    from ct_pipeline.metadata.types import polars_schema

    rng = random.Random(seed)
    countries = list(POOLS)
    weights = [30, 25, 20, 10, 8, 7]
    rows: list[dict] = []
    truth: list[dict] = []
    case_no: dict[str, int] = {}
    file_rows: dict[str, int] = {}

    def add(person_id, mission, era, received, rec, ref):
        fname = f"{mission}/{received.isoformat()}/export.{ {'ctm_legacy': 'csv', 'mimosa_xlsx': 'xlsx', 'case_api_jsonl': 'jsonl'}[era]}"
        file_rows[fname] = file_rows.get(fname, 0) + 1
        row = {
            "source_file": fname, "source_row": file_rows[fname], "source_sha256": "0" * 64, "era": era,
            "mission_code": mission, "received_date": received, "case_ref": ref, **rec,
        }  # fmt: skip
        rows.append(row)
        truth.append({"source_file": fname, "source_row": file_rows[fname], "form": "screening",
                      "mission_code": mission, "case_ref": ref, "person_id": person_id})  # fmt: skip

    for p in range(n_persons):
        country = rng.choices(countries, weights)[0]
        missions, males, females, families = POOLS[country]
        sex = rng.choice(["female", "female", "female", "male"])
        given = rng.choice(females if sex == "female" else males).split("|")
        family = rng.choice(families).split("|")
        if rng.random() < 0.15:  # a second given name
            given2 = rng.choice(females if sex == "female" else males).split("|")
        else:
            given2 = None
        dob = date(1960, 1, 1) + timedelta(days=rng.randrange(0, 365 * 46))
        doc = f"{rng.choice('ABCDEFGHKMNPRSTU')}{rng.choice('ABCDEFGHKMNPRSTU')}{rng.randrange(10**6, 10**7)}" if rng.random() < p_doc else None
        first = date(2000, 1, 1) + timedelta(days=rng.randrange(0, 365 * 24))
        n_rec = rng.choices([1, 2, 3, 4], [45, 35, 15, 5])[0]
        home = rng.choice(missions)
        mission_seq = [home] + [rng.choice([m for m in DESTINATIONS + missions if m != home]) for _ in range(n_rec - 1)]
        for i, mission in enumerate(mission_seq):
            reg = first + timedelta(days=rng.randrange(0, 700) * i)
            reg = min(reg, date(2025, 12, 31))
            ident = reg - timedelta(days=rng.randrange(0, 60))
            g = [rng.choice(given) if rng.random() < p_variant else given[0]]
            if given2:
                g.append(rng.choice(given2) if rng.random() < p_variant else given2[0])
            f = rng.choice(family) if rng.random() < p_variant else family[0]
            gname = " ".join(g)
            if rng.random() < p_typo:
                if rng.random() < 0.5:
                    gname = _typo(rng, gname)
                else:
                    f = _typo(rng, f)
            if rng.random() < p_strip:
                gname, f = _strip(gname), _strip(f)
            if rng.random() < p_upper:
                gname, f = gname.upper(), f.upper()
            r = rng.random()
            rec_dob, age = dob, None
            if r < p_age_only:
                rec_dob = None
                age = ident.year - dob.year - ((ident.month, ident.day) < (dob.month, dob.day))
                age += rng.choice([0, 0, 0, 0, -1, 1])  # declared ages are approximate
                age = max(age, 0)
            elif r < p_age_only + p_no_dob:
                rec_dob = None
            elif r < p_age_only + p_no_dob + p_dob_typo:
                rec_dob = _dob_typo(rng, dob)
            rec_doc = doc
            if doc and rng.random() < 0.05:
                rec_doc = _typo(rng, doc)
            elif doc and rng.random() < 0.3:
                rec_doc = None
            case_no[mission] = case_no.get(mission, 0) + 1
            ref = f"{mission}-{reg.year}-{case_no[mission]:05d}"
            rec = {
                "sex": None if rng.random() < p_missing_sex else sex,
                "citizenship": None if rng.random() < p_missing_cit else country,
                "date_of_birth": rec_dob, "age_reported": age, "document_number": rec_doc,
                "phone": f"+{rng.randrange(10**10, 10**11)}" if rng.random() < 0.3 else None,
                "registration_date": reg, "identification_date": ident,
            }  # fmt: skip
            if reg.year < 2011 and rng.random() < 0.5:
                # legacy one-cell name, often family name first, and the same case re-exported by MiMOSA
                full = f"{f} {gname}" if rng.random() < 0.5 + p_swap / 2 else f"{gname} {f}"
                add(p, mission, "ctm_legacy", reg + timedelta(days=30), {**rec, "full_name": full}, ref)
                add(p, mission, "mimosa_xlsx", date(2012, 3, 1), {**rec, "given_name": _strip(gname), "family_name": _strip(f)}, ref)
            else:
                era = "case_api_jsonl" if reg.year >= 2019 else "mimosa_xlsx"
                if rng.random() < p_swap / 3:  # fields swapped at data entry
                    gname, f = f, gname
                add(p, mission, era, reg + timedelta(days=20), {**rec, "given_name": gname, "family_name": f}, ref)

    schema = polars_schema(load_registry(), "typed_screenings")
    df = pl.DataFrame(rows, infer_schema_length=None)
    df = df.select([(pl.col(c) if c in df.columns else pl.lit(None)).cast(t).alias(c) for c, t in schema.items()])
    return df, pl.DataFrame(truth)


def synthetic_assistance(screenings: pl.DataFrame, seed: int = 0) -> pl.DataFrame:
    """One or two assistance episodes per screened case (typed_assistance columns)."""
    from ct_pipeline.metadata.registry import load_registry
    from ct_pipeline.metadata.types import polars_schema

    rng = random.Random(seed)
    reg = load_registry()
    types = sorted(reg.codes("assistance_type"))
    rows = []
    for i, r in enumerate(screenings.select("source_file", "mission_code", "case_ref", "received_date", "era", "registration_date").iter_rows(named=True)):
        for _ in range(rng.choice([1, 1, 2])):
            start = r["registration_date"] + timedelta(days=rng.randrange(0, 90))
            rows.append({
                "source_file": r["source_file"].rsplit(".", 1)[0] + ".assistance", "source_row": len(rows) + 1,
                "source_sha256": "1" * 64, "era": r["era"], "mission_code": r["mission_code"],
                "received_date": r["received_date"], "case_ref": r["case_ref"], "assistance_type": rng.choice(types),
                "assistance_start_date": start, "assistance_end_date": start + timedelta(days=rng.randrange(0, 200)),
                "provider_name": f"Shelter {i % 17}",
            })  # fmt: skip
    schema = polars_schema(reg, "typed_assistance")
    df = pl.DataFrame(rows, infer_schema_length=None)
    return df.select([(pl.col(c) if c in df.columns else pl.lit(None)).cast(t).alias(c) for c, t in schema.items()])
