"""Normalisation of names and case numbers: property-based (hypothesis)."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from ct_pipeline.pseudonymize.normalise import (
    name_skeleton,
    name_tokens,
    normalise_case_ref,
    normalise_name,
    normalise_phone,
)

LATIN = "abcdefghijklmnopqrstuvwxyz"
# combining marks that are diacritics on Latin letters: grave, acute, circumflex, tilde, diaeresis,
# caron, cedilla, ogonek, ring, breve, dot above
MARKS = ["\u0300", "\u0301", "\u0302", "\u0303", "\u0308", "\u030c", "\u0327", "\u0328", "\u030a", "\u0306", "\u0307"]

name_part = st.text(alphabet=LATIN, min_size=1, max_size=12)
name_parts = st.lists(name_part, min_size=1, max_size=4)


def _accent(rng_marks: list[int], text: str) -> str:
    out = []
    for i, ch in enumerate(text):
        out.append(ch)
        m = rng_marks[i % len(rng_marks)]
        if m >= 0:
            out.append(MARKS[m % len(MARKS)])
    return unicodedata.normalize("NFC", "".join(out))


@given(name_parts, st.randoms(use_true_random=False))
def test_order_of_name_parts_does_not_matter(parts, rnd):
    shuffled = parts[:]
    rnd.shuffle(shuffled)
    assert normalise_name(*parts) == normalise_name(*shuffled) == normalise_name(" ".join(shuffled))


@given(name_parts, st.lists(st.integers(-3, 20), min_size=1, max_size=8))
def test_diacritics_do_not_matter(parts, marks):
    accented = [_accent(marks, p) for p in parts]
    assert normalise_name(*accented) == normalise_name(*parts)


@given(name_parts, st.lists(st.sampled_from([" ", "  ", "\t", "\u00a0", "\u2003", "\n"]), min_size=1, max_size=5), st.booleans())
def test_case_and_whitespace_do_not_matter(parts, seps, upper):
    text = ""
    for i, p in enumerate(parts):
        text += (p.upper() if upper and i % 2 == 0 else p.title()) + seps[i % len(seps)]
    assert normalise_name(seps[0] + text) == normalise_name(*parts)


@given(name_parts)
def test_full_width_and_compatibility_forms_fold(parts):
    wide = " ".join("".join(chr(ord(c) - 0x61 + 0xFF41) for c in p) for p in parts)  # ａｂｃ
    assert normalise_name(wide) == normalise_name(*parts)


@settings(max_examples=50)
@given(st.text(max_size=40))
def test_normalisation_is_idempotent(text):
    once = normalise_name(text)
    assert normalise_name(once) == once


def test_examples():
    assert normalise_name("ȚURCAN", "Ana-Maria") == normalise_name("Ana Maria Turcan")
    assert normalise_name("O'Brien  Siobhán") == "obrien siobhan"
    assert normalise_name("Nguyễn Thị Hương") == normalise_name("Huong", "Nguyen Thi")
    assert normalise_name("Łukasz Øster Straße") == "lukasz oster strasse"
    assert normalise_name("Олена Шевченко") == "olena shevchenko"
    assert normalise_name(None, "", "  ") == ""
    # other scripts keep their marks (they are letters there)
    assert name_tokens("สมชาย") == ["สมชาย"]


def test_skeleton_groups_transliterations():
    assert len({name_skeleton(t) for t in ("oleksandr", "aleksandr", "alexander", "olexandr")}) == 1
    assert len({name_skeleton(t) for t in ("olena", "elena", "yelena")}) == 1
    assert len({name_skeleton(t) for t in ("hryhoriy", "grigoriy")}) == 1
    assert len({name_skeleton(t) for t in ("serhiy", "sergei", "serhii")}) == 1
    assert name_skeleton("maria") != name_skeleton("natalia")


@given(st.text(alphabet="ABC-0123456789/ ", min_size=1, max_size=20))
def test_case_ref_spacing_and_case(ref):
    assert normalise_case_ref(ref) == normalise_case_ref(" " + ref.lower().replace("-", "\u2013") + " ")


@given(st.text(alphabet="0123456789", min_size=8, max_size=8), st.sampled_from(["373", "39", "1"]))
def test_phone_formats_of_one_number_agree(digits, cc):
    """Missions write one number with or without country code or trunk zero, spaced or dashed."""
    forms = [f"+{cc} {digits[:2]} {digits[2:5]} {digits[5:]}", f"0{digits}", f"(+{cc}) {digits[:3]}-{digits[3:]}"]
    assert {normalise_phone(f) for f in forms} == {digits}


def test_phone_too_short_is_no_phone():
    assert normalise_phone("12-34") == normalise_phone(None) == normalise_phone("n/a") == ""
