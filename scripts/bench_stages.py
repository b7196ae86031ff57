"""Profile the data stages (extract, load, validate, compute, report) without Airflow, against a sandbox.

    .venv/bin/python scripts/bench_stages.py --dossiers-per-quarter 50000 [--profile validate] [--tracemalloc]

Each stage runs exactly as its task does (``parreport.pipeline``), in this process, one after
another, against a fresh store; wall time and the process's peak RSS per stage are printed
(the peak mark is reset before each stage). ``--profile STAGE`` writes a cProfile of that stage
(top 40 by cumulative time); ``--tracemalloc`` prints the top allocation sites of each stage.

The sandbox generates only what the window needs (``--window``) and serves pre-serialised
pages once read: the window's listing is read once to warm it, then the raw-fetch floor
(bench_quarter.raw_fetch) is measured, and each stage is printed also as a multiple of it.
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
    p.add_argument("--stages", default="extract,load,validate,compute",
                   help="stages to run, in order (load needs extract, validate load, compute validate, "
                        "report compute)")
    args = p.parse_args()
    wanted = set(args.stages.split(","))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_quarter import raw_fetch

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
                        extra_args=("--invalid-rate", "0.002", "--window", f"{args.year}-{args.quarter}")) as sb:
        settings = Settings(data_dir=tmp, store_url=f"sqlite:///{tmp}/store.db", page_size=1000,
                            blocking_threshold=1.0)
        from parreport.db import upgrade

        upgrade(settings.store_url)
        portal = Endpoint(sb.portal_url, *sb.portal_client)
        run_id = "manual__bench"
        params = {"ma_don_vi": agency, "tu_ngay": window.start_ts, "den_ngay": window.end_ts}
        warm = raw_fetch(sb.portal_url, sb.portal_client, params)
        floor, n_window, _ = min(raw_fetch(sb.portal_url, sb.portal_client, params) for _ in range(2))
        print(f"window dossiers {n_window:,}; first reading {warm[0]:.2f} s (the sandbox serialises each page); "
              f"raw-fetch floor {floor:.2f} s", flush=True)

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
            print(f"{name:<20} {wall:7.2f} s  {wall / floor:5.2f} × floor  "
                  f"peak RSS {_status_kib('VmHWM') / 1024:6.0f} MiB", flush=True)
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
        if "load" in wanted:
            stage("load", lambda: pipeline.load(settings, period, extracts, run_id))
        if "validate" in wanted:
            stage("validate", lambda: pipeline.validate(settings, period))
        if "compute" in wanted:
            stage("compute", lambda: pipeline.compute(settings, period, run_id))
        if "report" in wanted:
            stage("report", lambda: pipeline.build_report(settings, period, run_id))
        print(f"window dossiers delivered: {n:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
