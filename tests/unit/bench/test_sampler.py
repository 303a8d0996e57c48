"""The bench's RSS sampler: a stage run in a process of its own is measured by that process tree
alone, not with the bench's own memory."""

from __future__ import annotations

import subprocess
import sys
import time

from ct_pipeline.bench.suite import _Sampler


def test_follow_measures_the_child_tree_without_this_process():
    mine = bytearray(400 << 20)  # this process: 400 MB more, touched
    mine[::4096] = b"x" * len(mine[::4096])
    child = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\nb = bytearray(120 << 20)\nb[::4096] = b'y' * len(b[::4096])\n"
        "print('ready', flush=True)\ntime.sleep(30)")], stdout=subprocess.PIPE, text=True)
    sampler = _Sampler(interval=0.01).start()
    try:
        assert child.stdout.readline().strip() == "ready"
        sampler.window()
        assert sampler.peak > 400 + 120  # this process and its child
        sampler.follow(child.pid)
        time.sleep(0.2)
        assert 120 <= sampler.peak < 300, sampler.peak  # the child alone
        assert 120 <= sampler.sample() < 300
        child.kill()
        child.wait()
        assert sampler.sample() == 0  # an ended process holds nothing
        sampler.follow(None)
        assert sampler.peak > 400
    finally:
        sampler.stop()
        if child.poll() is None:
            child.kill()
    del mine
