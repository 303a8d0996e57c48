"""Render one (mission, era) task: the export files of that mission in that era and the ground-truth
rows of every record written. Runs in a worker process; everything random here comes from a
generator seeded by (seed, mission, era), so the output does not depend on scheduling.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl

from ct_pipeline.synth import names as N
from ct_pipeline.synth import reference as R
from ct_pipeline.synth import world as W
from ct_pipeline.synth.config import (
    BIT,
    CORRECTED_MASK,
    DEFECTS,
    FBIT,
    FIELDS,
    OUT_OF_SCOPE_MASK,
    QUARANTINE_MASK,
)
from ct_pipeline.synth.xlsx import col_letter, sheet_xml, write_workbook

NULL = W.NULL
EXCEL_EPOCH = 25569  # serial of 1970-01-01 (Excel 1900 system, dates after 1900-02-28)
GARBAGE = {
    R.LEGACY: ("Atlantis", "Narnia", "Wakanda", "Absurdistan", "Utopia", "XX", "Eldorado", "Freedonia"),
    R.MIMOSA: ("XX", "QQ", "Atlantis", "XZ"),
    R.API: ("XXX", "ATL", "QQQ", "XZZ"),
}
TRUTH_COLUMNS = ["source_file", "source_row", "form", "mission_code", "case_ref", "person_id", "defects",
                 "expected", "defect_fields"]
DATE_FIELDS_S = ("registration_date", "identification_date", "date_of_birth", "recruitment_date",
                 "exploitation_start_date", "exploitation_end_date")
DATE_FIELDS_A = ("assistance_start_date", "assistance_end_date")

_JOBS = {
    "en": {"sex": "a job as a waitress", "labour": "construction work", "domestic": "a job as a housekeeper",
           "fishing": "work on a fishing boat", "marriage": "a marriage abroad", "child": "school and a small job",
           "mixed": "seasonal work", "criminal": "a job in a restaurant"},
    "fr": {"sex": "un emploi de serveuse", "labour": "un travail dans le bâtiment",
           "domestic": "un emploi d'aide ménagère", "fishing": "un travail sur un bateau de pêche",
           "marriage": "un mariage à l'étranger", "child": "une école et un petit travail",
           "mixed": "un travail saisonnier", "criminal": "un emploi dans un restaurant"},
    "es": {"sex": "un trabajo de mesera", "labour": "trabajo en la construcción",
           "domestic": "un empleo como trabajadora doméstica", "fishing": "trabajo en un barco pesquero",
           "marriage": "un matrimonio en el extranjero", "child": "estudios y un trabajo pequeño",
           "mixed": "trabajo de temporada", "criminal": "un empleo en un restaurante"},
}
_NARR = {
    "en": (["{g} was recruited in {o} with the promise of {j} in {d}; documents were taken on arrival and the "
            "debt kept growing. Exploited for about {m} months before being identified.",
            "Referred for screening. {g} reports travelling to {d} for {j}. Wages were never paid and movement "
            "was restricted for {m} months.",
            "{g} met the recruiter through a friend and left {o} for {d}. Reports threats against the family; "
            "identified after {m} months."],
           "Screened in {c}: no indicators of trafficking found; referred to migrant services.",
           "Follow-up: contact by phone, no new information.", "their country", "abroad"),
    "fr": (["{g} a été recruté(e) au pays ({o}) ; promesse : {j} ; destination : {d}. Passeport confisqué à "
            "l'arrivée, exploitation pendant environ {m} mois.",
            "Orienté(e) pour entretien. {g} déclare être parti(e) vers {d} pour {j}. Salaire jamais versé, "
            "liberté de mouvement restreinte pendant {m} mois.",
            "{g} a rencontré le recruteur par une connaissance et a quitté {o} pour {d}. Menaces contre la "
            "famille ; identifié(e) après {m} mois."],
           "Entretien à {c} : aucun indicateur de traite ; orienté(e) vers les services aux migrants.",
           "Suivi : contact téléphonique, pas d'information nouvelle.", "son pays", "l'étranger"),
    "es": (["{g} fue captada/o en {o} con la promesa de {j} en {d}; le quitaron el pasaporte al llegar. "
            "Explotación durante unos {m} meses.",
            "Referida/o para entrevista. {g} declara que viajó a {d} por {j}. Nunca le pagaron y no podía salir "
            "durante {m} meses.",
            "{g} conoció al reclutador por medio de una amistad y salió de {o} hacia {d}. Amenazas contra la "
            "familia; identificada/o después de {m} meses."],
           "Entrevista en {c}: sin indicadores de trata; referida/o a servicios para migrantes.",
           "Seguimiento: contacto telefónico, sin información nueva.", "su país", "el extranjero"),
}
_STREETS = {
    "en": ("Station Road", "Market Street", "Church Road", "Main Street", "River Road", "Hill Street",
           "Garden Lane", "Airport Road"),
    "fr": ("rue de la Paix", "avenue de l'Indépendance", "rue du Marché", "boulevard de la République",
           "rue des Écoles", "rue de la Gare"),
    "es": ("Calle Principal", "Avenida Bolívar", "Calle Los Pinos", "Avenida Central", "Calle Real",
           "Boulevard Morazán", "Calle 5 de Mayo"),
    "ru": ("Ștefan cel Mare", "Pușkin", "Mira", "Lenina", "Gagarina", "Sovetskaya", "Shevchenka", "Pobedy"),
}
_PROVIDERS = {
    "en": {"shelter": ("{c} Women's Shelter", "Hope House {c}", "Safe Haven Shelter"),
           "medical": ("{c} General Hospital", "Mercy Clinic", "IOM Migration Health Unit {c}"),
           "psychosocial": ("Hope House {c}", "Centre for Psychosocial Support {c}"),
           "legal": ("{c} Legal Aid Society", "Justice for Migrants {c}"), "voluntary_return": ("IOM {c}",),
           "reintegration": ("IOM {c}", "New Start Foundation", "{c} Livelihoods Centre"),
           "education_or_training": ("{c} Vocational Training Centre", "Skills for Life {c}"),
           "financial": ("IOM {c}",), "family_tracing": ("Family Links {c}", "IOM {c}")},
    "fr": {"shelter": ("Centre d'accueil Espoir", "Foyer Sainte-Marie de {c}", "Maison d'accueil {c}"),
           "medical": ("Clinique de l'Amitié", "Hôpital de {c}"), "psychosocial": ("Centre d'écoute {c}",),
           "legal": ("Association des juristes de {c}",), "voluntary_return": ("OIM {c}",),
           "reintegration": ("OIM {c}", "Association Solidarité {c}"),
           "education_or_training": ("Centre de formation professionnelle de {c}",), "financial": ("OIM {c}",),
           "family_tracing": ("OIM {c}",)},
    "es": {"shelter": ("Casa Refugio Esperanza", "Albergue Nuevo Amanecer {c}"),
           "medical": ("Clínica San Rafael", "Hospital General de {c}"),
           "psychosocial": ("Centro de Apoyo Psicosocial {c}",), "legal": ("Asesoría Jurídica Migrante {c}",),
           "voluntary_return": ("OIM {c}",), "reintegration": ("OIM {c}", "Fundación Renacer"),
           "education_or_training": ("Centro de Capacitación {c}",), "financial": ("OIM {c}",),
           "family_tracing": ("OIM {c}",)},
}


# ----------------------------------------------------------------------------------------------
LANGS = ("en", "fr", "es", "ru")
TLANGS = ("en", "fr", "es")  # text language (Russian-speaking missions write English text)
SEPS = tuple(dict.fromkeys(R.MULTI_SEPARATORS))
DATE_FMTS = ("%d/%m/%Y", "%d.%m.%Y")
NCHUNK = 4  # missions of an era are rendered in NCHUNK fixed groups (mission index % NCHUNK)


def mix(x: np.ndarray, salt: int) -> np.ndarray:
    """SplitMix64 of x with a salt: deterministic pseudo-random uint64 per value."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + np.uint64((salt * 0x9E3779B97F4A7C15) % (1 << 64))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def take(lookup, idx: np.ndarray) -> pl.Series:
    """lookup[idx] as a Series, null where idx < 0."""
    if not isinstance(lookup, pl.Series):
        lookup = pl.Series(list(lookup), dtype=pl.Utf8)
    idx = np.asarray(idx)
    if len(lookup) == 0:
        return pl.Series([None] * len(idx), dtype=lookup.dtype)
    s = lookup.gather(np.maximum(idx, 0).astype(np.int64))
    neg = np.nonzero(idx < 0)[0]
    if len(neg):
        s = s.scatter(neg, None)
    return s


def _bits_expr(col: str, names: tuple[str, ...], bitvals: list[int]) -> pl.Expr:
    parts = [pl.when((pl.col(col) & b) != 0).then(pl.lit(nm)) for nm, b in zip(names, bitvals, strict=True)]
    return pl.concat_str(parts, separator=";", ignore_nulls=True)


_DEFECTS_EXPR = _bits_expr("D", DEFECTS, [BIT[d] for d in DEFECTS]).alias("defects")
_FIELDS_EXPR = _bits_expr("F", FIELDS, [FBIT[f] for f in FIELDS]).alias("defect_fields")


def expected_of(D: np.ndarray, dup: np.ndarray) -> np.ndarray:
    q = (D & QUARANTINE_MASK) != 0
    o = (D & OUT_OF_SCOPE_MASK) != 0
    c = (D & CORRECTED_MASK) != 0
    return np.where(q, "quarantine", np.where(o, "out_of_scope", np.where(dup, "duplicate",
                                                                           np.where(c, "corrected", "clean"))))


# ----------------------------------------------------------------------------------------------
# per-mission lookups
# ----------------------------------------------------------------------------------------------
@cache
def missions_table() -> dict:
    c = R.countries()
    ms = R.MISSIONS
    st = [R.mission_style(i) for i in range(len(ms))]
    yn = []
    for s in st:
        yn += [s["no"], s["yes"]]
    return {
        "lang": np.array([LANGS.index(m.lang) for m in ms], np.int64),
        "tlang": np.array([TLANGS.index(m.lang) if m.lang in TLANGS else 0 for m in ms], np.int64),
        "code": [m.code for m in ms],
        "city": pl.Series([m.city for m in ms]),
        "city_cp": pl.Series([R.cp1252_fold(m.city) for m in ms]),
        "city3": pl.Series([s["city3"] for s in st]),
        "alpha2": pl.Series([m.alpha2 for m in ms]),
        "alpha3": pl.Series([str(c.alpha3[c.index[m.alpha2]]) for m in ms]),
        "cc": pl.Series([R.CALLING_CODES.get(m.alpha2, "1") for m in ms]),
        "yes_no": pl.Series(yn),
        "sep": np.array([SEPS.index(s["multi_sep"]) for s in st], np.int64),
        "datefmt": np.array([DATE_FMTS.index(s["date_fmt"]) for s in st], np.int64),
        "family_first": np.array([s["family_first"] for s in st]),
        "phone_style": np.array([s["phone_style"] for s in st], np.int64),
    }


@cache
def _staff(seed: int, enc: str) -> pl.Series:
    """Six interviewers per mission, named in the mission country's culture (flat: mission * 6 + k)."""
    p = N.pool()
    out = []
    for mi, m in enumerate(R.MISSIONS):
        srng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 99, mi])))
        cult = N.CULTURE_OF.get(m.alpha2, "anglo")
        for i in range(6):
            kind = "F" if i % 2 == 0 else "M"
            # staff carry common names: the head of each pool
            gf, gc = p.base[(cult, kind)][0], p.head[(cult, kind)]
            lf, lc = p.base[(cult, "LF" if kind == "F" else "L")][0], p.head[(cult, "LF" if kind == "F" else "L")]
            g = p.flat[p.start[gf + srng.integers(0, gc)]]
            fam = p.flat[p.start[lf + srng.integers(0, lc)]] if lc else ""
            name = f"{g} {fam}".strip()
            out.append(R.cp1252_fold(name) if enc == "cp1252" else name)
    return pl.Series(out)


@cache
def _providers_table(enc: str):
    """Provider names per (mission, assistance type): flat strings, start and count."""
    at = R.codes("assistance_type")
    flat: list[str] = []
    start = np.zeros((len(R.MISSIONS), len(at)), np.int64)
    cnt = np.zeros((len(R.MISSIONS), len(at)), np.int64)
    for mi, m in enumerate(R.MISSIONS):
        table = _PROVIDERS[m.lang if m.lang in TLANGS else "en"]
        for j, code in enumerate(at):
            opts = [t.replace("{c}", m.city) for t in table.get(code, ("IOM {c}",))]
            if enc == "cp1252":
                opts = [R.cp1252_fold(o) for o in opts]
            start[mi, j], cnt[mi, j] = len(flat), len(opts)
            flat.extend(opts)
    return pl.Series(flat), start, cnt


def providers(mi: np.ndarray, types: np.ndarray, prov: np.ndarray, enc: str) -> pl.Series:
    flat, start, cnt = _providers_table(enc)
    t = np.maximum(types, 0)
    idx = np.where((prov >= 0) & (types >= 0), start[mi, t] + prov % np.maximum(cnt[mi, t], 1), -1)
    return take(flat, idx)


@cache
def _streets(enc: str):
    flat, start, cnt = [], [], []
    for lang in LANGS:
        ss = [R.cp1252_fold(s) if enc == "cp1252" else s for s in _STREETS[lang]]
        start.append(len(flat))
        cnt.append(len(ss))
        flat.extend(ss)
    return pl.Series(flat), np.array(start), np.array(cnt)


@cache
def _legacy_terms(list_name: str) -> tuple[pl.Series, int]:
    """Terms of a code list for the legacy module, flat: text language * n + code."""
    flat: list[str] = []
    for tl in TLANGS:
        flat.extend(R.terms(list_name, tl))
    return pl.Series(flat), len(R.codes(list_name))


def legacy_code_text(list_name: str, tl: np.ndarray, idx: np.ndarray) -> pl.Series:
    flat, nc = _legacy_terms(list_name)
    return take(flat, np.where(idx >= 0, tl * nc + idx, -1))


def code_text(list_name: str, style: str, idx: np.ndarray) -> pl.Series:
    return take(pl.Series(list(R.terms(list_name, style))), np.asarray(idx).astype(np.int64))


def _join_sep(cols: list[pl.Series], sep_idx: np.ndarray | None, sep: str | None = None) -> pl.Series:
    """Join non-null values of each row; separator per row (legacy) or fixed; null when none."""
    df = pl.DataFrame({f"c{i}": s for i, s in enumerate(cols)})
    joined = pl.concat_str([pl.col(f"c{i}") for i in range(len(cols))], separator="\x1f", ignore_nulls=True)
    if sep_idx is None:
        expr = joined.str.replace_all("\x1f", sep, literal=True)
    else:
        df = df.with_columns(pl.Series("sep", sep_idx))
        expr = pl.when(pl.col("sep") == 0).then(joined.str.replace_all("\x1f", SEPS[0], literal=True))
        for k in range(1, len(SEPS)):
            expr = expr.when(pl.col("sep") == k).then(joined.str.replace_all("\x1f", SEPS[k], literal=True))
    return df.select(pl.when(joined != "").then(expr)).to_series()


def multi_text(list_name: str, mask: np.ndarray, *, tl: np.ndarray | None = None, sep_idx=None,
               sep: str | None = None) -> pl.Series:
    """Several codes in one cell: MiMOSA labels joined by `sep`, or legacy terms in the mission's
    language joined by its separator. Built once per distinct (codes, language, separator)."""
    n = len(mask)
    m = mask.astype(np.int64)
    tlv = np.zeros(n, np.int64) if tl is None else tl.astype(np.int64)
    sv = np.zeros(n, np.int64) if sep_idx is None else sep_idx.astype(np.int64)
    key = (m << 8) | (tlv << 4) | sv
    u, inv = np.unique(key, return_inverse=True)
    if tl is None:
        terms = [R.terms(list_name, "label")]
    else:
        terms = [R.terms(list_name, t) for t in TLANGS]
    out = []
    for k in u.tolist():
        mm, t, si = k >> 8, (k >> 4) & 15, k & 15
        if mm == 0:
            out.append(None)
            continue
        words = [terms[t][j] for j in range(len(terms[t])) if (mm >> j) & 1]
        out.append((sep if tl is None else SEPS[si]).join(words))
    return pl.Series(out, dtype=pl.Utf8).gather(inv.ravel())


def multi_list(list_name: str, mask: np.ndarray) -> pl.Series:
    """JSON array text of the codes of each row's mask ("null" when none)."""
    u, inv = np.unique(mask.astype(np.int64), return_inverse=True)
    codes = R.codes(list_name)
    out = []
    for mm in u.tolist():
        out.append("null" if mm == 0 else "[" + ",".join(f'"{c}"' for j, c in enumerate(codes) if (mm >> j) & 1) + "]")
    return pl.Series(out, dtype=pl.Utf8).gather(inv.ravel())


def days_to_date(x: np.ndarray) -> pl.Series:
    s = pl.Series(np.where(x == NULL, 0, x).astype(np.int32)).cast(pl.Date)
    idx = np.nonzero(x == NULL)[0]
    return s.scatter(idx, None) if len(idx) else s


def code_country(x: np.ndarray, fmt: str) -> pl.Series:
    """Country cell for MiMOSA (alpha-2) or the case API (alpha-3); garbage for unknown codes."""
    c = R.countries()
    lookup = pl.Series([str(v) for v in (c.alpha2 if fmt == "alpha2" else c.alpha3)])
    s = take(lookup, np.where(x >= 0, x, -1))
    g = np.nonzero(x <= -100)[0]
    if len(g):
        gl = GARBAGE[R.MIMOSA if fmt == "alpha2" else R.API]
        s = s.scatter(g, [gl[(-int(x[i]) - 100) % len(gl)] for i in g])
    return s


@cache
def _country_tables():
    """Flat pool of country strings for the legacy module: canonical names, names in French and
    Spanish, variants (all / safe in a multi-valued cell), garbage."""
    c = R.countries()
    nC = len(c.alpha2)
    flat: list[str] = [str(x) for x in c.name]
    native = np.full((len(LANGS), nC), -1, dtype=np.int64)
    for li, lang in enumerate(LANGS):
        for a2, nm in R.language_country_names().get(lang, {}).items():
            i = c.index[a2]
            if nm != c.name[i]:
                native[li, i] = len(flat)
                flat.append(nm)
    va = np.zeros((2, nC), np.int64)
    vs = np.zeros((2, nC), np.int64)
    for i in range(nC):
        a2 = str(c.alpha2[i])
        allv = [v for v in c.variants.get(a2, []) if v.casefold() != str(c.name[i]).casefold()]
        va[0, i], va[1, i] = len(flat), len(allv)
        flat.extend(allv)
        safe = [v for v in allv if not any(ch in v for ch in ",/+")]
        vs[0, i], vs[1, i] = len(flat), len(safe)
        flat.extend(safe)
    g_start = len(flat)
    flat.extend(GARBAGE[R.LEGACY])
    return pl.Series([R.cp1252_fold(f) for f in flat]), native, va, vs, g_start


def legacy_country(ctx: Ctx, x: np.ndarray, lang: np.ndarray, multi: bool) -> tuple[np.ndarray, np.ndarray]:
    """Index into _country_tables()'s pool of each country cell of the legacy module (draws from
    ctx.rng), and whether it is a variant (native name or other spelling). Text: legacy_country_text."""
    _flat, native, va, vs, g_start = _country_tables()
    n = len(x)
    rng = ctx.rng
    u1, u2, u3 = rng.random(n), rng.random(n), rng.random(n)
    present = x >= 0
    xc = np.where(present, x, 0)
    out = np.where(present, xc, -1).astype(np.int64)
    r_nat = np.where((lang == 1) | (lang == 2), ctx.rates["country_variant_native"], 0.0)
    nat_idx = native[lang, xc]
    nat = present & (nat_idx >= 0) & (u1 < r_nat)
    out = np.where(nat, nat_idx, out)
    st, ct = (vs[0], vs[1]) if multi else (va[0], va[1])
    var = present & ~nat & (u2 < ctx.rates["country_variant"]) & (ct[xc] > 0)
    out = np.where(var, st[xc] + (u3 * np.maximum(ct[xc], 1)).astype(np.int64), out)
    garbage = x <= -100
    out = np.where(garbage, g_start + (-x - 100) % len(GARBAGE[R.LEGACY]), out)
    return out, (nat | var)


def legacy_country_text(idx: np.ndarray) -> pl.Series:
    return take(_country_tables()[0], idx)


# ----------------------------------------------------------------------------------------------
class Ctx:
    def __init__(self, task: dict) -> None:
        self.era = task["era"]
        self.rates = task["rates"]
        self.out = Path(task["out_dir"])
        self.seed = task["seed"]
        self.rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([self.seed, 7, self.era,
                                                                                task["chunk"]])))
        self.canaries = task["canaries"]
        self.compresslevel = task.get("compresslevel", 1)
        self.ex_mission = task["ex_mission"]
        self.ex_received = task["ex_received"]
        self.ex_date = task["ex_date"]
        self.truth_dir = Path(task["truth_dir"]) if task.get("truth_dir") else None
        self._dirs: set[Path] = set()
        self._parts: set[str] = set()

    def rel(self, e: int, name: str) -> str:
        recv = date.fromordinal(_EPOCH_ORD + int(self.ex_received[e]))
        return f"{R.MISSIONS[int(self.ex_mission[e])].code}/{recv.isoformat()}/{name}"

    def stamp(self, e: int) -> str:
        return date.fromordinal(_EPOCH_ORD + int(self.ex_date[e])).strftime("%Y%m%d")

    def code(self, e: int) -> str:
        return R.MISSIONS[int(self.ex_mission[e])].code

    def write(self, rel: str, data: bytes) -> None:
        path = self.out / rel
        if path.parent not in self._dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(path.parent)
        path.write_bytes(data)

    def add_truth(self, truth: pl.DataFrame) -> None:
        """Append a batch's ground-truth rows to the headerless CSV parts `<truth_dir>/<MISSION>.<era>.csv`,
        sorted by source_file, form (screening first) and source_row. Batches come in path order
        (see _batches), so each part is sorted as if in one piece."""
        truth = truth.sort(["source_file", pl.col("form").replace_strict({"screening": 0, "assistance": 1},
                                                                         return_dtype=pl.Int8), "source_row"])
        truth = truth.with_columns(pl.col("defects", "defect_fields").replace("", None))
        for (code,), part in truth.partition_by("mission_code", as_dict=True, maintain_order=True).items():
            with (self.truth_dir / f"{code}.{self.era}.csv").open("ab" if code in self._parts else "wb") as fh:
                part.select(TRUTH_COLUMNS).write_csv(fh, include_header=False, line_terminator="\n")
            self._parts.add(code)


_EPOCH_ORD = date(1970, 1, 1).toordinal()


# ----------------------------------------------------------------------------------------------
# content: apply the case's content defects and missing values, compute defect bits
# ----------------------------------------------------------------------------------------------
def screening_content(ctx: Ctx, r: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    len(r["case"])
    v = {k: r[k].copy() for k in ("reg", "ident", "dob", "age", "sex", "citizenship", "agency", "status", "eligible",
                                  "types", "sectors", "means", "recruiter", "rec_c", "t1", "t2", "t3", "expl_c",
                                  "rec_date", "expl_start", "expl_end", "consent", "interviewer", "has_doc",
                                  "has_phone", "has_addr", "has_narr")}
    for k in ("citizenship", "rec_c", "t1", "t2", "t3", "expl_c"):
        v[k] = v[k].astype(np.int64)
    D = r["rdef"].copy()
    F = np.where((D & BIT["reexport_corrected"]) != 0, r["corr_fields"], 0).astype(np.int64)
    ak = np.where(r["apply_cd"], r["cd_kind"], W.CD_NONE)
    val = r["cd_val"].astype(np.int64)
    v["reg"] = np.where(ak == W.CD_FUTURE_REG, val, v["reg"])
    v["reg"] = np.where(ak == W.CD_MISSING_REQ, NULL, v["reg"])
    v["ident"] = np.where(ak == W.CD_FUTURE_IDENT, val, v["ident"])
    v["age"] = np.where(ak == W.CD_AGE_BIG, val, v["age"])
    v["dob"] = np.where((ak == W.CD_DOB_OLD) | (ak == W.CD_BIRTH_AFTER), val, v["dob"])
    v["expl_end"] = np.where(ak == W.CD_END_BEFORE, val, v["expl_end"])
    unk = ak == W.CD_UNKNOWN
    garbage = -(100 + (val % 64))
    for w, f in enumerate(("citizenship", "rec_c", "expl_c")):
        v[f] = np.where(unk & (val // 64 == w), garbage, v[f])
    D |= W.cd_defect_bits(ak)
    F |= W.cd_fields(ak, val)
    miss = np.where(r["apply_miss"], r["miss"], 0)
    D |= np.where(miss != 0, BIT["missing_value"], 0)
    F |= miss
    blank = {
        "identification_date": ("ident", NULL), "date_of_birth": ("dob", NULL), "age_reported": ("age", -1),
        "sex": ("sex", -1), "citizenship": ("citizenship", -1), "identifying_agency": ("agency", -1),
        "victim_status": ("status", -1), "is_eligible_for_assistance": ("eligible", -1),
        "exploitation_types": ("types", 0), "labour_sectors": ("sectors", 0), "means_of_control": ("means", 0),
        "recruiter_relationship": ("recruiter", -1), "recruitment_country": ("rec_c", -1),
        "exploitation_country": ("expl_c", -1), "recruitment_date": ("rec_date", NULL),
        "exploitation_start_date": ("expl_start", NULL), "exploitation_end_date": ("expl_end", NULL),
        "has_research_consent": ("consent", -1), "interviewer_name": ("interviewer", -1),
    }
    for f, (k, nullv) in blank.items():
        v[k] = np.where((miss & FBIT[f]) != 0, nullv, v[k])
    s = (miss & FBIT["transit_countries"]) != 0
    for k in ("t1", "t2", "t3"):
        v[k] = np.where(s, -1, v[k])
    for f, k in (("document_number", "has_doc"), ("phone", "has_phone"), ("address", "has_addr"),
                 ("narrative", "has_narr")):
        v[k] = v[k] & ((miss & FBIT[f]) == 0)
    vs = R.codes("victim_status")
    v["status"] = np.where(r["perturb"] == W.P_STATUS, vs.index("undetermined"), v["status"])
    D |= np.where(r["oos"], BIT["registration_before_1999"], 0)
    F |= np.where(r["oos"], FBIT["registration_date"], 0)
    nv = r["nv"]
    cm = (D & BIT["cross_mission_person"]) != 0
    p = N.pool()
    gf, ff = r["given_flat"], r["family_flat"]
    g_var = gf != p.start[np.searchsorted(p.start, gf, side="right") - 1]
    f_var = (ff >= 0) & (ff != p.start[np.maximum(np.searchsorted(p.start, ff, side="right") - 1, 0)])
    name_f = np.where(g_var | (nv == W.NV_SWAP) | ((nv == W.NV_TYPO) & (ff < 0)), FBIT["given_name"], 0)
    name_f |= np.where(f_var | (nv == W.NV_SWAP) | ((nv == W.NV_TYPO) & (ff >= 0)), FBIT["family_name"], 0)
    F |= np.where(cm, name_f, 0)
    if ctx.era == R.LEGACY:  # one name cell in the legacy module
        nm = FBIT["given_name"] | FBIT["family_name"]
        F = np.where((F & nm) != 0, (F & ~nm) | FBIT["full_name"], F)
    v["D"], v["F"] = D, F
    return v


def assistance_content(ctx: Ctx, a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    n = len(a["type"])
    v = {"type": a["type"].astype(np.int64), "start": a["start"].astype(np.int64), "end": a["end"].astype(np.int64),
         "funding": a["funding"].astype(np.int64), "ret": a["return_country"].astype(np.int64),
         "provider": a["provider"].astype(np.int64)}
    v["end"] = np.where(a["ongoing"], NULL, v["end"])
    at = R.codes("assistance_type")
    ro = R.codes("reintegration_outcome")
    reint = v["type"] == at.index("reintegration")
    u = a["outcome_r"]
    done = np.where(u < 0.65, ro.index("completed"), np.where(u < 0.80, ro.index("dropped_out"),
                                                               ro.index("lost_contact")))
    v["outcome"] = np.where(reint, np.where(a["ongoing"], ro.index("ongoing"), done), -1)
    D = a["rdef"] & (BIT["reexport"] | BIT["migrated_legacy"])
    F = np.zeros(n, np.int64)
    k, val = a["ed_kind"], a["ed_val"].astype(np.int64)
    s = k == W.ED_BEFORE_IDENT
    v["start"] = np.where(s, val, v["start"])
    D |= np.where(s, BIT["assistance_before_identification"], 0)
    F |= np.where(s, FBIT["assistance_start_date"], 0)
    s = k == W.ED_GAF_EARLY
    v["funding"] = np.where(s, R.codes("funding_source").index("gaf"), v["funding"])
    D |= np.where(s, BIT["gaf_before_august_2000"], 0)
    F |= np.where(s, FBIT["funding_source"] | FBIT["assistance_start_date"], 0)
    s = k == W.ED_FUTURE_END
    v["end"] = np.where(s, val, v["end"])
    D |= np.where(s, BIT["date_in_future"], 0)
    F |= np.where(s, FBIT["assistance_end_date"], 0)
    s = k == W.ED_UNKNOWN_RC
    v["ret"] = np.where(s, -(100 + val % 64), v["ret"])
    D |= np.where(s, BIT["unknown_country"], 0)
    F |= np.where(s, FBIT["return_country"], 0)
    miss = a["miss"] & ~np.where(a["ongoing"], FBIT["assistance_end_date"], 0)
    D |= np.where(miss != 0, BIT["missing_value"], 0)
    F |= miss
    v["provider"] = np.where((miss & FBIT["provider_name"]) != 0, -1, v["provider"])
    v["funding"] = np.where((miss & FBIT["funding_source"]) != 0, -1, v["funding"])
    v["end"] = np.where((miss & FBIT["assistance_end_date"]) != 0, NULL, v["end"])
    v["ret"] = np.where((miss & FBIT["return_country"]) != 0, -1, v["ret"])
    D |= np.where(a["oos"], BIT["registration_before_1999"], 0)
    v["D"], v["F"] = D, F
    return v


# ----------------------------------------------------------------------------------------------
# text of identifying fields (identical in every copy of a case)
# ----------------------------------------------------------------------------------------------
def _fill(t: str, city: str = "city") -> pl.Expr:
    parts: list[pl.Expr] = []
    rest = t
    while "{" in rest:
        pre, _, after = rest.partition("{")
        key, _, rest = after.partition("}")
        if pre:
            parts.append(pl.lit(pre))
        parts.append(pl.col(city) if key == "c" else pl.col(key))
    if rest:
        parts.append(pl.lit(rest))
    return pl.concat_str(parts)


@cache
def _narrative_expr() -> pl.Expr:
    expr = None
    for li, tl in enumerate(TLANGS):
        templates, nonvictim, *_ = _NARR[tl]
        cond = pl.col("tl") == li
        e = pl.when(cond & ~pl.col("vic")).then(_fill(nonvictim))
        expr = e if expr is None else expr.when(cond & ~pl.col("vic")).then(_fill(nonvictim))
        for i, t in enumerate(templates):
            expr = expr.when(cond & (pl.col("t") == i)).then(_fill(t))
    return expr.otherwise(pl.lit(None, pl.Utf8))


@cache
def _nar_country() -> pl.Series:
    c = R.countries()
    return pl.Series([R.narrative_country_name(str(a), tl) for tl in TLANGS for a in c.alpha2])


def identity_text(ctx: Ctx, r: dict[str, np.ndarray], v: dict[str, np.ndarray], enc: str) -> dict[str, pl.Series]:
    len(r["case"])
    MT = missions_table()
    mi = r["mission"].astype(np.int64)
    lang = MT["lang"][mi]
    tl = MT["tlang"][mi]
    fold = R.cp1252_fold if enc == "cp1252" else (lambda t: t)
    pool = pl.Series(N.flat_strings(enc))
    given = take(pool, r["given_flat"])
    family = take(pool, r["family_flat"])
    fam2 = take(pool, r["family2_flat"])
    fam = pl.DataFrame({"a": family, "b": fam2}).select(
        pl.when(pl.col("a").is_not_null()).then(pl.concat_str(["a", "b"], separator=" ", ignore_nulls=True))
    ).to_series()
    crand = r["crand"]
    t_fam = ((r["nv"] == W.NV_TYPO) & (r["family_flat"] >= 0)) | (r["perturb"] == W.P_FAMILY_TYPO)
    t_giv = ((r["nv"] == W.NV_TYPO) & (r["family_flat"] < 0)) | (r["perturb"] == W.P_GIVEN_TYPO)
    for mask, which in ((t_fam, "f"), (t_giv, "g")):
        idx = np.nonzero(mask)[0]
        if len(idx):
            ser = fam if which == "f" else given
            vals = ser.gather(idx).to_list()
            salt = np.where(r["perturb"][idx] != W.P_NONE, 3, 1).astype(np.uint64)
            rr = mix(crand[idx], 5) >> salt
            new = [N.typo(s, int(x % np.uint64(1 << 40))) if s else s for s, x in zip(vals, rr, strict=True)]
            ser = ser.scatter(idx, new)
            if which == "f":
                fam = ser
            else:
                given = ser
    swap = r["nv"] == W.NV_SWAP
    if swap.any():
        sw = pl.Series(swap)
        g2 = pl.select(pl.when(sw).then(fam).otherwise(given)).to_series()
        f2 = pl.select(pl.when(sw).then(given).otherwise(fam)).to_series()
        given, fam = g2, f2
    city = take(MT["city_cp"] if enc == "cp1252" else MT["city"], mi)
    # phone
    digits = pl.Series((mix(r["phone_key"], 11) % np.uint64(10**8)).astype(np.int64)).cast(pl.Utf8).str.zfill(8)
    cc = take(MT["cc"], r["phone_m"].astype(np.int64))  # the country of the SIM, written in this mission's style
    df = pl.DataFrame({"d": digits, "cc": cc, "ps": MT["phone_style"][mi]})
    d = pl.col("d")
    phone = df.select(
        pl.when(pl.col("ps") == 0).then(pl.concat_str([pl.lit("+"), "cc", pl.lit(" "), d.str.slice(0, 2), pl.lit(" "),
                                                       d.str.slice(2, 3), pl.lit(" "), d.str.slice(5, 3)]))
        .when(pl.col("ps") == 1).then(pl.concat_str([pl.lit("0"), d]))
        .otherwise(pl.concat_str([pl.lit("(+"), "cc", pl.lit(") "), d.str.slice(0, 3), pl.lit("-"), d.str.slice(3, 5)]))
    ).to_series()
    # identity document
    letters = pl.Series(list("ABCDEFGHJKLMNPRSTUVWXYZ"))
    h = mix(r["doc_key"], 12)
    doc = pl.DataFrame({
        "l1": take(letters, (h % np.uint64(23)).astype(np.int64)),
        "l2": take(letters, ((h >> np.uint64(8)) % np.uint64(23)).astype(np.int64)),
        "d": pl.Series(((h >> np.uint64(16)) % np.uint64(10**9)).astype(np.int64)).cast(pl.Utf8).str.zfill(9),
        "p": np.maximum(r["citizenship"].astype(np.int64), 0) % 3,
    }).select(
        pl.when(pl.col("p") == 0).then(pl.concat_str(["l1", "l2", pl.col("d").str.slice(2, 7)]))
        .when(pl.col("p") == 1).then(pl.concat_str(["l1", pl.col("d").str.slice(1, 8)]))
        .otherwise(pl.col("d"))
    ).to_series()
    # address
    sflat, sstart, scnt = _streets(enc)
    h = mix(crand, 13)
    street = take(sflat, sstart[lang] + (h % scnt[lang].astype(np.uint64)).astype(np.int64))
    adf = pl.DataFrame({"s": street, "n": pl.Series((1 + (h >> np.uint64(8)) % np.uint64(150)).astype(np.int64)),
                        "a": pl.Series((1 + (h >> np.uint64(20)) % np.uint64(90)).astype(np.int64)),
                        "city": city, "lang": lang})
    nn, aa = pl.col("n").cast(pl.Utf8), pl.col("a").cast(pl.Utf8)
    addr = adf.select(
        pl.when(pl.col("lang") == 0).then(pl.concat_str([nn, pl.lit(" "), "s", pl.lit(", "), "city"]))
        .when(pl.col("lang") == 1).then(pl.concat_str([nn, pl.lit(", "), "s", pl.lit(", "), "city"]))
        .when(pl.col("lang") == 2).then(pl.concat_str(["s", pl.lit(" "), nn, pl.lit(", "), "city"]))
        .otherwise(pl.concat_str([pl.lit("str. "), "s", pl.lit(" "), nn, pl.lit(", ap. "), aa, pl.lit(", "), "city"]))
    ).to_series()
    # narrative
    c = R.countries()
    nC = len(c.alpha2)
    nar = _nar_country()
    home = pl.Series([_NARR[t][3] for t in TLANGS])
    abroad = pl.Series([_NARR[t][4] for t in TLANGS])
    o = take(nar, np.where(v["rec_c"] >= 0, tl * nC + v["rec_c"], -1))
    o = pl.select(pl.coalesce(o, take(home, tl))).to_series()
    dd = take(nar, np.where(v["expl_c"] >= 0, tl * nC + v["expl_c"], -1))
    dd = pl.select(pl.coalesce(dd, take(abroad, tl))).to_series()
    profs = list(R.PROFILES)
    jobs = pl.Series([_JOBS[t][p] for t in TLANGS for p in profs])
    job = take(jobs, tl * len(profs) + r["profile"].astype(np.int64))
    months = np.where((v["expl_start"] != NULL) & (v["expl_end"] != NULL),
                      np.maximum(1, (v["expl_end"].astype(np.int64) - v["expl_start"]) // 30),
                      2 + (mix(crand, 17) % np.uint64(24)).astype(np.int64))
    months = np.clip(months, 1, 999)
    vs = R.codes("victim_status")
    ndf = pl.DataFrame({"g": given, "o": o, "d": dd, "j": job, "m": pl.Series(months).cast(pl.Utf8),
                        "t": (mix(crand, 18) % np.uint64(3)).astype(np.int64),
                        "vic": np.isin(r["status"], [vs.index("victim"), vs.index("presumed_victim")]),
                        "tl": tl, "city": city})
    narr = ndf.select(_narrative_expr()).to_series()
    ml = (mix(crand, 19) % np.uint64(10000)).astype(np.int64) < int(ctx.rates["multiline_narrative"] * 10000)
    if ml.any():
        fu = take(pl.Series([_NARR[t][2] for t in TLANGS]), tl)
        narr = pl.select(pl.when(pl.Series(ml)).then(pl.concat_str([narr, pl.lit("\n"), fu])).otherwise(narr)
                         ).to_series()
    # canaries
    can = np.nonzero(r["canary"] >= 0)[0]
    out = {"given": given, "family": fam, "phone": phone, "doc": doc, "addr": addr, "narr": narr}
    if len(can):
        for key, name in (("given_name", "given"), ("family_name", "family"), ("phone", "phone"),
                          ("document_number", "doc"), ("address", "addr"), ("narrative", "narr")):
            vals = [fold(str(ctx.canaries[int(r["canary"][i])].get(key, ""))) for i in can]
            out[name] = out[name].scatter(can, vals)

    def keep(s: pl.Series, flag: np.ndarray) -> pl.Series:
        idx = np.nonzero(~flag)[0]
        return s.scatter(idx, None) if len(idx) else s

    iv = v["interviewer"].astype(np.int64)
    out["phone"] = keep(out["phone"], v["has_phone"])
    out["doc"] = keep(out["doc"], v["has_doc"])
    out["addr"] = keep(out["addr"], v["has_addr"])
    out["narr"] = keep(out["narr"], v["has_narr"])
    out["interviewer"] = take(_staff(ctx.seed, enc), np.where(iv >= 0, mi * 6 + iv, -1))
    out["swap"] = swap
    return out


# ----------------------------------------------------------------------------------------------
def _case_ref(r: dict) -> pl.Series:
    MT = missions_table()
    mi = r["mission"].astype(np.int64)
    df = pl.DataFrame({"e": r["first_era"].astype(np.int64), "y": r["reg_year"].astype(np.int64),
                       "s": r["seq"].astype(np.int64), "c3": take(MT["city3"], mi), "a2": take(MT["alpha2"], mi),
                       "a3": take(MT["alpha3"], mi)})
    ys, ss = pl.col("y").cast(pl.Utf8), pl.col("s").cast(pl.Utf8)
    return df.select(
        pl.when(pl.col("e") == R.LEGACY).then(pl.concat_str(["c3", pl.lit("/"), ys, pl.lit("/"), ss.str.zfill(4)]))
        .when(pl.col("e") == R.MIMOSA).then(pl.concat_str(["a2", (pl.col("y") % 100).cast(pl.Utf8).str.zfill(2),
                                                           pl.lit("-"), ss.str.zfill(5)]))
        .otherwise(pl.concat_str(["a3", pl.lit("-"), ys, pl.lit("-"), ss.str.zfill(6)]))
    ).to_series()


def _person_id(person: np.ndarray) -> pl.Series:
    return pl.select(pl.concat_str([pl.lit("P"), pl.Series("p", person.astype(np.int64)).cast(pl.Utf8).str.zfill(7)])
                     ).to_series()


def _duplicates(ctx: Ctx, n: int, D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows copied as exact duplicates (never rows to quarantine or out of scope) and whether the
    copy goes to the end of the file (else right after the original)."""
    ok = (D & (QUARANTINE_MASK | OUT_OF_SCOPE_MASK)) == 0
    dup = np.nonzero(ok & (ctx.rng.random(n) < ctx.rates["exact_duplicate"]))[0]
    at_end = ctx.rng.random(len(dup)) < 0.3
    return dup, at_end


def _order(x: np.ndarray, dup: np.ndarray, at_end: np.ndarray):
    """Rows of every file (originals + duplicates): source index, is_dup, row number within file."""
    n = len(x)
    src = np.concatenate([np.arange(n), dup]).astype(np.int64)
    key = np.concatenate([np.arange(n, dtype=float), np.where(at_end, n + dup + 0.5, dup + 0.5)])
    isdup = np.concatenate([np.zeros(n, bool), np.ones(len(dup), bool)])
    order = np.lexsort((key, x[src]))
    src, isdup = src[order], isdup[order]
    xx = x[src]
    if len(xx) == 0:
        return src, isdup, np.zeros(0, np.int64)
    first = np.r_[True, xx[1:] != xx[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(xx)), 0))
    return src, isdup, np.arange(len(xx)) - start + 1


def _truth(rel: pl.Series, rownum: np.ndarray, form: str, mission_code: pl.Series, case_ref: pl.Series,
           person: pl.Series, D: np.ndarray, F: np.ndarray, isdup: np.ndarray) -> pl.DataFrame:
    Dd = D | np.where(isdup, BIT["exact_duplicate"], 0)
    n = len(Dd)
    df = pl.DataFrame({
        "source_file": rel.cast(pl.Utf8), "source_row": pl.Series(rownum.astype(np.int64), dtype=pl.Int64),
        "form": pl.Series([form] * n, dtype=pl.Utf8), "mission_code": mission_code.cast(pl.Utf8),
        "case_ref": case_ref.cast(pl.Utf8), "person_id": person.cast(pl.Utf8),
        "D": pl.Series(Dd.astype(np.int64), dtype=pl.Int64), "F": pl.Series(F.astype(np.int64), dtype=pl.Int64),
        "expected": pl.Series(expected_of(Dd, isdup).astype(str), dtype=pl.Utf8),
    })
    return df.select("source_file", "source_row", "form", "mission_code", "case_ref", "person_id", _DEFECTS_EXPR,
                     "expected", _FIELDS_EXPR)


def _ambiguous(cols: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    n = len(next(iter(cols.values())))
    D = np.zeros(n, np.int64)
    F = np.zeros(n, np.int64)
    for f, x in cols.items():
        ok = x != NULL
        _, m, d = W.ymd(np.where(ok, x, 0))
        amb = ok & (d <= 12) & (d != m)
        D |= np.where(amb, BIT["ambiguous_date"], 0)
        F |= np.where(amb, FBIT[f], 0)
    return D, F


@cache
def _csv_expr(k: int) -> pl.Expr:
    exprs = []
    for i in range(k):
        c = pl.col(f"c{i}").fill_null("")
        exprs.append(pl.when(c.str.contains(r'[;"\r\n]')).then(
            pl.concat_str([pl.lit('"'), c.str.replace_all('"', '""', literal=True), pl.lit('"')])).otherwise(c))
    return pl.concat_str(exprs, separator=";")


def _csv_lines(cols: list[pl.Series]) -> pl.Series:
    df = pl.DataFrame({f"c{i}": s.cast(pl.Utf8) for i, s in enumerate(cols)})
    return df.select(_csv_expr(len(cols))).to_series()


def _group_join(x: np.ndarray, lines: pl.Series, sep: str) -> dict[int, str]:
    if len(x) == 0:
        return {}
    g = pl.DataFrame({"x": x, "l": lines}).group_by("x", maintain_order=True).agg(pl.col("l").str.join(sep))
    return dict(zip(g["x"].to_list(), g["l"].to_list(), strict=True))


def _encode(text: str, encoding: str) -> bytes:
    if encoding == "cp1252":
        try:
            return text.encode("cp1252")
        except UnicodeEncodeError:
            return R.cp1252_fold(text).encode("cp1252")
    return text.encode("utf-8")


def _mission_codes(mi: np.ndarray) -> pl.Series:
    return take(pl.Series(missions_table()["code"]), mi.astype(np.int64))


# ----------------------------------------------------------------------------------------------
def render_task(task: dict) -> dict:
    """Write the task's export files and, when task["truth_dir"] is set, its ground-truth rows as
    headerless CSV parts `<truth_dir>/<MISSION>.<era>.csv`, each sorted by source_file, form
    (screening first) and source_row. Returns counts."""
    ctx = Ctx(task)
    r, a = task["rec"], task["arec"]
    if len(r["case"]) == 0:
        return {"files": 0, "screening": 0, "assistance": 0}
    render = {R.LEGACY: _render_legacy, R.MIMOSA: _render_mimosa}.get(ctx.era, _render_api)
    return render(ctx, r, a)


# Records whose text is built at once. Text is most of a worker's memory (~7 KB a MiMOSA record
# while its sheet XML is built), numbers ~0.6 KB: the 105k-record MiMOSA task of 1M cases peaked
# at 1,066 MB rendered whole, 700 MB in batches of 50k, 440 MB of 20k, for the same CPU time.
BATCH_ROWS = 20_000


@cache
def _code_rank() -> np.ndarray:
    codes = missions_table()["code"]
    rank = np.zeros(len(codes), np.int64)
    rank[sorted(range(len(codes)), key=codes.__getitem__)] = np.arange(len(codes))
    return rank


def _batches(ctx: Ctx, x: np.ndarray) -> list[np.ndarray]:
    """The task's exports in groups rendered to text one after the other (a flag per export): whole
    (mission, received date) folders in path order, about BATCH_ROWS records a group. Every random
    draw is made task-wide before, and a record's text depends on that record only, so the files do
    not depend on the grouping; and as a folder is never split, each group's truth rows, sorted, are
    the next rows of their missions' truth parts."""
    nx = len(ctx.ex_mission)
    code = _code_rank()[ctx.ex_mission.astype(np.int64)]
    recv = ctx.ex_received.astype(np.int64)
    order = np.lexsort((recv, code))
    cnt = np.bincount(x, minlength=nx)[order]
    folder = np.r_[True, (code[order][1:] != code[order][:-1]) | (recv[order][1:] != recv[order][:-1])]
    out, start, rows = [], 0, 0
    for i in range(nx):
        if folder[i] and rows >= BATCH_ROWS:
            out.append(order[start:i])
            start, rows = i, 0
        rows += int(cnt[i])
    out.append(order[start:])
    flags = []
    for exports in out:
        f = np.zeros(nx, bool)
        f[exports] = True
        flags.append(f)
    return flags


def _sub(d: dict[str, np.ndarray], idx: np.ndarray) -> dict[str, np.ndarray]:
    return {k: val[idx] for k, val in d.items()}


def _batch(inb: np.ndarray, x: np.ndarray, ax: np.ndarray, arec: np.ndarray, r: dict, v: dict, av: dict):
    """A batch's records (`rows`: indexes into the task's; `ar`: its assistance records'), their
    parts of `r`, `v` and `av`, and each assistance record's case as an index into `rows`."""
    rows = np.nonzero(inb[x])[0]
    ar = np.nonzero(inb[ax])[0]
    return rows, ar, _sub(r, rows), _sub(v, rows), _sub(av, ar), np.searchsorted(rows, arec[ar])


def _file_rows(inb: np.ndarray, xs: np.ndarray, src: np.ndarray, rows: np.ndarray, *more: np.ndarray):
    """The file rows (originals and duplicates, file order) of the batch's exports `inb`: their
    source as an index into the batch's records `rows`, and `xs` and `more` arrays restricted to them."""
    s = np.nonzero(inb[xs])[0]
    return (np.searchsorted(rows, src[s]), xs[s], *(m[s] for m in more))


def _render_legacy(ctx: Ctx, r: dict, a: dict) -> dict:
    MT = missions_table()
    n = len(r["case"])
    mi = r["mission"].astype(np.int64)
    lang = MT["lang"][mi]
    v = screening_content(ctx, r)
    rng, rates = ctx.rng, ctx.rates
    D, F = v["D"], v["F"]

    def nr(isnull: np.ndarray, field: str) -> np.ndarray:
        """Rows whose blank is written as the mission's 'not recorded' word."""
        nonlocal D, F
        pick = isnull & (rng.random(n) < rates["not_recorded_code"])
        D = D | np.where(pick, BIT["not_recorded_code"], 0)
        F = F | np.where(pick, FBIT[field], 0)
        return pick

    # every draw task-wide, in a fixed order: not-recorded words, country variants, duplicates
    nr_sex = nr(v["sex"] < 0, "sex")
    nr_status = nr(v["status"] < 0, "victim_status")
    nr_agency = nr(v["agency"] < 0, "identifying_agency")
    nr_recr = nr(v["recruiter"] < 0, "recruiter_relationship")
    nr_elig = nr(v["eligible"].astype(np.int64) < 0, "is_eligible_for_assistance")
    nr_cons = nr(v["consent"].astype(np.int64) < 0, "has_research_consent")
    cit_i, cit_v = legacy_country(ctx, v["citizenship"], lang, False)
    nr_cit = nr(v["citizenship"] == -1, "citizenship")
    rec_i, rec_v = legacy_country(ctx, v["rec_c"], lang, False)
    exp_i, exp_v = legacy_country(ctx, v["expl_c"], lang, False)
    tr = [legacy_country(ctx, v[k], lang, True) for k in ("t1", "t2", "t3")]
    for flag, field in ((cit_v, "citizenship"), (rec_v, "recruitment_country"), (exp_v, "exploitation_country"),
                        (tr[0][1] | tr[1][1] | tr[2][1], "transit_countries")):
        D = D | np.where(flag, BIT["country_variant"], 0)
        F = F | np.where(flag, FBIT[field], 0)
    aD, aF = _ambiguous({"registration_date": v["reg"], "identification_date": v["ident"], "date_of_birth": v["dob"],
                         "recruitment_date": v["rec_date"], "exploitation_start_date": v["expl_start"],
                         "exploitation_end_date": v["expl_end"]})
    D, F = D | aD, F | aF
    x = r["x"]
    dup, at_end = _duplicates(ctx, n, D)
    src, isdup, rownum = _order(x, dup, at_end)
    xs = x[src]
    na = len(a["type"])
    av = assistance_content(ctx, a)
    aD, aF = av["D"], av["F"]
    arec = a["rec"]
    ret_i, ret_v = legacy_country(ctx, av["ret"], lang[arec], False)
    aD = aD | np.where(ret_v, BIT["country_variant"], 0)
    aF = aF | np.where(ret_v, FBIT["return_country"], 0)
    dD, dF = _ambiguous({"assistance_start_date": av["start"], "assistance_end_date": av["end"]}) if na else (0, 0)
    av["D"], av["F"] = aD | dD, aF | dF
    ax = x[arec]
    adup, aat_end = _duplicates(ctx, na, av["D"])
    asrc, aisdup, arownum = _order(ax, adup, aat_end)
    axs = ax[asrc]
    v["D"], v["F"] = D, F
    picks = {"sex": nr_sex, "status": nr_status, "agency": nr_agency, "recr": nr_recr, "elig": nr_elig,
             "cons": nr_cons, "cit": nr_cit, "cit_i": cit_i, "rec_i": rec_i, "exp_i": exp_i, "t1_i": tr[0][0],
             "t2_i": tr[1][0], "t3_i": tr[2][0]}
    lay = R.layout("ctm_legacy", "screening")
    header = ";".join(h for _, h in lay) + "\r\n"
    alay = R.layout("ctm_legacy", "assistance")
    aheader = ";".join(h for _, h in alay) + "\r\n"
    nx = len(ctx.ex_mission)
    stats = {"files": 0, "screening": int(len(src)), "assistance": int(len(asrc))}
    for inb in _batches(ctx, x):
        rows, ar, rb, vb, avb, arec_b = _batch(inb, x, ax, arec, r, v, av)
        values, case_ref = _legacy_values(ctx, rb, vb, _sub(picks, rows))
        lines = _csv_lines([values[f] for f, _ in lay])
        src_b, xs_b, rownum_b, isdup_b = _file_rows(inb, xs, src, rows, rownum, isdup)
        present = sorted(int(e) for e in np.nonzero(inb)[0])
        s_rel = {e: ctx.rel(e, f"CTM_{ctx.code(e)}_screening_{ctx.stamp(e)}.csv") for e in present}
        a_rel = {e: ctx.rel(e, f"CTM_{ctx.code(e)}_assistance_{ctx.stamp(e)}.csv") for e in present}
        for e, body in _group_join(xs_b, lines.gather(src_b), "\r\n").items():
            ctx.write(s_rel[e], _encode(header + body + "\r\n", "cp1252"))
        del lines
        # assistance files (written for every export, header only when the export has no episode)
        asrc_b, axs_b, arownum_b, aisdup_b = _file_rows(inb, axs, asrc, ar, arownum, aisdup)
        atexts = {}
        if len(ar):
            mib = rb["mission"].astype(np.int64)
            atl = MT["tlang"][mib][arec_b]
            afmt = MT["datefmt"][mib][arec_b]
            avalues = {"case_ref": case_ref.gather(arec_b),
                       "assistance_type": legacy_code_text("assistance_type", atl, avb["type"]),
                       "assistance_start_date": _dates_text(avb["start"], afmt),
                       "assistance_end_date": _dates_text(avb["end"], afmt),
                       "provider_name": providers(mib[arec_b], avb["type"], avb["provider"], "cp1252"),
                       "funding_source": legacy_code_text("funding_source", atl, avb["funding"]),
                       "reintegration_outcome": legacy_code_text("reintegration_outcome", atl, avb["outcome"]),
                       "return_country": legacy_country_text(ret_i[ar])}
            atexts = _group_join(axs_b, _csv_lines([avalues[f] for f, _ in alay]).gather(asrc_b), "\r\n")
        for e in present:
            body = atexts.get(e)
            ctx.write(a_rel[e], _encode(aheader + (body + "\r\n" if body else ""), "cp1252"))
        stats["files"] += 2 * len(present)
        del atexts
        if ctx.truth_dir:
            person = _person_id(rb["person"])
            mcodes = _mission_codes(rb["mission"])
            t_s = _truth(take(pl.Series([s_rel.get(e, "") for e in range(nx)]), xs_b), rownum_b, "screening",
                         mcodes.gather(src_b), case_ref.gather(src_b), person.gather(src_b), vb["D"][src_b],
                         vb["F"][src_b], isdup_b)
            t_a = _truth(take(pl.Series([a_rel.get(e, "") for e in range(nx)]), axs_b), arownum_b, "assistance",
                         mcodes.gather(arec_b).gather(asrc_b), case_ref.gather(arec_b).gather(asrc_b),
                         person.gather(arec_b).gather(asrc_b), avb["D"][asrc_b], avb["F"][asrc_b], aisdup_b)
            ctx.add_truth(pl.concat([t_s, t_a]))
    return stats


def _dates_text(xd: np.ndarray, fmt_idx: np.ndarray) -> pl.Series:
    s = days_to_date(xd)
    return pl.select(pl.when(pl.Series(fmt_idx) == 0).then(s.dt.strftime(DATE_FMTS[0]))
                     .otherwise(s.dt.strftime(DATE_FMTS[1]))).to_series()


def _legacy_values(ctx: Ctx, r: dict, v: dict, picks: dict) -> tuple[dict[str, pl.Series], pl.Series]:
    """Cell text of legacy screening records (a batch): the values of `v`, with the draws of `picks`
    (not-recorded words, country cells) made task-wide by _render_legacy."""
    MT = missions_table()
    mi = r["mission"].astype(np.int64)
    lang = MT["lang"][mi]
    tl = MT["tlang"][mi]
    sep_idx = MT["sep"][mi]
    fmt = MT["datefmt"][mi]
    ident_t = identity_text(ctx, r, v, "cp1252")
    words = pl.Series([R.NOT_RECORDED_WORD[lg] for lg in LANGS])

    def nr(series: pl.Series, pick: np.ndarray) -> pl.Series:
        idx = np.nonzero(pick)[0]
        return series.scatter(idx, take(words, lang[idx])) if len(idx) else series

    sexflat = pl.Series([w for lg in LANGS for w in R.LEGACY_SEX[lg]])
    sp = _sex_pos(v["sex"])
    sex_t = nr(take(sexflat, np.where(sp >= 0, lang * 3 + sp, -1)), picks["sex"])
    status_t = nr(legacy_code_text("victim_status", tl, v["status"]), picks["status"])
    agency_t = nr(legacy_code_text("identifying_agency", tl, v["agency"]), picks["agency"])
    recr_t = nr(legacy_code_text("recruiter_relationship", tl, v["recruiter"]), picks["recr"])

    def yn(xv, pick):
        return nr(take(MT["yes_no"], np.where(xv >= 0, mi * 2 + xv, -1)), pick)

    # NOM_COMPLET: "FAMILY Given" or "Given Family" (the mission's habit), reversed when swapped
    ff = MT["family_first"][mi] ^ ident_t["swap"]
    ndf = pl.DataFrame({"g": ident_t["given"], "f": ident_t["family"], "ff": ff})
    full = ndf.select(pl.when(pl.col("ff")).then(
        pl.concat_str([pl.col("f").str.to_uppercase(), pl.col("g")], separator=" ", ignore_nulls=True))
        .otherwise(pl.concat_str([pl.col("g"), pl.col("f")], separator=" ", ignore_nulls=True))).to_series()
    case_ref = _case_ref(r)
    age = v["age"].astype(np.int64)
    age_t = pl.Series(age).cast(pl.Utf8)
    if (age < 0).any():
        age_t = age_t.scatter(np.nonzero(age < 0)[0], None)
    values = {
        "case_ref": case_ref, "registration_date": _dates_text(v["reg"], fmt),
        "identification_date": _dates_text(v["ident"], fmt), "full_name": full,
        "date_of_birth": _dates_text(v["dob"], fmt), "age_reported": age_t, "sex": sex_t,
        "citizenship": nr(legacy_country_text(picks["cit_i"]), picks["cit"]),
        "document_number": ident_t["doc"], "phone": ident_t["phone"], "address": ident_t["addr"],
        "narrative": ident_t["narr"], "interviewer_name": ident_t["interviewer"], "identifying_agency": agency_t,
        "victim_status": status_t, "is_eligible_for_assistance": yn(v["eligible"].astype(np.int64), picks["elig"]),
        "exploitation_types": multi_text("exploitation_type", v["types"], tl=tl, sep_idx=sep_idx),
        "labour_sectors": multi_text("labour_sector", v["sectors"], tl=tl, sep_idx=sep_idx),
        "means_of_control": multi_text("means_of_control", v["means"], tl=tl, sep_idx=sep_idx),
        "recruiter_relationship": recr_t, "recruitment_country": legacy_country_text(picks["rec_i"]),
        "transit_countries": _join_sep([legacy_country_text(picks[k]) for k in ("t1_i", "t2_i", "t3_i")], sep_idx),
        "exploitation_country": legacy_country_text(picks["exp_i"]),
        "recruitment_date": _dates_text(v["rec_date"], fmt),
        "exploitation_start_date": _dates_text(v["expl_start"], fmt),
        "exploitation_end_date": _dates_text(v["expl_end"], fmt),
        "has_research_consent": yn(v["consent"].astype(np.int64), picks["cons"]),
    }
    return values, case_ref


def _sex_pos(sex: np.ndarray) -> np.ndarray:
    sc = R.codes("sex")
    pos = np.full(len(sex), -1, np.int64)
    for i, code in enumerate(("female", "male", "other")):
        pos[sex == sc.index(code)] = i
    return pos


# ----------------------------------------------------------------------------------------------
@cache
def _xml_expr(kinds: tuple[str, ...]) -> pl.Expr:
    """<row> XML of each row. Frame columns: c0..cK values, rn (row number), st<i> (date style flag)."""
    rn = pl.col("rn").cast(pl.Utf8)
    cells = []
    for i, kind in enumerate(kinds):
        c = pl.col(f"c{i}")
        ref = [pl.lit(f'<c r="{col_letter(i)}'), rn]
        if kind == "s":
            esc = c.str.replace_all("&", "&amp;", literal=True).str.replace_all("<", "&lt;", literal=True) \
                .str.replace_all(">", "&gt;", literal=True)
            pre = pl.when(c.str.contains(r"^\s|\s$|\n")).then(pl.lit(' xml:space="preserve"')).otherwise(pl.lit(""))
            cells.append(pl.when(c.is_not_null()).then(pl.concat_str(
                [*ref, pl.lit('" t="inlineStr"><is><t'), pre, pl.lit(">"), esc, pl.lit("</t></is></c>")])))
        elif kind == "n":
            cells.append(pl.when(c.is_not_null()).then(pl.concat_str(
                [*ref, pl.lit('"><v>'), c.cast(pl.Utf8), pl.lit("</v></c>")])))
        else:  # date serial: styled as a date, or a plain number
            sty = pl.when(pl.col(f"st{i}")).then(pl.lit('" s="1"><v>')).otherwise(pl.lit('"><v>'))
            cells.append(pl.when(c.is_not_null()).then(pl.concat_str([*ref, sty, c.cast(pl.Utf8), pl.lit("</v></c>")])))
    return pl.concat_str([pl.lit('<row r="'), rn, pl.lit('">'), *cells, pl.lit("</row>")], ignore_nulls=True)


def _mimosa_dates(x: np.ndarray, fields: dict[str, np.ndarray], blank1900: np.ndarray,
                  serial_cols: dict[str, np.ndarray]):
    """Excel serials of date fields: blanks as 1900-01-01 (serial 1) in some files, plain (unstyled)
    serial numbers in some (file, column) pairs. Returns (values, styled flags, D, F)."""
    n = len(x)
    D = np.zeros(n, np.int64)
    F = np.zeros(n, np.int64)
    vals, styled = {}, {}
    for f, dd in fields.items():
        isnull = dd == NULL
        b = isnull & blank1900[x]
        ser = np.where(isnull, np.where(b, 1, -1), dd.astype(np.int64) + EXCEL_EPOCH)
        plain = serial_cols[f][x]
        D |= np.where(b, BIT["excel_blank_date"], 0) | np.where(plain & ~isnull, BIT["excel_serial_date"], 0)
        F |= np.where(b | (plain & ~isnull), FBIT[f], 0)
        s = pl.Series(ser)
        idx = np.nonzero(ser < 0)[0]
        vals[f] = s.scatter(idx, None) if len(idx) else s
        styled[f] = ~plain
    return vals, styled, D, F


def _sheet_rows(values: dict, layout, src: np.ndarray, xs: np.ndarray, rownum: np.ndarray, styled: dict):
    cols, kinds = {}, []
    for i, (f, _) in enumerate(layout):
        kind, ser = values[f]
        cols[f"c{i}"] = ser.gather(src)
        kinds.append(kind)
        if kind == "d":
            cols[f"st{i}"] = pl.Series(styled[f][src])
    cols["rn"] = pl.Series(rownum + 1)
    rows = pl.DataFrame(cols).select(_xml_expr(tuple(kinds)).alias("x")).to_series()
    return _group_join(xs, rows, ""), dict(zip(*[a.tolist() for a in np.unique(xs, return_counts=True)], strict=True))


def _render_mimosa(ctx: Ctx, r: dict, a: dict) -> dict:
    n = len(r["case"])
    rng, rates = ctx.rng, ctx.rates
    v = screening_content(ctx, r)
    D, F = v["D"], v["F"]
    x = r["x"]
    nx = len(ctx.ex_mission)
    # every draw task-wide, in a fixed order: date styles, not-recorded codes, duplicates
    blank1900 = rng.random(nx) < rates["excel_blank_date"]
    serial_cols = {f: rng.random(nx) < rates["excel_serial_date"] for f in DATE_FIELDS_S + DATE_FIELDS_A}

    def nr(isnull: np.ndarray, field: str) -> np.ndarray:
        nonlocal D, F
        pick = isnull & (rng.random(n) < rates["not_recorded_code"])
        D = D | np.where(pick, BIT["not_recorded_code"], 0)
        F = F | np.where(pick, FBIT[field], 0)
        return pick

    picks = {"age": nr(v["age"] < 0, "age_reported"), "sex": nr(v["sex"] < 0, "sex"),
             "elig": nr(v["eligible"].astype(np.int64) < 0, "is_eligible_for_assistance"),
             "cons": nr(v["consent"].astype(np.int64) < 0, "has_research_consent"),
             "types": nr(v["types"] == 0, "exploitation_types")}
    dates, styled, dD, dF = _mimosa_dates(x, {"registration_date": v["reg"], "identification_date": v["ident"],
                                              "date_of_birth": v["dob"], "recruitment_date": v["rec_date"],
                                              "exploitation_start_date": v["expl_start"],
                                              "exploitation_end_date": v["expl_end"]}, blank1900, serial_cols)
    v["D"], v["F"] = D | dD, F | dF
    dup, at_end = _duplicates(ctx, n, v["D"])
    src, isdup, rownum = _order(x, dup, at_end)
    xs = x[src]
    na = len(a["type"])
    av = assistance_content(ctx, a)
    arec = a["rec"]
    ax = x[arec]
    adates, astyled, dD, dF = _mimosa_dates(ax, {"assistance_start_date": av["start"],
                                                 "assistance_end_date": av["end"]}, blank1900, serial_cols)
    av["D"], av["F"] = av["D"] | dD, av["F"] | dF
    adup, aat_end = _duplicates(ctx, na, av["D"])
    asrc, aisdup, arownum = _order(ax, adup, aat_end)
    axs = ax[asrc]
    lay = R.layout("mimosa_xlsx", "screening")
    alay = R.layout("mimosa_xlsx", "assistance")
    headers = [h for _, h in lay]
    aheaders = [h for _, h in alay]
    stats = {"files": 0, "screening": int(len(src)), "assistance": int(len(asrc))}
    for inb in _batches(ctx, x):
        rows, ar, rb, vb, avb, arec_b = _batch(inb, x, ax, arec, r, v, av)
        mib = rb["mission"].astype(np.int64)
        values, case_ref = _mimosa_values(ctx, rb, vb, _sub(picks, rows))
        for f in DATE_FIELDS_S:
            values[f] = ("d", dates[f].gather(rows))
        src_b, xs_b, rownum_b, isdup_b = _file_rows(inb, xs, src, rows, rownum, isdup)
        s_xml, s_count = _sheet_rows(values, lay, src_b, xs_b, rownum_b, _sub(styled, rows))
        del values
        asrc_b, axs_b, arownum_b, aisdup_b = _file_rows(inb, axs, asrc, ar, arownum, aisdup)
        a_xml, a_count = {}, {}
        if len(ar):
            avalues = {
                "case_ref": ("s", case_ref.gather(arec_b)),
                "assistance_type": ("s", code_text("assistance_type", "label", avb["type"])),
                "assistance_start_date": ("d", adates["assistance_start_date"].gather(ar)),
                "assistance_end_date": ("d", adates["assistance_end_date"].gather(ar)),
                "provider_name": ("s", providers(mib[arec_b], avb["type"], avb["provider"], "utf-8")),
                "funding_source": ("s", code_text("funding_source", "label", avb["funding"])),
                "reintegration_outcome": ("s", code_text("reintegration_outcome", "label", avb["outcome"])),
                "return_country": ("s", code_country(avb["ret"], "alpha2")),
            }
            a_xml, a_count = _sheet_rows(avalues, alay, asrc_b, axs_b, arownum_b, _sub(astyled, ar))
            del avalues
        rel = {}
        for e in sorted(int(e) for e in np.nonzero(inb)[0]):
            rel[e] = ctx.rel(e, f"MiMOSA_{ctx.code(e)}_{ctx.stamp(e)}.xlsx")
            path = ctx.out / rel[e]
            if path.parent not in ctx._dirs:
                path.parent.mkdir(parents=True, exist_ok=True)
                ctx._dirs.add(path.parent)
            created = date.fromordinal(_EPOCH_ORD + int(ctx.ex_date[e])).isoformat() + "T00:00:00Z"
            write_workbook(path, [("Screening", sheet_xml(headers, s_xml.pop(e, ""), int(s_count.get(e, 0)))),
                                  ("Assistance", sheet_xml(aheaders, a_xml.pop(e, ""), int(a_count.get(e, 0))))],
                           created, creator=f"MiMOSA {ctx.code(e)}", compresslevel=ctx.compresslevel)
        stats["files"] += len(rel)
        if ctx.truth_dir:
            lookup = pl.Series([rel.get(e, "") for e in range(nx)])
            person = _person_id(rb["person"])
            mcodes = _mission_codes(mib)
            t_s = _truth(take(lookup, xs_b), rownum_b, "screening", mcodes.gather(src_b), case_ref.gather(src_b),
                         person.gather(src_b), vb["D"][src_b], vb["F"][src_b], isdup_b)
            t_a = _truth(take(lookup, axs_b), arownum_b, "assistance", mcodes.gather(arec_b).gather(asrc_b),
                         case_ref.gather(arec_b).gather(asrc_b), person.gather(arec_b).gather(asrc_b),
                         avb["D"][asrc_b], avb["F"][asrc_b], aisdup_b)
            ctx.add_truth(pl.concat([t_s, t_a]))
    return stats


def _mimosa_values(ctx: Ctx, r: dict, v: dict, picks: dict) -> tuple[dict[str, tuple[str, pl.Series]], pl.Series]:
    """Cell kind and value of MiMOSA screening records (a batch), dates apart, with the -99 codes of
    `picks` drawn task-wide by _render_mimosa."""
    ident_t = identity_text(ctx, r, v, "utf-8")

    def num(xv, isnull, m99):
        s = pl.Series(np.where(m99, -99, xv).astype(np.int64))
        idx = np.nonzero(isnull & ~m99)[0]
        return s.scatter(idx, None) if len(idx) else s

    age = v["age"].astype(np.int64)
    sex_t = code_text("sex", "label", v["sex"])
    if picks["sex"].any():
        sex_t = sex_t.scatter(np.nonzero(picks["sex"])[0], "-99")
    el = v["eligible"].astype(np.int64)
    co = v["consent"].astype(np.int64)
    ty_null = v["types"] == 0
    tr_t = _join_sep([code_country(v[k], "alpha2") for k in ("t1", "t2", "t3")], None, ", ")
    case_ref = _case_ref(r)
    values: dict[str, tuple[str, pl.Series]] = {
        "case_ref": ("s", case_ref), "given_name": ("s", ident_t["given"]), "family_name": ("s", ident_t["family"]),
        "age_reported": ("n", num(age, age < 0, picks["age"])), "sex": ("s", sex_t),
        "citizenship": ("s", code_country(v["citizenship"], "alpha2")),
        "document_number": ("s", ident_t["doc"]), "phone": ("s", ident_t["phone"]), "address": ("s", ident_t["addr"]),
        "narrative": ("s", ident_t["narr"]), "interviewer_name": ("s", ident_t["interviewer"]),
        "identifying_agency": ("s", code_text("identifying_agency", "label", v["agency"])),
        "victim_status": ("s", code_text("victim_status", "label", v["status"])),
        "is_eligible_for_assistance": ("n", num(el, el < 0, picks["elig"])),
        "labour_sectors": ("s", multi_text("labour_sector", v["sectors"], sep=", ")),
        "means_of_control": ("s", multi_text("means_of_control", v["means"], sep=", ")),
        "recruiter_relationship": ("s", code_text("recruiter_relationship", "label", v["recruiter"])),
        "recruitment_country": ("s", code_country(v["rec_c"], "alpha2")), "transit_countries": ("s", tr_t),
        "exploitation_country": ("s", code_country(v["expl_c"], "alpha2")),
        "has_research_consent": ("n", num(co, co < 0, picks["cons"])),
    }
    for j, code in enumerate(R.codes("exploitation_type")):
        values[f"flag:{code}"] = ("n", num((v["types"] >> j) & 1, ty_null, picks["types"]))
    return values, case_ref


# ----------------------------------------------------------------------------------------------
def _uuid(hi: np.ndarray, lo: np.ndarray) -> pl.Series:
    b = np.stack([hi.astype(">u8"), lo.astype(">u8")], axis=1).view(np.uint8).reshape(-1, 16).copy()
    b[:, 6] = (b[:, 6] & 0x0F) | 0x40
    b[:, 8] = (b[:, 8] & 0x3F) | 0x80
    hx = b.tobytes().hex()
    s = pl.Series([hx[i * 32:(i + 1) * 32] for i in range(len(hi))], dtype=pl.Utf8)
    return pl.select(pl.concat_str([s.str.slice(0, 8), pl.lit("-"), s.str.slice(8, 4), pl.lit("-"), s.str.slice(12, 4),
                                    pl.lit("-"), s.str.slice(16, 4), pl.lit("-"), s.str.slice(20, 12)])).to_series()


def _jq(c: str) -> pl.Expr:
    """JSON text of a value that needs no escaping (codes, dates): "value" or null."""
    return pl.when(pl.col(c).is_null()).then(pl.lit("null")).otherwise(pl.concat_str([pl.lit('"'), pl.col(c),
                                                                                     pl.lit('"')]))


def _leg(stage: str, c: str, d: str | None) -> pl.Expr:
    cond = pl.col(c).is_not_null() if d is None else (pl.col(c).is_not_null() | pl.col(d).is_not_null())
    return pl.when(cond).then(pl.concat_str([pl.lit(f'{{"stage":"{stage}","country":'), _jq(c), pl.lit(',"date":'),
                                             _jq(d) if d else pl.lit("null"), pl.lit("}")]))


_HEAD = pl.struct("case_id", "submission_uuid", "registered_on", "identified_on").struct.json_encode()
_JSON_EXPR = pl.concat_str([
    _HEAD.str.head(-1),
    pl.lit(',"person":'),
    pl.struct("given_name", "family_name", "birth_date", "age", "sex", "citizenship", "document_number", "phone",
              "address").struct.json_encode(),
    pl.lit(',"screening":'),
    pl.struct("narrative", "interviewer", "identifying_agency", "victim_status", "eligible_for_assistance",
              "research_consent").struct.json_encode(),
    pl.lit(',"exploitation":{"types":'), pl.col("types"), pl.lit(',"sectors":'), pl.col("sectors"),
    pl.lit(',"means_of_control":'), pl.col("means_of_control"), pl.lit(',"recruiter_relationship":'),
    _jq("recruiter_relationship"), pl.lit(',"start_date":'), _jq("start_date"), pl.lit(',"end_date":'), _jq("end_date"),
    pl.lit('},"route":['),
    pl.concat_str([_leg("recruitment", "rc", "rd"), _leg("transit", "t1", None), _leg("transit", "t2", None),
                   _leg("transit", "t3", None), _leg("exploitation", "ec", "start_date")], separator=",",
                  ignore_nulls=True),
    pl.lit('],"assistance":['), pl.col("assistance").fill_null(""), pl.lit("]}"),
]).alias("j")
_EPISODE = pl.struct("type", "start_date", "end_date", "provider", "funding", "outcome", "return_country"
                     ).struct.json_encode().alias("e")


def _render_api(ctx: Ctx, r: dict, a: dict) -> dict:
    n = len(r["case"])
    v = screening_content(ctx, r)
    av = assistance_content(ctx, a)
    x = r["x"]
    nx = len(ctx.ex_mission)
    arec = a["rec"].astype(np.int64)
    case_aD = np.zeros(n, np.int64)
    if len(arec):
        np.bitwise_or.at(case_aD, arec, av["D"])
    dup, at_end = _duplicates(ctx, n, v["D"] | case_aD)  # a JSON line is duplicated whole
    src, isdup, rownum = _order(x, dup, at_end)
    xs = x[src]
    ax = x[arec]
    stats = {"files": 0, "screening": int(len(src)), "assistance": 0}
    for inb in _batches(ctx, x):
        rows, ar, rb, vb, avb, arec_b = _batch(inb, x, ax, arec, r, v, av)
        json, case_ref = _api_json(ctx, rb, vb, avb, arec_b)
        src_b, xs_b, rownum_b, isdup_b = _file_rows(inb, xs, src, rows, rownum, isdup)
        rel = {}
        for e, body in _group_join(xs_b, json.gather(src_b), "\n").items():
            rel[e] = ctx.rel(e, f"cases_{ctx.stamp(e)}.jsonl")
            ctx.write(rel[e], _encode(body + "\n", "utf-8"))
        del json
        stats["files"] += len(rel)
        # assistance records: source_row = line * 1000 + position in the case's list (1-based)
        first = np.searchsorted(arec_b, np.arange(len(rows)), side="left")
        cnt = np.searchsorted(arec_b, np.arange(len(rows)), side="right") - first
        c = cnt[src_b]
        line = np.repeat(np.arange(len(src_b)), c)
        off = np.repeat(np.cumsum(c) - c, c)
        pos = np.arange(int(c.sum())) - off
        ai = first[src_b][line] + pos
        stats["assistance"] += int(len(ai))
        if ctx.truth_dir:
            lookup = pl.Series([rel.get(e, "") for e in range(nx)])
            person = _person_id(rb["person"])
            mcodes = _mission_codes(rb["mission"])
            t_s = _truth(take(lookup, xs_b), rownum_b, "screening", mcodes.gather(src_b), case_ref.gather(src_b),
                         person.gather(src_b), vb["D"][src_b], vb["F"][src_b], isdup_b)
            t_a = _truth(take(lookup, xs_b[line]), rownum_b[line] * 1000 + pos + 1, "assistance",
                         mcodes.gather(arec_b).gather(ai), case_ref.gather(arec_b).gather(ai),
                         person.gather(arec_b).gather(ai), avb["D"][ai], avb["F"][ai], isdup_b[line])
            ctx.add_truth(pl.concat([t_s, t_a]))
    return stats


def _api_json(ctx: Ctx, r: dict, v: dict, av: dict, arec: np.ndarray) -> tuple[pl.Series, pl.Series]:
    """JSON line of each case API record (a batch) with its assistance episodes `av` (record `arec`),
    and the case references."""
    n = len(r["case"])
    mi = r["mission"].astype(np.int64)
    ident_t = identity_text(ctx, r, v, "utf-8")

    def iso(d):
        return days_to_date(d).dt.strftime("%Y-%m-%d")

    def boolean(xv):
        s = pl.Series(xv == 1)
        idx = np.nonzero(xv < 0)[0]
        return s.scatter(idx, None) if len(idx) else s

    age = pl.Series(v["age"].astype(np.int64))
    if (v["age"] < 0).any():
        age = age.scatter(np.nonzero(v["age"] < 0)[0], None)
    case_ref = _case_ref(r)
    df = pl.DataFrame({
        "case_id": case_ref, "submission_uuid": _uuid(r["uuid_hi"], r["uuid_lo"]), "registered_on": iso(v["reg"]),
        "identified_on": iso(v["ident"]), "given_name": ident_t["given"], "family_name": ident_t["family"],
        "birth_date": iso(v["dob"]), "age": age, "sex": code_text("sex", "code", v["sex"]),
        "citizenship": code_country(v["citizenship"], "alpha3"), "document_number": ident_t["doc"],
        "phone": ident_t["phone"], "address": ident_t["addr"], "narrative": ident_t["narr"],
        "interviewer": ident_t["interviewer"], "identifying_agency": code_text("identifying_agency", "code", v["agency"]),
        "victim_status": code_text("victim_status", "code", v["status"]),
        "eligible_for_assistance": boolean(v["eligible"]), "research_consent": boolean(v["consent"]),
        "types": multi_list("exploitation_type", v["types"]), "sectors": multi_list("labour_sector", v["sectors"]),
        "means_of_control": multi_list("means_of_control", v["means"]),
        "recruiter_relationship": code_text("recruiter_relationship", "code", v["recruiter"]),
        "start_date": iso(v["expl_start"]), "end_date": iso(v["expl_end"]),
        "rc": code_country(v["rec_c"], "alpha3"), "rd": iso(v["rec_date"]),
        "t1": code_country(v["t1"], "alpha3"), "t2": code_country(v["t2"], "alpha3"),
        "t3": code_country(v["t3"], "alpha3"), "ec": code_country(v["expl_c"], "alpha3"),
        "rec": np.arange(n, dtype=np.int64),
    })
    adf = pl.DataFrame({
        "rec": arec, "type": code_text("assistance_type", "code", av["type"]),
        "start_date": iso(av["start"]), "end_date": iso(av["end"]),
        "provider": providers(mi[arec], av["type"], av["provider"], "utf-8"),
        "funding": code_text("funding_source", "code", av["funding"]),
        "outcome": code_text("reintegration_outcome", "code", av["outcome"]),
        "return_country": code_country(av["ret"], "alpha3"),
    })
    agg = adf.select("rec", _EPISODE).group_by("rec", maintain_order=True).agg(
        pl.col("e").str.join(",").alias("assistance"))
    df = df.join(agg, on="rec", how="left", maintain_order="left")
    return df.select(_JSON_EXPR).to_series(), case_ref
