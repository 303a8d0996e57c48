"""The pandera gate over a whole table, validated part by part."""

from __future__ import annotations

import pytest

from ct_pipeline import checks
from ct_pipeline.warehouse import connect_build
from ct_pipeline.warehouse.synthetic import insert_stg, screening_row, stg_frame


@pytest.mark.parametrize("chunk_rows", [2_000_000, 3])
def test_every_part_is_validated_and_counted(settings, monkeypatch, chunk_rows):
    monkeypatch.setattr(checks, "PANDERA_CHUNK_ROWS", chunk_rows)
    con = connect_build(settings)
    rows = [screening_row(f"c{i}", f"TH-BKK/2010-06-0{1 + i % 5}/export.xlsx", i + 1) for i in range(20)]
    insert_stg(con, stg_frame("stg_screenings", rows))
    con.close()
    ok = checks.pandera_check(settings, "stg_screenings")
    assert ok.passed and ok.metadata == {"rows": 20}

    con = connect_build(settings)
    con.execute("UPDATE stg_screenings SET sex = 'not-a-code' WHERE source_row IN (4, 12, 18)")
    con.close()
    bad = checks.pandera_check(settings, "stg_screenings")
    assert not bad.passed and bad.metadata == {"failures": 3, "rows": 20}
    assert "sex" in bad.summary and "not-a-code" not in bad.summary  # columns and counts, never values
