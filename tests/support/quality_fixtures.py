"""Shared data for the quality tests: a staged partition made of sandbox dossiers plus hand-made
records, each planted with a known fault (no test functions here)."""
from __future__ import annotations

import copy
from datetime import datetime

from parreport import store as st
from parreport.periods import window_for
from parreport.quality.dedupe import dedupe

AGENCY = "000.00.20.H57"
WINDOW = window_for(2025, 1)

UNITS = [
    {"MaDonVi": AGENCY, "TenDonVi": "Sở LĐ-TB&XH", "MaDonViCha": "", "CapDonVi": "SO"},
    {"MaDonVi": "P1", "TenDonVi": "Phòng 1", "MaDonViCha": AGENCY, "CapDonVi": "PHONG"},
    {"MaDonVi": "P1A", "TenDonVi": "Tổ 1A", "MaDonViCha": "P1", "CapDonVi": "DON_VI_SU_NGHIEP"},
]
PROC = {"MaTTHC": "1.001", "TenTTHC": "Thủ tục A", "MaLinhVuc": "A01", "TenLinhVuc": "Lĩnh vực A", "MucDo": "4",
        "MotCua": "1", "DacThu": "0", "DuDieuKienTrucTuyen": "1", "BonTaiCho": "0", "CoPhiLePhi": "1",
        "ThanhToanTrucTuyen": "1", "ThoiHanGiaiQuyet": "5 ngày", "MaDonViThucHien": AGENCY, "HieuLuc": "1",
        "NgayCapNhat": "20240101000000"}
PROCEDURES = [PROC, dict(PROC, MaTTHC="1.002", MaLinhVuc="A02", TenLinhVuc="Lĩnh vực B")]

VALID = {
    "MaHoSo": "HS-VALID", "MaTTHC": "1.001", "TenTTHC": "Thủ tục A", "MaLinhVuc": "A01", "TenLinhVuc": "Lĩnh vực A",
    "DonViXuLy": "P1", "KenhThucHien": "2", "NgayNopHoSo": "20250105080000", "NgayTiepNhan": "20250105090000",
    "NgayHenTra": "20250110170000", "NgayKetThucXuLy": "20250108100000", "NgayTra": "20250109100000",
    "TrangThaiHoSo": "10", "DuocThanhToanTrucTuyen": "1",
    "DanhSachLePhi": [{"MaPhiLePhi": "LP1", "TenPhiLePhi": "Lệ phí", "Gia": 8000, "HinhThucThu": "1"}],
    "HoSoCoThanhPhanSoHoa": "1",
    "TaiLieuNop": [{"DuocSoHoa": "1", "DuocTaiSuDung": "0", "DuocLayTuKhoDMQG": "0"}],
    "DanhSachGiayToKetQua": [{"TenGiayTo": "Giấy A", "MaKetQua": "KQ1", "DuongDanTep": "***"}],
    "DanhSachHoSoBoSung": [{"NgayYeuCau": "20250106080000", "NgayBoSung": "20250107080000"}],
    "TaiKhoanDuocXacThucVoiVNeID": "1", "ThongTinEForm": {"SoTruong": 12, "SoTruongTuDong": 5},
    "ThuXinLoi": {"SoThu": "TXL-1", "NgayGui": "20250111080000"}, "DongBoDVCQG": "1",
    "NgayCapNhat": "20250109100000",
}


DEL = object()  # a field given DEL to changed() is removed from the record


def changed(base: dict, **changes) -> dict:
    """A deep copy of ``base`` with ``changes`` applied (a field given :data:`DEL` is removed)."""
    rec = copy.deepcopy(base)
    for key, value in changes.items():
        if value is DEL:
            rec.pop(key, None)
        else:
            rec[key] = value
    return rec


def _v(ma, **changes):
    return changed(VALID, MaHoSo=ma, **changes)

# MaHoSo -> (record, the set of blocking rules it must break; empty = valid)
HAND_MADE: dict[str, tuple[object, set[str]]] = {
    "HM-OK-FULL": (_v("HM-OK-FULL"), set()),
    "HM-OK-MIN": ({"MaHoSo": "HM-OK-MIN", "MaTTHC": "1.002", "DonViXuLy": AGENCY, "TrangThaiHoSo": "1",
                   "NgayCapNhat": "20250101000000"}, set()),
    "HM-OK-LEAP": (_v("HM-OK-LEAP", NgayNopHoSo="20240229120000"), set()),
    "HM-OK-EMPTY": (_v("HM-OK-EMPTY", KenhThucHien="", NgayHenTra=None, DongBoDVCQG="", ThuXinLoi=None,
                       DanhSachLePhi=[None, {"Gia": None}], ThongTinEForm={"SoTruong": 3.0, "SoTruongTuDong": 3}),
                    set()),
    "HM-OK-K-IGNORED": (_v("HM-OK-K-IGNORED", TrangThaiHoSo="4", NgayKetThucXuLy="20240101000000"), set()),
    "HM-OK-EXTRA": (_v("HM-OK-EXTRA", TruongMoi={"x": [1, 2]}, NgayKhac="20250101000000"), set()),
    "HM-WARN-DUE": (_v("HM-WARN-DUE", NgayHenTra="20250104170000"), set()),
    "HM-MISSING": (_v("HM-MISSING", MaTTHC=""), {"missing_field"}),
    "HM-MISSING-NULL": (_v("HM-MISSING-NULL", NgayCapNhat=None, DonViXuLy=DEL), {"missing_field"}),
    "HM-STATUS-NUM": (_v("HM-STATUS-NUM", TrangThaiHoSo=9), {"bad_type"}),
    "HM-CODE": (_v("HM-CODE", KenhThucHien="4"), {"bad_code"}),
    "HM-CODE-NESTED": (_v("HM-CODE-NESTED", TaiLieuNop=[{"DuocSoHoa": "1"}, {"DuocSoHoa": "2"}]), {"bad_code"}),
    "HM-TYPE-NESTED": (_v("HM-TYPE-NESTED", TaiLieuNop=[{"DuocSoHoa": 1}]), {"bad_type"}),
    "HM-TS-FEB30": (_v("HM-TS-FEB30", NgayTiepNhan="20250230090000"), {"bad_timestamp"}),
    "HM-TS-NOT-LEAP": (_v("HM-TS-NOT-LEAP", NgayNopHoSo="20250229120000"), {"bad_timestamp"}),
    "HM-TS-NEWLINE": (_v("HM-TS-NEWLINE", NgayTra="20250109100000\n"), {"bad_timestamp"}),
    "HM-TS-NESTED": (_v("HM-TS-NESTED", ThuXinLoi={"SoThu": "1", "NgayGui": "20251301000000"}), {"bad_timestamp"}),
    "HM-TS-LIST": (_v("HM-TS-LIST", DanhSachHoSoBoSung=[{"NgayYeuCau": "20250106080000"},
                                                        {"NgayYeuCau": "2025-01-06"}]), {"bad_timestamp"}),
    "HM-TS-UNKNOWN": (_v("HM-TS-UNKNOWN", TruongMoi={"NgayX": 20250101000000}), {"bad_timestamp"}),
    "HM-TYPE-FEE-STR": (_v("HM-TYPE-FEE-STR", DanhSachLePhi=[{"Gia": "8000"}]), {"bad_type"}),
    "HM-TYPE-FEE-BOOL": (_v("HM-TYPE-FEE-BOOL", DanhSachLePhi=[{"Gia": True}]), {"bad_type"}),
    "HM-TYPE-FEE-NAN": (_v("HM-TYPE-FEE-NAN", DanhSachLePhi=[{"Gia": float("nan")}]), {"bad_type"}),
    "HM-TYPE-OBJ-LIST": (_v("HM-TYPE-OBJ-LIST", DanhSachLePhi={"Gia": 1}), {"bad_type"}),
    "HM-TYPE-EFORM-FRAC": (_v("HM-TYPE-EFORM-FRAC", ThongTinEForm={"SoTruong": 3.5, "SoTruongTuDong": 1}),
                           {"bad_type"}),
    "HM-TYPE-EMPTY-LIST": (_v("HM-TYPE-EMPTY-LIST", TaiLieuNop=""), {"bad_type"}),
    "HM-T-MISSING": (_v("HM-T-MISSING", TrangThaiHoSo="5", NgayTiepNhan=""), {"received_without_T"}),
    "HM-K-MISSING": (_v("HM-K-MISSING", NgayKetThucXuLy=None), {"finished_without_K"}),
    "HM-K-BEFORE-T": (_v("HM-K-BEFORE-T", NgayKetThucXuLy="20250105085959"), {"K_before_T"}),
    "HM-K-BAD-T": (_v("HM-K-BAD-T", NgayTiepNhan="2025010509", NgayKetThucXuLy="20250101000000"),
                   {"bad_timestamp"}),
    "HM-PROC": (_v("HM-PROC", MaTTHC="9.999"), {"unknown_procedure"}),
    "HM-UNIT": (_v("HM-UNIT", DonViXuLy="KHAC"), {"unit_outside_agency"}),
    "HM-FEE": (_v("HM-FEE", DanhSachLePhi=[{"Gia": 5}, {"Gia": -0.5}]), {"negative_fee"}),
    "HM-EFORM-GT": (_v("HM-EFORM-GT", ThongTinEForm={"SoTruong": 2, "SoTruongTuDong": 3}), {"bad_eform"}),
    "HM-EFORM-ABSENT": (_v("HM-EFORM-ABSENT", ThongTinEForm={"SoTruongTuDong": 1}), {"bad_eform"}),
    "HM-EFORM-NEG": (_v("HM-EFORM-NEG", ThongTinEForm={"SoTruong": -1, "SoTruongTuDong": 0}), {"bad_eform"}),
    # JSON allows integers of any size: beyond the float range they are judged by their sign and order
    "HM-FEE-HUGE": (_v("HM-FEE-HUGE", DanhSachLePhi=[{"Gia": 10**400}]), set()),
    "HM-FEE-HUGE-NEG": (_v("HM-FEE-HUGE-NEG", DanhSachLePhi=[{"Gia": 5}, {"Gia": -10**400}]), {"negative_fee"}),
    "HM-EFORM-HUGE": (_v("HM-EFORM-HUGE", ThongTinEForm={"SoTruong": 10**400, "SoTruongTuDong": 1}), set()),
    "HM-EFORM-HUGE-GT": (_v("HM-EFORM-HUGE-GT", ThongTinEForm={"SoTruong": 3, "SoTruongTuDong": 10**400}),
                         {"bad_eform"}),
    "HM-MANY": (_v("HM-MANY", MaTTHC="9.998", DonViXuLy="KHAC", KenhThucHien="x", NgayHenTra="2025"),
                {"unknown_procedure", "unit_outside_agency", "bad_code", "bad_timestamp"}),
}
NOT_OBJECT = ["không phải đối tượng"]  # a staged record that is not a JSON object -> bad_type

RATINGS = [
    {"MaDanhGia": "DG-OK", "MaHoSo": "HS-OLD", "DonViXuLy": "P1A", "NgayDanhGia": "20250110100000",
     "MucDoHaiLong": "3"},
    {"MaDanhGia": "DG-CODE", "MaHoSo": "HM-OK-FULL", "DonViXuLy": "P1", "NgayDanhGia": "20250110100000",
     "MucDoHaiLong": "4"},
    {"MaDanhGia": "DG-TS", "MaHoSo": "HM-OK-FULL", "DonViXuLy": "P1", "NgayDanhGia": "20250132100000",
     "MucDoHaiLong": "2"},
    {"MaDanhGia": "DG-UNIT", "MaHoSo": "HM-OK-FULL", "DonViXuLy": "KHAC", "NgayDanhGia": "20250110100000",
     "MucDoHaiLong": "1"},
]
RATING_EXPECTED = {"DG-OK": set(), "DG-CODE": {"bad_code"}, "DG-TS": {"bad_timestamp"},
                   "DG-UNIT": {"unit_outside_agency"}}


def sandbox_records(seed: int = 7, per_quarter: int = 400):
    """A sandbox dataset's Q1 2025 listing, de-duplicated, with the generator's ground truth."""
    from parreport.sandbox import generate

    ds = generate(seed=seed, dossiers_per_quarter=per_quarter, invalid_rate=0.03,
                  span_start=datetime(2024, 9, 1), span_end=datetime(2025, 4, 30))
    w = window_for(2025, 1)
    recs = dedupe(ds.listing_records(ds.agency, w.start_ts, w.end_ts)).records
    return ds, recs


def stage(store: st.Store, *, units, procedures, dossiers, ratings, agency=AGENCY, window=WINDOW, run_id="run-1",
          stats: dict | None = None) -> None:
    key = window.key
    store.replace_partition(st.units, agency, key, [{"seq": i, "ma_don_vi": u.get("MaDonVi"), "record": u}
                                                    for i, u in enumerate(units)])
    store.replace_partition(st.procedures, agency, key, [{"seq": i, "ma_tthc": p.get("MaTTHC"), "record": p}
                                                         for i, p in enumerate(procedures)])
    store.replace_partition(st.dossiers, agency, key, [
        {"seq": i, "ma_ho_so": (d.get("MaHoSo") if isinstance(d, dict) and isinstance(d.get("MaHoSo"), str) else None),
         "record": d} for i, d in enumerate(dossiers)])
    store.replace_partition(st.ratings, agency, key, [{"seq": i, "ma_danh_gia": r.get("MaDanhGia"), "record": r}
                                                      for i, r in enumerate(ratings)])
    store.record_load(agency, key, "dossiers", run_id=run_id, raw_dir="", tong_so=len(dossiers),
                      delivered=len(dossiers), staged=len(dossiers), duplicates=0)
    for w, n in (stats or {}).items():
        store.record_load(agency, w.key, "dossiers", run_id="old", raw_dir="", tong_so=n, delivered=n, staged=n,
                          duplicates=0)
