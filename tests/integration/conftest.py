"""Generic helpers for integration tests that start long-running services as subprocesses.

- `free_port()` / the `free_port` fixture: a TCP port on 127.0.0.1 nobody listens on right now.
- `ServiceGroup`: starts commands in their own process group with stdout/stderr captured to a log
  file, and stops them (SIGTERM to the whole group, then SIGKILL) — children such as code servers
  and run workers included. Used through the `services` fixture (function scope) or directly
  from a module-scoped fixture (`with ServiceGroup(log_dir) as group:`).
- `wait_for(predicate, timeout, what)`: a bounded poll loop with a readable timeout error.
- Every test's outcome is stashed on its item (`item.rep_setup`, `item.rep_call`), so fixtures can
  print the services' log tails when the test failed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


def outcome_failed(node) -> bool:
    """Whether the setup or call phase of this test item failed (for log dumps in finalizers)."""
    return any(getattr(getattr(node, f"rep_{w}", None), "failed", False) for w in ("setup", "call"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(name="free_port")
def free_port_fixture() -> int:
    return free_port()


def wait_for(predicate: Callable[[], Any], *, timeout: float, what: str, interval: float = 1.0,
             on_timeout: Callable[[], str] | None = None) -> Any:
    """Poll `predicate` until it returns something truthy (returned) or `timeout` seconds pass.
    Connection errors count as "not yet"; any other exception (an assertion) ends the wait."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except (OSError, ValueError) as e:  # a service still starting (refused, reset, half a reply)
            last_error = e
        if time.monotonic() >= deadline:
            extra = on_timeout() if on_timeout else ""
            raise TimeoutError(
                f"timed out after {timeout:.0f} s waiting for {what}"
                + (f" (last error: {type(last_error).__name__}: {last_error})" if last_error else "")
                + (f"\n{extra}" if extra else "")
            )
        time.sleep(interval)


@dataclass
class Service:
    name: str
    proc: subprocess.Popen
    log_path: Path

    def tail(self, lines: int = 80) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def alive(self) -> bool:
        return self.proc.poll() is None


class ServiceGroup:
    """Subprocesses started in their own sessions; `stop()` ends every process group it started."""

    def __init__(self, log_dir: Path):
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.services: list[Service] = []

    def start(self, name: str, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
              cwd: str | Path | None = None) -> Service:
        log_path = self.log_dir / f"{name}.log"
        log = open(log_path, "ab")  # noqa: SIM115 - the child keeps writing to it
        try:
            proc = subprocess.Popen(
                list(argv), cwd=cwd, env=dict(env) if env is not None else None,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: stop() reaches its children too
            )
        finally:
            log.close()
        svc = Service(name, proc, log_path)
        self.services.append(svc)
        return svc

    def check_alive(self) -> None:
        dead = [s for s in self.services if not s.alive()]
        if dead:
            raise AssertionError("; ".join(f"{s.name} exited with code {s.proc.returncode}" for s in dead)
                                 + "\n" + self.tails())

    def tails(self, lines: int = 80) -> str:
        return "\n".join(f"----- {s.name} ({s.log_path}), last {lines} lines -----\n{s.tail(lines)}"
                         for s in self.services)

    def stop(self, grace: float = 20.0) -> None:
        for s in self.services:
            _signal_group(s.proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for s in self.services:
            try:
                s.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for s in self.services:  # whatever is left of each group (children ignore SIGTERM sometimes)
            _signal_group(s.proc, signal.SIGKILL)
            try:
                s.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def __enter__(self) -> ServiceGroup:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the group id is the leader's pid (start_new_session)
    except (ProcessLookupError, PermissionError):
        pass


@pytest.fixture
def services(request, tmp_path):
    """A ServiceGroup logging into this test's tmp dir; stopped after the test, tails printed on failure."""
    group = ServiceGroup(tmp_path / "service_logs")
    yield group
    try:
        if outcome_failed(request.node):
            print(group.tails())
    finally:
        group.stop()
