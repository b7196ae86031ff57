"""The portal's record shapes (portal-api.yaml) and the terms INDICATORS.md §2 defines, as data.

Nothing here judges a record: the rules of §5 live in the Great Expectations suites
(``parreport/expectations/*.json``, read at run time). This module says what the contract
says — each field's JSON kind, its allowed codes, which fields are required, which fields
are personal — so that :mod:`.frames` can state the facts the suites judge, and the figures
can read the statuses and instants of valid records.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

__all__ = [
    "RECEIVED_STATUSES", "FINISHED_STATUSES", "valid_timestamp", "Spec", "STR", "TS", "ENUM", "NUM", "INT",
    "LIST", "OBJ", "HOSO_FIELDS", "HOSO_REQUIRED", "DANHGIA_FIELDS", "DANHGIA_REQUIRED", "THUTUC_FIELDS",
    "THUTUC_REQUIRED", "DONVI_FIELDS", "DONVI_REQUIRED",
]

# §2: "Received: status 2 or 4–10"; "Finished: status 7, 8, 9 or 10".
RECEIVED_STATUSES = frozenset({"2", "4", "5", "6", "7", "8", "9", "10"})
FINISHED_STATUSES = frozenset({"7", "8", "9", "10"})


_DATE_OK: dict[str, bool] = {}  # "yyyyMMdd" -> is a real calendar date (memo, bounded)


def valid_timestamp(value: Any) -> bool:
    """True when ``value`` is a real ``yyyyMMddHHmmss`` instant; same verdict as
    :func:`parse_timestamp` (and ``timeutil.parse_ts``) without building a datetime.

    Valid timestamps compare as strings exactly as the instants they name (fixed width,
    most significant first), and ``value[:8]`` is the calendar date: the figures use that
    to avoid parsing half a million records' dates.
    """
    if type(value) is not str or len(value) != 14 or not (value.isascii() and value.isdigit()):
        return False
    day = value[:8]
    ok = _DATE_OK.get(day)
    if ok is None:
        try:
            date(int(day[:4]), int(day[4:6]), int(day[6:8]))
            ok = True
        except ValueError:
            ok = False
        if len(_DATE_OK) < 200_000:
            _DATE_OK[day] = ok
    return ok and value[8:10] <= "23" and value[10:12] <= "59" and value[12:14] <= "59"


# ---------------------------------------------------------------------------------------------
# A small description of the contract's record shapes (portal-api.yaml)
# ---------------------------------------------------------------------------------------------

STR, TS, ENUM, NUM, INT, LIST, OBJ = "str", "ts", "enum", "num", "int", "list", "obj"


@dataclass(frozen=True)
class Spec:
    kind: str
    values: tuple[str, ...] = ()  # ENUM: allowed codes ("" and null are "absent", see top)
    item: "Spec | None" = None  # LIST: spec of each item
    fields: "dict[str, Spec] | None" = None  # OBJ: specs of known properties
    personal: bool = False  # never echo the value in a message


def _enum(*values: str) -> Spec:
    return Spec(ENUM, values=values)


def _obj(**fields: Spec) -> Spec:
    return Spec(OBJ, fields=fields)


_S = Spec(STR)
_P = Spec(STR, personal=True)
_T = Spec(TS)
_FLAG = _enum("0", "1")

HOSO_FIELDS: dict[str, Spec] = {
    "MaHoSo": _S,
    "MaTTHC": _S,
    "TenTTHC": _S,
    "MaLinhVuc": _S,
    "TenLinhVuc": _S,
    "DonViXuLy": _S,
    "KenhThucHien": _enum("1", "2", "3"),
    "ChuHoSo": _P,
    "SoGiayToChuHoSo": _P,
    "SoDienThoai": _P,
    "Email": _P,
    "DiaChi": _P,
    "TrichYeuHoSo": _P,
    "NgayNopHoSo": _T,
    "NgayTiepNhan": _T,
    "NgayHenTra": _T,
    "NgayKetThucXuLy": _T,
    "NgayTra": _T,
    "TrangThaiHoSo": _enum("1", "2", "3", "4", "5", "6", "7", "8", "9", "10"),
    "DuocThanhToanTrucTuyen": _enum("0", "1", "2"),
    "DanhSachLePhi": Spec(LIST, item=_obj(MaPhiLePhi=_S, TenPhiLePhi=_S, Gia=Spec(NUM), HinhThucThu=_S)),
    "HoSoCoThanhPhanSoHoa": _FLAG,
    "TaiLieuNop": Spec(LIST, item=_obj(TenTepDinhKem=_P, DuocSoHoa=_FLAG, DuocTaiSuDung=_FLAG,
                                       DuocLayTuKhoDMQG=_FLAG)),
    "DanhSachGiayToKetQua": Spec(LIST, item=_obj(TenGiayTo=_S, MaKetQua=_S, DuongDanTep=_S)),
    "DanhSachHoSoBoSung": Spec(LIST, item=_obj(NgayYeuCau=_T, NgayBoSung=_T)),
    "TaiKhoanDuocXacThucVoiVNeID": _FLAG,
    "ThongTinEForm": _obj(SoTruong=Spec(INT), SoTruongTuDong=Spec(INT)),
    "ThuXinLoi": _obj(SoThu=_S, NgayGui=_T),
    "DongBoDVCQG": _FLAG,
    "NgayCapNhat": _T,
}
HOSO_REQUIRED = ("MaHoSo", "MaTTHC", "DonViXuLy", "TrangThaiHoSo", "NgayCapNhat")

DANHGIA_FIELDS: dict[str, Spec] = {
    "MaDanhGia": _S,
    "MaHoSo": _S,
    "DonViXuLy": _S,
    "NgayDanhGia": _T,
    "MucDoHaiLong": _enum("1", "2", "3"),
    "GopY": _P,
}
DANHGIA_REQUIRED = ("MaDanhGia", "MaHoSo", "DonViXuLy", "NgayDanhGia", "MucDoHaiLong")

THUTUC_FIELDS: dict[str, Spec] = {
    "MaTTHC": _S,
    "TenTTHC": _S,
    "MaLinhVuc": _S,
    "TenLinhVuc": _S,
    "MucDo": _enum("2", "3", "4"),
    "MotCua": _FLAG,
    "DacThu": _FLAG,
    "DuDieuKienTrucTuyen": _FLAG,
    "BonTaiCho": _FLAG,
    "CoPhiLePhi": _FLAG,
    "ThanhToanTrucTuyen": _FLAG,
    "ThoiHanGiaiQuyet": _S,
    "MaDonViThucHien": _S,
    "HieuLuc": _FLAG,
    "NgayCapNhat": _T,
}
THUTUC_REQUIRED = ("MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MucDo", "MotCua", "DacThu",
                   "DuDieuKienTrucTuyen", "BonTaiCho", "CoPhiLePhi", "ThanhToanTrucTuyen",
                   "MaDonViThucHien", "HieuLuc")

DONVI_FIELDS: dict[str, Spec] = {
    "MaDonVi": _S,
    "TenDonVi": _S,
    "MaDonViCha": _S,
    "CapDonVi": _enum("SO", "PHONG", "DON_VI_SU_NGHIEP"),
}
DONVI_REQUIRED = ("MaDonVi", "TenDonVi")

