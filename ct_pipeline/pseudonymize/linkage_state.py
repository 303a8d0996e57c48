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
- the digest of the identity vault the file agrees with: count and XOR of a hash of (source_file,
  row, identity_token, person_token) of every vault row (ROW_DIGEST).

An incremental night changes a few records of the state (its new records, the earlier records it
relinks): rewriting every record (~1.3 s of encoding and sealing at a million records, ten times that
at ten million) is replaced by a *delta* file next to it, sealed the same way, holding every record
added or changed since the base file was written, the model, the digest and the base's id (a random
id in the base's authenticated header): loading applies the delta to the base. The delta grows night
after night; when it holds more than DELTA_SHARE of the base's records, or after a full linkage, the
whole state is written as a new base and the delta removed. A delta of another base (a crash between
writing a base and removing the delta) is ignored, and the base is used alone if it agrees with the
vault (else the night links in full, as always).

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
from ct_pipeline.warehouse.hashing import value_terms, xor_terms

STATE_FILE = "linkage_state.sealed"
DELTA_FILE = "linkage_state.delta.sealed"
#: a delta holding more records than this share of its base's is merged into a new base
DELTA_SHARE = 0.10
KEY = ["source_file", "source_row"]
MAGIC = b"CTLINK1\n"
#: 2: the vault digest from salted column hashes (ROW_DIGEST), not md5; a state of format 1 is not
#: used (the night after the upgrade links in full and writes a new one)
FORMAT = 2
CHUNK = 64 << 20
NONCE_BYTES = 12
TAG_BYTES = 16  # AES-GCM's authentication tag, after each sealed chunk


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
    # what was loaded from disk, for a night that then saves only what it changed: the base file's
    # id and record count, and the delta's records (None: no delta)
    base_id: str | None = None
    base_records: int = 0
    delta: pl.DataFrame | None = None


def state_path(restricted_dir: str | Path) -> Path:
    return Path(restricted_dir) / STATE_FILE


def delta_path(restricted_dir: str | Path) -> Path:
    return Path(restricted_dir) / DELTA_FILE


#: one vault row's part of the digest (XORed over the rows: any part of the vault can be XORed in or
#: out): its columns' salted hashes (warehouse.hashing: DuckDB's hash, remixed per column, the file
#: path at two alignments), combined and hashed once more, so that the row's part is not linear in
#: its values (XORed over rows without it, the digest would be the XOR of every column's values,
#: in which a value present an even number of times cancels: merging two 2-record persons left it
#: unchanged). A tenth of the CPU of md5 of the row's text (1M vault: 0.83 -> 0.09 s, computed at
#: the start of every night; 10M: ~9 s of CPU -> ~1).
ROW_DIGEST = "hash(" + xor_terms([
    *value_terms("source_file", "identity_vault", "source_file", text=True),
    *(t for c in ("source_row", "identity_token", "person_token")
      for t in value_terms(c, "identity_vault", c, text=False)),
]) + ")"


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


def save_state(restricted_dir: str | Path, state: LinkageState, key: PseudonymKey, *,
               changed: pl.DataFrame | None = None, loaded: LinkageState | None = None) -> Path:
    """Seal and write the state atomically (temp file + rename, mode 0600). A records file is read
    64 MiB at a time and deleted once sealed (or if sealing fails).

    With ``changed`` (the records this night added or changed, a subset of ``state.records``) and
    the state ``loaded`` at the start of the night (sealed under the same key): only a delta over
    loaded's base is written, unless it would exceed DELTA_SHARE of the base."""
    folder = ensure_restricted_dir(restricted_dir)
    if (changed is not None and loaded is not None and loaded.base_id and isinstance(state.records, pl.DataFrame)
            and state_path(folder).exists()):
        delta = _merge_delta(loaded.delta, changed)
        if delta.height <= DELTA_SHARE * loaded.base_records:
            buf = io.BytesIO()
            delta.write_parquet(buf, compression="zstd", compression_level=1, statistics=False)
            extra = {"base": loaded.base_id, "delta_records": delta.height}
            return _write_sealed(folder, io.BytesIO(buf.getbuffer()), buf.getbuffer().nbytes, state.records.height,
                                 state, key, path=delta_path(folder), extra=extra)
    path = _save_whole(folder, state, key)
    delta_path(folder).unlink(missing_ok=True)  # after the new base: a delta of the old one is ignored anyway
    return path


def _merge_delta(old: pl.DataFrame | None, changed: pl.DataFrame) -> pl.DataFrame:
    """The records of ``old`` and ``changed``, one per key: the latest values, in the order each
    record first appeared (so that base + delta lists the records in a whole file's order)."""
    if old is None or old.height == 0:
        return changed.unique(KEY, keep="last", maintain_order=True)
    both = pl.concat([old, changed.select(old.columns)], how="vertical_relaxed").with_row_index("_i")
    first = both.group_by(KEY).agg(pl.col("_i").min().alias("_first"))
    return (both.unique(KEY, keep="last").join(first, on=KEY).sort("_first").drop("_i", "_first"))


def _apply_delta(base: pl.DataFrame, delta: pl.DataFrame) -> pl.DataFrame:
    """The base's records with the delta's person_tokens (an earlier record's features never change),
    then the delta's new records, in their order."""
    # a join of the keys alone and a new person_token column: the other columns are shared with
    # the base, not copied (a join of the whole base would hold it twice: gigabytes at 10M)
    tokens = delta.select(*KEY, pl.col("person_token").alias("_delta_token"))
    now = base.select(KEY).join(tokens, on=KEY, how="left", maintain_order="left").get_column("_delta_token")
    updated = base.with_columns(person_token=pl.coalesce(now, pl.col("person_token")))
    new = delta.join(base.select(KEY), on=KEY, how="anti", maintain_order="left")
    return pl.concat([updated, new.select(updated.columns)], how="vertical_relaxed")


def _save_whole(folder: Path, state: LinkageState, key: PseudonymKey) -> Path:
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
            return _write_sealed(folder, body, size, n_records, state, key,
                                 extra={"file_id": os.urandom(12).hex()})
    finally:
        if plain is not None:
            plain.unlink(missing_ok=True)


def _write_sealed(folder: Path, body, size: int, n_records: int, state: LinkageState, key: PseudonymKey, *,
                  path: Path | None = None, extra: dict[str, Any] | None = None) -> Path:
    chunks = max(1, -(-size // CHUNK))
    header = json.dumps(
        {"format": FORMAT, "key_version": key.version, "vault_digest": state.vault_digest, "model": state.model,
         "records": n_records, "chunks": chunks, **(extra or {})},
        sort_keys=True, separators=(",", ":"),
    ).encode()  # fmt: skip
    aes = AESGCM(_key(key))
    path = path or state_path(folder)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # one buffer for the plain chunk and one for the sealed one, reused (why: see _decrypt)
    plain = bytearray(max(1, min(CHUNK, size)))
    sealed = bytearray(len(plain) + TAG_BYTES)
    with owner_only_umask():
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(MAGIC + struct.pack(">I", len(header)) + header)
            for i in range(chunks):
                nonce = os.urandom(NONCE_BYTES)
                n = body.readinto(plain)
                out = memoryview(sealed)[:n + TAG_BYTES]
                aes.encrypt_into(nonce, memoryview(plain)[:n], _aad(header, i), out)
                fh.write(struct.pack(">Q", len(out)) + nonce)
                fh.write(out)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def read_header(restricted_dir: str | Path) -> dict[str, Any] | None:
    """The clear header (model, digest, counts) without decrypting the records; None if no file.
    With a delta of the base, the delta's (the state as of the last night: its records are the
    total after the delta; ``delta_records`` and ``base`` say it is one)."""
    try:
        with open(state_path(restricted_dir), "rb") as fh:
            base = _header(fh)[0]
    except FileNotFoundError:
        return None
    delta = _delta_header(restricted_dir, base)
    return delta if delta is not None else base


def _delta_header(restricted_dir: str | Path, base: dict[str, Any]) -> dict[str, Any] | None:
    """The delta's header when there is a delta of this very base, else None."""
    try:
        with open(delta_path(restricted_dir), "rb") as fh:
            header = _header(fh)[0]
    except (FileNotFoundError, LinkageStateError):
        return None
    if not base.get("file_id") or header.get("base") != base["file_id"]:
        return None
    return header


def _header(fh) -> tuple[dict[str, Any], bytes]:
    if fh.read(len(MAGIC)) != MAGIC:
        raise LinkageStateError("not a linkage state file")
    (n,) = struct.unpack(">I", fh.read(4))
    raw = fh.read(n)
    try:
        return json.loads(raw), raw
    except ValueError:
        raise LinkageStateError("linkage state header is damaged") from None


def _open_records(path: Path, key: PseudonymKey) -> tuple[dict[str, Any], pl.DataFrame]:
    """Decrypt and read a sealed file (a base or a delta); LinkageStateError if it fails
    authentication, is truncated or its count does not match its header."""
    with open(path, "rb") as fh:
        header, raw = _header(fh)
        plain = _decrypt(fh, raw, int(header["chunks"]), AESGCM(_key(key)))
    records = pl.read_parquet(plain)
    del plain
    if records.height != header.get("delta_records", header.get("records")):
        raise LinkageStateError("linkage state record count does not match its header")
    return header, records


def _decrypt(fh, raw: bytes, chunks: int, aes: AESGCM) -> bytes:
    """The plain Parquet of the chunks that follow the header, as one bytes object. Each chunk is
    read into one reused buffer and decrypted in place into one buffer of the whole size (a
    BytesIO's, which getvalue() then hands over without a copy). Why: chunk by chunk, a fresh
    buffer for each read and each decryption, then their join, touched three times the file's size
    of new memory: at ten million records (1 GB) 9 s of a night whose page cache held the exports
    (minor page faults, ~2.2 million; session 18), 3.5 s now, Parquet reading included."""
    plain_size = os.fstat(fh.fileno()).st_size - fh.tell() - chunks * (8 + NONCE_BYTES + TAG_BYTES)
    if chunks < 1 or plain_size < 1:
        raise LinkageStateError("linkage state is truncated")
    out = io.BytesIO()
    out.seek(plain_size - 1)
    out.write(b"\0")
    view, sealed, pos = out.getbuffer(), bytearray(min(CHUNK, plain_size) + TAG_BYTES), 0
    try:
        for i in range(chunks):
            head = fh.read(8 + NONCE_BYTES)
            (n,) = struct.unpack(">Q", head[:8]) if len(head) == 8 + NONCE_BYTES else (-1,)
            if n < TAG_BYTES or pos + n - TAG_BYTES > plain_size:
                raise LinkageStateError("linkage state is truncated or altered")
            if n > len(sealed):  # sealed with larger chunks than this version writes
                sealed = bytearray(n)
            part = memoryview(sealed)[:n]
            if fh.readinto(part) != n:
                raise LinkageStateError("linkage state is truncated")
            aes.decrypt_into(head[8:], part, _aad(raw, i), view[pos:pos + n - TAG_BYTES])
            pos += n - TAG_BYTES
    except InvalidTag:
        raise LinkageStateError("linkage state failed authentication (altered, or another key)") from None
    finally:
        view.release()
    if pos != plain_size:
        raise LinkageStateError("linkage state has trailing bytes")
    return out.getvalue()


def load_state(restricted_dir: str | Path, key: PseudonymKey, digest: str) -> LinkageState | None:
    """The state if it exists, was sealed under this key version and describes the vault whose
    digest is ``digest``; else None (the caller links in full). A file that fails authentication
    raises LinkageStateError."""
    path = state_path(restricted_dir)
    if not path.exists():
        return None
    with open(path, "rb") as fh:
        base = _header(fh)[0]
    delta = _delta_header(restricted_dir, base)
    if delta is None:
        delta_path(restricted_dir).unlink(missing_ok=True)  # none, or of another base: not used
    latest = delta if delta is not None else base
    if (latest.get("format") != FORMAT or base.get("format") != FORMAT or latest.get("key_version") != key.version
            or base.get("key_version") != key.version or latest.get("vault_digest") != digest):
        return None
    _, records = _open_records(path, key)
    base_records = records.height
    changes = None
    if delta is not None:
        _, changes = _open_records(delta_path(restricted_dir), key)
        records = _apply_delta(records, changes)
        if records.height != delta.get("records"):
            raise LinkageStateError("linkage state and its delta do not add up to the delta's record count")
    return LinkageState(model=latest["model"], records=records, vault_digest=digest, base_id=base.get("file_id"),
                        base_records=base_records, delta=changes)


def discard_state(restricted_dir: str | Path) -> None:
    delta_path(restricted_dir).unlink(missing_ok=True)
    state_path(restricted_dir).unlink(missing_ok=True)


__all__ = ["DELTA_SHARE", "ROW_DIGEST", "LinkageState", "LinkageStateError", "delta_path", "discard_state", "load_state",
           "read_header", "save_state", "state_path", "vault_digest"]
