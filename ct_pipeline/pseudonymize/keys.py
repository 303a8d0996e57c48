"""The pseudonymisation key: 256 bits, versioned, from CT_PSEUDONYM_KEY or a key file outside the repo."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class MissingKeyError(RuntimeError):
    pass


@dataclass(frozen=True)
class PseudonymKey:
    secret: bytes
    version: str

    def __post_init__(self):
        if len(self.secret) != 32:
            raise ValueError("the pseudonymisation key must be 256 bits (32 bytes)")

    def __repr__(self) -> str:  # never print the secret
        return f"PseudonymKey(version={self.version!r})"


def parse_key_text(text: str) -> PseudonymKey:
    """Key file / env format: `<version>:<64 hex chars>` (or just the hex, version v1)."""
    text = text.strip()
    version, _, hexkey = text.rpartition(":")
    return PseudonymKey(bytes.fromhex(hexkey), version or "v1")


def load_key(key_file: Path | None = None) -> PseudonymKey:
    env = os.environ.get("CT_PSEUDONYM_KEY")
    if env:
        return parse_key_text(env)
    if key_file is not None and Path(key_file).exists():
        return parse_key_text(Path(key_file).read_text())
    raise MissingKeyError(
        "No pseudonymisation key: set CT_PSEUDONYM_KEY or create a key file with "
        f"`ct-pipeline key init` (expected at {key_file}). The pipeline does not run without one."
    )
