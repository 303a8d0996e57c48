"""A fixed, varied, synthetic sample of identity records for the token-stability tests.

Every value is invented: names from `variants.py`'s pools plus hand-written hard cases (scripts,
compatibility forms, odd whitespace, control characters, empty and missing values). The frozen
tokens of this sample (fixtures/token_sample.json, keyed with the tests' public key) were computed
by the implementation before the vectorised one; regenerate them only on purpose, never to make a
test pass:

    python -m tests.unit.pseudonymize.token_sample --write
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import polars as pl

FIXTURE = Path(__file__).parent / "fixtures" / "token_sample.json"
KEY = bytes(range(32))  # the tests' public key (conftest.key), never a real one

HARD_NAMES = [
    None, "", " ", "\t\n", "\u00a0", "\u2003Olena\u2003", "Олена", "ШЕВЧЕНКО", "Ђорђе", "Љиљана Њежић",
    "Щербак Юлія", "Їжак Ґанна Єва", "مُحَمَّد", "فاطمة الزهراء", "สมชาย", "สมหญิง ใจดี", "सीता",
    "राम थापा", "Σοφία", "ΟΔΥΣΣΕΑΣ", "Straße", "STRASSE", "İlhan", "ılgaz", "ﬁona ﬀ", "ＭＡＲＩＡ ＰＯＰＥＳＣＵ",
    "Ǆurić", "ǅ", "Ma\u200bria", "An\u200dna", "\u0301abc", "e\u0301mile", "Émile", "O’Brien", "O'Brien",
    "D`Arcy", "Jean_Paul", "Anna-Maria", "Anna‐Maria", "Maria 2", "Ⅻ Louis", "x² ½", "王芳", "김민지",
    "Nguyễn Thị Hương", "Đặng Văn Minh", "ȚURCAN Ștefan", "Bălan", "Sîrbu", "Łukasz Øster", "Æsa Œuvre",
    "Þór Ðan", "ħ ŋ ĸ ŧ ƒ", "Ma\x00ria", "Ma\x1fria", "\x1c\x1d\x1e", "😀 Maria", "a\u0308\u0301b",
    "Ａｎｎａ－Ｍａｒｉａ", "ʼAbd", "′x", "´y", "ʹz", "Ὀδυσσεύς", "ǰ", "ﬃ", "Å Ångström", "\u212b",
    "  SHEVCHENKO   olena ", "olena shevchenko", "Ólena-Shevchénko", "MARIA\r\nPOPESCU", "a_b_c", "_",
    "123", "٣٤", "Maria\u00adPopescu", "\u3000Ann\u3000", "Ｍ", "İ", "ß", "ẞ", "ŉ", "ﬅ",
]  # fmt: skip
HARD_REFS = [
    None, "", " ", "md-chi-2020-00042", " MD CHI 2020 42 ", "MD‐CHI–2020", "ＭＤ－１", "\u00a0x\u2003y",
    "\x1cab\x1f", "ß-1", "ﬁ-2", "0042", "42", "a\tb\nc\rd\x0be\x0cf", "Ünal/7", "№ 5", "case—12", "x−1",
    "\u200b7", "ｃａｓｅ", "ı-1", "ǆ", "١٢٣", "MD-CHI/2003/0042",
]  # fmt: skip
HARD_MISSIONS = [None, "", "MD-CHI", " md-chi", "md‐chi", "ＭＤ-CHI", "UA-KYI\t", "ß", "TH-BKK"]


def sample() -> pl.DataFrame:
    """Typed-screening-shaped frame: variants' synthetic persons + the hard cases."""
    from ct_pipeline.pseudonymize.variants import synthetic_screenings

    s, _ = synthetic_screenings(800, seed=11)
    rows = []
    n = len(HARD_NAMES)
    for i in range(n * 4):
        rows.append({
            "source_file": "HARD/2020-01-01/hard.jsonl", "source_row": i + 1,
            "mission_code": HARD_MISSIONS[i % len(HARD_MISSIONS)],
            "case_ref": HARD_REFS[i % len(HARD_REFS)],
            "full_name": HARD_NAMES[i % n] if i % 4 in (0, 3) else None,
            "given_name": HARD_NAMES[(i * 7 + 3) % n] if i % 4 in (1, 3) else None,
            "family_name": HARD_NAMES[(i * 13 + 5) % n] if i % 4 in (1, 2) else None,
            "date_of_birth": date(1980 + i % 30, 1 + i % 12, 1 + i % 28) if i % 3 else None,
        })  # fmt: skip
    hard = pl.DataFrame(rows, schema={c: s.schema[c] for c in rows[0]})
    return pl.concat([s, hard], how="diagonal_relaxed")


def tokens(df: pl.DataFrame) -> pl.DataFrame:
    from ct_pipeline.pseudonymize.keys import PseudonymKey
    from ct_pipeline.pseudonymize.tokens import add_case_tokens, add_identity_tokens

    key = PseudonymKey(KEY, "v1")
    out = add_identity_tokens(add_case_tokens(df, key), key)
    return out.select("case_token", "identity_token", "identity_basis")


def write() -> None:
    df = tokens(sample())
    # one list per column, in the sample's row order
    FIXTURE.write_text(json.dumps(df.to_dict(as_series=False), ensure_ascii=True, separators=(",", ":")) + "\n")
    print(f"wrote {df.height} token rows to {FIXTURE}")


def frozen() -> pl.DataFrame:
    return pl.DataFrame(json.loads(FIXTURE.read_text()), schema=dict.fromkeys(("case_token", "identity_token", "identity_basis"), pl.String))


if __name__ == "__main__" and "--write" in sys.argv:
    write()
