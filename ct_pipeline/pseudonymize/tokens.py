"""Keyed tokens (HMAC-SHA256) and generalisation of quasi-identifiers. A first version; see issue 4."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass

import polars as pl

from ct_pipeline.pseudonymize.keys import PseudonymKey


def normalise_name(*parts: str | None) -> str:
    """NFKC, case-fold, strip diacritics and punctuation, sort the name tokens (order-free)."""
    text = " ".join(p for p in parts if p)
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = "".join(ch if ch.isalnum() else " " for ch in text)
    return " ".join(sorted(text.split()))


def keyed_token(key: PseudonymKey, kind: str, value: str) -> str:
    mac = hmac.new(key.secret, f"{kind}\x1f{value}".encode(), hashlib.sha256).hexdigest()
    return mac[:32]


@dataclass(frozen=True)
class Pseudonymized:
    stg_screenings: pl.DataFrame
    stg_assistance: pl.DataFrame
    identities: pl.DataFrame  # restricted zone: token -> identifying fields
