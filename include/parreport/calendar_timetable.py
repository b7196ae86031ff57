"""The reporting calendar as an Airflow timetable, and the quarter's submission deadline.

Data intervals are the reporting windows of INDICATORS.md §1 (``periods.window_for``):

- ``nd09`` (default): quarter Q of year Y runs from ``S`` = the 15th of the month before the
  quarter, 00:00:00, to ``E`` = the 14th of the quarter's last month, 23:59:59, UTC+07:00;
- ``calendar``: the calendar quarter, 1st of its first month 00:00:00 to its last day 23:59:59.

Airflow data intervals are half-open ``[start, end)``, the windows are closed ``[S, E]`` to the
second, so a run's interval is ``start = S`` and ``end = E + 1 s`` (00:00:00 on the 15th of the
quarter's last month under ``nd09``; 00:00:00 on the 1st of the month after the quarter under
``calendar``). The pipeline recovers the quarter from ``end``: ``last_closed_window(end)``.
The run is due ``delay`` after the window closes (``run_after = end + delay``, default one day)
so that dossiers finished at the very end of the window have reached the portal.

Catch-up and backfills walk the windows one after another. ``restriction.earliest`` (the DAG's
``start_date``, or a backfill's ``--from-date``) is compared by calendar date in UTC+07:00: a
window counts when the *date* of ``S`` is on or after the date of ``earliest`` (so a backfill from
``2024-12-15``, which Airflow reads as midnight UTC = 07:00 in Vietnam, still includes the window
that starts at 00:00 on 15/12/2024). ``restriction.latest`` (``end_date``, ``--to-date``) is
compared to the instant ``S`` (Airflow refuses to run tasks whose logical date is after end_date).

Airflow 3 serializes DAGs: a custom timetable must be registered by a plugin
(``parreport.airflow_plugins.reporting_calendar``, found through the package's ``airflow.plugins``
entry point) on every component that deserializes it (scheduler, DAG processor, API server).

The deadline (INDICATORS.md §1: configuration, default 23:59:59 on the 20th of the quarter's last
month) is computed per run by :class:`ReportingDeadline`, a custom ``DeadlineReference``
registered by the same plugin (see ``alerts.deadline_alert``).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pendulum
from airflow.sdk import BaseDeadlineReference
from airflow.timetables.base import DagRunInfo, DataInterval, Timetable

from .periods import (WINDOW_RULES, Window, closed_window_at, deadline_for, run_window, window_end_exclusive,
                      window_for)
from .timeutil import VN_TZ

DEFAULT_DELAY = timedelta(days=1)

RULE_TEXT = {
    "nd09": "15 tháng trước quý – 14 tháng cuối quý",
    "calendar": "quý dương lịch: ngày 1 tháng đầu quý – ngày cuối tháng cuối quý",
}


def _utcnow() -> datetime:
    """The current instant (patched in tests)."""
    return datetime.now(timezone.utc)


def _local(moment: datetime) -> datetime:
    """Aware (or naive UTC) ``moment`` -> naive UTC+07:00 wall-clock time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(VN_TZ).replace(tzinfo=None)


def _aware(naive_local: datetime) -> pendulum.DateTime:
    """Naive UTC+07:00 wall-clock time -> aware pendulum DateTime (in UTC, as Airflow stores it)."""
    return pendulum.instance(naive_local.replace(tzinfo=VN_TZ)).in_timezone("UTC")


def _windows_around(year: int, rule: str) -> list[Window]:
    return [window_for(y, q, rule) for y in (year - 1, year, year + 1) if 2000 <= y <= 2100
            for q in (1, 2, 3, 4)]


def data_interval_for(window: Window) -> DataInterval:
    """The Airflow data interval ``[S, E + 1 s)`` of a reporting window."""
    return DataInterval(start=_aware(window.start), end=_aware(window_end_exclusive(window)))


def first_window_from(moment: datetime, rule: str = "nd09", *, by_date: bool = False) -> Window:
    """The first window starting at or after ``moment`` (aware, or naive local).

    With ``by_date`` the comparison is by calendar date in UTC+07:00 (``date(S) >= date(moment)``).
    """
    local = _local(moment) if moment.tzinfo is not None else moment
    for w in _windows_around(local.year, rule):
        if (w.start.date() >= local.date()) if by_date else (w.start >= local):
            return w
    raise ValueError(f"không có kỳ báo cáo nào bắt đầu từ {local}")  # pragma: no cover


def window_of_interval(interval: DataInterval | tuple, rule: str = "nd09") -> Window:
    """The window a data interval stands for: the last closed at its end (as the pipeline reads it)."""
    return closed_window_at(interval[1], rule)


def parse_instant(value: str | datetime) -> datetime:
    """An ISO 8601 instant; without an offset it is read as UTC+07:00 wall-clock time."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VN_TZ)
    return pendulum.instance(moment).in_timezone("UTC")


def _format_delay(delay: timedelta) -> str:
    seconds = int(delay.total_seconds())
    if seconds == 0:
        return "ngay"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days} ngày" if days else "", f"{hours} giờ" if hours else "", f"{minutes} phút" if minutes else ""]
    return " ".join(p for p in parts if p)


class ReportingWindowTimetable(Timetable):
    """One run per reporting window, ``delay`` after it closes (see the module's docstring).

    :param rule: ``"nd09"`` (Nghị định 09/2019/NĐ-CP windows, the default) or ``"calendar"``;
        it must be the pipeline's ``window_rule`` setting (``PARREPORT_WINDOW_RULE``).
    :param delay: how long after the window closes the run starts (default one day).
    :param not_before: an installation's first scheduled instant (aware): the schedule starts no
        window whose run is due before it, so that a new installation does not start, on its own,
        a quarter that was due before it existed (the operator runs that one by hand). Later
        quarters run on schedule as usual. ``None`` (the default): no such limit.
    """

    periodic = True
    can_be_scheduled = True
    run_ordering = ("data_interval_end", "logical_date")

    def __init__(self, rule: str = "nd09", delay: timedelta | None = None, not_before: datetime | None = None):
        if rule not in WINDOW_RULES:
            raise ValueError(f"quy tắc kỳ báo cáo không hợp lệ: {rule!r} (chọn một trong {WINDOW_RULES})")
        delay = DEFAULT_DELAY if delay is None else delay
        if not isinstance(delay, timedelta) or delay < timedelta(0) or delay > timedelta(days=60):
            raise ValueError(f"delay phải là timedelta trong khoảng 0 – 60 ngày, không phải {delay!r}")
        self.rule = rule
        self.delay = delay
        if not_before is not None and not_before.tzinfo is None:
            raise ValueError("not_before phải có múi giờ")
        self.not_before = not_before
        self.description = (
            f"Hằng quý, sau khi kỳ số liệu ({RULE_TEXT[rule]}, UTC+07:00) kết thúc "
            + (_format_delay(delay) if delay else "là chạy ngay")
        )

    @classmethod
    def from_settings(cls, settings: Any = None, delay: timedelta | None = None) -> "ReportingWindowTimetable":
        """The timetable for the deployment's ``window_rule`` (``config.load_settings()``); the delay
        is ``delay``, else the setting ``schedule_delay_hours`` when Settings has it, else one day."""
        if settings is None:
            from .config import load_settings

            settings = load_settings()
        hours = getattr(settings, "schedule_delay_hours", None)
        if delay is None and hours is not None:
            delay = timedelta(hours=float(hours))
        start = getattr(settings, "schedule_from", None)
        return cls(rule=settings.window_rule, delay=delay, not_before=parse_instant(start) if start else None)

    # -- what the UI shows --------------------------------------------------------------------
    @property
    def summary(self) -> str:
        rule = "NĐ 09: 15→14" if self.rule == "nd09" else "quý dương lịch"
        return f"Hằng quý ({rule}), +{_format_delay(self.delay)}" if self.delay else f"Hằng quý ({rule})"

    # -- serialization ------------------------------------------------------------------------
    def serialize(self) -> dict[str, Any]:
        data: dict[str, Any] = {"rule": self.rule, "delay": self.delay.total_seconds()}
        if self.not_before is not None:
            data["not_before"] = self.not_before.isoformat()
        return data

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> "ReportingWindowTimetable":
        start = data.get("not_before")
        return cls(rule=data.get("rule", "nd09"), delay=timedelta(seconds=float(data.get("delay", 86400))),
                   not_before=parse_instant(start) if start else None)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReportingWindowTimetable):
            return NotImplemented
        return (self.rule, self.delay, self.not_before) == (other.rule, other.delay, other.not_before)

    def __hash__(self) -> int:
        return hash((self.rule, self.delay, self.not_before))

    def __repr__(self) -> str:
        extra = f", not_before={self.not_before.isoformat()!r}" if self.not_before is not None else ""
        return f"ReportingWindowTimetable(rule={self.rule!r}, delay={self.delay!r}{extra})"

    # -- scheduling ---------------------------------------------------------------------------
    def _info(self, window: Window) -> DagRunInfo:
        interval = data_interval_for(window)
        return DagRunInfo(run_after=interval.end + self.delay, data_interval=interval)

    def infer_manual_data_interval(self, *, run_after: datetime) -> DataInterval:
        """A manual run reports the last window closed at ``run_after``."""
        return data_interval_for(closed_window_at(run_after, self.rule))

    def next_dagrun_info(self, *, last_automated_data_interval, restriction) -> DagRunInfo | None:
        if last_automated_data_interval is not None:
            # The window right after the last scheduled/backfilled one (the first that starts at
            # or after its end; with an unchanged rule, the one starting exactly at its end).
            candidate = first_window_from(last_automated_data_interval.end, self.rule)
            if restriction.earliest is not None:
                first = first_window_from(restriction.earliest, self.rule, by_date=True)
                candidate = max(candidate, first, key=lambda w: w.start)
        elif restriction.earliest is not None:
            candidate = first_window_from(restriction.earliest, self.rule, by_date=True)
        elif not restriction.catchup:
            candidate = None  # decided below: the latest closed window
        else:
            return None  # catch-up without a start date: nowhere to start from
        if not restriction.catchup:
            # No catch-up: never older than the last window closed now (it runs at end + delay,
            # possibly still ahead); an older one is skipped.
            latest_closed = closed_window_at(_utcnow(), self.rule)
            if candidate is None or candidate.start < latest_closed.start:
                candidate = latest_closed
        if self.not_before is not None:
            # this installation's schedule begins at not_before: a window due earlier is not started
            while self._info(candidate).run_after < self.not_before:
                candidate = first_window_from(window_end_exclusive(candidate), self.rule)
        if restriction.latest is not None and _aware(candidate.start) > restriction.latest:
            return None
        return self._info(candidate)


# -- the deadline ---------------------------------------------------------------------------------
def run_deadline(*, rule: str, day: int, run_type: str | None, conf: dict | None,
                 data_interval_end: datetime | None, run_after: datetime | None) -> datetime | None:
    """The deadline (aware, UTC) of one DAG run, or None when the run gets none.

    Only scheduled runs carry it: the timetable makes one per quarter, so a missed deadline makes
    exactly one alert. Manual runs and backfills are started by an operator who is watching them.
    (If the scheduled run failed and a manual re-run got the report accepted in time, the callback
    finds the acceptance in the store and stays silent: ``alerts.on_deadline_missed``.)
    """
    kind = str(getattr(run_type, "value", run_type) or "")
    if kind != "scheduled":
        return None
    window = run_window(rule=rule, params=conf, run_type=kind, data_interval_end=data_interval_end,
                        run_after=run_after)
    return _aware(deadline_for(window, day))


class ReportingDeadline(BaseDeadlineReference):
    """``DeadlineReference`` for "the configured deadline of the quarter this run reports".

    Airflow 3.3's built-in references are the run's logical date, its queue time, a fixed datetime
    or the average runtime; none is "a datetime computed per run from its data interval" (the
    logical date ``S`` is 95–98 days before the deadline depending on the quarter), so this custom
    reference computes the deadline itself and is used with ``interval=timedelta(0)``. It is
    evaluated by the scheduler when the run is created (``DAGRUN_CREATED``) and must be registered
    by a plugin (``deadline_references = [ReportingDeadline]``).
    """

    required_kwargs = {"dag_id", "run_id"}

    def __init__(self, rule: str = "nd09", day: int = 20):
        if rule not in WINDOW_RULES:
            raise ValueError(f"quy tắc kỳ báo cáo không hợp lệ: {rule!r}")
        if not 1 <= int(day) <= 28:
            raise ValueError("deadline_day phải trong khoảng 1–28")
        self.rule = rule
        self.day = int(day)

    def serialize_reference(self) -> dict[str, Any]:
        return {"reference_type": self.reference_name, "rule": self.rule, "day": self.day}

    @classmethod
    def deserialize_reference(cls, reference_data: dict[str, Any]) -> "ReportingDeadline":
        return cls(rule=reference_data.get("rule", "nd09"), day=reference_data.get("day", 20))

    def _evaluate_with(self, *, session: Any, dag_id: str, run_id: str, **kwargs: Any) -> datetime | None:
        from sqlalchemy import select

        from airflow.models import DagRun

        row = session.execute(
            select(DagRun.run_type, DagRun.conf, DagRun.data_interval_end, DagRun.run_after)
            .where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
        ).one_or_none()
        if row is None:
            return None
        run_type, conf, interval_end, run_after = row
        return run_deadline(rule=self.rule, day=self.day, run_type=run_type, conf=conf,
                            data_interval_end=interval_end, run_after=run_after)

    def __repr__(self) -> str:
        return f"ReportingDeadline(rule={self.rule!r}, day={self.day})"

