"""Satisfaction ratings (``DanhGia``): generated as columns after the dossiers, built into
records on demand. A few are planted invalid (``Dataset.invalid_ratings``): a level outside
1–3, an unreadable NgayDanhGia, a unit outside the agency."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..periods import Window
from . import catalogue as cat
from .model import GeneratorConfig
from .records import absent_value, name_of, phone_of
from .timecols import DAY, NONE, bad_timestamp_value, fmt, secs_to_tsint, to_secs

if TYPE_CHECKING:
    from .dataset import Dataset


def generate_ratings(ds: "Dataset", cfg: GeneratorConfig, rng: np.random.Generator, windows: list[Window],
                     as_of: int) -> None:
    """Fill ``ds.rating_cols`` and ``ds.invalid_ratings``: ratings of resolved dossiers given by
    ``as_of``, plus ratings exactly at S, E and E + 1 s of every window."""
    c = ds.cols
    n = len(ds)
    done = ((c["status"] == 9) | (c["status"] == 10)) & (c["k"] != NONE)
    rated = done & (rng.random(n) < cfg.rating_rate)
    rows = np.nonzero(rated)[0]
    base = np.where(c["tra"][rows] != NONE, c["tra"][rows], c["k"][rows])
    date = base + rng.integers(600, 25 * DAY, size=rows.shape[0])
    keep = date <= as_of
    rows, date = rows[keep], date[keep]
    # boundary ratings: exactly at S, E and E + 1 s of each window, for older dossiers
    extra_rows, extra_dates = [], []
    for w in windows:
        S, E = to_secs(w.start), to_secs(w.end)
        older = np.nonzero(done & (c["k"] < S - DAY))[0]
        if older.shape[0] == 0:
            continue
        for moment in (S, E, E + 1):
            if moment <= as_of:
                extra_rows += rng.choice(older, size=2).tolist()
                extra_dates += [moment, moment]
    rows = np.concatenate([rows, np.array(extra_rows, dtype=np.int64)])
    date = np.concatenate([date, np.array(extra_dates, dtype=np.int64)])
    order = np.lexsort((rows, date))
    rows, date = rows[order], date[order]
    m = rows.shape[0]
    level = rng.choice([3, 2, 1], size=m, p=[0.55, 0.38, 0.07]).astype(np.int8)
    unit = c["unit"][rows].astype(np.int64)
    n_units = len(ds.units)
    r = rng.random(m)
    unit = np.where(r < 0.05, 0, unit)  # attributed to the department itself
    unit = np.where((r >= 0.05) & (r < 0.08), rng.integers(1, n_units, size=m), unit)  # to another sub-unit
    comment = rng.choice([0, 1, 2], size=m, p=[0.5, 0.35, 0.15]).astype(np.int8)
    bad_date = np.full(m, -1, dtype=np.int64)
    # invalid ratings
    n_bad = int(round(cfg.invalid_rating_rate * m))
    bad = np.sort(rng.choice(m, size=min(n_bad * 3, m), replace=False))
    for idx, j in enumerate(bad):
        kind = idx % 3
        if kind == 0:
            level[j] = (4, 0)[idx % 2]
            ds.invalid_ratings[ds.ma_danh_gia(int(j))] = frozenset({"bad_code"})
        elif kind == 1:
            bad_date[j] = int(rng.integers(0, 10_000))
            ds.invalid_ratings[ds.ma_danh_gia(int(j))] = frozenset({"bad_timestamp"})
        else:
            unit[j] = n_units + idx % len(cat.OUTSIDE_UNITS)
            ds.invalid_ratings[ds.ma_danh_gia(int(j))] = frozenset({"unit_outside_agency"})
    ds.rating_cols = dict(row=rows, date=date, level=level, unit=unit, comment=comment, bad_date=bad_date)
    date_int = secs_to_tsint(date)
    date_int[bad_date >= 0] = -1
    ds.rating_cols["date_int"] = date_int


def rating_record(ds: "Dataset", j: int) -> dict:
    """Rating number ``j`` as the portal emits it."""
    rc = ds.rating_cols
    row = int(rc["row"][j])
    bad_date = int(rc["bad_date"][j])
    date = fmt(rc["date"][j])
    if bad_date >= 0:
        date = bad_timestamp_value(date, bad_date)
    kind = int(rc["comment"][j])
    if kind == 0:
        comment = absent_value(j, 0)
    elif kind == 1:
        comment = cat.GENERIC_COMMENTS[j % len(cat.GENERIC_COMMENTS)]
    else:
        rc_ = ds.row_columns(row)
        comment = (f"Tôi là {name_of(rc_)}, số điện thoại {phone_of(rc_)}. "
                   + cat.GENERIC_COMMENTS[j % len(cat.GENERIC_COMMENTS)])
    return {
        "MaDanhGia": ds.ma_danh_gia(j),
        "MaHoSo": ds.ma_ho_so(row),
        "DonViXuLy": ds.rating_unit_codes[int(rc["unit"][j])],
        "NgayDanhGia": date,
        "MucDoHaiLong": str(int(rc["level"][j])),
        "GopY": comment,
        "NgayCapNhat": fmt(rc["date"][j]),
    }
