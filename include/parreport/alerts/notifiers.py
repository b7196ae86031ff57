"""How an alert travels: the webhook and e-mail notifiers (each used only when its connection
exists), :func:`send_alert` through every configured one, and :func:`notify_failure`, the tasks'
``on_failure_callback``. See the package's docstring for the connections."""
from __future__ import annotations

import asyncio
import html
import json
import logging
import os
import re
from urllib.parse import urlsplit, urlunsplit

from airflow.sdk import BaseNotifier

from ..connections import connection_extra
from .messages import Alert, _scrub, _settings, failure_alert

log = logging.getLogger(__name__)

CONN_WEBHOOK = "parreport_webhook"
CONN_SMTP = "parreport_smtp"
ALERT_EMAILS_ENV = "PARREPORT_ALERT_EMAILS"


# -- notifiers ------------------------------------------------------------------------------------
def _connection(conn_id: str):
    """The connection, or None when it is not defined (anywhere Airflow looks)."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


class NotifierError(RuntimeError):
    pass


class _AlertNotifier(BaseNotifier):
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

    def connection(self):
        """The notifier's connection; :class:`NotifierError` when it is not defined."""
        conn = _connection(self.conn_id)
        if conn is None:
            raise NotifierError(f"không có kết nối {self.conn_id!r}")
        return conn


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
        from ..config import ConfigError
        from ..http import connection_url

        try:
            url, origin = connection_url(conn, connection_extra(conn).get("path"))
        except ConfigError as exc:
            raise NotifierError(str(exc)) from None
        parts = urlsplit(url)
        return (url if parts.path else urlunsplit(parts._replace(path="/"))), origin

    def send(self, alert: Alert) -> None:
        import httpx

        from ..http import ApiClient, ApiError, RetriesExhausted, RetryPolicy

        conn = self.connection()
        url, shown = self.url_from_connection(conn)
        extra = connection_extra(conn)
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
        value = (self.to or connection_extra(conn).get("to") or getattr(_settings(), "alert_emails", None)
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

        conn = self.connection()
        to = self.recipients(conn)
        if not to:
            raise NotifierError(f"kết nối {self.conn_id!r} không có người nhận: đặt extra "
                                f"{{\"to\": \"...\"}} hoặc biến {ALERT_EMAILS_ENV}")
        extra = connection_extra(conn)
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
