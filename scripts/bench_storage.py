"""What keeping the run artefacts in an object store costs: each step of one quarter (no Airflow),
with the artefacts in a local folder (the floor) and in an S3-compatible bucket (moto's server on
127.0.0.1), in the same run after a warm-up pass; prints each step's wall time and the ratio.

    .venv/bin/python scripts/bench_storage.py --dossiers-per-quarter 5000

moto keeps objects in memory and answers on the loopback: the ratio is the cost of going through
ObjectStoragePath / s3fs (one request per page, Data Docs uploaded file by file), not a network's.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dossiers-per-quarter", type=int, default=5000)
    p.add_argument("--year", type=int, default=2025)
    p.add_argument("--quarter", type=int, default=1)
    args = p.parse_args()

    from parreport import db, pipeline, storage
    from parreport.config import Settings
    from parreport.http import Endpoint
    from parreport.kinds import DATASETS
    from parreport.periods import window_for
    from parreport.report.signing import generate_keypair
    from parreport.sandbox import catalogue as cat
    from parreport.sandbox.runner import run_sandbox

    agency = cat.DEFAULT_AGENCY
    period = pipeline.Period(agency, window_for(args.year, args.quarter))
    private_pem, public_pem = generate_keypair()
    port = free_port()
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    conn_id = "bench_" + uuid.uuid4().hex[:8]
    os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps({
        "conn_type": "aws", "login": "bench", "password": "bench-secret",
        "extra": {"endpoint_url": f"http://127.0.0.1:{port}", "region_name": "us-east-1"}})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError("moto S3 server did not start")
                time.sleep(0.2)
        results: dict[str, dict[str, float]] = {}
        with tempfile.TemporaryDirectory(prefix="parreport-bench-storage-") as tmp:
            # a first pass warms the imports and caches (GX, matplotlib, fonts) and is not counted
            for label, url in (("warm-up", ""), ("local folder", ""), ("S3 (moto)", "s3://parreport-bench/quarters")):
                work = Path(tmp) / label.split()[0]
                store_url = f"sqlite:///{work}/store.db"
                work.mkdir()
                db.upgrade(store_url)
                settings = Settings(agency=agency, data_dir=str(work / "data"), store_url=store_url,
                                    storage_url=url, storage_conn_id=conn_id if url else "", blocking_threshold=1.0)
                storage.check(settings)
                run_id = f"manual__bench-{label.split()[0]}"
                times: dict[str, float] = {}

                def stage(name, fn):
                    t = time.perf_counter()
                    out = fn()
                    times[name] = time.perf_counter() - t
                    return out

                # one sandbox per pass (the same seed, the same data): each intake sees version 1 once
                with run_sandbox(dossiers_per_quarter=args.dossiers_per_quarter, agency=agency, startup_timeout=900,
                                 public_keys={"bench": public_pem}) as sb:
                    portal = Endpoint(sb.portal_url, *sb.portal_client)
                    extracts = {ds: stage(f"extract.{ds}",
                                          lambda ds=ds: pipeline.extract(settings, portal, period, run_id, ds))
                                for ds in DATASETS}
                    stage("load", lambda: pipeline.load(settings, period, extracts, run_id))
                    stage("validate", lambda: pipeline.validate(settings, period, run_id))
                    stage("compute", lambda: pipeline.compute(settings, period, run_id))
                    stage("build", lambda: pipeline.build_report(settings, period, run_id))
                    intake = Endpoint(sb.intake_url, *sb.intake_client[:2])
                    stage("submit", lambda: pipeline.submit(settings, intake, private_pem, "bench", period, run_id))
                results[label] = times
                print(f"{label}: {extracts['dossiers']['delivered']:,} dossiers in {extracts['dossiers']['pages']} "
                      f"pages", flush=True)
    finally:
        moto.terminate()
        moto.wait(10)
    local, remote = results["local folder"], results["S3 (moto)"]
    print(f"\n{'step':<20} {'local':>9} {'S3 (moto)':>10} {'÷ local':>8}")
    for name in remote:
        print(f"{name:<20} {local[name]:8.2f}s {remote[name]:9.2f}s {remote[name] / local[name]:7.2f}×")
    a, b = sum(local[n] for n in remote), sum(remote.values())
    print(f"{'whole quarter':<20} {a:8.2f}s {b:9.2f}s {b / a:7.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
