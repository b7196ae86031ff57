"""Alerts: a failed task and a missed deadline, told in Vietnamese through notifiers configured by
connection.

Notifiers (each used only when its connection exists; a missing one is skipped with one log line):

- :class:`WebhookNotifier` — connection ``parreport_webhook`` (type ``http``): host/schema/port give
  the URL (schema is the scheme, ``https`` when empty; the host may also be a full URL), extra
  ``{"path": "/hooks/…"}`` the path; login + password → HTTP Basic, password alone → Bearer token;
  optional extra ``headers``, ``timeout`` (s, default 10), ``attempts`` (default 4), ``backoff`` (s,
  default 1). It POSTs ``{"text", "dag_id", "run_id", "task_id", "quarter", "url", …}`` as JSON with
  the project's HTTP client (http.py: its retry policy and list of transient statuses, honouring
  ``Retry-After`` up to 30 s); any other status fails at once. Only the scheme, host and port of
  the URL are ever logged.
- :class:`EmailNotifier` — connection ``parreport_smtp`` (type ``smtp``, sent with the SMTP
  provider's ``SmtpHook``: host/port, login/password, extra ``from_email``, ``disable_ssl``,
  ``disable_tls``, ``timeout``, ``retry_limit``); recipients from extra ``{"to": "a@x.vn, b@x.vn"}``,
  else from the variable ``PARREPORT_ALERT_EMAILS``.

Entry points for the DAG:

- :func:`notify_failure` — ``default_args={"on_failure_callback": notify_failure}``: runs in the
  worker after a task's last try failed; one alert per failed task, through every notifier.
- :func:`deadline_alert` — ``deadline=deadline_alert()``: an Airflow 3 ``DeadlineAlert`` whose
  reference (:class:`~parreport.calendar_timetable.ReportingDeadline`) is the configured deadline of
  the quarter a scheduled run reports and whose callback (:func:`on_deadline_missed`, run by the
  triggerer) sends the deadline message — unless the store shows that quarter's report was
  accepted by the intake before the deadline.

Nothing heavy is imported at module level (the DAG file imports this module at parse time).
"""
from __future__ import annotations

import asyncio
import html
import json
import logging
import os
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import quote, urlsplit, urlunsplit

from .calendar_timetable import ReportingDeadline, quarter_deadline, run_window
from .periods import Window, window_for
from .timeutil import VN_TZ

log = logging.getLogger(__name__)

CONN_WEBHOOK = "parreport_webhook"
CONN_SMTP = "parreport_smtp"
ALERT_EMAILS_ENV = "PARREPORT_ALERT_EMAILS"
TITLE = "[Báo cáo CCHC]"

_STATE_VI = {"running": "đang chạy", "queued": "đang chờ chạy", "failed": "thất bại", "success": "thành công"}


# -- what an alert says ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RunRef:
    """The DAG run an alert is about."""

    dag_id: str
    run_id: str
    window: Window | None
    agency: str
    url: str
    state: str | None = None


@dataclass(frozen=True)
class Alert:
    kind: str  # "failure" | "deadline"
    subject: str
    body: str
    dag_id: str
    run_id: str
    url: str
    task_id: str | None = None
    quarter: str | None = None  # "2025Q1"
    agency: str | None = None
    extra: dict = field(default_factory=dict)

    def payload(self) -> dict:
        return {"text": f"{self.subject}\n\n{self.body}", "dag_id": self.dag_id, "run_id": self.run_id,
                "task_id": self.task_id, "quarter": self.quarter, "url": self.url, "kind": self.kind,
                "agency": self.agency, **self.extra}


def _quarter_key(window: Window | None) -> str | None:
    return f"{window.year}Q{window.quarter}" if window else None


def _quarter_text(window: Window | None) -> str:
    return f"Quý {window.quarter}/{window.year}" if window else "(chưa xác định được quý)"


def _settings():
    from .config import load_settings

    try:
        return load_settings()
    except Exception as exc:  # a broken configuration must not stop an alert
        log.warning("không đọc được cấu hình, dùng mặc định cho cảnh báo: %s", exc)
        from .config import Settings

        return Settings()


def base_url() -> str:
    """The Airflow UI's address (``[api] base_url``)."""
    try:
        from airflow.sdk.configuration import conf

        value = conf.get("api", "base_url", fallback=None)
    except Exception:  # pragma: no cover - outside Airflow
        value = None
    value = value or os.environ.get("AIRFLOW__API__BASE_URL") or "http://localhost:8080"
    return value.rstrip("/")


def run_url(dag_id: str, run_id: str) -> str:
    """The run's page in the Airflow 3 UI (its grid, with every task)."""
    return f"{base_url()}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


_CREDENTIALS_IN_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@")
_TOKEN_LIKE = re.compile(r"(?i)\b(access_token|token|password|secret|client_secret)=([^&\s]+)")


def _scrub(text: str) -> str:
    text = _CREDENTIALS_IN_URL.sub(r"\1***@", text)
    return _TOKEN_LIKE.sub(r"\1=***", text)


def _reason(exc: BaseException | None) -> str:
    if exc is None:
        return "không có thông tin lỗi (xem nhật ký nhiệm vụ)"
    text = str(exc).strip() or type(exc).__name__
    text = text.splitlines()[0] if text else text
    if len(text) > 500:
        text = text[:497] + "…"
    return _scrub(f"{type(exc).__name__}: {text}")


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if obj is None:
        return default
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _window_from_context(context: Mapping[str, Any], rule: str) -> tuple[Window | None, str | None]:
    """The quarter (and agency, when known) a task's run reports, as resolve_period decided it."""
    params = context.get("params") or {}
    agency = _get(params, "agency")
    agency = agency.strip() or None if isinstance(agency, str) else None
    ti = context.get("ti") or context.get("task_instance")
    # 1. what resolve_period returned (XCom), when it ran
    try:
        period = None
        if ti is not None:
            group = str(getattr(ti, "task_id", "")).split(".")[0]
            map_index = getattr(ti, "map_index", -1)
            if group == "report" and isinstance(map_index, int) and map_index >= 0:
                period = ti.xcom_pull(task_ids="report.resolve_period", map_indexes=map_index)
            period = period or ti.xcom_pull(task_ids="resolve_period")
    except Exception:
        period = None
    if isinstance(period, Mapping) and period.get("year") and period.get("quarter"):
        try:
            w = window_for(int(period["year"]), int(period["quarter"]), period.get("rule") or rule)
            return w, period.get("agency") or agency
        except (TypeError, ValueError):
            pass
    # 2. the same decision, from params and the run
    dag_run = context.get("dag_run")
    try:
        w = run_window(rule=rule, run_type=_get(dag_run, "run_type"), conf=dict(params) if params else None,
                       data_interval_end=_as_datetime(context.get("data_interval_end")
                                                      or _get(dag_run, "data_interval_end")),
                       run_after=_as_datetime(_get(dag_run, "run_after")))
        return w, agency
    except Exception:
        return None, agency


def failure_message(context: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, body) of the alert for a failed task, in Vietnamese."""
    alert = failure_alert(context)
    return alert.subject, alert.body


def failure_alert(context: Mapping[str, Any], settings: Any = None) -> Alert:
    settings = settings or _settings()
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    dag_id = _get(ti, "dag_id") or _get(dag_run, "dag_id") or _get(context.get("dag"), "dag_id") or "?"
    run_id = context.get("run_id") or _get(ti, "run_id") or _get(dag_run, "run_id") or "?"
    task_id = _get(ti, "task_id") or _get(context.get("task"), "task_id") or "?"
    map_index = _get(ti, "map_index")
    task_name = f"{task_id}[{map_index}]" if isinstance(map_index, int) and map_index >= 0 else task_id
    try_number = _get(ti, "try_number")
    window, agency = _window_from_context(context, settings.window_rule)
    agency = agency or settings.agency
    url = run_url(dag_id, run_id)
    try:
        task_url = _get(ti, "log_url") or f"{url}/tasks/{quote(task_id, safe='')}"
    except Exception:
        task_url = f"{url}/tasks/{quote(task_id, safe='')}"
    subject = f"{TITLE} Lỗi nhiệm vụ {task_name} – báo cáo {_quarter_text(window)}, đơn vị {agency}"
    lines = [
        f"Nhiệm vụ «{task_name}» của DAG «{dag_id}» đã thất bại"
        + (f" (lần thử {try_number})." if try_number else "."),
        f"Kỳ báo cáo: {window.label if window else _quarter_text(window)}; đơn vị báo cáo: {agency}.",
        f"Lần chạy: {run_id}",
        f"Lỗi: {_reason(context.get('exception'))}",
        f"Xem lần chạy: {url}",
        f"Nhật ký nhiệm vụ: {task_url}",
        "Sửa nguyên nhân rồi xóa (clear) nhiệm vụ để chạy lại; chạy lại không gửi trùng báo cáo.",
    ]
    return Alert("failure", subject, "\n".join(lines), dag_id, run_id, url, task_id=task_name,
                 quarter=_quarter_key(window), agency=agency)


def deadline_message(run: RunRef, deadline: datetime) -> tuple[str, str]:
    """(subject, body) of the alert for a missed deadline, in Vietnamese."""
    alert = _deadline_alert(run, deadline)
    return alert.subject, alert.body


def _deadline_alert(run: RunRef, deadline: datetime) -> Alert:
    local = deadline.astimezone(VN_TZ) if deadline.tzinfo else deadline
    when = f"{local:%H:%M:%S} ngày {local:%d/%m/%Y} (giờ Việt Nam)"
    quarter = _quarter_text(run.window)
    subject = f"{TITLE} Quá hạn nộp báo cáo {quarter}, đơn vị {run.agency}: chưa được Sở Nội vụ tiếp nhận"
    state = _STATE_VI.get(str(run.state or "").lower(), run.state or "không rõ")
    lines = [
        f"Đã quá hạn nộp báo cáo {run.window.label if run.window else quarter} của đơn vị {run.agency}: "
        f"hạn là {when}, nhưng báo cáo chưa được Sở Nội vụ tiếp nhận.",
        f"Lần chạy: {run.run_id} của DAG «{run.dag_id}» (trạng thái: {state}).",
        f"Xem lần chạy: {run.url}",
        "Xem nhiệm vụ nào đang lỗi hoặc đang chờ, khắc phục rồi chạy lại; "
        "nếu cần, báo Sở Nội vụ về việc nộp chậm.",
    ]
    return Alert("deadline", subject, "\n".join(lines), run.dag_id, run.run_id, run.url, task_id=None,
                 quarter=_quarter_key(run.window), agency=run.agency,
                 extra={"deadline": local.isoformat()})


# -- notifiers ------------------------------------------------------------------------------------
def _base_notifier():
    try:
        from airflow.sdk.bases.notifier import BaseNotifier
    except ImportError:  # pragma: no cover - Airflow is a dependency of the project
        return object
    return BaseNotifier


def _connection(conn_id: str):
    """The connection, or None when it is not defined (anywhere Airflow looks)."""
    from airflow.sdk import Connection

    try:
        from airflow.sdk.exceptions import AirflowNotFoundException
    except ImportError:  # pragma: no cover
        from airflow.exceptions import AirflowNotFoundException
    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def _extra(conn) -> dict:
    try:
        extra = conn.extra_dejson
    except Exception:
        extra = json.loads(conn.extra or "{}") if getattr(conn, "extra", None) else {}
    return extra if isinstance(extra, dict) else {}


class NotifierError(RuntimeError):
    pass


class _AlertNotifier(_base_notifier()):  # type: ignore[misc]
    """A notifier usable as an Airflow callback (``notify(context)`` for a failed task) and directly
    (``send(alert)``)."""

    conn_id: str
    channel = "?"

    def notify(self, context):  # BaseNotifier's sync entry point (task callbacks)
        self.send(failure_alert(context))

    async def async_notify(self, context):  # BaseNotifier's async entry point (the triggerer)
        await asyncio.to_thread(self.notify, context)

    def send(self, alert: Alert) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class WebhookNotifier(_AlertNotifier):
    """POST the alert as JSON to the URL of connection ``conn_id`` (see the module's docstring)."""

    channel = "webhook"

    def __init__(self, conn_id: str = CONN_WEBHOOK, *, timeout: float | None = None, attempts: int | None = None,
                 backoff: float | None = None, **kwargs):
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.timeout, self.attempts, self.backoff = timeout, attempts, backoff

    @staticmethod
    def url_from_connection(conn) -> tuple[str, str]:
        """(full URL, the part that may be logged: scheme://host[:port])."""
        from .config import ConfigError
        from .http import connection_url

        try:
            url, origin = connection_url(conn, _extra(conn).get("path"))
        except ConfigError as exc:
            raise NotifierError(str(exc)) from None
        parts = urlsplit(url)
        return (url if parts.path else urlunsplit(parts._replace(path="/"))), origin

    def send(self, alert: Alert) -> None:
        import httpx

        from .http import ApiClient, ApiError, RetriesExhausted, RetryPolicy

        conn = _connection(self.conn_id)
        if conn is None:
            raise NotifierError(f"không có kết nối {self.conn_id!r}")
        url, shown = self.url_from_connection(conn)
        extra = _extra(conn)
        timeout = float(self.timeout if self.timeout is not None else extra.get("timeout", 10))
        attempts = int(self.attempts if self.attempts is not None else extra.get("attempts", 4))
        backoff = float(self.backoff if self.backoff is not None else extra.get("backoff", 1))
        headers = {"Content-Type": "application/json; charset=utf-8", **(extra.get("headers") or {})}
        auth = None
        if conn.login and conn.password:
            auth = httpx.BasicAuth(conn.login, conn.password)
        elif conn.password:
            headers["Authorization"] = f"Bearer {conn.password}"
        body = json.dumps(alert.payload(), ensure_ascii=False).encode("utf-8")
        policy = RetryPolicy(attempts=max(attempts, 1), backoff=backoff, backoff_max=max(backoff, 30.0),
                             retry_after_max=30.0)
        try:
            with ApiClient(auth=auth, name=f"webhook {shown}", policy=policy, timeout=timeout) as client:
                client.send("POST", url, content=body, headers=headers, ok=range(200, 300), shown=shown)
        except ApiError as exc:
            raise NotifierError(f"webhook {shown} từ chối cảnh báo: HTTP {exc.status}") from None
        except RetriesExhausted as exc:
            raise NotifierError(str(exc)) from None
        log.info("đã gửi cảnh báo (%s, %s) tới webhook %s", alert.kind, alert.quarter, shown)


class EmailNotifier(_AlertNotifier):
    """Send the alert by e-mail through connection ``conn_id`` with the SMTP provider's hook."""

    channel = "e-mail"

    def __init__(self, conn_id: str = CONN_SMTP, *, to: str | list[str] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.to = to

    def recipients(self, conn) -> list[str]:
        value = (self.to or _extra(conn).get("to") or getattr(_settings(), "alert_emails", None)
                 or os.environ.get(ALERT_EMAILS_ENV) or "")
        items = value if isinstance(value, list) else re.split(r"\s*[,;]\s*", str(value))
        return [a.strip() for a in items if a and a.strip()]

    @staticmethod
    def html_body(alert: Alert) -> str:
        def line(text: str) -> str:
            text = html.escape(text)
            return re.sub(r"(https?://[^\s<]+)", r'<a href="\1">\1</a>', text)

        paragraphs = "".join(f"<p>{line(t)}</p>" for t in alert.body.splitlines())
        return f'<html><body><p><b>{html.escape(alert.subject)}</b></p>{paragraphs}</body></html>'

    def send(self, alert: Alert) -> None:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        conn = _connection(self.conn_id)
        if conn is None:
            raise NotifierError(f"không có kết nối {self.conn_id!r}")
        to = self.recipients(conn)
        if not to:
            raise NotifierError(f"kết nối {self.conn_id!r} không có người nhận: đặt extra "
                                f"{{\"to\": \"...\"}} hoặc biến {ALERT_EMAILS_ENV}")
        extra = _extra(conn)
        sender = extra.get("from_email") or (conn.login if conn.login and "@" in conn.login else None) \
            or "bao-cao-cchc@localhost"
        with SmtpHook(smtp_conn_id=self.conn_id) as hook:
            hook.send_email_smtp(to=to, subject=alert.subject, html_content=self.html_body(alert),
                                 from_email=sender, mime_charset="utf-8")
        log.info("đã gửi cảnh báo (%s, %s) qua e-mail tới %d người nhận", alert.kind, alert.quarter, len(to))


NOTIFIER_TYPES: tuple[type[_AlertNotifier], ...] = (WebhookNotifier, EmailNotifier)


def configured_notifiers() -> list[_AlertNotifier]:
    """The notifiers whose connections exist; each missing connection is logged once and skipped."""
    found: list[_AlertNotifier] = []
    for kind in NOTIFIER_TYPES:
        notifier = kind()
        try:
            conn = _connection(notifier.conn_id)
        except Exception as exc:  # e.g. a secrets backend that is down
            log.warning("không đọc được kết nối %r (%s): bỏ qua cảnh báo qua %s", notifier.conn_id,
                        type(exc).__name__, notifier.channel)
            continue
        if conn is None:
            log.info("không có kết nối %r: bỏ qua cảnh báo qua %s", notifier.conn_id, notifier.channel)
            continue
        found.append(notifier)
    return found


def send_alert(alert: Alert, notifiers: list[_AlertNotifier] | None = None) -> int:
    """Send through every configured notifier; returns how many succeeded. Never raises: an alert
    that cannot be sent is logged, it must not hide the failure it reports."""
    notifiers = configured_notifiers() if notifiers is None else notifiers
    sent = 0
    for notifier in notifiers:
        try:
            notifier.send(alert)
            sent += 1
        except Exception as exc:
            log.error("không gửi được cảnh báo qua %s: %s", notifier.channel, _scrub(str(exc)))
    if not notifiers:
        log.warning("chưa cấu hình kênh cảnh báo nào (%s, %s): cảnh báo chỉ có trong nhật ký:\n%s\n%s",
                    CONN_WEBHOOK, CONN_SMTP, alert.subject, alert.body)
    return sent


def notify_failure(context) -> None:
    """``on_failure_callback`` for every task: one alert per failed task, through every notifier."""
    try:
        alert = failure_alert(context)
    except Exception as exc:  # never let the callback itself fail
        log.error("không lập được nội dung cảnh báo: %s", exc)
        return
    send_alert(alert)


# -- the deadline ---------------------------------------------------------------------------------
def deadline_alert(settings: Any = None):
    """The DAG's ``deadline=``: the configured deadline of the quarter each scheduled run reports
    (default 23:59:59 on the 20th of the quarter's last month, UTC+07:00), with
    :func:`on_deadline_missed` as the callback (run by the triggerer)."""
    from airflow.sdk.definitions.callback import AsyncCallback
    from airflow.sdk.definitions.deadline import DeadlineAlert

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
    from .store import Store

    store = Store(settings.store_url)
    try:
        versions = store.report_versions(agency, window.year, window.quarter)
    finally:
        store.dispose()
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
    window = run_window(rule=rule, run_type=dag_run.get("run_type"), conf=conf,
                        data_interval_end=_as_datetime(dag_run.get("data_interval_end")),
                        run_after=_as_datetime(dag_run.get("run_after")))
    agency = (conf.get("agency") or "").strip() if isinstance(conf.get("agency"), str) else ""
    dag_id = dag_run.get("dag_id") or "?"
    run_id = dag_run.get("dag_run_id") or dag_run.get("run_id") or "?"
    if deadline is None:
        from .calendar_timetable import _aware

        deadline = _aware(quarter_deadline(window, day))
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
        window = run_window(rule=rule, run_type=dag_run.get("run_type"), conf=dag_run.get("conf") or {},
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


__all__ = [
    "CONN_WEBHOOK", "CONN_SMTP", "ALERT_EMAILS_ENV", "RunRef", "Alert", "WebhookNotifier", "EmailNotifier",
    "configured_notifiers", "send_alert", "notify_failure", "failure_message", "failure_alert",
    "deadline_message", "deadline_alert", "on_deadline_missed", "accepted_in_time", "run_url",
]
