"""A failed run, explained in plain text: what was wrong, what to do, where to look.

`failure_summary(run_info)` takes the facts a failure hook or a check knows — all keys optional:

    run_id, job, step, asset        where it happened
    kind                            refused_export | check_failed | stale_exports | step_error
                                    (inferred from the other keys when absent)
    file                            export file (absolute, or relative to the exports folder)
    mission, received_date          default: the file's first two folders
    era, expected_format            closest / wanted export era (names from formats/eras.yaml)
    missing_headers                 headers of the era's column map the file lacks
    unexpected_headers              headers the file has that the era does not know (only counted:
                                    a file without a header row would show a person's data here)
    check, table, blocking          the failed check
    failed_expectations             [{expectation, column, unexpected_count, unexpected_percent}]
                                    or ExpectationSummary objects
    stale_missions                  [{mission_code, days_since_newest_export}] or mission codes
    error | error_class, error_message   the exception (its message is sanitised)
    rows                            row numbers in the file
    counts                          {name: number}
    attempts                        how many times the step ran (retries included)
    data_quality_report, data_docs, run_url   where to look
    exports_dir, warehouse_dir      roots under which paths may be shown (default: settings)

Every value that reaches the text is sanitised: names must look like names, paths must lie under
the exports or warehouse folder, messages go through `sanitize_message`. Counts and row numbers are
shown; values from the data never are.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ct_pipeline.notify.sanitize import (
    REDACTED,
    default_roots,
    exception_class,
    sanitize_identifier,
    sanitize_message,
    sanitize_path,
)

KINDS = ("refused_export", "check_failed", "stale_exports", "step_error")

_TRANSIENT = (
    "TimeoutError", "ConnectionError", "ConnectionResetError", "ConnectionRefusedError",
    "ConnectionAbortedError", "BrokenPipeError", "InterruptedError", "BlockingIOError",
    "IOException", "OSError", "SMTPServerDisconnected", "SMTPConnectError", "TemporaryError",
    "DagsterExecutionInterruptedError",
)
_ENCODING = ("UnicodeDecodeError", "UnicodeError", "EncodingError")


def is_transient(error: BaseException | str | None) -> bool:
    """Errors worth retrying with backoff: time-outs, lost connections, a held database lock."""
    name = exception_class(error) if error is not None else ""
    last = name.rsplit(".", 1)[-1]
    if last in _TRANSIENT:
        return True
    if isinstance(error, BaseException):
        msg = str(error).lower()
        return "lock" in msg and ("conflicting" in msg or "could not set" in msg)
    return False


# -- helpers -----------------------------------------------------------------------------------

def _roots(info: Mapping[str, Any]) -> list[Path]:
    roots = [Path(info[k]) for k in ("exports_dir", "warehouse_dir") if info.get(k)]
    return roots or default_roots()


def _export_file(info: Mapping[str, Any], roots: list[Path]) -> str:
    """The export file relative to the exports folder: <mission>/<received-date>/<file>."""
    raw = info.get("file")
    if not raw:
        return ""
    p = Path(str(raw))
    if p.is_absolute():
        for root in roots[:1] if info.get("exports_dir") else roots:
            try:
                return p.resolve().relative_to(Path(root).resolve()).as_posix()
            except ValueError:
                continue
        shown = sanitize_path(raw, roots=roots)
        return shown.split("/", 1)[1] if shown.startswith("raw_exports/") else shown
    return sanitize_path(raw, roots=roots)


def _location(value: Any, roots: list[Path]) -> str:
    """A report or Data Docs location: an URL of the local Dagster UI, or a path under a root."""
    if not value:
        return ""
    s = str(value)
    if re.fullmatch(r"https?://(localhost|127\.0\.0\.1)(:\d+)?(/[\w\-./#?=&%]*)?", s):
        return s
    p = Path(s).expanduser()
    if p.is_absolute():
        for root in roots:
            try:
                p.resolve().relative_to(Path(root).resolve())
                return str(p.resolve())
            except ValueError:
                continue
    return sanitize_path(s, roots=roots)


def _number(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}".replace(",", " ")
    if isinstance(v, float):
        return f"{v:.2f}".rstrip("0").rstrip(".") if v == v else "n/a"
    return REDACTED


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)


def _era_text(era: str) -> str:
    """`label (file kind, encoding, delimiter)` of an era, from formats/eras.yaml."""
    try:
        from ct_pipeline.formats.eras import load_eras

        e = load_eras().get(era)
    except Exception:
        e = None
    if e is None:
        return sanitize_identifier(era)
    bits = [f"{e.file_kind.upper()} file ({', '.join(e.extensions)})"]
    if e.encoding:
        bits.append(f"{e.encoding} encoding")
    if e.delimiter:
        bits.append(f"'{e.delimiter}' delimited")
    if e.sheets:
        bits.append("sheets " + " and ".join(e.sheets.values()))
    return f"{e.label} [{era}]: " + ", ".join(bits)


def _mission_eras() -> list[str]:
    try:
        from ct_pipeline.formats.eras import load_eras

        eras = [e for e in load_eras().values() if not e.reference]
        return [e.name for e in sorted(eras, key=lambda e: -e.first_year)]
    except Exception:
        return []


def _error(info: Mapping[str, Any], roots: list[Path]) -> tuple[str, str]:
    err = info.get("error")
    if isinstance(err, BaseException):
        return exception_class(err), sanitize_message(str(err), roots=roots)
    cls = info.get("error_class")
    return (exception_class(str(cls)) if cls else ""), sanitize_message(info.get("error_message"), roots=roots)


def infer_kind(info: Mapping[str, Any]) -> str:
    kind = info.get("kind")
    if kind in KINDS:
        return kind
    if info.get("file_status") == "refused" or info.get("missing_headers") or info.get("unexpected_headers"):
        return "refused_export"
    if info.get("stale_missions"):
        return "stale_exports"
    if info.get("failed_expectations") or info.get("check"):
        return "check_failed"
    if info.get("file") and not info.get("step") and not info.get("asset"):
        return "refused_export"
    return "step_error"


# -- the summary -------------------------------------------------------------------------------

def failure_summary(run_info: Mapping[str, Any]) -> str:
    """Plain text for the research unit: WHAT WAS WRONG, WHAT TO DO, WHERE TO LOOK."""
    info = dict(run_info)
    roots = _roots(info)
    kind = infer_kind(info)
    wrong: list[str] = []
    todo: list[str] = []
    look: list[str] = []

    step_name = info.get("asset") or info.get("step")
    step = sanitize_identifier(step_name) if step_name else ""
    export = _export_file(info, roots)
    parts = export.split("/") if export and export != REDACTED else []
    mission = sanitize_identifier(info.get("mission") or (parts[0] if len(parts) >= 2 else ""))
    received = str(info.get("received_date") or (parts[1] if len(parts) >= 3 else ""))
    received = received if re.fullmatch(r"\d{4}-\d{2}-\d{2}", received) else ""
    err_cls, err_msg = _error(info, roots)
    table = sanitize_identifier(info["table"]) if info.get("table") else ""
    check = sanitize_identifier(info["check"]) if info.get("check") else ""
    docs = _location(info.get("data_docs"), roots)
    if docs and docs != REDACTED and not docs.endswith(".html"):
        docs = f"{docs.rstrip('/')}/index.html"
    dq = _location(info.get("data_quality_report"), roots)
    run_url = _location(info.get("run_url"), roots)

    if kind == "refused_export":
        title = f"export refused: {export or 'a file'}"
        where = f" (mission {mission}" + (f", received {received}" if received else "") + ")" if mission else ""
        wrong.append(f"The export file {export or '(unknown)'}{where} was refused as a whole: none of its rows "
                     "was loaded. The other files and missions went on.")
        era = sanitize_identifier(info["era"]) if info.get("era") else ""
        missing = [sanitize_message(h, roots=roots) for h in info.get("missing_headers") or []]
        unexpected = len(info.get("unexpected_headers") or [])
        if missing or unexpected:
            closest = f" The closest known format is {era}." if era else ""
            wrong.append("Its headers do not match any known export format." + closest)
            if missing:
                wrong.append(f"Missing headers ({len(missing)}): " + ", ".join(missing) + ".")
            if unexpected:
                wrong.append(f"{unexpected} header(s) that format does not know (not listed here: a file "
                             "without a header row would show a person's data).")
        if err_cls:
            wrong.append(f"Reading it failed with {err_cls}" + (f": {err_msg}" if err_msg else "") + ".")
        if err_cls.rsplit(".", 1)[-1] in _ENCODING:
            wrong.append("The file is not in the character encoding its format requires.")
        wanted = sanitize_identifier(info.get("expected_format") or info.get("era") or "")
        accepted = [sanitize_identifier(e) for e in info.get("accepted_formats") or _mission_eras()]
        if wanted and wanted != REDACTED:
            todo.append(f"Ask mission {mission or '(the sender)'} to re-export the file in the format "
                        f"{_era_text(wanted)}.")
        elif accepted:
            todo.append(f"Ask mission {mission or '(the sender)'} to re-export the file in one of the accepted "
                        "formats, preferably the first:\n" + "\n".join(f"     - {_era_text(e)}" for e in accepted))
        todo.append(f"Drop the new file into raw_exports/{mission or '<MISSION>'}/<date received>/: the sensor "
                    "loads it. Leave the refused file as received (never edit an export).")
        todo.append("Send the mission its data-quality report" + (f" ({dq})" if dq else "") + ".")
    elif kind == "stale_exports":
        title = "exports overdue"
        stale = info.get("stale_missions") or []
        lines = []
        for s in stale:
            code = sanitize_identifier(_get(s, "mission_code") or _get(s, "mission") or s)
            days = _get(s, "days_since_newest_export")
            lines.append(f"      - {code}" + (f": newest loaded export {_number(days)} days old" if days is not None
                                           else ": no loaded export"))
        wrong.append(f"{len(stale)} active mission(s) have no recent export:\n" + "\n".join(lines))
        todo.append("Ask these missions for their latest export (or confirm that they stopped reporting).")
        todo.append("Tolerances (days, what counts as active) are in ct_pipeline/expectations/tolerances.yaml.")
    elif kind == "check_failed":
        title = f"check failed: {table or ''}{'.' if table and check else ''}{check}"
        blocking = info.get("blocking")
        what = f"The check {check or '(unnamed)'}" + (f" on {table}" if table else "") + " failed"
        if blocking is True:
            what += (" and it is blocking: the tables downstream were not updated in this run; the published "
                     "warehouse still holds the previous load.")
        elif blocking is False:
            what += " (a warning: the tables downstream were still built)."
        else:
            what += "."
        wrong.append(what)
        failed = info.get("failed_expectations") or []
        for f in failed[:25]:
            exp = sanitize_identifier(_get(f, "expectation") or "")
            col = _get(f, "column")
            cnt, pct = _get(f, "unexpected_count"), _get(f, "unexpected_percent")
            line = f"      - {exp}" + (f" on {sanitize_identifier(col)}" if col else "")
            if cnt is not None:
                line += f": {_number(int(cnt))} rows" + (f" ({_number(float(pct))} %)" if pct is not None else "")
            obs = _get(f, "observed")
            if obs is not None and cnt is None:
                line += f": observed {_number(obs)}"
            lines_extra = _get(f, "description")
            if lines_extra:
                line += f" — {sanitize_message(lines_extra, roots=roots)}"
            wrong.append(line)
        if len(failed) > 25:
            wrong.append(f"      … and {len(failed) - 25} more rules.")
        if err_cls:
            wrong.append(f"The check raised {err_cls}" + (f": {err_msg}" if err_msg else "") + ".")
        todo.append("Open the Data Docs" + (f" ({docs})" if docs else "") +
                    f" and the validation of {table or 'the table'}: each failed rule with its count of rows.")
        todo.append("The data-quality report" + (f" ({dq})" if dq else "") +
                    " lists, per mission and export file, the rows set aside and why.")
        todo.append("If one mission's export is at fault, ask the mission to correct and re-export it, then re-run "
                    "that mission's partition. If the data is right and the rule is wrong, change the rule or "
                    "tolerance (ct_pipeline/expectations/tolerances.yaml, rules.yaml) and re-run the check.")
    else:
        title = f"step failed: {step or 'unknown step'}"
        wrong.append(f"The step {step or '(unknown)'} raised {err_cls or 'an error'}" +
                     (f": {err_msg}" if err_msg else "") + ".")
        if export:
            wrong.append(f"It was working on the export file {export}.")
        attempts = info.get("attempts")
        transient = is_transient(info.get("error")) or is_transient(err_cls or None)
        if err_cls.rsplit(".", 1)[-1] == "InsufficientDiskSpace":
            # the sizes are redacted from the message above (numbers are, by default): say the rule
            from ct_pipeline.ingest.disk import DISK_PER_EXPORT_BYTE

            todo.append("Free disk space on the disk of warehouse/restricted: a load needs about "
                        f"{DISK_PER_EXPORT_BYTE} times the size of the new export files it reads (rows held until "
                        "the person linkage, temporary files, the database growing). Or move the warehouse to a "
                        "larger disk. Then re-run the step; nothing was loaded.")
        elif transient:
            todo.append("This looks transient (time-out, lost connection or a held database lock). The step is "
                        "retried with backoff" + (f"; it failed {_number(int(attempts))} times" if attempts else "") +
                        ".")
            todo.append("If it keeps failing: check free disk space, and that no notebook or other process holds "
                        "the build database (warehouse/restricted/build.duckdb) open; then re-run the step.")
        else:
            todo.append("Read the run's log in the Dagster UI" + (f" ({run_url})" if run_url else "") +
                        ", then re-run the failed step; the load is transactional, so nothing half-done was kept.")
            todo.append("If it fails again, file an issue with the run id and this summary (never paste rows from "
                        "an export: they identify people).")

    rows = [int(r) for r in (info.get("rows") or []) if isinstance(r, int) or str(r).isdigit()]
    if rows:
        shown = ", ".join(str(r) for r in rows[:20]) + (f" … ({len(rows)} in all)" if len(rows) > 20 else "")
        wrong.append(f"Rows in the file: {shown}.")
    counts = info.get("counts") or {}
    if counts:
        wrong.append("Counts: " + ", ".join(f"{sanitize_identifier(k)} = {_number(v)}" for k, v in counts.items()) + ".")

    if docs:
        look.append(f"Great Expectations Data Docs: {docs}")
    if dq:
        look.append(f"Data-quality report: {dq}")
    if run_url:
        look.append(f"Dagster run: {run_url}")
    if export:
        look.append(f"Export file (restricted zone): raw_exports/{export}")

    when = info.get("when") or dt.datetime.now(dt.UTC)
    when_s = when.strftime("%Y-%m-%d %H:%M UTC") if isinstance(when, dt.datetime) else sanitize_identifier(when)
    head = [f"ct_pipeline — {title}"]
    meta = []
    if info.get("run_id"):
        meta.append(f"run {sanitize_identifier(info['run_id'])}")
    if info.get("job"):
        meta.append(f"job {sanitize_identifier(info['job'])}")
    if step:
        meta.append(f"step {step}")
    meta.append(when_s)
    head.append(" · ".join(meta))

    out = head + ["", "WHAT WAS WRONG"] + [_bullet(w) for w in wrong]
    out += ["", "WHAT TO DO"] + [f"  {i}. {t}" for i, t in enumerate(todo, 1)]
    if look:
        out += ["", "WHERE TO LOOK"] + [f"  - {x}" for x in look]
    out += ["", "This summary names files, tables, fields, rules, row numbers and counts; it never contains a "
                "value from the data."]
    return "\n".join(out) + "\n"


def _bullet(text: str) -> str:
    return text if text.startswith("      ") else f"  - {text}"


def subject_for(run_info: Mapping[str, Any]) -> str:
    """A one-line e-mail subject for the summary."""
    first = failure_summary(run_info).splitlines()[0]
    return first.replace("ct_pipeline — ", "[ct_pipeline] ")[:150]
