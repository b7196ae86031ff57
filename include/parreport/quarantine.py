"""The quarantine as people read it: one row per (record, rule broken), with the unit, the
rule's Vietnamese title and explanation — the same rows on the steward's page, in
``parreport quarantine list`` and in the CSV / XLSX downloads of both.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Iterable, Mapping

__all__ = ["COLUMNS", "HEADERS", "flat_rows", "unit_label", "csv_bytes", "xlsx_bytes", "write_xlsx",
           "KIND_LABELS"]

COLUMNS = ("LoaiBanGhi", "STT", "Ma", "DonVi", "QuyTac", "TenQuyTac", "Truong", "MoTa")
HEADERS = ("Loại bản ghi", "STT giao nhận", "Mã hồ sơ / đánh giá", "Đơn vị trực thuộc", "Mã quy tắc", "Quy tắc",
           "Trường", "Mô tả lỗi")
KIND_LABELS = {"dossier": "hồ sơ", "rating": "đánh giá"}
_WIDTHS = (12, 10, 32, 36, 20, 40, 26, 80)


def unit_label(code: str | None, names: Mapping[str, str], agency: str | None = None) -> str:
    """A unit for people: its name, the code in brackets; the agency itself says so."""
    if not code:
        return "(không rõ đơn vị)"
    name = names.get(code)
    if agency is not None and code == agency:
        return f"{name or code} — đơn vị báo cáo trực tiếp xử lý"
    return f"{name} ({code})" if name and name != code else code


def flat_rows(items: Iterable[dict], names: Mapping[str, str] | None = None, agency: str | None = None) -> list[dict]:
    """Quarantine items (``story.snapshot_quarantine``) → one row per rule broken."""
    from .quality.suites import rule_title

    names = names or {}
    out = []
    for item in items:
        unit = unit_label(item.get("direct_unit") or item.get("unit"), names, agency)
        for v in item.get("violations") or []:
            rule = v.get("rule", "")
            out.append({"LoaiBanGhi": KIND_LABELS.get(item.get("kind"), item.get("kind")), "STT": item.get("seq"),
                        "Ma": item.get("ref") or "(không có mã)", "DonVi": unit, "QuyTac": rule,
                        "TenQuyTac": rule_title(rule), "Truong": v.get("field", ""), "MoTa": v.get("message", ""),
                        "_unit_code": item.get("direct_unit") or item.get("unit") or ""})
    return out


def csv_bytes(rows: list[dict]) -> bytes:
    """UTF-8 with a BOM, so that Excel reads the Vietnamese."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADERS)
    for r in rows:
        w.writerow([r[c] for c in COLUMNS])
    return buf.getvalue().encode("utf-8-sig")


def _workbook(rows: list[dict], title: str):
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "Cach ly"
    ws.append(list(HEADERS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append([r[c] for c in COLUMNS])
    for i, width in enumerate(_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    last = len(COLUMNS)
    for row in ws.iter_rows(min_row=2, min_col=last, max_col=last):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    wb.properties.title = title
    return wb


def xlsx_bytes(rows: list[dict], title: str) -> bytes:
    buf = io.BytesIO()
    _workbook(rows, title).save(buf)
    return buf.getvalue()


def write_xlsx(path: Path, rows: list[dict], title: str) -> None:
    from .files import write_bytes

    write_bytes(Path(path), xlsx_bytes(rows, title))
