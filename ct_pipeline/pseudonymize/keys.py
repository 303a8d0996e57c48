"""The pseudonymisation key: 256 bits, versioned, from CT_PSEUDONYM_KEY or a key file outside the repo.

Key text (file or environment): ``<version>:<64 hex digits>``, e.g. ``v1:9f3c…``; a bare 64-hex-digit
key is read as version ``v1``. Versions are short labels (letters, digits, ``.``, ``_``, ``-``);
``demo…`` versions mark throw-away demo keys, so demo tokens are recognisable in every table.

- `init_key(path)` writes a new key file, mode 0600, in a folder created 0700. It refuses a path inside
  a git checkout (the key must never be committed) unless ``force=True``, and never overwrites an
  existing key unless ``overwrite=True`` (a lost key is the loss of every link to past tokens).
- `load_key(key_file)` reads ``CT_PSEUDONYM_KEY`` first, then the key file (default
  `settings.key_file`); a missing key raises `MissingKeyError`, a key file readable by group or others
  `KeyFileError` (as ssh does). Messages name paths, never key material.
- `demo_key(path)` makes (or re-uses) a throw-away demo key; the caller must say it does so
  (`DEMO_KEY_NOTICE`).
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "CT_PSEUDONYM_KEY"
DEMO_VERSION = "demo"
DEMO_KEY_NOTICE = (
    "Using a THROW-AWAY DEMO pseudonymisation key (key_version 'demo'): tokens are not stable beyond "
    "this demo warehouse and must not be used for real data. Create a real key with "
    "`ct-pipeline key init` or set CT_PSEUDONYM_KEY."
)
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


class MissingKeyError(RuntimeError):
    """No pseudonymisation key: the pipeline refuses to run."""


class KeyFileError(RuntimeError):
    """A key exists but is malformed, unsafe (file mode) or in the wrong place."""


@dataclass(frozen=True)
class PseudonymKey:
    secret: bytes
    version: str

    def __post_init__(self):
        if len(self.secret) != 32:
            raise KeyFileError("the pseudonymisation key must be 256 bits (32 bytes)")
        if not _VERSION.match(self.version):
            raise KeyFileError(
                "key version must be 1-32 letters, digits, '.', '_' or '-' (starting with a letter or digit)"
            )

    @property
    def is_demo(self) -> bool:
        return self.version.startswith(DEMO_VERSION)

    def to_text(self) -> str:
        """The key file content. Handle as a secret."""
        return f"{self.version}:{self.secret.hex()}\n"

    def __repr__(self) -> str:  # never print the secret
        return f"PseudonymKey(version={self.version!r})"

    __str__ = __repr__


def generate_key(version: str = "v1") -> PseudonymKey:
    return PseudonymKey(secrets.token_bytes(32), version)


def next_version(version: str) -> str:
    """v1 -> v2, k2026-01 -> k2026-02, demo -> demo-2."""
    m = re.match(r"^(.*?)(\d+)$", version)
    if m:
        return f"{m.group(1)}{int(m.group(2)) + 1}"
    return f"{version}-2"


def parse_key_text(text: str, *, source: str = "key") -> PseudonymKey:
    """Parse ``version:hex`` (or bare hex = v1). Errors never echo the text."""
    text = text.strip()
    version, _, hexkey = text.rpartition(":")
    if not _HEX64.match(hexkey):
        raise KeyFileError(
            f"{source}: expected '<version>:<64 hexadecimal digits>' (a 256-bit key); the value does not match"
        )
    return PseudonymKey(bytes.fromhex(hexkey), version or "v1")


def _inside_git_checkout(path: Path) -> Path | None:
    from ct_pipeline.settings import project_root

    path = path.resolve()
    candidates = [project_root().resolve()] if (project_root() / ".git").exists() else []
    candidates += [p for p in path.parents if (p / ".git").exists()]
    for root in candidates:
        if path == root or root in path.parents:
            return root
    return None


def _write_secret_file(path: Path, text: str, *, overwrite: bool) -> None:
    from ct_pipeline.pseudonymize.restricted import ensure_restricted_dir, write_restricted_file

    if path.exists() and not overwrite:
        raise KeyFileError(
            f"a key file already exists at {path}; refusing to overwrite it (tokens made with it could "
            "no longer be linked). Rotate with `ct-pipeline key rotate` instead."
        )
    ensure_restricted_dir(path.parent)
    write_restricted_file(path, text)


def init_key(
    path: str | Path | None = None,
    *,
    version: str = "v1",
    force: bool = False,
    overwrite: bool = False,
) -> PseudonymKey:
    """Write a new 256-bit key file (mode 0600, folder 0700) and return the key.

    Refuses a path inside a git checkout unless ``force``; refuses to replace an existing key file
    unless ``overwrite``. Default path: `settings.key_file` (CT_KEY_FILE or ~/.config/ct_pipeline/).
    """
    if path is None:
        from ct_pipeline.settings import get_settings

        path = get_settings().key_file
    path = Path(path).expanduser().resolve()
    repo = _inside_git_checkout(path)
    if repo is not None and not force:
        raise KeyFileError(
            f"refusing to write the pseudonymisation key inside the git checkout {repo}: keep it outside "
            "the repository (default ~/.config/ct_pipeline/pseudonym.key, or CT_KEY_FILE)"
        )
    key = generate_key(version)
    _write_secret_file(path, key.to_text(), overwrite=overwrite)
    return key


def write_key_file(path: str | Path, key: PseudonymKey, *, overwrite: bool = False) -> Path:
    """Write an existing key to a file (0600), e.g. the new key of a rotation."""
    path = Path(path).expanduser().resolve()
    _write_secret_file(path, key.to_text(), overwrite=overwrite)
    return path


def read_key_file(path: str | Path) -> PseudonymKey:
    path = Path(path).expanduser()
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(
            f"key file {path} is accessible by group or others (mode {mode:04o}); run `chmod 600 {path}`"
        )
    return parse_key_text(path.read_text(encoding="ascii", errors="replace"), source=f"key file {path}")


def load_key(key_file: str | Path | None = None) -> PseudonymKey:
    """The key from CT_PSEUDONYM_KEY, else from the key file (default `settings.key_file`).

    Raises MissingKeyError when there is neither: the pipeline does not run without a key.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        return parse_key_text(env, source=ENV_VAR)
    if key_file is None:
        from ct_pipeline.settings import get_settings

        key_file = get_settings().key_file
    key_file = Path(key_file).expanduser()
    if key_file.is_file():
        return read_key_file(key_file)
    raise MissingKeyError(
        f"No pseudonymisation key: set {ENV_VAR} or create a key file with `ct-pipeline key init` "
        f"(expected at {key_file}). The pipeline does not run without one; `make demo` uses a "
        "throw-away demo key."
    )


def demo_key(path: str | Path | None = None) -> PseudonymKey:
    """A throw-away demo key (version 'demo'). The caller must print `DEMO_KEY_NOTICE`.

    With ``path``, the demo key is kept there (0600) and re-used by later demo runs, so re-running the
    demo is idempotent; an existing file that is not a demo key is never touched.
    """
    if path is None:
        return generate_key(DEMO_VERSION)
    path = Path(path).expanduser().resolve()
    if path.exists():
        key = read_key_file(path)
        if not key.is_demo:
            raise KeyFileError(f"{path} holds a real key, not a demo key; refusing to use it as one")
        return key
    key = generate_key(DEMO_VERSION)
    _write_secret_file(path, key.to_text(), overwrite=False)
    return key
