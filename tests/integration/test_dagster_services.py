"""The real Dagster services on localhost: `dagster-webserver` and `dagster-daemon run` over
assets.definitions, with their own DAGSTER_HOME (the repo's dagster.yaml: queued run coordinator,
one run at a time, default run launcher), their own exports and warehouse folders, and a throw-away
pseudonymisation key. Everything goes through Dagster's GraphQL API, as an operator's tooling would:

1. the schedule `nightly_0200` and the sensor `new_exports` are registered (the sensor running);
2. a run of `nightly` launched with the `launchRun` mutation succeeds and publishes ct.duckdb;
3. a new export file dropped into the exports folder is picked up by the sensor, loaded, and the
   published warehouse shows it.

No mocks. The services' logs are kept in the test's tmp dir (…/dagster_services*/logs/) and their
tails printed when a test fails; the services are stopped (whole process groups) at the end.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.integration.conftest import ServiceGroup, free_port, outcome_failed, wait_for

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CASES, SEED = 400, 5
SERVER_START_TIMEOUT = 180
RUN_TIMEOUT = 420          # per run, queueing and running each; one takes 1-2.5 min here
SENSOR_PICKUP_TIMEOUT = 180
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}
ACTIVE = {"QUEUED", "NOT_STARTED", "MANAGED", "STARTING", "STARTED", "CANCELING"}


def _bin(name: str) -> str:
    exe = BIN / name
    found = str(exe) if exe.exists() else shutil.which(name)
    assert found, f"{name} not found next to {sys.executable} nor on PATH"
    return found


# --------------------------------------------------------------------------------------------
# GraphQL
# --------------------------------------------------------------------------------------------

class GraphQL:
    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"

    def __call__(self, query: str, variables: dict | None = None, timeout: float = 60) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        req = urllib.request.Request(f"{self.base}/graphql", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            doc = json.loads(resp.read())
        if doc.get("errors"):
            raise AssertionError(f"GraphQL errors: {json.dumps(doc['errors'])[:2000]}")
        return doc["data"]

    def up(self) -> bool:
        with urllib.request.urlopen(f"{self.base}/server_info", timeout=5) as resp:
            return resp.status == 200


REPOSITORIES = """
query { repositoriesOrError { __typename
  ... on RepositoryConnection { nodes { name location { name } jobs { name } } }
  ... on PythonError { message } } }
"""

WORKSPACE = """
query { workspaceOrError { __typename
  ... on Workspace { locationEntries { name loadStatus
      locationOrLoadError { __typename ... on PythonError { message stack } } } } } }
"""

SCHEDULES = """
query ($sel: RepositorySelector!) { schedulesOrError(repositorySelector: $sel) { __typename
  ... on Schedules { results { name cronSchedule executionTimezone pipelineName
                               scheduleState { status } } }
  ... on PythonError { message } } }
"""

SENSORS = """
query ($sel: RepositorySelector!) { sensorsOrError(repositorySelector: $sel) { __typename
  ... on Sensors { results { name minIntervalSeconds targets { pipelineName }
                             sensorState { status ticks(limit: 5) { status timestamp runIds skipReason
                                                                    error { message } } } } }
  ... on PythonError { message } } }
"""

DAEMONS = """
query { instance { daemonHealth { allDaemonStatuses { daemonType required healthy
    lastHeartbeatErrors { message } } } } }
"""

LAUNCH_RUN = """
mutation ($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename
  ... on LaunchRunSuccess { run { runId status } }
  ... on RunConfigValidationInvalid { errors { message reason } }
  ... on PythonError { message stack }
  ... on Error { message } } }
"""

RUN = """
query ($runId: ID!) { runOrError(runId: $runId) { __typename
  ... on Run { runId status jobName startTime endTime tags { key value } }
  ... on RunNotFoundError { message }
  ... on PythonError { message } } }
"""

RUNS = """
query ($filter: RunsFilter) { runsOrError(filter: $filter, limit: 100) { __typename
  ... on Runs { results { runId status jobName creationTime tags { key value } } }
  ... on PythonError { message } } }
"""

RUN_EVENTS = """
query ($runId: ID!) { logsForRun(runId: $runId, limit: 10000) { __typename
  ... on EventConnection { events { __typename
    ... on ExecutionStepFailureEvent { stepKey message error { className message stack } }
    ... on RunFailureEvent { message error { className message stack } }
    ... on EngineEvent { stepKey message error { className message stack } }
    ... on AssetCheckEvaluationEvent { stepKey evaluation { checkName success description
                                                            assetKey { path } } } } } } }
"""


def _tags(run: dict) -> dict[str, str]:
    return {t["key"]: t["value"] for t in run.get("tags", [])}


def _run(gql: GraphQL, run_id: str) -> dict:
    res = gql(RUN, {"runId": run_id})["runOrError"]
    assert res["__typename"] == "Run", res
    return res


def _runs(gql: GraphQL, **filter_) -> list[dict]:
    res = gql(RUNS, {"filter": filter_})["runsOrError"]
    assert res["__typename"] == "Runs", res
    return res["results"]


def _why_it_failed(gql: GraphQL, run_id: str) -> str:
    """Failed steps (exception, stack tail) and failed checks of a run, for the assertion message."""
    try:
        res = gql(RUN_EVENTS, {"runId": run_id})["logsForRun"]
    except Exception as e:  # noqa: BLE001
        return f"(could not read the run's events: {e})"
    lines = []
    for ev in res.get("events", []):
        kind = ev["__typename"]
        if kind == "AssetCheckEvaluationEvent" and not ev["evaluation"]["success"]:
            e = ev["evaluation"]
            lines.append(f"check {'/'.join(e['assetKey']['path'])}:{e['checkName']} failed — {e['description']}")
        elif kind in ("ExecutionStepFailureEvent", "RunFailureEvent") or (kind == "EngineEvent" and ev.get("error")):
            err = ev.get("error") or {}
            stack = "".join((err.get("stack") or [])[-6:])
            lines.append(f"{kind} step={ev.get('stepKey')}: {ev['message']}\n  {err.get('className')}: "
                         f"{err.get('message')}\n{stack}")
    return "\n".join(lines) or "(no failure events)"


def _wait_for_run(stack, run_id: str, timeout: float = RUN_TIMEOUT) -> dict:
    """Wait for the run to leave the queue (one run at a time: another may be ahead of it), then for
    it to finish, each within `timeout`; assert it succeeded, with the failed steps and checks."""
    def status() -> str:
        stack.group.check_alive()
        return _run(stack.gql, run_id)["status"]

    wait_for(lambda: status() not in {"QUEUED", "NOT_STARTED"}, timeout=timeout, interval=3,
             what=f"run {run_id} to leave the queue",
             on_timeout=lambda: json.dumps([(r["runId"], r["jobName"], r["status"]) for r in _runs(stack.gql)]))
    wait_for(lambda: status() in TERMINAL, timeout=timeout, interval=3, what=f"run {run_id} to finish",
             on_timeout=lambda: f"status now: {status()}")
    run = _run(stack.gql, run_id)
    assert run["status"] == "SUCCESS", (
        f"run {run_id} ({run['jobName']}, tags {_tags(run)}) ended {run['status']}:\n"
        + _why_it_failed(stack.gql, run_id)
    )
    return run


def _wait_until_idle(stack, timeout: float = 2 * RUN_TIMEOUT) -> None:
    """No run queued or in progress (all of them must have succeeded)."""
    def idle():
        stack.group.check_alive()
        runs = _runs(stack.gql)
        failed = [r for r in runs if r["status"] in ("FAILURE", "CANCELED")]
        assert not failed, "\n".join(f"run {r['runId']} {r['jobName']} {_tags(r)} ended {r['status']}:\n"
                                     + _why_it_failed(stack.gql, r["runId"]) for r in failed)
        return not any(r["status"] in ACTIVE for r in runs)

    wait_for(idle, timeout=timeout, interval=3, what="the run queue to be empty",
             on_timeout=lambda: json.dumps([(r["runId"], r["jobName"], r["status"]) for r in _runs(stack.gql)]))


# --------------------------------------------------------------------------------------------
# the stack
# --------------------------------------------------------------------------------------------

def _base_dirs(config: object):
    if isinstance(config, dict):
        for k, v in config.items():
            if k == "base_dir":
                yield v
            else:
                yield from _base_dirs(v)
    elif isinstance(config, list):
        for v in config:
            yield from _base_dirs(v)


def _storage_dirs(home: Path, cwd: Path, env: dict) -> dict[str, Path]:
    """Where the instance of `home` puts its storage, as the services (cwd, env) would resolve it."""
    from dagster._core.instance.ref import InstanceRef

    ref = InstanceRef.from_dir(str(home))
    out = {}
    for field in ("local_artifact_storage_data", "run_storage_data", "event_storage_data",
                  "compute_logs_data", "schedule_storage_data", "storage_data"):
        data = getattr(ref, field, None)
        if data is None:
            continue
        for i, value in enumerate(_base_dirs(yaml.safe_load(data.config_yaml) or {})):
            if isinstance(value, dict) and "env" in value:
                value = env[value["env"]]
            path = Path(value)
            out[f"{field}[{i}]"] = (path if path.is_absolute() else cwd / path).resolve()
    return out


class Stack:
    def __init__(self, root: Path, env: dict, group: ServiceGroup, gql: GraphQL):
        self.root, self.env, self.group, self.gql = root, env, group, gql
        self.exports = Path(env["CT_RAW_EXPORTS_DIR"])
        self.warehouse = Path(env["CT_WAREHOUSE_DIR"])
        self.home = Path(env["DAGSTER_HOME"])
        self.location = self.repository = None

    @property
    def selector(self) -> dict:
        return {"repositoryLocationName": self.location, "repositoryName": self.repository}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from ct_pipeline.synth import generate

    root = tmp_path_factory.mktemp("dagster_services")
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CT_", "DAGSTER_"))}
    env.update({
        "DAGSTER_HOME": str(home),
        "CT_RAW_EXPORTS_DIR": str(root / "raw_exports"),
        "CT_WAREHOUSE_DIR": str(root / "warehouse"),
        "CT_KEY_FILE": str(root / "no_key_file"),             # the key comes from the environment
        "CT_PSEUDONYM_KEY": "v1:" + secrets.token_hex(32),
        "CT_SENSOR_INTERVAL": "5",
        "CT_CHARTS_PNG": "0",
        "PYTHONUNBUFFERED": "1",
    })
    # every storage of the instance lives inside DAGSTER_HOME, wherever the services start
    dirs = _storage_dirs(home, ROOT, env)
    outside = {k: str(p) for k, p in dirs.items() if home.resolve() not in (p, *p.parents)}
    assert not outside, f"dagster.yaml puts storage outside DAGSTER_HOME ({home}): {outside}"

    generate(root / "raw_exports", cases=CASES, seed=SEED, truth=root / "truth_restricted.csv")

    port = free_port()
    group = ServiceGroup(root / "logs")
    gql = GraphQL(port)
    st = Stack(root, env, group, gql)
    # Create the instance's SQLite storage once, before two services race to create it (a race
    # left two alembic heads in the version table and the code location failed to load).
    subprocess.run([_bin("dagster"), "instance", "migrate"], env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=300)
    try:
        group.start("webserver", [_bin("dagster-webserver"), "-m", "assets.definitions",
                                  "-h", "127.0.0.1", "-p", str(port)], env=env, cwd=ROOT)
        group.start("daemon", [_bin("dagster-daemon"), "run", "-m", "assets.definitions"], env=env, cwd=ROOT)

        def server_up():
            group.check_alive()
            return gql.up()

        wait_for(server_up, timeout=SERVER_START_TIMEOUT, interval=1, what="dagster-webserver to answer",
                 on_timeout=group.tails)

        def repository_loaded():
            group.check_alive()
            res = gql(REPOSITORIES)["repositoriesOrError"]
            for node in res.get("nodes", []):
                if any(j["name"] == "nightly" for j in node["jobs"]):
                    return node
            entries = gql(WORKSPACE)["workspaceOrError"].get("locationEntries", [])
            errors = [e for e in entries if e["locationOrLoadError"]
                      and e["locationOrLoadError"]["__typename"] == "PythonError"]
            assert not errors, f"the code location failed to load: {json.dumps(errors)[:3000]}"
            return None

        node = wait_for(repository_loaded, timeout=SERVER_START_TIMEOUT, interval=1,
                        what="the code location assets.definitions to load", on_timeout=group.tails)
        st.location, st.repository = node["location"]["name"], node["name"]
        yield st
    finally:
        group.stop()


@pytest.fixture(autouse=True)
def _tails_on_failure(request):
    yield
    if outcome_failed(request.node) and "stack" in request.fixturenames:
        st = request.getfixturevalue("stack")
        print(f"\nservice logs in {st.group.log_dir}\n{st.group.tails(120)}")


# --------------------------------------------------------------------------------------------
# the published warehouse (read-only; ct.duckdb is replaced by atomic rename on each publish)
# --------------------------------------------------------------------------------------------

def _published(stack) -> dict:
    con = duckdb.connect(str(stack.warehouse / "ct.duckdb"), read_only=True)
    try:
        counts = {t: con.execute(f"select count(*) from {t}").fetchone()[0]
                  for t in ("fct_cases", "fct_case_versions", "stg_screenings", "stg_assistance",
                            "ingestion_ledger")}
        ledger = {r[0]: {"file_status": r[1], "rows_read": r[2], "rows_staged": r[3]} for r in con.execute(
            "select source_file, file_status, rows_read, rows_staged from ingestion_ledger").fetchall()}
    finally:
        con.close()
    return {"counts": counts, "ledger": ledger}


# --------------------------------------------------------------------------------------------
# the tests (in file order; each waits for what it needs)
# --------------------------------------------------------------------------------------------

def test_schedule_and_sensor_are_registered(stack):
    sel = stack.selector
    schedules = stack.gql(SCHEDULES, {"sel": sel})["schedulesOrError"]
    assert schedules["__typename"] == "Schedules", schedules
    by_name = {s["name"]: s for s in schedules["results"]}
    assert "nightly_0200" in by_name, sorted(by_name)
    nightly = by_name["nightly_0200"]
    assert nightly["cronSchedule"] == "0 2 * * *"
    assert nightly["executionTimezone"] == "UTC"
    assert nightly["pipelineName"] == "nightly"
    assert nightly["scheduleState"]["status"] == "RUNNING"

    sensors = stack.gql(SENSORS, {"sel": sel})["sensorsOrError"]
    assert sensors["__typename"] == "Sensors", sensors
    by_name = {s["name"]: s for s in sensors["results"]}
    assert "new_exports" in by_name, sorted(by_name)
    sensor = by_name["new_exports"]
    assert sensor["sensorState"]["status"] == "RUNNING"
    assert sensor["minIntervalSeconds"] == 5, "CT_SENSOR_INTERVAL did not reach the code server"
    assert [t["pipelineName"] for t in sensor["targets"]] == ["nightly"]

    # the daemon that runs sensors, schedules and the run queue is alive and reporting
    def healthy():
        stack.group.check_alive()
        statuses = stack.gql(DAEMONS)["instance"]["daemonHealth"]["allDaemonStatuses"]
        by_type = {d["daemonType"]: d for d in statuses}
        return all(by_type.get(t, {}).get("healthy") for t in ("SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR"))

    wait_for(healthy, timeout=120, interval=2, what="the daemon's sensor, scheduler and run-queue loops to report healthy",
             on_timeout=lambda: json.dumps(stack.gql(DAEMONS)))


def test_a_run_launched_through_graphql_succeeds(stack):
    params = {
        "selector": {**stack.selector, "jobName": "nightly"},
        "runConfigData": {},
        "executionMetadata": {"tags": [{"key": "ct_test", "value": "launched_via_graphql"}]},
    }
    res = stack.gql(LAUNCH_RUN, {"params": params})["launchRun"]
    assert res["__typename"] == "LaunchRunSuccess", res
    run_id = res["run"]["runId"]

    started = time.monotonic()
    run = _wait_for_run(stack, run_id)
    print(f"nightly run {run_id} succeeded after {time.monotonic() - started:.0f} s (queue wait included)")
    tags = _tags(run)
    assert tags.get("ct_test") == "launched_via_graphql"
    assert tags.get("ct_pipeline/writer") == "build.duckdb"

    db = stack.warehouse / "ct.duckdb"
    assert db.exists(), f"no published warehouse at {db}"
    published = _published(stack)
    assert published["counts"]["fct_cases"] > 0
    assert any(v["file_status"] == "loaded" for v in published["ledger"].values())
    # the instance wrote its runs inside DAGSTER_HOME (not the working directory of the services)
    assert (stack.home / "history" / "runs.db").exists(), sorted(p.name for p in stack.home.iterdir())


def _drop_new_export(stack) -> str:
    """A new export of a mission, from a second synthetic world, under today's received date."""
    from ct_pipeline.synth import generate

    second = stack.root / "second_world"
    generate(second / "exports", cases=60, seed=SEED + 1, truth=second / "truth_restricted.csv")
    candidates = sorted(second.glob("exports/*/*/*.jsonl"), key=lambda p: (p.parent.name, p.parts[-3]))
    assert candidates, "the second synthetic world has no case API export"
    src = candidates[-1]  # the newest received date
    mission = src.parts[-3]
    target_dir = stack.exports / mission / dt.date.today().isoformat()
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / src.name
    assert not target.exists()
    tmp = target_dir / f".{src.name}.part"  # hidden while it is being written: the sensor skips it
    shutil.copyfile(src, tmp)
    os.replace(tmp, target)
    return target.relative_to(stack.exports).as_posix()


def test_the_sensor_loads_a_newly_dropped_file(stack):
    if not (stack.warehouse / "ct.duckdb").exists():
        pytest.skip("needs the published warehouse of the previous test")
    # let the sensor's first run (every file was new to it) and anything else queued finish first
    _wait_until_idle(stack)
    before_runs = {r["runId"] for r in _runs(stack.gql, tags=[{"key": "dagster/sensor_name", "value": "new_exports"}])}
    before = _published(stack)
    before_mtime = (stack.warehouse / "ct.duckdb").stat().st_mtime_ns

    rel = _drop_new_export(stack)
    assert rel not in before["ledger"]

    def sensor_run():
        stack.group.check_alive()
        runs = _runs(stack.gql, tags=[{"key": "dagster/sensor_name", "value": "new_exports"}])
        new = [r for r in runs if r["runId"] not in before_runs]
        return new[0] if new else None

    def sensor_ticks() -> str:
        s = stack.gql(SENSORS, {"sel": stack.selector})["sensorsOrError"]["results"]
        return json.dumps([x for x in s if x["name"] == "new_exports"], indent=1)[:3000]

    run = wait_for(sensor_run, timeout=SENSOR_PICKUP_TIMEOUT, interval=2,
                   what=f"the sensor new_exports to start a run for {rel}", on_timeout=sensor_ticks)
    assert run["jobName"] == "nightly"
    assert _tags(run).get("ct_pipeline/new_files") == "1", _tags(run)
    _wait_for_run(stack, run["runId"])

    after = _published(stack)
    entry = after["ledger"].get(rel)
    assert entry is not None, f"{rel} is not in the published ingestion_ledger"
    assert entry["file_status"] == "loaded", entry
    assert entry["rows_read"] > 0 and entry["rows_staged"] > 0, entry
    assert after["counts"]["ingestion_ledger"] == before["counts"]["ingestion_ledger"] + 1
    staged_before = before["counts"]["stg_screenings"] + before["counts"]["stg_assistance"]
    staged_after = after["counts"]["stg_screenings"] + after["counts"]["stg_assistance"]
    assert staged_after > staged_before, (before["counts"], after["counts"])
    assert after["counts"]["fct_case_versions"] > before["counts"]["fct_case_versions"]
    assert (stack.warehouse / "ct.duckdb").stat().st_mtime_ns != before_mtime, "ct.duckdb was not republished"
