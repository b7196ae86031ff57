"""From an Airflow run to its pages: the run's period (its ``resolve_period`` XCom), the runs'
states, and the buttons Airflow shows on a task (``LINK_TARGETS``). Airflow is imported only
inside the look-ups, which run in the API server; the app takes them as arguments (tests pass
fakes). The paths themselves, and the link back to Airflow's grid, are in :mod:`.urls`."""
from __future__ import annotations

import json
from typing import Any

from ..config import DAG_ID

__all__ = ["PERIOD_TASK_ID", "DAG_ID", "LINK_TARGETS", "decode_xcom", "as_period", "airflow_period_lookup",
           "airflow_run_info"]

# The task whose return value (XCom "return_value") is the run's period; inside a task group or a
# mapped task group its id ends with ".resolve_period" and each map index is one agency.
PERIOD_TASK_ID = "resolve_period"
# target -> button name
LINK_TARGETS: dict[str, str] = {
    "data-docs": "Data Docs",
    "bao-cao": "Báo cáo & tệp đính kèm",
    "bien-nhan": "Biên nhận",
    "tom-tat": "Tóm tắt lần chạy",
}


def decode_xcom(value: Any) -> Any:
    """An XCom value as stored in the metadata database (JSON, sometimes JSON text)."""
    for _ in range(2):
        if isinstance(value, (str, bytes)):
            try:
                value = json.loads(value)
            except ValueError:
                return value
    if isinstance(value, dict) and "__data__" in value and "__classname__" in value:
        value = value["__data__"]
    return value


def as_period(value: Any) -> dict | None:
    value = decode_xcom(value)
    if isinstance(value, dict) and isinstance(value.get("agency"), str) and isinstance(value.get("window_key"), str):
        return value
    return None


def airflow_period_lookup(dag_id: str, run_id: str, map_index: int | None = None) -> list[dict]:
    """The periods (``Period.as_dict()``) the run's ``resolve_period`` task(s) returned, in map
    index order; only the one of ``map_index`` when given and present. Runs in the API server."""
    from sqlalchemy import or_, select

    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.execute(
            select(XComModel.map_index, XComModel.value).where(
                XComModel.dag_id == dag_id, XComModel.run_id == run_id, XComModel.key == "return_value",
                or_(XComModel.task_id == PERIOD_TASK_ID, XComModel.task_id.like(f"%.{PERIOD_TASK_ID}")))
            .order_by(XComModel.map_index)).all()
    periods = [(mi, as_period(v)) for mi, v in rows]
    periods = [(mi, p) for mi, p in periods if p is not None]
    if map_index is not None and map_index >= 0:
        exact = [p for mi, p in periods if mi == map_index]
        if exact:
            return exact
    return [p for _, p in periods]


def airflow_run_info(run_ids: list[str], dag_id: str = DAG_ID) -> dict[str, dict]:
    """State, type, start and end of the given runs of the report DAG, and the tasks that failed
    in each (``{run_id: {...}}``; a run Airflow does not know is absent). Runs in the API server."""
    from sqlalchemy import select

    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    if not run_ids:
        return {}
    out: dict[str, dict] = {}
    with create_session() as session:
        for i in range(0, len(run_ids), 500):
            chunk = run_ids[i:i + 500]
            for r in session.execute(select(DagRun.run_id, DagRun.state, DagRun.run_type, DagRun.start_date,
                                            DagRun.end_date).where(DagRun.dag_id == dag_id,
                                                                   DagRun.run_id.in_(chunk))).all():
                out[r.run_id] = {"state": str(getattr(r.state, "value", r.state) or ""),
                                 "run_type": str(getattr(r.run_type, "value", r.run_type) or ""),
                                 "start_date": r.start_date, "end_date": r.end_date, "failed_tasks": []}
            for ti in session.execute(select(TaskInstance.run_id, TaskInstance.task_id, TaskInstance.map_index)
                                      .where(TaskInstance.dag_id == dag_id, TaskInstance.run_id.in_(chunk),
                                             TaskInstance.state == "failed")).all():
                if ti.run_id in out:
                    out[ti.run_id]["failed_tasks"].append(ti.task_id)
    return out
