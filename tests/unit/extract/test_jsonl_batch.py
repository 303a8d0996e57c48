"""Many JSON Lines files parsed at once give what each file parsed on its own gives (#8: the lines
of a batch are split and numbered in one vectorised pass)."""

from __future__ import annotations

import json

import polars as pl

from ct_pipeline.extract import Extracted, FileRefused, extract_file, extract_files
from ct_pipeline.extract import jsonl_export as J
from tests.fixtures.bad_inputs.builders import export_path, jsonl_case


def _files(tmp_path):
    good = "\n".join(json.dumps(jsonl_case(i)) for i in range(1, 4)) + "\n"
    crlf = "\r\n".join(json.dumps(jsonl_case(i, person={"given_name": "Тест", "family_name": "Ñoño"})) for i in range(4, 6))
    broken = json.dumps(jsonl_case(7)) + "\n\n{not json\n" + json.dumps(jsonl_case(8, route={"stage": "x"})) + "\n  \n[1, 2]\n"
    no_final_newline = json.dumps(jsonl_case(9))
    texts = {
        "good.jsonl": good, "crlf.jsonl": crlf, "broken.jsonl": broken, "blank.jsonl": "\n  \n\r\n",
        "last.jsonl": no_final_newline, "twice_newline.jsonl": good + "\n",
    }  # fmt: skip
    paths = []
    for name, text in texts.items():
        p = export_path(tmp_path, name)
        p.write_bytes(text.encode("utf-8"))
        paths.append(p)
    return paths


def _same(a, b) -> bool:
    if isinstance(a, FileRefused) or isinstance(b, FileRefused):
        return type(a) is type(b) and a.reason == b.reason and a.era == b.era
    return (
        a.screening_values.equals(b.screening_values)
        and a.assistance_values.equals(b.assistance_values)
        and a.quarantine.equals(b.quarantine)
        and a.rows_read == b.rows_read
    )


def test_batch_equals_file_by_file(tmp_path):
    paths = _files(tmp_path)
    batch = extract_files(paths, tmp_path)
    for p, got in zip(paths, batch, strict=True):
        try:
            alone = extract_file(p, tmp_path)
        except FileRefused as e:
            alone = e
        assert _same(got, alone), p.name
    kinds = [type(x).__name__ for x in batch]
    assert kinds.count("FileRefused") == 1 and kinds.count("Extracted") == 5
    broken = next(x for p, x in zip(paths, batch, strict=True) if p.name == "broken.jsonl")
    assert isinstance(broken, Extracted)
    assert sorted(broken.quarantine["rule"].to_list()) == ["json_parse", "json_parse", "json_structure"]
    assert broken.quarantine["source_row"].to_list() == [3, 4, 6]


def test_lines_frame_numbers_lines_per_file_like_decode_lines():
    texts = ["a\nb\n", "\n\nc\r\n", "", "x", "y\n\n"]
    frame = J.lines_frame(texts)
    for i, text in enumerate(texts):
        mine = frame.filter(pl.col("file_id") == i).select("line_no", "line")
        body = text[:-1] if text.endswith("\n") else text
        expected = [(n, line.removesuffix("\r")) for n, line in enumerate(body.split("\n"), 1) if line.removesuffix("\r").strip()]
        assert mine.rows() == expected


def _old_raw_frames(parts, table):
    """raw_frames before #8 (a tagged frame per file, joined with the provenance)."""
    from ct_pipeline.extract.frames import _schema

    schema = _schema(table)
    parts = [(p, df) for p, df in parts if df.height]
    tagged = [
        pl.DataFrame([pl.Series("_file", [i], dtype=pl.Int32).new_from_index(0, df.height), *df.get_columns()])
        for i, (_, df) in enumerate(parts)
    ]
    prov = pl.DataFrame({
        "_file": pl.Series(list(range(len(parts))), dtype=pl.Int32),
        **{k: pl.Series([getattr(p, k) for p, _ in parts], dtype=schema[k])
           for k in ("source_file", "source_sha256", "era", "mission_code", "received_date")},
    })  # fmt: skip
    df = pl.concat(tagged, how="diagonal_relaxed").join(prov, on="_file", how="left", maintain_order="left")
    return df.select([pl.col(c).cast(t) if c in df.columns else pl.lit(None, dtype=t).alias(c) for c, t in schema.items()])


def test_raw_frames_equal_the_earlier_implementation(tmp_path):
    from tests.fixtures.bad_inputs.builders import (
        legacy_screening,
        mimosa_assistance,
        mimosa_screening,
        write_legacy,
        write_mimosa,
    )

    paths = _files(tmp_path)
    paths.append(write_legacy(export_path(tmp_path, "CTM_screening.csv"), "screening", [legacy_screening(i) for i in range(3)]))
    paths.append(write_mimosa(export_path(tmp_path, "MiMOSA.xlsx", received="2024-03-02"), [mimosa_screening(i) for i in range(4)], [mimosa_assistance(1)]))
    extracted = [x for x in extract_files(paths, tmp_path) if isinstance(x, Extracted)]
    assert {x.era for x in extracted} == {"case_api_jsonl", "ctm_legacy", "mimosa_xlsx"}
    from ct_pipeline.extract.frames import raw_frames

    for form, table in (("screening", "raw_screenings"), ("assistance", "raw_assistance")):
        parts = [(x.provenance, x.values(form)) for x in extracted]
        assert raw_frames(parts, table).equals(_old_raw_frames(parts, table))
