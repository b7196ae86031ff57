"""Following a receipt after submission: classify_receipt, one synchronous look, the trigger."""
from __future__ import annotations

import asyncio
import json
import time

import pytest

from parreport.http import Endpoint
from parreport.intake import IntakeClient, idempotency_key
from parreport.periods import window_for
from parreport.receipts import ReceiptStateTrigger, classify_receipt, handle_receipt_event, poll_receipt_once
from parreport.report.documents import build_attachments
from parreport.report.payload import build_core, finalize
from parreport.report.signing import content_sha256, generate_keypair, sign_body
from parreport.sandbox.runner import run_sandbox

from tests.support.report_content import AGENCY, AGENCY_NAME, CONTENT

WINDOW = window_for(2025, 1)
RETURNED = {"MaTiepNhan": "SNV-2025-000007", "ThoiDiemTiepNhan": "2025-03-16T08:00:00+07:00", "TrangThai": "TRA_LAI",
            "LyDoTraLai": "Số liệu Biểu 06 chưa khớp với hệ thống một cửa điện tử.", "MaDonViBaoCao": AGENCY,
            "Nam": 2025, "Quy": 1, "PhienBan": 2, "SHA256": "ab" * 32}


def test_classify_receipt():
    kind, message = classify_receipt(RETURNED)
    assert kind == "returned"
    assert "quý I năm 2025" in message and "phiên bản 2" in message and "TRẢ LẠI" in message
    assert "Số liệu Biểu 06 chưa khớp với hệ thống một cửa điện tử." in message and "phiên bản 3" in message
    assert classify_receipt({**RETURNED, "TrangThai": "DA_DUYET", "LyDoTraLai": None})[0] == "approved"
    assert classify_receipt({**RETURNED, "TrangThai": "DA_TIEP_NHAN", "LyDoTraLai": None})[0] == "pending"
    assert classify_receipt(None)[0] == "pending"
    assert "không ghi lý do" in classify_receipt({**RETURNED, "LyDoTraLai": None})[1]


def test_handle_event():
    from airflow.sdk.exceptions import AirflowFailException

    settled = []

    def settle(receipt):
        settled.append(receipt)
        return {"outcome": "settled", "TrangThai": receipt["TrangThai"]}

    approved = {**RETURNED, "TrangThai": "DA_DUYET", "LyDoTraLai": None}
    # a final state (either one) is settled, and the task does not fail on TRA_LAI: it alerts instead
    assert handle_receipt_event({"status": "final", "receipt": approved}, settle=settle)["TrangThai"] == "DA_DUYET"
    assert handle_receipt_event({"status": "final", "receipt": RETURNED}, settle=settle)["TrangThai"] == "TRA_LAI"
    assert settled == [approved, RETURNED]
    # still undecided when the wait ends: pending, nothing settled, the next run follows it again
    pending = {**approved, "TrangThai": "DA_TIEP_NHAN"}
    result = handle_receipt_event({"status": "timeout", "receipt": pending, "receipt_no": "SNV-2025-000007"},
                                  settle=settle)
    assert result["outcome"] == "pending" and result["MaTiepNhan"] == "SNV-2025-000007"
    assert "theo dõi tiếp" in result["message"] and len(settled) == 2
    with pytest.raises(AirflowFailException, match="HTTP 404"):
        handle_receipt_event({"status": "error", "receipt": None, "receipt_no": "X", "message": "HTTP 404"},
                             settle=settle)


def test_trigger_serializes_without_credentials():
    trigger = ReceiptStateTrigger(receipt_no="SNV-1", conn_id="snv_report_api", poll_interval=5, deadline=123.0)
    path, kwargs = trigger.serialize()
    assert path == "parreport.receipts.ReceiptStateTrigger"
    assert kwargs["receipt_no"] == "SNV-1" and kwargs["conn_id"] == "snv_report_api"
    assert not {"client_id", "client_secret", "password", "login", "base_url"} & set(kwargs)
    assert ReceiptStateTrigger(**kwargs).serialize() == (path, kwargs)


@pytest.fixture(scope="module")
def keys():
    return generate_keypair()


def _submit(handle, private: str, version: int = 1) -> dict:
    client_id, spec = next(iter(handle.intake_clients.items()))
    endpoint = Endpoint(handle.intake_url, client_id, spec["secret"])
    core = build_core(agency=AGENCY, agency_name=AGENCY_NAME, window=WINDOW, content=CONTENT,
                      attachments=build_attachments(CONTENT, agency=AGENCY, agency_name=AGENCY_NAME, window=WINDOW))
    body = sign_body(finalize(core, version=version, reason=None, created_at=WINDOW.end_aware()), private, "k1")
    with IntakeClient(endpoint, max_attempts=2) as client:
        result = client.submit(body, idempotency_key(AGENCY, 2025, 1, version, content_sha256(body)))
    assert result.status == 201, result  # the intake accepts the body with its three attachments
    return {"endpoint": endpoint, "receipt": result.receipt}


def _conn_env(monkeypatch, endpoint: Endpoint, conn_id: str = "snv_report_api_test") -> str:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(
        {"conn_type": "http", "host": endpoint.base_url, "login": endpoint.client_id,
         "password": endpoint.client_secret}))
    return conn_id


async def _events(trigger: ReceiptStateTrigger, limit: float = 30.0) -> list:
    async def collect():
        return [event async for event in trigger.run()]

    return await asyncio.wait_for(collect(), limit)


def test_trigger_follows_a_returned_report_to_tra_lai(keys, monkeypatch):
    private, public = keys
    with run_sandbox(seed=3, dossiers_per_quarter=50, agency=AGENCY, public_keys={"k1": public}, review_delay=1.5,
                     return_policy="first") as handle:
        sent = _submit(handle, private)
        receipt_no = sent["receipt"]["MaTiepNhan"]
        assert sent["receipt"]["TrangThai"] == "DA_TIEP_NHAN"
        assert poll_receipt_once(sent["endpoint"], receipt_no)["TrangThai"] == "DA_TIEP_NHAN"
        conn_id = _conn_env(monkeypatch, sent["endpoint"])
        started = time.monotonic()
        events = asyncio.run(_events(ReceiptStateTrigger(receipt_no=receipt_no, conn_id=conn_id, poll_interval=0.3,
                                                         deadline=time.time() + 20)))
        assert len(events) == 1
        payload = events[0].payload
        assert payload["status"] == "final" and payload["receipt"]["TrangThai"] == "TRA_LAI"
        assert payload["receipt"]["MaTiepNhan"] == receipt_no and time.monotonic() - started >= 1.0
        kind, message = classify_receipt(payload["receipt"])
        assert kind == "returned" and "quý I năm 2025" in message and "phiên bản 1" in message
        assert payload["receipt"]["LyDoTraLai"] in message
        assert poll_receipt_once(sent["endpoint"], receipt_no)["TrangThai"] == "TRA_LAI"


def test_trigger_approval_timeout_and_unknown_receipt(keys, monkeypatch):
    private, public = keys
    with run_sandbox(seed=3, dossiers_per_quarter=50, agency=AGENCY, public_keys={"k1": public}, review_delay=1.0,
                     return_policy="none") as handle:
        sent = _submit(handle, private)
        receipt_no = sent["receipt"]["MaTiepNhan"]
        conn_id = _conn_env(monkeypatch, sent["endpoint"])
        # a deadline already passed: one look, then the last state seen
        events = asyncio.run(_events(ReceiptStateTrigger(receipt_no=receipt_no, conn_id=conn_id, poll_interval=0.2,
                                                         deadline=time.time() - 1)))
        assert [e.payload["status"] for e in events] == ["timeout"]
        assert events[0].payload["receipt"]["TrangThai"] == "DA_TIEP_NHAN"
        events = asyncio.run(_events(ReceiptStateTrigger(receipt_no=receipt_no, conn_id=conn_id, poll_interval=0.2,
                                                         deadline=time.time() + 20)))
        assert events[0].payload["status"] == "final"
        assert events[0].payload["receipt"]["TrangThai"] == "DA_DUYET"
        events = asyncio.run(_events(ReceiptStateTrigger(receipt_no="SNV-0000-999999", conn_id=conn_id,
                                                         poll_interval=0.2, deadline=time.time() + 20)))
        assert events[0].payload["status"] == "error" and "404" in events[0].payload["message"]
        # wrong credentials: an error event, not an endless loop
        bad = _conn_env(monkeypatch, Endpoint(sent["endpoint"].base_url, "nobody", "wrong"), "snv_bad")
        events = asyncio.run(_events(ReceiptStateTrigger(receipt_no=receipt_no, conn_id=bad, poll_interval=0.2,
                                                         deadline=time.time() + 20)))
        assert events[0].payload["status"] == "error" and "token" in events[0].payload["message"]
    events = asyncio.run(_events(ReceiptStateTrigger(receipt_no=receipt_no, conn_id="no_such_connection_xyz",
                                                     poll_interval=0.2, deadline=time.time() + 5)))
    assert events[0].payload["status"] == "error" and "no_such_connection_xyz" in events[0].payload["message"]


def test_operator_defers_to_the_trigger(monkeypatch):
    from datetime import timedelta

    from airflow.sdk.exceptions import AirflowSkipException, TaskDeferred

    from parreport.receipts import WaitForReceiptOperator

    op = WaitForReceiptOperator(task_id="follow_receipt", receipt_no="SNV-2025-000001", poll_interval=60,
                                wait_timeout=timedelta(days=2))
    with pytest.raises(TaskDeferred) as deferred:
        op.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, ReceiptStateTrigger) and trigger.receipt_no == "SNV-2025-000001"
    assert deferred.value.method_name == "execute_complete"
    assert 2 * 86400 - 60 < trigger.deadline - time.time() <= 2 * 86400
    assert trigger.poll_interval == 60 and trigger.conn_id == "snv_report_api"
    # an open receipt from open_receipts: its number and the agency's own intake connection;
    # the wait defaults to PARREPORT_RECEIPT_WAIT_HOURS
    monkeypatch.setenv("PARREPORT_RECEIPT_WAIT_HOURS", "3")
    op = WaitForReceiptOperator(task_id="t1", receipt_no={"MaTiepNhan": "SNV-2025-000002",
                                                          "intake_conn_id": "snv_report_api__000_00_20_h57"})
    with pytest.raises(TaskDeferred) as deferred:
        op.execute({})
    trigger = deferred.value.trigger
    assert (trigger.receipt_no, trigger.conn_id) == ("SNV-2025-000002", "snv_report_api__000_00_20_h57")
    assert 3 * 3600 - 60 < trigger.deadline - time.time() <= 3 * 3600
    with pytest.raises(AirflowSkipException):
        WaitForReceiptOperator(task_id="t2", receipt_no="None").execute({})


def test_poll_interval(monkeypatch):
    from parreport.receipts import resolve_poll_interval

    monkeypatch.delenv("PARREPORT_RECEIPT_POLL_SECONDS", raising=False)
    assert resolve_poll_interval(None) == 300 and resolve_poll_interval("15") == 15 and resolve_poll_interval(0) == 1
    monkeypatch.setenv("PARREPORT_RECEIPT_POLL_SECONDS", "2")
    assert resolve_poll_interval(None) == 2 and resolve_poll_interval(30) == 30
    with pytest.raises(ValueError):
        resolve_poll_interval("soon")


def test_trigger_rides_out_receipt_answers_cut_short(keys, monkeypatch):
    """The intake's GET answers 2, 3 and 4 (after the POST's 201) are cut short mid-body: the
    first poll spends its attempts on them (the policy of http.py), the next poll succeeds."""
    import httpx

    from parreport.receipts import POLL_ATTEMPTS

    private, public = keys
    with run_sandbox(seed=3, dossiers_per_quarter=50, agency=AGENCY, public_keys={"k1": public}, review_delay=0.5,
                     return_policy="none", faults="intake.truncate=2|3|4") as handle:
        sent = _submit(handle, private)
        conn_id = _conn_env(monkeypatch, sent["endpoint"])
        events = asyncio.run(_events(ReceiptStateTrigger(receipt_no=sent["receipt"]["MaTiepNhan"], conn_id=conn_id,
                                                         poll_interval=0.3, deadline=time.time() + 20)))
        faults = httpx.get(handle.intake_url + "/_sandbox/faults", timeout=10).json()
    assert POLL_ATTEMPTS == 3 and faults["truncated"] == [2, 3, 4]
    assert [e.payload["status"] for e in events] == ["final"]
    assert events[0].payload["receipt"]["TrangThai"] == "DA_DUYET"
