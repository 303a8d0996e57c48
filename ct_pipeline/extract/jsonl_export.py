"""Case API exports: JSON Lines, UTF-8, one case object per line (parsed in DuckDB, vectorised).

- one screening record per line, source_row = the line number (1-based, blank lines skipped but
  numbered);
- one assistance record per element of ``assistance``, source_row = line * 1000 + element index
  (1-based), the synthetic ground truth's convention;
- column-map paths: ``a.b`` (a value; an array or object is kept as its JSON text),
  ``list[key=value].field`` (every matching element, in order: a single match as its value, several
  as a JSON array text; for multi-valued fields always a JSON array text), ``list[].field`` (per
  element, assistance rows);
- a line that is not valid JSON, or not a JSON object, is quarantined whole (rule ``json_parse``);
  a line whose ``route`` or ``assistance`` is not a list is quarantined whole (rule
  ``json_structure``): its legs or episodes could not be read. The other lines go on.

Era detection: the top-level keys over all parsed lines must all belong to the era's signature
(no unexpected key), and the keys of the required fields (case number, registration date) must be
there. JSON leaves out what is empty, so other keys may be absent.
"""

from __future__ import annotations

import duckdb
import polars as pl

from ct_pipeline.extract.detect import Comparison, describe_mismatch
from ct_pipeline.extract.errors import FileRefused
from ct_pipeline.extract.frames import WHOLE_RECORD
from ct_pipeline.extract.text import decode_strict
from ct_pipeline.formats import eras as formats
from ct_pipeline.metadata.registry import load_registry

MAX_EPISODES = 999
REQUIRED_FIELDS = ("case_ref", "registration_date")


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _json_path(dotted: str) -> str:
    return "$." + dotted


def _path_sql(path: str, *, multi: bool, elem: str = "e", obj: str = "j") -> str:
    """SQL expression (text) for one column-map path."""
    if path.startswith("assistance[]."):
        return f"{elem}->>{_q(_json_path(path.split('].', 1)[1]))}"
    if "[" in path:
        head, rest = path.split("[", 1)
        cond, field = rest.split("].", 1)
        key, value = cond.split("=", 1)
        lst = (
            f"[x->>{_q(_json_path(field))} for x in coalesce({obj}->{_q(_json_path(head) + '[*]')}, []) "
            f"if x->>{_q(_json_path(key))} = {_q(value)}]"
        )
        if multi:
            return f"(CASE WHEN len({lst}) = 0 THEN NULL ELSE to_json({lst})::VARCHAR END)"
        return f"(CASE len({lst}) WHEN 0 THEN NULL WHEN 1 THEN ({lst})[1] ELSE to_json({lst})::VARCHAR END)"
    return f"{obj}->>{_q(_json_path(path))}"


def _lines(text: str) -> pl.DataFrame:
    body = text[:-1] if text.endswith("\n") else text
    df = pl.DataFrame({"line": pl.Series("line", body.split("\n"), dtype=pl.String)})
    df = df.with_columns(line_no=pl.int_range(1, df.height + 1, dtype=pl.Int64), line=pl.col("line").str.strip_suffix("\r"))
    return df.filter(pl.col("line").str.strip_chars() != "")


def read_jsonl(data: bytes, era_name: str, source_file: str, mission: str | None):
    """(screening values, screening rows, assistance values, assistance rows, quarantine rows)."""
    era = formats.load_eras()[era_name]
    text, _ = decode_strict(data, "utf-8", format_label=era.label)
    lines = _lines(text)
    if lines.height == 0:
        raise FileRefused("The file holds no records (only empty lines).")
    reg = load_registry()
    scr_map = formats.column_map(era_name, "screening")
    ast_map = formats.column_map(era_name, "assistance")
    multi = {f for f, spec in reg.fields.items() if spec.type == "code_list"}

    con = duckdb.connect()
    try:
        con.register("lines", lines)
        con.sql(
            """
            CREATE TEMP TABLE parsed AS
            SELECT line_no, line,
                   CASE WHEN json_valid(line) THEN line::JSON END AS j
            FROM lines
            """
        )
        status = con.sql(
            """
            SELECT line_no, line,
                   CASE WHEN j IS NULL OR json_type(j) <> 'OBJECT' THEN 'json_parse'
                        WHEN coalesce(json_type(j, '$.route'), 'ARRAY') NOT IN ('ARRAY', 'NULL')
                          OR coalesce(json_type(j, '$.assistance'), 'ARRAY') NOT IN ('ARRAY', 'NULL')
                        THEN 'json_structure' END AS problem
            FROM parsed
            """
        ).pl()
        bad = status.filter(pl.col("problem").is_not_null())
        # era signature over the good lines' top-level keys
        keys = [
            r[0]
            for r in con.sql(
                "SELECT DISTINCT unnest(json_keys(j)) FROM parsed WHERE j IS NOT NULL AND json_type(j) = 'OBJECT'"
            ).fetchall()
        ]
        _check_keys(era_name, keys, n_good=status.height - bad.height)

        screening_sql = ", ".join(
            f"{_path_sql(p, multi=f in multi)} AS {f}" for f, p in scr_map.items()
        )
        good = "problem IS NULL"
        con.register("status", status.select("line_no", "problem"))
        scr = con.sql(
            f"SELECT p.line_no AS source_row, {screening_sql} FROM parsed p JOIN status s USING (line_no) "
            f"WHERE {good} ORDER BY p.line_no"
        ).pl()
        ast_cols = ", ".join(
            f"{_path_sql(p, multi=f in multi)} AS {f}" for f, p in ast_map.items() if p.startswith("assistance[]")
        )
        case_cols = ", ".join(
            f"{_path_sql(p, multi=f in multi, obj='j')} AS {f}" for f, p in ast_map.items() if not p.startswith("assistance[]")
        )
        ast = con.sql(
            f"""
            WITH a AS (
                SELECT p.line_no, p.j, p.j->'$.assistance[*]' AS arr
                FROM parsed p JOIN status s USING (line_no) WHERE {good}
            ), e AS (
                SELECT line_no, j, unnest(arr) AS e, unnest(range(1, len(arr) + 1)) AS idx FROM a
            )
            SELECT line_no * 1000 + idx AS source_row, idx, {case_cols}, {ast_cols} FROM e ORDER BY line_no, idx
            """
        ).pl()
    finally:
        con.close()
    if ast.height and ast.get_column("idx").max() > MAX_EPISODES:
        raise FileRefused(
            f"A case holds more than {MAX_EPISODES} assistance episodes; such a file cannot be numbered row by row."
        )
    from ct_pipeline.stage.rules import reason

    quarantine = [
        {
            "source_file": source_file,
            "source_row": r["line_no"],
            "form": "screening",
            "mission_code": mission,
            "era": era_name,
            "field_name": WHOLE_RECORD,
            "rule": r["problem"],
            "reason": reason(r["problem"], None),
            "raw_value": r["line"],
        }
        for r in bad.iter_rows(named=True)
    ]
    scr_values = {f: scr.get_column(f) for f in scr_map}
    ast_values = {f: ast.get_column(f) for f in ast_map}
    return scr_values, scr.get_column("source_row"), ast_values, ast.get_column("source_row"), quarantine


def _check_keys(era_name: str, keys: list[str], n_good: int) -> None:
    if n_good == 0:
        return  # every line is quarantined; nothing to compare
    sig = formats.signature(era_name, "screening") | formats.signature(era_name, "assistance")
    required = {
        formats.column_map(era_name, "screening")[f].split(".")[0].split("[")[0] for f in REQUIRED_FIELDS
    }
    have = set(keys)
    missing = tuple(sorted(required - have))
    unexpected = tuple(sorted(have - sig))
    if missing or unexpected:
        c = Comparison(era_name, "screening", missing, unexpected, len(have & sig), len(sig))
        raise FileRefused(
            "The JSON objects' keys do not match the export format — " + describe_mismatch(c, where=" (top-level keys)", header_row=False) + ".",
            era=era_name,
        )
