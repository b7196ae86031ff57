"""The record kinds the portal delivers, named once: the extract dataset (task id and raw
folder), the staged table, the Great Expectations suite, the identifying field and the
Vietnamese label people read. Everything that iterates over kinds iterates over :data:`KINDS`.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RecordKind", "KINDS", "by_dataset", "by_suite", "DATASETS"]


@dataclass(frozen=True)
class RecordKind:
    dataset: str  # extract task id and raw folder: units, procedures, dossiers, ratings, bieu06
    table: str  # staged table in the store
    suite: str | None  # GX suite in expectations/ (None: not validated record by record)
    ref_field: str | None  # the field that names a record (MaHoSo, ...)
    ref_column: str | None  # the staged table's column holding it (None: not kept as a column)
    label: str  # Vietnamese, for people
    doc: str  # what the extract task does, Vietnamese (task doc in the Airflow UI)


KINDS: tuple[RecordKind, ...] = (
    RecordKind("units", "staged_units", "don_vi", "MaDonVi", "ma_don_vi", "Đơn vị",
               "Lấy danh sách đơn vị (đơn vị báo cáo và các đơn vị trực thuộc) từ Cổng DVC."),
    RecordKind("procedures", "staged_procedures", "thu_tuc", "MaTTHC", "ma_tthc", "Thủ tục hành chính",
               "Lấy danh mục thủ tục hành chính của đơn vị, theo từng trang đến hết."),
    RecordKind("dossiers", "staged_dossiers", "ho_so", "MaHoSo", "ma_ho_so", "Hồ sơ",
               "Lấy hồ sơ hoạt động trong kỳ, theo từng trang đến hết; bỏ dữ liệu cá nhân trước khi ghi; "
               "đối chiếu số bản ghi với tong_so."),
    RecordKind("ratings", "staged_ratings", "danh_gia", "MaDanhGia", "ma_danh_gia", "Đánh giá hài lòng",
               "Lấy các đánh giá mức độ hài lòng trong kỳ; bỏ góp ý tự do (có thể chứa dữ liệu cá nhân)."),
    RecordKind("bieu06", "staged_portal_bieu06", None, "MaLinhVuc", None, "Biểu 06 của Cổng DVC (đối soát)",
               "Lấy Biểu 06 do Cổng DVC tự tính, chỉ để đối soát."),
)
DATASETS: tuple[str, ...] = tuple(k.dataset for k in KINDS)
_BY_DATASET = {k.dataset: k for k in KINDS}
_BY_SUITE = {k.suite: k for k in KINDS if k.suite}


def by_dataset(dataset: str) -> RecordKind:
    try:
        return _BY_DATASET[dataset]
    except KeyError:
        raise ValueError(f"không có loại dữ liệu {dataset!r}") from None


def by_suite(suite: str) -> RecordKind:
    try:
        return _BY_SUITE[suite]
    except KeyError:
        raise ValueError(f"không có bộ kỳ vọng {suite!r}") from None
