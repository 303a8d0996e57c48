"""Key rotation: re-tokenise the vault under a new key, keep old → new tokens in the restricted zone.

`retokenize_vault(con, old_key, new_key)` does, in ONE transaction of the restricted database:

1. decrypt every vault row with the old key (audited as one bulk access);
2. recompute case and identity tokens with the new key (same normalisation, so the same inputs give
   the new equivalents); a person_token maps to the new identity_token of the record it was taken
   from (it always is some record's identity_token), or, when that record is gone from the vault,
   of the cluster's earliest remaining record;
3. re-seal each identity under the new vault key (new nonces, new key version in the associated data);
4. append old → new rows to ``token_rotation_map`` (case and person tokens: the ones analysts see).

`rotate_key(con, old_key, key_file)` wraps it for the CLI: a new key (next version) is written
next to the key file first (0600), the vault is re-tokenised, then the new key file atomically
replaces the old one. A crash before the commit leaves the old key and vault as they were (the
``.new`` key file can be deleted); after the commit, the ``.new`` file is the key to keep.

Analyst tables are re-tokenised from the map with `apply_token_map` (polars) or
`retokenize_table_sql` (DuckDB, with the restricted database attached), or simply rebuilt from the
exports under the new key; the map lets earlier extracts and saved analyses be translated.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ct_pipeline.pseudonymize.keys import (
    KeyFileError,
    PseudonymKey,
    generate_key,
    next_version,
    write_key_file,
)
from ct_pipeline.pseudonymize.tokens import case_token, identity_token
from ct_pipeline.pseudonymize.vault import (
    VAULT_TABLE,
    _aad,
    _append_audit,
    _decrypt_rows,
    ensure_vault_tables,
    seal,
    vault_key,
)

log = logging.getLogger(__name__)
MAP_TABLE = "token_rotation_map"


@dataclass(frozen=True)
class RotationReport:
    old_key_version: str
    new_key_version: str
    records: int
    case_tokens: int
    person_tokens: int
    key_file: Path | None = None


def retokenize_vault(
    con: duckdb.DuckDBPyConnection, old_key: PseudonymKey, new_key: PseudonymKey, *, who: str | None = None
) -> RotationReport:
    if old_key.version == new_key.version:
        raise KeyFileError("the new key must have a new version")
    if old_key.secret == new_key.secret:
        raise KeyFileError("the new key must be a new secret")
    ensure_vault_tables(con)
    rows = con.execute(
        f"""SELECT source_file, source_row, case_token, person_token, identity_token, identity_basis,
                   key_version, sealed_identity FROM {VAULT_TABLE} ORDER BY source_file, source_row"""
    ).fetchall()
    records = _decrypt_rows(rows, old_key)
    aes = AESGCM(vault_key(new_key))
    now = datetime.now(UTC).replace(tzinfo=None)

    ident_map: dict[str, str] = {}
    case_map: dict[str, str] = {}
    new_rows = []
    for r in records:
        new_case = case_token(new_key, r["mission_code"], r["case_ref"])
        new_ident, basis = identity_token(
            new_key, full_name=r.get("full_name"), given_name=r.get("given_name"),
            family_name=r.get("family_name"), date_of_birth=r.get("date_of_birth"),
            mission_code=r["mission_code"], case_ref=r["case_ref"],
        )  # fmt: skip
        case_map[r["case_token"]] = new_case
        ident_map[r["identity_token"]] = new_ident
        identity = {k: v for k, v in r.items() if k not in (
            "source_file", "source_row", "case_token", "person_token", "identity_token", "identity_basis", "key_version")}  # fmt: skip
        new_rows.append({
            "source_file": r["source_file"], "source_row": r["source_row"], "mission_code": r["mission_code"],
            "case_token": new_case, "old_person_token": r["person_token"], "identity_token": new_ident,
            "identity_basis": basis, "key_version": new_key.version,
            "sealed_identity": seal(aes, identity, _aad(r["source_file"], r["source_row"], new_key.version)),
            "stored_at": now, "registration_date": r.get("registration_date"),
        })  # fmt: skip

    df = pl.DataFrame(new_rows, infer_schema_length=None) if new_rows else None
    person_map: dict[str, str] = {}
    if df is not None:
        earliest = (
            df.sort(["registration_date", "source_file", "source_row"], nulls_last=True)
            .group_by("old_person_token", maintain_order=True)
            .agg(pl.col("identity_token").first())
        )
        for old, fallback in earliest.iter_rows():
            if old is not None:
                person_map[old] = ident_map.get(old, fallback)
        df = df.with_columns(
            person_token=pl.col("old_person_token").replace_strict(person_map, default=None, return_dtype=pl.String)
        )

    con.execute("BEGIN TRANSACTION")
    try:
        if df is not None:
            cols = ["source_file", "source_row", "mission_code", "case_token", "person_token", "identity_token",
                    "identity_basis", "key_version", "sealed_identity", "stored_at"]  # fmt: skip
            con.register("rot_vault", df.select(cols))
            con.execute(f"DELETE FROM {VAULT_TABLE}")
            con.execute(f"INSERT INTO {VAULT_TABLE} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM rot_vault")
            con.unregister("rot_vault")
            m = pl.concat([
                pl.DataFrame({"token_kind": "case", "old_token": list(case_map), "new_token": list(case_map.values())},
                             schema={"token_kind": pl.String, "old_token": pl.String, "new_token": pl.String}),
                pl.DataFrame({"token_kind": "person", "old_token": list(person_map), "new_token": list(person_map.values())},
                             schema={"token_kind": pl.String, "old_token": pl.String, "new_token": pl.String}),
            ]).with_columns(
                old_key_version=pl.lit(old_key.version), new_key_version=pl.lit(new_key.version), rotated_at=pl.lit(now)
            )  # fmt: skip
            con.register("rot_map", m)
            con.execute(
                f"INSERT OR REPLACE INTO {MAP_TABLE} (token_kind, old_token, new_token, old_key_version, "
                f"new_key_version, rotated_at) SELECT token_kind, old_token, new_token, old_key_version, "
                f"new_key_version, rotated_at FROM rot_map"
            )
            con.unregister("rot_map")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    _append_audit(con, "*", (who or _user()), f"key rotation {old_key.version} -> {new_key.version}", len(records))
    log.info("key rotation %s -> %s: %d vault records re-tokenised", old_key.version, new_key.version, len(records))
    return RotationReport(old_key.version, new_key.version, len(records), len(case_map), len(person_map))


def _user() -> str:
    import getpass

    return getpass.getuser()


def rotate_key(
    con: duckdb.DuckDBPyConnection,
    old_key: PseudonymKey,
    key_file: str | Path,
    *,
    new_version: str | None = None,
    who: str | None = None,
) -> tuple[PseudonymKey, RotationReport]:
    """Generate the next key, re-tokenise the vault, install the new key file (see module doc).

    ``key_file``: where the new key goes (usually the current key file, replaced atomically after the
    vault commit). With the key in CT_PSEUDONYM_KEY, pass a file path and point the environment at it.
    """
    key_file = Path(key_file).expanduser().resolve()
    new_key = generate_key(new_version or next_version(old_key.version))
    staging = key_file.with_name(key_file.name + ".new")
    write_key_file(staging, new_key, overwrite=False)
    report = retokenize_vault(con, old_key, new_key, who=who)
    os.replace(staging, key_file)
    return new_key, RotationReport(**{**report.__dict__, "key_file": key_file})


def token_map(con: duckdb.DuckDBPyConnection, old_key_version: str | None = None) -> pl.DataFrame:
    ensure_vault_tables(con)
    df = con.sql(f"SELECT * FROM {MAP_TABLE} ORDER BY token_kind, old_token").pl()
    return df if old_key_version is None else df.filter(pl.col("old_key_version") == old_key_version)


def apply_token_map(df: pl.DataFrame, mapping: pl.DataFrame, *, key_version: str | None = None) -> pl.DataFrame:
    """Replace case_token / person_token of an analyst frame by their new tokens (map rows of one
    rotation); tokens absent from the map are kept (and reported by the caller if it cares)."""
    out = df
    for col, kind in (("case_token", "case"), ("person_token", "person")):
        if col in out.columns:
            m = mapping.filter(pl.col("token_kind") == kind)
            out = out.with_columns(
                pl.col(col).replace(dict(zip(m["old_token"].to_list(), m["new_token"].to_list(), strict=True)))
            )
    if key_version is not None and "key_version" in out.columns:
        out = out.with_columns(key_version=pl.lit(key_version))
    return out


def retokenize_table_sql(
    table: str,
    *,
    new_key_version: str,
    columns: tuple[str, ...] = ("case_token", "person_token"),
    map_table: str = f"restricted.{MAP_TABLE}",
) -> str:
    """DuckDB statements re-tokenising an analyst table in place (``columns``: its token columns),
    run in the pipeline's build connection with the restricted database attached as ``restricted``."""
    v = new_key_version.replace("'", "''")
    kinds = {"case_token": "case", "person_token": "person"}
    stmts = [
        f"UPDATE {table} t SET {col} = m.new_token FROM {map_table} m "
        f"WHERE m.token_kind = '{kinds[col]}' AND t.{col} = m.old_token;"
        for col in columns
    ]
    stmts.append(f"UPDATE {table} SET key_version = '{v}';")
    return "\n".join(stmts)
