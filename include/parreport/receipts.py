"""The receipt's life after submission: DA_TIEP_NHAN → DA_DUYET or TRA_LAI (report-api.yaml).

A quarter's run ends when the intake has accepted its report; the DAG ``receipt_follow_up``
follows the open receipts afterwards (``follow_up``). Following one must not hold a worker slot
for days, so the waiting is done by an Airflow trigger (:class:`ReceiptStateTrigger`, run by the
triggerer on its asyncio loop) and the task that waits defers to it
(:class:`WaitForReceiptOperator`, mapped over the open receipts). The trigger's kwargs are stored in the
metadata database: they carry the receipt number and the *connection id* only; the client
credentials are read inside the trigger, from the connection, each time it starts.

- :func:`classify_receipt`: pure; "approved" | "returned" | "pending" and a Vietnamese message
  (for TRA_LAI: quarter, version and LyDoTraLai, meant for the operator's alert).
- :func:`poll_receipt_once`: one synchronous look with the project's :class:`IntakeClient`.
"""
from __future__ import annotations

import asyncio
import os
import time
from datetime import timedelta
from typing import Any, AsyncIterator, Mapping

from .config import CONN_INTAKE
from .http import ApiError, AsyncApiClient, Endpoint, RetriesExhausted, RetryPolicy, async_oauth_client
from .intake import IntakeClient, receipt_body, receipt_path

from airflow.sdk import BaseOperator
from airflow.triggers.base import BaseTrigger, TriggerEvent

__all__ = ["APPROVED", "RETURNED", "RECEIVED", "FINAL_STATES", "classify_receipt", "poll_receipt_once",
           "ReceiptStateTrigger", "WaitForReceiptOperator", "handle_receipt_event", "resolve_poll_interval",
           "resolve_wait_timeout"]

RECEIVED, APPROVED, RETURNED = "DA_TIEP_NHAN", "DA_DUYET", "TRA_LAI"
FINAL_STATES = frozenset({APPROVED, RETURNED})
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
POLL_ATTEMPTS = 3  # attempts within one poll; a poll that fails them all counts one error


def _quarter(receipt: Mapping) -> str:
    q, y = receipt.get("Quy"), receipt.get("Nam")
    return f"quý {_ROMAN.get(q, q)} năm {y}" if q is not None and y is not None else "kỳ báo cáo không rõ"


def classify_receipt(receipt: Mapping[str, Any] | None) -> tuple[str, str]:
    """("approved" | "returned" | "pending", message in Vietnamese) for one BienNhan."""
    if not isinstance(receipt, Mapping):
        return "pending", "Chưa có biên nhận của Sở Nội vụ."
    state = receipt.get("TrangThai")
    quarter = _quarter(receipt)
    version = receipt.get("PhienBan")
    agency = receipt.get("MaDonViBaoCao") or "đơn vị"
    number = receipt.get("MaTiepNhan") or "?"
    what = f"Báo cáo {quarter} của {agency}, phiên bản {version} (biên nhận {number})"
    if state == APPROVED:
        return "approved", f"{what} đã được Sở Nội vụ duyệt."
    if state == RETURNED:
        reason = (receipt.get("LyDoTraLai") or "").strip() or "Sở Nội vụ không ghi lý do"
        return "returned", (f"{what} đã bị Sở Nội vụ TRẢ LẠI. Lý do: {reason} — cần rà soát số liệu và gửi "
                            f"phiên bản điều chỉnh (phiên bản {version + 1 if isinstance(version, int) else 'mới'}) "
                            f"kèm lý do điều chỉnh.")
    if state == RECEIVED:
        return "pending", f"{what} đã được tiếp nhận, đang chờ Sở Nội vụ xem xét."
    return "pending", f"{what}: trạng thái {state!r} chưa phải kết quả cuối cùng."


def poll_receipt_once(endpoint: Endpoint, receipt_no: str, *, timeout: float = 60.0, max_attempts: int = 8) -> dict:
    """GET /api/v1/bao-cao/{MaTiepNhan} once (with the client's token handling and retries)."""
    with IntakeClient(endpoint, timeout=timeout, max_attempts=max_attempts) as client:
        return client.receipt(receipt_no)


# ---------------------------------------------------------------------------------------------
# Trigger (runs in the triggerer, asyncio)
# ---------------------------------------------------------------------------------------------

async def _endpoint_for(conn_id: str) -> Endpoint:
    """The intake's endpoint from the Airflow connection, read without blocking the event loop."""
    from airflow.sdk import Connection

    return Endpoint.from_connection(await Connection.async_get(conn_id))


class ReceiptStateTrigger(BaseTrigger):
    """Poll a receipt every ``poll_interval`` seconds until it is DA_DUYET or TRA_LAI, or until
    ``deadline`` (epoch seconds, fixed when the task defers so a triggerer restart does not extend
    it). Fires one event ``{"status": "final" | "timeout" | "error", "receipt": {...} | None,
    "message": str}``.

    Each poll is one call of the project's client (http.py): transient failures (connection
    errors, 408/429/5xx, a body cut short) are retried by the retry policy, honouring
    Retry-After, up to ``POLL_ATTEMPTS`` times, then at the next poll; an expired token (401) is
    renewed once per call; any other answer (403, 404, …) ends with an "error" event. The
    connection (``conn_id``) is read inside :meth:`run`.
    """

    def __init__(self, receipt_no: str, conn_id: str = CONN_INTAKE, poll_interval: float = 300.0,
                 deadline: float | None = None, http_timeout: float = 60.0, max_consecutive_errors: int = 50):
        super().__init__()
        self.receipt_no = receipt_no
        self.conn_id = conn_id
        self.poll_interval = float(poll_interval)
        self.deadline = float(deadline) if deadline is not None else None
        self.http_timeout = float(http_timeout)
        self.max_consecutive_errors = int(max_consecutive_errors)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}",
                {"receipt_no": self.receipt_no, "conn_id": self.conn_id, "poll_interval": self.poll_interval,
                 "deadline": self.deadline, "http_timeout": self.http_timeout,
                 "max_consecutive_errors": self.max_consecutive_errors})

    async def run(self) -> AsyncIterator["TriggerEvent"]:
        try:
            endpoint = await _endpoint_for(self.conn_id)
        except Exception as exc:  # a missing or malformed connection: tell the task, do not spin
            yield TriggerEvent({"status": "error", "receipt": None, "receipt_no": self.receipt_no,
                                "message": f"không đọc được kết nối {self.conn_id!r}: {exc}"})
            return
        last: dict | None = None
        errors = 0
        policy = RetryPolicy(attempts=POLL_ATTEMPTS, backoff_max=min(30.0, self.poll_interval))
        async with async_oauth_client(endpoint, name="Sở Nội vụ", timeout=self.http_timeout,
                                      policy=policy) as client:
            poller = _AsyncReceiptPoller(client)
            while True:
                wait = self.poll_interval
                try:
                    last = await poller.receipt(self.receipt_no)
                    errors = 0
                except RetriesExhausted as exc:
                    errors += 1
                    self.log.warning("biên nhận %s: lỗi tạm thời (%s), thử lại sau", self.receipt_no, exc)
                    if exc.retry_after is not None:
                        wait = max(wait, exc.retry_after)
                    if errors >= self.max_consecutive_errors:
                        yield TriggerEvent({"status": "error", "receipt": last, "receipt_no": self.receipt_no,
                                            "message": f"{errors} lần liên tiếp không hỏi được trạng thái: {exc}"})
                        return
                except ApiError as exc:
                    yield TriggerEvent({"status": "error", "receipt": last, "receipt_no": self.receipt_no,
                                        "message": str(exc)})
                    return
                if last is not None and last.get("TrangThai") in FINAL_STATES:
                    yield TriggerEvent({"status": "final", "receipt": last, "receipt_no": self.receipt_no,
                                        "message": classify_receipt(last)[1]})
                    return
                if last is not None:
                    self.log.info("biên nhận %s: %s", self.receipt_no, last.get("TrangThai"))
                if self.deadline is not None:
                    left = self.deadline - time.time()
                    if left <= 0:
                        yield TriggerEvent({"status": "timeout", "receipt": last, "receipt_no": self.receipt_no,
                                            "message": classify_receipt(last)[1]})
                        return
                    wait = min(wait, left)
                await asyncio.sleep(wait)


class _AsyncReceiptPoller:
    """GET of one receipt with the project's async client (http.py: OAuth client credentials with
    a new token on 401, the retry policy with Retry-After)."""

    def __init__(self, client: AsyncApiClient):
        self._client = client

    async def receipt(self, receipt_no: str) -> dict:
        return receipt_body(await self._client.get_json(receipt_path(receipt_no)), receipt_no)


# ---------------------------------------------------------------------------------------------
# Operator (defers to the trigger; resumes on a worker only to settle the outcome)
# ---------------------------------------------------------------------------------------------

class WaitForReceiptOperator(BaseOperator):
    """Follow one receipt until the Sở Nội vụ approves or returns the report, without a worker, and
    settle the outcome (``follow_up.settle``: stored, run event, a TRA_LAI alerted).

    ``receipt_no`` is a receipt number or a mapping with ``MaTiepNhan`` and ``intake_conn_id``
    (an item of ``follow_up.open_receipts``, so the operator can be mapped over them). The wait
    lasts ``wait_timeout`` (default ``PARREPORT_RECEIPT_WAIT_HOURS``, 20 h: less than a day, so the
    daily run of ``receipt_follow_up`` picks up what is still open); a receipt still
    ``DA_TIEP_NHAN`` then ends the task successfully as ``pending``. A receipt that cannot be read
    (403, 404, credentials, the intake unreachable for too long) fails the task, which alerts.
    """

    template_fields = ("receipt_no", "poll_interval")
    ui_color = "#fff3cd"

    def __init__(self, *, receipt_no: str | Mapping, conn_id: str = CONN_INTAKE,
                 poll_interval: float | str | None = None, wait_timeout: timedelta | None = None, **kwargs):
        super().__init__(**kwargs)
        self.receipt_no = receipt_no
        self.conn_id = conn_id
        self.poll_interval = poll_interval
        self.wait_timeout = wait_timeout

    def execute(self, context):
        from airflow.sdk.exceptions import AirflowSkipException

        conn_id = self.conn_id
        receipt_no = self.receipt_no
        if isinstance(receipt_no, Mapping):  # an open receipt: its number and the agency's intake
            conn_id = receipt_no.get("intake_conn_id") or conn_id
            receipt_no = receipt_no.get("MaTiepNhan")
        receipt_no = (str(receipt_no or "")).strip()
        if not receipt_no or receipt_no == "None":
            raise AirflowSkipException("không có biên nhận để theo dõi")
        poll = resolve_poll_interval(self.poll_interval)
        wait = resolve_wait_timeout(self.wait_timeout)
        deadline = time.time() + wait.total_seconds()
        self.log.info("theo dõi biên nhận %s mỗi %.0f giây, tối đa đến %s", receipt_no, poll,
                      time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(deadline)))
        self.defer(trigger=ReceiptStateTrigger(receipt_no=receipt_no, conn_id=conn_id,
                                               poll_interval=poll, deadline=deadline),
                   method_name="execute_complete",
                   timeout=wait + timedelta(seconds=max(poll, 60) * 2))

    def execute_complete(self, context, event: dict | None = None):
        from .config import load_settings
        from .follow_up import settle

        def settle_final(receipt: Mapping) -> dict:
            ti = context.get("ti")
            return settle(load_settings(), receipt, dag_id=getattr(ti, "dag_id", None) or self.dag_id,
                          run_id=context.get("run_id") or getattr(ti, "run_id", "?"))

        return handle_receipt_event(event, settle=settle_final, log=self.log)


def resolve_poll_interval(value: float | str | None) -> float:
    """The poll interval: the given value (a number, or a rendered template), else the
    ``PARREPORT_RECEIPT_POLL_SECONDS`` variable, else 300 s; never below 1 s."""
    for candidate in (value, os.environ.get("PARREPORT_RECEIPT_POLL_SECONDS")):
        if candidate not in (None, "", "None"):
            try:
                return max(1.0, float(candidate))
            except (TypeError, ValueError):
                raise ValueError(f"khoảng thời gian hỏi trạng thái biên nhận không hợp lệ: {candidate!r}") from None
    return 300.0


def resolve_wait_timeout(value: timedelta | None) -> timedelta:
    """How long one follow-up run waits for a decision: ``value``, else the
    ``PARREPORT_RECEIPT_WAIT_HOURS`` variable, else 20 hours; never below one second."""
    if value is not None:
        return max(value, timedelta(seconds=1))
    raw = os.environ.get("PARREPORT_RECEIPT_WAIT_HOURS")
    if raw not in (None, ""):
        try:
            return max(timedelta(hours=float(raw)), timedelta(seconds=1))
        except ValueError:
            raise ValueError(f"PARREPORT_RECEIPT_WAIT_HOURS không hợp lệ: {raw!r}") from None
    return timedelta(hours=20)


def handle_receipt_event(event: Mapping | None, *, settle, log=None) -> dict:
    """What the waiting task does with the trigger's event: a final receipt (DA_DUYET, TRA_LAI) goes
    to ``settle`` and its result is returned; a receipt still undecided when the wait ended is
    ``{"outcome": "pending", ...}`` (the next run follows it again); an error raises
    AirflowFailException (the failure alert tells the operator)."""
    from airflow.sdk.exceptions import AirflowFailException

    event = dict(event or {})
    receipt = event.get("receipt")
    status = event.get("status")
    if status == "final":
        return settle(receipt)
    if status == "timeout":
        message = f"Chưa có kết quả xem xét, sẽ theo dõi tiếp ở lần chạy sau: {classify_receipt(receipt)[1]}"
        if log is not None:
            log.info("%s", message)
        return {"outcome": "pending", "MaTiepNhan": event.get("receipt_no"),
                "TrangThai": (receipt or {}).get("TrangThai"), "message": message}
    message = str(event.get("message") or "")
    if "Việc cần làm" not in message:
        message = (f"{message.rstrip('.')}. Việc cần làm: kiểm tra kết nối tới Sở Nội vụ và số biên nhận; "
                   "receipt_follow_up theo dõi lại ở lần chạy sau (hoặc xóa (Clear) nhiệm vụ follow_receipt).")
    raise AirflowFailException(f"Không theo dõi được biên nhận {event.get('receipt_no')}: {message}")
