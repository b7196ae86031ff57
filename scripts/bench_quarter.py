"""Benchmark: one department-sized quarter end to end, in a fresh AIRFLOW_HOME.

Runs the README's main command (sandbox + `airflow dags test`) and prints the wall time and the
peak memory: the largest resident set of any single process and the largest sum over the
whole process tree (the runner, the sandbox and Airflow), sampled every 0.2 s with psutil.

    .venv/bin/python scripts/bench_quarter.py [--dossiers-per-quarter 5000] [--year 2025 --quarter 1]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--dossiers-per-quarter", type=int, default=5000)
    p.add_argument("--year", type=int, default=2025)
    p.add_argument("--quarter", type=int, default=1)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="parreport-bench-") as home:
        env = {**os.environ, "AIRFLOW_HOME": home}
        subprocess.run(["bash", "-c", "source scripts/airflow_env.sh && .venv/bin/airflow db migrate"
                        " && .venv/bin/parreport db upgrade"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        cmd = [str(ROOT / ".venv/bin/python"), "-m", "parreport.demo", "--year", str(args.year),
               "--quarter", str(args.quarter), "--dossiers-per-quarter", str(args.dossiers_per_quarter)]
        env.update({"AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"})
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        root = psutil.Process(proc.pid)
        peak_single = peak_tree = 0
        while proc.poll() is None:
            try:
                procs = [root, *root.children(recursive=True)]
                rss = [q.memory_info().rss for q in procs if q.is_running()]
                peak_single, peak_tree = max(peak_single, max(rss)), max(peak_tree, sum(rss))
            except psutil.Error:
                pass
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        out = proc.stdout.read()
    print(out)
    summary = [line for line in out.splitlines() if "Airflow kết thúc" in line]
    print(f"dossiers per quarter (sandbox): {args.dossiers_per_quarter}")
    print(f"end to end (sandbox start-up + airflow dags test + summary): {elapsed:.1f} s; {summary[0] if summary else ''}")
    print(f"peak RSS, largest single process: {peak_single / 2**20:.0f} MiB")
    print(f"peak RSS, whole process tree:     {peak_tree / 2**20:.0f} MiB")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
