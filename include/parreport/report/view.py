"""The view of the figures that every document shows: one quarter's content with its agency,
window, sub-unit names and history, the documents' fixed wording, and the small helpers that
read a Biểu 06 cell or an indicator's result.

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

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Iterable, Mapping

from .. import fmt
from ..figures import BIEU06_COLUMNS, TOTAL_CODE
from ..periods import Window

TREND_QUARTERS = 8
FORM_NAME = "Biểu số 06"
FORM_SOURCE = "Ban hành kèm theo Thông tư số 01/2020/TT-VPCP của Văn phòng Chính phủ"
FORM_TITLE = "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"
RECIPIENT = "Sở Nội vụ"

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

UNITS_NOTE = ("Mỗi đơn vị trực thuộc được tính cùng các đơn vị cấp dưới của nó; bảng đầy đủ mọi chỉ tiêu của mọi "
              "phạm vi có trong tệp Biểu 06 (XLSX), trang “Chỉ tiêu”.")
IDENTITY_NOTE = "Ghi chú: (3) = (4) + (5) + (6) = (7) + (11); (7) = (8) + (9) + (10); (11) = (12) + (13)."


def as_int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) else 0


def cell(row: Mapping, path: str) -> int:
    group, col = path.split(".")
    return as_int((row.get(group) or {}).get(col))


def quarter_text(window: Window) -> str:
    """"quý I năm 2025"."""
    return fmt.quarter_roman(window.year, window.quarter)


def period_text(window: Window) -> str:
    return f"từ ngày {fmt.date_text(window.start)} đến ngày {fmt.date_text(window.end)}"


def round2(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def indicator_result(item: Mapping) -> str:
    """"Đạt", "Không đạt", or "—" when there is no value or no target."""
    return fmt.label("dat_muc_tieu", item.get("DatMucTieu"))


def indicator_gap(item: Mapping) -> Decimal | None:
    """Value minus target in percentage points, from the exact fraction; None without either."""
    num, den, target = item.get("TuSo"), item.get("MauSo"), item.get("MucTieu")
    if not den or target is None or num is None:
        return None
    exact = Fraction(int(num) * 100, int(den)) - Fraction(Decimal(str(target)))
    return round2(exact)


def indicator_note(item: Mapping) -> str:
    if not item.get("MauSo"):
        return "Mẫu số bằng 0: không có giá trị trong kỳ"
    if item.get("MucTieu") is None:
        return "Chưa đặt mục tiêu"
    gap = indicator_gap(item)
    if item.get("DatMucTieu") is False and gap is not None and gap == 0:
        return "Thấp hơn mục tiêu dưới 0,01 điểm phần trăm"
    return ""


_NBSP = "\u00a0"


def nonbreaking(text: str) -> str:
    """A figure stays on one line with its sign: ``94,37 %`` and ``≥ 80 %`` get no-break spaces
    (for the HTML and the PDF; the text itself keeps plain spaces)."""
    return text.replace(" %", _NBSP + "%").replace("≥ ", "≥" + _NBSP).replace("≤ ", "≤" + _NBSP)


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def lower_first(text: str) -> str:
    """"Hồ sơ nộp trực tuyến" -> "hồ sơ nộp trực tuyến"; abbreviations (TTHC, DVC) stay."""
    head = text.split(" ", 1)[0]
    return text if head.isupper() else text[:1].lower() + text[1:]


def split_agency(agency_name: str) -> tuple[str, str]:
    """("UBND TỈNH THỪA THIÊN HUẾ", "SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI") from the full name."""
    m = re.search(r"\s+(tỉnh|thành phố)\s+(.+)$", agency_name, flags=re.IGNORECASE)
    if not m:
        return "", agency_name.upper()
    return f"UBND {m.group(1)} {m.group(2)}".upper(), agency_name[:m.start()].upper()


def province(agency_name: str) -> str:
    m = re.search(r"\s+(?:tỉnh|thành phố)\s+(.+)$", agency_name, flags=re.IGNORECASE)
    return m.group(1) if m else ""


@dataclass(frozen=True)
class Revision:
    """What a later version's documents say about the version they replace: its number, its
    receipt and the LyDoDieuChinh. Version 1 has none, so its documents do not depend on the
    version and say the same as the content that decides whether anything new is sent."""
    version: int
    replaces: int
    receipt: str | None
    reason: str

    @property
    def title(self) -> str:
        return f"Báo cáo điều chỉnh – phiên bản {self.version}, thay thế phiên bản {self.replaces}"

    @property
    def replaced(self) -> str:
        receipt = f" (biên nhận {self.receipt})" if self.receipt else ""
        return (f"Báo cáo này là phiên bản {self.version}, thay thế báo cáo phiên bản {self.replaces} đã gửi "
                f"Sở Nội vụ{receipt}.")

    @property
    def why(self) -> str:
        """The LyDoDieuChinh, without its opening "Phiên bản N thay thế phiên bản M (…):" that
        :attr:`replaced` already says."""
        reason = re.sub(rf"^Phiên bản {self.version} thay thế phiên bản {self.replaces}( \([^)]*\))?:\s*", "",
                        self.reason)
        return f"Lý do điều chỉnh: {upper_first(reason)}"


@dataclass
class Quarter:
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
class View:
    content: Mapping
    agency: str
    agency_name: str
    window: Window
    history: list[Quarter]
    unit_names: Mapping[str, str] = field(default_factory=dict)
    revision: Revision | None = None

    @property
    def current(self) -> Quarter:
        return Quarter(self.window, self.content)

    @property
    def previous(self) -> Quarter | None:
        prev = self.window.previous()
        return next((q for q in self.history if (q.window.year, q.window.quarter) == (prev.year, prev.quarter)),
                    None)

    @property
    def trend(self) -> list[Quarter]:
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


def nfc(value: Any) -> Any:
    """Every string in NFC: portal names may arrive decomposed (NFD), which a PDF font without
    shaping would draw with loose combining marks."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, Mapping):
        return {k: nfc(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [nfc(v) for v in value]
    return value


def make_view(content: Mapping, agency: str, agency_name: str, window: Window,
              history: Iterable[tuple[Window, Mapping]] = (), unit_names: Mapping[str, str] | None = None,
              revision: Revision | None = None) -> View:
    here = (window.year, window.quarter)
    past = {}
    for w, c in history or ():
        if c and (w.year, w.quarter) < here:
            past[(w.year, w.quarter)] = Quarter(w, nfc(c))
    ordered = [past[k] for k in sorted(past)][-(TREND_QUARTERS - 1):]
    if revision is not None:
        revision = Revision(revision.version, revision.replaces, revision.receipt, nfc(revision.reason))
    return View(nfc(content), agency, nfc(agency_name or agency), window, ordered, nfc(dict(unit_names or {})),
                revision)
