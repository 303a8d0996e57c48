"""Where things live. Every path can be moved elsewhere (a restricted share, another disk)
through the environment or the matching command-line option; nothing else decides paths.

CT_RAW_EXPORTS_DIR  the drop folder of mission exports      (default: <project>/raw_exports)
CT_WAREHOUSE_DIR    outputs: ct.duckdb, parquet, reports    (default: <project>/warehouse)
CT_KEY_FILE         the pseudonymisation key file           (default: ~/.config/ct_pipeline/pseudonym.key)
CT_PSEUDONYM_KEY    the key itself, hex (takes precedence over the key file)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def project_root() -> Path:
    """The checkout this package lives in (editable install), else the working directory."""
    here = Path(__file__).resolve().parent.parent
    if (here / "pyproject.toml").exists():
        return here
    return Path.cwd()


@dataclass(frozen=True)
class Settings:
    raw_exports_dir: Path
    warehouse_dir: Path
    key_file: Path

    @property
    def restricted_dir(self) -> Path:
        """Restricted zone inside the warehouse folder: raw rows, quarantine, vault, build files."""
        return self.warehouse_dir / "restricted"

    @property
    def analyst_db(self) -> Path:
        return self.warehouse_dir / "ct.duckdb"

    @property
    def parquet_dir(self) -> Path:
        return self.warehouse_dir / "parquet"

    @property
    def reports_dir(self) -> Path:
        return self.warehouse_dir / "reports"


def get_settings(
    raw_exports_dir: str | Path | None = None,
    warehouse_dir: str | Path | None = None,
    key_file: str | Path | None = None,
) -> Settings:
    """Explicit arguments win, then the environment, then the defaults."""
    root = project_root()

    def pick(arg, env, default) -> Path:
        value = arg or os.environ.get(env) or default
        return Path(value).expanduser().resolve()

    return Settings(
        raw_exports_dir=pick(raw_exports_dir, "CT_RAW_EXPORTS_DIR", root / "raw_exports"),
        warehouse_dir=pick(warehouse_dir, "CT_WAREHOUSE_DIR", root / "warehouse"),
        key_file=pick(key_file, "CT_KEY_FILE", Path.home() / ".config" / "ct_pipeline" / "pseudonym.key"),
    )


@contextmanager
def temporary_env(**values: str | None) -> Iterator[None]:
    """Set (or, with None, unset) environment variables for a block, then put them back."""
    old = {k: os.environ.get(k) for k in values}
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
