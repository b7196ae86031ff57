"""Personal data is dropped at extraction (Nghị định 13/2023/NĐ-CP; DESIGN.md).

A whitelist, not a blacklist: each record keeps only the contract's fields that no figure or
check needs to hide; every other field — the applicant's name, ID number, phone, e-mail,
address, the free-text summary and comments, attached file names, and any field the contract
does not define — is dropped before anything touches disk. File links of results
(DuongDanTep) can carry names, so a non-empty one is replaced by a fixed marker: only its
presence matters to a figure.
"""
from __future__ import annotations

from typing import Any

MASK = "[da-an]"

# field -> None (keep the value as it is) or a nested whitelist for objects / arrays of objects
_FEE = {"MaPhiLePhi": None, "TenPhiLePhi": None, "Gia": None, "HinhThucThu": None}
_DOC = {"DuocSoHoa": None, "DuocTaiSuDung": None, "DuocLayTuKhoDMQG": None}
_RESULT = {"TenGiayTo": None, "MaKetQua": None, "DuongDanTep": "mask"}
_SUPPLEMENT = {"NgayYeuCau": None, "NgayBoSung": None}

DOSSIER_FIELDS: dict[str, Any] = {
    "MaHoSo": None, "MaTTHC": None, "TenTTHC": None, "MaLinhVuc": None, "TenLinhVuc": None,
    "DonViXuLy": None, "KenhThucHien": None, "NgayNopHoSo": None, "NgayTiepNhan": None,
    "NgayHenTra": None, "NgayKetThucXuLy": None, "NgayTra": None, "TrangThaiHoSo": None,
    "DuocThanhToanTrucTuyen": None, "DanhSachLePhi": _FEE, "HoSoCoThanhPhanSoHoa": None,
    "TaiLieuNop": _DOC, "DanhSachGiayToKetQua": _RESULT, "DanhSachHoSoBoSung": _SUPPLEMENT,
    "TaiKhoanDuocXacThucVoiVNeID": None,
    "ThongTinEForm": {"SoTruong": None, "SoTruongTuDong": None},
    "ThuXinLoi": {"SoThu": None, "NgayGui": None},
    "DongBoDVCQG": None, "NgayCapNhat": None,
}
RATING_FIELDS = {"MaDanhGia": None, "MaHoSo": None, "DonViXuLy": None, "NgayDanhGia": None,
                 "MucDoHaiLong": None}
PROCEDURE_FIELDS = {k: None for k in (
    "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MucDo", "MotCua", "DacThu",
    "DuDieuKienTrucTuyen", "BonTaiCho", "CoPhiLePhi", "ThanhToanTrucTuyen", "ThoiHanGiaiQuyet",
    "MaDonViThucHien", "HieuLuc", "NgayCapNhat")}
UNIT_FIELDS = {k: None for k in ("MaDonVi", "TenDonVi", "MaDonViCha", "CapDonVi")}
_COUNTS = {"Tong": None, "TrucTuyen": None, "TrucTiepBuuChinh": None, "KyTruocChuyenSang": None,
           "TruocHan": None, "DungHan": None, "QuaHan": None, "TrongHan": None}
BIEU06_FIELDS = {"MaLinhVuc": None, "TenLinhVuc": None, "TiepNhan": _COUNTS, "DaGiaiQuyet": _COUNTS,
                 "DangGiaiQuyet": _COUNTS}

WHITELISTS = {"dossiers": DOSSIER_FIELDS, "ratings": RATING_FIELDS, "procedures": PROCEDURE_FIELDS,
              "units": UNIT_FIELDS, "bieu06": BIEU06_FIELDS}


def _apply(value: Any, spec: Any, dropped: set[str], path: str) -> Any:
    if spec is None:
        if type(value) not in _PLAIN:
            _odd[0] = True
        return value
    if spec == "mask":
        return MASK if isinstance(value, str) and value != "" else value
    if isinstance(value, list):
        return [_apply(item, spec, dropped, path + "[]") for item in value]
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            sub = spec.get(key, _DROP)
            if sub is None:  # the common case: a whitelisted scalar field, kept as it is
                kept[key] = item
                if type(item) not in _PLAIN:
                    _odd[0] = True
            elif sub is _DROP:
                dropped.add(f"{path}.{key}" if path else key)
            else:
                kept[key] = _apply(item, sub, dropped, f"{path}.{key}" if path else key)
        return kept
    return value  # a scalar where an object belongs: kept, validation reports the type error


_DROP = object()
# Kept values of these types need no second look; anything else (a float, which may be NaN or
# Infinity, a container where a scalar belongs) makes strip_page report the page as not plain.
_PLAIN = frozenset({str, int, bool, type(None)})
_odd = [False]


def strip_page(records: list, dataset: str, dropped: set[str]) -> tuple[list, bool]:
    """:func:`strip_record` of every record of a page, and whether every kept value is a
    string, an integer, a boolean or null ("plain": any JSON encoder writes it the same way)."""
    _odd[0] = False
    out = [_apply(r, WHITELISTS[dataset], dropped, "") for r in records]
    return out, not _odd[0]


def strip_record(record: Any, dataset: str, dropped: set[str] | None = None) -> Any:
    """The record with only whitelisted fields; names of dropped fields are added to ``dropped``."""
    return _apply(record, WHITELISTS[dataset], dropped if dropped is not None else set(), "")
