"""Normalisation of what identifies a person or a case, before keying or comparing.

One pure-Python definition per value (the property tests pin it down). Frames go through
`normalise_names` / `normalise_case_refs`: values that are pure ASCII (most of them) are normalised
by polars string expressions that do exactly what the Python definition does to ASCII text; the
others go through the Python definition, once per distinct value. Tokens are keyed on these
strings, so the two paths must agree byte for byte (tests/unit/pseudonymize/test_token_identity.py
checks them against the earlier implementation and frozen tokens).

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
from functools import cache

import polars as pl

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


# `\W` in a str pattern is exactly "not str.isalnum() and not '_'" (CPython's sre uses the same
# Unicode predicate), so this is the per-character `ch if ch.isalnum() else " "` at C speed.
_NOT_ALNUM = re.compile(r"[\W_]")


@cache
def _latin_marks() -> re.Pattern:
    """A run of combining characters (unicodedata.combining != 0) right after an ASCII character:
    the diacritics `_strip_latin_marks` removes. ASCII characters are never combining, so the run
    ends at the next base character, as in the character loop this replaces."""
    marks = [c for c in map(chr, range(0x80, 0x110000)) if unicodedata.combining(c)]
    ranges: list[str] = []
    start = prev = marks[0]
    for c in [*marks[1:], None]:
        if c is not None and ord(c) == ord(prev) + 1:
            prev = c
            continue
        ranges.append(re.escape(start) if start == prev else f"{re.escape(start)}-{re.escape(prev)}")
        if c is not None:
            start = prev = c
    return re.compile(f"(?<=[\\x00-\\x7f])[{''.join(ranges)}]+")


def _strip_latin_marks(text: str) -> str:
    """NFKD, drop the combining marks that follow a Latin (ASCII) base letter, NFC. Other scripts
    keep their marks (Thai, Devanagari, Arabic: there the marks are letters)."""
    if text.isascii():  # nothing to decompose or strip; NFC of ASCII is itself
        return text
    return unicodedata.normalize("NFC", _latin_marks().sub("", unicodedata.normalize("NFKD", text)))


def name_tokens(*parts: str | None) -> list[str]:
    """The normalised, sorted name parts of one person (see the module docstring)."""
    text = " ".join(p for p in parts if p)
    if not text:
        return []
    text = unicodedata.normalize("NFKC", text).casefold().translate(_TRANSLATE)
    text = _strip_latin_marks(text)
    return sorted(_NOT_ALNUM.sub(" ", text).split())


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


# --- vectorised over frames ----------------------------------------------------------------------
#
# What the Python definitions above do to pure-ASCII text, as polars expressions:
# - NFKC, NFKD and NFC leave ASCII unchanged; casefold() and upper() only map A-Z / a-z;
# - of the translation table only the apostrophes ' and ` are ASCII (removed);
# - str.isalnum() on ASCII is [A-Za-z0-9]; sorted() orders by code point, which for ASCII is the
#   byte order polars sorts by;
# - Python's `\s` on ASCII is [\t\n\v\f\r\x1c-\x1f ] (the information separators are
#   whitespace to str.isspace()); the Unicode dashes are not ASCII.
# Anything non-ASCII takes the Python definition.

_ASCII_SPACE = r"[\t\n\x0B\x0C\r\x1C-\x1F ]"


def _is_ascii(col: str) -> pl.Expr:
    return pl.col(col).is_null() | (pl.col(col).str.len_bytes() == pl.col(col).str.len_chars())


def _ascii_name(cols: list[str]) -> pl.Expr:
    text = pl.concat_str([pl.col(c) for c in cols], separator=" ", ignore_nulls=True)
    words = (
        text.str.to_lowercase()
        .str.replace_all(r"['`]", "")
        .str.replace_all(r"[^a-z0-9]+", " ")
        .str.strip_chars(" ")
        .str.split(" ")
    )
    # words are separated by exactly one space now; "" splits into [""], which joins back to ""
    return words.list.sort().list.join(" ")


def _by_value(df: pl.DataFrame, fast: pl.Expr, slow, ascii_: pl.Expr) -> pl.Series:
    """`fast` where every column of the row is ASCII, else ``slow(*row)`` once per distinct row."""
    cols = df.columns
    out = df.select(ascii_.alias("_a"), fast.alias("_v"))
    if out.get_column("_a").all():
        return out.get_column("_v")
    other = df.filter(~out.get_column("_a")).unique(maintain_order=True)
    other = other.with_columns(pl.Series("_s", [slow(*row) for row in other.iter_rows()], dtype=pl.String))
    slow_v = df.join(other, on=cols, how="left", nulls_equal=True, maintain_order="left").get_column("_s")
    return out.select(pl.when("_a").then("_v").otherwise(slow_v)).to_series()


def normalise_names(parts: pl.DataFrame) -> pl.Series:
    """`normalise_name(*row)` of every row of the name columns ``parts`` (String columns)."""
    cols = parts.columns
    if parts.height == 0:
        return pl.Series("name", [], dtype=pl.String)
    parts = parts.cast(pl.String)  # an all-null column may come typed Null
    ascii_ = pl.all_horizontal([_is_ascii(c) for c in cols])
    return _by_value(parts, _ascii_name(cols), normalise_name, ascii_).alias("name")


def normalise_case_refs(values: pl.Series) -> pl.Series:
    """`normalise_case_ref` of every value (and so `normalise_mission`); null gives ""."""
    return _series_by_value(values, pl.col("v").str.to_uppercase().str.replace_all(_ASCII_SPACE, ""),
                            normalise_case_ref)


def _series_by_value(values: pl.Series, fast: pl.Expr, slow) -> pl.Series:
    """`_by_value` over one String Series (its column named "v" in ``fast``); null gives ""."""
    df = values.cast(pl.String).alias("v").to_frame()
    return _by_value(df, fast.fill_null(""), slow, _is_ascii("v")).alias(values.name)


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


def normalise_documents(values: pl.Series) -> pl.Series:
    """`normalise_document` of every value; ASCII values by polars expressions (for ASCII, NFKC
    changes nothing and `isalnum` is [A-Za-z0-9]), the others by the function, once per value. The
    Python loop over every distinct value was ~1 s of the 1M linkage's features."""
    return _series_by_value(values, pl.col("v").str.to_uppercase().str.replace_all(r"[^A-Z0-9]", ""),
                            normalise_document)


def normalise_phones(values: pl.Series) -> pl.Series:
    """`normalise_phone` of every value; ASCII values by polars expressions (for ASCII, `isdigit` is
    [0-9]), the others by the function, once per value."""
    digits = pl.col("v").str.replace_all(r"[^0-9]", "")
    return _series_by_value(values, pl.when(digits.str.len_chars() >= 7).then(digits.str.tail(8)).otherwise(
        pl.lit("")), normalise_phone)


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
