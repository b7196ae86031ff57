"""The names every figure is reported under: the Biểu 06 columns and total row
(report-api.yaml Bieu06Dong) and the indicator catalogue's codes and Vietnamese names
(INDICATORS.md §4). Data only; the documents read their labels from here."""
from __future__ import annotations

from typing import Any, Mapping

from ..targets import INDICATOR_CODES

__all__ = ["TOTAL_CODE", "TOTAL_NAME", "BIEU06_LAYOUT", "BIEU06_COLUMNS", "COLUMN_INDEX", "INDICATOR_NAMES",
           "cell", "is_int"]

TOTAL_CODE = "TONG"
TOTAL_NAME = "Tổng cộng"

# Column order of a Biểu 06 row (report-api.yaml Bieu06Dong); "Group.Column" paths.
BIEU06_LAYOUT: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("TiepNhan", ("Tong", "TrucTuyen", "TrucTiepBuuChinh", "KyTruocChuyenSang")),
    ("DaGiaiQuyet", ("Tong", "TruocHan", "DungHan", "QuaHan")),
    ("DangGiaiQuyet", ("Tong", "TrongHan", "QuaHan")),
)
BIEU06_COLUMNS: tuple[str, ...] = tuple(f"{g}.{c}" for g, cols in BIEU06_LAYOUT for c in cols)
COLUMN_INDEX: dict[str, int] = {name: i for i, name in enumerate(BIEU06_COLUMNS)}

INDICATOR_NAMES: dict[str, str] = {
    "TTHC_MOT_CUA": "Tỷ lệ TTHC được tiếp nhận theo cơ chế một cửa tại Trung tâm Phục vụ hành chính "
                    "công tỉnh (trừ TTHC đặc thù)",
    "TTHC_BON_TAI_CHO": "Tỷ lệ TTHC thực hiện theo mô hình \"4 tại chỗ\"",
    "TTHC_TRUC_TUYEN": "Tỷ lệ TTHC đủ điều kiện được cung cấp dịch vụ công trực tuyến "
                       "(một phần hoặc toàn trình)",
    "TTHC_THANH_TOAN_TRUC_TUYEN": "Tỷ lệ TTHC có phí, lệ phí được thanh toán trực tuyến",
    "HS_TRUC_TUYEN": "Tỷ lệ hồ sơ nộp trực tuyến trên tổng số hồ sơ của TTHC được cung cấp "
                     "dịch vụ công trực tuyến",
    "HS_THANH_TOAN_TRUC_TUYEN": "Tỷ lệ hồ sơ có phí, lệ phí được thanh toán trực tuyến",
    "HS_DUNG_HAN": "Tỷ lệ hồ sơ được giải quyết trước hạn và đúng hạn",
    "HS_XIN_LOI": "Tỷ lệ hồ sơ trễ hạn có thư xin lỗi",
    "HS_KET_QUA_DIEN_TU": "Tỷ lệ hồ sơ có kết quả giải quyết TTHC được cấp dưới dạng điện tử",
    "HS_EFORM_TU_DONG": "Tỷ lệ trường thông tin trên biểu mẫu điện tử được điền tự động từ dữ liệu "
                        "sẵn có",
    "HS_DONG_BO_DVCQG": "Tỷ lệ hồ sơ được đồng bộ lên Cổng Dịch vụ công quốc gia",
    "HL_HAI_LONG": "Tỷ lệ người dân, doanh nghiệp hài lòng với việc giải quyết TTHC",
}
assert tuple(INDICATOR_NAMES) == INDICATOR_CODES


def cell(row: Mapping, column: str) -> Any:
    """The value of ``column`` ("Group.Column") in a Biểu 06 row; None when absent."""
    group, col = column.split(".")
    part = row.get(group)
    return part.get(col) if isinstance(part, Mapping) else None


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
