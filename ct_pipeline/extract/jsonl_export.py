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
_local = threading.local()


def connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection for this thread (opening one costs tens of milliseconds)."""
    con = getattr(_local, "con", None)
    if con is None:
        con = duckdb.connect()
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


def decode_lines(data: bytes) -> pl.DataFrame:
    """Decode strictly (FileRefused otherwise) and number the non-blank lines."""
    era = formats.load_eras()[ERA]
    text, _ = decode_strict(data, "utf-8", format_label=era.label)
    body = text[:-1] if text.endswith("\n") else text
    df = pl.DataFrame({"line": pl.Series("line", body.split("\n"), dtype=pl.String)})
    df = df.with_columns(
        line_no=pl.int_range(1, df.height + 1, dtype=pl.Int64), line=pl.col("line").str.strip_suffix("\r")
    ).filter(pl.col("line").str.strip_chars() != "")
    if df.height == 0:
        raise FileRefused("The file holds no records (only empty lines).", era=ERA)
    return df.select("line_no", "line")


@dataclass
class Parsed:
    screening: dict[str, pl.Series]
    screening_rows: pl.Series
    assistance: dict[str, pl.Series]
    assistance_rows: pl.Series
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
    plan = _plan()
    keys = list(batch)
    frames = [df.with_columns(file_id=pl.lit(i, dtype=pl.Int32)) for i, df in enumerate(batch.values())]
    lines = pl.concat(frames)
    con = connection()
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
    scr_parts = scr.partition_by("file_id", as_dict=True)
    ast_parts = ast.partition_by("file_id", as_dict=True)
    bad_parts = bad.partition_by("file_id", as_dict=True)
    n_lines = dict(lines.group_by("file_id").len().iter_rows())
    result: dict[str, Parsed | FileRefused] = {}
    scr_fields = [f for f, _ in plan.scalar_fields] + [f for f, _, _ in plan.leg_fields]
    ast_fields = [f for f, _ in plan.case_fields_in_assistance] + [f for f, _ in plan.episode_fields]
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
        s = scr_parts.get((fid,), scr.clear())
        a = ast_parts.get((fid,), ast.clear())
        b = bad_parts.get((fid,), bad.clear())
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
        result[key] = Parsed(
            screening={f: s.get_column(f) for f in scr_fields},
            screening_rows=s.get_column("source_row"),
            assistance={f: a.get_column(f) for f in ast_fields},
            assistance_rows=a.get_column("source_row"),
            quarantine=quarantine,
        )
    return result


def _empty_to_null(df: pl.DataFrame, exclude: tuple[str, ...]) -> list[pl.Expr]:
    """An empty JSON string is no value: null, as for an empty cell in the other eras."""
    return [pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in df.columns if c not in exclude]


def _check_keys(keys: list[str], n_good: int) -> None:
    if n_good == 0:
        return  # every line is quarantined; nothing to compare
    sig = formats.signature(ERA, "screening") | formats.signature(ERA, "assistance")
    required = {formats.column_map(ERA, "screening")[f].split(".")[0].split("[")[0] for f in REQUIRED_FIELDS}
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
