"""Reporting windows (INDICATORS.md §1), shared by the DAG, the timetable and the figures.

Default rule (Nghị định 09/2019/NĐ-CP): quarter Q of year Y runs from the 15th of the month
before the quarter, 00:00:00, to the 14th of the quarter's last month, 23:59:59, both
inclusive, in UTC+07:00. A deployment may choose calendar quarters instead.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from .timeutil import VN_TZ, format_ts, now_local

WINDOW_RULES = ("nd09", "calendar")


@dataclass(frozen=True)
class Window:
    year: int
    quarter: int
    start: datetime  # S, naive local time, first instant (inclusive)
    end: datetime  # E, naive local time, last instant (inclusive, hh:mm:59)
    rule: str = "nd09"

    @property
    def start_ts(self) -> str:
        return format_ts(self.start)

    @property
    def end_ts(self) -> str:
        return format_ts(self.end)

    @property
    def key(self) -> str:
        """Stable partition key, e.g. ``2025Q1_20241215_20250314``."""
        return f"{self.year}Q{self.quarter}_{self.start:%Y%m%d}_{self.end:%Y%m%d}"

    @property
    def label(self) -> str:
        return f"Quý {self.quarter}/{self.year} ({self.start:%d/%m/%Y} – {self.end:%d/%m/%Y})"

    def contains(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment <= self.end

    def start_aware(self) -> datetime:
        return self.start.replace(tzinfo=VN_TZ)

    def end_aware(self) -> datetime:
        return self.end.replace(tzinfo=VN_TZ)

    def previous(self) -> "Window":
        y, q = (self.year, self.quarter - 1) if self.quarter > 1 else (self.year - 1, 4)
        return window_for(y, q, self.rule)

    def year_before(self) -> "Window":
        return window_for(self.year - 1, self.quarter, self.rule)


def _check(year: int, quarter: int, rule: str) -> None:
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise ValueError(f"năm không hợp lệ: {year!r}")
    if quarter not in (1, 2, 3, 4):
        raise ValueError(f"quý không hợp lệ: {quarter!r} (phải là 1–4)")
    if rule not in WINDOW_RULES:
        raise ValueError(f"quy tắc kỳ báo cáo không hợp lệ: {rule!r} (chọn một trong {WINDOW_RULES})")


def window_for(year: int, quarter: int, rule: str = "nd09") -> Window:
    """The reporting window of quarter ``quarter`` of ``year`` under ``rule``."""
    _check(year, quarter, rule)
    last_month = quarter * 3
    if rule == "calendar":
        start = datetime(year, last_month - 2, 1)
        next_first = date(year + 1, 1, 1) if last_month == 12 else date(year, last_month + 1, 1)
        end = datetime.combine(next_first - timedelta(days=1), datetime.max.time()).replace(microsecond=0)
    else:
        first_month = last_month - 2
        sy, sm = (year - 1, 12) if first_month == 1 else (year, first_month - 1)
        start = datetime(sy, sm, 15)
        end = datetime(year, last_month, 14, 23, 59, 59)
    return Window(year, quarter, start, end, rule)


def window_end_exclusive(window: Window) -> datetime:
    """``E + 1 s``: the first instant after the window (naive local)."""
    return window.end + timedelta(seconds=1)


def deadline_for(window: Window, day: int = 20) -> datetime:
    """The submission deadline of a window: 23:59:59 (UTC+07:00, naive) on day ``day`` of the month
    in which the window closes, or of the month after if that is not after the close.

    ``nd09``: the window closes at 00:00 on the 15th of the quarter's last month, so the default is
    23:59:59 on the 20th of that month (INDICATORS.md §1). ``calendar``: the window closes at 00:00
    on the 1st of the month after the quarter, so the deadline is 23:59:59 on the 20th of that month
    (the 20th of the quarter's last month would fall before the window even ends).
    """
    if not 1 <= day <= 28:
        raise ValueError("deadline_day phải trong khoảng 1–28")
    close = window_end_exclusive(window)
    deadline = datetime(close.year, close.month, day, 23, 59, 59)
    if deadline <= close:
        year, month = (close.year + 1, 1) if close.month == 12 else (close.year, close.month + 1)
        deadline = datetime(year, month, day, 23, 59, 59)
    return deadline


def window_containing(moment: datetime, rule: str = "nd09") -> Window:
    """The window whose [S, E] contains the naive local ``moment`` (to the second)."""
    moment = moment.replace(microsecond=0)
    for year in (moment.year, moment.year + 1):
        for quarter in (1, 2, 3, 4):
            w = window_for(year, quarter, rule)
            if w.contains(moment):
                return w
    raise ValueError(f"không tìm thấy kỳ báo cáo chứa {moment}")  # pragma: no cover


def last_closed_window(now: datetime, rule: str = "nd09") -> Window:
    """The most recent window whose end E is before ``now`` (naive local)."""
    return window_containing(now, rule).previous()


def _naive_local(moment: datetime) -> datetime:
    """Aware ``moment`` -> naive UTC+07:00 wall-clock time; a naive one is taken as local already."""
    return moment.astimezone(VN_TZ).replace(tzinfo=None) if moment.tzinfo is not None else moment


def closed_window_at(moment: datetime, rule: str = "nd09") -> Window:
    """The last window closed at ``moment`` (aware, or naive local): the latest with E + 1 s <= moment.

    Unlike :func:`last_closed_window` this accepts any instant, including one with a fraction of a
    second between E and E + 1 s.
    """
    local = _naive_local(moment)
    candidates = [window_for(y, q, rule) for y in (local.year - 1, local.year, local.year + 1)
                  if 2000 <= y <= 2100 for q in (1, 2, 3, 4)]
    return [w for w in candidates if window_end_exclusive(w) <= local][-1]


def run_window(*, rule: str, params: Mapping[str, Any] | None = None, run_type: Any = None,
               data_interval_end: datetime | None = None, run_after: datetime | None = None) -> Window:
    """Which quarter a DAG run is about — the one answer for the tasks (``pipeline.resolve_period``),
    the alerts and the deadline (and, through ``resolve_period``'s XCom, the operator's pages):

    - the ``year`` and ``quarter`` params when both are given (one without the other is an error);
    - else, for a scheduled or backfill run, the window closed at its data interval's end;
    - else (a manual or asset-triggered run), the window closed when the run was due (``run_after``,
      fixed when the run was created, so a task cleared weeks later reports the same quarter),
      or now when the run has no ``run_after``.
    """
    params = params or {}
    year, quarter = params.get("year"), params.get("quarter")
    if year is not None and quarter is not None:
        return window_for(int(year), int(quarter), rule)
    if (year is None) != (quarter is None):
        raise ValueError("cần cả 'year' và 'quarter', hoặc bỏ trống cả hai")
    kind = str(getattr(run_type, "value", run_type) or "")
    if kind in ("scheduled", "backfill") and data_interval_end is not None:
        return closed_window_at(data_interval_end, rule)
    return closed_window_at(run_after if run_after is not None else now_local(), rule)
