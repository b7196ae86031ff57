"""The rule codes of INDICATORS.md §5 and the dataset-level checks, with their Vietnamese titles.

The rules themselves are the expectations of the suites in ``parreport/expectations/`` (each
names its code in ``meta.quy_tac``); this is only how a code is called for people (reports,
the quarantine list, the operator's pages). One rule GX cannot express over columns — the
timestamp rule for fields the contract does not define — is in :mod:`.ngay_ngoai_hop_dong`.
"""
from __future__ import annotations

from .contract import FINISHED_STATUSES, RECEIVED_STATUSES, valid_timestamp

__all__ = ["RULE_TITLES", "EXTRA_RULE_TITLES", "BLOCKING_RULES", "WARNING_RULES", "rule_title",
           "RECEIVED_STATUSES", "FINISHED_STATUSES", "valid_timestamp"]

RULE_TITLES: dict[str, str] = {
    "missing_field": "Thiếu trường bắt buộc",
    "bad_code": "Mã không thuộc danh mục cho phép",
    "bad_timestamp": "Thời điểm không đúng dạng yyyyMMddHHmmss hoặc không có thật",
    "bad_type": "Kiểu dữ liệu không đúng quy định",
    "received_without_T": "Hồ sơ đã tiếp nhận nhưng thiếu ngày tiếp nhận",
    "finished_without_K": "Hồ sơ đã kết thúc nhưng thiếu ngày kết thúc xử lý",
    "K_before_T": "Ngày kết thúc xử lý sớm hơn ngày tiếp nhận",
    "unknown_procedure": "Mã thủ tục hành chính không có trong danh mục",
    "unit_outside_agency": "Đơn vị xử lý không thuộc cơ quan báo cáo",
    "negative_fee": "Số tiền phí, lệ phí âm",
    "bad_eform": "Số trường biểu mẫu điện tử không hợp lệ",
    "due_before_receipt": "Ngày hẹn trả sớm hơn ngày tiếp nhận",
}
BLOCKING_RULES = tuple(k for k in RULE_TITLES if k != "due_before_receipt")
WARNING_RULES = ("due_before_receipt",)

EXTRA_RULE_TITLES = {
    "duplicate_id": "Mã bản ghi bị trùng sau khi khử trùng",
    "volume_vs_previous": "Số hồ sơ thay đổi quá một nửa so với quý trước",
    "volume_vs_year_before": "Số hồ sơ thay đổi quá một nửa so với cùng kỳ năm trước",
    "agency_missing": "Đơn vị báo cáo không có trong danh sách đơn vị",
}


def rule_title(rule: str) -> str:
    return RULE_TITLES.get(rule) or EXTRA_RULE_TITLES.get(rule) or rule
