"""SQL for order-free content hashes of rows, strong enough to tell changed content apart.

DuckDB's hash() is cheap (~5x cheaper than md5) but weak: NULL, [] and [NULL] hash alike, and its
string hash (xor-multiply over 8-byte blocks) maps strings that differ by the same byte 16
positions apart to one value (``BY-MINSK/2025-01-11/cases_20250108.jsonl`` and
``…/2025-05-11/cases_20250508.jsonl`` collide; tested). So each value is hashed on its own and
remixed through murmur (hash of a UBIGINT) with a constant of its own column (the sum does not
depend on how DuckDB combines columns); nested values are hashed as their text; text is hashed a
second time shifted by one byte, which moves every edit to another place in its block: an edit
goes unseen only if both hashes collide at once. Tokens (``*_token``) are keyed hashes: two of
them differ at random, not in a pattern, and one hash is enough.
"""

from __future__ import annotations

import hashlib


def salt(*names: str) -> int:
    """A fixed 63-bit constant per table column (and role)."""
    return int(hashlib.md5("\x1f".join(names).encode()).hexdigest()[:16], 16) >> 1


def value_terms(value: str, *names: str, text: bool) -> list[str]:
    """SQL (UBIGINT) hashes of the value of SQL expression ``value``, salted by ``names`` (table,
    column); ``text``: the value is text (or nested, cast to text) and is hashed at two alignments."""
    terms = [f"hash(xor(hash({value}), {salt(*names)}::UBIGINT))"]
    if text:
        terms.append(f"hash(xor(hash(chr(1) || {value}), {salt(*names, 'shifted')}::UBIGINT))")
    return terms


def value_hash(value: str, *names: str, text: bool) -> str:
    """SQL (HUGEINT) hash of a value: the sum of its `value_terms`."""
    return " + ".join(f"{t}::HUGEINT" for t in value_terms(value, *names, text=text))


def xor_terms(terms: list[str]) -> str:
    """SQL (UBIGINT) combination of UBIGINT hash terms by XOR. As strong as their sum (each term is
    its own salted murmur remix: a change cancels out only if two remixes collide) and about a
    third cheaper to compute than adding them as HUGEINT (measured on the 1M warehouse)."""
    out = terms[0]
    for t in terms[1:]:
        out = f"xor({out}, {t})"
    return out


def registry_row_hash(table: str, *, skip: frozenset[str] | set[str] = frozenset(), alias: str = "") -> str:
    """SQL (HUGEINT) hash of a row of registry table ``table`` from its columns (``skip`` left out;
    ``alias``: a table alias with its dot): `value_hash` per column, text at two alignments (codes
    and code lists too: a list is hashed as its text, which tells NULL, [] and [NULL] apart)."""
    from ct_pipeline.metadata.registry import load_registry

    parts = []
    for c in load_registry().columns(table):
        if c.name in skip:
            continue
        text = c.field.type in ("string", "code", "code_list") and not c.name.endswith("_token")
        value = f"CAST({alias}{c.name} AS VARCHAR)" if c.field.type == "code_list" else alias + c.name
        parts.append(value_hash(value, table, c.name, text=text))
    return "(" + " + ".join(parts) + ")"


def row_text_hash(row: str, *names: str) -> str:
    """SQL (HUGEINT) hash of a whole row ``row`` (a table alias) by its text form, which tells NULL
    from an empty list."""
    return value_hash(f"CAST({row} AS VARCHAR)", *names, text=True)


__all__ = ["registry_row_hash", "row_text_hash", "salt", "value_hash", "value_terms", "xor_terms"]
