"""Header signatures: which (era, form) a set of headers is, and what to say when it is none.

A file must match exactly one (era, form) signature (formats.signature). When it matches none, the
message names the closest era and form, the expected headers that are missing and the headers that
are not part of that format. Unexpected headers are named only when the first row is plainly a
header row (at least half of the expected names present): a file without a header row would
otherwise have its first record's values copied into the ledger. Names are shortened to 40
characters.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ct_pipeline.formats import eras as formats

MAX_LISTED = 12
MAX_NAME = 40
DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}


@dataclass(frozen=True)
class Comparison:
    era: str
    form: str
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    found: int
    expected: int

    @property
    def exact(self) -> bool:
        return not self.missing and not self.unexpected

    @property
    def score(self) -> float:
        union = self.found + len(self.missing) + len(self.unexpected)
        return self.found / union if union else 0.0


def compare(headers: list[str], era: str, form: str, *, required: frozenset[str] | None = None) -> Comparison:
    """Compare headers with a signature. `required`: only these must be present (JSON Lines)."""
    sig = formats.signature(era, form)
    have = set(headers)
    need = sig if required is None else required
    missing = tuple(h for h in sorted(need) if h not in have)
    unexpected = tuple(h for h in headers if h not in sig)
    return Comparison(era, form, missing, unexpected, len(have & sig), len(sig))


def duplicated(headers: list[str]) -> list[str]:
    return [h for h, n in Counter(headers).items() if n > 1 and h]


def _safe(name: str) -> str:
    name = " ".join(name.split())
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"


def _listing(names: tuple[str, ...] | list[str], *, quote: bool = True) -> str:
    shown = [f"'{_safe(n)}'" if quote else _safe(n) for n in list(names)[:MAX_LISTED]]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def describe_mismatch(c: Comparison, where: str = "", *, header_row: bool = True) -> str:
    """What differs between a file's headers and its closest format, without any cell value."""
    era = formats.load_eras()[c.era]
    form = "CTDC reference" if c.form == "reference" else f"{c.form} form"
    head = f"closest format: {era.label}, {form}{where}"
    if header_row and c.found * 2 < c.expected:
        return (
            f"{head}; the first row does not look like its header row (only {c.found} of "
            f"{c.expected} expected column names found, e.g. {_listing(sorted(formats.signature(c.era, c.form))[:4])})"
        )
    parts = [head]
    if c.missing:
        parts.append(f"missing column(s): {_listing(c.missing)}")
    if c.unexpected:
        parts.append(f"unexpected column(s): {_listing(c.unexpected)}")
    return "; ".join(parts)


def closest(comparisons: list[Comparison]) -> Comparison:
    return max(comparisons, key=lambda c: (c.score, -len(c.missing)))
