"""Suite-wide fixtures."""

from __future__ import annotations

import os
import tempfile

import pytest
from hypothesis import settings

# Hypothesis's per-example deadline (200 ms) measures the machine, not the code: on a shared
# 2-core machine a loaded moment failed property tests that pass in milliseconds (seen with a
# 410 ms example). The properties are what these tests are for; their time is the suite's.
settings.register_profile("ct_pipeline", deadline=None)
settings.load_profile("ct_pipeline")

_PROCESS_ENV = ("TMPDIR", "POLARS_TEMP_DIR")


@pytest.fixture(autouse=True)
def _restore_process_hardening():
    """The pipeline hardens its process (umask 077, temp files inside the restricted zone). Tests
    run it in-process: undo that afterwards, so a later test in the same worker (a browser whose
    socket path must stay short, say) starts from the ordinary environment."""
    env = {k: os.environ.get(k) for k in _PROCESS_ENV}
    tmp = tempfile.tempdir
    umask = os.umask(0o022)
    os.umask(umask)
    yield
    for k, v in env.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    tempfile.tempdir = tmp
    os.umask(umask)


@pytest.fixture(autouse=True)
def _no_background_import_running():
    """An ingest starts a background import of Great Expectations (ct_pipeline.preload); the
    library waits for it before importing GE itself, a test that imports GE directly must too:
    two threads importing GE's circular modules at once see a partly initialised module (an
    ImportError seen when test_docs ran after test_ingest_step in one worker). Instant when no
    import is running."""
    from ct_pipeline import preload

    preload.wait()
    yield
