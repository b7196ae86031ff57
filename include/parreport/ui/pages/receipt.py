"""The receipt page (``/bien-nhan/...``): the Sở Nội vụ's receipt of one version, in Vietnamese."""
from __future__ import annotations

import json

from ... import fmt
from ... import store as st
from ...config import Settings
from ..paths import NotFound, reports_root, safe_name
from ..urls import Urls
from .common import agency_view, report_versions, unit_names, window_view


def receipt_view(store: st.Store, settings: Settings, agency: str, key: str, version: int | None, urls: Urls) -> dict:
    safe_name(agency), safe_name(key)
    versions = report_versions(store, agency, key)
    root = reports_root(settings, agency, key)
    candidates = [v["version"] for v in versions if v.get("receipt")]
    if version is None:
        accepted = [v["version"] for v in versions if v["status"] == "ACCEPTED" and v.get("receipt")]
        version = (accepted or candidates or [None])[-1]
    receipt = None
    row = next((v for v in versions if v["version"] == version), None)
    path = root / f"v{version}" / "bien-nhan.json" if version is not None else None
    if path is not None and path.is_file():
        try:
            receipt = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            receipt = None
    if receipt is None and row is not None:
        receipt = row.get("receipt") or None
    if not isinstance(receipt, dict):
        raise NotFound(f"chưa có biên nhận của đơn vị {agency} cho kỳ này")
    names = unit_names(store, agency, key)
    window = window_view(key, settings.deadline_day)
    agency_code = receipt.get("MaDonViBaoCao") or agency
    return {
        "agency": agency_view(agency_code, names), "window": window, "version": version,
        "fields": [
            ("Số biên nhận", receipt.get("MaTiepNhan") or fmt.DASH),
            ("Trạng thái", fmt.label("bien_nhan", receipt.get("TrangThai"))),
            ("Thời điểm tiếp nhận", fmt.datetime_text(receipt.get("ThoiDiemTiepNhan"))),
            ("Đơn vị báo cáo", agency_view(agency_code, names)["label"]),
            ("Kỳ báo cáo", fmt.quarter_title(receipt["Nam"], receipt["Quy"])
             if isinstance(receipt.get("Nam"), int) and isinstance(receipt.get("Quy"), int) else window["title"]),
            ("Phiên bản", fmt.number(receipt.get("PhienBan"))),
            ("Mã băm SHA-256 của nội dung đã ký", receipt.get("SHA256") or fmt.DASH),
        ],
        "returned": receipt.get("TrangThai") == "TRA_LAI", "returned_reason": receipt.get("LyDoTraLai"),
        "state_class": {"DA_DUYET": "ok", "TRA_LAI": "bad"}.get(receipt.get("TrangThai"), "info"),
        "json_url": urls.report_file(agency, key, version, "bien-nhan.json") if path is not None and path.is_file()
        else None,
        "others": [{"version": v, "url": urls.receipt(agency, key, v)} for v in candidates if v != version],
        "summary_url": urls.summary(agency, key, row["run_id"]) if row and row.get("run_id") else urls.summary(agency, key),
        "documents_url": urls.documents(agency, key),
    }
