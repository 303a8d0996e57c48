"""The registry: loads strictly, is consistent, and everything generated from it is complete."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from pydantic import ValidationError

from ct_pipeline.metadata import load_registry
from ct_pipeline.metadata.column_schema import column_schema
from ct_pipeline.metadata.ddl import ddl
from ct_pipeline.metadata.dictionary import data_dictionary
from ct_pipeline.metadata.model import FieldSpec, TableSpec
from ct_pipeline.metadata.schemas import pandera_schema, validate
from ct_pipeline.metadata.types import empty_frame

SNAPSHOT = Path(__file__).parent / "snapshots" / "ddl.sql"


def test_registry_loads_with_tables_and_codelists():
    reg = load_registry()
    assert {"raw_screenings", "stg_screenings", "ingestion_ledger", "quarantine"} <= set(reg.tables)
    for name in ("country", "sex", "age_band", "exploitation_type", "labour_sector", "means_of_control",
                 "recruiter_relationship", "identifying_agency", "assistance_type", "victim_status"):
        assert reg.codelists[name].codes, name


def test_unknown_keys_are_rejected():
    with pytest.raises(ValidationError):
        FieldSpec.model_validate({"type": "string", "pii": "none", "description": "a description", "colour": "red"})
    with pytest.raises(ValidationError):
        TableSpec.model_validate({"layer": "core", "zone": "analyst", "grain": "each row is a case",
                                  "description": "a description", "columns": []})


def test_every_table_states_its_grain_and_every_column_is_described():
    reg = load_registry()
    for name, t in reg.tables.items():
        assert t.grain.startswith("one row per "), name
        for c in reg.columns(name):
            assert len(c.field.description) >= 10, (name, c.name)


def test_no_direct_identifier_outside_the_restricted_zone():
    reg = load_registry()
    for name, t in reg.tables.items():
        if t.zone != "restricted":
            assert not [c.name for c in reg.columns(name) if c.field.pii == "direct"], name


def test_namibia_is_a_country_not_a_missing_value():
    reg = load_registry()
    assert "NA" in reg.codes("country")
    namibia = [c for c in reg.countries if c["alpha2"] == "NA"]
    assert namibia and namibia[0]["alpha3"] == "NAM"


def test_generated_ddl_runs_on_duckdb_and_comments_every_column():
    con = duckdb.connect()
    con.execute(ddl())
    reg = load_registry()
    n_cols = sum(len(t.columns) for t in reg.tables.values())
    total, commented = con.sql(
        "select count(*), count(comment) from duckdb_columns() where not internal"
    ).fetchall()[0]
    assert total == commented == n_cols
    tables = con.sql("select count(*), count(comment) from duckdb_tables()").fetchall()[0]
    assert tables[0] == tables[1] == len(reg.tables)


def test_generated_ddl_matches_the_committed_snapshot():
    current = ddl()
    if SNAPSHOT.read_text(encoding="utf-8") != current:
        pytest.fail(
            "The DDL generated from the registry differs from tests/unit/metadata/snapshots/ddl.sql. "
            "If the registry change is intended: ct-pipeline registry ddl > tests/unit/metadata/snapshots/ddl.sql"
        )


def test_pandera_schema_accepts_empty_and_rejects_unknown_codes():
    import pandera.errors

    reg = load_registry()
    for t in reg.tables:
        validate(t, empty_frame(reg, t))
    schema = empty_frame(reg, "stg_assistance").schema
    given = {
        "case_token": "t1", "key_version": "v1", "mission_code": "MD-CHISINAU",
        "assistance_type": "teleportation", "source_file": "f", "source_row": 1,
        "source_sha256": "x", "era": "ctm_legacy", "received_date": date(2005, 1, 1),
    }
    df = pl.DataFrame([{n: given.get(n) for n in schema}], schema=schema)
    with pytest.raises(pandera.errors.SchemaErrors) as err:
        validate("stg_assistance", df)
    assert "assistance_type" in str(err.value)
    validate("stg_assistance", df.with_columns(assistance_type=pl.lit("shelter")))


def test_dagster_column_schema_and_dictionary_cover_every_column():
    reg = load_registry()
    doc = data_dictionary()
    for name, t in reg.tables.items():
        cols = column_schema(name)
        assert [c["name"] for c in cols] == reg.column_names(name)
        assert all(c["description"] for c in cols)
        if t.zone != "restricted":
            assert f"## `{name}`" in doc
        else:
            assert f"## `{name}`" not in doc


def test_pandera_schemas_build_for_every_table():
    for t in load_registry().tables:
        assert pandera_schema(t).columns


def test_importing_the_library_does_not_import_dagster():
    code = (
        "import importlib, pkgutil, sys, ct_pipeline\n"
        "for m in pkgutil.walk_packages(ct_pipeline.__path__, 'ct_pipeline.'):\n"
        "    if m.name.endswith('.bench') or '.bench' in m.name: continue\n"
        "    importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m == 'dagster' or m.startswith('dagster.')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_lookup_index_must_name_a_column_of_a_published_table(monkeypatch):
    from ct_pipeline.metadata import registry

    tables = load_registry().tables
    for table, columns in (("fct_cases", ["no_such_column", "exploitation_types"]), ("raw_screenings", ["case_ref"]),
                           ("fct_assistance", ["registration_year"])):
        monkeypatch.setitem(tables, table, tables[table].model_copy(update={"lookup_index": columns}))
    with pytest.raises(ValueError) as err:
        registry._check(load_registry())
    assert "fct_cases: lookup index 'no_such_column' is not one of its columns" in str(err.value)
    assert "raw_screenings: a lookup index is kept in the published file only" in str(err.value)
    assert "fct_cases: lookup index 'exploitation_types' is a code_list" in str(err.value)
    assert "fct_assistance" not in str(err.value)  # a scalar column of a published table is fine


def test_declared_compression_reaches_duckdb_and_an_older_table_is_rebuilt_with_it(tmp_path):
    # The vault's sealed identities (ciphertext) are stored uncompressed: DuckDB's analysis of them
    # at every checkpoint cost seconds a night. A build database made before the declaration gets
    # the table rebuilt once, its rows kept in order, by the ingest's ensure_tables.
    from ct_pipeline.metadata.ddl import storage_outdated, table_ddl, upgrade_storage
    from ct_pipeline.pipeline import ensure_tables

    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    con.execute(table_ddl("identity_vault"))
    assert storage_outdated(con, "identity_vault") == []
    con.execute("DROP TABLE identity_vault")
    # the table as a build database of session 23 has it: the same DDL without the clause
    old = table_ddl("identity_vault").replace(" USING COMPRESSION uncompressed", "")
    assert old != table_ddl("identity_vault")
    con.execute(old)
    con.execute("""INSERT INTO identity_vault SELECT 'M/2020-01-01/f.csv', i, 'M', 'c' || i, NULL, 'i' || i,
                   'name_dob', 'v1', repeat('x', 200) || i, TIMESTAMP '2020-01-01' FROM range(1, 3001) t(i)""")
    assert storage_outdated(con, "identity_vault") == ["sealed_identity"]
    assert storage_outdated(con, "ingestion_ledger") == []  # missing: nothing to upgrade
    logged = []
    con.execute("BEGIN")
    ensure_tables(con, ["ingestion_ledger", "identity_vault"], logged.append)
    con.execute("COMMIT")
    assert len(logged) == 1 and logged[0].startswith("identity_vault: rebuilt") and "3000 rows" in logged[0]
    assert storage_outdated(con, "identity_vault") == []
    assert upgrade_storage(con, "identity_vault") is None  # once
    rows = con.sql("SELECT source_row, sealed_identity FROM identity_vault").fetchall()
    assert [r[0] for r in rows] == list(range(1, 3001))
    assert rows[-1][1] == "x" * 200 + "3000"
    assert con.sql("SELECT count(*) FROM duckdb_columns() WHERE table_name = 'identity_vault' "
                   "AND comment IS NULL").fetchall()[0][0] == 0
    assert sorted(t for (t,) in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()) == [
        "identity_vault", "ingestion_ledger"]  # the copy it was made from is gone
    con.execute("CHECKPOINT")
    kinds = {c for (c,) in con.sql("SELECT DISTINCT compression FROM pragma_storage_info('identity_vault') "
                                   "WHERE column_name = 'sealed_identity' AND segment_type = 'VARCHAR'").fetchall()}
    assert kinds == {"Uncompressed"}
