"""The report as documents people read: Biểu 06 as XLSX, the report as PDF and HTML.

All three are built from the figures the payload carries (``content`` = ``{"Bieu06": [...],
"ChiTieu": [...], "ChatLuongDuLieu": {...}}``, as ``pipeline.compute`` stores it) and are
attached to the submission (``build_attachments`` gives the ``TepDinhKem`` items).

The report's versioning compares the whole body, attachments included, so every document is
byte-identical for identical inputs: no clock is read anywhere here. The XLSX carries fixed
core-property dates and zip entry times (the window's last day); the PDF is written by
reportlab in invariant mode (fixed dates and file id); charts are rendered by matplotlib with a
fixed SVG hash salt and no date/software metadata. The documents change only when the figures,
the agency's name or the history (previous quarters' figures) change — or when a pinned library
that renders them is upgraded.

Vietnamese text is set in DejaVu Sans, the TTF that matplotlib ships (located through
matplotlib's own data path), embedded (subset) in the PDF and used for the charts' glyphs.

Readings taken where the brief is open:

* Biểu 06 columns are numbered (1)…(13): STT (1), Lĩnh vực (2), then the eleven figures (3)–(13)
  in the payload's column order, so the identities read (3) = (4)+(5)+(6) = (7)+(11),
  (7) = (8)+(9)+(10), (11) = (12)+(13); the note under the table says so.
* An indicator without value (MauSo = 0) or without target shows "—" as its result; its value
  cell stays empty (a number column never holds text).
* The shortfall of a missed target is computed from the exact fraction TuSo/MauSo (as
  DatMucTieu is), rounded half-up to 2 decimals, in percentage points.
* "Previous quarter" is the history entry whose window is ``window.previous()``; the trend
  shows at most the last :data:`TREND_QUARTERS` quarters (history + this one).
"""
from __future__ import annotations

import base64
import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..figures import BIEU06_COLUMNS, INDICATOR_NAMES, TOTAL_CODE
from ..periods import Window

__all__ = [
    "XLSX_TYPE", "PDF_TYPE", "HTML_TYPE", "TREND_QUARTERS", "SHORT_NAMES", "COLUMN_LABELS",
    "build_xlsx", "build_html", "build_pdf", "build_attachments", "attachment_names",
    "narrative", "indicator_result", "indicator_gap", "font_path", "decode_attachment", "history_windows",
]

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_TYPE = "application/pdf"
HTML_TYPE = "text/html; charset=utf-8"
TREND_QUARTERS = 8
FORM_NAME = "Biểu số 06"
FORM_SOURCE = "Ban hành kèm theo Thông tư số 01/2020/TT-VPCP của Văn phòng Chính phủ"
FORM_TITLE = "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"
RECIPIENT = "Sở Nội vụ"
_SVG_SALT = "parreport-report"

SHORT_NAMES: dict[str, str] = {
    "TTHC_MOT_CUA": "TTHC qua cơ chế một cửa",
    "TTHC_BON_TAI_CHO": "TTHC theo mô hình “4 tại chỗ”",
    "TTHC_TRUC_TUYEN": "TTHC cung cấp DVC trực tuyến",
    "TTHC_THANH_TOAN_TRUC_TUYEN": "TTHC có thanh toán trực tuyến",
    "HS_TRUC_TUYEN": "Hồ sơ nộp trực tuyến",
    "HS_THANH_TOAN_TRUC_TUYEN": "Hồ sơ thanh toán trực tuyến",
    "HS_DUNG_HAN": "Hồ sơ giải quyết đúng hạn",
    "HS_XIN_LOI": "Hồ sơ trễ hạn có thư xin lỗi",
    "HS_KET_QUA_DIEN_TU": "Kết quả giải quyết điện tử",
    "HS_EFORM_TU_DONG": "Trường e-form điền tự động",
    "HS_DONG_BO_DVCQG": "Hồ sơ đồng bộ Cổng DVC quốc gia",
    "HL_HAI_LONG": "Người dân, DN hài lòng",
}

# "Group.Column" -> label (used for DoiSoatCongDVC rows and the HTML/PDF table headers)
COLUMN_LABELS: dict[str, str] = {
    "TiepNhan.Tong": "Nhận giải quyết – Tổng số",
    "TiepNhan.TrucTuyen": "Nhận giải quyết – Trong kỳ, trực tuyến",
    "TiepNhan.TrucTiepBuuChinh": "Nhận giải quyết – Trong kỳ, trực tiếp/bưu chính",
    "TiepNhan.KyTruocChuyenSang": "Nhận giải quyết – Từ kỳ trước",
    "DaGiaiQuyet.Tong": "Đã giải quyết – Tổng số",
    "DaGiaiQuyet.TruocHan": "Đã giải quyết – Trước hạn",
    "DaGiaiQuyet.DungHan": "Đã giải quyết – Đúng hạn",
    "DaGiaiQuyet.QuaHan": "Đã giải quyết – Quá hạn",
    "DangGiaiQuyet.Tong": "Đang giải quyết – Tổng số",
    "DangGiaiQuyet.TrongHan": "Đang giải quyết – Trong hạn",
    "DangGiaiQuyet.QuaHan": "Đang giải quyết – Quá hạn",
}
assert tuple(COLUMN_LABELS) == BIEU06_COLUMNS

_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
_LEVEL = {"CHAN": "Chặn", "CANH_BAO": "Cảnh báo"}
_OUTCOME = {"DAT": "Đạt", "KHONG_DAT": "Không đạt"}
UNITS_NOTE = ("Mỗi đơn vị trực thuộc được tính cùng các đơn vị cấp dưới của nó; bảng đầy đủ mọi chỉ tiêu của mọi "
              "phạm vi có trong tệp Biểu 06 (XLSX), trang “Chỉ tiêu”.")
IDENTITY_NOTE = "Ghi chú: (3) = (4) + (5) + (6) = (7) + (11); (7) = (8) + (9) + (10); (11) = (12) + (13)."


# =============================================================================================
# Formatting and small helpers
# =============================================================================================

def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) else 0


def _cell(row: Mapping, path: str) -> int:
    group, col = path.split(".")
    return _int((row.get(group) or {}).get(col))


def fmt_int(value: Any) -> str:
    """1234567 -> "1.234.567" (Vietnamese grouping)."""
    return f"{_int(value):,}".replace(",", ".")


def fmt_dec(value: Any, places: int = 2) -> str:
    """95.5 -> "95,50" (Vietnamese decimal comma)."""
    d = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if d < 0 else ""
    whole, _, frac = f"{abs(d):f}".partition(".")
    whole = f"{int(whole):,}".replace(",", ".")
    return f"{sign}{whole},{frac}" if frac else f"{sign}{whole}"


def fmt_pct(value: Any) -> str:
    return "—" if value is None else f"{fmt_dec(value)}%"


def fmt_target(value: Any) -> str:
    if value is None:
        return "—"
    d = Decimal(str(value))
    return f"{fmt_dec(d, 0 if d == d.to_integral_value() else 2)}%"


def _date(moment: datetime) -> str:
    return f"{moment:%d/%m/%Y}"


def quarter_text(window: Window) -> str:
    """"quý I năm 2025"."""
    return f"quý {_ROMAN[window.quarter]} năm {window.year}"


def period_text(window: Window) -> str:
    return f"từ ngày {_date(window.start)} đến ngày {_date(window.end)}"


def _round2(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def indicator_result(item: Mapping) -> str:
    """"Đạt", "Không đạt", or "—" when there is no value or no target."""
    met = item.get("DatMucTieu")
    return "—" if met is None else ("Đạt" if met else "Không đạt")


def indicator_gap(item: Mapping) -> Decimal | None:
    """Value minus target in percentage points, from the exact fraction; None without either."""
    num, den, target = item.get("TuSo"), item.get("MauSo"), item.get("MucTieu")
    if not den or target is None or num is None:
        return None
    exact = Fraction(int(num) * 100, int(den)) - Fraction(Decimal(str(target)))
    return _round2(exact)


def _note(item: Mapping) -> str:
    if not item.get("MauSo"):
        return "Mẫu số bằng 0: không có giá trị trong kỳ"
    if item.get("MucTieu") is None:
        return "Chưa đặt mục tiêu"
    gap = indicator_gap(item)
    if item.get("DatMucTieu") is False and gap is not None and gap == 0:
        return "Thấp hơn mục tiêu dưới 0,01 điểm phần trăm"
    return ""


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    """"Hồ sơ nộp trực tuyến" -> "hồ sơ nộp trực tuyến"; abbreviations (TTHC, DVC) stay."""
    head = text.split(" ", 1)[0]
    return text if head.isupper() else text[:1].lower() + text[1:]


def _split_agency(agency_name: str) -> tuple[str, str]:
    """("UBND TỈNH THỪA THIÊN HUẾ", "SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI") from the full name."""
    m = re.search(r"\s+(tỉnh|thành phố)\s+(.+)$", agency_name, flags=re.IGNORECASE)
    if not m:
        return "", agency_name.upper()
    return f"UBND {m.group(1)} {m.group(2)}".upper(), agency_name[:m.start()].upper()


def _province(agency_name: str) -> str:
    m = re.search(r"\s+(?:tỉnh|thành phố)\s+(.+)$", agency_name, flags=re.IGNORECASE)
    return m.group(1) if m else ""


def attachment_names(agency: str, window: Window) -> dict[str, str]:
    stem = f"{agency}_{window.year}Q{window.quarter}"
    return {"xlsx": f"bieu-06_{stem}.xlsx", "pdf": f"bao-cao-cchc_{stem}.pdf", "html": f"bao-cao-cchc_{stem}.html"}


@lru_cache(maxsize=None)
def font_path(style: str = "") -> str:
    """DejaVu Sans as shipped by matplotlib (``style``: "", "Bold", "Oblique", "BoldOblique")."""
    import matplotlib

    name = f"DejaVuSans-{style}.ttf" if style else "DejaVuSans.ttf"
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name
    if not path.is_file():  # pragma: no cover - a broken matplotlib install
        raise FileNotFoundError(f"không tìm thấy phông chữ {path}")
    return str(path)


# =============================================================================================
# The view of the figures that every document shows
# =============================================================================================

@dataclass
class _Quarter:
    window: Window
    content: Mapping

    @property
    def total(self) -> Mapping:
        rows = self.content.get("Bieu06") or []
        return next((r for r in rows if r.get("MaLinhVuc") == TOTAL_CODE), rows[-1] if rows else {})

    def agency_items(self, agency: str) -> dict[str, Mapping]:
        return {i["MaChiTieu"]: i for i in self.content.get("ChiTieu") or [] if i.get("PhamVi") == agency}

    @property
    def short_label(self) -> str:
        return f"Q{self.window.quarter}/{self.window.year}"


@dataclass
class _View:
    content: Mapping
    agency: str
    agency_name: str
    window: Window
    history: list[_Quarter]
    unit_names: Mapping[str, str] = field(default_factory=dict)

    @property
    def current(self) -> _Quarter:
        return _Quarter(self.window, self.content)

    @property
    def previous(self) -> _Quarter | None:
        prev = self.window.previous()
        return next((q for q in self.history if (q.window.year, q.window.quarter) == (prev.year, prev.quarter)),
                    None)

    @property
    def trend(self) -> list[_Quarter]:
        return (self.history + [self.current])[-TREND_QUARTERS:]

    def unit_name(self, code: str) -> str:
        if code == self.agency:
            return self.agency_name
        return self.unit_names.get(code) or code

    @property
    def scopes(self) -> list[str]:
        seen: list[str] = []
        for item in self.content.get("ChiTieu") or []:
            if item.get("PhamVi") not in seen:
                seen.append(item.get("PhamVi"))
        return seen


def _nfc(value: Any) -> Any:
    """Every string in NFC: portal names may arrive decomposed (NFD), which a PDF font without
    shaping would draw with loose combining marks."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, Mapping):
        return {k: _nfc(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nfc(v) for v in value]
    return value


def _view(content: Mapping, agency: str, agency_name: str, window: Window,
          history: Iterable[tuple[Window, Mapping]] = (), unit_names: Mapping[str, str] | None = None) -> _View:
    here = (window.year, window.quarter)
    past = {}
    for w, c in history or ():
        if c and (w.year, w.quarter) < here:
            past[(w.year, w.quarter)] = _Quarter(w, _nfc(c))
    ordered = [past[k] for k in sorted(past)][-(TREND_QUARTERS - 1):]
    return _View(_nfc(content), agency, _nfc(agency_name or agency), window, ordered, _nfc(dict(unit_names or {})))


# =============================================================================================
# Narrative
# =============================================================================================

def _share(part: int, whole: int) -> str:
    return fmt_dec(_round2(Fraction(100 * part, whole))) + "%" if whole else "—"


def _change(name: str, old: int, new: int, unit: str = "hồ sơ") -> str:
    if new == old:
        return f"{name} không đổi ({fmt_int(new)} {unit})"
    verb = "tăng" if new > old else "giảm"
    rel = f", {fmt_dec(_round2(Fraction(100 * abs(new - old), old)), 1)}%" if old else ""
    return f"{name} {verb} {fmt_int(abs(new - old))} {unit} ({fmt_int(old)} → {fmt_int(new)}{rel})"


def narrative(content: Mapping, *, agency: str, agency_name: str, window: Window,
              history: Iterable[tuple[Window, Mapping]] = (),
              unit_names: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """The report's generated text, by section: "tong_quan", "so_sanh", "chi_tieu", "chat_luong"."""
    return _narrative(_view(content, agency, agency_name, window, history, unit_names))


def _narrative(v: _View) -> dict[str, list[str]]:
    t = v.current.total
    tn, dg, dang = (lambda c: _cell(t, f"TiepNhan.{c}")), (lambda c: _cell(t, f"DaGiaiQuyet.{c}")), \
        (lambda c: _cell(t, f"DangGiaiQuyet.{c}"))
    new = tn("TrucTuyen") + tn("TrucTiepBuuChinh")
    overview = [
        f"Trong kỳ báo cáo {quarter_text(v.window)} ({period_text(v.window)}), {v.agency_name} nhận giải quyết "
        f"{fmt_int(tn('Tong'))} hồ sơ thủ tục hành chính, trong đó {fmt_int(tn('KyTruocChuyenSang'))} hồ sơ từ kỳ "
        f"trước chuyển sang và {fmt_int(new)} hồ sơ mới tiếp nhận ({fmt_int(tn('TrucTuyen'))} hồ sơ trực tuyến, "
        f"chiếm {_share(tn('TrucTuyen'), new)} hồ sơ mới; {fmt_int(tn('TrucTiepBuuChinh'))} hồ sơ trực tiếp hoặc "
        f"qua dịch vụ bưu chính).",
        f"Đã giải quyết {fmt_int(dg('Tong'))} hồ sơ: {fmt_int(dg('TruocHan'))} trước hạn, {fmt_int(dg('DungHan'))} "
        f"đúng hạn, {fmt_int(dg('QuaHan'))} quá hạn (tỷ lệ giải quyết trước hạn và đúng hạn "
        f"{_share(dg('TruocHan') + dg('DungHan'), dg('Tong'))}). Đến hết kỳ còn {fmt_int(dang('Tong'))} hồ sơ "
        f"đang giải quyết, trong đó {fmt_int(dang('TrongHan'))} hồ sơ trong hạn và {fmt_int(dang('QuaHan'))} "
        f"hồ sơ đã quá hạn.",
    ]
    rows = [r for r in v.content.get("Bieu06") or [] if r.get("MaLinhVuc") != TOTAL_CODE]
    if rows:
        busiest = max(rows, key=lambda r: (_cell(r, "TiepNhan.Tong"), r.get("MaLinhVuc") or ""))
        late = sorted((r for r in rows if _cell(r, "DaGiaiQuyet.QuaHan") + _cell(r, "DangGiaiQuyet.QuaHan")),
                      key=lambda r: -(_cell(r, "DaGiaiQuyet.QuaHan") + _cell(r, "DangGiaiQuyet.QuaHan")))
        text = (f"Số liệu trải trên {len(rows)} lĩnh vực; lĩnh vực nhận nhiều hồ sơ nhất là "
                f"{busiest.get('TenLinhVuc')} ({fmt_int(_cell(busiest, 'TiepNhan.Tong'))} hồ sơ).")
        if late:
            names = ", ".join(f"{r.get('TenLinhVuc')} "
                              f"({fmt_int(_cell(r, 'DaGiaiQuyet.QuaHan') + _cell(r, 'DangGiaiQuyet.QuaHan'))})"
                              for r in late[:3])
            text += f" Hồ sơ quá hạn (đã và đang giải quyết) tập trung ở: {names}."
        else:
            text += " Không có hồ sơ quá hạn."
        overview.append(text)

    comparison: list[str] = []
    prev = v.previous
    if prev is None:
        comparison.append("Chưa có số liệu quý trước để so sánh.")
    else:
        pt = prev.total
        parts = [_change(label, _cell(pt, path), _cell(t, path)) for path, label in (
            ("TiepNhan.Tong", "số hồ sơ nhận giải quyết"),
            ("TiepNhan.TrucTuyen", "số hồ sơ mới tiếp nhận trực tuyến"),
            ("DaGiaiQuyet.Tong", "số hồ sơ đã giải quyết"),
            ("DaGiaiQuyet.QuaHan", "số hồ sơ giải quyết quá hạn"),
            ("DangGiaiQuyet.QuaHan", "số hồ sơ đang giải quyết đã quá hạn"))]
        comparison.append(f"So với {quarter_text(prev.window)}: " + "; ".join(parts) + ".")
        old_items, new_items = prev.agency_items(v.agency), v.current.agency_items(v.agency)
        rose, fell, same = [], [], 0
        for code in INDICATOR_NAMES:
            a, b = (old_items.get(code) or {}).get("GiaTri"), (new_items.get(code) or {}).get("GiaTri")
            if a is None or b is None:
                continue
            delta = Decimal(str(b)) - Decimal(str(a))
            text = (f"{_lower_first(SHORT_NAMES[code])} "
                    f"{'tăng' if delta > 0 else 'giảm'} {fmt_dec(abs(delta))} điểm phần trăm "
                    f"({fmt_pct(a)} → {fmt_pct(b)})")
            if delta > 0:
                rose.append(text)
            elif delta < 0:
                fell.append(text)
            else:
                same += 1
        if rose:
            comparison.append("Các chỉ tiêu tăng: " + "; ".join(rose) + ".")
        if fell:
            comparison.append("Các chỉ tiêu giảm: " + "; ".join(fell) + ".")
        if same:
            comparison.append(f"{same} chỉ tiêu giữ nguyên giá trị so với quý trước.")

    targets: list[str] = []
    items = list(v.current.agency_items(v.agency).values())
    met = [i for i in items if i.get("DatMucTieu") is True]
    missed = [i for i in items if i.get("DatMucTieu") is False]
    empty = [i for i in items if not i.get("MauSo")]
    unset = [i for i in items if i.get("MauSo") and i.get("MucTieu") is None]
    targets.append(f"Ở phạm vi toàn đơn vị, {len(met)}/{len(items)} chỉ tiêu đạt mục tiêu, "
                   f"{len(missed)} chỉ tiêu không đạt.")
    if missed:
        lines = []
        for i in missed:
            gap = indicator_gap(i)
            short = "chưa đến 0,01" if gap is not None and gap == 0 else fmt_dec(abs(gap)) if gap is not None else "—"
            lines.append(f"{INDICATOR_NAMES.get(i['MaChiTieu'], i['MaChiTieu'])}: đạt {fmt_pct(i.get('GiaTri'))} "
                         f"so với mục tiêu {fmt_target(i.get('MucTieu'))}, thấp hơn {short} điểm phần trăm")
        targets.append("Các chỉ tiêu không đạt: " + "; ".join(lines) + ".")
    if empty:
        targets.append("Không có số liệu trong kỳ (mẫu số bằng 0) nên không đánh giá: "
                       + "; ".join(SHORT_NAMES.get(i["MaChiTieu"], i["MaChiTieu"]) for i in empty) + ".")
    if unset:
        targets.append("Chưa đặt mục tiêu: " + "; ".join(SHORT_NAMES.get(i["MaChiTieu"], i["MaChiTieu"])
                                                         for i in unset) + ".")
    sub_missed = [(s, [i for i in v.content.get("ChiTieu") or [] if i.get("PhamVi") == s
                       and i.get("DatMucTieu") is False]) for s in v.scopes if s != v.agency]
    sub_missed = [(s, m) for s, m in sub_missed if m]
    if sub_missed:
        targets.append("Ở các đơn vị trực thuộc: " + "; ".join(
            f"{v.unit_name(s)} có {len(m)} chỉ tiêu không đạt" for s, m in sub_missed) + ".")

    q = v.content.get("ChatLuongDuLieu") or {}
    checks = q.get("KiemTra") or []
    failed = [c for c in checks if c.get("KetQua") == "KHONG_DAT"]
    quality = [f"Số liệu được tính từ {fmt_int(q.get('SoBanGhi'))} hồ sơ lấy từ Cổng Dịch vụ công của tỉnh "
               f"(sau khi loại bản ghi trùng); {fmt_int(q.get('SoBanGhiLoai'))} hồ sơ bị loại khỏi số liệu do vi "
               f"phạm quy tắc kiểm tra; {fmt_int(q.get('SoBanGhiDaSua'))} hồ sơ đã được cán bộ quản lý dữ liệu "
               f"hiệu chỉnh trước khi tính."]
    if failed:
        quality.append(f"{len(failed)}/{len(checks)} nội dung kiểm tra không đạt: " + "; ".join(
            f"{c.get('Ten')} ({_LEVEL.get(c.get('MucDo'), c.get('MucDo'))}, {fmt_int(c.get('SoLoi'))} lỗi)"
            for c in failed) + ".")
    else:
        quality.append(f"Tất cả {len(checks)} nội dung kiểm tra đều đạt.")
    diffs = q.get("DoiSoatCongDVC") or []
    quality.append(f"Đối soát Biểu 06 với số liệu của Cổng DVC: {len(diffs)} ô chênh lệch."
                   if diffs else "Đối soát Biểu 06 với số liệu của Cổng DVC: không có chênh lệch.")
    return {"tong_quan": overview, "so_sanh": comparison, "chi_tieu": targets, "chat_luong": quality}


# =============================================================================================
# XLSX
# =============================================================================================

def build_xlsx(content: Mapping, *, agency: str, agency_name: str, window: Window,
               unit_names: Mapping[str, str] | None = None) -> bytes:
    """Biểu 06, the indicators against targets and the data quality, as an XLSX workbook."""
    from openpyxl import Workbook

    v = _view(content, agency, agency_name, window, (), unit_names)
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


def _put(ws, row: int, col: int, value: Any, font=None, align=None, border=None, fill=None, fmt: str | None = None):
    cell = ws.cell(row=row, column=col, value=value)
    if font is not None:
        cell.font = font
    if align is not None:
        cell.alignment = align
    if border is not None:
        cell.border = border
    if fill is not None:
        cell.fill = fill
    if fmt is not None:
        cell.number_format = fmt
    return cell


def _heading_rows(ws, v: _View, s: dict, width: int, title: str) -> int:
    """Form name, title, period, units; returns the next free row."""
    from openpyxl.utils import get_column_letter

    last = get_column_letter(width)
    _put(ws, 1, 1, FORM_NAME, s["bold"])
    _put(ws, 2, 1, FORM_SOURCE, s["italic"])
    ws.merge_cells(f"A4:{last}4")
    _put(ws, 4, 1, title, s["title"], s["center"])
    ws.row_dimensions[4].height = 22
    ws.merge_cells(f"A5:{last}5")
    _put(ws, 5, 1, f"Kỳ báo cáo: {_upper_first(quarter_text(v.window))} ({period_text(v.window)})", s["bold"],
         s["center"])
    _put(ws, 6, 1, f"Đơn vị báo cáo: {v.agency_name} (mã đơn vị {v.agency})", s["normal"])
    _put(ws, 7, 1, f"Đơn vị nhận báo cáo: {RECIPIENT}", s["normal"])
    return 8


def _xlsx_bieu06(ws, v: _View) -> None:
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
            _put(ws, r, 3 + i, _cell(item, path), font, s["right"], s["border"], fill, "#,##0")
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


def _xlsx_indicators(ws, v: _View) -> None:
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
            (_int(item.get("TuSo")), "#,##0", s["right"]),
            (_int(item.get("MauSo")), "#,##0", s["right"]),
            (item.get("GiaTri"), "0.00", s["right"]),
            (item.get("MucTieu"), "0.##", s["right"]),
            (result, None, s["center"]),
            (float(gap) if gap is not None else None, "+0.00;-0.00;0.00", s["right"]),
            (_note(item), None, s["left"]),
        ]
        for c, (value, fmt, align) in enumerate(values, 1):
            _put(ws, row, c, value, s["normal"], align, s["border"], fill, fmt)
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


def _xlsx_quality(ws, v: _View) -> None:
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
        _put(ws, row, 4, _int(q.get(key)), s["bold"], s["right"], s["border"], None, "#,##0")
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
        _put(ws, row, 3, _LEVEL.get(check.get("MucDo"), check.get("MucDo")), s["normal"], s["center"], s["border"], fill)
        _put(ws, row, 4, _OUTCOME.get(check.get("KetQua"), check.get("KetQua")), s["normal"], s["center"],
             s["border"], fill)
        _put(ws, row, 5, _int(check.get("SoLoi")), s["normal"], s["right"], s["border"], fill, "#,##0")
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
        portal, ours = _int(d.get("CongDVC")), _int(d.get("TinhLai"))
        values = [(n, None, s["center"]), (d.get("MaLinhVuc"), None, s["left"]),
                  (names.get(d.get("MaLinhVuc"), ""), None, s["left"]),
                  (COLUMN_LABELS.get(d.get("Cot"), d.get("Cot")), None, s["left"]),
                  (portal, "#,##0", s["right"]), (ours, "#,##0", s["right"]),
                  (portal - ours, "+#,##0;-#,##0;0", s["right"])]
        for c, (value, fmt, align) in enumerate(values, 1):
            _put(ws, row, c, value, s["normal"], align, s["border"], None, fmt)
        row += 1
    if not diffs:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=7)
        _put(ws, row, 1, "Không có chênh lệch giữa Biểu 06 tính lại và số liệu của Cổng DVC.", s["italic"],
             s["left"], s["border"])
    for col, width in zip("ABCDEFG", (6, 60, 30, 42, 12, 12, 12)):
        ws.column_dimensions[col].width = width


# =============================================================================================
# Charts (matplotlib, no pyplot: no global state, safe in a worker)
# =============================================================================================

_GREEN, _RED, _GREY, _BLUE, _INK = "#2e7d32", "#c62828", "#9e9e9e", "#1f5fa8", "#222222"


def _rc() -> dict:
    return {"font.family": "DejaVu Sans", "font.size": 9, "svg.hashsalt": _SVG_SALT, "svg.fonttype": "path",
            "axes.spines.top": False, "axes.spines.right": False, "path.simplify": True}


def _indicator_figure(v: _View):
    from matplotlib.figure import Figure

    items = v.current.agency_items(v.agency)
    codes = [c for c in INDICATOR_NAMES if c in items] or list(items)
    fig = Figure(figsize=(8.0, 0.42 * max(len(codes), 1) + 1.3), dpi=100)
    ax = fig.add_subplot(111)
    ys = list(range(len(codes)))[::-1]
    for y, code in zip(ys, codes):
        item = items[code]
        value, target = item.get("GiaTri"), item.get("MucTieu")
        color = {True: _GREEN, False: _RED}.get(item.get("DatMucTieu"), _GREY)
        if value is None:
            ax.text(1, y, "không có số liệu (mẫu số = 0)", va="center", ha="left", color=_GREY, fontsize=8)
        else:
            ax.barh(y, float(value), height=0.6, color=color)
            ax.text(max(float(value), float(target) if target is not None else 0) + 1.5, y, fmt_pct(value),
                    va="center", ha="left", fontsize=8, color=_INK)
        if target is not None:
            ax.plot([float(target)] * 2, [y - 0.38, y + 0.38], color=_INK, linewidth=2)
    ax.set_yticks(ys)
    ax.set_yticklabels([SHORT_NAMES.get(c, c) for c in codes])
    ax.set_xlim(0, 114)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xticklabels([f"{x}%" for x in range(0, 101, 20)])
    ax.set_ylim(-0.7, len(codes) - 0.3)
    ax.grid(axis="x", color="#e0e0e0", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_title(f"Chỉ tiêu so với mục tiêu – toàn đơn vị, {quarter_text(v.window)}", fontsize=10, loc="left")
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    height = fig.get_figheight()
    fig.legend(handles=[Patch(color=_GREEN, label="Đạt"), Patch(color=_RED, label="Không đạt"),
                        Patch(color=_GREY, label="Không đánh giá"),
                        Line2D([0], [0], color=_INK, linewidth=2, label="Mục tiêu")],
               loc="lower center", bbox_to_anchor=(0.5, 0.08 / height), ncol=4, frameon=False, fontsize=8)
    fig.subplots_adjust(left=0.34, right=0.97, top=1 - 0.4 / height, bottom=0.85 / height)
    return fig


def _trend_figure(v: _View):
    from matplotlib.figure import Figure

    quarters = v.trend
    labels = [q.short_label for q in quarters]
    xs = list(range(len(quarters)))
    codes = list(INDICATOR_NAMES)
    ncols = 4
    nrows = (len(codes) + ncols - 1) // ncols
    fig = Figure(figsize=(9.0, 1.85 * nrows + 2.9), dpi=100)
    grid = fig.add_gridspec(nrows + 1, ncols, height_ratios=[1.45] + [1] * nrows, hspace=0.85, wspace=0.35)
    ax = fig.add_subplot(grid[0, :])
    width = 0.27
    series = (("TiepNhan.Tong", "Nhận giải quyết", _BLUE), ("DaGiaiQuyet.Tong", "Đã giải quyết", _GREEN),
              ("DaGiaiQuyet.QuaHan", "Giải quyết quá hạn", _RED))
    for k, (path, label, color) in enumerate(series):
        ax.bar([x + (k - 1) * width for x in xs], [_cell(q.total, path) for q in quarters], width=width,
               color=color, label=label)
    ax.set_xticks(xs)
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_title("Số hồ sơ theo quý (Biểu 06, dòng Tổng cộng)", fontsize=10, loc="left")
    ax.legend(fontsize=8, frameon=False, ncol=3, loc="upper left", bbox_to_anchor=(0, -0.16))
    ax.yaxis.set_major_formatter(_int_formatter())
    ax.grid(axis="y", color="#e0e0e0", linewidth=0.6)
    ax.set_axisbelow(True)
    for n, code in enumerate(codes):
        a = fig.add_subplot(grid[1 + n // ncols, n % ncols])
        points = [(x, q.agency_items(v.agency).get(code, {})) for x, q in zip(xs, quarters)]
        vals = [(x, float(i["GiaTri"])) for x, i in points if i.get("GiaTri") is not None]
        targets = [(x, float(i["MucTieu"])) for x, i in points if i.get("MucTieu") is not None]
        if targets:
            a.step([t[0] for t in targets], [t[1] for t in targets], where="mid", color=_INK, linestyle="--",
                   linewidth=1)
        if vals:
            a.plot([p[0] for p in vals], [p[1] for p in vals], color=_BLUE, marker="o", markersize=3, linewidth=1.4)
        a.set_title(SHORT_NAMES.get(code, code), fontsize=7)
        a.set_ylim(0, 105)
        a.set_xlim(-0.5, len(xs) - 0.5)
        a.set_yticks([0, 50, 100])
        a.tick_params(labelsize=6.5)
        a.set_xticks(xs)
        a.set_xticklabels(labels if len(xs) <= 4 else [lb if i % 2 == (len(xs) - 1) % 2 else "" for i, lb
                                                      in enumerate(labels)], fontsize=6)
        a.grid(axis="y", color="#eeeeee", linewidth=0.5)
    fig.text(0.01, 0.005, "Đường liền: giá trị (%) toàn đơn vị; đường đứt: mục tiêu.", fontsize=7, color="#555555")
    fig.subplots_adjust(left=0.07, right=0.98, top=0.95, bottom=0.05)
    return fig


def _int_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _pos: fmt_int(int(x)))


def _render(make, view: _View, fmt: str) -> bytes:
    import matplotlib

    with matplotlib.rc_context(_rc()):
        fig = make(view)
        buf = io.BytesIO()
        if fmt == "svg":
            fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
        else:
            fig.savefig(buf, format="png", dpi=200, metadata={"Software": None})
    return buf.getvalue()


def _inline_svg(svg: bytes, title: str) -> str:
    """matplotlib's SVG, made fit for inlining into HTML: no XML prolog, no RDF metadata, scalable."""
    text = svg.decode("utf-8")
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.DOTALL)
    text = re.sub(r'<svg([^>]*?)\swidth="[^"]*"\s+height="[^"]*"', r"<svg\1", text, count=1)
    title_el = f"<title>{_escape(title)}</title>"
    return re.sub(r"(<svg[^>]*>)", lambda m: m.group(1) + title_el, text, count=1).replace(
        "<svg", '<svg role="img" class="chart"', 1)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


# =============================================================================================
# Tables shared by HTML and PDF
# =============================================================================================

def _bieu06_rows(v: _View) -> list[dict]:
    out, n = [], 0
    for item in v.content.get("Bieu06") or []:
        total = item.get("MaLinhVuc") == TOTAL_CODE
        if not total:
            n += 1
        out.append({"stt": "" if total else str(n), "name": item.get("TenLinhVuc") or "", "total": total,
                    "cells": [fmt_int(_cell(item, p)) for p in BIEU06_COLUMNS]})
    return out


def _indicator_rows(v: _View, scope: str) -> list[dict]:
    rows = []
    for item in v.content.get("ChiTieu") or []:
        if item.get("PhamVi") != scope:
            continue
        gap = indicator_gap(item)
        rows.append({"code": item.get("MaChiTieu"),
                     "name": item.get("TenChiTieu") or INDICATOR_NAMES.get(item.get("MaChiTieu"), ""),
                     "short": SHORT_NAMES.get(item.get("MaChiTieu"), item.get("MaChiTieu") or ""),
                     "has_value": bool(item.get("MauSo")),
                     "num": fmt_int(item.get("TuSo")), "den": fmt_int(item.get("MauSo")),
                     "value": fmt_pct(item.get("GiaTri")), "target": fmt_target(item.get("MucTieu")),
                     "result": indicator_result(item),
                     "gap": "—" if gap is None else ("+" if gap > 0 else "") + fmt_dec(gap),
                     "note": _note(item)})
    return rows


def _unit_block(v: _View, scope: str) -> dict:
    """A sub-unit's indicators for the readable report: those with a value; the others named."""
    rows = _indicator_rows(v, scope)
    return {"code": scope, "name": v.unit_name(scope), "rows": [r for r in rows if r["has_value"]],
            "missed": sum(1 for r in rows if r["result"] == "Không đạt"),
            "empty": [r["short"] for r in rows if not r["has_value"]]}


def _quality_rows(v: _View) -> dict:
    q = v.content.get("ChatLuongDuLieu") or {}
    names = {r.get("MaLinhVuc"): r.get("TenLinhVuc") for r in v.content.get("Bieu06") or []}
    return {
        "summary": [("Số hồ sơ lấy từ Cổng DVC sau khi loại trùng", fmt_int(q.get("SoBanGhi"))),
                    ("Số hồ sơ bị loại khỏi số liệu", fmt_int(q.get("SoBanGhiLoai"))),
                    ("Số hồ sơ đã được hiệu chỉnh", fmt_int(q.get("SoBanGhiDaSua")))],
        "checks": [{"name": c.get("Ten") or "", "level": _LEVEL.get(c.get("MucDo"), c.get("MucDo") or ""),
                    "result": _OUTCOME.get(c.get("KetQua"), c.get("KetQua") or ""),
                    "bad": c.get("KetQua") == "KHONG_DAT", "errors": fmt_int(c.get("SoLoi"))}
                   for c in q.get("KiemTra") or []],
        "diffs": [{"code": d.get("MaLinhVuc") or "", "name": names.get(d.get("MaLinhVuc"), ""),
                   "column": COLUMN_LABELS.get(d.get("Cot"), d.get("Cot") or ""),
                   "portal": fmt_int(d.get("CongDVC")), "ours": fmt_int(d.get("TinhLai")),
                   "delta": (lambda x: ("+" if x > 0 else "") + fmt_int(x) if x >= 0 else "-" + fmt_int(-x))(
                       _int(d.get("CongDVC")) - _int(d.get("TinhLai")))}
                  for d in q.get("DoiSoatCongDVC") or []],
    }


def _document_model(v: _View) -> dict:
    parent, org = _split_agency(v.agency_name)
    return {
        "parent": parent, "org": org, "agency": v.agency, "agency_name": v.agency_name,
        "province": _province(v.agency_name), "quarter": quarter_text(v.window), "period": period_text(v.window),
        "recipient": f"{RECIPIENT} {('tỉnh ' + _province(v.agency_name)) if _province(v.agency_name) else ''}".strip(),
        "text": _narrative(v), "bieu06": _bieu06_rows(v), "identity_note": IDENTITY_NOTE,
        "columns": [f"({i})" for i in range(1, 3 + len(BIEU06_COLUMNS))],
        "agency_indicators": _indicator_rows(v, v.agency),
        "units": [_unit_block(v, s) for s in v.scopes if s != v.agency],
        "quality": _quality_rows(v), "has_trend": bool(v.history),
        "trend_labels": [q.short_label for q in v.trend],
        "units_note": UNITS_NOTE, "form_name": FORM_NAME, "form_source": FORM_SOURCE, "form_title": FORM_TITLE,
    }


# =============================================================================================
# HTML
# =============================================================================================

@lru_cache(maxsize=1)
def _jinja():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(loader=PackageLoader("parreport.report", "templates"), autoescape=select_autoescape(["j2"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def build_html(content: Mapping, *, agency: str, agency_name: str, window: Window,
               history: Iterable[tuple[Window, Mapping]] = (),
               unit_names: Mapping[str, str] | None = None) -> bytes:
    """The report as one self-contained HTML page (inline CSS and SVG charts, nothing fetched)."""
    from markupsafe import Markup

    v = _view(content, agency, agency_name, window, history, unit_names)
    model = _document_model(v)
    model["indicator_chart"] = Markup(_inline_svg(_render(_indicator_figure, v, "svg"),
                                                  "Biểu đồ các chỉ tiêu so với mục tiêu"))
    model["trend_chart"] = Markup(_inline_svg(_render(_trend_figure, v, "svg"),
                                              "Biểu đồ xu hướng các quý gần đây")) if v.history else None
    return _jinja().get_template("report.html.j2").render(**model).encode("utf-8")


# =============================================================================================
# PDF (reportlab platypus, invariant mode)
# =============================================================================================

_PDF_FONT = "DejaVuSans"


def _register_fonts() -> None:
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if _PDF_FONT in pdfmetrics.getRegisteredFontNames():
        return
    for suffix, style, bold, italic in (("", "", 0, 0), ("-Bold", "Bold", 1, 0), ("-Oblique", "Oblique", 0, 1),
                                        ("-BoldOblique", "BoldOblique", 1, 1)):
        pdfmetrics.registerFont(TTFont(_PDF_FONT + suffix, font_path(style)))
        addMapping(_PDF_FONT, bold, italic, _PDF_FONT + suffix)


def build_pdf(content: Mapping, *, agency: str, agency_name: str, window: Window,
              history: Iterable[tuple[Window, Mapping]] = (),
              unit_names: Mapping[str, str] | None = None) -> bytes:
    """The report as an A4 PDF with DejaVu Sans embedded; identical bytes for identical inputs."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (Image, KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table,
                                    TableStyle)

    _register_fonts()
    v = _view(content, agency, agency_name, window, history, unit_names)
    m = _document_model(v)
    F, FB, FI = _PDF_FONT, _PDF_FONT + "-Bold", _PDF_FONT + "-Oblique"
    body = ParagraphStyle("body", fontName=F, fontSize=10, leading=13.5, alignment=TA_JUSTIFY, spaceAfter=4,
                          firstLineIndent=8 * mm)
    small = ParagraphStyle("small", fontName=F, fontSize=7, leading=8.5)
    small_c = ParagraphStyle("small_c", parent=small, alignment=TA_CENTER)
    small_b = ParagraphStyle("small_b", parent=small, fontName=FB)
    small_bc = ParagraphStyle("small_bc", parent=small_b, alignment=TA_CENTER)
    center_b = ParagraphStyle("center_b", fontName=FB, fontSize=10, leading=13, alignment=TA_CENTER)
    center = ParagraphStyle("center", fontName=F, fontSize=10, leading=13, alignment=TA_CENTER)
    center_i = ParagraphStyle("center_i", fontName=FI, fontSize=10, leading=13, alignment=TA_CENTER)
    title = ParagraphStyle("title", fontName=FB, fontSize=14, leading=18, alignment=TA_CENTER, spaceBefore=10)
    h1 = ParagraphStyle("h1", fontName=FB, fontSize=11, leading=14, spaceBefore=10, spaceAfter=5, keepWithNext=1)
    h2 = ParagraphStyle("h2", fontName=FB, fontSize=10, leading=13, spaceBefore=6, spaceAfter=4, keepWithNext=1)
    org_b = ParagraphStyle("org_b", fontName=FB, fontSize=9.5, leading=12, alignment=TA_CENTER)
    org = ParagraphStyle("org", fontName=F, fontSize=9.5, leading=12, alignment=TA_CENTER)
    caption = ParagraphStyle("caption", fontName=FI, fontSize=8, leading=10, alignment=TA_CENTER, spaceAfter=6)
    right_i = ParagraphStyle("right_i", fontName=FI, fontSize=8, leading=10, alignment=TA_RIGHT)

    def esc(text: Any) -> str:
        return _escape(str(text))

    def P(text: Any, style=body) -> Paragraph:
        return Paragraph(esc(text), style)

    grid = [("GRID", (0, 0), (-1, -1), 0.4, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ("LEFTPADDING", (0, 0), (-1, -1), 2.5), ("RIGHTPADDING", (0, 0), (-1, -1), 2.5)]
    head_fill = colors.HexColor("#DDEBF7")
    story: list = []

    # -- heading block (quốc hiệu, tiêu ngữ) --
    left = [P(m["parent"], org), P(m["org"], org_b), P("―――――", center), P("Số: ……/BC", center)]
    right = [P("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", center_b), P("Độc lập - Tự do - Hạnh phúc", center_b),
             P("―――――――――", center),
             P(f"{m['province'] + ', ' if m['province'] else ''}ngày …… tháng …… năm ……", center_i)]
    head = Table([[left, right]], colWidths=[84 * mm, 96 * mm])
    head.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                              ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    story += [head, Paragraph("BÁO CÁO", title),
              P(f"Tình hình, kết quả giải quyết thủ tục hành chính {m['quarter']}", center_b),
              P(f"(Kỳ báo cáo {m['period']})", center_i), Spacer(1, 4 * mm),
              P(f"Kính gửi: {m['recipient']}.", center), Spacer(1, 3 * mm)]

    # -- I. Biểu 06 --
    story.append(P("I. TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH", h1))
    story += [P(t) for t in m["text"]["tong_quan"]]
    story.append(P("So sánh với quý trước", h2))
    story += [P(t) for t in m["text"]["so_sanh"]]
    hdr = [
        [P("STT", small_bc), P("Lĩnh vực, công việc giải quyết", small_bc), P("Số hồ sơ nhận giải quyết", small_bc),
         "", "", "", P("Số hồ sơ đã giải quyết", small_bc), "", "", "", P("Số hồ sơ đang giải quyết", small_bc), "", ""],
        ["", "", P("Tổng số", small_bc), P("Trong kỳ", small_bc), "", P("Từ kỳ trước", small_bc),
         P("Tổng số", small_bc), P("Trước hạn", small_bc), P("Đúng hạn", small_bc), P("Quá hạn", small_bc),
         P("Tổng số", small_bc), P("Trong hạn", small_bc), P("Quá hạn", small_bc)],
        ["", "", "", P("Trực tuyến", small_bc), P("Trực tiếp, bưu chính", small_bc), "", "", "", "", "", "", "", ""],
        [P(c, small_c) for c in m["columns"]],
    ]
    data = hdr + [[P(r["stt"], small_c), P(r["name"], small_b if r["total"] else small)]
                  + [Paragraph(c, ParagraphStyle("n", parent=small_b if r["total"] else small, alignment=TA_RIGHT))
                     for c in r["cells"]] for r in m["bieu06"]]
    table = Table(data, colWidths=[8 * mm, 40 * mm] + [12 * mm] * len(BIEU06_COLUMNS), repeatRows=4)
    spans = [("SPAN", (0, 0), (0, 2)), ("SPAN", (1, 0), (1, 2)), ("SPAN", (2, 0), (5, 0)), ("SPAN", (6, 0), (9, 0)),
             ("SPAN", (10, 0), (12, 0)), ("SPAN", (2, 1), (2, 2)), ("SPAN", (3, 1), (4, 1)), ("SPAN", (5, 1), (5, 2))]
    spans += [("SPAN", (c, 1), (c, 2)) for c in range(6, 13)]
    style = grid + spans + [("BACKGROUND", (0, 0), (-1, 3), head_fill)]
    total_rows = [4 + i for i, r in enumerate(m["bieu06"]) if r["total"]]
    style += [("BACKGROUND", (0, r), (-1, r), colors.HexColor("#F2F2F2")) for r in total_rows]
    table.setStyle(TableStyle(style))
    story += [Spacer(1, 2 * mm), KeepTogether([P(f"{m['form_name']} – {m['form_title']}", center_b),
                                               P(m["form_source"], caption),
                                               P("Đơn vị tính: số hồ sơ TTHC", right_i)]), table,
              P(m["identity_note"], caption)]

    # -- II. Indicators --
    story.append(P("II. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU", h1))
    story += [P(t) for t in m["text"]["chi_tieu"]]
    png = _render(_indicator_figure, v, "png")
    story.append(KeepTogether([_png_flowable(Image, png, 178 * mm),
                               P("Hình 1. Giá trị các chỉ tiêu của toàn đơn vị so với mục tiêu", caption)]))

    def indicator_table(rows: list[dict]) -> Table:
        head_row = [P(t, small_bc) for t in ("STT", "Chỉ tiêu", "Tử số", "Mẫu số", "Giá trị", "Mục tiêu",
                                             "Kết quả", "Chênh lệch (điểm %)")]
        body_rows = [[P(str(n), small_c), P(r["name"], small), P(r["num"], small_c), P(r["den"], small_c),
                      P(r["value"], small_c), P(r["target"], small_c),
                      P(r["result"], small_bc if r["result"] == "Không đạt" else small_c), P(r["gap"], small_c)]
                     for n, r in enumerate(rows, 1)]
        t = Table([head_row] + body_rows, colWidths=[8 * mm, 72 * mm, 15 * mm, 15 * mm, 16 * mm, 16 * mm, 17 * mm,
                                                     21 * mm], repeatRows=1)
        st = grid + [("BACKGROUND", (0, 0), (-1, 0), head_fill)]
        st += [("BACKGROUND", (0, i), (-1, i), colors.HexColor("#FCE4E4"))
               for i, r in enumerate(rows, 1) if r["result"] == "Không đạt"]
        t.setStyle(TableStyle(st))
        return t

    story += [P(f"Toàn đơn vị: {m['agency_name']}", h2), indicator_table(m["agency_indicators"])]
    if m["units"]:
        story.append(P("Các đơn vị trực thuộc", h2))
        story.append(P(UNITS_NOTE, caption))
        head_row = [P(t, small_bc) for t in ("STT", "Chỉ tiêu", "Tử số", "Mẫu số", "Giá trị", "Mục tiêu",
                                             "Kết quả", "Chênh lệch (điểm %)")]
        rows, st = [head_row], grid + [("BACKGROUND", (0, 0), (-1, 0), head_fill)]
        for unit in m["units"]:
            st += [("SPAN", (0, len(rows)), (-1, len(rows))),
                   ("BACKGROUND", (0, len(rows)), (-1, len(rows)), colors.HexColor("#EEF3F8"))]
            rows.append([P(f"{unit['name']} ({unit['code']}) – {unit['missed']} chỉ tiêu không đạt", small_b)]
                        + [""] * 7)
            for n, r in enumerate(unit["rows"], 1):
                if r["result"] == "Không đạt":
                    st.append(("BACKGROUND", (0, len(rows)), (-1, len(rows)), colors.HexColor("#FCE4E4")))
                rows.append([P(str(n), small_c), P(r["short"], small), P(r["num"], small_c), P(r["den"], small_c),
                             P(r["value"], small_c), P(r["target"], small_c),
                             P(r["result"], small_bc if r["result"] == "Không đạt" else small_c),
                             P(r["gap"], small_c)])
            if unit["empty"]:
                st.append(("SPAN", (0, len(rows)), (-1, len(rows))))
                rows.append([P("Không có số liệu trong kỳ (mẫu số bằng 0): " + "; ".join(unit["empty"]) + ".",
                               ParagraphStyle("e", parent=small, fontName=FI))] + [""] * 7)
        t = Table(rows, colWidths=[8 * mm, 72 * mm, 15 * mm, 15 * mm, 16 * mm, 16 * mm, 17 * mm, 21 * mm],
                  repeatRows=1)
        t.setStyle(TableStyle(st))
        story.append(t)

    # -- III. Trend --
    story.append(P("III. XU HƯỚNG CÁC QUÝ GẦN ĐÂY", h1))
    if m["has_trend"]:
        png = _render(_trend_figure, v, "png")
        story.append(KeepTogether([P(f"Số liệu các quý {', '.join(m['trend_labels'])} (toàn đơn vị)."),
                                   _png_flowable(Image, png, 178 * mm),
                                   P("Hình 2. Số hồ sơ và giá trị các chỉ tiêu qua các quý", caption)]))
    else:
        story.append(P("Chưa có số liệu các quý trước trong kho dữ liệu để thể hiện xu hướng."))

    # -- IV. Data quality --
    story.append(P("IV. CHẤT LƯỢNG DỮ LIỆU", h1))
    story += [P(t) for t in m["text"]["chat_luong"]]
    q = m["quality"]
    t = Table([[P(label, small), P(value, small_bc)] for label, value in q["summary"]], colWidths=[120 * mm, 30 * mm])
    t.setStyle(TableStyle(grid))
    story += [t, Spacer(1, 3 * mm)]
    rows = [[P(x, small_bc) for x in ("STT", "Nội dung kiểm tra", "Mức độ", "Kết quả", "Số lỗi")]]
    rows += [[P(str(n), small_c), P(c["name"], small), P(c["level"], small_c),
              P(c["result"], small_bc if c["bad"] else small_c), P(c["errors"], small_c)]
             for n, c in enumerate(q["checks"], 1)]
    t = Table(rows, colWidths=[8 * mm, 112 * mm, 20 * mm, 20 * mm, 18 * mm], repeatRows=1)
    t.setStyle(TableStyle(grid + [("BACKGROUND", (0, 0), (-1, 0), head_fill)]
                          + [("BACKGROUND", (0, i), (-1, i), colors.HexColor("#FCE4E4"))
                             for i, c in enumerate(q["checks"], 1) if c["bad"]]))
    story += [P("Kết quả kiểm tra dữ liệu", h2), t, P("Đối soát Biểu 06 với số liệu của Cổng DVC", h2)]
    if q["diffs"]:
        rows = [[P(x, small_bc) for x in ("STT", "Lĩnh vực", "Cột", "Cổng DVC", "Tính lại", "Chênh lệch")]]
        rows += [[P(str(n), small_c), P(f"{d['name']} ({d['code']})", small), P(d["column"], small),
                  P(d["portal"], small_c), P(d["ours"], small_c), P(d["delta"], small_c)]
                 for n, d in enumerate(q["diffs"], 1)]
        t = Table(rows, colWidths=[8 * mm, 62 * mm, 56 * mm, 17 * mm, 17 * mm, 18 * mm], repeatRows=1)
        t.setStyle(TableStyle(grid + [("BACKGROUND", (0, 0), (-1, 0), head_fill)]))
        story.append(t)
    else:
        story.append(P("Không có chênh lệch giữa Biểu 06 tính lại và số liệu của Cổng DVC."))

    # -- closing --
    sign = Table([[[P("Nơi nhận:", ParagraphStyle("nn", fontName=FB, fontSize=8, leading=10)),
                    P(f"- {m['recipient']};", small), P("- Lưu: VT.", small)],
                   [P("THỦ TRƯỞNG ĐƠN VỊ", center_b), P("(Báo cáo được ký số kèm dữ liệu gửi Sở Nội vụ)", center_i)]]],
                 colWidths=[80 * mm, 100 * mm])
    sign.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    story += [Spacer(1, 6 * mm), sign]

    buf = io.BytesIO()
    footer = f"{m['agency_name']} – Báo cáo {m['quarter']}"

    def on_page(canvas, doc):
        canvas.saveState()
        canvas.setFont(_PDF_FONT, 7)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(15 * mm, 9 * mm, footer)
        canvas.drawRightString(A4[0] - 15 * mm, 9 * mm, f"Trang {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(buf, pagesize=A4, initialFontName=_PDF_FONT, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=14 * mm,
                            bottomMargin=16 * mm, invariant=1, title=f"Báo cáo tình hình, kết quả giải quyết TTHC "
                            f"{m['quarter']}", author=m["agency_name"], subject=f"Kỳ báo cáo {m['period']}",
                            creator="parreport", producer="parreport", lang="vi")
    stamp = window.end.timetuple()[:6]
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page,
              canvasmaker=lambda *a, **kw: _stamped_canvas(stamp, *a, **kw))
    return buf.getvalue()


def _stamped_canvas(stamp: tuple, *args, **kwargs):
    """A reportlab canvas whose document dates are ``stamp`` (the window's end, UTC+07:00), not
    the clock and not reportlab's invariant-mode 2000-01-01."""
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(*args, **kwargs)
    ts = canvas._doc._timeStamp
    ts.YMDhms, ts.dhh, ts.dmm, ts.tzname = tuple(stamp), 7, 0, "+07"
    return canvas


def _png_flowable(image_cls, png: bytes, width: float):
    from reportlab.lib.utils import ImageReader

    w, h = ImageReader(io.BytesIO(png)).getSize()
    return image_cls(io.BytesIO(png), width=width, height=width * h / w)


# =============================================================================================
# Attachments
# =============================================================================================

def build_attachments(content: Mapping, *, agency: str, agency_name: str, window: Window,
                      history: Iterable[tuple[Window, Mapping]] = (),
                      unit_names: Mapping[str, str] | None = None) -> list[dict]:
    """TepDinhKem items ``{TenTep, LoaiTep, SHA256, NoiDung}`` for the XLSX, the PDF and the HTML."""
    history = list(history or ())
    names = attachment_names(agency, window)
    kw = dict(agency=agency, agency_name=agency_name, window=window, unit_names=unit_names)
    files = ((names["xlsx"], XLSX_TYPE, build_xlsx(content, **kw)),
             (names["pdf"], PDF_TYPE, build_pdf(content, history=history, **kw)),
             (names["html"], HTML_TYPE, build_html(content, history=history, **kw)))
    return [{"TenTep": name, "LoaiTep": mime, "SHA256": hashlib.sha256(data).hexdigest(),
             "NoiDung": base64.b64encode(data).decode("ascii")} for name, mime, data in files]


def decode_attachment(item: Mapping) -> bytes:
    """The bytes of a TepDinhKem item, checked against its SHA256."""
    data = base64.b64decode(item["NoiDung"], validate=True)
    if hashlib.sha256(data).hexdigest() != item["SHA256"]:
        raise ValueError(f"tệp {item.get('TenTep')!r}: SHA256 không khớp nội dung")
    return data


def history_windows(window: Window, count: int = TREND_QUARTERS - 1) -> list[Window]:
    """The ``count`` windows before ``window``, oldest first (for the history lookup)."""
    out: list[Window] = []
    w = window
    for _ in range(count):
        w = w.previous()
        out.append(w)
    return out[::-1]
