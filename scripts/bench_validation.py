#!/usr/bin/env python
"""How long validation takes (GX suites + quarantine + Data Docs) for N staged dossiers.

    .venv/bin/python scripts/bench_validation.py            # 5,000 and 100,000
    .venv/bin/python scripts/bench_validation.py 250000     # any sizes

Records come from the sandbox generator (include/parreport/sandbox) for Q1 2025, repeated with
fresh MaHoSo when the window holds fewer than N; they are staged into a temporary SQLite store
and validated exactly as the validate_records task does (corrections, frames, GX, quarantine,
Data Docs). Staging time is not counted.

Printed per size: the validation's wall time and CPU time, each stage's wall time (reference
data and corrections, frames, GX with its Data Docs, quarantine and summary), the peak RSS of
the process during validation (and how far above the process's size before it), the cost per staged dossier, and the ratio to a floor measured
in the same run: streaming the staged dossiers out of the store (decoded JSON, nothing else),
which any validation of those records must do. GX's import is timed once, apart (a task pays
it once per process). The machine may be shared: compare ratios, and repeat a noisy run.
"""
from __future__ import annotations

import inspect
import logging
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path


def records(n: int):
    from parreport.periods import window_for
    from parreport.quality.dedupe import dedupe
    from parreport.sandbox import generate

    ds = generate(seed=11, dossiers_per_quarter=min(n, 200_000), span_start=datetime(2024, 9, 1),
                  span_end=datetime(2025, 3, 31))
    w = window_for(2025, 1)
    base = dedupe(ds.listing_records(ds.agency, w.start_ts, w.end_ts)).records
    out = []
    i = 0
    while len(out) < n:
        for r in base:
            if len(out) >= n:
                break
            out.append(r if i == 0 else dict(r, MaHoSo=f"{r['MaHoSo']}-{i}"))
        i += 1
    return ds, w, out


def bench(n: int) -> None:
    from parreport import db
    from parreport import store as st
    from parreport.privacy import strip_record
    from parreport.quality.validation import BlockingFailuresExceeded, validate_partition
    from parreport.resources import _reset_peak, _status_kib

    t0 = time.perf_counter()
    ds, w, recs = records(n)
    with tempfile.TemporaryDirectory() as tmp:
        db.upgrade(f"sqlite:///{tmp}/store.db")
        store = st.Store(f"sqlite:///{tmp}/store.db")
        key, agency = w.key, ds.agency
        store.replace_partition(st.units, agency, key, [{"seq": i, "ma_don_vi": u["MaDonVi"], "record": u}
                                                        for i, u in enumerate(ds.units)])
        store.replace_partition(st.procedures, agency, key, [{"seq": i, "ma_tthc": p["MaTTHC"], "record": p}
                                                             for i, p in enumerate(ds.procedures_of(agency))])
        store.replace_partition(st.dossiers, agency, key, [{"seq": i, "ma_ho_so": r.get("MaHoSo"),
                                                            "record": strip_record(r, "dossiers")}
                                                           for i, r in enumerate(recs)])
        ratings = [ds.rating(int(j)) for j in ds.ratings_in(agency, w.start_ts, w.end_ts)]
        store.replace_partition(st.ratings, agency, key, [{"seq": i, "ma_danh_gia": r.get("MaDanhGia"),
                                                           "record": strip_record(r, "ratings")}
                                                          for i, r in enumerate(ratings)])
        store.record_load(agency, key, "dossiers", run_id="bench", raw_dir="", tong_so=n, delivered=n, staged=n,
                          duplicates=0)
        del recs
        t1 = time.perf_counter()
        floor = time.perf_counter()
        for table in (st.dossiers, st.ratings):
            for _ in store.rows(table, agency, key, columns=("seq", "record")):
                pass
        floor = time.perf_counter() - floor
        timings: dict = {}
        extra = {"timings": timings} if "timings" in inspect.signature(validate_partition).parameters else {}
        _reset_peak()
        base = (_status_kib("VmRSS") or 0) / 1024
        c0, t2 = time.process_time(), time.perf_counter()
        try:
            summary = validate_partition(store, agency=agency, window=w, data_dir=Path(tmp), run_id="bench",
                                         threshold=1.0, **extra)
        except BlockingFailuresExceeded as exc:  # pragma: no cover - threshold 1.0 never stops
            summary = {"quarantined": exc.quarantined, "dossiers": exc.total}
        wall, cpu = time.perf_counter() - t2, time.process_time() - c0
        peak = (_status_kib("VmHWM") or 0) / 1024
        store.dispose()
    stages = ", ".join(f"{k} {v:.1f}" for k, v in timings.items())
    print(f"{n:>9,} hồ sơ ({len(ratings):,} đánh giá): kiểm tra {wall:7.1f} s (CPU {cpu:.1f} s; {stages}); "
          f"{1e6 * wall / n:.0f} µs/hồ sơ; đọc kho (sàn) {floor:.1f} s → {wall / floor:.1f} × sàn; "
          f"đỉnh RSS {peak:.0f} MiB (+{max(0.0, peak - base):.0f} MiB trong khi kiểm tra); "
          f"{summary['quarantined']:,} cách ly; chuẩn bị dữ liệu {t1 - t0:.1f} s",
          flush=True)


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING)
    sizes = [int(a.replace(",", "").replace("_", "")) for a in argv] or [5_000, 100_000]
    t, c = time.perf_counter(), time.process_time()
    from parreport.quality.gx_runner import import_gx  # as the task imports GX (once, not per size)

    import_gx()

    print(f"nạp great_expectations: {time.perf_counter() - t:.1f} s (CPU {time.process_time() - c:.1f} s)")
    for n in sizes:
        bench(n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
