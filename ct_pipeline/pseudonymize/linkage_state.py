"""The linkage's memory between nights (restricted zone): what an incremental linkage needs.

A full linkage re-reads every identity of the vault (an audited decryption of all of it), computes
the comparison features of every record, blocks and compares the whole population and re-estimates
the model. On a night that adds 1 % new records that is ~99 % wasted work. After each linkage the
pipeline therefore keeps, in one file of the restricted zone:

- the model it linked with (m- and u-probabilities, the prior match probability per birth-date
  situation: numbers, no record values), kept in clear in the header;
- per linked screening record its comparison features (normalised names and their skeletons, dates,
  document, phone, episode facts) and its current person_token, as Parquet, sealed with AES-256-GCM
  under a key derived from the pseudonymisation key (HKDF, its own salt: a vault key cannot open it
  and the reverse), in chunks of 64 MiB, each with its own nonce and its index and the header as
  associated data (a chunk cannot be moved, dropped or swapped, nor the header altered);
- the digest of the identity vault the file agrees with: count and XOR of md5(source_file, row,
  identity_token, person_token) of every vault row.

A night links incrementally only when the file's digest equals the vault's at the start of the run:
a crash between the file and the commit, a key rotation, a reload, a custodian's repair — anything
that changed the vault another way — makes the digest differ, and the night falls back to a full
linkage, which writes a fresh file. Opening the file is an audited access, like `load_identities`.

No value of a record is ever logged.
"""

from __future__ import annotations

import io
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ct_pipeline.pseudonymize.keys import PseudonymKey
from ct_pipeline.pseudonymize.restricted import FILE_MODE, ensure_restricted_dir, owner_only_umask

STATE_FILE = "linkage_state.sealed"
MAGIC = b"CTLINK1\n"
FORMAT = 1
CHUNK = 64 << 20
NONCE_BYTES = 12


class LinkageStateError(RuntimeError):
    """The file cannot be opened (altered, truncated, another key): the night links in full."""


@dataclass
class LinkageState:
    """The model of the last full linkage and every linked record's features and person_token."""

    model: dict[str, Any]  # m, u (level -> probability), priors (per situation), threshold, block_cap
    # one row per linked screening record (see linkage.STATE_COLUMNS); or, to save, a plain Parquet
    # file of them in the restricted zone (`linkage.write_state_records`), sealed and then deleted
    records: pl.DataFrame | Path
    vault_digest: str


def state_path(restricted_dir: str | Path) -> Path:
    return Path(restricted_dir) / STATE_FILE


#: one vault row's part of the digest (XORed over the rows: any part of the vault can be XORed in or out)
ROW_DIGEST = ("md5_number_lower(concat_ws(chr(31), source_file, source_row::VARCHAR, coalesce(identity_token, ''), "
              "coalesce(person_token, '')))")


def vault_digest(con: duckdb.DuckDBPyConnection) -> str:
    """Order-free digest of the vault's tokens: the state must describe exactly this vault."""
    n, x = con.execute(f"SELECT count(*), coalesce(bit_xor({ROW_DIGEST}), 0) FROM identity_vault").fetchall()[0]
    return f"{n}:{x}"


def _key(key: PseudonymKey) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"ct_pipeline/linkage-state", info=f"aes-256-gcm/{key.version}".encode()
    ).derive(key.secret)


def _aad(header: bytes, i: int) -> bytes:
    return header + struct.pack(">I", i)


def save_state(restricted_dir: str | Path, state: LinkageState, key: PseudonymKey) -> Path:
    """Seal and write the state atomically (temp file + rename, mode 0600). A records file is read
    64 MiB at a time and deleted once sealed (or if sealing fails)."""
    folder = ensure_restricted_dir(restricted_dir)
    plain = state.records if isinstance(state.records, Path) else None
    try:
        if plain is None:
            buf = io.BytesIO()
            state.records.write_parquet(buf, compression="zstd", compression_level=1, statistics=False)
            body, size, n_records = io.BytesIO(buf.getbuffer()), buf.getbuffer().nbytes, state.records.height
        else:
            body, size = open(plain, "rb"), plain.stat().st_size
            n_records = pl.scan_parquet(plain).select(pl.len()).collect().item()
        with body:
            return _write_sealed(folder, body, size, n_records, state, key)
    finally:
        if plain is not None:
            plain.unlink(missing_ok=True)


def _write_sealed(folder: Path, body, size: int, n_records: int, state: LinkageState, key: PseudonymKey) -> Path:
    chunks = max(1, -(-size // CHUNK))
    header = json.dumps(
        {"format": FORMAT, "key_version": key.version, "vault_digest": state.vault_digest, "model": state.model,
         "records": n_records, "chunks": chunks},
        sort_keys=True, separators=(",", ":"),
    ).encode()  # fmt: skip
    aes = AESGCM(_key(key))
    path = state_path(folder)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with owner_only_umask():
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(MAGIC + struct.pack(">I", len(header)) + header)
            for i in range(chunks):
                nonce = os.urandom(NONCE_BYTES)
                sealed = aes.encrypt(nonce, body.read(CHUNK), _aad(header, i))
                fh.write(struct.pack(">Q", len(sealed)) + nonce + sealed)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def read_header(restricted_dir: str | Path) -> dict[str, Any] | None:
    """The clear header (model, digest, counts) without decrypting the records; None if no file."""
    path = state_path(restricted_dir)
    try:
        with open(path, "rb") as fh:
            return _header(fh)[0]
    except FileNotFoundError:
        return None


def _header(fh) -> tuple[dict[str, Any], bytes]:
    if fh.read(len(MAGIC)) != MAGIC:
        raise LinkageStateError("not a linkage state file")
    (n,) = struct.unpack(">I", fh.read(4))
    raw = fh.read(n)
    try:
        return json.loads(raw), raw
    except ValueError:
        raise LinkageStateError("linkage state header is damaged") from None


def load_state(restricted_dir: str | Path, key: PseudonymKey, digest: str) -> LinkageState | None:
    """The state if it exists, was sealed under this key version and describes the vault whose
    digest is ``digest``; else None (the caller links in full). A file that fails authentication
    raises LinkageStateError."""
    path = state_path(restricted_dir)
    if not path.exists():
        return None
    with open(path, "rb") as fh:
        header, raw = _header(fh)
        if header.get("format") != FORMAT or header.get("key_version") != key.version or header.get("vault_digest") != digest:
            return None
        aes = AESGCM(_key(key))
        parts = []
        for i in range(int(header["chunks"])):
            (n,) = struct.unpack(">Q", fh.read(8))
            nonce = fh.read(NONCE_BYTES)
            try:
                parts.append(aes.decrypt(nonce, fh.read(n), _aad(raw, i)))
            except InvalidTag:
                raise LinkageStateError("linkage state failed authentication (altered, or another key)") from None
        if fh.read(1):
            raise LinkageStateError("linkage state has trailing bytes")
    records = pl.read_parquet(io.BytesIO(b"".join(parts)))
    del parts
    if records.height != header.get("records"):
        raise LinkageStateError("linkage state record count does not match its header")
    return LinkageState(model=header["model"], records=records, vault_digest=digest)


def discard_state(restricted_dir: str | Path) -> None:
    state_path(restricted_dir).unlink(missing_ok=True)


__all__ = ["ROW_DIGEST", "LinkageState", "LinkageStateError", "discard_state", "load_state", "read_header", "save_state",
           "state_path", "vault_digest"]
