"""Key management: key files 0600 outside the repo, env precedence, refusal without a key."""

from __future__ import annotations

import os
import stat

import pytest

from ct_pipeline.pseudonymize import keys as K
from ct_pipeline.settings import project_root


def mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_init_key_writes_owner_only_file(tmp_path):
    path = tmp_path / "cfg" / "ct" / "pseudonym.key"
    key = K.init_key(path)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700
    assert len(key.secret) == 32 and key.version == "v1"
    assert path.read_text().strip() == f"v1:{key.secret.hex()}"
    assert K.load_key(path) == key
    assert key.secret.hex() not in repr(key) and key.secret.hex() not in str(key)


def test_init_key_refuses_to_overwrite(tmp_path):
    path = tmp_path / "k.key"
    first = K.init_key(path)
    with pytest.raises(K.KeyFileError, match="already exists"):
        K.init_key(path)
    assert K.load_key(path) == first
    assert K.init_key(path, overwrite=True) != first


def test_init_key_refuses_the_git_checkout(tmp_path):
    root = project_root()
    if not (root / ".git").exists():
        pytest.skip("not running from a git checkout")
    target = root / "warehouse" / "restricted" / "test-should-not-exist.key"
    with pytest.raises(K.KeyFileError, match="git checkout"):
        K.init_key(target)
    assert not target.exists()
    # any other git repository too
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    with pytest.raises(K.KeyFileError, match="git checkout"):
        K.init_key(tmp_path / "repo" / "sub" / "k.key")
    K.init_key(tmp_path / "repo" / "sub" / "k.key", force=True)


def test_missing_key_refuses_clearly(tmp_path):
    with pytest.raises(K.MissingKeyError, match="CT_PSEUDONYM_KEY") as e:
        K.load_key(tmp_path / "nope.key")
    assert "key init" in str(e.value)


def test_env_key_takes_precedence(tmp_path, monkeypatch):
    file_key = K.init_key(tmp_path / "k.key")
    env_key = K.generate_key("k7")
    monkeypatch.setenv("CT_PSEUDONYM_KEY", env_key.to_text())
    assert K.load_key(tmp_path / "k.key") == env_key != file_key
    monkeypatch.setenv("CT_PSEUDONYM_KEY", env_key.secret.hex())
    assert K.load_key().version == "v1"


def test_malformed_key_message_does_not_echo_it(monkeypatch):
    secretish = "v1:" + "ab" * 31 + "zz"
    monkeypatch.setenv("CT_PSEUDONYM_KEY", secretish)
    with pytest.raises(K.KeyFileError) as e:
        K.load_key()
    assert "ab" * 31 not in str(e.value)
    monkeypatch.setenv("CT_PSEUDONYM_KEY", "v1:" + "ab" * 16)  # 128 bits: too short
    with pytest.raises(K.KeyFileError, match="256-bit"):
        K.load_key()


def test_key_file_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "k.key"
    K.init_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(K.KeyFileError, match="chmod 600"):
        K.load_key(path)


def test_demo_key_is_marked_and_reused(tmp_path):
    assert K.demo_key().is_demo and K.demo_key().secret != K.demo_key().secret
    path = tmp_path / "restricted" / "demo.key"
    first = K.demo_key(path)
    assert first.version == "demo" and mode(path) == 0o600
    assert K.demo_key(path) == first
    real = tmp_path / "real.key"
    K.init_key(real)
    with pytest.raises(K.KeyFileError, match="real key"):
        K.demo_key(real)
    assert "DEMO" in K.DEMO_KEY_NOTICE


def test_versions():
    assert K.next_version("v1") == "v2"
    assert K.next_version("k2026-09") == "k2026-10"
    assert K.next_version("demo") == "demo-2"
    with pytest.raises(K.KeyFileError):
        K.PseudonymKey(bytes(32), "bad version!")
