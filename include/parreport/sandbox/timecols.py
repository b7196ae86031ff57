"""Time in the generator: integer seconds of naive local (UTC+07:00) wall-clock time since
1970-01-01 00:00, written as ``yyyyMMddHHmmss``; -1 (:data:`NONE`) marks an absent value.

Also the unreadable forms a planted ``bad_timestamp`` takes (:func:`bad_timestamp_value`).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np

from ..timeutil import BadTimestamp, parse_ts

DAY = 86_400
HOUR = 3_600
EPOCH = datetime(1970, 1, 1)
NONE = -1  # "absent" in the integer time columns


def to_secs(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds())


def from_secs(secs: int) -> datetime:
    return EPOCH + timedelta(seconds=int(secs))


def fmt(secs) -> str:
    return from_secs(secs).strftime("%Y%m%d%H%M%S")


def secs_to_tsint(secs: np.ndarray) -> np.ndarray:
    """Seconds -> yyyyMMddHHmmss as int64 (0 where absent). Vectorised."""
    secs = np.asarray(secs, dtype=np.int64)
    absent = secs == NONE
    safe = np.where(absent, 0, secs)
    days = (safe // DAY).astype("datetime64[D]")
    year = days.astype("datetime64[Y]").astype(np.int64) + 1970
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    sod = safe % DAY
    value = ((year * 100 + month) * 100 + day) * 1_000_000 + (sod // HOUR) * 10_000 + (sod % HOUR // 60) * 100 + sod % 60
    return np.where(absent, 0, value)


def ts_to_int(value: Any) -> int:
    """A contract timestamp -> int for comparisons: 0 when absent, -1 when unreadable."""
    try:
        moment = parse_ts(value)
    except BadTimestamp:
        return -1
    return 0 if moment is None else int(moment.strftime("%Y%m%d%H%M%S"))


def busday(days: np.ndarray, offsets) -> np.ndarray:
    """Business-day offset (Mon–Fri) on integer day numbers, rolling forward first."""
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    return np.busday_offset(d, offsets, roll="forward").astype(np.int64)


BAD_TS_FORMS = 6


def bad_timestamp_value(original: Any, variant: int) -> str:
    """An unreadable form of a timestamp (30 February, hour 24, dashes, 12 digits, d/m/Y, month 13)."""
    base = original if isinstance(original, str) and len(original) == 14 and original.isdigit() else "20250314093000"
    form = variant % BAD_TS_FORMS
    if form == 0:
        return base[:4] + "0230" + base[8:]  # 30 February
    if form == 1:
        return base[:8] + "24" + base[10:]  # hour 24
    if form == 2:
        return f"{base[:4]}-{base[4:6]}-{base[6:8]} {base[8:10]}:{base[10:12]}:{base[12:]}"
    if form == 3:
        return base[:12]  # seconds missing
    if form == 4:
        return f"{base[6:8]}/{base[4:6]}/{base[:4]}"
    return base[:4] + "1301" + base[8:]  # month 13

