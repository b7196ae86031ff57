"""The deadline: the DAG's ``deadline=`` (an Airflow 3 ``DeadlineAlert`` whose reference is the
configured deadline of the quarter a scheduled run reports) and its callback, run by the triggerer,
which alerts unless the store shows the quarter accepted in time ("accepted in time?")."""
from __future__ import annotations

import asyncio
import logging
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping

from ..calendar_timetable import ReportingDeadline
from ..periods import Window, deadline_for, run_window
from ..timeutil import VN_TZ
from .messages import Alert, RunRef, _as_datetime, _deadline_alert, _settings, run_url
from .notifiers import send_alert

log = logging.getLogger(__name__)


# -- the deadline ---------------------------------------------------------------------------------
def deadline_alert(settings: Any = None):
    """The DAG's ``deadline=``: the configured deadline of the quarter each scheduled run reports
    (default 23:59:59 on the 20th of the quarter's last month, UTC+07:00), with
    :func:`on_deadline_missed` as the callback (run by the triggerer)."""
    from airflow.sdk import AsyncCallback, DeadlineAlert

    settings = settings or _settings()
    return DeadlineAlert(
        reference=ReportingDeadline(rule=settings.window_rule, day=settings.deadline_day),
        interval=timedelta(0),
        callback=AsyncCallback(on_deadline_missed, kwargs={"rule": settings.window_rule,
                                                           "day": settings.deadline_day}),
        name="Hạn nộp báo cáo quý cho Sở Nội vụ",
    )


def dag_deadline(settings: Any = None, argv: list[str] | None = None):
    """What the DAG file passes as ``deadline=``: :func:`deadline_alert`, except in a process
    started as ``airflow dags test``. Airflow 3.3.2's ``dag.test()`` crashes at the end of a
    successful run of a DAG with a deadline (``DagRun.update_state`` looks the alerts up by the
    ids only the DAG processor assigns); deadlines are watched by the scheduler, which
    ``dags test`` does not run, so nothing is lost there."""
    argv = sys.argv if argv is None else argv
    if [Path(a).name for a in argv[:1]] == ["airflow"] and argv[1:3] == ["dags", "test"]:
        return None
    return deadline_alert(settings)


def accepted_in_time(settings: Any, agency: str, window: Window, deadline: datetime) -> bool:
    """Whether the store holds a version of the quarter's report that the intake accepted (receipt
    DA_TIEP_NHAN or DA_DUYET) at or before ``deadline``. Any doubt answers False (alert)."""
    from ..store import Store

    with Store(settings.store_url) as store:
        versions = store.report_versions(agency, window.year, window.quarter)
    deadline_utc = deadline.astimezone(timezone.utc)
    for v in versions:
        receipt = v.get("receipt") or {}
        if v.get("status") != "ACCEPTED" or receipt.get("TrangThai") not in ("DA_TIEP_NHAN", "DA_DUYET"):
            continue
        when = _as_datetime(receipt.get("ThoiDiemTiepNhan")) or v.get("submitted_at")
        if isinstance(when, datetime):
            when = when if when.tzinfo else when.replace(tzinfo=VN_TZ if "ThoiDiemTiepNhan" in receipt
                                                          else timezone.utc)
            if when.astimezone(timezone.utc) <= deadline_utc:
                return True
    return False


def deadline_run_alert(dag_run: Mapping[str, Any], deadline: datetime | None, *, rule: str, day: int,
                       settings: Any = None) -> Alert:
    """The deadline alert for a run described as Airflow's DAGRunResponse (the callback's context)."""
    settings = settings or _settings()
    conf = dag_run.get("conf") or {}
    window = run_window(rule=rule, params=conf, run_type=dag_run.get("run_type"),
                        data_interval_end=_as_datetime(dag_run.get("data_interval_end")),
                        run_after=_as_datetime(dag_run.get("run_after")))
    agency = (conf.get("agency") or "").strip() if isinstance(conf.get("agency"), str) else ""
    dag_id = dag_run.get("dag_id") or "?"
    run_id = dag_run.get("dag_run_id") or dag_run.get("run_id") or "?"
    if deadline is None:
        from ..calendar_timetable import _aware

        deadline = _aware(deadline_for(window, day))
    ref = RunRef(dag_id, run_id, window, agency or settings.agency, run_url(dag_id, run_id), dag_run.get("state"))
    return _deadline_alert(ref, deadline)


async def on_deadline_missed(context: Mapping[str, Any] | None = None, rule: str = "nd09", day: int = 20,
                             **kwargs) -> str:
    """DeadlineAlert callback (runs in the triggerer): one alert for the run whose deadline passed,
    unless its quarter's report was accepted in time by another run."""
    context = context or {}
    dag_run = dict(context.get("dag_run") or {})
    deadline = _as_datetime((context.get("deadline") or {}).get("deadline_time"))
    settings = _settings()
    alert = deadline_run_alert(dag_run, deadline, rule=rule, day=day, settings=settings)
    if deadline is not None and alert.quarter:
        window = run_window(rule=rule, params=dag_run.get("conf") or {}, run_type=dag_run.get("run_type"),
                            data_interval_end=_as_datetime(dag_run.get("data_interval_end")),
                            run_after=_as_datetime(dag_run.get("run_after")))
        try:
            conf_agency = (dag_run.get("conf") or {}).get("agency")
            agencies = [alert.agency] if conf_agency else list(getattr(settings, "agencies", ()) or [alert.agency])
            late = [a for a in agencies
                    if not await asyncio.to_thread(accepted_in_time, settings, a, window, deadline)]
            if not late:
                log.info("báo cáo %s của %s đã được tiếp nhận trước hạn: không cảnh báo", alert.quarter,
                         ", ".join(agencies))
                return "accepted"
        except Exception as exc:
            log.warning("không kiểm tra được kho báo cáo (%s): vẫn gửi cảnh báo", type(exc).__name__)
    sent = await asyncio.to_thread(send_alert, alert)
    return f"sent:{sent}"
