"""The documents page (``/bao-cao/.../``): the files of every report version, with its state."""
from __future__ import annotations

from pathlib import Path

from ... import fmt
from ... import store as st
from ...config import Settings
from ...storage import relative_name
from ..paths import files, reports_root, safe_name, version_dirs
from ..urls import Urls
from .common import agency_view, receipt_state, report_versions, unit_names, window_view

_DOC_TITLES = {"bao-cao.json": "Báo cáo đã ký gửi Sở Nội vụ (JSON)", "bien-nhan.json": "Biên nhận của Sở Nội vụ (JSON)"}


def documents_view(store: st.Store, settings: Settings, agency: str, key: str, urls: Urls) -> dict:
    safe_name(agency), safe_name(key)
    root = reports_root(settings, agency, key)
    versions = {v["version"]: v for v in report_versions(store, agency, key)}
    out = []
    for n, folder in reversed(version_dirs(root)):
        entries = []
        for f in files(folder):
            rel = relative_name(f, folder)
            entries.append({"name": rel, "title": _doc_title(rel), "url": urls.report_file(agency, key, n, rel),
                            "size": f"{fmt.number(max(1, round(f.stat().st_size / 1024)))} KB"})
        v = versions.get(n)
        out.append({"version": n, "files": entries,
                    "state": receipt_state(v.get("receipt"), v.get("status")) if v else fmt.DASH,
                    "reason": (v.get("body") or {}).get("LyDoDieuChinh") if v else None,
                    "receipt_url": urls.receipt(agency, key, n) if v and v.get("receipt") else None})
    names = unit_names(store, agency, key)
    return {"agency": agency_view(agency, names), "window": window_view(key, settings.deadline_day),
            "versions": out, "summary_url": urls.summary(agency, key)}


def _doc_title(name: str) -> str:
    if name in _DOC_TITLES:
        return _DOC_TITLES[name]
    suffix = Path(name).suffix.lower()
    return {".xlsx": "Biểu 06 (bảng tính)", ".pdf": "Báo cáo (PDF)", ".html": "Báo cáo (trang web)"}.get(suffix, name)
