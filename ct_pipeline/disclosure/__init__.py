"""Disclosure control: the pub_* tables of the public zone, and the blocking check that proves them.

See `ct_pipeline.disclosure.suppress` for the method (primary and secondary suppression, linked
tables), `publish.build_pub_tables` for the tables, `check.check_disclosure` for the proof.
"""

from ct_pipeline.disclosure.check import DisclosureProblem, check_disclosure, pub_tables, threshold
from ct_pipeline.disclosure.publish import METHOD, PUB_TABLES, PUBLICATIONS, build_pub_tables
from ct_pipeline.disclosure.suppress import DEFAULT_K, NOT_RECORDED, TOTAL, CubeSpec, suppress


class DisclosureError(RuntimeError):
    """Published tables failed the disclosure check: nothing may be published from them."""

    def __init__(self, problems: list[DisclosureProblem]):
        self.problems = problems
        super().__init__("disclosure check failed:\n  " + "\n  ".join(str(p) for p in problems))


__all__ = [
    "DEFAULT_K", "METHOD", "NOT_RECORDED", "PUBLICATIONS", "PUB_TABLES", "TOTAL", "CubeSpec",
    "DisclosureError", "DisclosureProblem", "build_pub_tables", "check_disclosure", "pub_tables", "suppress",
    "threshold",
]
