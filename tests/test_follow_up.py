"""After the quarter: which receipts are open, and what a final state does (stored once, shown in the
run's story, a TRA_LAI alerted once through the webhook with its reason and the next step)."""
from __future__ import annotations

import json

import pytest

from parreport import db, follow_up
from parreport.config import load_settings
from parreport.periods import window_for
from parreport.store import Store

from tests.support.fakes import Hook  # a webhook receiver on 127.0.0.1

AGENCY = "000.00.20.H57"
W = window_for(2025, 1)
RECEIVED = {"MaTiepNhan": "SNV-2025-000011", "ThoiDiemTiepNhan": "2025-03-16T08:00:00+07:00",
            "TrangThai": "DA_TIEP_NHAN", "MaDonViBaoCao": AGENCY, "Nam": 2025, "Quy": 1, "PhienBan": 1,
            "SHA256": "ab" * 32}


@pytest.fixture
def settings(monkeypatch, tmp_path):
    for var in ("AIRFLOW_CONN_PARREPORT_WEBHOOK", "AIRFLOW_CONN_PARREPORT_SMTP", "PARREPORT_CONFIG",
                "PARREPORT_WINDOW_RULE", "PARREPORT_AGENCY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PARREPORT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PARREPORT_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "http://airflow.example.vn")
    settings = load_settings()
    db.upgrade(settings.store_url)
    with Store(settings.store_url) as store:
        store.upsert_report(AGENCY, 2025, 1, 1, window_key=W.key, figures_sha="0" * 64, body={"TepDinhKem": []},
                            status="ACCEPTED", receipt=RECEIVED, run_id="manual__q1")
        # another quarter already approved, and a version never accepted: neither is open
        store.upsert_report(AGENCY, 2024, 4, 1, window_key=window_for(2024, 4).key, figures_sha="1" * 64, body={},
                            status="ACCEPTED", receipt={**RECEIVED, "MaTiepNhan": "SNV-2024-9", "Quy": 4,
                                                        "Nam": 2024, "TrangThai": "DA_DUYET"})
        store.upsert_report(AGENCY, 2025, 1, 2, window_key=W.key, figures_sha="2" * 64, body={},
                            status="SUBMITTED", receipt=None)
    return settings


def test_open_receipts_are_the_accepted_versions_still_under_review(settings):
    [item] = follow_up.open_receipts(settings)
    assert item["MaTiepNhan"] == "SNV-2025-000011" and item["intake_conn_id"] == "snv_report_api"
    assert (item["agency"], item["year"], item["quarter"], item["version"]) == (AGENCY, 2025, 1, 1)


def test_approval_is_stored_once_and_told_in_the_run_story(settings):
    approved = {**RECEIVED, "TrangThai": "DA_DUYET"}
    result = follow_up.settle(settings, approved, dag_id="receipt_follow_up", run_id="asset_triggered__1")
    assert result["outcome"] == "approved"
    with Store(settings.store_url) as store:
        [v1] = [v for v in store.report_versions(AGENCY, 2025, 1) if v["version"] == 1]
        events = store.run_events(AGENCY, W.key)
    assert v1["receipt"]["TrangThai"] == "DA_DUYET" and v1["status"] == "ACCEPTED"
    folder = settings.data_path / "reports" / AGENCY / W.key / "v1"
    assert json.loads((folder / "bien-nhan.json").read_text())["TrangThai"] == "DA_DUYET"
    # under the run that sent the version, so its summary shows the outcome
    [event] = events
    assert (event["run_id"], event["step"], event["outcome"]) == ("manual__q1", "receipt", "approved")
    assert event["detail"]["followed_by"] == {"dag_id": "receipt_follow_up", "run_id": "asset_triggered__1"}
    assert follow_up.open_receipts(settings) == []
    # the next daily run sees the same state again: nothing stored twice
    again = follow_up.settle(settings, approved, dag_id="receipt_follow_up", run_id="scheduled__2")
    assert again["outcome"] == "unchanged"
    with Store(settings.store_url) as store:
        assert len(store.run_events(AGENCY, W.key)) == 1


def test_a_returned_report_alerts_once_with_its_reason_and_the_next_step(settings, monkeypatch):
    returned = {**RECEIVED, "TrangThai": "TRA_LAI",
                "LyDoTraLai": "Số liệu Biểu 06 chưa khớp với hệ thống một cửa điện tử."}
    with Hook() as hook:
        monkeypatch.setenv("AIRFLOW_CONN_PARREPORT_WEBHOOK", hook.connection())
        result = follow_up.settle(settings, returned, dag_id="receipt_follow_up", run_id="scheduled__3")
        assert result["outcome"] == "returned" and result["alerts_sent"] == 1
        assert follow_up.settle(settings, returned, dag_id="receipt_follow_up",
                                run_id="scheduled__4")["outcome"] == "unchanged"
    assert len(hook.requests) == 1
    payload = json.loads(hook.requests[0]["body"])
    assert payload["kind"] == "returned" and payload["quarter"] == "2025Q1" and payload["agency"] == AGENCY
    assert payload["receipt"] == "SNV-2025-000011" and payload["version"] == 1
    assert payload["url"] == "http://airflow.example.vn/dags/receipt_follow_up/runs/scheduled__3"
    text = payload["text"]
    assert text.startswith("[Báo cáo CCHC] Sở Nội vụ trả lại báo cáo Quý 1/2025, đơn vị 000.00.20.H57 (phiên bản 1)")
    assert "Lý do: Số liệu Biểu 06 chưa khớp với hệ thống một cửa điện tử." in text
    assert "Việc cần làm:" in text and "phiên bản 2 sẽ được gửi kèm lý do điều chỉnh" in text
    assert "year=2025, quarter=1, agency=000.00.20.H57" in text
    with Store(settings.store_url) as store:
        [v1] = [v for v in store.report_versions(AGENCY, 2025, 1) if v["version"] == 1]
        [event] = store.run_events(AGENCY, W.key)
    assert v1["receipt"]["TrangThai"] == "TRA_LAI" and v1["receipt"]["LyDoTraLai"] == returned["LyDoTraLai"]
    assert event["outcome"] == "returned" and event["detail"]["LyDoTraLai"] == returned["LyDoTraLai"]


def test_a_receipt_the_store_does_not_know_is_refused(settings):
    with pytest.raises(ValueError, match="không có phiên bản 7"):
        follow_up.settle(settings, {**RECEIVED, "TrangThai": "DA_DUYET", "PhienBan": 7}, dag_id="d", run_id="r")
    with pytest.raises(ValueError, match="chưa ở trạng thái cuối"):
        follow_up.settle(settings, RECEIVED, dag_id="d", run_id="r")


def test_acceptance_extra_names_what_was_accepted():
    period = {"agency": AGENCY, "year": 2025, "quarter": 1, "window_key": W.key}
    result = {"sent": True, "MaTiepNhan": "SNV-2025-000011", "TrangThai": "DA_TIEP_NHAN", "PhienBan": 1}
    assert follow_up.acceptance_extra(period, result) == {
        "agency": AGENCY, "year": 2025, "quarter": 1, "window_key": W.key, "version": 1,
        "receipt": "SNV-2025-000011", "state": "DA_TIEP_NHAN", "sent": True}
