"""Per-record rules (INDICATORS.md §5): one test per rule code, and records that must pass."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support.quality_fixtures import DEL, changed
from tests.support.rules import (
    BLOCKING_RULES,
    RULE_TITLES,
    RuleContext,
    Violation,
    check_dossier,
    check_dossier_warnings,
    check_procedure,
    check_rating,
    check_unit,
    parse_timestamp,
)
from tests.support.rules import valid_timestamp
from parreport.timeutil import BadTimestamp, parse_ts

CTX = RuleContext(procedure_codes={"1.001", "1.002"}, agency_units={"SO", "P1", "P1A"})

# A complete, valid dossier (every contract field, personal data included).
FULL = {
    "MaHoSo": "G01.001-250101-0001",
    "MaTTHC": "1.001",
    "TenTTHC": "Đăng ký khai sinh",
    "MaLinhVuc": "A01",
    "TenLinhVuc": "Hộ tịch",
    "DonViXuLy": "P1",
    "KenhThucHien": "2",
    "ChuHoSo": "Nguyễn Văn A",
    "SoGiayToChuHoSo": "001099000001",
    "SoDienThoai": "0900000000",
    "Email": "a@example.vn",
    "DiaChi": "Hà Nội",
    "TrichYeuHoSo": "Khai sinh",
    "NgayNopHoSo": "20250105080000",
    "NgayTiepNhan": "20250105090000",
    "NgayHenTra": "20250110170000",
    "NgayKetThucXuLy": "20250108100000",
    "NgayTra": "20250109100000",
    "TrangThaiHoSo": "10",
    "DuocThanhToanTrucTuyen": "1",
    "DanhSachLePhi": [{"MaPhiLePhi": "LP1", "TenPhiLePhi": "Lệ phí", "Gia": 8000, "HinhThucThu": "1"}],
    "HoSoCoThanhPhanSoHoa": "1",
    "TaiLieuNop": [{"TenTepDinhKem": "to-khai.pdf", "DuocSoHoa": "1", "DuocTaiSuDung": "0",
                    "DuocLayTuKhoDMQG": "0"}],
    "DanhSachGiayToKetQua": [{"TenGiayTo": "Giấy khai sinh", "MaKetQua": "KQ1", "DuongDanTep": "https://x/1"}],
    "DanhSachHoSoBoSung": [{"NgayYeuCau": "20250106080000", "NgayBoSung": "20250107080000"}],
    "TaiKhoanDuocXacThucVoiVNeID": "1",
    "ThongTinEForm": {"SoTruong": 12, "SoTruongTuDong": 5},
    "ThuXinLoi": {"SoThu": "TXL-1", "NgayGui": "20250111080000"},
    "DongBoDVCQG": "1",
    "NgayCapNhat": "20250109100000",
}

# The minimum a valid dossier needs.
MINIMAL = {"MaHoSo": "HS1", "MaTTHC": "1.001", "DonViXuLy": "P1", "TrangThaiHoSo": "1",
           "NgayCapNhat": "20250101000000"}


def with_(base=FULL, **changes):
    return changed(base, **changes)




def rules_of(rec):
    return [v.rule for v in check_dossier(rec, CTX)]


# ----------------------------------------------------------------------------------------------
# Records that must not be flagged
# ----------------------------------------------------------------------------------------------

def test_full_valid_record_passes():
    assert check_dossier(FULL, CTX) == []
    assert check_dossier_warnings(FULL) == []


def test_minimal_record_passes():
    assert check_dossier(MINIMAL, CTX) == []


def test_personal_fields_absent_passes():
    rec = with_(ChuHoSo=DEL, SoGiayToChuHoSo=DEL, SoDienThoai=DEL, Email=DEL, DiaChi=DEL,
                TrichYeuHoSo=DEL, TaiLieuNop=[{"DuocSoHoa": "1"}])
    assert check_dossier(rec, CTX) == []


@pytest.mark.parametrize("absent", [None, ""])
def test_null_and_empty_in_optional_text_fields_pass(absent):
    rec = with_(KenhThucHien=absent, DuocThanhToanTrucTuyen=absent, HoSoCoThanhPhanSoHoa=absent,
                TaiKhoanDuocXacThucVoiVNeID=absent, DongBoDVCQG=absent, NgayNopHoSo=absent,
                NgayHenTra=absent, NgayTra=absent, TenTTHC=absent, MaLinhVuc=absent,
                ThuXinLoi={"SoThu": absent, "NgayGui": absent},
                DanhSachGiayToKetQua=[{"DuongDanTep": absent, "TenGiayTo": absent}],
                DanhSachHoSoBoSung=[{"NgayYeuCau": absent, "NgayBoSung": absent}],
                TaiLieuNop=[{"DuocSoHoa": absent, "TenTepDinhKem": absent}],
                DanhSachLePhi=[{"Gia": None, "MaPhiLePhi": absent}])
    assert check_dossier(rec, CTX) == []


def test_null_in_every_non_text_optional_field_passes():
    rec = with_(DanhSachLePhi=None, TaiLieuNop=None, DanhSachGiayToKetQua=None, DanhSachHoSoBoSung=None,
                ThongTinEForm=None, ThuXinLoi=None)
    assert check_dossier(rec, CTX) == []
    rec = with_(DanhSachLePhi=[], TaiLieuNop=[None], ThongTinEForm={}, ThuXinLoi={})
    assert check_dossier(rec, CTX) == []


def test_leap_day_2024_is_valid():
    rec = with_(NgayTiepNhan="20240229120000", NgayNopHoSo="20240229000000")
    assert check_dossier(rec, CTX) == []


def test_k_on_unfinished_dossier_is_ignored():
    # K < T on a dossier in processing (status 4): "K on a dossier in any other status is ignored".
    rec = with_(TrangThaiHoSo="4", NgayKetThucXuLy="20250101000000")
    assert check_dossier(rec, CTX) == []


def test_never_received_dossier_needs_no_t():
    for status in ("1", "3"):
        assert check_dossier(with_(MINIMAL, TrangThaiHoSo=status, NgayTiepNhan=""), CTX) == []


def test_extra_unknown_fields_are_ignored():
    rec = with_(TruongMoi={"x": [1, 2]}, SoLanBoSung="ba", MaHoSoCu=12)
    assert check_dossier(rec, CTX) == []


def test_integral_float_count_and_float_fee_pass():
    rec = with_(ThongTinEForm={"SoTruong": 12.0, "SoTruongTuDong": 5}, DanhSachLePhi=[{"Gia": 1500.5}])
    assert check_dossier(rec, CTX) == []
    rec = with_(ThongTinEForm={"SoTruong": Decimal("12"), "SoTruongTuDong": 0},
                DanhSachLePhi=[{"Gia": Decimal("0.0")}])
    assert check_dossier(rec, CTX) == []


def test_k_equal_t_passes():
    assert check_dossier(with_(NgayKetThucXuLy=FULL["NgayTiepNhan"]), CTX) == []


# ----------------------------------------------------------------------------------------------
# One test per rule code: a minimal record that breaks only that rule
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["MaHoSo", "MaTTHC", "DonViXuLy", "TrangThaiHoSo", "NgayCapNhat"])
@pytest.mark.parametrize("absent", [DEL, None, ""])
def test_missing_field(name, absent):
    out = check_dossier(with_(MINIMAL, **{name: absent}), CTX)
    assert [(v.rule, v.field) for v in out] == [("missing_field", name)]
    assert name in out[0].message


def test_bad_code_status():
    out = check_dossier(with_(MINIMAL, TrangThaiHoSo="11"), CTX)
    assert [(v.rule, v.field) for v in out] == [("bad_code", "TrangThaiHoSo")]
    assert "'11'" in out[0].message


@pytest.mark.parametrize("name, value", [
    ("KenhThucHien", "4"),
    ("KenhThucHien", "0"),
    ("DuocThanhToanTrucTuyen", "3"),
    ("HoSoCoThanhPhanSoHoa", "2"),
    ("TaiKhoanDuocXacThucVoiVNeID", "Y"),
    ("DongBoDVCQG", "true"),
])
def test_bad_code_enums(name, value):
    assert [(v.rule, v.field) for v in check_dossier(with_(MINIMAL, **{name: value}), CTX)] == [("bad_code", name)]


def test_bad_code_nested_flag():
    rec = with_(MINIMAL, TaiLieuNop=[{"DuocSoHoa": "1"}, {"DuocTaiSuDung": "x"}])
    assert [(v.rule, v.field) for v in check_dossier(rec, CTX)] == [("bad_code", "TaiLieuNop[1].DuocTaiSuDung")]


def test_bad_timestamp_unreal_instant():
    out = check_dossier(with_(MINIMAL, NgayNopHoSo="20250230120000"), CTX)
    assert out == [Violation("bad_timestamp", "NgayNopHoSo",
                             "NgayNopHoSo '20250230120000' không phải thời điểm có thật")]


@pytest.mark.parametrize("value", [
    "20250229120000",   # 29 Feb 2025 does not exist
    "20250101240000",   # hour 24
    "20250101236000",   # minute 60
    "20250101235960",   # second 60
    "20251301000000",   # month 13
    "00000101000000",   # year 0
    "2025-01-01 10:0",  # wrong shape
    "202501011200",     # 12 digits
    "2025010112000０",  # a non-ASCII digit
    " 20250101120000",
])
def test_bad_timestamp_values(value):
    assert [(v.rule, v.field) for v in check_dossier(with_(MINIMAL, NgayNopHoSo=value), CTX)] == \
        [("bad_timestamp", "NgayNopHoSo")]


@pytest.mark.parametrize("path, rec", [
    ("DanhSachHoSoBoSung[0].NgayYeuCau", with_(MINIMAL, DanhSachHoSoBoSung=[{"NgayYeuCau": "20250132000000"}])),
    ("DanhSachHoSoBoSung[1].NgayBoSung", with_(MINIMAL, DanhSachHoSoBoSung=[{}, {"NgayBoSung": "x"}])),
    ("ThuXinLoi.NgayGui", with_(MINIMAL, ThuXinLoi={"SoThu": "1", "NgayGui": "20250101"})),
    ("NgayTra", with_(MINIMAL, NgayTra="20250230000000")),
    ("NgayCapNhat", with_(MINIMAL, NgayCapNhat="20250230000000")),
    ("NgayKetThucXuLy", with_(MINIMAL, TrangThaiHoSo="4", NgayTiepNhan="20250101000000",
                              NgayKetThucXuLy="20250230000000")),  # unread K, even if unused
    ("NgayKy", with_(MINIMAL, NgayKy="2025")),                  # unknown Ngay* field
    ("ThuXinLoi.NgayKy", with_(MINIMAL, ThuXinLoi={"NgayKy": "x"})),  # unknown nested Ngay* field
])
def test_bad_timestamp_any_ngay_field(path, rec):
    assert [(v.rule, v.field) for v in check_dossier(rec, CTX)] == [("bad_timestamp", path)]


def test_unknown_ngay_field_value_not_echoed():
    out = check_dossier(with_(MINIMAL, NgaySinh="1990-01-01"), CTX)
    assert [v.rule for v in out] == ["bad_timestamp"] and "1990" not in out[0].message


@pytest.mark.parametrize("changes, path", [
    ({"MaTTHC": 1001}, "MaTTHC"),                         # a string as a number
    ({"TrangThaiHoSo": 9}, "TrangThaiHoSo"),              # a code as a number (no bad_code too)
    ({"KenhThucHien": 2}, "KenhThucHien"),
    ({"NgayNopHoSo": 20250101000000}, "NgayNopHoSo"),     # timestamp as a number
    ({"TenTTHC": ["a"]}, "TenTTHC"),
    ({"DanhSachLePhi": {"Gia": 1}}, "DanhSachLePhi"),     # an object where a list belongs
    ({"DanhSachLePhi": ""}, "DanhSachLePhi"),             # "" is absent only in text fields
    ({"DanhSachLePhi": [{"Gia": "8000"}]}, "DanhSachLePhi[0].Gia"),  # a number written as a string
    ({"DanhSachLePhi": [{"Gia": ""}]}, "DanhSachLePhi[0].Gia"),
    ({"DanhSachLePhi": [{"Gia": True}]}, "DanhSachLePhi[0].Gia"),    # booleans are not numbers
    ({"DanhSachLePhi": [{"Gia": float("nan")}]}, "DanhSachLePhi[0].Gia"),
    ({"DanhSachLePhi": ["8000"]}, "DanhSachLePhi[0]"),
    ({"ThongTinEForm": {"SoTruong": 3.5}}, "ThongTinEForm.SoTruong"),  # a count with a fraction
    ({"ThongTinEForm": {"SoTruong": 5, "SoTruongTuDong": "2"}}, "ThongTinEForm.SoTruongTuDong"),
    ({"ThongTinEForm": {"SoTruong": False}}, "ThongTinEForm.SoTruong"),
    ({"ThongTinEForm": [12, 5]}, "ThongTinEForm"),
    ({"ThongTinEForm": ""}, "ThongTinEForm"),
    ({"ThuXinLoi": "TXL-1"}, "ThuXinLoi"),
    ({"ThuXinLoi": {"SoThu": 15}}, "ThuXinLoi.SoThu"),
    ({"DanhSachGiayToKetQua": [{"DuongDanTep": 1}]}, "DanhSachGiayToKetQua[0].DuongDanTep"),
    ({"TaiLieuNop": [{"DuocSoHoa": 1}]}, "TaiLieuNop[0].DuocSoHoa"),
    ({"TaiLieuNop": {"DuocSoHoa": "1"}}, "TaiLieuNop"),
    ({"MaHoSo": 12345}, "MaHoSo"),
])
def test_bad_type(changes, path):
    out = check_dossier(with_(MINIMAL, **changes), CTX)
    assert [(v.rule, v.field) for v in out] == [("bad_type", path)]


def test_bad_type_personal_value_not_echoed():
    out = check_dossier(with_(MINIMAL, SoGiayToChuHoSo=1099000001), CTX)
    assert [(v.rule, v.field) for v in out] == [("bad_type", "SoGiayToChuHoSo")]
    assert "1099000001" not in out[0].message


@pytest.mark.parametrize("status", ["2", "4", "5", "6", "7", "8", "9", "10"])
def test_received_without_t(status):
    rec = with_(MINIMAL, TrangThaiHoSo=status, NgayKetThucXuLy="20250102000000")
    out = rules_of(rec)
    assert out == ["received_without_T"]


def test_unreadable_t_is_bad_timestamp_only():
    assert rules_of(with_(MINIMAL, TrangThaiHoSo="4", NgayTiepNhan="2025")) == ["bad_timestamp"]


@pytest.mark.parametrize("status", ["7", "8", "9", "10"])
@pytest.mark.parametrize("absent", [DEL, None, ""])
def test_finished_without_k(status, absent):
    rec = with_(MINIMAL, TrangThaiHoSo=status, NgayTiepNhan="20250101000000", NgayKetThucXuLy=absent)
    assert rules_of(rec) == ["finished_without_K"]


def test_k_before_t():
    rec = with_(MINIMAL, TrangThaiHoSo="9", NgayTiepNhan="20250101000000", NgayKetThucXuLy="20241231235959")
    out = check_dossier(rec, CTX)
    assert [(v.rule, v.field) for v in out] == [("K_before_T", "NgayKetThucXuLy")]
    assert "20241231235959" in out[0].message


def test_unknown_procedure():
    out = check_dossier(with_(MINIMAL, MaTTHC="9.999"), CTX)
    assert [(v.rule, v.field) for v in out] == [("unknown_procedure", "MaTTHC")]
    assert "9.999" in out[0].message


def test_unit_outside_agency():
    assert [(v.rule, v.field) for v in check_dossier(with_(MINIMAL, DonViXuLy="XO"), CTX)] == \
        [("unit_outside_agency", "DonViXuLy")]


def test_negative_fee():
    rec = with_(MINIMAL, DanhSachLePhi=[{"Gia": 1000}, {"Gia": -0.5}])
    assert [(v.rule, v.field) for v in check_dossier(rec, CTX)] == [("negative_fee", "DanhSachLePhi[1].Gia")]


@pytest.mark.parametrize("eform, path", [
    ({"SoTruong": -1, "SoTruongTuDong": 0}, "ThongTinEForm.SoTruong"),
    ({"SoTruong": 3, "SoTruongTuDong": -2}, "ThongTinEForm.SoTruongTuDong"),
    ({"SoTruong": 3, "SoTruongTuDong": 4}, "ThongTinEForm.SoTruongTuDong"),
    ({"SoTruongTuDong": 1}, "ThongTinEForm.SoTruongTuDong"),  # SoTruong absent counts as 0
])
def test_bad_eform(eform, path):
    assert [(v.rule, v.field) for v in check_dossier(with_(MINIMAL, ThongTinEForm=eform), CTX)] == \
        [("bad_eform", path)]


def test_all_violations_are_reported_not_just_the_first():
    rec = {"MaHoSo": "X", "MaTTHC": "9.9", "DonViXuLy": "XO", "TrangThaiHoSo": "9",
           "NgayTiepNhan": "20250101000000", "KenhThucHien": "7", "NgayCapNhat": None,
           "DanhSachLePhi": [{"Gia": -1}], "ThongTinEForm": {"SoTruong": 1, "SoTruongTuDong": 2},
           "DanhSachHoSoBoSung": [{"NgayYeuCau": "20250229000000"}], "DongBoDVCQG": 1}
    assert sorted(rules_of(rec)) == sorted(["missing_field", "bad_code", "bad_timestamp", "bad_type",
                                            "finished_without_K", "unknown_procedure",
                                            "unit_outside_agency", "negative_fee", "bad_eform"])


def test_bad_status_skips_status_rules():
    # the status is unknown, so nothing is said about T or K
    assert rules_of(with_(MINIMAL, TrangThaiHoSo="99")) == ["bad_code"]


def test_not_a_dict():
    assert [v.rule for v in check_dossier(["x"], CTX)] == ["bad_type"]


def test_every_rule_has_a_title():
    for code in BLOCKING_RULES + ("due_before_receipt",):
        assert RULE_TITLES[code]
    assert set(BLOCKING_RULES) == {"missing_field", "bad_code", "bad_timestamp", "bad_type",
                                   "received_without_T", "finished_without_K", "K_before_T",
                                   "unknown_procedure", "unit_outside_agency", "negative_fee", "bad_eform"}


# ----------------------------------------------------------------------------------------------
# Warnings
# ----------------------------------------------------------------------------------------------

def test_due_before_receipt_warning():
    out = check_dossier_warnings(with_(NgayTiepNhan="20250105090000", NgayHenTra="20250104235959"))
    assert [(v.rule, v.field) for v in out] == [("due_before_receipt", "NgayHenTra")]
    # earlier in the same day is not an earlier date
    assert check_dossier_warnings(with_(NgayTiepNhan="20250105090000", NgayHenTra="20250105000000")) == []
    assert check_dossier_warnings(with_(NgayHenTra=None)) == []
    assert check_dossier_warnings(with_(NgayHenTra="bad")) == []  # a bad_timestamp, not a warning
    # a warning is not blocking
    assert check_dossier(with_(NgayTiepNhan="20250105090000", NgayHenTra="20250104235959",
                               NgayKetThucXuLy="20250106000000"), CTX) == []


# ----------------------------------------------------------------------------------------------
# Ratings, procedures, units
# ----------------------------------------------------------------------------------------------

RATING = {"MaDanhGia": "DG1", "MaHoSo": "HS1", "DonViXuLy": "P1A", "NgayDanhGia": "20250101000000",
          "MucDoHaiLong": "2", "GopY": None}


def test_valid_rating_passes():
    assert check_rating(RATING, CTX) == []
    assert check_rating(with_(RATING, GopY=DEL), CTX) == []


@pytest.mark.parametrize("changes, expected", [
    ({"MucDoHaiLong": "4"}, [("bad_code", "MucDoHaiLong")]),
    ({"MucDoHaiLong": "0"}, [("bad_code", "MucDoHaiLong")]),
    ({"MucDoHaiLong": 2}, [("bad_type", "MucDoHaiLong")]),
    ({"NgayDanhGia": "20250230000000"}, [("bad_timestamp", "NgayDanhGia")]),
    ({"NgayDanhGia": ""}, [("missing_field", "NgayDanhGia")]),
    ({"NgayDanhGia": DEL}, [("missing_field", "NgayDanhGia")]),
    ({"DonViXuLy": "XO"}, [("unit_outside_agency", "DonViXuLy")]),
    ({"MaDanhGia": None}, [("missing_field", "MaDanhGia")]),
    ({"MaHoSo": ""}, [("missing_field", "MaHoSo")]),
    ({"MucDoHaiLong": None}, [("missing_field", "MucDoHaiLong")]),
    ({"GopY": 5}, [("bad_type", "GopY")]),
])
def test_rating_rules(changes, expected):
    assert [(v.rule, v.field) for v in check_rating(with_(RATING, **changes), CTX)] == expected


THUTUC = {"MaTTHC": "1.001", "TenTTHC": "Đăng ký khai sinh", "MaLinhVuc": "A01", "TenLinhVuc": "Hộ tịch",
          "MucDo": "4", "MotCua": "1", "DacThu": "0", "DuDieuKienTrucTuyen": "1", "BonTaiCho": "0",
          "CoPhiLePhi": "1", "ThanhToanTrucTuyen": "1", "ThoiHanGiaiQuyet": None, "MaDonViThucHien": "P1",
          "HieuLuc": "1", "NgayCapNhat": "20240101000000"}


def test_procedure_rules():
    assert check_procedure(THUTUC) == []
    assert check_procedure(with_(THUTUC, ThoiHanGiaiQuyet="", NgayCapNhat=DEL)) == []
    assert [(v.rule, v.field) for v in check_procedure(with_(THUTUC, MucDo="1"))] == [("bad_code", "MucDo")]
    assert [(v.rule, v.field) for v in check_procedure(with_(THUTUC, HieuLuc=DEL))] == [("missing_field", "HieuLuc")]
    assert [(v.rule, v.field) for v in check_procedure(with_(THUTUC, ThoiHanGiaiQuyet=5))] == \
        [("bad_type", "ThoiHanGiaiQuyet")]
    assert [(v.rule, v.field) for v in check_procedure(with_(THUTUC, NgayCapNhat="x"))] == \
        [("bad_timestamp", "NgayCapNhat")]


def test_unit_rules():
    good = {"MaDonVi": "P1", "TenDonVi": "Phòng 1", "MaDonViCha": "SO", "CapDonVi": "PHONG"}
    assert check_unit(good) == []
    assert check_unit(with_(good, MaDonViCha=None, CapDonVi=DEL)) == []
    assert [(v.rule, v.field) for v in check_unit(with_(good, CapDonVi="BAN"))] == [("bad_code", "CapDonVi")]
    assert [(v.rule, v.field) for v in check_unit(with_(good, TenDonVi=""))] == [("missing_field", "TenDonVi")]


# ----------------------------------------------------------------------------------------------
# The fast timestamp parser agrees with timeutil.parse_ts
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    None, "", "20250101000000", "20240229235959", "20250229000000", "20250101240000", "20250101235960",
    "20250101236000", "20251301000000", "20250001000000", "20250100000000", "00000101000000",
    "99991231235959", "2025010100000", "202501010000000", "2025O101000000", " 2025010100000",
    "2025010100000\n", "２０２５0101000000", 20250101000000, 1.5, ["20250101000000"],
])
def test_parse_timestamp_matches_parse_ts(value):
    def outcome(fn):
        try:
            return ("ok", fn(value))
        except BadTimestamp:
            return ("bad", None)
    assert outcome(parse_timestamp) == outcome(parse_ts)
    assert valid_timestamp(value) is (outcome(parse_ts)[0] == "ok" and value not in (None, ""))
