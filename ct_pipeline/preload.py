"""The checks' libraries imported in a background thread while the ingest works.

The checks that follow an ingest with new rows import pandera (~1.5 s here) and Great Expectations
(~8 s of CPU: it pulls in pandas, scipy.stats, altair, sqlalchemy). A nightly process would wait
that long at its first check; `start()`, called by the ingest once it has rows, imports them
beside the ingest's own work (DuckDB and polars release the GIL most of the time). An import
made meanwhile by another thread waits for the module's import lock, as Python does; the GE
runner also waits for the whole thread (`wait()`) before importing GE itself.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

_THREAD: threading.Thread | None = None


def start() -> None:
    """Start the imports, once per process; nothing when Great Expectations is imported already.
    Not a daemon thread: a process that ends meanwhile waits for the imports to finish rather than
    stopping a thread in the middle of initialising C extensions."""
    global _THREAD
    if _THREAD is None and "great_expectations" not in sys.modules:
        _THREAD = threading.Thread(target=_import_all, name="ct-preload", daemon=False)
        _THREAD.start()


def wait() -> None:
    """Wait until the background imports are done (at once when none were started)."""
    thread = _THREAD
    if thread is not None and thread is not threading.current_thread():
        thread.join()


def _import_all() -> None:
    # the lowest CPU priority for this thread alone (Linux: a thread is a task of its own), so the
    # imports take only the CPU the ingest leaves; at normal priority they slowed a night's ingest
    # as much as they saved later (bench/HISTORY.md, session 7). numpy first, at normal priority:
    # the threads of its BLAS start with it and would inherit the priority.
    try:
        import numpy  # noqa: F401

        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (ImportError, AttributeError, OSError):
        pass
    try:
        import ct_pipeline.metadata.schemas  # noqa: F401  (pandera, for the schema checks)
        from ct_pipeline.expectations.runner import _gx

        _gx()
    except Exception as exc:  # the checks import them again and report the error themselves
        log.warning("preload: a background import failed: %s", type(exc).__name__)


__all__ = ["start", "wait"]
