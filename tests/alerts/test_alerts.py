"""Alerts: the Vietnamese texts (quarter, task, link to the run), the webhook and e-mail notifiers
against servers started here on 127.0.0.1, missing connections skipped, and the deadline of every
quarter of 2025 under both window rules."""
from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import tempfile
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

import pendulum  # noqa: E402
import pytest  # noqa: E402

from parreport import alerts  # noqa: E402
from parreport import db  # noqa: E402
from parreport import calendar_timetable as ct  # noqa: E402
from parreport.config import load_settings  # noqa: E402
from parreport.periods import deadline_for, window_for  # noqa: E402
from tests.support.fakes import Hook, OneRowSession, Smtp  # noqa: E402

VN = pendulum.FixedTimezone(7 * 3600)
BASE = "http://airflow.so-ldtbxh.example.vn:8080"
RUN_ID = "scheduled__2025-03-15T17:00:00+00:00"
RUN_URL = f"{BASE}/dags/quarterly_par_report/runs/scheduled__2025-03-15T17%3A00%3A00%2B00%3A00"


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", BASE)
    for var in ("AIRFLOW_CONN_PARREPORT_WEBHOOK", "AIRFLOW_CONN_PARREPORT_SMTP", "PARREPORT_ALERT_EMAILS",
                "PARREPORT_CONFIG", "PARREPORT_WINDOW_RULE", "PARREPORT_DEADLINE_DAY", "PARREPORT_AGENCY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PARREPORT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PARREPORT_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")


def html_of(msg) -> str:
    part = msg.get_body(preferencelist=("html", "plain"))
    return part.get_content()


# -- contexts ---------------------------------------------------------------------------------------
class FakeTI:
    def __init__(self, task_id="extract.dossiers", period=None, xcom_error=False):
        self.dag_id, self.task_id, self.run_id = "quarterly_par_report", task_id, RUN_ID
        self.try_number, self.map_index = 3, -1
        self._period, self._xcom_error = period, xcom_error

    @property
    def log_url(self):
        return f"{RUN_URL}/tasks/{self.task_id}?try_number={self.try_number}"

    def xcom_pull(self, task_ids=None, **kwargs):
        if self._xcom_error:
            raise RuntimeError("no XCom here")
        return self._period if task_ids == "resolve_period" else None


def failure_context(**kw):
    period = kw.pop("period", {"agency": "000.00.20.H57", "year": 2025, "quarter": 1, "rule": "nd09",
                               "window_key": "2025Q1_20241215_20250314"})
    ti = FakeTI(period=period, **kw)
    dag_run = SimpleNamespace(dag_id="quarterly_par_report", run_id=RUN_ID, run_type="scheduled",
                              data_interval_end=pendulum.datetime(2025, 3, 15, tz=VN),
                              run_after=pendulum.datetime(2025, 3, 16, tz=VN))
    return {"ti": ti, "task_instance": ti, "dag_run": dag_run, "run_id": RUN_ID, "params": {},
            "data_interval_end": dag_run.data_interval_end,
            "exception": RuntimeError("HTTP 503 tại https://client:s3cret@portal.example.vn/api/v1/ho-so: bận")}


def dag_run_response(**kw):
    """The dag_run part of a deadline callback's context (Airflow's DAGRunResponse, JSON mode)."""
    d = {"dag_run_id": RUN_ID, "dag_id": "quarterly_par_report", "run_type": "scheduled", "state": "running",
         "logical_date": "2024-12-14T17:00:00Z", "data_interval_start": "2024-12-14T17:00:00Z",
         "data_interval_end": "2025-03-14T17:00:00Z", "run_after": "2025-03-15T17:00:00Z", "conf": {}}
    d.update(kw)
    return d


# -- texts ------------------------------------------------------------------------------------------
def test_failure_message_names_quarter_task_and_run_link():
    subject, body = alerts.failure_message(failure_context())
    assert subject == ("[Báo cáo CCHC] Lỗi nhiệm vụ extract.dossiers – báo cáo Quý 1/2025, "
                       "đơn vị 000.00.20.H57")
    assert "Nhiệm vụ «extract.dossiers» của DAG «quarterly_par_report» đã thất bại (lần thử 3)." in body
    assert "Kỳ báo cáo: Quý 1/2025 (15/12/2024 – 14/03/2025); đơn vị báo cáo: 000.00.20.H57." in body
    assert f"Xem lần chạy: {RUN_URL}" in body
    assert f"Nhật ký nhiệm vụ: {RUN_URL}/tasks/extract.dossiers?try_number=3" in body
    assert f"Lần chạy: {RUN_ID}" in body
    # the reason, without the credentials an error message may carry
    assert "Lỗi: RuntimeError: HTTP 503 tại https://***@portal.example.vn/api/v1/ho-so: bận" in body
    assert "s3cret" not in body and "client:" not in body


def test_failure_message_without_xcom_uses_params_or_the_interval():
    # resolve_period itself failed: the quarter comes from the scheduled run's interval end
    ctx = failure_context(task_id="resolve_period", xcom_error=True)
    subject, body = alerts.failure_message(ctx)
    assert "Lỗi nhiệm vụ resolve_period – báo cáo Quý 1/2025" in subject
    # a manual run with params
    ctx = failure_context(period=None)
    ctx["params"] = {"year": 2024, "quarter": 3, "agency": "000.00.20.H99"}
    ctx["dag_run"].run_type = "manual"
    subject, body = alerts.failure_message(ctx)
    assert "Quý 3/2024, đơn vị 000.00.20.H99" in subject
    assert "Kỳ báo cáo: Quý 3/2024 (15/06/2024 – 14/09/2024)" in body


def test_deadline_message_names_quarter_deadline_and_run_link():
    ref = alerts.RunRef("quarterly_par_report", RUN_ID, window_for(2025, 1), "000.00.20.H57", RUN_URL, "failed")
    subject, body = alerts.deadline_message(ref, ct.run_deadline(
        rule="nd09", day=20, run_type="scheduled", conf=None,
        data_interval_end=pendulum.datetime(2025, 3, 15, tz=VN), run_after=None))
    assert subject == ("[Báo cáo CCHC] Quá hạn nộp báo cáo Quý 1/2025, đơn vị 000.00.20.H57: "
                       "chưa được Sở Nội vụ tiếp nhận")
    assert ("Đã quá hạn nộp báo cáo Quý 1/2025 (15/12/2024 – 14/03/2025) của đơn vị 000.00.20.H57: "
            "hạn là 23:59:59 ngày 20/03/2025 (giờ Việt Nam), nhưng báo cáo chưa được Sở Nội vụ tiếp nhận.") in body
    assert f"Lần chạy: {RUN_ID} của DAG «quarterly_par_report» (trạng thái: thất bại)." in body
    assert f"Xem lần chạy: {RUN_URL}" in body


# -- the deadline of every quarter of 2025 ----------------------------------------------------------
DEADLINES_2025 = {
    # INDICATORS.md §1: 23:59:59 on the 20th of the quarter's last month (nd09) ...
    "nd09": {1: "2025-03-20 23:59:59", 2: "2025-06-20 23:59:59", 3: "2025-09-20 23:59:59",
             4: "2025-12-20 23:59:59"},
    # ... and, for calendar quarters (which end on the quarter's last day), the 20th of the month after
    "calendar": {1: "2025-04-20 23:59:59", 2: "2025-07-20 23:59:59", 3: "2025-10-20 23:59:59",
                 4: "2026-01-20 23:59:59"},
}


@pytest.mark.parametrize("rule", ["nd09", "calendar"])
def test_deadline_for_every_quarter_of_2025(rule):
    tt = ct.ReportingWindowTimetable(rule=rule)
    for quarter, expected in DEADLINES_2025[rule].items():
        w = window_for(2025, quarter, rule)
        interval = ct.data_interval_for(w)
        got = ct.run_deadline(rule=rule, day=20, run_type="scheduled", conf={}, data_interval_end=interval.end,
                              run_after=interval.end + tt.delay)
        assert got == pendulum.parse(expected, tz=VN)
        assert deadline_for(w, 20) == datetime.fromisoformat(expected)
        if rule == "nd09":
            # = data_interval_end (00:00 on the 15th) + 5 days 23:59:59
            assert got == interval.end + timedelta(days=5, hours=23, minutes=59, seconds=59)
            # the logical date (S) is not a fixed time before it: no built-in reference could say it
        # the deadline is after the window closes, and a quarter's deadline is the one of its run
        assert got > interval.end
        assert ct.run_deadline(rule=rule, day=20, run_type="scheduled", conf={"year": 2025, "quarter": quarter},
                               data_interval_end=None, run_after=None) == got


def test_logical_date_offset_to_the_deadline_varies():
    offsets = {(ct.run_deadline(rule="nd09", day=20, run_type="scheduled", conf={},
                                data_interval_end=ct.data_interval_for(window_for(y, q)).end, run_after=None)
                - ct.data_interval_for(window_for(y, q)).start).days
               for y in (2024, 2025) for q in (1, 2, 3, 4)}
    assert len(offsets) > 1  # why the deadline is a custom reference, not DAGRUN_LOGICAL_DATE + interval


def test_deadline_only_on_scheduled_runs_and_configurable_day():
    end = pendulum.datetime(2025, 3, 15, tz=VN)
    for kind in ("manual", "backfill", "asset_triggered"):
        assert ct.run_deadline(rule="nd09", day=20, run_type=kind, conf={}, data_interval_end=end,
                               run_after=end) is None
    assert ct.run_deadline(rule="nd09", day=25, run_type="scheduled", conf={}, data_interval_end=end,
                           run_after=end) == pendulum.datetime(2025, 3, 25, 23, 59, 59, tz=VN)
    # a day before the window closes moves to the next month
    assert deadline_for(window_for(2025, 1), 10) == datetime(2025, 4, 10, 23, 59, 59)


def test_deadline_reference_evaluates_from_the_dag_run_row():
    Session = OneRowSession
    ref = ct.ReportingDeadline(rule="nd09", day=20)
    end = datetime(2025, 6, 14, 17, tzinfo=timezone.utc)  # 15/06/2025 00:00 +07:00
    got = ref._evaluate_with(session=Session(("scheduled", None, end, end)), dag_id="d", run_id="r")
    assert got == pendulum.datetime(2025, 6, 20, 23, 59, 59, tz=VN)
    assert ref._evaluate_with(session=Session(None), dag_id="d", run_id="r") is None
    assert ct.ReportingDeadline.deserialize_reference(ref.serialize_reference()) == ref


def test_deadline_alert_for_the_dag():
    from airflow.sdk.definitions.callback import AsyncCallback
    from airflow.sdk.definitions.deadline import DeadlineAlert

    settings = replace(load_settings(), window_rule="calendar", deadline_day=25)
    alert = alerts.deadline_alert(settings)
    assert isinstance(alert, DeadlineAlert) and isinstance(alert.callback, AsyncCallback)
    assert alert.reference == ct.ReportingDeadline("calendar", 25) and alert.interval == timedelta(0)
    assert alert.callback.path == "parreport.alerts.deadline.on_deadline_missed"
    assert alert.callback.kwargs == {"rule": "calendar", "day": 25}


# -- the webhook ------------------------------------------------------------------------------------
def test_webhook_posts_one_json_per_alert_and_retries_a_503(monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    with Hook(statuses=[503]) as hook:
        monkeypatch.setenv("AIRFLOW_CONN_PARREPORT_WEBHOOK", hook.connection())
        alert = alerts.failure_alert(failure_context())
        alerts.WebhookNotifier().send(alert)
    assert len(hook.requests) == 2  # the 503, then the retry that was accepted
    first, second = hook.requests
    assert first["body"] == second["body"] and second["path"] == "/hooks/TOKEN-BI-MAT-123"
    payload = json.loads(second["body"].decode("utf-8"))
    assert {"text", "dag_id", "run_id", "task_id", "quarter", "url"} <= payload.keys()
    assert payload["dag_id"] == "quarterly_par_report" and payload["run_id"] == RUN_ID
    assert payload["task_id"] == "extract.dossiers" and payload["quarter"] == "2025Q1"
    assert payload["url"] == RUN_URL
    assert payload["text"].startswith("[Báo cáo CCHC] Lỗi nhiệm vụ extract.dossiers – báo cáo Quý 1/2025")
    assert second["headers"]["Authorization"] == "Basic " + base64.b64encode(b"canh-bao:mat-khau-bi-mat").decode()
    assert second["headers"]["Content-Type"].startswith("application/json")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"http://127.0.0.1:{hook.port}" in logged
    assert "TOKEN-BI-MAT" not in logged and "mat-khau-bi-mat" not in logged and "canh-bao:" not in logged


def test_webhook_does_not_retry_a_4xx(monkeypatch):
    with Hook(statuses=[400, 400]) as hook:
        monkeypatch.setenv("AIRFLOW_CONN_PARREPORT_WEBHOOK", hook.connection())
        alert = alerts.failure_alert(failure_context())
        with pytest.raises(alerts.NotifierError, match="HTTP 400"):
            alerts.WebhookNotifier().send(alert)
        assert alerts.send_alert(alert, [alerts.WebhookNotifier()]) == 0  # logged, never raised
    assert len(hook.requests) == 2  # one per attempt to send, no retry


def test_webhook_gives_up_after_its_attempts(monkeypatch):
    with Hook(statuses=[503] * 10) as hook:
        monkeypatch.setenv("AIRFLOW_CONN_PARREPORT_WEBHOOK", hook.connection(attempts=3))
        with pytest.raises(alerts.NotifierError, match="503"):
            alerts.WebhookNotifier().send(alerts.failure_alert(failure_context()))
    assert len(hook.requests) == 3


def test_webhook_url_from_connection_shapes():
    conn = SimpleNamespace(conn_id="x", host="hooks.example.vn", schema="", port=None, login=None, password=None,
                           extra_dejson={"path": "services/T1/B2"})
    assert alerts.WebhookNotifier.url_from_connection(conn) == ("https://hooks.example.vn/services/T1/B2",
                                                                "https://hooks.example.vn")
    conn = SimpleNamespace(conn_id="x", host="https://u:p@chat.example.vn/v1/spaces/AAA?key=K", schema=None,
                           port=8443, login=None, password=None, extra_dejson={})
    assert alerts.WebhookNotifier.url_from_connection(conn) == (
        "https://chat.example.vn:8443/v1/spaces/AAA?key=K", "https://chat.example.vn:8443")


# -- e-mail -----------------------------------------------------------------------------------------
def test_email_arrives_with_vietnamese_subject_and_body(monkeypatch):
    with Smtp() as smtp:
        monkeypatch.setenv("AIRFLOW_CONN_PARREPORT_SMTP", smtp.connection())
        alerts.EmailNotifier().send(alerts.failure_alert(failure_context()))
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["to"] == ["truong-phong@so-ldtbxh.example.vn", "van-thu@so-ldtbxh.example.vn"]
    assert smtp.messages[0]["from"] == "airflow@so-ldtbxh.example.vn"
    msg = smtp.parsed()
    assert msg["Subject"] == ("[Báo cáo CCHC] Lỗi nhiệm vụ extract.dossiers – báo cáo Quý 1/2025, "
                              "đơn vị 000.00.20.H57")
    body = html_of(msg)
    assert "Nhiệm vụ «extract.dossiers» của DAG «quarterly_par_report» đã thất bại" in body
    assert "Kỳ báo cáo: Quý 1/2025 (15/12/2024 – 14/03/2025)" in body
    assert f'<a href="{RUN_URL}">{RUN_URL}</a>' in body


def test_email_recipients_from_the_setting(monkeypatch):
    with Smtp() as smtp:
        conn = json.loads(smtp.connection())
        del conn["extra"]["to"]
        monkeypatch.setenv("AIRFLOW_CONN_PARREPORT_SMTP", json.dumps(conn))
        monkeypatch.setenv("PARREPORT_ALERT_EMAILS", "giam-sat@so-ldtbxh.example.vn")
        alerts.EmailNotifier().send(alerts.failure_alert(failure_context()))
        monkeypatch.delenv("PARREPORT_ALERT_EMAILS")
        with pytest.raises(alerts.NotifierError, match="không có người nhận"):
            alerts.EmailNotifier().send(alerts.failure_alert(failure_context()))
    assert [m["to"] for m in smtp.messages] == [["giam-sat@so-ldtbxh.example.vn"]]


# -- every notifier, missing connections skipped ---------------------------------------------------
def test_notify_failure_sends_once_through_every_configured_notifier(monkeypatch):
    with Hook() as hook, Smtp() as smtp:
        monkeypatch.setenv("AIRFLOW_CONN_PARREPORT_WEBHOOK", hook.connection())
        monkeypatch.setenv("AIRFLOW_CONN_PARREPORT_SMTP", smtp.connection())
        alerts.notify_failure(failure_context())
    assert len(hook.requests) == 1 and len(smtp.messages) == 1
    assert json.loads(hook.requests[0]["body"])["task_id"] == "extract.dossiers"
    assert "Lỗi nhiệm vụ extract.dossiers" in smtp.parsed()["Subject"]


def test_missing_connections_are_skipped_with_one_log_line(monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="parreport.alerts")
    with Hook() as hook:
        monkeypatch.setenv("AIRFLOW_CONN_PARREPORT_WEBHOOK", hook.connection())
        alerts.notify_failure(failure_context())  # no parreport_smtp: skipped, webhook still sent
    assert len(hook.requests) == 1
    skipped = [r.getMessage() for r in caplog.records if "không có kết nối" in r.getMessage()]
    assert skipped == ["không có kết nối 'parreport_smtp': bỏ qua cảnh báo qua e-mail"]
    caplog.clear()
    monkeypatch.delenv("AIRFLOW_CONN_PARREPORT_WEBHOOK")
    alerts.notify_failure(failure_context())  # nothing configured: no error, the alert is in the log
    messages = [r.getMessage() for r in caplog.records]
    assert sum("không có kết nối" in m for m in messages) == 2
    assert any("chưa cấu hình kênh cảnh báo nào" in m and "Quý 1/2025" in m for m in messages)


def test_a_broken_notifier_does_not_stop_the_others(monkeypatch):
    with Smtp() as smtp:
        monkeypatch.setenv("AIRFLOW_CONN_PARREPORT_WEBHOOK", json.dumps(
            {"conn_type": "http", "host": "127.0.0.1", "port": 9, "schema": "http",
             "extra": {"attempts": 1}}))  # nothing listens on port 9
        monkeypatch.setenv("AIRFLOW_CONN_PARREPORT_SMTP", smtp.connection())
        assert alerts.send_alert(alerts.failure_alert(failure_context())) == 1
    assert len(smtp.messages) == 1


# -- the deadline callback --------------------------------------------------------------------------
def test_missed_deadline_sends_one_alert(monkeypatch):
    with Hook() as hook, Smtp() as smtp:
        monkeypatch.setenv("AIRFLOW_CONN_PARREPORT_WEBHOOK", hook.connection())
        monkeypatch.setenv("AIRFLOW_CONN_PARREPORT_SMTP", smtp.connection())
        context = {"dag_run": dag_run_response(state="failed"),
                   "deadline": {"id": "0195", "deadline_time": datetime(2025, 3, 20, 16, 59, 59, tzinfo=timezone.utc)}}
        result = asyncio.run(alerts.on_deadline_missed(context=context, rule="nd09", day=20))
    assert result == "sent:2"
    assert len(hook.requests) == 1 and len(smtp.messages) == 1
    payload = json.loads(hook.requests[0]["body"])
    assert payload["quarter"] == "2025Q1" and payload["task_id"] is None and payload["kind"] == "deadline"
    assert payload["url"] == RUN_URL
    assert "hạn là 23:59:59 ngày 20/03/2025 (giờ Việt Nam)" in payload["text"]
    assert smtp.parsed()["Subject"] == ("[Báo cáo CCHC] Quá hạn nộp báo cáo Quý 1/2025, đơn vị 000.00.20.H57: "
                                        "chưa được Sở Nội vụ tiếp nhận")


def test_no_deadline_alert_when_the_quarter_was_accepted_in_time(monkeypatch):
    from parreport.store import Store

    settings = load_settings()
    db.upgrade(settings.store_url)
    store = Store(settings.store_url)
    receipt = {"MaTiepNhan": "SNV-1", "ThoiDiemTiepNhan": "2025-03-18T09:30:00+07:00", "TrangThai": "DA_TIEP_NHAN",
               "MaDonViBaoCao": "000.00.20.H57", "Nam": 2025, "Quy": 1, "PhienBan": 1}
    store.upsert_report("000.00.20.H57", 2025, 1, 1, window_key="k", figures_sha="0" * 64, body={},
                        status="ACCEPTED", receipt=receipt)
    store.dispose()
    deadline = datetime(2025, 3, 20, 16, 59, 59, tzinfo=timezone.utc)
    assert alerts.accepted_in_time(settings, "000.00.20.H57", window_for(2025, 1), deadline)
    assert not alerts.accepted_in_time(settings, "000.00.20.H57", window_for(2025, 1),
                                       datetime(2025, 3, 18, 2, 0, tzinfo=timezone.utc))
    assert not alerts.accepted_in_time(settings, "000.00.20.H99", window_for(2025, 1), deadline)
    with Hook() as hook:
        monkeypatch.setenv("AIRFLOW_CONN_PARREPORT_WEBHOOK", hook.connection())
        context = {"dag_run": dag_run_response(), "deadline": {"deadline_time": deadline.isoformat()}}
        assert asyncio.run(alerts.on_deadline_missed(context=context, rule="nd09", day=20)) == "accepted"
    assert hook.requests == []


# -- the deadline through Airflow's own machinery (metadata DB, scheduler code, triggerer code) -----
DEADLINE_PROBE = r'''
import argparse, asyncio, json, sys
from airflow.utils.db import resetdb
resetdb(skip_init=False)
from airflow.cli.commands.dag_command import dag_reserialize
dag_reserialize(argparse.Namespace(bundle_name=None))

from sqlalchemy import select
from airflow.models.deadline import Deadline
from airflow.models.serialized_dag import SerializedDagModel
from airflow.triggers.callback import CallbackTrigger
from airflow.utils.session import create_session
from airflow.utils.state import DagRunState
from airflow.utils.types import DagRunTriggeredByType, DagRunType

out = {}
with create_session() as session:
    sdag = SerializedDagModel.get_dag("calendar_probe", session=session)
    info = sdag.next_dagrun_info(last_automated_run_info=None, restricted=True)
    out["interval"] = [info.data_interval.start.isoformat(), info.data_interval.end.isoformat()]
    # what the scheduler does when run_after has come: create the scheduled run (evaluates the deadline)
    run = sdag.create_dagrun(run_id="scheduled__q1", logical_date=info.logical_date, data_interval=info.data_interval,
                             run_after=info.run_after, run_type=DagRunType.SCHEDULED,
                             triggered_by=DagRunTriggeredByType.TIMETABLE, state=DagRunState.RUNNING, session=session)
    sdag.create_dagrun(run_id="manual__1", logical_date=None, data_interval=None, run_after=info.run_after,
                       run_type=DagRunType.MANUAL, triggered_by=DagRunTriggeredByType.UI,
                       state=DagRunState.RUNNING, session=session)
    session.flush()
    deadlines = session.scalars(select(Deadline)).all()
    out["deadlines"] = [[d.dagrun_id == run.id, d.deadline_time.isoformat()] for d in deadlines]
    # the scheduler's loop: deadline_time < now and not missed -> handle_miss queues the callback
    for d in session.scalars(select(Deadline).where(~Deadline.missed)).all():
        d.handle_miss(session)
    session.flush()
    callbacks = [json.loads(json.dumps(d.callback.data, default=str)) for d in deadlines]
# the triggerer runs each queued callback as a CallbackTrigger
events = []
for data in callbacks:
    async def run_trigger(data=data):
        return [e.payload async for e in CallbackTrigger(data["path"], data["kwargs"]).run()]
    events += asyncio.run(run_trigger())
out["events"] = events
print("PROBE=" + json.dumps(out, default=str))
'''


@pytest.mark.e2e
def test_missed_deadline_through_airflow_machinery_makes_one_alert(tmp_path):
    import subprocess
    import sys
    import textwrap

    from tests.support.dags import PROBE_DAG

    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "calendar_probe.py").write_text(textwrap.dedent(PROBE_DAG), encoding="utf-8")
    with Hook() as hook:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PARREPORT"))}
        env.update({"AIRFLOW_HOME": str(tmp_path / "home"),
                    "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
                    "AIRFLOW__API__BASE_URL": BASE, "PARREPORT_DATA_DIR": str(tmp_path / "data"),
                    "AIRFLOW_CONN_PARREPORT_WEBHOOK": hook.connection()})
        proc = subprocess.run([sys.executable, "-c", DEADLINE_PROBE], capture_output=True, text=True, env=env,
                              timeout=300, cwd=tmp_path)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("PROBE=")), None)
    assert line, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = json.loads(line.removeprefix("PROBE="))
    # Q1 2024 (start_date 15/12/2023): one deadline, on the scheduled run, 23:59:59 on 20/03/2024 +07:00
    assert out["interval"] == ["2023-12-14T17:00:00+00:00", "2024-03-14T17:00:00+00:00"]
    assert out["deadlines"] == [[True, "2024-03-20T16:59:59+00:00"]]
    assert out["events"] == [{"state": "running"}, {"state": "success", "body": "sent:1"}]
    assert len(hook.requests) == 1
    payload = json.loads(hook.requests[0]["body"])
    assert payload["quarter"] == "2024Q1" and payload["run_id"] == "scheduled__q1" and payload["kind"] == "deadline"
    assert payload["url"] == f"{BASE}/dags/calendar_probe/runs/scheduled__q1"
    assert payload["text"].startswith("[Báo cáo CCHC] Quá hạn nộp báo cáo Quý 1/2024, đơn vị 000.00.20.H57")
    assert "hạn là 23:59:59 ngày 20/03/2024 (giờ Việt Nam)" in payload["text"]


def test_no_deadline_under_airflow_dags_test_only():
    from parreport.alerts import dag_deadline

    assert dag_deadline(argv=["/x/.venv/bin/airflow", "dags", "test", "quarterly_par_report"]) is None
    assert dag_deadline(argv=["/x/.venv/bin/airflow", "dag-processor"]) is not None
    assert dag_deadline(argv=["/x/.venv/bin/airflow", "scheduler"]) is not None
