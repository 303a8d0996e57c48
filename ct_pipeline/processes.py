"""Whether a process still runs: temporary files named after their writer's pid are removed by the
next run only when that writer is gone (a killed publish, a killed generation)."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


__all__ = ["pid_alive"]
