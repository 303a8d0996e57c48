"""Named pause points, for crash tests: a test sets CT_WAREHOUSE_PAUSE_AT to a point name (or a
comma-separated list) and CT_WAREHOUSE_PAUSE_FILE to a path; when the load reaches that point it
writes the point name to the file and sleeps, so that the test can SIGKILL it exactly there.
Without the variables a pause point costs one dictionary look-up."""

from __future__ import annotations

import os
import time
from pathlib import Path

ENV_AT = "CT_WAREHOUSE_PAUSE_AT"
ENV_FILE = "CT_WAREHOUSE_PAUSE_FILE"


def pause_point(name: str) -> None:
    wanted = os.environ.get(ENV_AT)
    if not wanted or name not in wanted.split(","):
        return
    marker = os.environ.get(ENV_FILE)
    if marker:
        tmp = Path(marker).with_suffix(".tmp")
        tmp.write_text(name)
        os.replace(tmp, marker)
    time.sleep(float(os.environ.get("CT_WAREHOUSE_PAUSE_SECONDS", "120")))
