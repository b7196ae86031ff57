"""Reporting windows (INDICATORS.md §1), shared by the DAG, the timetable and the figures.

Default rule (Nghị định 09/2019/NĐ-CP): quarter Q of year Y runs from the 15th of the month
before the quarter, 00:00:00, to the 14th of the quarter's last month, 23:59:59, both
inclusive, in UTC+07:00. A deployment may choose calendar quarters instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .timeutil import VN_TZ, format_ts

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


def deadline_for(window: Window, day: int = 20) -> datetime:
    """Default deadline: 23:59:59 on the ``day``-th of the quarter's last month (local time)."""
    return datetime(window.year, window.quarter * 3, day, 23, 59, 59)


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
