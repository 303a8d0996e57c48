"""Normalisers for coded answers: code lists with their variants, countries, yes/no words.

Every normaliser is a pure function of one text value. Staging applies them to the *distinct*
values of a column only (a few thousand at most), then joins the result back: vectorised where it
matters, one readable Python function where the logic lives (and hypothesis-testable).

Matching rules (documented for the research unit):
- a value is first checked against the not-recorded list (trimmed, lower-cased, *before* any
  punctuation is collapsed: ``n/a`` is not recorded, ``NA`` is Namibia);
- then compared after folding: Unicode NFKD, diacritics removed, case folded, every run of
  whitespace/punctuation/symbols collapsed to one space (``Côte d'Ivoire`` = ``cote d ivoire``);
- a code list value matches its code, its label or any of its variants;
- a country matches its ISO alpha-2 code, its alpha-3 code (both case-insensitive), its English name
  or a variant in country_variants.csv (French, Spanish, misspellings). ``NA`` is Namibia;
- a multi-valued cell is split on the era's separators, but the whole cell (or a run of adjacent
  parts) is tried first, so ``drugs/alcohol`` or ``Moldova, Republic of`` are not cut in two.

A value that matches nothing is *unknown*: staging quarantines the row (rule ``code_known``); it is
never dropped silently.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from ct_pipeline.formats import eras as formats
from ct_pipeline.metadata.registry import CODELIST_DIR, load_registry

_FOLD_EXTRA = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o",
                             "đ": "d", "Đ": "d", "ł": "l", "Ł": "l", "ı": "i", "ß": "ss"})
_NON_WORD = re.compile(r"[\W_]+")
_INT_FLOAT = re.compile(r"^[+-]?\d+\.0*$")
MAX_JOINED_PARTS = 4  # a value may hold up to 3 separators of its own ("debt bondage/earnings")


_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


@lru_cache(maxsize=1 << 18)
def fold(text: str) -> str:
    """Comparison key: NFKD, no diacritics, case-folded, punctuation/whitespace runs -> one space."""
    if text.isascii():
        return _NON_WORD.sub(" ", text.lower()).strip()
    s = unicodedata.normalize("NFKD", text.translate(_FOLD_EXTRA))
    s = _COMBINING.sub("", s).casefold()
    return _NON_WORD.sub(" ", s).strip()


@cache
def not_recorded_values() -> frozenset[str]:
    """Trimmed lower-case values meaning 'not recorded' (eras.yaml and codelists/not_recorded.yaml)."""
    return formats.not_recorded()


def is_not_recorded(text: str | None) -> bool:
    return text is None or text.strip().lower() in not_recorded_values()


# --------------------------------------------------------------------------------------------
# code lists
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    """Folded key -> canonical code for one code list."""

    name: str
    keys: dict[str, str]

    def match(self, text: str) -> str | None:
        """The canonical code of one answer, or None if it matches nothing."""
        return self.keys.get(fold(text))


@cache
def codelist_lookup(name: str) -> Lookup:
    if name == "country":
        raise ValueError("countries have their own normaliser: use country_code()")
    cl = load_registry().codelists[name]
    keys: dict[str, str] = {}
    # Codes win over labels, labels over variants; a variant may not override another code.
    for tier in ("code", "label", "variants"):
        for c in cl.codes:
            values = c.variants if tier == "variants" else [getattr(c, tier)]
            for v in values:
                k = fold(str(v))
                if k and k not in keys:
                    keys[k] = c.code
    return Lookup(name, keys)


@lru_cache(maxsize=1 << 16)
def code_value(text: str, codelist: str) -> str | None:
    """Canonical code of a single-valued answer (None: unknown). Not-recorded is checked by callers."""
    return codelist_lookup(codelist).match(text)


# --------------------------------------------------------------------------------------------
# countries
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountryTable:
    alpha2: frozenset[str]
    alpha3: dict[str, str]
    names: dict[str, str]


@cache
def country_table() -> CountryTable:
    reg = load_registry()
    alpha2 = frozenset(r["alpha2"] for r in reg.countries)
    alpha3 = {r["alpha3"]: r["alpha2"] for r in reg.countries}
    names: dict[str, str] = {}
    for r in reg.countries:
        names.setdefault(fold(r["name"]), r["alpha2"])
    path = CODELIST_DIR / "country_variants.csv"
    if path.exists():
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if row["alpha2"] in alpha2:
                    names.setdefault(fold(row["variant"]), row["alpha2"])
    return CountryTable(alpha2, alpha3, names)


@lru_cache(maxsize=1 << 16)
def country_code(text: str) -> str | None:
    """ISO alpha-2 code of a country given as alpha-2, alpha-3, name or known variant (None: unknown).

    ``NA`` (any case) is Namibia: not-recorded markers such as ``n/a`` are handled before this.
    """
    t = country_table()
    s = text.strip()
    if s.isascii() and s.isalpha():
        up = s.upper()
        if len(up) == 2 and up in t.alpha2:
            return up
        if len(up) == 3 and up in t.alpha3:
            return t.alpha3[up]
    return t.names.get(fold(s))


# --------------------------------------------------------------------------------------------
# yes / no
# --------------------------------------------------------------------------------------------


def yes_no(text: str) -> bool | None:
    """True/False for a yes/no answer in any known language or as a 0/1 flag (None: unknown)."""
    s = text.strip()
    if _INT_FLOAT.match(s):  # 1.0 / 0.0 from spreadsheets
        s = s.split(".")[0].lstrip("+")
    code = codelist_lookup("yes_no").match(s)
    return None if code is None else code == "true"


# --------------------------------------------------------------------------------------------
# multi-valued cells
# --------------------------------------------------------------------------------------------


def split_multi(text: str, separators: list[str], match, *, unique: bool = True) -> tuple[list[str], list[str]]:
    """Split a multi-valued cell into canonical codes.

    `match(part) -> code | None`. Returns (codes in order, repeats dropped when `unique`; unknown
    parts). Transit countries keep repeats: a route may cross a country twice.
    The whole cell and runs of adjacent parts are tried before single parts, longest first, so a
    separator that belongs to a value (``drugs/alcohol``) does not cut it.
    """
    s = text.strip()
    if s.startswith("["):  # JSON array (case API era)
        try:
            items = json.loads(s)
        except ValueError:
            items = None
        if isinstance(items, list):
            codes: list[str] = []
            unknown: list[str] = []
            for it in items:
                if it is None:
                    continue
                part = it if isinstance(it, str) else json.dumps(it)
                if is_not_recorded(part):
                    continue
                c = match(part)
                if c is None:
                    unknown.append(part)
                elif not unique or c not in codes:
                    codes.append(c)
            return codes, unknown
    if separators:
        pattern = "(" + "|".join(re.escape(sep) for sep in separators) + ")"
        pieces = re.split(pattern, s)
    else:
        pieces = [s]
    parts = pieces[0::2]
    seps = pieces[1::2]
    codes = []
    unknown = []
    i = 0
    n = len(parts)
    while i < n:
        found = None
        for j in range(min(n, i + MAX_JOINED_PARTS), i, -1):
            candidate = parts[i]
            for k in range(i + 1, j):
                candidate += seps[k - 1] + parts[k]
            candidate = candidate.strip()
            if j - i > 1 and not candidate:
                continue
            c = match(candidate) if candidate else None
            if c is not None:
                found = (c, j)
                break
        if found is None:
            part = parts[i].strip()
            if part and not is_not_recorded(part):
                unknown.append(part)
            i += 1
        else:
            if not unique or found[0] not in codes:
                codes.append(found[0])
            i = found[1]
    return codes, unknown
