"""What several pages say alike, worded through :mod:`parreport.fmt`: a window (quarter, range,
deadline), an agency, a receipt's state, a rule's title, the steward's commands; and the report
versions of a partition as the pages read them (``versions``). Nothing here writes.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable

from ... import fmt
from ... import store as st
from ...periods import Window, deadline_for, window_for

#: ``run_info(run_ids)``: the runs' Airflow states (:func:`parreport.ui.airflow.airflow_run_info`).
RunInfo = Callable[[list[str]], dict[str, dict]]

_KEY = re.compile(r"^(\d{4})Q([1-4])_(\d{8})_(\d{8})$")


def window_of(key: str) -> Window | None:
    """The window a partition key names (either rule), or None for a key of another form."""
    m = _KEY.match(key or "")
    if not m:
        return None
    for rule in ("nd09", "calendar"):
        try:
            w = window_for(int(m.group(1)), int(m.group(2)), rule)
        except ValueError:
            continue
        if w.key == key:
            return w
    return None


def window_view(key: str, deadline_day: int) -> dict:
    w = window_of(key)
    if w is None:
        return {"key": key, "title": "Kỳ báo cáo khác", "range": "", "deadline": fmt.DASH, "year": None,
                "quarter": None}
    deadline = deadline_for(w, deadline_day)
    return {"key": key, "title": fmt.quarter_title(w.year, w.quarter),
            "range": f"{w.start:%d/%m/%Y} – {w.end:%d/%m/%Y}", "year": w.year, "quarter": w.quarter,
            "deadline": f"{deadline:%H:%M:%S} ngày {deadline:%d/%m/%Y}"}


def agency_view(code: str, names: dict[str, str]) -> dict:
    name = names.get(code)
    return {"code": code, "name": name or code, "label": fmt.agency_label(code, name)}


def unit_names(store: st.Store, agency: str, key: str) -> dict[str, str]:
    """The unit names of a partition, else the agency's own name."""
    return store.unit_names(agency, key) or store.unit_names(codes=[agency])


def as_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def receipt_state(receipt: dict | None, status: str | None = None) -> str:
    if receipt and receipt.get("TrangThai"):
        return fmt.label("bien_nhan", receipt.get("TrangThai"))
    return fmt.label("phien_ban", status) if status else fmt.DASH


def report_versions(store: st.Store, agency: str, key: str) -> list[dict]:
    out = []
    for row in store.window_reports(agency, key):
        body = as_json(row.get("body")) or {}
        receipt = as_json(row.get("receipt")) or {}
        out.append({**row, "body": body, "receipt": receipt})
    return out


def steward_commands(agency: str, window: dict) -> list[dict]:
    y, q = window.get("year"), window.get("quarter")
    p = f"--agency {agency} --year {y} --quarter {q}"
    return [
        {"what": "Xem các hồ sơ bị cách ly và quy tắc chúng vi phạm", "cmd": f"parreport quarantine list {p}"},
        {"what": "Ghi một sửa đổi (mỗi trường sai của một hồ sơ một lệnh; giá trị viết dạng JSON)",
         "cmd": f"parreport corrections add {p} --ma-ho-so <MaHoSo> --field <Trường> "
                f"--value '<giá trị JSON>' --reason '<lý do sửa>' --by '<họ tên>'"},
        {"what": "Kiểm tra lại ngay, không gửi gì (ghi bằng chứng vào thư mục riêng)", "cmd": f"parreport validate {p}"},
    ]
