"""Timestamps of the contracts: local Vietnam time (UTC+07:00) as ``yyyyMMddHHmmss``.

Everything is compared as naive local wall-clock time in UTC+07:00 (there is no daylight
saving): nothing is converted to UTC before dates are compared (INDICATORS.md §1).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

VN_TZ = timezone(timedelta(hours=7), name="UTC+07:00")
_TS_RE = re.compile(r"^[0-9]{14}$")
TS_FORMAT = "%Y%m%d%H%M%S"


class BadTimestamp(ValueError):
    """A value that is not ``yyyyMMddHHmmss`` or not a real instant."""


def is_absent(value) -> bool:
    """null and the empty string both mean absent (INDICATORS.md §5)."""
    return value is None or value == ""


def parse_ts(value) -> datetime | None:
    """Parse a contract timestamp into a naive local datetime; None when absent.

    Raises BadTimestamp when present but not 14 digits or not a real instant
    (e.g. 20250230120000 or 20250101246000).
    """
    if is_absent(value):
        return None
    if not isinstance(value, str) or not _TS_RE.match(value):
        raise BadTimestamp(f"không đúng dạng yyyyMMddHHmmss: {value!r}")
    try:
        return datetime.strptime(value, TS_FORMAT)
    except ValueError as exc:
        raise BadTimestamp(f"không phải thời điểm có thật: {value!r}") from exc


def format_ts(moment: datetime) -> str:
    """Naive local (or aware, converted to UTC+07:00) datetime -> ``yyyyMMddHHmmss``."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(VN_TZ).replace(tzinfo=None)
    return moment.strftime(TS_FORMAT)


def now_local() -> datetime:
    """The current instant as naive UTC+07:00 wall-clock time."""
    return datetime.now(VN_TZ).replace(tzinfo=None)
