"""Case API exports: JSON Lines, UTF-8, one case object per line, parsed in DuckDB, vectorised.

- one screening record per line, source_row = the line number (1-based, blank lines skipped but
  numbered);
- one assistance record per element of ``assistance``, source_row = line * 1000 + element index
  (1-based), the synthetic ground truth's convention (a case with more than 999 episodes refuses the
  file: such rows could not be numbered);
- column-map paths: ``a.b`` (a value; an array or object is kept as its JSON text),
  ``list[key=value].field`` (every matching element, in order: a single match as its value, several
  as a JSON array text; for multi-valued fields always a JSON array text), ``list[].field`` (per
  element, assistance rows);
- a line that is not valid JSON, or not a JSON object, is quarantined whole (rule ``json_parse``);
  a line whose ``route`` or ``assistance`` is not a list is quarantined whole (rule
  ``json_structure``): its legs or episodes could not be read. The other lines go on.

Era detection: the top-level keys over all parsed lines of a file must all belong to the era's
signature (no unexpected key), and the keys of the required fields (case number, registration
date) must be there. JSON leaves out what is empty, so other keys may be absent.

Speed: each line's JSON is parsed a handful of times (validity, type, keys, one multi-path
extraction, legs, episodes), never once per field; many files are parsed in one DuckDB query
(`parse_batch`) on a DuckDB connection kept per thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache

import duckdb
import polars as pl

from ct_pipeline.extract.detect import Comparison, describe_mismatch
from ct_pipeline.extract.errors import FileRefused
from ct_pipeline.extract.frames import WHOLE_RECORD
from ct_pipeline.extract.text import decode_strict
from ct_pipeline.formats import eras as formats
from ct_pipeline.metadata.registry import load_registry

ERA = "case_api_jsonl"
MAX_EPISODES = 999
REQUIRED_FIELDS = ("case_ref", "registration_date")
LINES_PER_CHUNK = 256
_local = threading.local()


def connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection for this thread (opening one costs tens of milliseconds)."""
    con = getattr(_local, "con", None)
    if con is None:
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")  # a long batch drew bars over the terminal
        _local.con = con
    return con


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


@dataclass(frozen=True)
class _Plan:
    scalar_fields: list[tuple[str, str]]  # (field, json path) read from the case object
    leg_fields: list[tuple[str, str, str]]  # (field, stage, leg key)
    leg_keys: list[str]  # keys read from every leg (stage first)
    episode_fields: list[tuple[str, str]]  # (field, json path) read from every assistance element
    case_fields_in_assistance: list[tuple[str, str]]  # assistance fields read from the case (case_id)
    multi: frozenset[str]
    route_list: str
    episode_list: str


def _plan() -> _Plan:
    reg = load_registry()
    multi = frozenset(f for f, spec in reg.fields.items() if spec.type == "code_list")
    scalar, legs, episodes, case_in_ast = [], [], [], []
    leg_keys = ["stage"]
    route_list = "route"
    for f, path in formats.column_map(ERA, "screening").items():
        if "[" in path:
            head, rest = path.split("[", 1)
            cond, key = rest.split("].", 1)
            ck, cv = cond.split("=", 1)
            if ck != "stage":
                raise ValueError(f"column map {ERA}: only [stage=...] filters are supported ({path})")
            route_list = head
            if key not in leg_keys:
                leg_keys.append(key)
            legs.append((f, cv, key))
        else:
            scalar.append((f, "$." + path))
    episode_list = "assistance"
    for f, path in formats.column_map(ERA, "assistance").items():
        if "[]." in path:
            episode_list, key = path.split("[].", 1)
            episodes.append((f, "$." + key))
        else:
            case_in_ast.append((f, "$." + path))
    return _Plan(scalar, legs, leg_keys, episodes, case_in_ast, multi, route_list, episode_list)


NO_RECORDS = "The file holds no records (only empty lines)."


def decode_text(data: bytes) -> str:
    """Decode strictly as UTF-8 (FileRefused otherwise)."""
    text, _ = decode_strict(data, "utf-8", format_label=formats.load_eras()[ERA].label)
    return text


def lines_frame(texts: list[str]) -> pl.DataFrame:
    """The non-blank lines of many decoded files, numbered per file: file_id (position in
    ``texts``), line_no, line. One vectorised pass for the whole batch (a frame per file costs
    more than its lines). A file without any non-blank line has no row."""
    df = pl.DataFrame({"file_id": pl.Series(range(len(texts)), dtype=pl.Int32), "line": pl.Series(texts, dtype=pl.String)})
    # one final newline ends the last line; every other "\n" separates lines (an empty text is one empty line)
    df = df.with_columns(pl.col("line").str.strip_suffix("\n").str.split("\n")).explode("line")
    df = df.with_columns(
        line_no=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("file_id"),
        line=pl.col("line").str.strip_suffix("\r"),
    ).filter(pl.col("line").str.strip_chars() != "")
    return df.select("file_id", "line_no", "line")


def decode_lines(data: bytes) -> pl.DataFrame:
    """Decode strictly (FileRefused otherwise) and number the non-blank lines."""
    df = lines_frame([decode_text(data)])
    if df.height == 0:
        raise FileRefused(NO_RECORDS, era=ERA)
    return df.select("line_no", "line")


@dataclass
class Parsed:
    screening: pl.DataFrame  # source_row + the screening fields, as text
    assistance: pl.DataFrame  # source_row + the assistance fields, as text
    quarantine: list[dict]


def _query(plan: _Plan) -> str:
    scalar_paths = "[" + ", ".join(_q(p) for _, p in plan.scalar_fields) + "]"
    case_paths = "[" + ", ".join(_q(p) for _, p in plan.case_fields_in_assistance) + "]"
    leg_paths = "[" + ", ".join(_q("$." + k) for k in plan.leg_keys) + "]"
    ep_paths = "[" + ", ".join(_q(p) for _, p in plan.episode_fields) + "]"
    route = _q(f"$.{plan.route_list}[*]")
    eps = _q(f"$.{plan.episode_list}[*]")
    structure = _q(f"$.{plan.route_list}"), _q(f"$.{plan.episode_list}")
    leg_selects = ""
    for f, stage, key in plan.leg_fields:
        k = plan.leg_keys.index(key) + 1
        lst = f"[x[{k}] FOR x IN legs IF x[1] = {_q(stage)}]"
        if f in plan.multi:
            expr = f"CASE WHEN len({lst}) = 0 THEN NULL ELSE to_json({lst})::VARCHAR END"
        else:
            expr = f"CASE len({lst}) WHEN 0 THEN NULL WHEN 1 THEN ({lst})[1] ELSE to_json({lst})::VARCHAR END"
        leg_selects += f"{expr} AS {f},\n           "
    return f"""
    WITH v AS (
        SELECT file_id, line_no, line, json_valid(line) AS ok FROM jsonl_lines
    ), o AS (
        SELECT file_id, line_no, line, CASE WHEN ok THEN json_type(line) = 'OBJECT' ELSE false END AS is_obj FROM v
    ), s AS (
        SELECT file_id, line_no, line, is_obj,
               CASE WHEN is_obj THEN json_type(line, [{structure[0]}, {structure[1]}]) END AS types
        FROM o
    ), p AS (
        SELECT file_id, line_no, line,
               CASE WHEN NOT is_obj THEN 'json_parse'
                    WHEN coalesce(types[1], 'ARRAY') NOT IN ('ARRAY', 'NULL')
                      OR coalesce(types[2], 'ARRAY') NOT IN ('ARRAY', 'NULL') THEN 'json_structure'
               END AS problem
        FROM s
    )
    , e AS (
        SELECT file_id, line_no, line, problem,
               CASE WHEN problem IS NULL THEN
                    [json_extract_string(x, {leg_paths}) FOR x IN coalesce(json_extract(line, {route}), [])] END AS legs
        FROM p
    )
    SELECT file_id, line_no,
           CASE WHEN problem IS NOT NULL THEN line END AS bad_line,
           problem,
           CASE WHEN problem IS NULL THEN json_keys(line) END AS keys,
           CASE WHEN problem IS NULL THEN json_extract_string(line, {scalar_paths}) END AS vals,
           CASE WHEN problem IS NULL THEN json_extract_string(line, {case_paths}) END AS case_vals,
           {leg_selects}
           CASE WHEN problem IS NULL THEN
                [json_extract_string(x, {ep_paths}) FOR x IN coalesce(json_extract(line, {eps}), [])] END AS episodes
    FROM e
    ORDER BY file_id, line_no
    """


def parse_batch(batch: dict[str, pl.DataFrame], mission_of: dict[str, str | None]) -> dict[str, Parsed | FileRefused]:
    """Parse the decoded lines of several files in one query; per file a Parsed or a FileRefused."""
    frames = [df.select(pl.lit(i, dtype=pl.Int32).alias("file_id"), "line_no", "line") for i, df in enumerate(batch.values())]
    return _parse_lines(list(batch), pl.concat(frames), mission_of)


def parse_texts(texts: dict[str, str], mission_of: dict[str, str | None]) -> dict[str, Parsed | FileRefused]:
    """`parse_batch` of decoded files (`decode_text`), their lines split and numbered all at once;
    a file with only blank lines is refused as `decode_lines` refuses it."""
    keys = list(texts)
    lines = lines_frame(list(texts.values()))
    present = set(lines.get_column("file_id").unique().to_list())
    if len(present) < len(keys):
        out: dict[str, Parsed | FileRefused] = {k: FileRefused(NO_RECORDS, era=ERA) for i, k in enumerate(keys) if i not in present}
        kept = [i for i in range(len(keys)) if i in present]
        renumber = pl.Series(kept, dtype=pl.Int32)
        lines = lines.with_columns(pl.col("file_id").replace_strict(renumber, pl.int_range(0, len(kept), dtype=pl.Int32, eager=True)))
        out |= _parse_lines([keys[i] for i in kept], lines, mission_of)
        return {k: out[k] for k in keys}
    return _parse_lines(keys, lines, mission_of)


def _parse_lines(keys: list[str], lines: pl.DataFrame, mission_of: dict[str, str | None]) -> dict[str, Parsed | FileRefused]:
    """The query over the lines (file_id = position in ``keys``, line_no, line) of a batch."""
    plan = _plan()
    if not keys:
        return {}
    con = connection()
    # DuckDB's peak memory for this query grows with the size of the Arrow chunks it scans
    # (measured on 22 MB of lines: one chunk +290 MB, 256-line chunks +110 MB, as with one chunk
    # per file before), so the batch goes in as small chunks
    lines = pl.concat([lines.slice(i, LINES_PER_CHUNK) for i in range(0, lines.height, LINES_PER_CHUNK)], rechunk=False)
    con.register("jsonl_lines", lines)
    try:
        out = con.sql(_query(plan)).pl()
    finally:
        con.unregister("jsonl_lines")
    from ct_pipeline.stage.rules import reason

    scalar_exprs = [pl.col("vals").list.get(i, null_on_oob=True).alias(f) for i, (f, _) in enumerate(plan.scalar_fields)]
    leg_exprs = [pl.col(f) for f, _, _ in plan.leg_fields]
    good = out.filter(pl.col("problem").is_null())
    scr = good.select("file_id", pl.col("line_no").alias("source_row"), *scalar_exprs, *leg_exprs)
    scr = scr.with_columns(_empty_to_null(scr, exclude=("file_id", "source_row")))
    case_exprs = [pl.col("case_vals").list.get(i, null_on_oob=True).alias(f) for i, (f, _) in enumerate(plan.case_fields_in_assistance)]
    ast = (
        good.select("file_id", "line_no", *case_exprs, "episodes")
        .with_columns(idx=pl.int_ranges(1, pl.col("episodes").list.len() + 1))
        .explode(["episodes", "idx"])
        .filter(pl.col("idx").is_not_null())
    )
    ep_exprs = [pl.col("episodes").list.get(i, null_on_oob=True).alias(f) for i, (f, _) in enumerate(plan.episode_fields)]
    ast = ast.select(
        "file_id", (pl.col("line_no") * 1000 + pl.col("idx")).alias("source_row"), "idx",
        *[pl.col(f) for f, _ in plan.case_fields_in_assistance], *ep_exprs,
    )
    ast = ast.with_columns(_empty_to_null(ast, exclude=("file_id", "source_row", "idx")))
    file_keys = (
        good.select("file_id", "keys").explode("keys").unique().group_by("file_id").agg(pl.col("keys"))
    )
    keys_of = {fid: ks for fid, ks in file_keys.iter_rows()}
    bad = out.filter(pl.col("problem").is_not_null())
    too_many = set(ast.filter(pl.col("idx") > MAX_EPISODES).get_column("file_id").unique().to_list())
    # the per-file frames without file_id (dropping it file by file costs more than the parse)
    scr_parts = scr.partition_by("file_id", as_dict=True, include_key=False)
    ast_parts = ast.drop("idx").partition_by("file_id", as_dict=True, include_key=False)
    bad_parts = bad.partition_by("file_id", as_dict=True)
    n_lines = dict(lines.group_by("file_id").len().iter_rows())
    result: dict[str, Parsed | FileRefused] = {}
    scr = scr.drop("file_id")
    ast = ast.drop("file_id", "idx")
    for fid, key in enumerate(keys):
        try:
            n_bad = bad_parts[(fid,)].height if (fid,) in bad_parts else 0
            _check_keys([k for k in keys_of.get(fid, []) if k is not None], n_good=n_lines.get(fid, 0) - n_bad)
            if fid in too_many:
                raise FileRefused(
                    f"A case holds more than {MAX_EPISODES} assistance episodes; such a file cannot be numbered row by row.",
                    era=ERA,
                )
        except FileRefused as e:
            result[key] = e
            continue
        s = scr_parts[(fid,)] if (fid,) in scr_parts else scr.clear()
        a = ast_parts[(fid,)] if (fid,) in ast_parts else ast.clear()
        if (fid,) not in bad_parts:
            result[key] = Parsed(screening=s, assistance=a, quarantine=[])
            continue
        b = bad_parts[(fid,)]
        quarantine = [
            {
                "source_file": key,
                "source_row": line_no,
                "form": "screening",
                "mission_code": mission_of.get(key),
                "era": ERA,
                "field_name": WHOLE_RECORD,
                "rule": problem,
                "reason": reason(problem, None),
                "raw_value": line,
            }
            for line_no, line, problem in b.select("line_no", "bad_line", "problem").iter_rows()
        ]
        result[key] = Parsed(screening=s, assistance=a, quarantine=quarantine)
    return result


def _empty_to_null(df: pl.DataFrame, exclude: tuple[str, ...]) -> list[pl.Expr]:
    """An empty JSON string is no value: null, as for an empty cell in the other eras."""
    return [pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in df.columns if c not in exclude]


@cache
def _key_rules() -> tuple[frozenset[str], frozenset[str]]:
    """(every allowed top-level key, the required ones)."""
    sig = formats.signature(ERA, "screening") | formats.signature(ERA, "assistance")
    required = frozenset(formats.column_map(ERA, "screening")[f].split(".")[0].split("[")[0] for f in REQUIRED_FIELDS)
    return sig, required


def _check_keys(keys: list[str], n_good: int) -> None:
    if n_good == 0:
        return  # every line is quarantined; nothing to compare
    sig, required = _key_rules()
    have = set(keys)
    missing = tuple(sorted(required - have))
    unexpected = tuple(sorted(have - sig))
    if missing or unexpected:
        c = Comparison(ERA, "screening", missing, unexpected, len(have & sig), len(sig))
        raise FileRefused(
            "The JSON objects' keys do not match the export format — "
            + describe_mismatch(c, where=" (top-level keys)", header_row=False) + ".",
            era=ERA,
        )
