"""The synthetic world, vectorised with numpy: persons, cases, assistance episodes, the export schedule
of every mission, and the records (case x export) each export carries, with their content defects.

Everything here is decided in the main process from one seed; rendering files (render.py) only
formats these values and adds format defects, so the same case looks the same in every copy.
Dates are int32 days since 1970-01-01; NULL marks a missing value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from ct_pipeline.synth import names as N
from ct_pipeline.synth import reference as R
from ct_pipeline.synth.config import BIT, FBIT, SynthConfig

NULL = np.iinfo(np.int32).min
GAF_START = (date(2000, 8, 1) - date(1970, 1, 1)).days
Y1999 = (date(1999, 1, 1) - date(1970, 1, 1)).days
LEGACY_UNTIL = (date(2011, 1, 1) - date(1970, 1, 1)).days
MIMOSA_UNTIL = (date(2019, 1, 1) - date(1970, 1, 1)).days
MONTHLY_FROM = (date(2018, 12, 1) - date(1970, 1, 1)).days

# content defect kinds of a case
CD_NONE, CD_FUTURE_REG, CD_FUTURE_IDENT, CD_AGE_BIG, CD_DOB_OLD, CD_BIRTH_AFTER, CD_END_BEFORE, CD_UNKNOWN, \
    CD_MISSING_REQ = range(9)
# content defect kinds of an episode
ED_NONE, ED_BEFORE_IDENT, ED_GAF_EARLY, ED_FUTURE_END, ED_UNKNOWN_RC = range(5)
# record kinds
K_ORIGINAL, K_REEXPORT, K_MIGRATED = 0, 1, 2
# perturbation of an original later corrected by a re-export
P_NONE, P_STATUS, P_FAMILY_TYPO, P_GIVEN_TYPO = range(4)
# name variants of a person's case in a second mission
NV_NONE, NV_TRANSLIT, NV_TYPO, NV_SWAP = range(4)

MISSING_FIELDS = (
    "identification_date", "date_of_birth", "age_reported", "sex", "citizenship", "document_number", "phone",
    "address", "narrative", "interviewer_name", "identifying_agency", "victim_status", "is_eligible_for_assistance",
    "exploitation_types", "labour_sectors", "means_of_control", "recruiter_relationship", "recruitment_country",
    "transit_countries", "exploitation_country", "recruitment_date", "exploitation_start_date",
    "exploitation_end_date", "has_research_consent",
)
EP_MISSING_FIELDS = ("provider_name", "funding_source", "assistance_end_date", "return_country")


def to_days(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def ymd(days: np.ndarray):
    """Civil (year, month, day) of day numbers, vectorised (H. Hinnant's algorithm)."""
    z = np.asarray(days, dtype=np.int64) + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    y = yoe + era * 400 + (m <= 2)
    return y, m, d


def from_ymd(y, m, d) -> np.ndarray:
    y = np.asarray(y, dtype=np.int64)
    m = np.asarray(m, dtype=np.int64)
    d = np.asarray(d, dtype=np.int64)
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = np.where(m > 2, m - 3, m + 9)
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def month_len(y, m) -> np.ndarray:
    return from_ymd(y + (m == 12), np.where(m == 12, 1, m + 1), 1) - from_ymd(y, m, 1)


def unambiguous(days: np.ndarray, sel: np.ndarray) -> np.ndarray:
    """Move dates of `sel` rows to day >= 13 of the same month, monotonically (order is kept)."""
    out = days.copy()
    s = sel & (days != NULL)
    if not s.any():
        return out
    y, m, d = ymd(days[s].astype(np.int64))
    L = month_len(y, m)
    nd = 13 + ((d - 1) * (L - 12)) // L
    out[s] = from_ymd(y, m, nd).astype(out.dtype)
    return out


def shift_years(days: np.ndarray, sel: np.ndarray, k: np.ndarray) -> np.ndarray:
    out = days.copy()
    s = sel & (days != NULL)
    if not s.any():
        return out
    y, m, d = ymd(days[s].astype(np.int64))
    d = np.where((m == 2) & (d == 29), 28, d)
    out[s] = from_ymd(y - k[s], m, d).astype(out.dtype)
    return out


def age_at(dob: np.ndarray, at: np.ndarray) -> np.ndarray:
    ok = (dob != NULL) & (at != NULL)
    out = np.full(dob.shape, -1, dtype=np.int32)
    if ok.any():
        y1, m1, d1 = ymd(dob[ok].astype(np.int64))
        y2, m2, d2 = ymd(at[ok].astype(np.int64))
        out[ok] = (y2 - y1 - ((m2 < m1) | ((m2 == m1) & (d2 < d1)))).astype(np.int32)
    return out


def _choice(rng: np.random.Generator, table: dict[str, float], list_name: str, n: int) -> np.ndarray:
    codes = R.codes(list_name)
    idx = np.array([codes.index(k) for k in table], dtype=np.int16)
    p = np.array(list(table.values()), dtype=float)
    return idx[rng.choice(len(idx), size=n, p=p / p.sum())]


def _largest_remainder(total: int, w: np.ndarray) -> np.ndarray:
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    q = total * w / w.sum()
    base = np.floor(q).astype(np.int64)
    rest = total - base.sum()
    order = np.argsort(-(q - base), kind="stable")
    base[order[:rest]] += 1
    return base


@dataclass
class World:
    cfg: SynthConfig
    seed: int
    start: int
    end: int
    cases: dict[str, np.ndarray]
    persons: dict[str, np.ndarray]
    episodes: dict[str, np.ndarray]
    exports: dict[str, np.ndarray]
    records: dict[str, np.ndarray]
    arecords: dict[str, np.ndarray]
    stats: dict = field(default_factory=dict)


class _Tables:
    """Reference data as arrays."""

    def __init__(self) -> None:
        c = R.countries()
        self.nm = len(R.MISSIONS)
        self.mission_country = np.array([c.index[m.alpha2] for m in R.MISSIONS], dtype=np.int16)
        self.mission_start = np.array([m.start for m in R.MISSIONS], dtype=np.int32)
        self.mission_excluded = c.gaf_excluded[self.mission_country]
        self.mission_of_country = np.full(len(c.alpha2), -1, dtype=np.int16)
        for i, m in enumerate(R.MISSIONS):
            self.mission_of_country[c.index[m.alpha2]] = i
        cor = R.CORRIDORS
        self.nc = len(cor)
        self.c_origin = np.array([c.index[x.origin] for x in cor], dtype=np.int16)
        self.c_dest = np.array([c.index[x.dest] for x in cor], dtype=np.int16)
        self.c_t1 = np.array([c.index[x.transits[0]] if x.transits else -1 for x in cor], dtype=np.int16)
        self.c_t2 = np.array([c.index[x.transits[1]] if len(x.transits) > 1 else -1 for x in cor], dtype=np.int16)
        self.c_t3 = np.array([c.index[x.transits[2]] if len(x.transits) > 2 else -1 for x in cor], dtype=np.int16)
        self.profiles = tuple(R.PROFILES)
        self.c_profile = np.array([self.profiles.index(x.profile) for x in cor], dtype=np.int8)
        self.c_from = np.array([x.from_year for x in cor], dtype=np.int32)
        self.c_we = np.array([x.w_early for x in cor], dtype=float)
        self.c_wl = np.array([x.w_late for x in cor], dtype=float)
        role = np.zeros((self.nm, self.nc))
        for i, m in enumerate(R.MISSIONS):
            for j, x in enumerate(cor):
                if m.alpha2 == x.dest:
                    role[i, j] = R.ROLE_DEST
                elif m.alpha2 == x.origin:
                    role[i, j] = R.ROLE_ORIGIN
                elif m.alpha2 in x.transits:
                    role[i, j] = R.ROLE_TRANSIT
        self.role = role
        cult = N.CULTURES
        self.culture_of_country = np.array(
            [cult.index(N.CULTURE_OF.get(a2, "anglo")) for a2 in c.alpha2], dtype=np.int8
        )

    def mission_weights(self, y: int) -> np.ndarray:
        t = (y - 1999) / 27.0
        w = np.array([m.w_early + (m.w_late - m.w_early) * t for m in R.MISSIONS])
        return np.where(self.mission_start <= y, np.maximum(w, 0.0), 0.0)

    def corridor_weights(self, m: int, y: int) -> np.ndarray:
        t = (y - 1999) / 27.0
        w = (self.c_we + (self.c_wl - self.c_we) * t) * (self.c_from <= y)
        w = self.role[m] * np.maximum(w, 0.0)
        if w.sum() <= 0:
            w = self.role[m] * np.maximum(self.c_we + self.c_wl, 0.01)
        return w


def period(cfg: SynthConfig, start_year: int, end_year: int) -> tuple[int, int]:
    if start_year < 1999:
        raise ValueError("start_year must be 1999 or later (cases before 1999 only appear as a defect)")
    start = date(start_year, 1, 1)
    end = min(date(end_year, 12, 31), cfg.as_of)
    if end < start:
        raise ValueError(f"empty period: {start} .. {end} (as_of {cfg.as_of})")
    return to_days(start), to_days(end)


def year_targets(start: int, end: int) -> dict[int, float]:
    out = {}
    y0 = int(ymd(np.array([start]))[0][0])
    y1 = int(ymd(np.array([end]))[0][0])
    for y in range(y0, y1 + 1):
        lo = max(to_days(date(y, 1, 1)), start)
        hi = min(to_days(date(y, 12, 31)), end)
        ndays = to_days(date(y, 12, 31)) - to_days(date(y, 1, 1)) + 1
        out[y] = R.year_weight(y) * (hi - lo + 1) / ndays
    return out


def default_cases(cfg: SynthConfig, start_year: int, end_year: int) -> int:
    s, e = period(cfg, start_year, end_year)
    return int(round(sum(year_targets(s, e).values())))


# ----------------------------------------------------------------------------------------------
def _draw_base(rng, T: _Tables, n: int, targets: dict[int, float], start: int, end: int):
    """n new cases (mission, registration date, corridor), spread over years and missions."""
    years = np.array(sorted(targets))
    per_year = _largest_remainder(n, np.array([targets[y] for y in years]))
    mis, reg, cor = [], [], []
    for y, ny in zip(years, per_year, strict=True):
        if ny == 0:
            continue
        w = T.mission_weights(int(y))
        if w.sum() <= 0:
            w = (T.mission_start <= int(y) + 100).astype(float)
        per_m = rng.multinomial(ny, w / w.sum())
        lo = max(to_days(date(int(y), 1, 1)), start)
        hi = min(to_days(date(int(y), 12, 31)), end)
        for m in np.nonzero(per_m)[0]:
            k = int(per_m[m])
            mis.append(np.full(k, m, dtype=np.int16))
            reg.append(rng.integers(lo, hi + 1, size=k).astype(np.int32))
            cw = T.corridor_weights(int(m), int(y))
            cor.append(rng.choice(T.nc, size=k, p=cw / cw.sum()).astype(np.int16))
    if not mis:
        return np.zeros(0, np.int16), np.zeros(0, np.int32), np.zeros(0, np.int16)
    return np.concatenate(mis), np.concatenate(reg), np.concatenate(cor)


def _base_targets(rng, targets: dict[int, float], n_cross: int, n_ret: int, start: int, end: int,
                  total: int) -> dict[int, float]:
    """Year weights for the base cases: each year's target minus the links expected to land in it
    (estimated by simulating the link delays)."""
    years = np.array(sorted(targets))
    w = np.array([targets[y] for y in years])
    if n_cross + n_ret == 0 or w.sum() <= 0:
        return targets
    k = 20 * (n_cross + n_ret) + 1000
    src_year = rng.choice(years, size=k, p=w / w.sum())
    src_day = np.array([to_days(date(int(y), 1, 1)) for y in src_year]) + rng.integers(0, 365, k)
    src_day = np.clip(src_day, start, end)
    cross = rng.random(k) < n_cross / (n_cross + n_ret)
    same_ep = cross & (rng.random(k) < 0.6)
    delay = np.where(same_ep, rng.integers(20, 201, k), rng.integers(365, 1826, k))
    landed = ymd(np.minimum(src_day + delay, end))[0]
    ok = src_day <= np.where(cross, end - 20, end - 365)
    hist = {int(y): 0.0 for y in years}
    for y, c in zip(*np.unique(landed[ok], return_counts=True), strict=True):
        hist[int(y)] = float(c)
    scale = (n_cross + n_ret) / max(ok.sum(), 1)
    exp_total = w / w.sum() * total
    return {int(y): max(float(exp_total[i] - hist[int(y)] * scale), 0.0) for i, y in enumerate(years)}


def _draw_persons(rng, T: _Tables, cor: np.ndarray, reg: np.ndarray):
    """Persons for new cases: sex, age at identification, citizenship, name entries."""
    n = len(cor)
    prof = T.c_profile[cor]
    female_p = np.array([R.PROFILES[p]["female"] for p in T.profiles])[prof]
    child_p = np.array([R.PROFILES[p]["child"] for p in T.profiles])[prof]
    sex_codes = R.codes("sex")
    u = rng.random(n)
    sex = np.where(u < 0.004, sex_codes.index("other"),
                   np.where(rng.random(n) < female_p, sex_codes.index("female"), sex_codes.index("male"))).astype(np.int8)
    child = rng.random(n) < child_p
    adult_age = np.minimum(18 + rng.gamma(2.0, 5.0, n), 70).astype(np.int32)
    child_lo = np.where(np.isin(prof, [T.profiles.index("sex"), T.profiles.index("marriage")]), 13, 6)
    child_age = (child_lo + rng.random(n) * (18 - child_lo)).astype(np.int32)
    age = np.where(child, child_age, adult_age)
    cit = T.c_origin[cor].astype(np.int16)
    culture = T.culture_of_country[cit]
    female_name = (sex == sex_codes.index("female")) | ((sex == sex_codes.index("other")) & (rng.random(n) < 0.5))
    p = N.pool()
    given = np.zeros(n, dtype=np.int32)
    family = np.full(n, -1, dtype=np.int32)
    family2 = np.full(n, -1, dtype=np.int32)
    for ci, cname in enumerate(N.CULTURES):
        sel = culture == ci
        if not sel.any():
            continue
        for kind, ksel in (("F", female_name), ("M", ~female_name)):
            s = sel & ksel
            k = int(s.sum())
            if k == 0:
                continue
            given[s] = N.draw(rng, cname, kind, k)
            fk = "LF" if kind == "F" else "L"
            if p.base[(cname, fk)][1]:
                fam = N.draw(rng, cname, fk, k)
                mono = rng.random(k) < N.MONONYM.get(cname, 0.0)
                family[s] = np.where(mono, -1, fam)
                dbl = rng.random(k) < N.DOUBLE_SURNAME.get(cname, 0.0)
                fam2 = N.draw(rng, cname, fk, k)
                family2[s] = np.where(dbl & ~mono & (fam2 != fam), fam2, -1)
    return {"sex": sex, "age": age, "citizenship": cit, "culture": culture, "given": given, "family": family,
            "family2": family2}


def _mask_from_choice(idx: np.ndarray) -> np.ndarray:
    return (np.int64(1) << idx.astype(np.int64)).astype(np.int64)


def _topk_mask(rng, weights: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Per row, a bit mask of k[row] distinct columns drawn with probability ~ weights[row]."""
    n, c = weights.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    with np.errstate(divide="ignore"):
        keys = np.log(weights) - np.log(-np.log(rng.random((n, c)).astype(np.float32) + 1e-12))
    order = np.argsort(-keys, axis=1)
    rank = np.empty_like(order)
    rank[np.arange(n)[:, None], order] = np.arange(c)[None, :]
    chosen = (rank < k[:, None]) & np.isfinite(keys)
    bits = (np.int64(1) << np.arange(c, dtype=np.int64))[None, :]
    return (chosen * bits).sum(axis=1).astype(np.int64)


# ----------------------------------------------------------------------------------------------
def build_world(cfg: SynthConfig, cases: int | None, seed: int, start_year: int, end_year: int) -> World:
    T = _Tables()
    start, end = period(cfg, start_year, end_year)
    targets = year_targets(start, end)
    total = int(round(sum(targets.values()))) if cases is None else int(cases)
    if total < 1:
        raise ValueError("cases must be at least 1")
    ss = np.random.SeedSequence([int(seed), 20260])
    rngs = [np.random.Generator(np.random.PCG64(s)) for s in ss.spawn(13)]  # children 0-11 unchanged by a 13th
    r_base, r_pers, r_link, r_case, r_exp, r_ep, r_def, r_rec, r_map, r_name, r_can, r_misc, r_keep = rngs

    r_cross = cfg.rate("cross_mission_person") if total >= 50 else 0.0
    r_ret = min(1.0, cfg.retrafficking) if total >= 50 else 0.0
    n_cross = int(round(total * r_cross))
    n_ret = int(round(total * r_ret))
    n_base = total - n_cross - n_ret

    # links land in later years than their source: give the base the remainder of each year's target
    base_targets = _base_targets(r_misc, targets, n_cross, n_ret, start, end, total)
    mis, reg, cor = _draw_base(r_base, T, n_base, base_targets, start, end)
    pers = _draw_persons(r_pers, T, cor, reg)

    # identification: at or shortly before registration, never before 1999
    def ident_of(reg_: np.ndarray, rng) -> np.ndarray:
        k = len(reg_)
        lag = np.where(rng.random(k) < 0.3, 0, np.minimum(rng.geometric(0.1, k), 90))
        return np.maximum(reg_ - lag, Y1999).astype(np.int32)

    ident = ident_of(reg, r_base)
    dob = (ident - (pers["age"] * 365.25 + r_pers.random(len(reg)) * 364).astype(np.int64)).astype(np.int32)

    # --- links: the same person in a second case -----------------------------------------------
    def pick(pool_mask: np.ndarray, k: int, rng) -> np.ndarray:
        cand = np.nonzero(pool_mask)[0]
        if k <= 0 or len(cand) == 0:
            return np.zeros(0, dtype=np.int64)
        return np.sort(rng.choice(cand, size=min(k, len(cand)), replace=False))

    src_c = pick(reg <= end - 20, n_cross, r_link)
    src_r = pick(reg <= end - 365, n_ret, r_link)
    shortfall = (n_cross - len(src_c)) + (n_ret - len(src_r))
    if shortfall > 0:
        m2, g2, c2 = _draw_base(r_base, T, shortfall, base_targets, start, end)
        p2 = _draw_persons(r_pers, T, c2, g2)
        i2 = ident_of(g2, r_base)
        d2 = (i2 - (p2["age"] * 365.25 + r_pers.random(len(g2)) * 364).astype(np.int64)).astype(np.int32)
        mis, reg, cor, ident, dob = (np.concatenate(a) for a in ((mis, m2), (reg, g2), (cor, c2), (ident, i2), (dob, d2)))
        pers = {k: np.concatenate([pers[k], p2[k]]) for k in pers}
    nb = len(mis)
    person_of_base = np.arange(nb, dtype=np.int32)

    # cross-mission: 60% the same episode registered again (e.g. at home after return), 40% later
    same_ep = r_link.random(len(src_c)) < 0.6
    shift = np.where(same_ep, r_link.integers(20, 201, len(src_c)), r_link.integers(365, 1826, len(src_c)))
    reg_c = np.minimum(reg[src_c] + shift, end).astype(np.int32)
    same_ep |= reg_c - reg[src_c] < 365
    yc = ymd(reg_c.astype(np.int64))[0]
    m_src = mis[src_c]
    cit_m = T.mission_of_country[pers["citizenship"][src_c]]
    dest_m = T.mission_of_country[T.c_dest[cor[src_c]]]
    other = (m_src + 1 + r_link.integers(0, T.nm - 1, len(src_c))) % T.nm
    tgt = np.where((cit_m >= 0) & (cit_m != m_src), cit_m, np.where((dest_m >= 0) & (dest_m != m_src), dest_m, other))
    inactive = T.mission_start[tgt] > yc
    for i in np.nonzero(inactive)[0]:
        act = np.nonzero((T.mission_start <= yc[i]) & (np.arange(T.nm) != m_src[i]))[0]
        tgt[i] = act[r_link.integers(0, len(act))] if len(act) else m_src[i]
    tgt = tgt.astype(np.int16)
    reg_r = np.minimum(reg[src_r] + r_link.integers(365, 1826, len(src_r)), end).astype(np.int32)

    link_kind = np.concatenate([np.zeros(nb, np.int8), np.where(same_ep, 1, 2).astype(np.int8),
                                np.full(len(src_r), 3, np.int8)])
    src = np.concatenate([np.full(nb, -1, np.int64), src_c, src_r])
    mission = np.concatenate([mis, tgt, mis[src_r]]).astype(np.int16)
    reg = np.concatenate([reg, reg_c, reg_r]).astype(np.int32)
    cor = np.concatenate([cor, cor[src_c], cor[src_r]]).astype(np.int16)
    person = np.concatenate([person_of_base, person_of_base[src_c], person_of_base[src_r]]).astype(np.int32)
    ident_new = ident_of(reg[nb:], r_link)
    ident = np.concatenate([ident, ident_new]).astype(np.int32)
    is_same_ep = link_kind == 1
    ident[is_same_ep] = ident[src[is_same_ep]]
    n = len(mission)

    # --- case attributes ----------------------------------------------------------------------------
    sex = pers["sex"][person]
    cit = pers["citizenship"][person]
    prof = T.c_profile[cor]
    domestic = T.c_origin[cor] == T.c_dest[cor]
    at_home = (T.mission_country[mission] == cit) & ~domestic
    vs = R.codes("victim_status")
    status = r_case.choice(np.array([vs.index(x) for x in ("victim", "presumed_victim", "not_victim", "undetermined")],
                                    dtype=np.int8), size=n, p=[0.68, 0.16, 0.10, 0.06])
    exploited = np.isin(status, [vs.index("victim"), vs.index("presumed_victim")])
    p_elig = np.select([status == vs.index("victim"), status == vs.index("presumed_victim"),
                        status == vs.index("undetermined")], [0.92, 0.85, 0.3], 0.0)
    eligible = (r_case.random(n) < p_elig).astype(np.int8)
    eligible[r_case.random(n) < 0.02] = -1
    u = r_case.random(n)
    consent = np.where(u < 0.82, 1, np.where(u < 0.96, 0, -1)).astype(np.int8)
    agency = np.where(domestic, _choice(r_case, R.AGENCY_DOMESTIC, "identifying_agency", n),
                      np.where(at_home, _choice(r_case, R.AGENCY_ORIGIN, "identifying_agency", n),
                               _choice(r_case, R.AGENCY_DEST, "identifying_agency", n))).astype(np.int8)
    agency[r_case.random(n) < 0.05] = -1

    # exploitation types by profile and sex
    et = R.codes("exploitation_type")
    female = sex != R.codes("sex").index("male")
    primary = np.zeros(n, dtype=np.int16)
    secondary = np.zeros(n, dtype=np.int16)
    for pi, pname in enumerate(T.profiles):
        for key, ksel in (("F", female), ("M", ~female)):
            s = (prof == pi) & ksel
            k = int(s.sum())
            if k:
                primary[s] = _choice(r_case, R.PROFILES[pname][key], "exploitation_type", k)
                secondary[s] = _choice(r_case, R.PROFILES[pname][key], "exploitation_type", k)
    types = _mask_from_choice(primary)
    two = (r_case.random(n) < 0.07) & (secondary != primary)
    types = np.where(two, types | _mask_from_choice(secondary), types)
    types = np.where(exploited, types, 0)

    ls = R.codes("labour_sector")
    sector1 = np.zeros(n, dtype=np.int16)
    sector2 = np.zeros(n, dtype=np.int16)
    for ci, corr in enumerate(R.CORRIDORS):
        s = cor == ci
        k = int(s.sum())
        if not k:
            continue
        table = dict(corr.sectors) if corr.sectors else R.SECTORS_BY_PROFILE[corr.profile]
        sector1[s] = _choice(r_case, table, "labour_sector", k)
        sector2[s] = _choice(r_case, table, "labour_sector", k)
    fl = (types & (1 << et.index("forced_labour"))) != 0
    sectors = np.where(fl, _mask_from_choice(sector1), 0)
    sectors = np.where(fl & (r_case.random(n) < 0.15), sectors | _mask_from_choice(sector2), sectors)
    beg = ((types & (1 << et.index("forced_begging"))) != 0) & (r_case.random(n) < 0.5)
    sectors = np.where(beg, sectors | (1 << ls.index("begging")), sectors)

    mc = R.codes("means_of_control")
    p_sex = np.array([R.MEANS_SEXUAL.get(c, 1) for c in mc], dtype=float) * 0.006
    p_lab = np.array([R.MEANS_LABOUR.get(c, 1) for c in mc], dtype=float) * 0.006
    is_sexual = (types & (1 << et.index("sexual_exploitation"))) != 0
    means = np.zeros(n, dtype=np.int64)
    for j in range(len(mc)):
        pj = np.where(is_sexual, p_sex[j], p_lab[j])
        means |= np.where(r_case.random(n) < pj, np.int64(1) << j, 0)
    top = np.where(is_sexual, int(np.argmax(p_sex)), int(np.argmax(p_lab)))
    means = np.where(means == 0, np.int64(1) << top, means)
    means = np.where(exploited, means, 0)
    means[r_case.random(n) < 0.10] = 0

    recruiter = np.full(n, -1, dtype=np.int8)
    for pi, pname in enumerate(T.profiles):
        s = prof == pi
        k = int(s.sum())
        if k:
            recruiter[s] = _choice(r_case, R.RECRUITER_BY_PROFILE[pname], "recruiter_relationship", k)
    recruiter[(r_case.random(n) < 0.10) | ~exploited] = -1

    # route and dates
    rec_c = T.c_origin[cor].astype(np.int16)
    expl_c = T.c_dest[cor].astype(np.int16)
    keep_tr = exploited & (r_case.random(n) < 0.75)
    t1 = np.where(keep_tr, T.c_t1[cor], -1).astype(np.int16)
    t2 = np.where(keep_tr, T.c_t2[cor], -1).astype(np.int16)
    t3 = np.where(keep_tr, T.c_t3[cor], -1).astype(np.int16)
    route_known = exploited | (r_case.random(n) < 0.6)
    rec_c = np.where(route_known, rec_c, -1).astype(np.int16)
    expl_c = np.where(route_known, expl_c, -1).astype(np.int16)
    end_e = ident - r_case.integers(0, 21, n)
    dur = np.clip(np.exp(np.log(150) + r_case.normal(0, 1.0, n)), 7, 3650).astype(np.int32)
    start_e = end_e - dur
    travel = np.where(domestic, r_case.integers(0, 8, n), r_case.integers(2, 61, n))
    rec_d = start_e - travel
    expl_end = np.where(exploited & (r_case.random(n) >= 0.10), end_e, NULL).astype(np.int32)
    expl_start = np.where(exploited & (r_case.random(n) >= 0.10), start_e, NULL).astype(np.int32)
    rec_date = np.where(exploited & (r_case.random(n) >= 0.25), rec_d, NULL).astype(np.int32)

    # the same episode seen by a second mission: copy the exploitation account
    for arr in (status, types, sectors, means, recruiter, rec_c, expl_c, t1, t2, t3, expl_end, expl_start, rec_date):
        arr[is_same_ep] = arr[src[is_same_ep]]
    exploited = np.isin(status, [vs.index("victim"), vs.index("presumed_victim")])

    has_dob = r_case.random(n) < 0.70
    has_age = np.where(has_dob, r_case.random(n) < 0.4, r_case.random(n) < 0.83)
    has_doc = r_case.random(n) < 0.55
    has_phone = r_case.random(n) < 0.60
    has_addr = r_case.random(n) < 0.80
    has_narr = r_case.random(n) < 0.85
    interviewer = np.where(r_case.random(n) < 0.9, r_case.integers(0, 6, n), -1).astype(np.int8)
    crand = r_case.integers(0, 2**31 - 1, n, dtype=np.int64)
    uuid = r_case.integers(0, 2**63 - 1, (n, 2), dtype=np.int64)
    # A person's later case often records the passport or phone of the first one (not re-issued,
    # not changed): the values the document number and phone are rendered from (`doc_key`,
    # `phone_key`; a phone keeps the country code of the mission that first wrote it, `phone_m`).
    doc_key, phone_key, phone_m = crand.copy(), crand.copy(), mission.astype(np.int16).copy()
    again = link_kind > 0
    keep_doc = again & (r_keep.random(n) < min(1.0, max(0.0, cfg.same_document)))
    keep_phone = again & (r_keep.random(n) < min(1.0, max(0.0, cfg.same_phone)))
    doc_key[keep_doc] = crand[src[keep_doc]]
    phone_key[keep_phone] = crand[src[keep_phone]]
    phone_m[keep_phone] = mission[src[keep_phone]]

    # --- export schedule --------------------------------------------------------------------------
    ex_m, ex_cut, ex_rec, ex_date = [], [], [], []
    y_start = int(ymd(np.array([start]))[0][0])
    # a mission exports yearly when it registers few cases, twice a year when some, else quarterly
    # (monthly from December 2018, the case API)
    ry = ymd(reg.astype(np.int64))[0]
    per_my = np.bincount(mission.astype(np.int64) * 300 + (ry - 1900), minlength=T.nm * 300)
    for m in range(T.nm):
        fy = max(int(T.mission_start[m]), y_start)
        months = np.arange(np.datetime64(f"{fy}-01"), np.datetime64(int(ymd(np.array([end]))[0][0]) - 1970 + 1, "Y")
                           .astype("datetime64[M]"))
        cuts = ((months + 1).astype("datetime64[D]") - 1 - np.datetime64("1970-01-01", "D")).astype(np.int64)
        mnum = months.astype(np.int64) % 12 + 1
        myear = months.astype("datetime64[Y]").astype(np.int64) + 1970
        cnt = per_my[m * 300 + (myear - 1900)]
        keep = np.where(cnt < 12, mnum == 12, np.where(cnt < 24, np.isin(mnum, [6, 12]),
                        (cuts >= MONTHLY_FROM) | np.isin(mnum, [3, 6, 9, 12])))
        monthly = (cuts >= MONTHLY_FROM) & (cnt >= 24)
        cuts, monthly = cuts[keep], monthly[keep]
        lag = np.where(monthly, r_exp.integers(5, 26, len(cuts)), r_exp.integers(7, 46, len(cuts)))
        recv = cuts + lag
        ok = recv < end
        cuts, recv = cuts[ok], recv[ok]
        cuts = np.append(cuts, end)
        recv = np.append(recv, end)
        edate = np.maximum(recv - r_exp.integers(0, 4, len(recv)), cuts)
        edate[-1] = end
        ex_m.append(np.full(len(cuts), m, np.int16))
        ex_cut.append(cuts.astype(np.int32))
        ex_rec.append(recv.astype(np.int32))
        ex_date.append(edate.astype(np.int32))
    ex_m = np.concatenate(ex_m)
    ex_cut = np.concatenate(ex_cut)
    ex_rec = np.concatenate(ex_rec)
    ex_date = np.concatenate(ex_date)
    ex_era = np.where(ex_rec < LEGACY_UNTIL, R.LEGACY, np.where(ex_rec < MIMOSA_UNTIL, R.MIMOSA, R.API)).astype(np.int8)
    ex_first = np.searchsorted(ex_m, np.arange(T.nm), side="left")
    ex_last = np.searchsorted(ex_m, np.arange(T.nm), side="right") - 1

    first_export = np.zeros(n, dtype=np.int64)
    for m in range(T.nm):
        s = mission == m
        if s.any():
            lo, hi = ex_first[m], ex_last[m] + 1
            first_export[s] = lo + np.searchsorted(ex_cut[lo:hi], reg[s], side="left")
    first_era = ex_era[first_export]
    legacy_case = first_era == R.LEGACY

    # sequence numbers per mission and registration year (case references)
    reg_year = ymd(reg.astype(np.int64))[0].astype(np.int32)
    order = np.lexsort((np.arange(n), reg, reg_year, mission))
    grp = mission[order].astype(np.int64) * 10000 + reg_year[order]
    first_of_grp = np.r_[True, grp[1:] != grp[:-1]]
    grp_start = np.maximum.accumulate(np.where(first_of_grp, np.arange(n), 0))
    seq = np.empty(n, dtype=np.int32)
    seq[order] = np.arange(n) - grp_start + 1
    del p_elig, top, end_e, dur, start_e, travel, rec_d, ry, reg_year, order, grp, first_of_grp, grp_start

    # --- legacy dates: only some cases keep a day <= 12 (ambiguous_date) --------------------------
    allowed = r_map.random(n) < cfg.rate("ambiguous_date")
    remap = legacy_case & ~allowed
    reg_anchor = reg.copy()
    reg = unambiguous(reg, remap)
    ident = unambiguous(ident, remap)
    rec_date = unambiguous(rec_date, remap)
    expl_start = unambiguous(expl_start, remap)
    expl_end = unambiguous(expl_end, remap)
    pdob = dob.copy()
    remap_person = np.zeros(len(pdob), dtype=bool)
    remap_person[person[remap]] = True
    pdob = unambiguous(pdob, remap_person)

    # --- assistance episodes ------------------------------------------------------------------------
    at = R.codes("assistance_type")
    fs = R.codes("funding_source")
    elig_idx = np.nonzero(eligible == 1)[0]
    ne = len(elig_idx)
    origin_like = (at_home | domestic)[elig_idx]
    pm = np.zeros((ne, len(at)))
    for j, code in enumerate(at):
        pm[:, j] = np.where(origin_like, R.ASSIST_ORIGIN.get(code, 0.0), R.ASSIST_DEST.get(code, 0.0))
    take = r_ep.random((ne, len(at))) < pm
    del pm
    none = ~take.any(axis=1)
    take[none, at.index("medical")] = True
    rows, cols = np.nonzero(take)
    ep_case = elig_idx[rows].astype(np.int64)
    ep_type = cols.astype(np.int8)
    off_lo = np.array([R.ASSIST_TIMING[c][0][0] for c in at])[cols]
    off_hi = np.array([R.ASSIST_TIMING[c][0][1] for c in at])[cols]
    d_lo = np.array([R.ASSIST_TIMING[c][1][0] for c in at])[cols]
    d_hi = np.array([R.ASSIST_TIMING[c][1][1] for c in at])[cols]
    m_ep = len(ep_case)
    ep_start = (ident[ep_case] + off_lo + (r_ep.random(m_ep) * (off_hi - off_lo + 1)).astype(np.int64)).astype(np.int32)
    ep_end = (ep_start + d_lo + (r_ep.random(m_ep) * (d_hi - d_lo + 1)).astype(np.int64)).astype(np.int32)
    del off_lo, off_hi, d_lo, d_hi
    gaf_ok = (status[ep_case] == vs.index("victim")) & ~T.mission_excluded[mission[ep_case]] & (ep_start >= GAF_START)
    other_f = _choice(r_ep, {"mission_project": 40, "government": 20, "ngo_partner": 30, "other": 10},
                      "funding_source", m_ep)
    funding = np.where(gaf_ok & (r_ep.random(m_ep) < 0.55), fs.index("gaf"), other_f).astype(np.int8)
    funding[r_ep.random(m_ep) < 0.03] = -1
    provider = r_ep.integers(0, 1 << 20, m_ep).astype(np.int32)
    outcome_r = r_ep.random(m_ep).astype(np.float32)
    ret = np.where(ep_type == at.index("voluntary_return"), cit[ep_case], -1).astype(np.int16)
    ep_start = unambiguous(ep_start, remap[ep_case])
    ep_end = unambiguous(ep_end, remap[ep_case])

    # --- out of scope: a few 1999 legacy cases were registered in 1997-98 -------------------------
    linked = np.zeros(n, dtype=bool)
    linked[link_kind > 0] = True
    linked[src[link_kind > 0]] = True
    oos = legacy_case & (ymd(reg_anchor.astype(np.int64))[0] == 1999) & ~linked & (
        r_def.random(n) < cfg.rate("registration_before_1999"))
    k_years = r_def.integers(1, 3, n)
    for arr in (reg, ident, rec_date, expl_start, expl_end):
        arr[:] = shift_years(arr, oos, k_years)
    ep_oos = oos[ep_case]
    ep_start = shift_years(ep_start, ep_oos, k_years[ep_case])
    ep_end = shift_years(ep_end, ep_oos, k_years[ep_case])
    # the fund did not exist yet: a shifted episode is paid by the mission's project
    funding = np.where((funding == fs.index("gaf")) & (ep_start < GAF_START), fs.index("mission_project"),
                       funding).astype(np.int8)

    smin = int(ep_start.min()) if len(ep_start) else 0
    order_e = np.argsort((ep_case << 24) | ((ep_start.astype(np.int64) - smin) << 4) | ep_type, kind="stable")
    ep = {"case": ep_case[order_e], "type": ep_type[order_e], "start": ep_start[order_e], "end": ep_end[order_e],
          "funding": funding[order_e], "provider": provider[order_e], "outcome_r": outcome_r[order_e],
          "return_country": ret[order_e]}
    ep_first = np.searchsorted(ep["case"], np.arange(n), side="left")
    ep_count = np.searchsorted(ep["case"], np.arange(n), side="right") - ep_first
    del take, rows, cols, ep_case, ep_type, ep_start, ep_end, gaf_ok, other_f, funding, provider, outcome_r, ret, \
        ep_oos, k_years, order_e, elig_idx, origin_like

    age = age_at(pdob[person], ident)
    age = np.where(has_age, age, -1).astype(np.int32)
    cdob = np.where(has_dob, pdob[person], NULL).astype(np.int32)

    # --- episode content defects -------------------------------------------------------------------
    m_ep = len(ep["case"])
    ed_kind = np.zeros(m_ep, dtype=np.int8)
    ed_val = np.zeros(m_ep, dtype=np.int32)
    u = r_def.random(m_ep)
    c_ident = ident[ep["case"]]
    abi = (u < cfg.rate("assistance_before_identification")) & (c_ident != NULL)
    ed_kind[abi] = ED_BEFORE_IDENT
    ed_val[abi] = c_ident[abi] - r_def.integers(31, 201, int(abi.sum()))
    u2 = r_def.random(m_ep)
    early = (ed_kind == 0) & (ep["start"] < GAF_START) & (u2 < cfg.rate("gaf_before_august_2000"))
    ed_kind[early] = ED_GAF_EARLY
    u3 = r_def.random(m_ep)
    fut = (ed_kind == 0) & (u3 < cfg.rate("assistance_date_in_future"))
    ed_kind[fut] = ED_FUTURE_END
    y, mm, dd = ymd(ep["start"][fut].astype(np.int64))
    ed_val[fut] = from_ymd(2090 + r_def.integers(0, 10, int(fut.sum())), mm, np.minimum(dd, 28))
    u4 = r_def.random(m_ep)
    unk = (ed_kind == 0) & (ep["return_country"] >= 0) & (u4 < cfg.rate("assistance_unknown_country"))
    ed_kind[unk] = ED_UNKNOWN_RC
    ed_val[unk] = r_def.integers(0, 64, int(unk.sum()))
    # missing: one value the episode had
    emiss = np.zeros(m_ep, dtype=np.int64)
    sel = r_def.random(m_ep) < cfg.rate("assistance_missing_value")
    pres = np.stack([np.ones(m_ep, bool), ep["funding"] >= 0, np.ones(m_ep, bool), ep["return_country"] >= 0], axis=1)
    pres[ed_kind == ED_GAF_EARLY, 1] = False
    pres[ed_kind == ED_FUTURE_END, 2] = False
    pres[ed_kind == ED_UNKNOWN_RC, 3] = False
    idx = np.nonzero(sel)[0]
    if len(idx):
        local = _topk_mask(r_def, pres[idx].astype(float), np.ones(len(idx), dtype=np.int64))
        out = np.zeros(len(idx), dtype=np.int64)
        for j, f in enumerate(EP_MISSING_FIELDS):
            out |= np.where((local >> j) & 1, FBIT[f], 0)
        emiss[idx] = out
    ep["ed_kind"], ep["ed_val"], ep["miss"] = ed_kind, ed_val, emiss
    del u2, u3, u4, c_ident, abi, early, fut, unk, pres

    # --- case content defects ----------------------------------------------------------------------
    cd_kind = np.zeros(n, dtype=np.int8)
    cd_val = np.zeros(n, dtype=np.int32)
    rates = [
        (CD_FUTURE_REG, cfg.rate("date_in_future") / 2), (CD_FUTURE_IDENT, cfg.rate("date_in_future") / 2),
        (CD_AGE_BIG, cfg.rate("impossible_age") / 2), (CD_DOB_OLD, cfg.rate("impossible_age") / 2),
        (CD_BIRTH_AFTER, cfg.rate("identification_before_birth")),
        (CD_END_BEFORE, cfg.rate("exploitation_end_before_start")), (CD_UNKNOWN, cfg.rate("unknown_country")),
        (CD_MISSING_REQ, cfg.rate("missing_required")),
    ]
    u = r_def.random(n)
    acc = 0.0
    for kind, r in rates:
        s = (u >= acc) & (u < acc + r)
        cd_kind[s] = kind
        acc += r
    # validate applicability and draw values
    yr, mo, da = ymd(np.where(reg == NULL, 0, reg).astype(np.int64))
    s = cd_kind == CD_FUTURE_REG
    cd_val[s] = from_ymd(2090 + r_def.integers(0, 10, int(s.sum())), mo[s], np.minimum(da[s], 28))
    s = cd_kind == CD_FUTURE_IDENT
    yi, moi, dai = ymd(ident[s].astype(np.int64))
    cd_val[s] = from_ymd(2090 + r_def.integers(0, 10, int(s.sum())), moi, np.minimum(dai, 28))
    s = cd_kind == CD_AGE_BIG
    cd_val[s] = r_def.integers(120, 200, int(s.sum()))
    s = cd_kind == CD_DOB_OLD
    cd_val[s] = from_ymd(r_def.integers(1901, 1906, int(s.sum())), r_def.integers(1, 13, int(s.sum())),
                         r_def.integers(1, 29, int(s.sum())))
    s = cd_kind == CD_BIRTH_AFTER
    val = ident[s].astype(np.int64) + r_def.integers(31, 401, int(s.sum()))
    bad = val > end
    val = np.where(bad, ident[s].astype(np.int64) + 31, val)
    cd_val[s] = val
    drop = np.zeros(n, dtype=bool)
    drop[np.nonzero(s)[0][ident[s].astype(np.int64) + 31 > end]] = True
    # an episode that starts before identification is only detectable against an identification
    # date the pipeline accepts: not one pushed into the 2090s (that record is quarantined)
    has_abi = np.zeros(n, dtype=bool)
    has_abi[ep["case"][ed_kind == ED_BEFORE_IDENT]] = True
    drop |= (cd_kind == CD_FUTURE_IDENT) & has_abi
    s = cd_kind == CD_END_BEFORE
    drop |= s & (expl_start == NULL)
    cd_val[s] = expl_start[s] - r_def.integers(31, 201, int(s.sum()))
    s = cd_kind == CD_UNKNOWN
    which = r_def.integers(0, 3, n)
    present_c = np.stack([cit >= 0, rec_c >= 0, expl_c >= 0], axis=1)
    which = np.where(present_c[np.arange(n), which], which, 0)
    cd_val[s] = (which[s] * 64 + r_def.integers(0, 64, int(s.sum()))).astype(np.int32)
    cd_kind[drop] = CD_NONE

    # remap dates a defect introduced in cases that must keep day > 12
    for kind in (CD_FUTURE_REG, CD_FUTURE_IDENT, CD_DOB_OLD, CD_BIRTH_AFTER, CD_END_BEFORE):
        s = (cd_kind == kind) & remap
        cd_val[s] = unambiguous(cd_val[s].astype(np.int32), np.ones(int(s.sum()), bool))
    s = (ed_kind == ED_BEFORE_IDENT) | (ed_kind == ED_FUTURE_END)
    s &= remap[ep["case"]]
    ep["ed_val"][s] = unambiguous(ep["ed_val"][s].astype(np.int32), np.ones(int(s.sum()), bool))
    # a date of birth in 1901-1905 is only impossible when it makes the person older than 100 on
    # the identification date (cases identified before ~2006 would be 94-100): those report an
    # impossible age instead (a pre-1900 date of birth cannot be written in a MiMOSA workbook)
    s = np.nonzero(cd_kind == CD_DOB_OLD)[0]
    young = s[age_at(cd_val[s], ident[s]) <= 100]
    cd_kind[young] = CD_AGE_BIG
    cd_val[young] = 120 + cd_val[young] % 80

    # missing values (1-3 optional values the case had)
    pres_f = {
        "identification_date": (ident != NULL) & ~has_abi, "date_of_birth": cdob != NULL, "age_reported": age >= 0,
        "sex": np.ones(n, bool), "citizenship": cit >= 0, "document_number": has_doc, "phone": has_phone,
        "address": has_addr, "narrative": has_narr, "interviewer_name": interviewer >= 0,
        "identifying_agency": agency >= 0, "victim_status": np.ones(n, bool), "is_eligible_for_assistance": eligible >= 0,
        "exploitation_types": types != 0, "labour_sectors": sectors != 0, "means_of_control": means != 0,
        "recruiter_relationship": recruiter >= 0, "recruitment_country": rec_c >= 0, "transit_countries": t1 >= 0,
        "exploitation_country": expl_c >= 0, "recruitment_date": rec_date != NULL,
        "exploitation_start_date": expl_start != NULL, "exploitation_end_date": expl_end != NULL,
        "has_research_consent": consent >= 0,
    }
    # fields used by a content defect are never blanked
    blocked = {
        CD_FUTURE_IDENT: "identification_date", CD_AGE_BIG: "age_reported", CD_DOB_OLD: "date_of_birth",
        CD_BIRTH_AFTER: "date_of_birth", CD_END_BEFORE: "exploitation_end_date",
    }
    for kind, f in blocked.items():
        pres_f[f] = pres_f[f] & (cd_kind != kind)
    pres_f["exploitation_start_date"] &= cd_kind != CD_END_BEFORE
    pres_f["identification_date"] &= cd_kind != CD_BIRTH_AFTER
    for w, f in enumerate(("citizenship", "recruitment_country", "exploitation_country")):
        pres_f[f] = pres_f[f] & ~((cd_kind == CD_UNKNOWN) & (cd_val // 64 == w))
    miss = np.zeros(n, dtype=np.int64)
    sel = np.nonzero(r_def.random(n) < cfg.rate("missing_value"))[0]
    if len(sel):
        P = np.stack([pres_f[f][sel] for f in MISSING_FIELDS], axis=1).astype(float)
        k = 1 + r_def.binomial(2, 0.3, len(sel))
        local = _topk_mask(r_def, P, k)
        fb = np.array([FBIT[f] for f in MISSING_FIELDS], dtype=np.int64)
        out = np.zeros(len(sel), dtype=np.int64)
        for j in range(len(MISSING_FIELDS)):
            out |= np.where((local >> j) & 1, fb[j], 0)
        miss[sel] = out
        del P, local
    del pres_f, yr, mo, da, which, present_c, drop

    # --- name spelling of a person's case in a second mission ----------------------------------------
    p = N.pool()
    pg, pf, pf2 = pers["given"][person], pers["family"][person], pers["family2"][person]
    var_g = np.zeros(n, np.int32)
    var_f = np.zeros(n, np.int32)
    nv = np.zeros(n, np.int8)
    cross = np.nonzero((link_kind == 1) | (link_kind == 2))[0]
    if len(cross):
        ng = p.nvar[pg[cross]]
        nf = np.where(pf[cross] >= 0, p.nvar[np.maximum(pf[cross], 0)], 1)
        can_t = (ng > 1) | (nf > 1)
        u = r_name.random(len(cross))
        kind = np.where(can_t & (u < 0.5), NV_TRANSLIT, np.where(u < 0.75, NV_TYPO, NV_SWAP))
        kind = np.where((kind == NV_SWAP) & (pf[cross] < 0), NV_TYPO, kind)
        nv[cross] = kind
        tg = (kind == NV_TRANSLIT) & (ng > 1) & ((nf <= 1) | (r_name.random(len(cross)) < 0.5))
        tf = (kind == NV_TRANSLIT) & ~tg
        var_g[cross] = np.where(tg, 1 + (r_name.random(len(cross)) * np.maximum(ng - 1, 1)).astype(np.int32), 0)
        var_f[cross] = np.where(tf, 1 + (r_name.random(len(cross)) * np.maximum(nf - 1, 1)).astype(np.int32), 0)
    given_flat = (p.start[pg] + var_g).astype(np.int32)
    family_flat = np.where(pf >= 0, p.start[np.maximum(pf, 0)] + var_f, -1).astype(np.int32)
    family2_flat = np.where(pf2 >= 0, p.start[np.maximum(pf2, 0)], -1).astype(np.int32)

    # --- canaries -------------------------------------------------------------------------------------
    canary = np.full(n, -1, dtype=np.int16)
    if cfg.canaries:
        clean = (cd_kind == CD_NONE) & (link_kind == 0) & ~linked & ~oos & (status == vs.index("victim"))
        eras_cycle = [R.API, R.MIMOSA, R.LEGACY]
        taken: set[int] = set()
        for i in range(len(cfg.canaries)):
            want = eras_cycle[i % 3]
            cand = np.nonzero(clean & (first_era == want))[0]
            if len(cand) == 0:
                cand = np.nonzero(clean)[0]
            if len(cand) == 0:
                cand = np.arange(n)
            cand = np.array([c for c in cand[:5000] if c not in taken]) if len(taken) else cand
            if len(cand) == 0:
                break
            c = int(cand[r_can.integers(0, len(cand))])
            taken.add(c)
            canary[c] = i
            miss[c] = 0
            has_doc[c] = has_phone[c] = has_addr[c] = has_narr[c] = True
            nv[c] = NV_NONE

    # --- records: every case in its first export, plus re-exports and migrations -------------------
    rec_case = [np.arange(n, dtype=np.int64)]
    rec_export = [first_export]
    rec_kind = [np.zeros(n, np.int8)]
    nrx = np.nonzero(r_rec.random(n) < cfg.rate("reexport"))[0]
    tgt = first_export[nrx] + r_rec.integers(1, 5, len(nrx))
    ok = (tgt < len(ex_m))
    tgt = np.where(ok, tgt, 0)
    ok &= (ex_m[tgt] == mission[nrx]) & (ex_era[tgt] == first_era[nrx]) & (canary[nrx] < 0)
    nrx, tgt = nrx[ok], tgt[ok]
    rec_case.append(nrx)
    rec_export.append(tgt)
    rec_kind.append(np.full(len(nrx), K_REEXPORT, np.int8))
    # migration: legacy cases reappear in the mission's first MiMOSA exports
    first_mimosa = np.full(T.nm, -1, dtype=np.int64)
    for m in range(T.nm):
        idx_m = np.nonzero((ex_m == m) & (ex_era == R.MIMOSA))[0]
        if len(idx_m):
            first_mimosa[m] = idx_m[0]
    mig = np.nonzero(legacy_case & (first_mimosa[mission] >= 0) & (r_rec.random(n) < cfg.rate("migrated_legacy"))
                     & (canary < 0))[0]
    mt = first_mimosa[mission[mig]] + (r_rec.random(len(mig)) < 0.3)
    mt = np.where((mt < len(ex_m)) & (ex_m[np.minimum(mt, len(ex_m) - 1)] == mission[mig])
                  & (ex_era[np.minimum(mt, len(ex_m) - 1)] == R.MIMOSA), mt, first_mimosa[mission[mig]])
    rec_case.append(mig)
    rec_export.append(mt)
    rec_kind.append(np.full(len(mig), K_MIGRATED, np.int8))
    r_case_ = np.concatenate(rec_case)
    r_export = np.concatenate(rec_export).astype(np.int64)
    r_kind = np.concatenate(rec_kind)
    nr = len(r_case_)
    apply_cd = np.ones(nr, dtype=bool)
    apply_miss = np.ones(nr, dtype=bool)
    perturb = np.zeros(nr, dtype=np.int8)
    corr_fields = np.zeros(nr, dtype=np.int64)
    rdef = np.zeros(nr, dtype=np.int64)
    rdef[r_kind == K_REEXPORT] |= BIT["reexport"]
    rdef[r_kind == K_MIGRATED] |= BIT["migrated_legacy"]
    # corrections in re-exports
    rx = np.nonzero(r_kind == K_REEXPORT)[0]
    corr = rx[r_rec.random(len(rx)) < cfg.rate("reexport_corrected")]
    cc = r_case_[corr]
    cd_fields = _cd_fields(cd_kind[cc], cd_val[cc])
    fix_cd = cd_kind[cc] != CD_NONE
    fix_miss = ~fix_cd & (miss[cc] != 0)
    other_ = ~fix_cd & ~fix_miss
    apply_cd[corr[fix_cd]] = False
    corr_fields[corr[fix_cd]] = cd_fields[fix_cd]
    apply_miss[corr[fix_miss]] = False
    corr_fields[corr[fix_miss]] = miss[cc[fix_miss]]
    st = exploited[cc] & other_
    perturb[cc[st]] = P_STATUS  # the original record (index = case) had another status
    corr_fields[corr[st]] = FBIT["victim_status"]
    ty = other_ & ~st
    fam = ty & (family_flat[cc] >= 0)
    perturb[cc[fam]] = P_FAMILY_TYPO
    perturb[cc[ty & ~fam]] = P_GIVEN_TYPO
    corr_fields[corr[fam]] = FBIT["family_name"]  # renderer maps names to full_name in legacy
    corr_fields[corr[ty & ~fam]] = FBIT["given_name"]
    rdef[corr] |= BIT["reexport_corrected"]
    # cross-mission person: every record of the second-mission case
    cm = np.isin(link_kind[r_case_], [1, 2])
    rdef[cm] |= BIT["cross_mission_person"]

    # record order inside an export: registration date, then case
    ro = np.lexsort((r_case_, reg_anchor[r_case_], r_export))
    records = {"case": r_case_[ro], "export": r_export[ro], "kind": r_kind[ro], "apply_cd": apply_cd[ro],
               "apply_miss": apply_miss[ro], "perturb": np.zeros(nr, np.int8), "corr_fields": corr_fields[ro],
               "rdef": rdef[ro]}
    # the perturbation belongs to the original record of the case only
    orig = records["kind"] == K_ORIGINAL
    records["perturb"][orig] = perturb[records["case"][orig]]
    del rec_case, rec_export, rec_kind, r_case_, r_export, r_kind, apply_cd, apply_miss, perturb, corr_fields, rdef, \
        ro, orig, cm

    # --- assistance records: the episodes of each record's case as of its export -----------------------
    rc = records["case"]
    cnt = ep_count[rc]
    tot = int(cnt.sum())
    a_rec = np.repeat(np.arange(nr, dtype=np.int64), cnt)
    offs = np.repeat(np.cumsum(cnt) - cnt, cnt)
    a_ep = ep_first[rc][a_rec] + (np.arange(tot) - offs)
    del offs
    received = ex_rec[records["export"]][a_rec]
    keep = ep["start"][a_ep] <= received
    a_rec, a_ep, received = a_rec[keep], a_ep[keep], received[keep]
    end_true = ep["end"][a_ep]
    ongoing = end_true > received
    arecords = {"rec": a_rec, "ep": a_ep, "ongoing": ongoing}
    del rc, cnt, keep, received, end_true

    cases_d = {
        "mission": mission, "reg": reg, "reg_anchor": reg_anchor, "ident": ident, "corridor": cor, "person": person,
        "link_kind": link_kind, "src": src, "status": status, "eligible": eligible, "consent": consent,
        "agency": agency, "types": types, "sectors": sectors, "means": means, "recruiter": recruiter,
        "rec_c": rec_c, "t1": t1, "t2": t2, "t3": t3, "expl_c": expl_c, "rec_date": rec_date,
        "expl_start": expl_start, "expl_end": expl_end, "dob": cdob, "age": age, "has_doc": has_doc,
        "has_phone": has_phone, "has_addr": has_addr, "has_narr": has_narr, "interviewer": interviewer,
        "crand": crand, "doc_key": doc_key, "phone_key": phone_key, "phone_m": phone_m, "uuid_hi": uuid[:, 0],
        "uuid_lo": uuid[:, 1], "first_export": first_export,
        "first_era": first_era, "seq": seq, "reg_year": ymd(reg.astype(np.int64))[0].astype(np.int32),
        "oos": oos, "cd_kind": cd_kind, "cd_val": cd_val, "miss": miss, "nv": nv, "canary": canary,
        "given_flat": given_flat, "family_flat": family_flat, "family2_flat": family2_flat,
        "profile": prof, "sex": sex, "citizenship": cit, "domestic": domestic, "at_home": at_home,
    }
    persons_d = {"dob": pdob, **{k: v for k, v in pers.items()}}
    exports_d = {"mission": ex_m, "cut": ex_cut, "received": ex_rec, "date": ex_date, "era": ex_era}
    w = World(cfg, int(seed), start, end, cases_d, persons_d, ep, exports_d, records, arecords)
    reg_true_year = ymd(reg_anchor.astype(np.int64))[0]
    w.stats = {
        "cases": int(n),
        "persons": int(np.count_nonzero(np.bincount(person))),
        "cases_1999_2007": int(((reg_true_year >= 1999) & (reg_true_year <= 2007)).sum()),
        "persons_by_2009": int(np.count_nonzero(np.bincount(person[reg_true_year <= 2009]))),
    }
    return w


def _cd_fields(kind: np.ndarray, val: np.ndarray) -> np.ndarray:
    """Fields a case content defect touches (bit mask)."""
    out = np.zeros(len(kind), dtype=np.int64)
    table = {
        CD_FUTURE_REG: FBIT["registration_date"], CD_FUTURE_IDENT: FBIT["identification_date"],
        CD_AGE_BIG: FBIT["age_reported"], CD_DOB_OLD: FBIT["date_of_birth"],
        CD_BIRTH_AFTER: FBIT["date_of_birth"] | FBIT["identification_date"],
        CD_END_BEFORE: FBIT["exploitation_start_date"] | FBIT["exploitation_end_date"],
        CD_MISSING_REQ: FBIT["registration_date"],
    }
    for k, b in table.items():
        out[kind == k] = b
    uc = kind == CD_UNKNOWN
    fields = np.array([FBIT["citizenship"], FBIT["recruitment_country"], FBIT["exploitation_country"]], dtype=np.int64)
    out[uc] = fields[np.clip(val[uc] // 64, 0, 2)]
    return out


def cd_defect_bits(kind: np.ndarray) -> np.ndarray:
    from ct_pipeline.synth.config import REQUIRED_MISSING

    out = np.zeros(len(kind), dtype=np.int64)
    table = {
        CD_FUTURE_REG: BIT["date_in_future"], CD_FUTURE_IDENT: BIT["date_in_future"],
        CD_AGE_BIG: BIT["impossible_age"], CD_DOB_OLD: BIT["impossible_age"],
        CD_BIRTH_AFTER: BIT["identification_before_birth"], CD_END_BEFORE: BIT["exploitation_end_before_start"],
        CD_UNKNOWN: BIT["unknown_country"], CD_MISSING_REQ: BIT["missing_value"] | REQUIRED_MISSING,
    }
    for k, b in table.items():
        out[kind == k] = b
    return out


cd_fields = _cd_fields
