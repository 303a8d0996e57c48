"""The identity vault (restricted zone): token → encrypted identity, and its audit log.

Storage: table ``identity_vault`` in the restricted DuckDB database (open it with
`restricted.restricted_connection`), one row per screening record (source_file, source_row), with
the tokens in clear (they are pseudonyms: needed to find a record) and the identity sealed:

- ``sealed_identity`` = base64( nonce(12) ‖ AES-256-GCM ciphertext ‖ tag(16) ) of the identity as
  JSON (names, date of birth, age, sex, citizenship, document, phone, address, mission, case number,
  registration and identification dates);
- a fresh random 96-bit nonce per record (os.urandom; far below the 2³² messages-per-key limit);
- associated data = ``source_file 0x1F source_row 0x1F key_version``: a sealed identity cannot be
  moved to another row or replayed under another key version without failing authentication;
- the AES key is derived from the pseudonymisation key with HKDF-SHA256 (salt
  ``ct_pipeline/identity-vault``, info ``aes-256-gcm/<key_version>``): one secret to guard and rotate,
  and domain separation keeps it independent of the HMAC token key. Consequence, by design: whoever
  holds the pseudonymisation key can open the vault — the key is a custodian's secret, analysts never
  get it.

The DuckDB file is not itself encrypted (DuckDB's encryption needs httpfs, unavailable for 2.0 here);
the vault's ciphertexts plus the 0700 restricted folder are the protection at rest.

Audit: every `vault_lookup` (and every bulk decryption) appends a row to ``vault_audit_log`` — when,
which token, who, why, how many records — *before* returning anything. The log holds no identity: a
reason that contains a value of the identity it unlocks (a name part, the document or phone number,
the case number) is refused and logged as refused, with the reason replaced. Rows are hash-chained
(``audit_hash`` = SHA-256 of the previous hash and the row), so deleting or editing an entry is
detectable with `verify_audit_log`.
"""

from __future__ import annotations

import base64
import contextlib
import getpass
import hashlib
import json
import logging
import os
from datetime import UTC, date, datetime

import duckdb
import polars as pl
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ct_pipeline.metadata.ddl import table_ddl
from ct_pipeline.pseudonymize.keys import PseudonymKey
from ct_pipeline.pseudonymize.normalise import name_tokens, normalise_case_ref, normalise_document
from ct_pipeline.pseudonymize.restricted import insert_frame
from ct_pipeline.pseudonymize.tokens import EPISODE_FIELDS, IDENTITY_FIELDS

log = logging.getLogger(__name__)

VAULT_TABLE = "identity_vault"
AUDIT_TABLE = "vault_audit_log"
NONCE_BYTES = 12  # a multiple of 3: `_seal_series` base64-encodes nonce and ciphertext apart
_DATE_FIELDS = (
    "date_of_birth", "registration_date", "identification_date", "exploitation_start_date",
    "exploitation_end_date", "recruitment_date",
)  # fmt: skip
MIN_REASON_CHARS = 8


class VaultError(RuntimeError):
    pass


class ReasonError(ValueError):
    """The lookup reason is missing, too short, or contains identifying values."""


def vault_key(key: PseudonymKey) -> bytes:
    """The AES-256-GCM key of the vault, derived from the pseudonymisation key (HKDF-SHA256)."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"ct_pipeline/identity-vault",
        info=f"aes-256-gcm/{key.version}".encode(),
    ).derive(key.secret)


def _aad(source_file: str, source_row: int, key_version: str) -> bytes:
    return f"{source_file}\x1f{source_row}\x1f{key_version}".encode()


def seal(aes: AESGCM, identity: dict, aad: bytes) -> str:
    nonce = os.urandom(NONCE_BYTES)
    payload = json.dumps(identity, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    return base64.b64encode(nonce + aes.encrypt(nonce, payload, aad)).decode("ascii")


def seal_frame(identities: pl.DataFrame, cols: list[str], key: PseudonymKey) -> list[str]:
    """`seal` of every row's identity (the columns `cols`), in row order.

    The JSON payloads and associated data are built by polars for the whole frame, the same bytes
    `seal` makes per row (dates as ISO text, UTF-8, compact); only the encryption is per row, so
    a million identities take seconds rather than minutes."""
    return _seal_series(identities, cols, key).to_list()


def _seal_series(identities: pl.DataFrame, cols: list[str], key: PseudonymKey) -> pl.Series:
    """`seal_frame` as a String Series. Payloads and associated data reach the loop as UTF-8 bytes
    (polars' Binary cast, no str.encode per row), and the base64 is polars': base64(nonce ‖
    ciphertext) = base64(nonce) ‖ base64(ciphertext) since the 12-byte nonce is whole 3-byte groups."""
    if identities.height == 0:
        return pl.Series("sealed_identity", [], dtype=pl.String)
    aes = AESGCM(vault_key(key))
    parts = identities.select(
        pl.struct(cols).struct.json_encode().cast(pl.Binary).alias("p"),
        pl.format("{}\x1f{}\x1f{}", "source_file", "source_row", pl.lit(key.version)).cast(pl.Binary).alias("a"),
    )
    blob = os.urandom(NONCE_BYTES * identities.height)
    nonces = [blob[i:i + NONCE_BYTES] for i in range(0, len(blob), NONCE_BYTES)]
    encrypt = aes.encrypt
    sealed = [
        encrypt(nonce, payload, aad)
        for nonce, payload, aad in zip(nonces, parts["p"].to_list(), parts["a"].to_list(), strict=True)
    ]
    out = pl.DataFrame(
        [pl.Series("n", nonces, dtype=pl.Binary), pl.Series("c", sealed, dtype=pl.Binary)]
    ).select(pl.concat_str(pl.col("n").bin.encode("base64"), pl.col("c").bin.encode("base64")))
    return out.to_series().alias("sealed_identity")


def unseal(aes: AESGCM, sealed: str, aad: bytes) -> dict:
    raw = base64.b64decode(sealed)
    identity = json.loads(aes.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad))
    for f in _DATE_FIELDS:
        if identity.get(f):
            identity[f] = date.fromisoformat(identity[f])
    return identity


def ensure_vault_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the vault, audit log and rotation map tables from the registry (if missing)."""
    for t in (VAULT_TABLE, AUDIT_TABLE, "token_rotation_map"):
        con.execute(table_ddl(t))


def store_identities(con: duckdb.DuckDBPyConnection, identities: pl.DataFrame, key: PseudonymKey, *,
                     into: str = VAULT_TABLE) -> int:
    """Seal identities (the `pseudonymize` identities frame, whole files) into the vault (streamed:
    `restricted.insert_frame`). A file already in the vault (a reload) has its earlier rows replaced.
    ``into``: a table of the vault's columns to write the sealed rows to instead (a full load's
    pending rows, see `batches.BatchPseudonymizer`)."""
    ensure_vault_tables(con)
    if identities.height == 0:
        return 0
    cols = [c for c in (*IDENTITY_FIELDS, *EPISODE_FIELDS) if c in identities.columns]
    sealed = _seal_series(identities, cols, key)
    now = datetime.now(UTC).replace(tzinfo=None)
    frame = identities.select(
        "source_file", "source_row", "mission_code", "case_token", "person_token", "identity_token",
        "identity_basis", pl.lit(key.version).alias("key_version"),
    ).with_columns(sealed, pl.lit(now).alias("stored_at"))  # fmt: skip
    # A file already in the vault (a reload) replaces its rows: all of them, also those of records
    # the new copy no longer has. The vault keeps no key index (registry: key_index), so this is
    # a delete, then a plain insert.
    files = frame.get_column("source_file").unique().to_list()
    seen = con.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {VAULT_TABLE} WHERE source_file IN (SELECT unnest(?)) LIMIT 1)",
        [files],
    ).fetchall()[0][0]
    if seen:
        con.execute(f"DELETE FROM {VAULT_TABLE} WHERE source_file IN (SELECT unnest(?))", [files])
    with _no_string_compression(con):
        insert_frame(con, into, frame)
    log.info("vault: stored %d identities", frame.height)
    return frame.height


@contextlib.contextmanager
def _no_string_compression(con: duckdb.DuckDBPyConnection):
    """Sealed identities are random bytes in base64: DuckDB's dictionary+FSST string compression
    gains little on them (~15%) and took two thirds of the vault's insert time (measured)."""
    old = con.execute("SELECT current_setting('disabled_compression_methods')").fetchall()[0][0] or ""
    con.execute(f"SET disabled_compression_methods = '{','.join(filter(None, [old, 'dict_fsst']))}'")
    try:
        yield
    finally:
        with contextlib.suppress(duckdb.Error):  # an aborted transaction refuses even this
            con.execute(f"SET disabled_compression_methods = '{old}'")


def update_person_tokens(con: duckdb.DuckDBPyConnection, links: pl.DataFrame) -> int:
    """Apply re-linked person tokens (source_file, source_row, person_token) to the vault."""
    con.register("vault_links", links.select("source_file", "source_row", "person_token"))
    try:
        changed = con.sql(
            f"""SELECT count(*) FROM {VAULT_TABLE} v JOIN vault_links l USING (source_file, source_row)
                WHERE v.person_token IS DISTINCT FROM l.person_token"""
        ).fetchall()[0][0]
        con.execute(
            f"""UPDATE {VAULT_TABLE} v SET person_token = l.person_token FROM vault_links l
                WHERE v.source_file = l.source_file AND v.source_row = l.source_row
                  AND v.person_token IS DISTINCT FROM l.person_token"""
        )
    finally:  # an aborted transaction refuses even this: its error goes on
        with contextlib.suppress(duckdb.Error):
            con.unregister("vault_links")
    return int(changed)


# --- audit -------------------------------------------------------------------------------------


def _check_reason(reason: str | None) -> str:
    if reason is None or len(reason.strip()) < MIN_REASON_CHARS:
        raise ReasonError(f"a reason of at least {MIN_REASON_CHARS} characters is required for every vault access")
    return " ".join(reason.split())


def _identity_values(identity: dict) -> set[str]:
    vals: set[str] = set()
    for f in ("full_name", "given_name", "family_name"):
        vals.update(t for t in name_tokens(identity.get(f)) if len(t) >= 3)
    for f in ("document_number", "phone"):
        v = normalise_document(identity.get(f))
        if len(v) >= 4:
            vals.add(v.casefold())
    ref = normalise_case_ref(identity.get("case_ref"))
    if len(ref) >= 4:
        vals.add(ref.casefold())
    dob = identity.get("date_of_birth")
    if dob:
        vals.update({dob.strftime("%Y%m%d"), dob.strftime("%d%m%Y"), dob.strftime("%m%d%Y")})
    return vals


def _reason_leaks(reason: str, identities: list[dict]) -> bool:
    words = set(name_tokens(reason))
    compact = normalise_document(reason).casefold()
    spaced = reason.casefold()
    for ident in identities:
        for v in _identity_values(ident):
            if v in words or (len(v) >= 6 and (v in compact or v in spaced)):
                return True
    return False


def _append_audit(con, token: str, who: str, reason: str, count: int) -> None:
    # No transaction of its own: the nightly load appends inside its load transaction (a failed
    # BEGIN would abort it), and one process holds the database file at a time, so the read of the
    # chain's last entry and the insert cannot interleave with another writer.
    last = con.sql(f"SELECT audit_seq, audit_hash FROM {AUDIT_TABLE} ORDER BY audit_seq DESC LIMIT 1").fetchall()
    seq, prev = (last[0][0] + 1, last[0][1]) if last else (1, "")
    now = datetime.now(UTC).replace(tzinfo=None)
    digest = hashlib.sha256(
        "\x1f".join([prev, str(seq), now.isoformat(), token, who, reason, str(count)]).encode()
    ).hexdigest()
    con.execute(
        f"INSERT INTO {AUDIT_TABLE} (audit_seq, looked_up_at, looked_up_token, looked_up_by, lookup_reason, "
        "returned_count, audit_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [seq, now, token, who, reason, count, digest],
    )


def audit_log(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.sql(f"SELECT * FROM {AUDIT_TABLE} ORDER BY audit_seq").pl()


def verify_audit_log(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the hash chain of the audit log is intact (no entry edited, removed or reordered)."""
    prev = ""
    for seq, at, token, who, reason, count, h in con.sql(
        f"SELECT audit_seq, looked_up_at, looked_up_token, looked_up_by, lookup_reason, returned_count, audit_hash "
        f"FROM {AUDIT_TABLE} ORDER BY audit_seq"
    ).fetchall():
        expect = hashlib.sha256(
            "\x1f".join([prev, str(seq), at.isoformat(), token, who, reason, str(count)]).encode()
        ).hexdigest()
        if expect != h:
            return False
        prev = h
    return True


# --- lookups -----------------------------------------------------------------------------------


def _decrypt_rows(rows: list[tuple], key: PseudonymKey) -> list[dict]:
    aes = AESGCM(vault_key(key))
    out = []
    for sf, sr, case_tok, person_tok, ident_tok, basis, kv, sealed in rows:
        if kv != key.version:
            raise VaultError(
                f"vault rows are sealed under key version {kv!r}, the key given is {key.version!r}"
            )
        try:
            ident = unseal(aes, sealed, _aad(sf, sr, kv))
        except InvalidTag:
            raise VaultError(
                f"vault record {sf} row {sr} failed authentication: it was altered or moved, or the key is wrong"
            ) from None
        out.append({
            "source_file": sf, "source_row": sr, "case_token": case_tok, "person_token": person_tok,
            "identity_token": ident_tok, "identity_basis": basis, "key_version": kv, **ident,
        })  # fmt: skip
    return out


def vault_lookup(
    con: duckdb.DuckDBPyConnection,
    key: PseudonymKey,
    token: str,
    *,
    reason: str,
    who: str | None = None,
) -> list[dict]:
    """Re-identify: the identities behind a case_token, person_token or identity_token.

    ``reason`` is required (≥ 8 characters, no identifying value); ``who`` defaults to the OS user.
    The access is written to the audit log before anything is returned (also when nothing matches).
    """
    ensure_vault_tables(con)
    reason = _check_reason(reason)
    who = (who or getpass.getuser()).strip()
    token = token.strip().lower()
    rows = con.execute(
        f"""SELECT source_file, source_row, case_token, person_token, identity_token, identity_basis,
                   key_version, sealed_identity
            FROM {VAULT_TABLE} WHERE case_token = ? OR person_token = ? OR identity_token = ?
            ORDER BY source_file, source_row""",
        [token, token, token],
    ).fetchall()
    found = _decrypt_rows(rows, key)
    if _reason_leaks(reason, found):
        _append_audit(con, token, who, "[refused: the reason contained an identifying value]", 0)
        raise ReasonError("the reason must not contain identifying values (names, numbers, dates); access refused and logged")
    _append_audit(con, token, who, reason, len(found))
    log.info("vault lookup: %d records returned, access logged", len(found))
    return found


VAULT_READ_ROWS = 65_536  # vault rows decrypted at a time by load_identities


def load_identities(
    con: duckdb.DuckDBPyConnection, key: PseudonymKey, *, reason: str, who: str | None = None
) -> pl.DataFrame:
    """Decrypt the whole vault (e.g. prior identities for linkage, or a rotation). Audited as one
    access to token ``*``. Returns the identities frame (table person_identities), in file and row
    order.

    Read in chunks, and only the decryption is per row: the JSON payloads are parsed by polars
    into typed columns. (A dict per record, from one sorted fetch of the whole vault, took 8.8 GB
    and 39 s for a million identities, measured; the frame itself is 0.3 GB.)"""
    from ct_pipeline.metadata.registry import load_registry
    from ct_pipeline.metadata.types import polars_schema

    ensure_vault_tables(con)
    reason = _check_reason(reason)
    schema = polars_schema(load_registry(), "person_identities")
    reader = con.sql(
        f"""SELECT source_file, source_row, case_token, person_token, identity_token, identity_basis,
                   key_version, sealed_identity FROM {VAULT_TABLE}"""
    ).to_arrow_reader(VAULT_READ_ROWS)
    parts = [_open_part(pl.from_arrow(batch), key, schema) for batch in reader]
    parts = [p for p in parts if p.height]
    _append_audit(con, "*", (who or getpass.getuser()).strip(), reason, sum(p.height for p in parts))
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts).sort("source_file", "source_row")


def _open_part(rows: pl.DataFrame, key: PseudonymKey, schema) -> pl.DataFrame:
    """Vault rows -> identities (person_identities columns): the sealed fields decrypted, parsed
    from their JSON and typed (dates were sealed as ISO text)."""
    if rows.height == 0:
        return pl.DataFrame(schema=schema)
    sealed_fields = {c: t for c, t in schema.items() if c not in rows.columns}
    as_json = pl.Struct({c: pl.String if t == pl.Date else t for c, t in sealed_fields.items()})
    ident = pl.Series("p", _open_frame(rows, key), dtype=pl.String).str.json_decode(as_json).struct.unnest()
    df = pl.concat([rows.drop("sealed_identity"), ident], how="horizontal")
    return df.select([
        (pl.col(c).str.to_date("%Y-%m-%d") if c in sealed_fields and t == pl.Date else pl.col(c).cast(t)).alias(c)
        for c, t in schema.items()
    ])  # fmt: skip


def _open_frame(rows: pl.DataFrame, key: PseudonymKey) -> list[str]:
    """The JSON payloads of vault rows (source_file, source_row, key_version, sealed_identity), in
    order; same refusals as `_decrypt_rows` (another key version, an altered or moved record)."""
    if rows.height == 0:
        return []
    other = rows.filter(pl.col("key_version") != key.version)
    if other.height:
        raise VaultError(
            f"vault rows are sealed under key version {other['key_version'][0]!r}, the key given is {key.version!r}"
        )
    aads = rows.select(pl.format("{}\x1f{}\x1f{}", "source_file", "source_row", "key_version"))[:, 0].to_list()
    decrypt, b64 = AESGCM(vault_key(key)).decrypt, base64.b64decode
    out = []
    for i, (sealed, aad) in enumerate(zip(rows["sealed_identity"].to_list(), aads, strict=True)):
        raw = b64(sealed)
        try:
            out.append(decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad.encode()).decode())
        except InvalidTag:
            raise VaultError(
                f"vault record {rows['source_file'][i]} row {rows['source_row'][i]} failed authentication: "
                "it was altered or moved, or the key is wrong"
            ) from None
    return out
