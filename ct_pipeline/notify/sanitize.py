"""Make an exception message safe to show outside the restricted zone.

Error messages from parsers and databases quote the offending value ("could not convert string
'Maria Lopez' to INT64", "input_value='1985-13-02'"). A failure summary goes to e-mail, to the
reports folder and to Dagster: it may carry class names, field and table names, file paths under
the exports folder, row numbers and counts — never a value from the data.

The sanitiser is deny-by-default: a word survives only if it is
- a common word of error messages (a fixed vocabulary), in lower case — or capitalised at the start
  of a sentence;
- a known name: a registry field, table or code list, an export era, a header of the column maps;
- an exception class name (``ValueError``, ``duckdb.ConversionException``) or a SQL/dtype name;
- a number right after row/line/position/errno/attempt, or in "N out of M";
- a file path under one of the allowed roots (the exports and warehouse folders), made relative.
Everything else — quoted text, dates, capitalised names mid-sentence, document numbers, e-mail
addresses, hex dumps — becomes "…".
"""

from __future__ import annotations

import builtins
import csv
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path, PurePosixPath

REDACTED = "…"
MAX_LENGTH = 600

# Words of error messages (Python, DuckDB, polars, pandera, pydantic, openpyxl/calamine, GE,
# smtplib, OS). Deliberately no first names that are also words (may, will, grace, rose, ...):
# those are only kept in lower case, and a capitalised word mid-sentence is always dropped.
_VOCABULARY = """
a an the and or not no nor of in on at to from for with without by as is are was were be been
being has have had having do does did done can cannot could should would must shall might will
it its this that these those there here which what when where while than then but if else only
also all any each every some none more less most least too very after before between into onto
out over under up down per via because since same other another such own one two both either
neither first last next previous new old unknown known expected unexpected missing invalid valid
failed fail fails failure error errors exception exceptions warning warnings unable
can't couldn't doesn't isn't wasn't don't won't aren't didn't hasn't haven't
decode encode decoding encoding decoded encoded codec byte bytes position continuation start
end character characters string strings text value values type types typed cast casting casted
convert converting conversion converted parse parsing parsed parser format formats formatted
date dates datetime time times timestamp timestamps number numbers numeric integer integers
float floats boolean booleans null nulls empty blank column columns field fields row rows line
lines header headers sheet sheets file files folder folders directory directories path paths
exists exist existing found key keys primary foreign unique duplicate duplicates duplicated
constraint constraints violated violation violates table tables schema schemas catalog binder
syntax near input inputs output outputs range bound bounds limit limits long short large small
many few permission permissions denied access lock locks locked conflicting conflict database
databases connection connections transaction transactions rollback commit read reading write
writing written open opened closed close timeout timed memory disk space full retry retrying
retried again attempt attempts checksum hash mismatch match matches matched matching export
exports exported era eras mission missions form forms screening screenings assistance code codes
list lists registry quarantine quarantined stage staged staging load loaded loading refused
refuse check checks checked rule rules validation validations validate validated validator
passed pass expectation expectations suite suites dtype dtypes object objects argument arguments
attribute attributes index indices length size shape operation operations operator supported
unsupported implemented defined undefined required allowed received receive got given contain
contains containing contained utf utf-8 utf8 ascii latin-1 cp1252 windows-1252 errno such
workbook worksheet cell cells delimiter separator quote quoting quoted newline eof truncated
corrupt corrupted zip archive xml json jsonl csv xlsx xls ndjson strict mode day days month
months year years leap serial excel greater equal equals exceed exceeds exceeded negative
positive zero maximum minimum max min sum total totals count counts birth identification
registration case cases person persons token tokens str int dict tuple nan true false bool
element elements element-wise wise failure_cases series frame dataframe lazyframe polars duckdb
pandas pandera pydantic great expectations smtp server host port refused reset timed connect
connecting connected authentication auth login password credentials tls ssl starttls certificate
mail message recipient recipients sender rejected unavailable temporarily permanently denied
network unreachable resolve resolved name names unknown_host address addresses
should've whose who whom how why enough least under above below within outside inside
sorted order ordered size too much broken seems appears likely probably maybe
instead use using used see look please try trying tried run runs running ran step steps asset
assets job jobs sensor schedule daemon webserver process processes killed signal interrupted
cancelled canceled skipped skip skipping pending upstream downstream blocking blocked
source target destination set held holding saw seen see number validator isin internal fatal
serialization dependency sequence implemented permission syntax literal base decimal digit digits
""".split()

# Capitalised words kept anywhere (DuckDB writes "Conversion Error", "Invalid Input Error").
_TECHNICAL = {
    "error", "errors", "exception", "constraint", "conversion", "binder", "parser", "catalog",
    "invalid", "input", "permission", "syntax", "memory", "implemented", "internal",
    "serialization", "dependency", "transaction", "connection", "fatal", "interrupt", "sequence",
    "mismatch", "value", "type", "file", "column", "row", "key", "null", "not", "out", "of", "no",
    "such", "denied", "refused", "timeout", "format", "encoding", "schema", "table", "database",
    "validation", "failure", "io", "unknown", "missing", "duplicate", "unexpected",
}
# Words of the vocabulary that are also first names or surnames: never kept when capitalised.
_NAME_LIKE = {"will", "can", "may", "long", "short", "page", "mark", "day", "king", "young", "case",
              "read", "start", "end", "key", "rose", "hope", "grace", "frank", "bill", "full"}
# A number is kept before these (it is a count): "36 fields", "3 rows".
_COUNT_NOUNS = {"fields", "columns", "rows", "values", "headers", "lines", "files", "bytes",
                "errors", "records", "cases", "sheets", "elements", "characters", "missions"}

_ROW_WORDS = {"row", "rows", "line", "lines", "position", "pos", "errno", "attempt", "attempts",
              "record", "records", "column", "col", "sheet", "page", "port", "step", "try", "retry"}

_TYPE_NAMES = {
    "VARCHAR", "TEXT", "STRING", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT",
    "INT", "INT8", "INT16", "INT32", "INT64", "INT128", "UINT8", "UINT16", "UINT32", "UINT64",
    "DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC", "BOOLEAN", "BOOL", "DATE", "TIME",
    "TIMESTAMP", "INTERVAL", "BLOB", "JSON", "LIST", "STRUCT", "MAP", "ENUM", "NULL", "UUID",
    "UTF-8", "UTF8", "ASCII", "CSV", "XLSX", "JSONL", "SQL", "SMTP", "TLS", "SSL", "HTTP", "IO",
    "OK", "I/O", "PK", "ID", "Float64", "Int64", "Int32", "Utf8", "String", "Date", "Datetime",
    "Boolean", "List", "Object", "NaN", "None", "True", "False",
}

_CLASS_SUFFIXES = ("Error", "Exception", "Warning", "Exit", "Interrupt", "Errors", "Failure",
                   "Timeout", "Refused", "Disconnected")

_QUOTE_PAIRS = [("'", "'"), ('"', '"'), ("`", "`"), ("\u2018", "\u2019"), ("\u201c", "\u201d"),
                ("\u00ab", "\u00bb")]

_PH_OPEN, _PH_CLOSE = "\ue000", "\ue001"  # private-use characters: placeholders of quoted spans
_TOKEN = re.compile(r"\ue000\d+\ue001|[\w@+\\/.\-']+|[^\w\s]|\s+", re.UNICODE)
_NUMBER = re.compile(r"^\d{1,9}$")
_SENTENCE_END = re.compile(r"[.:!?\n]\s*$")


@cache
def known_names() -> frozenset[str]:
    """Names that are safe to show: registry fields, tables, code lists; eras; column-map headers."""
    names: set[str] = set()
    try:
        from ct_pipeline.metadata import load_registry

        reg = load_registry()
        names |= set(reg.fields) | set(reg.tables) | set(reg.codelists)
    except Exception:  # the sanitiser must work even when the registry does not load
        pass
    try:
        from ct_pipeline.formats.eras import load_eras

        names |= set(load_eras())
    except Exception:
        pass
    cmap = Path(__file__).resolve().parent.parent / "formats" / "column_map.csv"
    if cmap.exists():
        with cmap.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                for col, value in row.items():
                    if col not in ("form", "field") and value:
                        names.add(value.strip())
    return frozenset(n for n in names if n)


def _is_class_name(word: str) -> bool:
    last = word.rsplit(".", 1)[-1]
    if not re.fullmatch(r"[A-Z][A-Za-z0-9]+", last):
        return False
    if "." in word and not re.fullmatch(r"[a-z_][a-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+", word):
        return False
    builtin = getattr(builtins, last, None)
    if isinstance(builtin, type) and issubclass(builtin, BaseException):
        return True
    return last.endswith(_CLASS_SUFFIXES) and sum(ch.isupper() for ch in last) >= 2


class _Sanitizer:
    def __init__(self, roots: Iterable[Path], names: frozenset[str]):
        self.roots = [Path(r).expanduser().resolve() for r in roots]
        self.names = names
        self.vocabulary = frozenset(_VOCABULARY)

    # -- paths ---------------------------------------------------------------------------------
    def path(self, text: str) -> str | None:
        """A path under an allowed root, relative to it; None for any other text."""
        t = text.strip()
        if "/" not in t and "\\" not in t:
            return None
        p = PurePosixPath(t.replace("\\", "/"))
        if p.is_absolute():
            for root in self.roots:
                try:
                    rel = Path(str(p)).resolve().relative_to(root)
                except (ValueError, OSError):
                    continue
                return f"{root.name}/{rel.as_posix()}" if str(rel) != "." else root.name
            return None
        # relative export path: <MISSION>/<YYYY-MM-DD>/<file>
        if re.fullmatch(r"[A-Za-z0-9_\-]{1,40}/\d{4}-\d{2}-\d{2}(/[^/\x00]{1,200})?", p.as_posix()):
            if ".." not in p.parts:
                return p.as_posix()
        return None

    # -- words ---------------------------------------------------------------------------------
    def word(self, w: str, prev_words: list[str], next_words: list[str], sentence_start: bool) -> str:
        core = w.strip(".'-")
        if not core:
            return w
        if core in self.names:
            return w
        if _is_class_name(core) or core in _TYPE_NAMES:
            return w
        if _NUMBER.fullmatch(core):
            prev = prev_words[-1].lower() if prev_words else ""
            if prev in _ROW_WORDS:
                return w
            if next_words[:1] and next_words[0] in _COUNT_NOUNS:
                return w
            if next_words[:2] == ["out", "of"] or [x.lower() for x in prev_words[-2:]] == ["out", "of"]:
                return w
            return REDACTED
        lower = core.lower()
        if core == lower and lower in self.vocabulary:
            return w
        capitalised = core[0].isupper() and core[1:] == core[1:].lower()
        if capitalised and lower in _TECHNICAL:
            return w
        if capitalised and sentence_start and lower in self.vocabulary and lower not in _NAME_LIKE:
            return w
        if core.isupper() and lower in self.vocabulary and len(core) > 1:  # "ERROR", "FAILED"
            return w
        return REDACTED

    # -- whole text ----------------------------------------------------------------------------
    def quoted(self, text: str) -> tuple[str, dict[str, str]]:
        """Replace quoted spans by placeholders: kept (known name, allowed path, safe word) or …"""
        kept: dict[str, str] = {}

        def repl(m: re.Match) -> str:
            open_q, inner, close_q = m.group(1), m.group(2), m.group(3)
            safe = self.safe_quoted(inner)
            key = f"{_PH_OPEN}{len(kept)}{_PH_CLOSE}"
            kept[key] = f"{open_q}{safe}{close_q}" if safe is not None else f"{open_q}{REDACTED}{close_q}"
            return key

        for o, c in _QUOTE_PAIRS:
            prefix = "b?" if o in "'\"" else ""
            pattern = re.compile(
                rf"(?<![\w]){prefix}({re.escape(o)})(.*?)({re.escape(c)})(?![\w])", re.DOTALL
            )
            text = pattern.sub(repl, text)
        return text, kept

    def safe_quoted(self, inner: str) -> str | None:
        s = inner.strip()
        if not s:
            return inner
        if s in self.names:
            return s
        p = self.path(s)
        if p is not None:
            return p
        if re.fullmatch(r"[\w.\-]+", s) and self.word(s, [], [], sentence_start=False) != REDACTED:
            return s
        return None

    def __call__(self, text: str) -> str:
        text, kept = self.quoted(text)
        tokens = _TOKEN.findall(text)
        words = [t for t in tokens if _is_word(t)]
        out: list[str] = []
        wi = 0
        sentence_start = True
        prev_words: list[str] = []
        for tok in tokens:
            if tok in kept:
                out.append(kept[tok])
                sentence_start = False
                continue
            if tok.isspace():
                out.append("\n" if "\n" in tok else " ")
                sentence_start = sentence_start or "\n" in tok
                continue
            if not _is_word(tok):  # punctuation
                out.append(tok)
                if tok in ".:!?;":
                    sentence_start = True
                continue
            wi += 1
            core, trail = tok, ""
            while len(core) > 1 and core[-1] in ".:":
                core, trail = core[:-1], core[-1] + trail
            p = self.path(core)
            if p is not None:
                out.append(p + trail)
            else:
                next_words = [x.lower() for x in words[wi: wi + 2]]
                out.append(self.word(core, prev_words, next_words, sentence_start) + trail)
            prev_words.append(core)
            sentence_start = bool(trail)
        result = "".join(out)
        # collapse runs of redactions ("… … …", "…, …") into one
        result = re.sub(rf"{REDACTED}(?:[\s,;/\-+=]*{REDACTED})+", REDACTED, result)
        result = re.sub(r"[ \t]+", " ", result).strip()
        if len(result) > MAX_LENGTH:
            result = result[: MAX_LENGTH - 1].rstrip() + REDACTED
        return result


def _is_word(tok: str) -> bool:
    return bool(re.match(r"[\w@+\\/.\-']", tok)) and not tok.startswith(_PH_OPEN)


def default_roots() -> list[Path]:
    """The exports and warehouse folders of the current settings (paths under them may be shown)."""
    try:
        from ct_pipeline.settings import get_settings

        s = get_settings()
        return [s.raw_exports_dir, s.warehouse_dir]
    except Exception:
        return []


def sanitize_message(text: object, *, roots: Iterable[Path] | None = None) -> str:
    """The message with every value dropped (see the module docstring for what is kept)."""
    if text is None:
        return ""
    s = str(text)
    if not s.strip():
        return ""
    return _Sanitizer(default_roots() if roots is None else roots, known_names())(s)


def sanitize_identifier(text: object) -> str:
    """A table, column, rule, asset or mission name: kept if it looks like one, else redacted."""
    s = str(text or "").strip()
    if re.fullmatch(r"[A-Za-z0-9_.:\-/\[\]]{1,120}", s) and not re.search(r"\d{4}-\d{2}-\d{2}$", s):
        return s
    return REDACTED


def sanitize_path(text: object, *, roots: Iterable[Path] | None = None) -> str:
    """A file path under the exports/warehouse folders (made relative), else redacted."""
    s = str(text or "").strip()
    if not s:
        return ""
    san = _Sanitizer(default_roots() if roots is None else roots, known_names())
    p = san.path(s)
    return p if p is not None else REDACTED


def exception_class(exc: BaseException | type | str | None) -> str:
    """`module.ClassName` of an exception (builtins without module)."""
    if exc is None:
        return ""
    if isinstance(exc, str):
        return sanitize_identifier(exc)
    cls = exc if isinstance(exc, type) else type(exc)
    mod = cls.__module__
    return cls.__qualname__ if mod == "builtins" else f"{mod}.{cls.__qualname__}"
