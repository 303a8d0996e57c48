"""Normalisation of what identifies a person or a case, before keying or comparing.

One pure-Python definition per value (the property tests pin it down); the pipeline applies it to the
*unique* values of a column only, so a million records cost a few seconds.

Names
-----
`normalise_name(*parts)` turns any number of name cells into one canonical string:

1. Unicode NFKC (full-width letters, ligatures, non-breaking spaces become plain ones), case-fold;
2. a simple Cyrillic → Latin transliteration (Ukrainian/Russian/Serbian letters, one Latin spelling
   each) and a few Latin letters that have no decomposition (ø, æ, œ, ł, đ, ð, þ, ı, …);
3. diacritics stripped: combining marks that follow a Latin letter are removed (NFKD), other scripts
   (Thai, Devanagari, Arabic, …) are left intact because there the marks are letters;
4. apostrophes removed (O'Brien = OBrien), any other non-alphanumeric character is a separator
   (Anna-Maria = Anna Maria);
5. the name parts are sorted, so the order of given and family names does not matter and a legacy
   `full_name` cell gives the same string as `given_name` + `family_name`.

Case numbers
------------
`normalise_case_ref` and `normalise_mission`: NFKC, upper case, whitespace removed, Unicode dashes
as `-`. Leading zeros are kept (``0042`` and ``42`` stay different: guessing would merge cases).

Documents and phones (linkage only, never keyed)
------------------------------------------------
`normalise_document`: letters and digits, upper case. `normalise_phone`: the last 8 digits.

Phonetic skeleton (linkage blocking only, never keyed)
------------------------------------------------------
`name_skeleton(token)` is a Soundex-like key tuned for transliteration variants of Slavic and Romance
names: initial vowels and y/j/i-glides are one class (Oleksandr, Aleksandr, Alexander → V425; Olena,
Elena, Yelena → V45), h and g are one class (Hryhoriy, Grigoriy), digraphs kh/sh/ch/zh/ph/th fold.
"""

from __future__ import annotations

import re
import unicodedata

# --- names ---------------------------------------------------------------------------------------

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "e", "є": "ie",
    "ж": "zh", "з": "z", "и": "i", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh",
    "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "iu",
    "я": "ia", "ђ": "dj", "ј": "j", "љ": "lj", "њ": "nj", "ћ": "c", "џ": "dz", "ў": "u",
}  # fmt: skip
_LATIN_EXTRA = {
    "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ŧ": "t",
    "ħ": "h", "ĸ": "k", "ŋ": "n", "ß": "ss", "ƒ": "f",
}  # fmt: skip
_APOSTROPHES = "'’‘ʼ`´ʹ′"
_TRANSLATE = str.maketrans({**_CYRILLIC, **_LATIN_EXTRA, **{a: "" for a in _APOSTROPHES}})


def _strip_latin_marks(text: str) -> str:
    out: list[str] = []
    base_is_latin = False
    for ch in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(ch):
            if base_is_latin:
                continue  # a diacritic on a Latin letter
        else:
            base_is_latin = ch.isascii()
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def name_tokens(*parts: str | None) -> list[str]:
    """The normalised, sorted name parts of one person (see the module docstring)."""
    text = " ".join(p for p in parts if p)
    if not text:
        return []
    text = unicodedata.normalize("NFKC", text).casefold().translate(_TRANSLATE)
    text = _strip_latin_marks(text)
    text = "".join(ch if ch.isalnum() else " " for ch in text)
    return sorted(text.split())


def normalise_name(*parts: str | None) -> str:
    """One canonical string for a person's names, whatever their order, case, accents or spacing."""
    return " ".join(name_tokens(*parts))


# --- case numbers -------------------------------------------------------------------------------

_DASHES = re.compile(r"[\u2010-\u2015\u2212\uFE58\uFE63\uFF0D]")
_SPACE = re.compile(r"\s+")


def normalise_case_ref(value: str | None) -> str:
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).upper()
    return _SPACE.sub("", _DASHES.sub("-", text))


def normalise_mission(value: str | None) -> str:
    return normalise_case_ref(value)


def normalise_document(value: str | None) -> str:
    """Document numbers for comparison: letters and digits only, upper case."""
    if not value:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).upper()
    return "".join(ch for ch in text if ch.isalnum())


def normalise_phone(value: str | None) -> str:
    """Phone numbers for comparison: the last 8 digits ("" under 7 digits). Missions write the same
    number with or without the country code or trunk zero (+373 69 123 456, 069123456): the
    subscriber digits at the end are what stays."""
    if not value:
        return ""
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", str(value)) if ch.isdigit())
    return digits[-8:] if len(digits) >= 7 else ""


# --- phonetic skeleton (blocking) ----------------------------------------------------------------

_DIGRAPHS = [
    ("shch", "s"), ("sch", "s"), ("tsch", "c"), ("tch", "c"), ("ch", "c"), ("kh", "k"), ("gh", "g"),
    ("sh", "s"), ("zh", "z"), ("ph", "f"), ("th", "t"), ("ts", "c"), ("tz", "c"), ("ck", "k"),
    ("dj", "d"), ("dz", "z"), ("x", "ks"), ("w", "v"),
]  # fmt: skip
_CLASS = {
    **dict.fromkeys("bfpv", "1"),
    **dict.fromkeys("cgkqszh", "2"),
    **dict.fromkeys("dt", "3"),
    "l": "4",
    **dict.fromkeys("mn", "5"),
    "r": "6",
}
_GLIDE_START = re.compile(r"^[yji](?=[aeiou])")


def name_skeleton(token: str, length: int = 4) -> str:
    """Soundex-like key of one normalised name token, robust to transliteration (see module doc)."""
    t = _GLIDE_START.sub("", token)
    for a, b in _DIGRAPHS:
        t = t.replace(a, b)
    if not t:
        return ""
    first = t[0]
    key = "V" if first in "aeiouyj" else _CLASS.get(first, first)
    last = _CLASS.get(first, "")
    for ch in t[1:]:
        cls = _CLASS.get(ch)
        if cls is None:  # vowels, y, j, digits, other scripts: separators between classes
            if ch in "aeiouyj":
                last = ""
            continue
        if cls != last:
            key += cls
        last = cls
        if len(key) >= length:
            break
    return key
