"""Alerts: a failed task, a missed deadline and a report sent back (TRA_LAI), told in Vietnamese
through notifiers configured by connection.

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
- :func:`returned_alert` + :func:`send_alert` — the DAG ``receipt_follow_up`` (``follow_up.settle``)
  when the Sở Nội vụ returns a report: the reason (LyDoTraLai) and what to do next.

The package by job: :mod:`.messages` (what an alert says), :mod:`.notifiers` (how it travels),
:mod:`.deadline` (the deadline alert and its callback). A new kind of alert is a function in
``messages`` sent with ``send_alert``; a new channel is a notifier class in ``notifiers``.
Nothing heavy is imported at module level (the DAG file imports this package at parse time).
"""
from __future__ import annotations

from .deadline import accepted_in_time, dag_deadline, deadline_alert, deadline_run_alert, on_deadline_missed
from .messages import (Alert, RunRef, deadline_message, failure_alert, failure_message, returned_alert,
                       run_url)
from .notifiers import (ALERT_EMAILS_ENV, CONN_SMTP, CONN_WEBHOOK, EmailNotifier, NotifierError, WebhookNotifier,
                        configured_notifiers, notify_failure, send_alert)

__all__ = [
    "CONN_WEBHOOK", "CONN_SMTP", "ALERT_EMAILS_ENV", "RunRef", "Alert", "WebhookNotifier", "EmailNotifier",
    "NotifierError", "configured_notifiers", "send_alert", "notify_failure", "failure_message", "failure_alert",
    "deadline_message", "returned_alert", "deadline_alert", "dag_deadline", "deadline_run_alert",
    "on_deadline_missed", "accepted_in_time", "run_url",
]
