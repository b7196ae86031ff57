#!/usr/bin/env python
"""How long building the validation frames of a staged partition takes (``validation._kind_frame``).

    .venv/bin/python scripts/bench_frames.py 250000                  # stage once, then time
    .venv/bin/python scripts/bench_frames.py 250000 --helpers 0 1 --repeat 3
    .venv/bin/python scripts/bench_frames.py 250000 --profile out.prof --helpers 0

Dossiers come from the sandbox generator as in scripts/bench_validation.py and are staged into a
SQLite store kept in ``--dir`` (default /tmp/parreport-bench-frames), so a second run reuses it.
Printed per (helpers, repeat): the wall time and this process's CPU time of the dossiers' frame
and the ratings' frame, µs per staged dossier, and the floor measured in the same run: streaming
the dossiers' JSON text out of the store (nothing decoded), which any frame must do.
The machine may be shared: compare CPU times and ratios, and repeat.

``--airflow-main`` makes this script's module import Airflow's command line at its top, as the
main module of ``airflow dags test`` (the ``airflow`` script) does: a helper process that
imports its parent's main module again (multiprocessing's rule) then pays that import too.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

if "--airflow-main" in sys.argv:  # the main module of `airflow dags test` imports this
    import airflow.__main__  # noqa: F401


def stage(n: int, where: Path):
    from bench_validation import records
    from parreport import db
    from parreport import store as st
    from parreport.privacy import strip_record

    url = f"sqlite:///{where}/store-{n}.db"
    marker = where / f"store-{n}.ok"
    ds, w = None, None
    if not marker.exists():
        where.mkdir(parents=True, exist_ok=True)
        (where / f"store-{n}.db").unlink(missing_ok=True)
        ds, w, recs = records(n)
        db.upgrade(url)
        with st.Store(url) as store:
            store.replace_partition(st.dossiers, ds.agency, w.key, [{"seq": i, "ma_ho_so": r.get("MaHoSo"),
                                                                    "record": strip_record(r, "dossiers")}
                                                                   for i, r in enumerate(recs)])
            ratings = [ds.rating(int(j)) for j in ds.ratings_in(ds.agency, w.start_ts, w.end_ts)]
            store.replace_partition(st.ratings, ds.agency, w.key, [{"seq": i, "ma_danh_gia": r.get("MaDanhGia"),
                                                                   "record": strip_record(r, "ratings")}
                                                                  for i, r in enumerate(ratings)])
        marker.write_text(f"{ds.agency}\n{w.key}\n")
    agency, key = marker.read_text().split()
    return url, agency, key


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("n", type=int, nargs="?", default=250_000)
    p.add_argument("--helpers", type=int, nargs="*", default=[0, 1])
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--kinds", nargs="*", default=["ho_so", "danh_gia"])
    p.add_argument("--dir", type=Path, default=Path("/tmp/parreport-bench-frames"))
    p.add_argument("--airflow-main", action="store_true", help="import Airflow's CLI in the main module")
    p.add_argument("--profile", help="cProfile the dossiers' frame into this file (one run)")
    a = p.parse_args(argv)
    url, agency, key = stage(a.n, a.dir)
    from parreport import store as st
    from parreport.quality.validation import _kind_frame
    from parreport.resources import _status_kib

    tables = {"ho_so": st.dossiers, "danh_gia": st.ratings}
    with st.Store(url) as store:
        t = time.perf_counter()
        rows = sum(1 for _ in store.record_texts(st.dossiers, agency, key, with_seq=True))
        floor = time.perf_counter() - t
        print(f"{rows:,} staged dossiers; streaming their text out of the store (floor) {floor:.2f} s", flush=True)
        if a.profile:
            import cProfile
            os.environ["PARREPORT_FRAME_WORKERS"] = str(a.helpers[0])
            cProfile.runctx("_kind_frame(store, st.dossiers, 'ho_so', agency, key)", globals(),
                            {"_kind_frame": _kind_frame, "store": store, "st": st, "agency": agency, "key": key},
                            a.profile)
            return 0
        for helpers in a.helpers:
            os.environ["PARREPORT_FRAME_WORKERS"] = str(helpers)
            for r in range(a.repeat):
                parts = []
                for kind in a.kinds:
                    c, t = time.process_time(), time.perf_counter()
                    frame = _kind_frame(store, tables[kind], kind, agency, key)
                    wall, cpu = time.perf_counter() - t, time.process_time() - c
                    parts.append(f"{kind} {wall:5.2f} s (CPU {cpu:5.2f} s, {1e6 * wall / max(1, len(frame)):.0f} µs/row, "
                                 f"{wall / floor if kind == 'ho_so' else 0:.1f} × floor)")
                    del frame
                peak = (_status_kib("VmHWM") or 0) / 1024
                print(f"helpers {helpers} #{r + 1}: " + "; ".join(parts) + f"; peak RSS {peak:.0f} MiB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
