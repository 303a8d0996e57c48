"""Tokens are keyed on normalised names and case numbers: the vectorised normalisation must give
byte-identical strings, and so identical tokens, to the per-value Python implementation it replaced.

Two references: tokens frozen before the change (fixtures/token_sample.json, `token_sample.py`), and
a copy of the earlier implementation below, run against the new one on generated text.
"""

from __future__ import annotations

import hmac
import re
import sys
import unicodedata

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from ct_pipeline.pseudonymize import normalise as N
from ct_pipeline.pseudonymize import vault as V
from ct_pipeline.pseudonymize.tokens import (
    add_case_tokens,
    add_identity_tokens,
    hmac_tokens,
    identities_frame,
    map_unique,
    person_name_key,
    person_name_keys,
    pseudonymize,
)
from tests.unit.pseudonymize import token_sample

# --- the implementation before #8, verbatim but for names ------------------------------------------

_OLD_TRANSLATE = N._TRANSLATE  # the tables themselves are unchanged
_OLD_DASHES = re.compile(r"[\u2010-\u2015\u2212\uFE58\uFE63\uFF0D]")
_OLD_SPACE = re.compile(r"\s+")


def _old_strip_latin_marks(text: str) -> str:
    out: list[str] = []
    base_is_latin = False
    for ch in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(ch):
            if base_is_latin:
                continue
        else:
            base_is_latin = ch.isascii()
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def _old_name_tokens(*parts):
    text = " ".join(p for p in parts if p)
    if not text:
        return []
    text = unicodedata.normalize("NFKC", text).casefold().translate(_OLD_TRANSLATE)
    text = _old_strip_latin_marks(text)
    text = "".join(ch if ch.isalnum() else " " for ch in text)
    return sorted(text.split())


def _old_normalise_name(*parts):
    return " ".join(_old_name_tokens(*parts))


def _old_person_name_key(full, given_, family):
    return _old_normalise_name(given_, family) or _old_normalise_name(full)


def _old_case_ref(value):
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).upper()
    return _OLD_SPACE.sub("", _OLD_DASHES.sub("-", text))


def _old_map_unique(df, columns, fn, name, dtype):
    uniq = df.select(columns).unique()
    uniq = uniq.with_columns(pl.Series(name, [fn(*row) for row in uniq.iter_rows()], dtype=dtype))
    return df.select(columns).join(uniq, on=list(columns), how="left", nulls_equal=True, maintain_order="left")[name]


def _old_hmac_tokens(key, messages):
    uniq = messages.unique().drop_nulls()
    toks = [hmac.digest(key.secret, m.encode("utf-8"), "sha256").hex()[:32] for m in uniq.to_list()]
    return messages.replace_strict(uniq, pl.Series(toks, dtype=pl.String), default=None, return_dtype=pl.String)


def _old_tokens(df, key):
    m = _old_map_unique(df, ["mission_code"], _old_case_ref, "_m", pl.String)
    c = _old_map_unique(df, ["case_ref"], _old_case_ref, "_c", pl.String)
    n = _old_map_unique(df, ["full_name", "given_name", "family_name"], _old_person_name_key, "_n", pl.String)
    d = df.with_columns(_m=m, _c=c, _n=n)
    case = _old_hmac_tokens(key, d.select(pl.concat_str([pl.lit("case"), "_m", "_c"], separator="\x1f"))[:, 0])
    dob = pl.col("date_of_birth")
    global_ = (pl.col("_n") != "") & dob.is_not_null()
    msg = (
        pl.when(global_).then(pl.concat_str([pl.lit("person"), "_n", dob.dt.strftime("%Y-%m-%d")], separator="\x1f"))
        .otherwise(pl.concat_str([pl.lit("person-case"), "_m", "_c", "_n"], separator="\x1f"))
    )
    ident = _old_hmac_tokens(key, d.select(msg)[:, 0])
    basis = d.select(pl.when(global_).then(pl.lit("name_dob")).otherwise(pl.lit("case")))[:, 0]
    return pl.DataFrame({"case_token": case, "identity_token": ident, "identity_basis": basis})


# --- frozen tokens -----------------------------------------------------------------------------


def test_tokens_equal_the_frozen_tokens_of_the_sample(key):
    assert key.secret == token_sample.KEY
    got = token_sample.tokens(token_sample.sample())
    frozen = token_sample.frozen()
    assert got.height == frozen.height
    assert got.equals(frozen)


def test_tokens_equal_the_earlier_implementation_on_the_sample(key):
    sample = token_sample.sample()
    old = _old_tokens(sample, key)
    assert add_identity_tokens(add_case_tokens(sample, key), key).select(old.columns).equals(old)
    ident = identities_frame(sample, key)
    assert ident.select(old.columns).equals(old)


def test_pseudonymize_tokens_equal_the_earlier_implementation(key, typed):
    s, a, _ = typed
    out = pseudonymize(s, a, key, link=False)
    old_s = _old_tokens(s, key)
    assert out.identities.select(old_s.columns).equals(old_s)
    old_a = _old_map_unique(a, ["mission_code"], _old_case_ref, "_m", pl.String)
    old_ac = _old_map_unique(a, ["case_ref"], _old_case_ref, "_c", pl.String)
    msgs = pl.concat_str([pl.lit("case"), old_a, old_ac], separator="\x1f")
    assert out.stg_assistance["case_token"].equals(_old_hmac_tokens(key, pl.select(msgs).to_series()), check_names=False)


# --- generated text: every path of the vectorised normalisation ---------------------------------

# ASCII (all of it, control characters and the information separators included), Latin with
# diacritics (composed and combining), Cyrillic, Greek, Arabic with harakat, Thai, Devanagari,
# Hangul, compatibility forms, Unicode spaces and dashes, apostrophes, zero-width characters.
ALPHABET = (
    "".join(map(chr, range(128)))
    + "àáâãäåçèéêëìíîïñòóôõöùúûüýÿăâîșțşţčšžćđłøæœßþðıİĳŉ"
    + "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝĂÂÎȘȚŞŢČŠŽĆĐŁØÆŒẞÞÐ"
    + "\u0300\u0301\u0302\u0303\u0308\u030c\u0327\u0328\u030a\u0306\u0307\u0323\u1dc0\u20d0"
    + "абвгґдеёєжзиіїйклмнопрстуфхцчшщъыьэюяђјљњћџўАБВГҐДЕЁЄЖЗИІЇЙЩЮЯЂЈЉЊЋЏ"
    + "αβγδεζηθικλμνξοπρσςτυφχψωΑΒΓΣΩάέὈ"
    + "محمدفاطمةالزهراءُ َّ ً ٣٤"
    + "สมชายใจดี่้"
    + "सीताराम्थापा"
    + "김민지王芳"
    + "ﬁﬀﬃﬅＭＡＲＩＡａｚ０９－"
    + "\u00a0\u2003\u3000\u2009\u200b\u200d\u00ad\u2028\u0085"
    + "‐‑‒–—―−﹘﹣－"
    + "’‘ʼ`´ʹ′"
    + "²½Ⅻⅰ①"
)  # fmt: skip
text = st.one_of(st.none(), st.text(alphabet=ALPHABET, max_size=24))
ascii_text = st.one_of(st.none(), st.text(alphabet="".join(map(chr, range(128))), max_size=24))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(text, text, text), min_size=1, max_size=40))
def test_person_name_keys_equal_the_earlier_implementation(rows):
    df = pl.DataFrame(rows, schema=dict.fromkeys(["full_name", "given_name", "family_name"], pl.String), orient="row")
    expected = [_old_person_name_key(*r) for r in rows]
    assert person_name_keys(df).to_list() == expected
    assert map_unique(df, df.columns, person_name_key, "nk", pl.String).to_list() == expected
    assert [person_name_key(*r) for r in rows] == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(ascii_text, ascii_text, ascii_text), min_size=1, max_size=40))
def test_ascii_fast_path_equals_the_earlier_implementation(rows):
    df = pl.DataFrame(rows, schema=dict.fromkeys(["full_name", "given_name", "family_name"], pl.String), orient="row")
    assert person_name_keys(df).to_list() == [_old_person_name_key(*r) for r in rows]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(text, ascii_text), min_size=1, max_size=40))
def test_case_refs_equal_the_earlier_implementation(values):
    s = pl.Series("case_ref", values, dtype=pl.String)
    expected = [_old_case_ref(v) for v in values]
    assert N.normalise_case_refs(s).to_list() == expected
    assert [N.normalise_case_ref(v) for v in values] == expected
    assert [N.normalise_mission(v) for v in values] == expected


# documents and phones: ASCII punctuation and spaces, digits of other scripts (Arabic-Indic,
# full-width: NFKC folds only the latter), letters with marks
id_text = st.one_of(st.none(), st.text(alphabet="0123456789abcXYZ +-./()#\u0661\u0662\uff11\uff12\u00e9\u00df", max_size=20))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(id_text, ascii_text, text, st.text(alphabet="0123456789 -+", min_size=5, max_size=12)),
                min_size=1, max_size=40))
def test_vectorised_documents_and_phones_equal_the_functions(values):
    s = pl.Series("v", values, dtype=pl.String)
    assert N.normalise_documents(s).to_list() == [N.normalise_document(v) for v in values]
    assert N.normalise_phones(s).to_list() == [N.normalise_phone(v) for v in values]
    df = s.to_frame("document_number")
    assert map_unique(df, ["document_number"], N.normalise_document, "doc", pl.String).to_list() == [
        N.normalise_document(v) for v in values]


def test_vectorised_phones_examples():
    s = pl.Series("phone", ["+373 69 123 456", "069123456", "12345", "1234567", None, "", "\u0661\u0662" * 4])
    assert N.normalise_phones(s).to_list() == ["69123456", "69123456", "", "1234567", "", "", "\u0661\u0662" * 4]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=30))
def test_strip_latin_marks_equals_the_character_loop(s):
    assert N._strip_latin_marks(s) == _old_strip_latin_marks(s)


def test_separator_class_is_exactly_not_isalnum():
    """`[\\W_]` is `not str.isalnum()` for every code point (the same Unicode predicate in sre)."""
    for c in map(chr, range(sys.maxunicode + 1)):
        assert (N._NOT_ALNUM.match(c) is None) == c.isalnum()


def test_ascii_whitespace_class_is_pythons():
    for c in map(chr, range(128)):
        assert bool(re.fullmatch(r"\s", c)) == bool(re.fullmatch(N._ASCII_SPACE, c))


def test_hmac_tokens_equal_hmac_digest(key, other_key):
    msgs = pl.Series(["case\x1fMD-CHI\x1f0042", "", None, "person\x1fолена\x1f1990-01-02", "x" * 200, "case\x1fMD-CHI\x1f0042"])
    for k in (key, other_key):
        assert hmac_tokens(k, msgs).to_list() == _old_hmac_tokens(k, msgs).to_list()


def test_names_of_empty_and_single_frames():
    empty = pl.DataFrame(schema=dict.fromkeys(["full_name", "given_name", "family_name"], pl.String))
    assert person_name_keys(empty).to_list() == []
    one = pl.DataFrame({"full_name": ["Шевченко Олена"], "given_name": [None], "family_name": [None]})
    assert person_name_keys(one).to_list() == ["olena shevchenko"]


def test_store_identities_replaces_a_reloaded_files_rows(con, key, typed):
    """A file's rows stored again (a reload) replace all its earlier rows, also those of records
    the new copy no longer has; other files' rows stay."""
    s, a, _ = typed
    ident = pseudonymize(s.head(40), a.head(0), key, link=False).identities
    V.store_identities(con, ident, key)
    first = ident["source_file"][0]
    in_file = ident.filter(pl.col("source_file") == first)
    again = in_file.head(max(1, in_file.height - 3)).with_columns(person_token=pl.lit("0" * 32))
    V.store_identities(con, again, key)
    assert con.sql("SELECT count(*) FROM identity_vault").fetchall()[0][0] == ident.height - in_file.height + again.height
    assert con.execute("SELECT count(*) FROM identity_vault WHERE source_file = ?", [first]).fetchall()[0][0] == again.height
    assert con.sql(f"SELECT count(*) FROM identity_vault WHERE person_token = '{'0' * 32}'").fetchall()[0][0] == again.height
    back = V.load_identities(con, key, reason="test of the vault reload", who="test")
    kept = pl.concat([ident.filter(pl.col("source_file") != first), again])
    assert back.sort("source_file", "source_row").select("given_name", "date_of_birth").equals(
        kept.sort("source_file", "source_row").select("given_name", "date_of_birth")
    )


def test_sample_covers_both_bases_and_non_ascii_names():
    sample = token_sample.sample()
    names = sample.select("full_name", "given_name", "family_name")
    non_ascii = names.filter(pl.any_horizontal(pl.col(c).str.len_bytes() != pl.col(c).str.len_chars() for c in names.columns))
    assert non_ascii.height > 100
    assert sample["date_of_birth"].null_count() > 100
