"""The floor: every export read once the fastest way (`read_floor`), and one file at a time
(`read_floor_one_process`), alike in what they read; a failed read is never the floor."""

from __future__ import annotations

import json

import polars as pl

from ct_pipeline.bench.suite import (
    FLOOR_PROCESSES,
    _deal,
    _field_count,
    _floors,
    _read_floor_part,
    floor_narrower,
    read_floor,
    read_floor_one_process,
    repeat_ratios,
    step_errors,
)


def _jsonl(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _exports(root):
    """JSON Lines files whose fields differ (a nested field only in some, a field null throughout
    one), an empty one, a CSV in Windows-1252."""
    _jsonl(root / "AA-X/2026-01-01/cases_a.jsonl", [{"id": i, "name": "é", "episodes": [{"t": "x", "d": 1}]} for i in range(30)])
    _jsonl(root / "AA-X/2026-01-02/cases_b.jsonl", [{"id": i, "name": None, "episodes": []} for i in range(5)])
    _jsonl(root / "AA-X/2026-01-03/cases_c.jsonl", [{"id": i, "name": "b", "episodes": [{"t": "y"}]} for i in range(7)])
    (root / "AA-X/2026-01-04").mkdir(parents=True)
    (root / "AA-X/2026-01-04/cases_d.jsonl").write_bytes(b"")
    csv = root / "BB-Y/2026-01-01/screening_2026.csv"
    csv.parent.mkdir(parents=True)
    csv.write_bytes("case;name\n1;Jos\xe9\n2;Ana\n".encode("latin-1"))


def test_the_fastest_read_and_the_one_process_read_read_the_same(tmp_path):
    _exports(tmp_path)
    one = read_floor_one_process(tmp_path)
    fast = read_floor(tmp_path)  # one process per core, here as in the bench
    assert one["failed_count"] == fast["failed_count"] == 0
    assert {k: (v["files"], v["rows"], v["bytes"]) for k, v in one["by_format"].items()} == \
        {k: (v["files"], v["rows"], v["bytes"]) for k, v in fast["by_format"].items()} == \
        {"csv": (1, 2, 23), "jsonl": (4, 42, fast["by_format"]["jsonl"]["bytes"])}
    # values: the CSV's 2 rows x 2 columns; file by file, JSON Lines a: 30 x (id, name, episodes
    # with t and d) = 150, b: 5 x (id, name, episodes of nulls) = 15, c: 7 x 4 = 28
    assert one["by_format"]["csv"]["values"] == fast["by_format"]["csv"]["values"] == 4
    assert one["by_format"]["jsonl"]["values"] == 150 + 15 + 28
    assert fast["by_format"]["jsonl"]["values"] >= one["by_format"]["jsonl"]["values"]
    assert fast["processes"] == min(FLOOR_PROCESSES, 5) and floor_narrower(fast, one) == []


def test_batches_of_json_lines_and_a_batch_polars_refuses(tmp_path):
    _exports(tmp_path)
    bad = _jsonl(tmp_path / "AA-X/2026-01-05/cases_e.jsonl", [{"id": 1}])
    bad.write_text(bad.read_text() + "{not json\n", encoding="utf-8")
    paths = sorted(str(p) for p in tmp_path.rglob("*.jsonl"))
    # batches of about 600 bytes: [a] (1.9 kB) alone, then [b, c, d, e], which polars refuses (b's
    # name is null throughout, e has a broken line) and which is then read file by file (counted):
    # the broken file is the one failed file, the others' rows and values all read, once
    part = _read_floor_part(paths, str(tmp_path), batch_bytes=600)
    assert part["jsonl_batch_fallbacks"] == 1 and part["failed_count"] == 1
    assert "cases_e.jsonl" in part["failed_files"][0]
    assert part["by_format"]["jsonl"]["files"] == 5 and part["by_format"]["jsonl"]["rows"] == 42
    assert part["by_format"]["jsonl"]["values"] == 150 + 15 + 28
    # one batch of everything but the broken file: the same rows, and the nested field of the file
    # read first is in the frame
    good = [p for p in paths if not p.endswith("cases_e.jsonl")]
    whole = _read_floor_part(good, str(tmp_path), batch_bytes=10**9)
    assert whole["jsonl_batch_fallbacks"] == 0 and whole["by_format"]["jsonl"]["rows"] == 42
    first = _field_count(pl.read_ndjson(tmp_path / "AA-X/2026-01-01/cases_a.jsonl").schema)
    assert first == 5 and whole["by_format"]["jsonl"]["values"] == 42 * first


def test_a_floor_that_parsed_fewer_fields_is_an_error(tmp_path):
    # the largest file first, without the nested field that a later file holds: one scan takes
    # the first file's schema and drops the field; file by file, it is read
    _jsonl(tmp_path / "a.jsonl", [{"id": i, "name": "x" * 50} for i in range(40)])
    _jsonl(tmp_path / "b.jsonl", [{"id": 1, "name": "y", "extra": {"u": 1, "v": 2}}])
    one = read_floor_one_process(tmp_path)
    part = _read_floor_part([str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")], str(tmp_path), batch_bytes=10**9)
    assert part["jsonl_batch_fallbacks"] == 0 and part["by_format"]["jsonl"]["rows"] == 41
    assert one["by_format"]["jsonl"]["values"] == 40 * 2 + 1 * 5 > part["by_format"]["jsonl"]["values"] == 41 * 2
    assert floor_narrower(part, one) == ["floor: jsonl values 82 against 85 read one file at a time"]
    assert step_errors({"floor": part, "floor_one_process": one}) == floor_narrower(part, one)


def test_files_dealt_out_largest_first_across_kinds(tmp_path):
    sizes = {"a.jsonl": 50, "b.jsonl": 40, "c.jsonl": 30, "d.csv": 20, "e.csv": 10, "f.csv": 5}
    for name, n in sizes.items():
        (tmp_path / name).write_bytes(b"x" * n)
    parts = _deal(sorted(tmp_path.iterdir()), 2)
    names = [[p.rsplit("/", 1)[1] for p in part] for part in parts]
    # each kind dealt in turn, largest first; the turn goes on across kinds: after an odd count of
    # CSVs, part 0 having had the largest CSV, the largest JSON Lines file goes to part 1
    assert names == [["d.csv", "f.csv", "b.jsonl"], ["e.csv", "a.jsonl", "c.jsonl"]]


def test_empty_exports_of_every_kind_are_read_as_nothing(tmp_path):
    # the pipeline refuses empty files; polars and calamine raise on them: the floor reads 0 rows
    for name in ("AA-X/2026-01-01/screening_2026.csv", "AA-X/2026-01-01/export.xlsx", "AA-X/2026-01-01/cases.jsonl"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    for read in (read_floor_one_process(tmp_path), read_floor(tmp_path)):
        assert read["failed_count"] == 0, read["failed_files"]
        assert {k: (v["files"], v["rows"], v["values"]) for k, v in read["by_format"].items()} == \
            {"csv": (1, 0, 0), "jsonl": (1, 0, 0), "xlsx": (1, 0, 0)}


def test_a_failed_read_is_never_the_floor():
    ok = {"ok": True, "wall_s": 16.0, "cpu_s": 30.0, "failed_count": 0}
    early = {"ok": False, "wall_s": 0.4, "cpu_s": 0.3, "error": "BrokenProcessPool: a process died"}
    short = {"ok": True, "wall_s": 3.0, "cpu_s": 3.0, "failed_count": 120}  # files left unread
    reads = [{**early, "one_process": {"ok": True, "wall_s": 33.0, "cpu_s": 36.0}},
             {**ok, "one_process": {"ok": True, "wall_s": 34.0, "cpu_s": 37.0}},
             {**short, "one_process": {"ok": True, "wall_s": 33.5, "cpu_s": 36.5}}]
    fastest, one = _floors(reads)
    assert fastest["wall_s"] == 16.0 and fastest["failed_reads"] == 2 and one["wall_s"] == 33.0
    runs = [{"ok": True, "wall_s": 130.0, "cpu_s": 230.0}, {"ok": True, "wall_s": 128.0, "cpu_s": 228.0}]
    rep = repeat_ratios(runs, reads)
    assert [r["floor_wall_s"] for r in rep["runs"]] == [16.0, 16.0]
    assert rep["runs"][0]["cpu_ratio_one_process"] == round(230 / 36, 3)
    errors = step_errors({"floor": fastest, "floor_one_process": one})
    assert errors == ["floor: 2 of its reads failed or left more files unread than the others"]


def test_a_file_every_read_fails_does_not_take_the_floor_away():
    # a damaged export fails in every read alike: the reads stay the floor, the file is counted
    reads = [{"ok": True, "wall_s": w, "cpu_s": w * 2, "failed_count": 1,
              "one_process": {"ok": True, "wall_s": w * 2, "cpu_s": w * 2, "failed_count": 1}} for w in (17.0, 16.0)]
    fastest, one = _floors(reads)
    assert fastest["wall_s"] == 16.0 and fastest["failed_reads"] == 0 and one["wall_s"] == 32.0
    rep = repeat_ratios([{"ok": True, "wall_s": 128.0, "cpu_s": 230.0}], reads)
    assert rep["ratio_median"] == 8.0
    assert step_errors({"floor": fastest, "floor_one_process": one}) == []
    # a fast read that failed more files than the one-process read is an error
    assert floor_narrower({**fastest, "failed_count": 3}, one) == ["floor: 3 files failed against 1 read one file at a time"]
