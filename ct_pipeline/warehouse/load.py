"""Build the star schema (dim_*, fct_*) from the staged tables, in one transaction.

`load_core(con)` is a deterministic function of stg_screenings, stg_assistance and the code lists:

* Every staged row is ordered by arrival (received_date, source_file, source_row). Per case (per
  (case, assistance type, start date) for assistance) a row whose content equals the row before it
  is a *duplicate*; any other row starts a new *version*; the last version is *current*, earlier
  ones are *superseded* (with the lineage of the version that replaced them). Content is every
  column but the lineage and key_version. Cases whose current version was registered before 1999
  are *out of scope*; assistance of a case with no staged screening is *unmatched*. Every staged
  row gets exactly one status in fct_case_versions / fct_assistance_versions: that is the
  reconciliation (see reconcile.py).
* Incremental: the per-file row counts and content hashes of stg_* are compared with
  warehouse_ledger; only the cases that appear in new, changed or removed files are deleted from
  the facts and rebuilt from all of their staged rows. Because a case is always rebuilt from all
  of its rows, the result is the same as a full rebuild (tested), and re-running changes nothing.
* One transaction: killed half-way, the database is as before (DuckDB's WAL drops the
  uncommitted transaction on reopen) and the next run does the whole work again.

Logs carry counts and table names only.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

import duckdb
import polars as pl

from ct_pipeline.metadata.registry import load_registry
from ct_pipeline.warehouse.faults import pause_point
from ct_pipeline.warehouse.hashing import registry_row_hash, row_text_hash
from ct_pipeline.warehouse.tables import (
    ARRIVAL,
    CORE_TABLES,
    FACTS,
    LINEAGE,
    col_list,
    columns,
    ensure_tables,
    scalar,
    warehouse_ddl,
)

log = logging.getLogger(__name__)

SCOPE_START = dt.date(1999, 1, 1)
GAF_START = dt.date(2000, 8, 1)
CASE_STATUSES = ("victim", "presumed_victim")
#: the mission's country: the two letters before the hyphen of the mission code
MISSION_COUNTRY = "nullif(upper(regexp_extract({col}, '^([A-Za-z]{{2}})-', 1)), '')"


@dataclass
class LoadResult:
    mode: str  # full | incremental | noop
    files_changed: int = 0
    cases_rebuilt: int = 0
    row_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _content_hash(table: str, alias: str = "") -> str:
    """Hash (HUGEINT) of a staged row's content (`hashing.value_hash` per column: DuckDB's own
    hash() of text misses some edits, and hashes NULL, [] and [NULL] alike)."""
    return registry_row_hash(table, skip={*LINEAGE, "key_version"}, alias=alias)


# --- small dimensions: replaced only when their content changes ----------------------------------
def _sync(con: duckdb.DuckDBPyConnection, table: str, select_sql: str) -> bool:
    """Replace the content of a small table by `select_sql` only when it differs (a run that finds
    nothing new rewrites nothing). Compared by count and sum of row hashes of the rows' text."""
    cols = col_list(table)
    fp = f"SELECT count(*) AS n, coalesce(sum({row_text_hash('t', table)}), 0) AS h FROM ({{q}}) t"
    same = scalar(
        con,
        f"SELECT a.n = b.n AND a.h = b.h FROM ({fp.format(q=f'SELECT {cols} FROM ({select_sql})')}) a, "
        f"({fp.format(q=f'SELECT {cols} FROM {table}')}) b",
    )
    if not same:
        con.execute(f"DELETE FROM {table}")
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM ({select_sql})")
    return not same


def _with_frame(con: duckdb.DuckDBPyConnection, name: str, df: pl.DataFrame):
    con.register(name, df)
    return name


def _sync_code_dims(con: duckdb.DuckDBPyConnection, today: dt.date) -> None:
    reg = load_registry()
    countries = pl.DataFrame(
        {
            "country_code": [c["alpha2"] for c in reg.countries],
            "country_alpha3": [c["alpha3"] or None for c in reg.countries],
            "country_numeric": [c["numeric"] or None for c in reg.countries],
            "country_name": [c["name"] for c in reg.countries],
            "region": [c["region"] or None for c in reg.countries],
            "sub_region": [c["sub_region"] or None for c in reg.countries],
            "is_gaf_excluded": [c["is_gaf_excluded"].strip().lower() == "true" for c in reg.countries],
        },
        schema={"country_code": pl.String, "country_alpha3": pl.String, "country_numeric": pl.String,
                "country_name": pl.String, "region": pl.String, "sub_region": pl.String,
                "is_gaf_excluded": pl.Boolean},
    )
    _sync(con, "dim_countries", f"SELECT * FROM {_with_frame(con, '_countries_df', countries)}")
    con.unregister("_countries_df")
    for table, codelist, key in (
        ("dim_exploitation_types", "exploitation_type", "exploitation_type"),
        ("dim_assistance_types", "assistance_type", "assistance_type"),
    ):
        codes = reg.codelists[codelist].codes
        df = pl.DataFrame(
            {key: [c.code for c in codes], "code_label": [c.label for c in codes],
             "code_order": list(range(1, len(codes) + 1))},
            schema={key: pl.String, "code_label": pl.String, "code_order": pl.Int64},
        )
        _sync(con, table, f"SELECT * FROM {_with_frame(con, '_codes_df', df)}")
        con.unregister("_codes_df")
    end = dt.date(today.year + 1, 1, 1)
    # dim_dates is a pure function of its range: compare the range, not the rows
    if con.sql("SELECT min(calendar_date), max(calendar_date), count(*) FROM dim_dates").fetchall()[0] != (
        SCOPE_START, end - dt.timedelta(days=1), (end - SCOPE_START).days
    ):
        con.execute("DELETE FROM dim_dates")
        con.execute(
            f"""INSERT INTO dim_dates ({col_list('dim_dates')})
                SELECT d::DATE, year(d), quarter(d), month(d), monthname(d), isoyear(d), week(d), day(d),
                       isodow(d), dayname(d), isodow(d) >= 6
                FROM range(DATE '{SCOPE_START}', DATE '{end}', INTERVAL 1 DAY) AS t(d)"""
        )


def _sync_missions(con: duckdb.DuckDBPyConnection) -> None:
    mc = MISSION_COUNTRY.format(col="l.mission_code")
    _sync(
        con,
        "dim_missions",
        f"""SELECT l.mission_code, k.country_code AS mission_country_code, k.country_name, k.region,
                   k.sub_region, k.is_gaf_excluded, min(l.received_date) AS first_received_date,
                   max(l.received_date) AS last_received_date,
                   count(DISTINCT l.source_file) AS export_count
            FROM warehouse_ledger l LEFT JOIN dim_countries k ON k.country_code = {mc}
            GROUP BY ALL""",
    )


# --- versions ------------------------------------------------------------------------------------
def _versions_sql(src: str, table: str, key: str, scope_join: str, status_first: str) -> str:
    """Classify every staged row of `src`: version number, status, superseding and duplicated rows.

    Most keys have a single staged row: those are current (or out of scope) without a window or a
    content hash; only keys with several rows go through the ordered windows. Key columns may be
    NULL (an undated assistance episode): grouped and joined as values (IS NOT DISTINCT FROM)."""
    keys = key.split(", ")
    on = " AND ".join(f"s.{k} IS NOT DISTINCT FROM m.{k}" for k in keys)
    join = " AND ".join(f"n.{k} IS NOT DISTINCT FROM h.{k}" for k in [*keys, "version_number"])
    sreg = "s.registration_date" if table == "stg_screenings" else "NULL::DATE"
    return f"""
    WITH k AS (  -- keys with several staged rows
        SELECT {key} FROM {src} GROUP BY ALL HAVING count(*) > 1
    ), single AS (
        SELECT s.{key.replace(", ", ", s.")}, s.source_file, s.source_row, s.era, s.received_date, s.mission_code,
               {sreg} AS registration_or_null
        FROM {src} s ANTI JOIN k m ON {on}
    ), r AS (
        SELECT s.{key.replace(", ", ", s.")}, s.source_file, s.source_row, s.era, s.received_date, s.mission_code,
               {sreg} AS registration_or_null, {_content_hash(table, "s.")} AS h
        FROM {src} s SEMI JOIN k m ON {on}
    ), o AS (
        SELECT *, coalesce(h <> lag(h) OVER w, true) AS starts_version
        FROM r WINDOW w AS (PARTITION BY {key} ORDER BY {ARRIVAL})
    ), n AS (
        SELECT *, sum(starts_version::INTEGER) OVER (
                      PARTITION BY {key} ORDER BY {ARRIVAL} ROWS UNBOUNDED PRECEDING) AS version_number,
               last_value(registration_or_null) OVER (
                      PARTITION BY {key} ORDER BY {ARRIVAL}
                      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS current_registration_date
        FROM o
    ), h AS (
        SELECT {key}, version_number, source_file AS head_file, source_row AS head_row,
               lead(source_file) OVER v AS next_file, lead(source_row) OVER v AS next_row,
               lead(received_date) OVER v AS next_received,
               count(*) OVER (PARTITION BY {key}) AS version_count
        FROM n WHERE starts_version
        WINDOW v AS (PARTITION BY {key} ORDER BY version_number)
    ), v AS (
        SELECT {key}, 1 AS version_number, 1 AS version_count, true AS starts_version,
               registration_or_null AS current_registration_date, mission_code, source_file, source_row, era,
               received_date, NULL::VARCHAR AS next_file, NULL::BIGINT AS next_row, NULL::DATE AS next_received,
               source_file AS head_file, source_row AS head_row
        FROM single
        UNION ALL
        SELECT n.{key.replace(", ", ", n.")}, n.version_number, h.version_count, n.starts_version,
               n.current_registration_date, n.mission_code, n.source_file, n.source_row, n.era, n.received_date,
               h.next_file, h.next_row, h.next_received, h.head_file, h.head_row
        FROM n JOIN h ON {join}
    )
    SELECT v.{key.replace(", ", ", v.")}, v.version_number, v.version_count,
           CASE {status_first}
                WHEN NOT v.starts_version THEN 'duplicate'
                WHEN v.version_number < v.version_count THEN 'superseded'
                ELSE 'current' END AS record_status,
           v.mission_code, v.source_file, v.source_row, v.era, v.received_date,
           v.next_file AS superseded_by_source_file, v.next_row AS superseded_by_source_row,
           v.next_received AS superseded_by_received_date,
           CASE WHEN NOT v.starts_version THEN v.head_file END AS duplicate_of_source_file,
           CASE WHEN NOT v.starts_version THEN v.head_row END AS duplicate_of_source_row
    FROM v {scope_join}
    """


def _build_screenings(con: duckdb.DuckDBPyConnection, src: str) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _sv AS "
        + _versions_sql(
            src, "stg_screenings", "case_token", "",
            f"WHEN v.current_registration_date < DATE '{SCOPE_START}' THEN 'out_of_scope'",
        )
    )
    pause_point("core:versions")
    con.execute(
        f"""INSERT INTO fct_case_versions ({col_list('fct_case_versions')})
            SELECT case_token, version_number, record_status, record_status = 'current', mission_code,
                   source_file, source_row, era, received_date, superseded_by_source_file,
                   superseded_by_source_row, superseded_by_received_date, duplicate_of_source_file,
                   duplicate_of_source_row
            FROM _sv"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _cur AS
            SELECT s.*, v.version_count FROM {src} s
            JOIN (SELECT source_file, source_row, version_count FROM _sv WHERE record_status = 'current') v
            USING (source_file, source_row)"""
    )
    con.execute(f"INSERT INTO fct_screenings ({col_list('fct_screenings')}) SELECT {col_list('fct_screenings')} FROM _cur")
    mc = MISSION_COUNTRY.format(col="c.mission_code")
    ident = "coalesce(c.identification_date, c.registration_date)"
    statuses = ", ".join(f"'{s}'" for s in CASE_STATUSES)
    gaf = {
        "is_gaf_eligible": f"""CASE WHEN c.victim_status <> 'victim' THEN false
                                   WHEN k.country_code IS NULL THEN NULL
                                   WHEN k.is_gaf_excluded THEN false
                                   WHEN {ident} < DATE '{GAF_START}' THEN false
                                   ELSE true END""",
        "gaf_eligibility_reason": f"""CASE WHEN c.victim_status <> 'victim' THEN 'not_identified_as_victim'
                                   WHEN k.country_code IS NULL THEN 'mission_country_unknown'
                                   WHEN k.is_gaf_excluded THEN 'identified_in_excluded_country'
                                   WHEN {ident} < DATE '{GAF_START}' THEN 'identified_before_gaf'
                                   ELSE 'eligible' END""",
    }
    select = ", ".join(gaf.get(c, "c." + c) for c in columns("fct_cases"))
    con.execute(
        f"""INSERT INTO fct_cases ({col_list('fct_cases')})
            SELECT {select} FROM _cur c LEFT JOIN dim_countries k ON k.country_code = {mc}
            WHERE c.victim_status IN ({statuses})"""
    )
    # leg_order by arithmetic (no window): recruitment first, then the recorded transits in order
    # (NULL elements dropped), then exploitation; unrecorded stages take no number
    con.execute(
        f"""INSERT INTO fct_route_legs ({col_list('fct_route_legs')})
            WITH c AS (
                SELECT case_token, registration_year, recruitment_country AS r, exploitation_country AS e,
                       list_filter(transit_countries, lambda x: x IS NOT NULL) AS t
                FROM _cur WHERE victim_status IN ({statuses})
            )
            SELECT case_token, 1, 'recruitment', r, registration_year FROM c WHERE r IS NOT NULL
            UNION ALL
            SELECT case_token, (r IS NOT NULL)::BIGINT + pos, 'transit', country_code, registration_year FROM (
                SELECT case_token, registration_year, r, unnest(t) AS country_code, unnest(range(1, len(t) + 1)) AS pos
                FROM c WHERE len(t) > 0)
            UNION ALL
            SELECT case_token, (r IS NOT NULL)::BIGINT + coalesce(len(t), 0) + 1, 'exploitation', e, registration_year
            FROM c WHERE e IS NOT NULL"""
    )


def _build_assistance(con: duckdb.DuckDBPyConnection, src: str) -> None:
    key = "case_token, assistance_type, assistance_start_date"
    scope = """LEFT JOIN (SELECT case_token, bool_or(record_status = 'current') AS in_facts
                          FROM _sv GROUP BY case_token) cs ON cs.case_token = v.case_token"""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _av AS "
        + _versions_sql(
            src, "stg_assistance", key, scope,
            "WHEN cs.case_token IS NULL THEN 'unmatched' WHEN NOT cs.in_facts THEN 'out_of_scope'",
        )
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _ep AS
           SELECT source_file, source_row, row_number() OVER (
                      PARTITION BY case_token ORDER BY assistance_start_date NULLS LAST, assistance_type) AS episode_number
           FROM _av WHERE record_status = 'current'"""
    )
    con.execute(
        f"""INSERT INTO fct_assistance_versions ({col_list('fct_assistance_versions')})
            SELECT v.case_token, v.assistance_type, v.assistance_start_date, v.version_number, v.record_status,
                   v.record_status = 'current', e.episode_number, v.mission_code, v.source_file, v.source_row,
                   v.era, v.received_date, v.superseded_by_source_file, v.superseded_by_source_row,
                   v.superseded_by_received_date, v.duplicate_of_source_file, v.duplicate_of_source_row
            FROM _av v LEFT JOIN _ep e USING (source_file, source_row)"""
    )
    con.execute(
        f"""INSERT INTO fct_assistance ({col_list('fct_assistance')})
            SELECT a.case_token, e.episode_number, a.assistance_type, a.assistance_start_date,
                   a.assistance_end_date,
                   CASE WHEN a.assistance_end_date >= a.assistance_start_date
                        THEN date_diff('day', a.assistance_start_date, a.assistance_end_date) + 1 END,
                   date_diff('day', c.identification_date, a.assistance_start_date),
                   a.funding_source, a.funding_source = 'gaf', a.reintegration_outcome, a.return_country,
                   c.registration_year, a.key_version, a.mission_code, a.source_file, a.source_row, a.era,
                   a.received_date
            FROM {src} a JOIN _ep e USING (source_file, source_row)
            JOIN _cur c ON c.case_token = a.case_token"""
    )


def _build_persons(con: duckdb.DuckDBPyConnection, only_touched: bool) -> None:
    where = "AND person_token IN (SELECT person_token FROM _tp)" if only_touched else ""
    if only_touched:
        con.execute("DELETE FROM dim_persons WHERE person_token IN (SELECT person_token FROM _tp)")
    latest = "(registration_date, case_token)"  # the most recently registered case (ties: larger token)
    statuses = ", ".join(f"'{s}'" for s in CASE_STATUSES)
    con.execute(
        f"""INSERT INTO dim_persons ({col_list('dim_persons')})
            SELECT person_token,
                   arg_max(sex, {latest}) FILTER (WHERE sex IS NOT NULL),
                   arg_max(birth_year, {latest}) FILTER (WHERE birth_year IS NOT NULL),
                   arg_max(citizenship, {latest}) FILTER (WHERE citizenship IS NOT NULL),
                   min(registration_year), count(*),
                   count(*) FILTER (WHERE victim_status IN ({statuses})),
                   count(DISTINCT mission_code)
            FROM fct_screenings WHERE person_token IS NOT NULL {where}
            GROUP BY person_token"""
    )


# --- the load ------------------------------------------------------------------------------------
def _files_sql(form: str, table: str) -> str:
    """Per staged file: what warehouse_ledger records, with a fingerprint of all its rows' values
    (content hash, row number, key version; the other lineage columns are per-file constants)."""
    row_hash = f"({_content_hash(table)} + hash(source_row, key_version)::HUGEINT)"
    return f"""
    SELECT source_file, '{form}' AS form, min(mission_code) AS mission_code, min(received_date) AS received_date,
           min(era) AS era, min(source_sha256) AS source_sha256, count(*) AS rows_staged,
           (sum({row_hash}) % {_FINGERPRINT_MODULUS})::BIGINT AS content_fingerprint
    FROM {table} GROUP BY source_file
    """


_FINGERPRINT_MODULUS = 9223372036854775783  # the largest prime below 2**63: the sum fits a BIGINT


def _file_delta(con: duckdb.DuckDBPyConnection) -> int:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _files AS "
        + _files_sql("screening", "stg_screenings")
        + " UNION ALL "
        + _files_sql("assistance", "stg_assistance")
    )
    cols = col_list("warehouse_ledger")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _changed AS
            SELECT DISTINCT source_file, form FROM (
                (SELECT {cols} FROM _files EXCEPT SELECT {cols} FROM warehouse_ledger)
                UNION ALL
                (SELECT {cols} FROM warehouse_ledger EXCEPT SELECT {cols} FROM _files))"""
    )
    return scalar(con, "SELECT count(*) FROM _changed")


def _touched_cases(con: duckdb.DuckDBPyConnection) -> int:
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _touched AS
           SELECT DISTINCT case_token FROM (
               SELECT case_token FROM stg_screenings
               WHERE source_file IN (SELECT source_file FROM _changed WHERE form = 'screening')
               UNION ALL
               SELECT case_token FROM fct_case_versions
               WHERE source_file IN (SELECT source_file FROM _changed WHERE form = 'screening')
               UNION ALL
               SELECT case_token FROM stg_assistance
               WHERE source_file IN (SELECT source_file FROM _changed WHERE form = 'assistance')
               UNION ALL
               SELECT case_token FROM fct_assistance_versions
               WHERE source_file IN (SELECT source_file FROM _changed WHERE form = 'assistance'))"""
    )
    return scalar(con, "SELECT count(*) FROM _touched")


def _drop_temps(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(";\n".join(f"DROP TABLE IF EXISTS temp.main.{t}" for t in
                           ("_files", "_changed", "_touched", "_tp", "_src_s", "_src_a", "_sv", "_cur", "_av", "_ep")))


def _load(con: duckdb.DuckDBPyConnection, full: bool, today: dt.date) -> LoadResult:
    ensure_tables(con)
    pause_point("core:begin")
    _sync_code_dims(con, today)
    changed = _file_delta(con)
    if not full and changed == 0:
        _drop_temps(con)
        return LoadResult("noop")
    if not full and scalar(con, "SELECT count(*) FROM warehouse_ledger") == 0:
        full = True
    if full:
        for t in FACTS + ("dim_persons",):
            con.execute(f"DROP TABLE {t}")
            con.execute(warehouse_ddl(t, if_not_exists=False))
        src_s, src_a = "stg_screenings", "stg_assistance"
        cases = scalar(con, "SELECT count(DISTINCT case_token) FROM stg_screenings")
    else:
        cases = _touched_cases(con)
        # the persons of the deleted screenings (their dim_persons rows are recomputed below)
        old_persons = con.execute(
            "DELETE FROM fct_screenings WHERE case_token IN (SELECT case_token FROM _touched) RETURNING person_token"
        ).fetchall()
        con.register("_old_persons", pl.DataFrame({"person_token": [p for (p,) in old_persons]},
                                                  schema={"person_token": pl.String}))
        con.execute("CREATE OR REPLACE TEMP TABLE _tp AS SELECT DISTINCT person_token FROM _old_persons "
                    "WHERE person_token IS NOT NULL")
        con.unregister("_old_persons")
        con.execute(";\n".join(f"DELETE FROM {t} WHERE case_token IN (SELECT case_token FROM _touched)"
                               for t in FACTS if t != "fct_screenings"))
        pause_point("core:deleted")
        con.execute("CREATE OR REPLACE TEMP TABLE _src_s AS SELECT * FROM stg_screenings "
                    "WHERE case_token IN (SELECT case_token FROM _touched)")
        con.execute("CREATE OR REPLACE TEMP TABLE _src_a AS SELECT * FROM stg_assistance "
                    "WHERE case_token IN (SELECT case_token FROM _touched)")
        src_s, src_a = "_src_s", "_src_a"
    _build_screenings(con, src_s)
    pause_point("core:screenings")
    _build_assistance(con, src_a)
    pause_point("core:assistance")
    if not full:
        con.execute(
            "INSERT INTO _tp SELECT DISTINCT person_token FROM _cur WHERE person_token IS NOT NULL "
            "EXCEPT SELECT person_token FROM _tp"
        )
    _build_persons(con, only_touched=not full)
    cols = col_list("warehouse_ledger")
    if full:
        con.execute("DELETE FROM warehouse_ledger")
        con.execute(f"INSERT INTO warehouse_ledger ({cols}) SELECT {cols} FROM _files")
    else:
        con.execute("DELETE FROM warehouse_ledger WHERE (source_file, form) IN (SELECT (source_file, form) FROM _changed)")
        con.execute(
            f"INSERT INTO warehouse_ledger ({cols}) SELECT {cols} FROM _files "
            "WHERE (source_file, form) IN (SELECT (source_file, form) FROM _changed)"
        )
    _sync_missions(con)
    pause_point("core:built")
    _drop_temps(con)
    return LoadResult("full" if full else "incremental", files_changed=changed, cases_rebuilt=cases)


def load_core(
    con: duckdb.DuckDBPyConnection,
    *,
    full: bool = False,
    own_transaction: bool = True,
    today: dt.date | None = None,
) -> LoadResult:
    """(Re)build dim_* and fct_* from stg_* on the build connection `con`.

    Incremental by default (only cases in new, changed or removed export files are rebuilt; a
    full rebuild when the core is empty or `full=True`, e.g. after a key rotation or corrections
    applied in place to already-loaded staged rows). With `own_transaction` (default) the load is
    one transaction of its own; pass False when the caller has already begun one (DuckDB refuses a
    nested BEGIN and aborts the open transaction), so that staging and core commit together.
    `today` fixes the end of dim_dates (end of today's year)."""
    started = time.perf_counter()
    today = today or dt.date.today()
    if own_transaction:
        con.begin()
    try:
        result = _load(con, full, today)
        pause_point("core:commit")
        if own_transaction:
            con.commit()
    except BaseException:
        if own_transaction:
            try:
                con.rollback()
            except duckdb.Error:
                pass
        raise
    pause_point("core:committed")
    counts = con.sql(" UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in CORE_TABLES)).fetchall()
    result.row_counts = dict(counts)
    result.seconds = time.perf_counter() - started
    log.info(
        "core load %s: %d changed file(s), %d case(s) rebuilt in %.2fs; rows: %s",
        result.mode, result.files_changed, result.cases_rebuilt, result.seconds,
        ", ".join(f"{t}={n}" for t, n in result.row_counts.items()),
    )
    return result
