"""Analysts query the published warehouse while nights are loaded and published: no error, and
every answer comes from one complete snapshot."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
import threading
import time

from ct_pipeline.settings import get_settings
from ct_pipeline.warehouse import connect_build, load_core, publish, query_frame
from ct_pipeline.warehouse.synthetic import insert_stg, synthetic_night, synthetic_stg

BASE = 200
PUBLISHES = 4

# Three independent ways of counting the current screenings of a snapshot: the table itself, the
# row count written into warehouse_tables at publish time, and the version history. They agree
# only if the reader sees one complete publish.
CONSISTENCY_SQL = """
SELECT (SELECT count(*) FROM fct_screenings) AS facts,
       (SELECT row_count FROM warehouse_tables WHERE table_name = 'fct_screenings') AS listed,
       (SELECT count(*) FROM fct_case_versions WHERE is_current) AS versions,
       (SELECT count(*) FROM fct_cases) AS cases,
       (SELECT count(*) FROM fct_screenings WHERE victim_status IN ('victim', 'presumed_victim')) AS victims
"""

READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import duckdb
    path, stop, out, sql = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    errors, bad, seen, n = [], 0, set(), 0
    # an analyst's notebook, open all along. (Attached, not connect(path): inside one process DuckDB
    # hands every connect(path) the database already open for that path, i.e. the old snapshot.)
    held = duckdb.connect()
    held.execute(f"ATTACH '{path}' AS ct (READ_ONLY)")
    held.execute("USE ct")
    held_first = held.sql(sql).fetchall()[0]
    held_changed = 0
    while not stop.exists():
        try:
            con = duckdb.connect(path, read_only=True)     # a new connection: the latest publish
            row = con.sql(sql).fetchall()[0]
            con.close()
            if held.sql(sql).fetchall()[0] != held_first:
                held_changed += 1
            if not (row[0] == row[1] == row[2] and row[3] == row[4]):
                bad += 1
            seen.add(row[0])
            n += 1
        except Exception as e:  # noqa: BLE001
            errors.append(type(e).__name__ + ": " + str(e)[:200])
    json.dump({"errors": errors, "inconsistent": bad, "snapshots": sorted(seen), "queries": n,
               "held_changed": held_changed}, open(out, "w"))
    """
)


def test_readers_during_publishes(tmp_path):
    settings = get_settings(warehouse_dir=tmp_path / "warehouse")
    con = connect_build(settings)
    base = synthetic_stg(BASE, seed=21)
    insert_stg(con, base.stg_screenings, base.stg_assistance)
    load_core(con)
    publish(settings, con)

    stop = tmp_path / "stop"
    out = tmp_path / "reader.json"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(settings.analyst_db), str(stop), str(out),
                               CONSISTENCY_SQL])
    thread_result = {"errors": [], "inconsistent": 0, "queries": 0}

    def thread_reader():  # an in-process reader through the library's query path
        while not stop.exists():
            try:
                row = query_frame(settings, CONSISTENCY_SQL).row(0)
                if not (row[0] == row[1] == row[2] and row[3] == row[4]):
                    thread_result["inconsistent"] += 1
                thread_result["queries"] += 1
            except Exception as e:  # noqa: BLE001
                thread_result["errors"].append(repr(e)[:200])

    t = threading.Thread(target=thread_reader)
    t.start()
    try:
        time.sleep(0.5)
        published = []
        for night in range(1, PUBLISHES + 1):
            drop = synthetic_night(BASE, n_new=10, n_changed=4, seed=21, night=night,
                                   received_date=dt.date(2026, 7, night))
            insert_stg(con, drop.stg_screenings, drop.stg_assistance)
            load_core(con)
            published.append(publish(settings, con, parquet=False).tables["fct_screenings"])
            time.sleep(0.2)
    finally:
        stop.touch()
        t.join(timeout=60)
        reader.wait(timeout=60)
    con.close()
    result = json.loads(out.read_text())
    assert result["errors"] == [] and thread_result["errors"] == []
    assert result["inconsistent"] == 0 and thread_result["inconsistent"] == 0
    assert result["held_changed"] == 0  # an open connection keeps its snapshot
    assert result["queries"] > 20 and thread_result["queries"] > 5
    assert len(result["snapshots"]) >= 3, result  # readers did see the new publishes
    assert set(result["snapshots"]) <= {BASE_COUNT for BASE_COUNT in [result["snapshots"][0], *published]}
