"""Synthetic mission exports (all three eras) with a ground-truth file: the test bed and the demo.

    from ct_pipeline.synth import SynthConfig, generate
    summary = generate(out_dir, cases=None, seed=1, start_year=1999, end_year=2026, truth=path)

See README.md in this folder for the file layout, the truth file and what each era looks like.
"""

from ct_pipeline.synth.config import DEFECTS, FIELDS, SynthConfig
from ct_pipeline.synth.generate import generate

__all__ = ["DEFECTS", "FIELDS", "SynthConfig", "generate"]
