"""After the quarter: the receipts the Sở Nội vụ has not decided on yet (DAG ``receipt_follow_up``).

A quarter's run ends when the intake has accepted its report (receipt ``DA_TIEP_NHAN`` stored);
the review that follows takes days. The ``receipt_follow_up`` DAG, run on every acceptance (the
Asset :data:`REPORT_ACCEPTED`) and daily, follows every open receipt without holding a worker
(``receipts.FollowReceiptOperator`` defers to ``receipts.ReceiptStateTrigger``) and settles each
final state here:

- ``DA_DUYET``: stored (``reports.receipt``, ``bien-nhan.json``), one ``run_events`` row
  (step ``receipt``, outcome ``approved``) under the run that sent the version;
- ``TRA_LAI``: the same (outcome ``returned``, with LyDoTraLai), and one alert through every
  configured channel (webhook, e-mail) with the reason and what to do next;
- still ``DA_TIEP_NHAN`` when the run's wait ends: nothing stored, the next run follows it again.

Settling is idempotent: a state already stored is neither stored nor alerted twice.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping

from airflow.sdk import Asset

from .receipts import APPROVED, RECEIVED, RETURNED, classify_receipt

log = logging.getLogger(__name__)

#: Emitted by ``submit_report`` once the intake has accepted a quarter's report; the event's extra
#: names ``agency``, ``year``, ``quarter``, ``version``, ``receipt`` (MaTiepNhan), ``state``,
#: ``window_key`` and ``sent`` (False when the run found the same report already accepted).
REPORT_ACCEPTED = Asset(name="parreport_report_accepted", uri="parreport://report-accepted", group="parreport")

OUTCOMES = {APPROVED: "approved", RETURNED: "returned"}


def acceptance_extra(period: Mapping[str, Any], result: Mapping[str, Any]) -> dict:
    """The extra of a :data:`REPORT_ACCEPTED` event for ``submit_report``'s result."""
    return {"agency": period["agency"], "year": int(period["year"]), "quarter": int(period["quarter"]),
            "window_key": period["window_key"], "version": result.get("PhienBan"),
            "receipt": result.get("MaTiepNhan"), "state": result.get("TrangThai"), "sent": bool(result.get("sent"))}


def open_receipts(settings) -> list[dict]:
    """Every accepted version whose stored receipt is still ``DA_TIEP_NHAN``, oldest quarter first,
    with what following it needs (the receipt number and the agency's intake connection)."""
    from . import connections
    from .config import CONN_INTAKE
    from .store import Store

    with Store(settings.store_url) as store:
        rows = store.accepted_reports()
    found = []
    for row in rows:
        receipt = row.get("receipt") or {}
        if receipt.get("TrangThai") != RECEIVED or not receipt.get("MaTiepNhan"):
            continue
        found.append({"MaTiepNhan": receipt["MaTiepNhan"], "agency": row["agency"], "year": row["year"],
                      "quarter": row["quarter"], "version": row["version"], "window_key": row["window_key"],
                      "run_id": row.get("run_id"),
                      "intake_conn_id": connections.resolve_conn_id(CONN_INTAKE, row["agency"])})
    log.info("%d biên nhận đang chờ Sở Nội vụ xem xét: %s", len(found),
             ", ".join(f"{r['MaTiepNhan']} ({r['agency']} {r['year']}Q{r['quarter']} v{r['version']})"
                       for r in found) or "không có")
    return found


def settle(settings, receipt: Mapping[str, Any], *, dag_id: str, run_id: str) -> dict:
    """Store a final receipt (DA_DUYET or TRA_LAI) and, on TRA_LAI, alert. Returns a summary
    ``{"outcome": "approved" | "returned" | "unchanged", ...}``."""
    from . import pipeline
    from .periods import window_for
    from .store import Store

    state = receipt.get("TrangThai")
    if state not in OUTCOMES:
        raise ValueError(f"biên nhận {receipt.get('MaTiepNhan')} chưa ở trạng thái cuối: {state!r}")
    agency, year, quarter, version = (receipt.get("MaDonViBaoCao"), int(receipt["Nam"]), int(receipt["Quy"]),
                                      int(receipt["PhienBan"]))
    with Store(settings.store_url) as store:
        row = next((v for v in store.report_versions(agency, year, quarter) if v["version"] == version), None)
        if row is None:
            raise ValueError(f"kho dữ liệu không có phiên bản {version} của {agency} {year}Q{quarter} "
                             f"(biên nhận {receipt.get('MaTiepNhan')})")
        stored = row.get("receipt") or {}
        summary = {"agency": agency, "year": year, "quarter": quarter, "version": version,
                   "MaTiepNhan": receipt.get("MaTiepNhan"), "TrangThai": state}
        if stored.get("TrangThai") == state:
            log.info("biên nhận %s đã được ghi nhận %s trước đó: không ghi lại, không cảnh báo",
                     receipt.get("MaTiepNhan"), state)
            return {**summary, "outcome": "unchanged"}
        period = pipeline.Period(agency, window_for(year, quarter, settings.window_rule))
        pipeline.record_receipt(store, settings, period, dict(receipt))
        outcome = OUTCOMES[state]
        message = classify_receipt(receipt)[1]
        store.record_run_event(agency, row["window_key"], row.get("run_id") or run_id, "receipt", outcome, {
            "MaTiepNhan": receipt.get("MaTiepNhan"), "TrangThai": state, "PhienBan": version,
            "LyDoTraLai": receipt.get("LyDoTraLai"), "message": message,
            "followed_by": {"dag_id": dag_id, "run_id": run_id}})
    log.info("%s", message)
    if state == RETURNED:
        from .alerts import returned_alert, send_alert

        sent = send_alert(returned_alert(receipt, dag_id=dag_id, run_id=run_id, window=period.window,
                                         submitted_by=row.get("run_id")))
        summary["alerts_sent"] = sent
    return {**summary, "outcome": outcome}
