"""`make demo` writes its synthetic exports owner-only: raw_exports/ is the restricted zone's drop folder."""

from __future__ import annotations

import os
import stat


def test_demo_exports_are_owner_only(tmp_path):
    from ct_pipeline.runner import generate_demo_exports
    from ct_pipeline.settings import get_settings

    drop = tmp_path / "raw_exports"
    drop.mkdir(mode=0o755)
    os.chmod(drop, 0o755)  # as a fresh clone has it
    (drop / "README.md").write_text("drop folder\n")
    os.chmod(drop / "README.md", 0o644)
    old = os.umask(0o022)  # a usual shell umask: the generator alone would leave 0755 / 0644
    try:
        summary = generate_demo_exports(get_settings(drop, tmp_path / "warehouse", tmp_path / "no.key"), cases=40, seed=2)
    finally:
        os.umask(old)
    assert summary["cases"] > 0
    paths = [drop, *drop.rglob("*")]
    assert sum(p.is_file() for p in paths) > 3
    wide = [f"{p.relative_to(tmp_path)} {stat.S_IMODE(p.stat().st_mode):04o}" for p in paths
            if stat.S_IMODE(p.stat().st_mode) & 0o077]
    assert wide == []
    truth = tmp_path / "warehouse" / "restricted" / "synth_truth.csv"
    assert truth.exists() and stat.S_IMODE(truth.stat().st_mode) == 0o600
