"""Pseudonymisation at the staging boundary: keyed tokens and generalisation.

Entry point: `pseudonymize(typed_screenings, typed_assistance, key)` -> stg_* frames (analyst zone)
and the identities (restricted zone) behind each token.
"""

from ct_pipeline.pseudonymize.keys import PseudonymKey, load_key
from ct_pipeline.pseudonymize.tokens import Pseudonymized, pseudonymize

__all__ = ["PseudonymKey", "Pseudonymized", "load_key", "pseudonymize"]
