"""Orchestration: build the world, render every (mission, era) task in worker processes, write the
ground-truth file."""

from __future__ import annotations

import ctypes
import gc
import multiprocessing as mp
import os
import pickle
import resource
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ct_pipeline.processes import pid_alive
from ct_pipeline.synth import reference as R
from ct_pipeline.synth.config import SynthConfig
from ct_pipeline.synth.render import NCHUNK, TRUTH_COLUMNS, render_task
from ct_pipeline.synth.world import World, build_world

RATE_NAMES = (
    "country_variant", "country_variant_native", "excel_serial_date", "excel_blank_date", "not_recorded_code",
    "exact_duplicate",
)
REC_CASE_FIELDS = (
    "reg", "ident", "dob", "age", "sex", "citizenship", "agency", "status", "eligible", "types", "sectors", "means",
    "recruiter", "rec_c", "t1", "t2", "t3", "expl_c", "rec_date", "expl_start", "expl_end", "consent",
    "interviewer", "has_doc", "has_phone", "has_addr", "has_narr", "cd_kind", "cd_val", "miss", "oos", "nv",
    "canary", "given_flat", "family_flat", "family2_flat", "crand", "doc_key", "phone_key", "phone_m", "uuid_hi",
    "uuid_lo", "first_era", "reg_year", "seq", "profile", "person",
)


def _tasks(w: World, out_dir: Path, truth_dir: Path | None) -> Iterator[dict]:
    """One task per (era, mission group): the missions of an era are split into NCHUNK fixed groups
    (mission index % NCHUNK), so the partition, and so the output, never depends on the workers.
    (The render draws random numbers per task: another partition would change the files.)"""
    rec = w.records
    cases = w.cases
    ex = w.exports
    c = rec["case"]
    mission = cases["mission"][c].astype(np.int64)
    era = ex["era"][rec["export"]].astype(np.int64)
    task_of = era * NCHUNK + mission % NCHUNK
    arec = w.arecords
    a_rec = arec["rec"]
    a_task = task_of[a_rec]
    rates = {k: w.cfg.rate(k) for k in RATE_NAMES}
    rates["multiline_narrative"] = min(1.0, max(0.0, w.cfg.multiline_narrative))
    ep = w.episodes
    a_ep = arec["ep"]
    for t in range(3 * NCHUNK):
        idx = np.nonzero(task_of == t)[0]
        if len(idx) == 0:
            continue
        cidx = c[idx]
        exports = rec["export"][idx]
        ex_ids, x = np.unique(exports, return_inverse=True)
        r = {f: cases[f][cidx] for f in REC_CASE_FIELDS}
        r["mission"] = mission[idx]
        for f in ("case", "kind", "apply_cd", "apply_miss", "perturb", "corr_fields", "rdef"):
            r[f] = rec[f][idx]
        r["x"] = x.astype(np.int64)
        aidx = np.nonzero(a_task == t)[0]
        ae = a_ep[aidx]
        ar = a_rec[aidx]
        a = {
            "type": ep["type"][ae], "start": ep["start"][ae], "end": ep["end"][ae], "funding": ep["funding"][ae],
            "provider": ep["provider"][ae], "outcome_r": ep["outcome_r"][ae],
            "return_country": ep["return_country"][ae], "ed_kind": ep["ed_kind"][ae], "ed_val": ep["ed_val"][ae],
            "miss": ep["miss"][ae], "ongoing": arec["ongoing"][aidx], "rdef": rec["rdef"][ar],
            "oos": cases["oos"][c[ar]], "rec": np.searchsorted(idx, ar).astype(np.int64),
        }
        yield {
            "era": t // NCHUNK, "chunk": t % NCHUNK, "seed": w.seed, "out_dir": str(out_dir), "rates": rates,
            "truth_dir": str(truth_dir) if truth_dir else None,
            "canaries": list(w.cfg.canaries), "compresslevel": w.cfg.xlsx_compresslevel,
            "ex_mission": ex["mission"][ex_ids], "ex_received": ex["received"][ex_ids], "ex_date": ex["date"][ex_ids],
            "rec": r, "arec": a, "size": len(idx) + len(aidx) // 2,
        }


def _spill(tasks: Iterator[dict], task_dir: Path) -> list[dict]:
    """Write each task to a file as soon as it is built: the main process then holds neither the
    world nor the tasks (~3 GB at 10M cases) while workers render, and no task is pickled in memory."""
    jobs = []
    for t in tasks:
        path = task_dir / f"{t['era']}.{t['chunk']}.pkl"
        with path.open("wb") as fh:
            pickle.dump(t, fh, protocol=pickle.HIGHEST_PROTOCOL)
        jobs.append({"path": str(path), "era": t["era"], "chunk": t["chunk"], "size": t["size"],
                     "records": len(t["rec"]["case"])})
    return jobs


#: the task files of a generation, next to its exports folder: `.tasks-<pid>-<random>`
TASK_DIR_PREFIX = ".tasks-"


def _remove_stale_task_dirs(folder: Path) -> None:
    """Remove the task folders of generations that were killed (~0.3 GB per million cases each)."""
    for d in folder.glob(f"{TASK_DIR_PREFIX}*"):
        pid = d.name[len(TASK_DIR_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(d, ignore_errors=True)


def _release_memory() -> None:
    """Return freed memory to the system. glibc keeps freed blocks below its mmap threshold (at most
    32 MB) in the heap for reuse, so the dropped world stayed in the main process's RSS while the
    workers rendered (1M cases: 1,005 MB; 380 MB after malloc_trim with the tasks still held)."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _rss_mb() -> float | None:
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) / 1024 for line in fh if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return None


def _run(job: dict):
    path = Path(job["path"])
    with path.open("rb") as fh:
        task = pickle.load(fh)
    path.unlink()
    stats = render_task(task)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    stats["pid"] = os.getpid()
    stats["cpu"] = ru.ru_utime + ru.ru_stime
    stats["maxrss_mb"] = ru.ru_maxrss / 1024
    return job["era"], job["chunk"], stats


def generate(out_dir: Path, cases: int | None = None, seed: int = 1, start_year: int = 1999, end_year: int = 2026,
             truth: Path | None = None, config: SynthConfig | None = None,
             progress: Callable[[int, int], None] | None = None) -> dict:
    """Write synthetic mission exports under `out_dir/<MISSION>/<received date>/<file>`.

    cases: number of cases (None: the calibrated default for the period). truth: path of the ground
    truth CSV (outside out_dir). progress(done, total) is called with screening records rendered.
    Returns a summary: files per era, cases, persons, records per form, seconds."""
    t0 = time.perf_counter()
    cfg = config or SynthConfig()
    out_dir = Path(out_dir)
    if truth is not None:
        truth = Path(truth)
        if truth.resolve().is_relative_to(out_dir.resolve()):
            raise ValueError("the truth file must be written outside the exports folder")
        truth.parent.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    w = build_world(cfg, cases, seed, start_year, end_year)
    timings["world"] = time.perf_counter() - t0
    rss = {"world": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    stats = dict(w.stats)
    n_missions = int(len(np.unique(w.cases["mission"])))
    _remove_stale_task_dirs(out_dir.parent)
    truth_dir = Path(tempfile.mkdtemp(prefix=f".{truth.name}.parts-", dir=truth.parent)) if truth else None
    task_dir = None
    try:
        task_dir = Path(tempfile.mkdtemp(prefix=f"{TASK_DIR_PREFIX}{os.getpid()}-", dir=out_dir.parent))
        jobs = _spill(_tasks(w, out_dir, truth_dir), task_dir)
        del w  # the task files hold what the workers need
        _release_memory()
        timings["tasks"] = time.perf_counter() - t0 - timings["world"]
        rss["tasks"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rss_rendering = _rss_mb()
        t1 = time.perf_counter()
        results = _render_all(jobs, cfg, progress)
        timings["render"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        if truth is not None:
            # each part holds one (mission, era): mission then era order is source_file order
            parts = sorted(truth_dir.glob("*.csv"), key=lambda p: (p.name.rsplit(".", 2)[0],
                                                                   int(p.name.rsplit(".", 2)[1])))
            with truth.open("wb") as fh:
                fh.write((",".join(TRUTH_COLUMNS) + "\n").encode())
                for p in parts:
                    with p.open("rb") as src:
                        shutil.copyfileobj(src, fh, 1 << 20)
        timings["truth"] = time.perf_counter() - t1
    finally:
        if task_dir is not None:
            shutil.rmtree(task_dir, ignore_errors=True)
        if truth_dir is not None:
            shutil.rmtree(truth_dir, ignore_errors=True)
    files = {e: 0 for e in R.ERAS}
    records = {"screening": 0, "assistance": 0}
    # worker processes fork from a fork server, so they are not in this process's RUSAGE_CHILDREN
    per_pid: dict[int, tuple[float, float]] = {}
    for e, _chunk, st in results:
        files[R.ERAS[e]] += st["files"]
        records["screening"] += st["screening"]
        records["assistance"] += st["assistance"]
        if st["pid"] != os.getpid():
            c, m = per_pid.get(st["pid"], (0.0, 0.0))
            per_pid[st["pid"]] = (max(c, st["cpu"]), max(m, st["maxrss_mb"]))
    ru = resource.getrusage(resource.RUSAGE_SELF)
    summary = {
        "cases": stats["cases"],
        "persons": stats["persons"],
        "cases_1999_2007": stats["cases_1999_2007"],
        "persons_by_2009": stats["persons_by_2009"],
        "missions": n_missions,
        "files": files,
        "records": records,
        "seed": seed,
        "period": [start_year, end_year],
        "config": {k: v for k, v in asdict(cfg).items() if k not in ("canaries",)} | {"canaries": len(cfg.canaries)},
        "seconds": round(time.perf_counter() - t0, 2),
        "timings": {k: round(v, 2) for k, v in timings.items()},
        "processes": {
            "workers": len(per_pid) or 1,
            "cpu_seconds_main": round(ru.ru_utime + ru.ru_stime, 1),
            "cpu_seconds_workers": round(sum(c for c, _ in per_pid.values()), 1),
            "peak_rss_mb_main": round(ru.ru_maxrss / 1024),
            "peak_rss_mb_workers": round(max((m for _, m in per_pid.values()), default=0)),
            "peak_rss_mb_main_by_phase": {k: round(v) for k, v in rss.items()},
            "rss_mb_main_rendering": round(rss_rendering) if rss_rendering is not None else None,
        },
    }
    summary["config"]["as_of"] = str(cfg.as_of)
    return summary


def _render_all(tasks: list[dict], cfg: SynthConfig, progress) -> list:
    total = int(sum(t["records"] for t in tasks))
    n_rec = {(t["era"], t["chunk"]): t["records"] for t in tasks}
    # small jobs run in-process: starting worker processes costs more than it saves
    workers = cfg.workers or (min(2, os.cpu_count() or 1) if total > 40_000 else 1)
    order = sorted(range(len(tasks)), key=lambda i: -tasks[i]["size"])
    results = []
    done = 0
    if workers <= 1 or len(tasks) <= 1:
        for i in order:
            res = _run(tasks[i])
            results.append(res)
            done += n_rec[(res[0], res[1])]
            if progress:
                progress(done, total)
    else:
        # forkserver: one fresh interpreter imports the renderer once and the workers fork from it
        # (no inherited polars threads; much faster to start than spawn)
        if "forkserver" in mp.get_all_start_methods():
            ctx = mp.get_context("forkserver")
            ctx.set_forkserver_preload(["ct_pipeline.synth.render"])
        else:
            ctx = mp.get_context("spawn")
        with ctx.Pool(workers) as pool:
            for res in pool.imap_unordered(_run, [tasks[i] for i in order], chunksize=1):
                results.append(res)
                done += n_rec[(res[0], res[1])]
                if progress:
                    progress(done, total)
    results.sort(key=lambda t: (t[0], t[1]))
    return results
