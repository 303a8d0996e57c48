"""Code-list, country and yes/no normalisers (property-based where it matters)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ct_pipeline.metadata.registry import load_registry
from ct_pipeline.stage import normalize as nz

REG = load_registry()
LISTS = sorted(n for n in REG.codelists if n not in ("country", "era", "form", "file_status"))
PAIRS = [(n, c.code, v) for n in LISTS for c in REG.codelists[n].codes for v in [c.code, c.label, *c.variants]]
COUNTRIES = list(REG.countries)


def _decorate(text: str, data) -> str:
    """Change case, add diacritic-free/with-diacritic noise that folding must absorb."""
    out = []
    for ch in text:
        r = data.draw(st.integers(0, 3))
        out.append(ch.upper() if r == 1 else ch.lower() if r == 2 else ch)
    s = "".join(out)
    pad = data.draw(st.sampled_from(["", " ", "  ", "\t"]))
    return pad + s + data.draw(st.sampled_from(["", " ", ".", " ."]))


@settings(max_examples=300)
@given(st.sampled_from(PAIRS), st.data())
def test_every_code_label_and_variant_maps_to_its_code(pair, data):
    name, code, value = pair
    assert nz.code_value(_decorate(value, data), name) == code


@settings(max_examples=100)
@given(st.sampled_from(PAIRS))
def test_diacritics_do_not_matter(pair):
    name, code, value = pair
    stripped = "".join(ch for ch in unicodedata.normalize("NFKD", value) if not unicodedata.combining(ch))
    assert nz.code_value(stripped, name) == code


@settings(max_examples=200)
@given(st.sampled_from(COUNTRIES), st.data())
def test_countries_by_alpha2_alpha3_and_name(row, data):
    a2 = row["alpha2"]
    case = data.draw(st.sampled_from([str.upper, str.lower, str.title]))
    assert nz.country_code(case(a2)) == a2
    assert nz.country_code(case(row["alpha3"])) == a2
    assert nz.country_code(_decorate(row["name"], data)) == a2


def test_na_is_namibia_and_n_slash_a_is_not_recorded():
    assert nz.country_code("NA") == "NA"
    assert nz.country_code("Namibie") == "NA"
    assert nz.is_not_recorded("n/a")
    assert not nz.is_not_recorded("NA")


@pytest.mark.parametrize(
    "text,code",
    [("Moldavie", "MD"), ("Rép. de Moldova", None), ("UK", "GB"), ("Côte d'Ivoire", "CI"), ("Ivory Coast", "CI"), ("Cote d Ivoir", None),
     ("COTE D IVOIRE", "CI"), ("Atlantis", None), ("XX", None), ("XXX", None)],
)
def test_country_examples(text, code):
    assert nz.country_code(text) == code


@given(st.text(min_size=1, max_size=30))
def test_normalisers_never_raise(text):
    nz.country_code(text)
    nz.code_value(text, "sex")
    nz.yes_no(text)
    nz.split_multi(text, [",", "/", "+"], nz.country_code)


@pytest.mark.parametrize(
    "text,value",
    [("oui", True), ("NON", False), ("Sí", True), ("si", True), ("da", True), ("net", False), ("1", True),
     ("0.0", False), ("1.0", True), ("TRUE", True), ("false", False), ("ja", True), ("peut-être", None)],
)
def test_yes_no_in_several_languages_and_flags(text, value):
    assert nz.yes_no(text) == value


def test_multi_valued_cells_split_on_separators_but_keep_values_whole():
    match = lambda t: nz.code_value(t, "means_of_control")  # noqa: E731
    assert nz.split_multi("menaces/dette", [",", "/", "+"], match) == (["threats", "debt_bondage"], [])
    assert nz.split_multi("drugs/alcohol", [",", "/", "+"], match) == (["psychoactive_substances"], [])
    assert nz.split_multi("threats , threats + gibberish", [",", "/", "+"], match) == (["threats"], ["gibberish"])
    assert nz.split_multi('["threats", "debt_bondage"]', [], match) == (["threats", "debt_bondage"], [])
    # countries keep their order and repeats; a name with a comma is not cut
    countries = nz.split_multi("Moldova, Republic of/Romania/Moldova", [",", "/"], nz.country_code, unique=False)
    assert countries == (["MD", "RO", "MD"], [])


@settings(max_examples=100)
@given(st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=5), st.sampled_from([", ", "/", " + ", ","]))
def test_country_lists_round_trip(rows, sep):
    # two names that together are a third's variant ("Macao" + ", " + "China" is Macao's "Macao,
    # China") are one country by design (a name with a comma is not cut): not a round trip
    assume(all(nz.country_code(f"{a['name']}{sep}{b['name']}") is None for a, b in zip(rows, rows[1:], strict=False)))
    text = sep.join(r["name"] for r in rows)
    codes, unknown = nz.split_multi(text, [",", "/", "+"], nz.country_code, unique=False)
    assert unknown == []
    assert codes == [r["alpha2"] for r in rows]
