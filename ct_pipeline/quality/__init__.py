"""Data-quality reports, one per mission, for the research unit to send back to the mission.

`write_quality_reports(con, out_dir)` reads the ingestion ledger, the quarantine and the raw tables
of the restricted database and writes, per mission:

- ``<MISSION>.html``: self-contained (inline CSS, no script, no external resource);
- ``<MISSION>_quality.csv``: the same content, one line per item (section files / quarantine /
  completeness);
- ``<MISSION>_quarantined_rows.csv``: one line per quarantined row and failed rule.

Per export file: status and refusal reason; rows read / staged / quarantined / duplicate; the
quarantine grouped by field and rule with the row numbers; completeness (% of rows with a value,
not-recorded markers counting as empty) of the key fields. Only row numbers, field names, rule ids,
reasons (which name fields and rules) and counts appear: never a value (quarantine.raw_value is
never read here). CSV cells that a spreadsheet would run as a formula (starting with = + - @, tab
or carriage return) are prefixed with an apostrophe.

Files whose path did not give a mission (refused for their folder layout) are reported under
``UNSORTED``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from ct_pipeline.formats.eras import load_eras, not_recorded
from ct_pipeline.pseudonymize.restricted import write_restricted_file

UNSORTED = "UNSORTED"
KEY_FIELDS = {
    "screening": [
        "case_ref", "registration_date", "identification_date", "date_of_birth", "age_reported", "sex",
        "citizenship", "victim_status", "exploitation_types", "recruitment_country", "exploitation_country",
        "has_research_consent",
    ],
    "assistance": ["case_ref", "assistance_type", "assistance_start_date", "funding_source"],
}
RAW_TABLE = {"screening": "raw_screenings", "assistance": "raw_assistance"}
HTML_ROW_NUMBERS = 60
CSV_CELL_LIMIT = 30_000
COMPLETENESS_CACHE = "quality_completeness.json"
REPORTS_MANIFEST = "quality_reports.json"
ROW_NOTE = (
    "Row numbers count records: row 1 is the first record below the header (spreadsheet row 2); "
    "in a JSON Lines file the row is the line number, and an assistance episode's row is the line "
    "number x 1000 + its position in the case's assistance list."
)


_FORMULA_STARTS = frozenset(("=", "+", "-", "@", "\t", "\r"))


def safe_cell(value):
    """A CSV cell a spreadsheet will show as text, not run as a formula."""
    if isinstance(value, str) and value[:1] in _FORMULA_STARTS:
        return "'" + value
    return value


def compress_rows(rows: list[int]) -> str:
    """[1, 2, 3, 7, 9, 10] -> '1-3, 7, 9-10'."""
    out: list[str] = []
    rows = sorted(set(rows))
    i = 0
    while i < len(rows):
        j = i
        while j + 1 < len(rows) and rows[j + 1] == rows[j] + 1:
            j += 1
        out.append(str(rows[i]) if i == j else f"{rows[i]}-{rows[j]}")
        i = j + 1
    return ", ".join(out)


def _limit(text: str, limit: int, total: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(", ", 1)[0]
    shown = sum((int(p.split("-")[1]) - int(p.split("-")[0]) + 1) if "-" in p else 1 for p in cut.split(", "))
    return f"{cut}, … and {total - shown} more"


@dataclass
class FileSection:
    ledger: dict
    quarantine: list[dict]  # form, field_name, rule, reason, rows (count), row_numbers (list)
    completeness: list[dict]  # form, field_name, rows, percent


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]).fetchall()[0][0] > 0


def _completeness(con: duckdb.DuckDBPyConnection, cache_dir: Path | None) -> dict[str, list[dict]]:
    """Per file and key field, the share of rows with a value. Exports are immutable: with
    ``cache_dir`` (restricted zone) each file's figures are computed once, keyed by its SHA-256 in
    the ledger (a reloaded file is recomputed), instead of scanning every raw row every night."""
    cache_path = Path(cache_dir) / COMPLETENESS_CACHE if cache_dir else None
    cached: dict[str, dict] = {}
    if cache_path is not None:
        try:
            cached = json.loads(cache_path.read_text())
        except (OSError, ValueError):
            cached = {}
    shas = dict(con.execute("SELECT source_file, source_sha256 FROM ingestion_ledger").fetchall())
    fresh = {f: v["fields"] for f, v in cached.items() if shas.get(f) == v.get("sha")}
    markers = sorted(not_recorded())
    completeness: dict[str, list[dict]] = {}
    for form, table in RAW_TABLE.items():
        if not _exists(con, table):
            continue
        fields = KEY_FIELDS[form]
        present = ", ".join(
            f"count(*) FILTER (WHERE {f} IS NOT NULL AND lower(trim({f})) NOT IN ({', '.join('?' for _ in markers)})) AS {f}"
            for f in fields
        )
        params = markers * len(fields)
        con.register("_known_files", pl.DataFrame({"source_file": list(fresh)}, schema={"source_file": pl.String}))
        try:
            rows = con.execute(
                f"SELECT source_file, count(*) AS n, {present} FROM {table} "
                "WHERE source_file NOT IN (SELECT source_file FROM _known_files) GROUP BY source_file", params
            ).fetchall()
        finally:
            con.unregister("_known_files")
        for row in rows:
            f, n, *counts = row
            completeness.setdefault(f, []).extend(
                {"form": form, "field_name": fld, "rows": n, "percent": round(100.0 * c / n, 1) if n else None}
                for fld, c in zip(fields, counts, strict=False)
            )
    if cache_path is not None:
        new = {f: {"sha": shas.get(f), "fields": v} for f, v in completeness.items() if shas.get(f)}
        write_restricted_file(cache_path, json.dumps({**{f: cached[f] for f in fresh}, **new}, separators=(",", ":")))
    for f, v in fresh.items():
        completeness[f] = v
    # the forms in RAW_TABLE order, as computed: screening fields before assistance fields
    order = {form: i for i, form in enumerate(RAW_TABLE)}
    return {f: sorted(v, key=lambda c: order.get(c["form"], 99)) for f, v in completeness.items()}


def _gather(con: duckdb.DuckDBPyConnection, cache_dir: Path | None = None,
            only: set[str] | None = None) -> dict[str, list[FileSection]]:
    """Every mission's file sections (`only`: of these missions)."""
    if not _exists(con, "ingestion_ledger"):
        return {}
    cols = [
        "source_file", "mission_code", "received_date", "era", "file_status", "rows_read", "rows_staged",
        "rows_quarantined", "rows_duplicate", "error_message", "ingested_at",
    ]
    con.register("_report_missions", pl.DataFrame({"m": sorted(only or [])}, schema={"m": pl.String}))
    try:
        chosen = "" if only is None else f"WHERE coalesce(mission_code, '{UNSORTED}') IN (SELECT m FROM _report_missions)"
        ledger = [dict(zip(cols, r, strict=False)) for r in con.execute(
            f"SELECT {', '.join(cols)} FROM ingestion_ledger {chosen} ORDER BY mission_code, received_date, source_file"
        ).fetchall()]
        quarantine = _quarantine(con, None if only is None else "SELECT source_file FROM ingestion_ledger " + chosen)
    finally:
        con.unregister("_report_missions")
    completeness = _completeness(con, cache_dir)
    out: dict[str, list[FileSection]] = {}
    for row in ledger:
        mission = row["mission_code"] or UNSORTED
        out.setdefault(mission, []).append(
            FileSection(row, quarantine.get(row["source_file"], []), completeness.get(row["source_file"], []))
        )
    return out


def _quarantine(con: duckdb.DuckDBPyConnection, files_sql: str | None) -> dict[str, list[dict]]:
    """Per file, its quarantined rows grouped by form, field and rule (`files_sql`: of these files)."""
    quarantine: dict[str, list[dict]] = {}
    if _exists(con, "quarantine"):
        where = "" if files_sql is None else f"WHERE source_file IN ({files_sql})"
        # raw_value is deliberately not selected: the report never carries a value
        for f, form, field, rule, reason, rows in con.execute(
            f"""
            SELECT source_file, form, coalesce(field_name, ''), rule, min(reason),
                   list(DISTINCT source_row ORDER BY source_row)
            FROM quarantine {where} GROUP BY ALL ORDER BY 1, 2, 3, 4
            """
        ).fetchall():
            quarantine.setdefault(f, []).append(
                {"form": form, "field_name": field, "rule": rule, "reason": reason, "rows": len(rows), "row_numbers": rows}
            )
    return quarantine


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------

#: the columns of <MISSION>_quality.csv and their types (a None cell is written empty)
CSV_SCHEMA = {
    "section": pl.String, "source_file": pl.String, "received_date": pl.Date, "era": pl.String,
    "file_status": pl.String, "form": pl.String, "field_name": pl.String, "rule": pl.String, "rows": pl.Int64,
    "percent": pl.Float64, "rows_read": pl.Int64, "rows_staged": pl.Int64, "rows_quarantined": pl.Int64,
    "rows_duplicate": pl.Int64, "detail": pl.String,
}
CSV_COLUMNS = list(CSV_SCHEMA)
ROWS_SCHEMA = {"source_file": pl.String, "form": pl.String, "source_row": pl.Int64, "field_name": pl.String,
               "rule": pl.String, "reason": pl.String}


def _write_csv(path: Path, schema: dict[str, pl.DataType], rows: list[list]) -> None:
    """The rows (None: an empty cell) as CSV, every text cell formula-safe (`safe_cell`), written by
    polars rather than the csv module with `safe_cell` per cell (measured at 1M cases: ~2.5 s of a
    night's ~5 s of reports), byte for byte as csv.writer wrote them: CRLF, a cell quoted only when
    it holds a comma, a quote or a line break, an empty text as an empty cell."""
    df = pl.DataFrame(rows, schema=schema, orient="row")
    df.with_columns(
        pl.when(pl.col(c) == "").then(None)
        .when(pl.col(c).str.slice(0, 1).is_in(sorted(_FORMULA_STARTS))).then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c)).alias(c)
        for c, t in schema.items() if t == pl.String
    ).write_csv(path, quote_style="necessary", line_terminator="\r\n")


def _csv_rows(sections: list[FileSection]) -> list[list]:
    rows: list[list] = []
    for s in sections:
        lg = s.ledger
        base = [lg["source_file"], lg["received_date"], lg["era"], lg["file_status"]]
        rows.append(["file", *base, None, None, None, None, None, lg["rows_read"], lg["rows_staged"],
                     lg["rows_quarantined"], lg["rows_duplicate"], lg["error_message"]])
        for q in s.quarantine:
            numbers = _limit(compress_rows(q["row_numbers"]), CSV_CELL_LIMIT, q["rows"])
            rows.append(["quarantine", *base, q["form"], q["field_name"] or "(whole record)", q["rule"], q["rows"], None,
                         None, None, None, None, f"{q['reason']} | rows: {numbers}"])
        for c in s.completeness:
            rows.append(["completeness", *base, c["form"], c["field_name"], None, c["rows"], c["percent"],
                         None, None, None, None, None])
    return rows


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem;color:#1d2733;max-width:80rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:2px solid #d8dee6}
h3{font-size:1.05rem;margin-top:1.4rem;word-break:break-all}
p.meta{color:#5a6776;margin-top:0}table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #d8dee6;padding:.3rem .55rem;text-align:left;vertical-align:top}
th{background:#eef2f6}td.n{text-align:right;font-variant-numeric:tabular-nums}
.loaded{color:#1b6e3a;font-weight:600}.refused{color:#a4161a;font-weight:600}.already_seen{color:#6b5900;font-weight:600}
.note{background:#f6f8fa;border-left:4px solid #8aa1b8;padding:.5rem .8rem;font-size:.9rem}
.bar{display:inline-block;height:.7rem;background:#5b8bd0;vertical-align:middle;margin-right:.4rem}
.low{background:#d0715b}
"""


def _e(v) -> str:
    return html.escape("" if v is None else str(v))


def _html(mission: str, sections: list[FileSection], generated: dt.datetime) -> str:
    eras = load_eras()
    tot = {k: sum(s.ledger[k] or 0 for s in sections) for k in ("rows_read", "rows_staged", "rows_quarantined", "rows_duplicate")}
    status_counts: dict[str, int] = {}
    for s in sections:
        status_counts[s.ledger["file_status"]] = status_counts.get(s.ledger["file_status"], 0) + 1
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Data-quality report — {_e(mission)}</title><style>{CSS}</style></head><body>",
        f"<h1>Data-quality report — mission {_e(mission)}</h1>",
        f"<p class='meta'>Generated {_e(generated.strftime('%Y-%m-%d %H:%M UTC'))} by the research unit's "
        "ingestion pipeline. It names files, fields, rules and row numbers only, never a value.</p>",
        "<h2>Summary</h2><table><tr><th>export files</th><th>rows read</th><th>staged</th><th>quarantined</th>"
        "<th>exact duplicates</th></tr>",
        f"<tr><td>{len(sections)} ({_e(', '.join(f'{v} {k}' for k, v in sorted(status_counts.items())))})</td>"
        f"<td class='n'>{tot['rows_read']:,}</td><td class='n'>{tot['rows_staged']:,}</td>"
        f"<td class='n'>{tot['rows_quarantined']:,}</td><td class='n'>{tot['rows_duplicate']:,}</td></tr></table>",
        f"<p class='note'>{_e(ROW_NOTE)} Rows read = staged + quarantined + exact duplicates, for every file.</p>",
        "<h2>Export files</h2><table><tr><th>file</th><th>received</th><th>format</th><th>status</th><th>read</th>"
        "<th>staged</th><th>quarantined</th><th>duplicates</th><th>what was wrong with the file</th></tr>",
    ]
    for s in sections:
        lg = s.ledger
        era = eras[lg["era"]].label if lg["era"] in eras else (lg["era"] or "—")
        parts.append(
            f"<tr><td>{_e(lg['source_file'])}</td><td>{_e(lg['received_date'] or '—')}</td><td>{_e(era)}</td>"
            f"<td class='{_e(lg['file_status'])}'>{_e(lg['file_status'].replace('_', ' '))}</td>"
            f"<td class='n'>{lg['rows_read']:,}</td><td class='n'>{lg['rows_staged']:,}</td>"
            f"<td class='n'>{lg['rows_quarantined']:,}</td><td class='n'>{lg['rows_duplicate']:,}</td>"
            f"<td>{_e(lg['error_message'] or '')}</td></tr>"
        )
    parts.append("</table>")
    for s in sections:
        lg = s.ledger
        if not s.quarantine and not s.completeness:
            continue
        parts.append(f"<h3>{_e(lg['source_file'])}</h3>")
        if s.quarantine:
            parts.append(
                "<table><tr><th>form</th><th>field</th><th>rule</th><th>rows</th><th>row numbers</th><th>reason</th></tr>"
            )
            for q in s.quarantine:
                numbers = compress_rows(q["row_numbers"][:HTML_ROW_NUMBERS])
                more = q["rows"] - min(q["rows"], HTML_ROW_NUMBERS)
                if more:
                    numbers += f", … and {more:,} more (see the CSV)"
                parts.append(
                    f"<tr><td>{_e(q['form'])}</td><td>{_e(q['field_name'] or '(whole record)')}</td>"
                    f"<td><code>{_e(q['rule'])}</code></td><td class='n'>{q['rows']:,}</td>"
                    f"<td>{_e(numbers)}</td><td>{_e(q['reason'])}</td></tr>"
                )
            parts.append("</table>")
        if s.completeness:
            parts.append("<table><tr><th>form</th><th>key field</th><th>rows with a value</th></tr>")
            for c in s.completeness:
                pct = c["percent"] if c["percent"] is not None else 0.0
                cls = "bar low" if pct < 50 else "bar"
                parts.append(
                    f"<tr><td>{_e(c['form'])}</td><td>{_e(c['field_name'])}</td>"
                    f"<td><span class='{cls}' style='width:{pct * 1.5:.0f}px'></span>{pct:.1f}% of {c['rows']:,}</td></tr>"
                )
            parts.append("</table>")
    parts.append("</body></html>\n")
    return "".join(parts)


# --------------------------------------------------------------------------------------------


def _file_stem(mission: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", mission) or UNSORTED


def _mission_digests(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Per mission, a digest of what its report is made of: its ledger rows and its quarantined
    rows' keys, rules and reasons (the completeness figures follow from a file's ledger row: its
    content's SHA-256). A mission whose digest did not change has nothing new to be told."""
    if not _exists(con, "ingestion_ledger"):
        return {}
    mission = f"coalesce(mission_code, '{UNSORTED}')"
    digests = {m: d for m, d in con.execute(f"""
        SELECT {mission}, md5(string_agg(concat_ws('|', source_file, coalesce(received_date::VARCHAR, '-'),
               coalesce(era, '-'), source_sha256, file_status, rows_read, rows_staged, rows_quarantined,
               rows_duplicate, coalesce(error_message, '-'), ingested_at), chr(10) ORDER BY source_file))
        FROM ingestion_ledger GROUP BY 1""").fetchall()}
    if _exists(con, "quarantine"):
        # by the ledger's mission, as the report groups them (raw_value is never read here)
        for m, d in con.execute(f"""
            SELECT coalesce(l.mission_code, '{UNSORTED}'), md5(string_agg(concat_ws('|', q.source_file, q.form,
                   coalesce(q.field_name, '-'), q.rule, q.reason, q.source_row), chr(10)
                   ORDER BY q.source_file, q.source_row, q.form, q.field_name, q.rule, q.reason))
            FROM quarantine q JOIN ingestion_ledger l USING (source_file) GROUP BY 1""").fetchall():
            digests[m] = digests.get(m, "") + ":" + d
    return digests


def _report_version() -> str:
    """This module's code and the era labels it prints: a new version rewrites every report."""
    import hashlib

    labels = sorted((name, era.label) for name, era in load_eras().items())
    return hashlib.sha256(Path(__file__).read_bytes() + json.dumps(labels).encode()).hexdigest()[:16]


def _report_paths(out_dir: Path, mission: str) -> list[Path]:
    stem = _file_stem(mission)
    return [out_dir / f"{stem}.html", out_dir / f"{stem}_quality.csv", out_dir / f"{stem}_quarantined_rows.csv"]


def write_quality_reports(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    *,
    missions: list[str] | None = None,
    generated: dt.datetime | None = None,
    cache_dir: Path | None = None,
) -> list[Path]:
    """Write the HTML and CSV reports of every mission in the ledger (or of `missions`); returns
    the paths of every mission's reports.

    ``cache_dir``: a restricted folder keeping each file's completeness figures (see `_completeness`)
    and a digest of what each mission's report was made of (`_mission_digests`): a mission that sent
    nothing since its report was written keeps that report as it is (with the date it was
    generated), unless `missions` names it. Most missions send nothing on a given night."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    generated = generated or dt.datetime.now(dt.UTC)
    digests = _mission_digests(con)
    manifest = Path(cache_dir) / REPORTS_MANIFEST if cache_dir else None
    version = _report_version()
    before: dict[str, str] = {}
    if manifest is not None:
        try:
            doc = json.loads(manifest.read_text())
            if doc.get("version") == version and doc.get("out_dir") == str(out_dir.resolve()):
                before = doc.get("missions", {})
        except (OSError, ValueError):
            before = {}
    wanted = [m for m in digests if not missions or m in missions]
    todo = {m for m in wanted if missions or before.get(m) != digests[m]
            or not all(p.exists() for p in _report_paths(out_dir, m))}
    for mission, sections in (_gather(con, cache_dir, only=todo).items() if todo else ()):
        html_path, csv_path, rows_path = _report_paths(out_dir, mission)
        html_path.write_text(_html(mission, sections, generated), encoding="utf-8")
        _write_csv(csv_path, CSV_SCHEMA, _csv_rows(sections))
        _write_csv(
            rows_path,
            ROWS_SCHEMA,
            sorted(
                [s.ledger["source_file"], q["form"], n, q["field_name"] or "(whole record)", q["rule"], q["reason"]]
                for s in sections for q in s.quarantine for n in q["row_numbers"]
            ),
        )
    if manifest is not None:
        kept = {**{m: d for m, d in before.items() if m in digests}, **{m: digests[m] for m in todo}}
        write_restricted_file(manifest, json.dumps({"version": version, "out_dir": str(out_dir.resolve()),
                                                    "missions": kept}, sort_keys=True))
    return [p for m in sorted(wanted, key=lambda m: (m == UNSORTED, m)) for p in _report_paths(out_dir, m)]


__all__ = ["compress_rows", "safe_cell", "write_quality_reports"]
