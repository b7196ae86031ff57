"""Biểu 06, the indicators against targets and the data quality, as an XLSX workbook (openpyxl).

Byte-identical for identical inputs: fixed core-property dates and zip entry times (the
window's last day), no clock read."""
from __future__ import annotations

import io
import zipfile
from copy import copy
from datetime import datetime
from typing import Any, Mapping

from .. import fmt
from ..figures import BIEU06_COLUMNS, INDICATOR_NAMES, TOTAL_CODE
from ..periods import Window
from .view import (COLUMN_LABELS, FORM_NAME, FORM_SOURCE, FORM_TITLE, IDENTITY_NOTE, RECIPIENT,
                   Revision, View, as_int, cell, indicator_gap, indicator_note, indicator_result, make_view, period_text,
                   quarter_text, upper_first)

__all__ = ["build_xlsx"]


def build_xlsx(content: Mapping, *, agency: str, agency_name: str, window: Window,
               unit_names: Mapping[str, str] | None = None, revision: Revision | None = None) -> bytes:
    """Biểu 06, the indicators against targets and the data quality, as an XLSX workbook."""
    from openpyxl import Workbook

    v = make_view(content, agency, agency_name, window, (), unit_names, revision)
    wb = Workbook()
    ws = wb.active
    ws.title = "Biểu 06"
    _xlsx_bieu06(ws, v)
    _xlsx_indicators(wb.create_sheet("Chỉ tiêu"), v)
    _xlsx_quality(wb.create_sheet("Chất lượng dữ liệu"), v)
    stamp = window.end.replace(microsecond=0)
    wb.properties.creator = v.agency_name
    wb.properties.lastModifiedBy = v.agency_name
    wb.properties.title = f"{FORM_TITLE} – {quarter_text(window)}"
    if v.revision is not None:
        wb.properties.title += f" – phiên bản {v.revision.version}"
        wb.properties.description = f"{v.revision.replaced} {v.revision.why}"
    wb.properties.created = stamp
    wb.properties.modified = stamp
    return _save_workbook(wb, stamp)


def _save_workbook(wb, stamp: datetime) -> bytes:
    """openpyxl's save without its clock: fixed core properties, fixed zip entry times."""
    from openpyxl.writer.excel import ExcelWriter

    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    out = io.BytesIO()
    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def _styles():
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin", color="000000")
    return {
        "border": Border(left=thin, right=thin, top=thin, bottom=thin),
        "bold": Font(name="Times New Roman", bold=True, size=11),
        "normal": Font(name="Times New Roman", size=11),
        "italic": Font(name="Times New Roman", italic=True, size=11),
        "title": Font(name="Times New Roman", bold=True, size=14),
        "center": Alignment(horizontal="center", vertical="center", wrap_text=True),
        "left": Alignment(horizontal="left", vertical="center", wrap_text=True),
        "right": Alignment(horizontal="right", vertical="center"),
        "head_fill": PatternFill("solid", fgColor="DDEBF7"),
        "total_fill": PatternFill("solid", fgColor="F2F2F2"),
        "bad_fill": PatternFill("solid", fgColor="FCE4E4"),
    }


def _put(ws, row: int, col: int, value: Any, font=None, align=None, border=None, fill=None, numfmt: str | None = None):
    """Write ``value`` with the given styles (the objects of :func:`_styles`).

    openpyxl registers each style object of every cell anew (hashing it against the workbook's
    lists), which was a third of the report's build time; a fresh cell given a combination seen
    before takes that cell's style indexes instead — the same indexes openpyxl would find, so the
    workbook's bytes do not change."""
    cell = ws.cell(row=row, column=col, value=value)
    known_styles = ws.parent.__dict__.setdefault("_parreport_styles", {})
    key = (id(font), id(align), id(border), id(fill), numfmt)
    fresh = not cell._style or not any(cell._style)
    known = known_styles.get(key) if fresh else None
    if known is not None:
        cell._style = copy(known[0])
        return cell
    if font is not None:
        cell.font = font
    if align is not None:
        cell.alignment = align
    if border is not None:
        cell.border = border
    if fill is not None:
        cell.fill = fill
    if numfmt is not None:
        cell.number_format = numfmt
    if fresh:  # the style objects are kept with their indexes, so that their ids stay theirs
        known_styles[key] = (copy(cell._style), font, align, border, fill)
    return cell


def _heading_rows(ws, v: View, s: dict, width: int, title: str) -> int:
    """Form name, title, period, units; returns the next free row."""
    from openpyxl.utils import get_column_letter

    last = get_column_letter(width)
    _put(ws, 1, 1, FORM_NAME, s["bold"])
    _put(ws, 2, 1, FORM_SOURCE, s["italic"])
    ws.merge_cells(f"A4:{last}4")
    _put(ws, 4, 1, title, s["title"], s["center"])
    ws.row_dimensions[4].height = 22
    ws.merge_cells(f"A5:{last}5")
    _put(ws, 5, 1, f"Kỳ báo cáo: {upper_first(quarter_text(v.window))} ({period_text(v.window)})", s["bold"],
         s["center"])
    _put(ws, 6, 1, f"Đơn vị báo cáo: {v.agency_name} (mã đơn vị {v.agency})", s["normal"])
    _put(ws, 7, 1, f"Đơn vị nhận báo cáo: {RECIPIENT}", s["normal"])
    if v.revision is None:
        return 8
    ws.merge_cells(f"A8:{last}8")
    _put(ws, 8, 1, f"Báo cáo điều chỉnh: {v.revision.replaced} {v.revision.why}", s["bold"], s["left"])
    ws.row_dimensions[8].height = 15 * (2 + len(v.revision.why) // 160)
    return 9


def _xlsx_bieu06(ws, v: View) -> None:
    from openpyxl.worksheet.page import PageMargins

    s = _styles()
    width = 2 + len(BIEU06_COLUMNS)
    row = _heading_rows(ws, v, s, width, FORM_TITLE)
    _put(ws, row, width, "Đơn vị tính: Số hồ sơ TTHC", s["italic"], s["right"])
    top = row + 1  # three header rows: top, top+1, top+2; numbered row top+3
    heads = [
        # (row offset, first col, last col, rows spanned, text)
        (0, 1, 1, 3, "STT"),
        (0, 2, 2, 3, "Lĩnh vực, công việc giải quyết"),
        (0, 3, 6, 1, "Số hồ sơ nhận giải quyết"),
        (0, 7, 10, 1, "Số hồ sơ đã giải quyết"),
        (0, 11, 13, 1, "Số hồ sơ đang giải quyết"),
        (1, 3, 3, 2, "Tổng số"),
        (1, 4, 5, 1, "Trong kỳ"),
        (1, 6, 6, 2, "Từ kỳ trước"),
        (1, 7, 7, 2, "Tổng số"),
        (1, 8, 8, 2, "Trước hạn"),
        (1, 9, 9, 2, "Đúng hạn"),
        (1, 10, 10, 2, "Quá hạn"),
        (1, 11, 11, 2, "Tổng số"),
        (1, 12, 12, 2, "Trong hạn"),
        (1, 13, 13, 2, "Quá hạn"),
        (2, 4, 4, 1, "Trực tuyến"),
        (2, 5, 5, 1, "Trực tiếp, dịch vụ bưu chính"),
    ]
    for r in range(top, top + 4):
        for c in range(1, width + 1):
            _put(ws, r, c, None, s["bold"], s["center"], s["border"], s["head_fill"])
    for off, c1, c2, span, text in heads:
        r = top + off
        ws.cell(row=r, column=c1, value=text)
        if c2 > c1 or span > 1:
            ws.merge_cells(start_row=r, start_column=c1, end_row=r + span - 1, end_column=c2)
    numbered = top + 3
    for c in range(1, width + 1):
        _put(ws, numbered, c, f"({c})", s["italic"], s["center"], s["border"], s["head_fill"])
    r = numbered + 1
    rows = v.content.get("Bieu06") or []
    n = 0
    for item in rows:
        is_total = item.get("MaLinhVuc") == TOTAL_CODE
        font = s["bold"] if is_total else s["normal"]
        fill = s["total_fill"] if is_total else None
        if not is_total:
            n += 1
        _put(ws, r, 1, None if is_total else n, font, s["center"], s["border"], fill)
        _put(ws, r, 2, item.get("TenLinhVuc"), font, s["left"], s["border"], fill)
        for i, path in enumerate(BIEU06_COLUMNS):
            _put(ws, r, 3 + i, cell(item, path), font, s["right"], s["border"], fill, "#,##0")
        r += 1
    _put(ws, r + 1, 1, IDENTITY_NOTE, s["italic"])
    ws.column_dimensions["A"].width = 6
    ws.column_dimensions["B"].width = 44
    for i in range(len(BIEU06_COLUMNS)):
        ws.column_dimensions[chr(ord("C") + i)].width = 12
    ws.row_dimensions[top + 2].height = 45
    ws.freeze_panes = ws.cell(row=numbered + 1, column=3)
    ws.print_title_rows = f"{top}:{numbered}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5)


def _xlsx_indicators(ws, v: View) -> None:
    s = _styles()
    headers = ["STT", "Mã chỉ tiêu", "Tên chỉ tiêu", "Phạm vi (mã đơn vị)", "Đơn vị", "Tử số", "Mẫu số",
               "Giá trị (%)", "Mục tiêu (%)", "Kết quả", "Chênh lệch so với mục tiêu (điểm %)", "Ghi chú"]
    row = _heading_rows(ws, v, s, len(headers), "KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU SO VỚI MỤC TIÊU")
    row += 1
    for c, text in enumerate(headers, 1):
        _put(ws, row, c, text, s["bold"], s["center"], s["border"], s["head_fill"])
    header_row = row
    row += 1
    for n, item in enumerate(v.content.get("ChiTieu") or [], 1):
        result = indicator_result(item)
        fill = s["bad_fill"] if result == "Không đạt" else None
        gap = indicator_gap(item)
        values = [
            (n, None, s["center"]),
            (item.get("MaChiTieu"), None, s["left"]),
            (item.get("TenChiTieu") or INDICATOR_NAMES.get(item.get("MaChiTieu"), ""), None, s["left"]),
            (item.get("PhamVi"), None, s["left"]),
            (v.unit_name(item.get("PhamVi")), None, s["left"]),
            (as_int(item.get("TuSo")), "#,##0", s["right"]),
            (as_int(item.get("MauSo")), "#,##0", s["right"]),
            (item.get("GiaTri"), "0.00", s["right"]),
            (item.get("MucTieu"), "0.##", s["right"]),
            (result, None, s["center"]),
            (float(gap) if gap is not None else None, "+0.00;-0.00;0.00", s["right"]),
            (indicator_note(item), None, s["left"]),
        ]
        for c, (value, numfmt, align) in enumerate(values, 1):
            _put(ws, row, c, value, s["normal"], align, s["border"], fill, numfmt)
        row += 1
    for col, width in zip("ABCDEFGHIJKL", (6, 28, 60, 18, 40, 10, 10, 11, 11, 11, 16, 36)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = ws.cell(row=header_row + 1, column=4)
    ws.auto_filter.ref = f"A{header_row}:L{max(row - 1, header_row)}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0


def _xlsx_quality(ws, v: View) -> None:
    s = _styles()
    q = v.content.get("ChatLuongDuLieu") or {}
    row = _heading_rows(ws, v, s, 7, "CHẤT LƯỢNG DỮ LIỆU")
    row += 1
    for label, key in (("Số hồ sơ lấy từ Cổng DVC sau khi loại trùng", "SoBanGhi"),
                       ("Số hồ sơ bị loại khỏi số liệu (vi phạm quy tắc kiểm tra)", "SoBanGhiLoai"),
                       ("Số hồ sơ đã được hiệu chỉnh trước khi tính", "SoBanGhiDaSua")):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
        _put(ws, row, 1, f"{label} ({key})", s["normal"], s["left"], s["border"])
        for c in (2, 3):
            _put(ws, row, c, None, border=s["border"])
        _put(ws, row, 4, as_int(q.get(key)), s["bold"], s["right"], s["border"], None, "#,##0")
        row += 1
    row += 1
    _put(ws, row, 1, "Kết quả kiểm tra dữ liệu (KiemTra)", s["bold"])
    row += 1
    for c, text in enumerate(["STT", "Nội dung kiểm tra", "Mức độ", "Kết quả", "Số lỗi"], 1):
        _put(ws, row, c, text, s["bold"], s["center"], s["border"], s["head_fill"])
    row += 1
    for n, check in enumerate(q.get("KiemTra") or [], 1):
        fill = s["bad_fill"] if check.get("KetQua") == "KHONG_DAT" else None
        _put(ws, row, 1, n, s["normal"], s["center"], s["border"], fill)
        _put(ws, row, 2, check.get("Ten"), s["normal"], s["left"], s["border"], fill)
        _put(ws, row, 3, fmt.label("muc_do", check.get("MucDo")), s["normal"], s["center"], s["border"], fill)
        _put(ws, row, 4, fmt.label("ket_qua", check.get("KetQua")), s["normal"], s["center"],
             s["border"], fill)
        _put(ws, row, 5, as_int(check.get("SoLoi")), s["normal"], s["right"], s["border"], fill, "#,##0")
        row += 1
    row += 1
    _put(ws, row, 1, "Đối soát Biểu 06 với số liệu của Cổng DVC (DoiSoatCongDVC)", s["bold"])
    row += 1
    for c, text in enumerate(["STT", "Mã lĩnh vực", "Tên lĩnh vực", "Cột", "Cổng DVC", "Tính lại", "Chênh lệch"], 1):
        _put(ws, row, c, text, s["bold"], s["center"], s["border"], s["head_fill"])
    row += 1
    names = {r.get("MaLinhVuc"): r.get("TenLinhVuc") for r in v.content.get("Bieu06") or []}
    diffs = q.get("DoiSoatCongDVC") or []
    for n, d in enumerate(diffs, 1):
        portal, ours = as_int(d.get("CongDVC")), as_int(d.get("TinhLai"))
        values = [(n, None, s["center"]), (d.get("MaLinhVuc"), None, s["left"]),
                  (names.get(d.get("MaLinhVuc"), ""), None, s["left"]),
                  (COLUMN_LABELS.get(d.get("Cot"), d.get("Cot")), None, s["left"]),
                  (portal, "#,##0", s["right"]), (ours, "#,##0", s["right"]),
                  (portal - ours, "+#,##0;-#,##0;0", s["right"])]
        for c, (value, numfmt, align) in enumerate(values, 1):
            _put(ws, row, c, value, s["normal"], align, s["border"], None, numfmt)
        row += 1
    if not diffs:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=7)
        _put(ws, row, 1, "Không có chênh lệch giữa Biểu 06 tính lại và số liệu của Cổng DVC.", s["italic"],
             s["left"], s["border"])
    for col, width in zip("ABCDEFG", (6, 60, 30, 42, 12, 12, 12)):
        ws.column_dimensions[col].width = width
