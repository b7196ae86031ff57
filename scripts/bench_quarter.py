"""Benchmark: one quarter end to end, as ratios to two floors measured in the same run.

In a fresh AIRFLOW_HOME, against one sandbox started for the run (no faults), which generates
only what the window needs (``--window``: one quarter before it to a month after it, so that
500,000 dossiers per quarter fit in memory) and serves each listing page from bytes serialised
once, as a real portal serving pre-serialised pages does:

0. **warm-up**: one reading of the window's /ho-so listing (the sandbox serialises its pages);
1. **raw-fetch floor**: take a token and page through ``/api/v1/ho-so`` for the window with
   pages of 1,000, ``json.loads`` each page and nothing else (twice; the faster counts);
2. **two-task floor**: ``airflow dags test`` of a trivial DAG of two chained tasks, in a
   temporary dags folder (Airflow's own start, parse and task overhead);
3. **the quarter**: ``airflow dags test quarterly_par_report`` for the window, every task's
   wall time and peak RSS read from the task's own log line (``parreport.resources``), and
   the process tree sampled every 0.1 s with psutil.

It prints each task's wall time (and as a multiple of the raw-fetch floor), each task's peak
RSS, the whole run as a ratio to both floors, the largest process of the pipeline and the
window's dossier count, so that runs of different sizes compare by cost per dossier, and the
sandbox's own peak RSS (it is not part of the pipeline).

    .venv/bin/python scripts/bench_quarter.py --dossiers-per-quarter 100000 [--year 2025 --quarter 1]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW = str(ROOT / ".venv/bin/airflow")
MARK = re.compile(r"tài nguyên tác vụ (\S+): ([0-9.]+) s, đỉnh RSS (\S+) MiB")
EVENT = re.compile(r"^(\d{4}-\d\d-\d\dT[0-9:.]+)Z? .*?(?:\[DAG TEST\] (starting|end task) task_id=(\S+)|"
                   r"tài nguyên tác vụ \S+: ([0-9.]+) s)", re.M)

FLOOR_DAG = '''
import pendulum
from airflow.sdk import dag, task


@dag(dag_id="floor_two_tasks", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False)
def floor_two_tasks():
    @task
    def first():
        return 1

    @task
    def second(x):
        return x + 1

    second(first())


floor_two_tasks()
'''


def raw_fetch(portal_url: str, client: tuple[str, str], params: dict) -> tuple[float, int, int]:
    """Seconds to page through /api/v1/ho-so (token, pages of 1,000, json.loads); records; pages."""
    started = time.perf_counter()
    records = pages = 0
    with httpx.Client(base_url=portal_url, timeout=120) as http:
        token = json.loads(http.post("/oauth/token", data={"grant_type": "client_credentials",
                                                            "client_id": client[0],
                                                            "client_secret": client[1]}).content)["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        cursor = None
        while True:
            query = {**params, "limit": 1000, **({"cursor": cursor} if cursor else {})}
            body = json.loads(http.get("/api/v1/ho-so", params=query, headers=headers).content)
            records += len(body["data"])
            pages += 1
            cursor = body.get("next_cursor")
            if not cursor:
                break
    return time.perf_counter() - started, records, pages


class Sampler(threading.Thread):
    """Peak RSS of every process below ``pid`` (largest single process, whole tree)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peak_single = self.peak_tree = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
                rss = [q.memory_info().rss for q in procs]
                self.peak_single, self.peak_tree = max(self.peak_single, max(rss)), max(self.peak_tree, sum(rss))
            except psutil.Error:
                pass
            self.stop.wait(0.1)


def task_spans(text: str) -> tuple[list[tuple[str, float, float | None]], float, float]:
    """From an ``airflow dags test`` log: each task's span (from ``[DAG TEST] starting`` to
    ``[DAG TEST] end task``) and its body's wall time (the ``parreport.resources`` line, None for
    a task without one), the sum of the gaps between one task's end and the next one's start, and
    the time from the first task's start to the last one's end."""
    from datetime import datetime

    spans, gaps = [], 0.0
    first = last_end = started = None
    current = body = None
    for m in EVENT.finditer(text):
        ts = datetime.fromisoformat(m.group(1)).timestamp()
        if m.group(2) == "starting":
            if last_end is not None:
                gaps += ts - last_end
            first = ts if first is None else first
            current, started, body = m.group(3), ts, None
        elif m.group(2) == "end task" and current == m.group(3) and started is not None:
            spans.append((current, ts - started, body))
            last_end, current = ts, None
        elif m.group(4) is not None and current is not None:
            body = float(m.group(4))
    return spans, gaps, (last_end - first) if first is not None and last_end is not None else 0.0


STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT[0-9:.]+)Z? ", re.M)


def print_overhead(label: str, whole: float, text: str, began: float | None = None,
                   ended: float | None = None) -> list[tuple[str, float]] | None:
    """What `airflow dags test` spends outside the task bodies: before the first task and after
    the last (start-up, DAG parse, run creation, exit), between tasks, and within each task's
    span but outside its body (start, template rendering, XCom, state updates)."""
    from datetime import datetime

    spans, gaps, inside = task_spans(text)
    if not spans:
        return None
    per_task = [(task, span - (body or 0.0)) for task, span, body in spans]
    stamps = [datetime.fromisoformat(m.group(1)).timestamp() for m in STAMP.finditer(text)]
    if began is not None and ended is not None and stamps:
        print(f"{label}: before the first log line (interpreter, Airflow's CLI and plugins) "
              f"{stamps[0] - began:.2f} s; after the last log line (exit) {ended - stamps[-1]:.2f} s")
    print(f"{label}: outside the tasks (start-up, parse, run creation, exit) {whole - inside:.2f} s; "
          f"between tasks {gaps:.2f} s; in the tasks' spans outside their bodies "
          f"{sum(o for _, o in per_task):.2f} s ({len(spans)} tasks; first task {per_task[0][1]:.2f} s, "
          f"the others {sum(o for _, o in per_task[1:]) / max(len(per_task) - 1, 1):.2f} s on average)")
    return per_task


def timed(cmd: list[str], env: dict, log_path: Path) -> tuple[float, int, Sampler]:
    """Run ``cmd``; its wall time, exit code, memory sampler, and the epoch times it began and ended."""
    began = time.time()
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        sampler = Sampler(proc.pid)
        sampler.start()
        rc = proc.wait()
    sampler.stop.set()
    sampler.join()
    return time.perf_counter() - started, rc, sampler, began, time.time()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--dossiers-per-quarter", type=int, default=5000)
    p.add_argument("--year", type=int, default=2025)
    p.add_argument("--quarter", type=int, default=1)
    p.add_argument("--keep", action="store_true", help="keep the temporary AIRFLOW_HOME (its path is printed)")
    p.add_argument("--profile", metavar="FILE", help="run the quarter's `airflow dags test` under cProfile, stats to FILE")
    args = p.parse_args()

    from parreport.config import CONN_INTAKE, CONN_PORTAL, CONN_SIGNING_KEY
    from parreport.periods import window_for
    from parreport.report.signing import generate_keypair
    from parreport.sandbox import catalogue as cat
    from parreport.sandbox.runner import run_sandbox

    home = tempfile.mkdtemp(prefix="parreport-bench-")
    env = {**os.environ, "AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "PARREPORT_RECEIPT_POLL_SECONDS": "2",
           "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True"}
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([str(ROOT / ".venv/bin/parreport"), "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([AIRFLOW, "pools", "set", "dvc_portal", "4", "Cổng DVC"], env=env, check=True, capture_output=True)
    window = window_for(args.year, args.quarter)
    agency = cat.DEFAULT_AGENCY
    private_pem, public_pem = generate_keypair()
    kid = f"bench-{agency}"

    t = time.perf_counter()
    with run_sandbox(seed=42, dossiers_per_quarter=args.dossiers_per_quarter, agency=agency, review_delay=1,
                     public_keys={kid: public_pem}, startup_timeout=900,
                     state_file=Path(home) / "intake-state.json",
                     extra_args=("--invalid-rate", "0.002", "--window", f"{args.year}-{args.quarter}")) as sb:
        sandbox_start = time.perf_counter() - t
        sandbox_sampler = Sampler(sb.pid)
        sandbox_sampler.start()
        params = {"ma_don_vi": agency, "tu_ngay": window.start_ts, "den_ngay": window.end_ts}
        warm = raw_fetch(sb.portal_url, sb.portal_client, params)
        fetches = [raw_fetch(sb.portal_url, sb.portal_client, params) for _ in range(2)]
        floor, n_window, n_pages = min(fetches)

        dags = Path(home) / "floor_dags"
        dags.mkdir()
        (dags / "floor_two_tasks.py").write_text(FLOOR_DAG)
        floor_env = {**env, "AIRFLOW__CORE__DAGS_FOLDER": str(dags)}
        two_task, rc0, _, floor_began, floor_ended = timed([AIRFLOW, "dags", "test", "floor_two_tasks"], floor_env, Path(home) / "floor.log")
        if rc0:
            print((Path(home) / "floor.log").read_text()[-3000:])
            raise SystemExit("the two-task floor DAG failed")

        def conn(url: str, cid: str, secret: str) -> str:
            host, _, port = url.split("://", 1)[1].partition(":")
            return json.dumps({"conn_type": "http", "host": host, "port": int(port), "schema": "http",
                               "login": cid, "password": secret})

        run_env = {**env, "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
                   f"AIRFLOW_CONN_{CONN_PORTAL.upper()}": conn(sb.portal_url, *sb.portal_client),
                   f"AIRFLOW_CONN_{CONN_INTAKE.upper()}": conn(sb.intake_url, *sb.intake_client[:2]),
                   f"AIRFLOW_CONN_{CONN_SIGNING_KEY.upper()}": json.dumps(
                       {"conn_type": "generic", "password": private_pem, "extra": {"kid": kid}})}
        conf = json.dumps({"year": args.year, "quarter": args.quarter, "agency": agency})
        log_path = Path(home) / "quarter.log"
        quarter_cmd = [AIRFLOW, "dags", "test", "quarterly_par_report", "-c", conf]
        if args.profile:
            quarter_cmd = [sys.executable, "-m", "cProfile", "-o", str(Path(args.profile).resolve()), *quarter_cmd]
        whole, rc, sampler, began, ended = timed(quarter_cmd, run_env, log_path)
        sandbox_sampler.stop.set()
        sandbox_sampler.join()
    text = log_path.read_text(errors="replace")
    floor_text = (Path(home) / "floor.log").read_text(errors="replace")
    tasks = [(m.group(1), float(m.group(2)), m.group(3)) for m in MARK.finditer(text)]

    print(f"dossiers per quarter (sandbox): {args.dossiers_per_quarter:,}; window {window.label}: "
          f"{n_window:,} dossiers delivered in {n_pages} pages; sandbox start-up {sandbox_start:.1f} s, "
          f"first reading {warm[0]:.2f} s (pages serialised), sandbox peak RSS "
          f"{sandbox_sampler.peak_tree / 2**20:.0f} MiB (not counted below)")
    print(f"raw-fetch floor (token, pages of 1,000, json.loads): {floor:.2f} s "
          f"(runs: {', '.join(f'{f[0]:.2f}' for f in fetches)})")
    print(f"two-task floor (airflow dags test of two trivial tasks): {two_task:.2f} s")
    print()
    overhead = {task.rsplit(".", 1)[-1] if not task.startswith("report.extract.") else task.split(".", 1)[1]: o
                for task, o in print_overhead("quarter", whole, text, began, ended) or []}
    print_overhead("two-task floor", two_task, floor_text, floor_began, floor_ended)
    print()
    names = {"load": "load_staging", "validate": "validate_records", "compute": "compute_figures",
             "submit": "submit_report"}
    print(f"| task | wall s | ÷ raw-fetch floor | peak RSS MiB | task overhead s |")
    print(f"|---|---:|---:|---:|---:|")
    for label, wall, peak in tasks:
        o = overhead.get(names.get(label, label))
        print(f"| {label} | {wall:.2f} | {wall / floor:.2f} × | {peak} | {'' if o is None else f'{o:.2f}'} |")
    print()
    print(f"whole `airflow dags test`: {whole:.1f} s (exit {rc}) = {whole / floor:.1f} × raw-fetch floor "
          f"= {whole / two_task:.2f} × two-task floor; {1e6 * whole / max(n_window, 1):.0f} µs per window dossier")
    extract = next((wall for label, wall, _ in tasks if label == "extract.dossiers"), None)
    if extract is not None:
        print(f"extract.dossiers: {extract:.2f} s = {extract / floor:.2f} × raw-fetch floor (target ≤ 2 ×); "
              f"{1e6 * extract / max(n_window, 1):.0f} µs per window dossier")
    print(f"peak RSS: largest pipeline process {sampler.peak_single / 2**20:.0f} MiB; "
          f"process tree {sampler.peak_tree / 2**20:.0f} MiB")
    print(f"log: {log_path}" if args.keep else "")
    if rc:
        print(text[-6000:])
    if not args.keep:
        import shutil

        shutil.rmtree(home, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
