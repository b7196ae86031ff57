"""Profile the data stages (extract, load, validate, compute) without Airflow, against a sandbox.

    .venv/bin/python scripts/bench_stages.py --dossiers-per-quarter 50000 [--profile validate] [--tracemalloc]

Each stage runs exactly as its task does (``parreport.pipeline``), in this process, one after
another, against a fresh store; wall time and the process's peak RSS per stage are printed
(the peak mark is reset before each stage). ``--profile STAGE`` writes a cProfile of that stage
(top 40 by cumulative time); ``--tracemalloc`` prints the top allocation sites of each stage.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--dossiers-per-quarter", type=int, default=50000)
    p.add_argument("--year", type=int, default=2025)
    p.add_argument("--quarter", type=int, default=1)
    p.add_argument("--profile", action="append", default=[])
    p.add_argument("--tracemalloc", action="store_true")
    args = p.parse_args()

    from parreport import pipeline
    from parreport.config import Settings
    from parreport.http import Endpoint
    from parreport.kinds import DATASETS
    from parreport.periods import window_for
    from parreport.resources import _reset_peak, _status_kib
    from parreport.sandbox import catalogue as cat
    from parreport.sandbox.runner import run_sandbox

    window = window_for(args.year, args.quarter)
    agency = cat.DEFAULT_AGENCY
    period = pipeline.Period(agency, window)
    with tempfile.TemporaryDirectory(prefix="parreport-stages-") as tmp, \
            run_sandbox(dossiers_per_quarter=args.dossiers_per_quarter, agency=agency, startup_timeout=900,
                        extra_args=("--invalid-rate", "0.002")) as sb:
        settings = Settings(data_dir=tmp, store_url=f"sqlite:///{tmp}/store.db", page_size=1000,
                            blocking_threshold=1.0)
        portal = Endpoint(sb.portal_url, *sb.portal_client)
        run_id = "manual__bench"

        def stage(name, fn):
            prof = cProfile.Profile() if name in args.profile else None
            if args.tracemalloc:
                tracemalloc.start()
            _reset_peak()
            t = time.perf_counter()
            if prof:
                prof.enable()
            out = fn()
            if prof:
                prof.disable()
            wall = time.perf_counter() - t
            print(f"{name:<20} {wall:7.2f} s  peak RSS {_status_kib('VmHWM') / 1024:6.0f} MiB", flush=True)
            if args.tracemalloc:
                snap = tracemalloc.take_snapshot()
                cur, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                print(f"    tracemalloc peak {peak / 2**20:.0f} MiB")
                for s in snap.statistics("lineno")[:8]:
                    print("    ", s)
            if prof:
                buf = io.StringIO()
                pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(40)
                print(buf.getvalue())
            return out

        extracts = {}
        for ds in DATASETS:
            extracts[ds] = stage(f"extract.{ds}", lambda ds=ds: pipeline.extract(settings, portal, period, run_id, ds))
        n = extracts["dossiers"]["delivered"]
        stage("load", lambda: pipeline.load(settings, period, extracts, run_id))
        stage("validate", lambda: pipeline.validate(settings, period))
        stage("compute", lambda: pipeline.compute(settings, period, run_id))
        print(f"window dossiers delivered: {n:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
