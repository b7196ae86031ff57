"""How numbers, percentages, quarters, agencies and codes are written for people: one place.

Every page, document, message and terminal line a Vietnamese official reads formats through
here, so that a figure reads the same everywhere: ``7.454`` (dot groups thousands), ``94,37 %``
(decimal comma, a space before the sign), ``≥ 80 %``, ``Quý 2/2026``, ``14/06/2026``, and labels
instead of codes (``Chặn``, ``Không đạt``, ``Đã duyệt``).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Mapping

from .timeutil import VN_TZ

__all__ = ["number", "decimal", "signed", "percent", "target", "quarter_title", "quarter_roman", "date_text",
           "datetime_text", "agency_label", "label", "LABELS", "DASH"]

DASH = "—"
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def number(value: Any) -> str:
    """A count: ``7454`` → ``7.454``; anything that is not a number → ``—``."""
    if not _is_number(value):
        return DASH
    if isinstance(value, int) or value == int(value):
        return f"{int(value):,}".replace(",", ".")
    return decimal(value)


def decimal(value: Any, places: int = 2) -> str:
    """``95.5`` → ``95,50`` (half-up to ``places`` decimals, decimal comma, dot groups)."""
    if not _is_number(value):
        return DASH
    d = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if d < 0 else ""
    whole, _, frac = f"{abs(d):f}".partition(".")
    whole = f"{int(whole):,}".replace(",", ".")
    return f"{sign}{whole},{frac}" if frac else f"{sign}{whole}"


def signed(value: Any, places: int | None = None) -> str:
    """A difference with its sign: ``2`` → ``+2``, ``-1.666`` → ``-1,67`` (``places`` decimals, else a
    count), ``0`` → ``0``; anything that is not a number → ``—``."""
    if not _is_number(value):
        return DASH
    shown = number(value) if places is None else decimal(value, places)
    return f"+{shown}" if value > 0 else shown


def percent(value: Any) -> str:
    """A GiaTri: ``94.37`` → ``94,37 %``; no value → ``—``."""
    return DASH if not _is_number(value) else f"{decimal(value)} %"


def target(value: Any, comparator: str | None = ">=") -> str:
    """A MucTieu: ``80`` → ``≥ 80 %``, ``66.67`` → ``≥ 66,67 %``; none set → ``—``."""
    if not _is_number(value):
        return DASH
    d = Decimal(str(value))
    shown = decimal(d, 0 if d == d.to_integral_value() else 2)
    sign = {">=": "≥ ", ">": "> ", "<=": "≤ ", "<": "< ", "=": "= ", None: "", "": ""}.get(comparator, "")
    return f"{sign}{shown} %"


def quarter_title(year: int, quarter: int) -> str:
    """``Quý 2/2026``."""
    return f"Quý {quarter}/{year}"


def quarter_roman(year: int, quarter: int) -> str:
    """``quý II năm 2026`` (the wording of official documents)."""
    return f"quý {_ROMAN.get(quarter, quarter)} năm {year}"


def date_text(value: date | datetime | None) -> str:
    """``14/06/2026``; an aware datetime is shown in Vietnam time."""
    if value is None:
        return DASH
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(VN_TZ)
    return f"{value:%d/%m/%Y}"


def datetime_text(value: datetime | str | None) -> str:
    """``14/06/2026 17:05`` in Vietnam time; ISO strings are read first."""
    if value is None or value == "":
        return DASH
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if value.tzinfo is not None:
        value = value.astimezone(VN_TZ)
    return f"{value:%d/%m/%Y %H:%M}"


def agency_label(code: str | None, name: str | None = None) -> str:
    """``Sở Lao động – Thương binh và Xã hội (000.00.20.H57)``; the code alone when no name is known."""
    if name and code and name != code:
        return f"{name} ({code})"
    return name or code or DASH


# Codes that reach people, by what they are: always shown through label().
LABELS: Mapping[str, Mapping[str, str]] = {
    "muc_do": {"CHAN": "Chặn", "CANH_BAO": "Cảnh báo"},
    "ket_qua": {"DAT": "Đạt", "KHONG_DAT": "Không đạt"},
    "dat_muc_tieu": {"True": "Đạt", "False": "Không đạt", "None": DASH},
    "bien_nhan": {"DA_TIEP_NHAN": "Đã tiếp nhận, chờ duyệt", "DA_DUYET": "Đã duyệt", "TRA_LAI": "Bị trả lại"},
    "phien_ban": {"BUILT": "Đã lập, chưa gửi", "SUBMITTED": "Đã gửi, chưa có biên nhận",
                  "ACCEPTED": "Sở Nội vụ đã tiếp nhận"},
    "sua_doi": {"HIEU_LUC": "Đang hiệu lực", "CONG_DA_SUA": "Cổng DVC đã sửa", "DA_THAY_THE": "Đã thay thế",
                "DA_HUY": "Đã hủy"},
    "kenh": {"1": "Trực tiếp", "2": "Trực tuyến", "3": "Bưu chính công ích", "": "Trực tiếp"},
    "trang_thai_ho_so": {"1": "Đã nộp, chưa tiếp nhận", "2": "Đã tiếp nhận", "3": "Từ chối tiếp nhận",
                         "4": "Đang xử lý", "5": "Yêu cầu bổ sung", "6": "Chờ thực hiện nghĩa vụ tài chính",
                         "7": "Công dân rút hồ sơ", "8": "Dừng xử lý", "9": "Đã xử lý xong",
                         "10": "Đã trả kết quả"},
}


def label(kind: str, code: Any) -> str:
    """The Vietnamese label of ``code`` among ``LABELS[kind]``; the code itself when unknown."""
    if code is None and kind != "dat_muc_tieu":
        return DASH
    return LABELS.get(kind, {}).get(str(code), str(code))
