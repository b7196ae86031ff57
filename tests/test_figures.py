"""Golden tests for Biểu 06 and the indicator catalogue (INDICATORS.md §2–§4).

Every expected number below was computed by hand from the fixture; the comment next to each
dossier says where it must land.  Window: Q1 2025 (nd09) = S 2024-12-15 00:00:00 ..
E 2025-03-14 23:59:59.
"""
from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from parreport.figures import (
    BIEU06_COLUMNS,
    Classification,
    bieu06_members,
    check_identities,
    classify,
    compute_bieu06,
    compute_indicators,
    compute_quarter,
    dossiers_from_json,
    indicator_members,
    meets_target,
    percent,
    portal_bieu06_problems,
    ratings_from_json,
    reconcile_bieu06,
    scopes_of,
)
from parreport.periods import window_for
from parreport.targets import DEFAULT_TARGETS, targets_for_year

W = window_for(2025, 1)
AGENCY = "SO"


def test_window_is_the_one_the_fixture_assumes():
    assert W.start_ts == "20241215000000"
    assert W.end_ts == "20250314235959"


# ----------------------------------------------------------------------------------------------
# Fixture
# ----------------------------------------------------------------------------------------------

def unit(code, parent):
    return {"MaDonVi": code, "TenDonVi": f"Đơn vị {code}", "MaDonViCha": parent, "CapDonVi": "PHONG"}


UNITS = [
    unit("SO", None),
    unit("P2", "SO"),  # listed before P1 on purpose: scope order is by MaDonVi
    unit("P1", "SO"),
    unit("P1A", "P1"),  # grand-child: belongs to P1's scope
    unit("XO", "OTHER"),  # not below the agency
]


def proc(code, lv, unit_code, *, hieu_luc="1", dac_thu="0", mot_cua="0", bon_tai_cho="0", du_dk="0",
         muc_do="2", co_phi="0", tttt="0"):
    return {"MaTTHC": code, "TenTTHC": f"Thủ tục {code}", "MaLinhVuc": lv, "TenLinhVuc": LV_NAMES[lv],
            "MucDo": muc_do, "MotCua": mot_cua, "DacThu": dac_thu, "DuDieuKienTrucTuyen": du_dk,
            "BonTaiCho": bon_tai_cho, "CoPhiLePhi": co_phi, "ThanhToanTrucTuyen": tttt,
            "ThoiHanGiaiQuyet": "5", "MaDonViThucHien": unit_code, "HieuLuc": hieu_luc,
            "NgayCapNhat": "20240101000000"}


LV_NAMES = {"A01": "Hộ tịch", "B02": "Đất đai", "C03": "Xây dựng", "D04": "Giáo dục", "E05": "Y tế"}

PROCEDURES = [
    proc("1.001", "A01", "P1", mot_cua="1", du_dk="1", muc_do="4", co_phi="1", tttt="1"),
    proc("1.003", "A01", "P1A", bon_tai_cho="1", du_dk="1", muc_do="3", co_phi="1", tttt="0"),
    proc("1.002", "B02", "P2", dac_thu="1", du_dk="1", muc_do="2"),
    # Not in force: out of every procedure indicator (its dossiers still count).
    proc("1.004", "C03", "P2", hieu_luc="0", mot_cua="1", bon_tai_cho="1", du_dk="1", muc_do="4",
         co_phi="1", tttt="1"),
    proc("1.005", "D04", "SO", mot_cua="1", co_phi="1", tttt="1"),
    proc("1.006", "E05", "XO", mot_cua="1", du_dk="1", muc_do="4"),  # outside the agency
]


def hs(ma, status, t, *, k=None, h=None, kenh="1", tthc="1.001", dv="P1", **extra):
    rec = {"MaHoSo": ma, "MaTTHC": tthc, "DonViXuLy": dv, "TrangThaiHoSo": status,
           "KenhThucHien": kenh, "NgayTiepNhan": t, "NgayHenTra": h, "NgayKetThucXuLy": k,
           "NgayCapNhat": "20250315080000"}
    rec.update(extra)
    return rec


FEE = lambda *amounts: [{"MaPhiLePhi": "LP", "TenPhiLePhi": "Lệ phí", "Gia": a} for a in amounts]  # noqa: E731

DOSSIERS = [
    # A01 ------------------------------------------------------------------------------------
    # T = S 00:00:00 -> new, in person; no due date -> in progress, TrongHan.
    hs("D01", "4", "20241215000000", kenh="1", DanhSachLePhi=FEE(50000), DuocThanhToanTrucTuyen="1",
       DongBoDVCQG="1", ThongTinEForm={"SoTruong": 10, "SoTruongTuDong": 10}),
    # T = S - 1 s -> carried over; H on date(E) -> overdue (QuaHan) even though later that day.
    hs("D02", "4", "20241214235959", h="20250314120000", kenh="2",
       ThongTinEForm={"SoTruong": 5, "SoTruongTuDong": 5}),
    # T = E 23:59:59 -> new online; own MaLinhVuc "ZZZ" is ignored (the catalogue wins).
    hs("D03", "2", "20250314235959", h="20250320000000", kenh="2", MaLinhVuc="ZZZ", TenLinhVuc="Sai",
       DanhSachLePhi=FEE(0), DuocThanhToanTrucTuyen="2", DongBoDVCQG="1",
       ThongTinEForm={"SoTruong": 10, "SoTruongTuDong": 3}),
    # T = E + 1 s -> not counted anywhere.
    hs("D04", "2", "20250315000000", kenh="2", DongBoDVCQG="1"),
    # K = E, date(K) = date(H) but K later in the day than H -> resolved DungHan; electronic result.
    hs("D05", "9", "20250110080000", k="20250314235959", h="20250314000000", kenh="2",
       DanhSachLePhi=FEE(20000, 10000.5), DuocThanhToanTrucTuyen="2", DongBoDVCQG="1",
       ThongTinEForm={"SoTruong": 6, "SoTruongTuDong": 0},
       DanhSachGiayToKetQua=[{"TenGiayTo": "Giấy khai sinh", "DuongDanTep": "https://kq/1.pdf"}]),
    # K = E + 1 s with status 9 -> still in progress at the cut-off, TrongHan; KenhThucHien "".
    hs("D06", "9", "20250110080000", k="20250315000000", h="20250320000000", kenh="",
       DanhSachGiayToKetQua=[{"DuongDanTep": "https://kq/6.pdf"}]),
    # K = S - 1 s: finished before the window -> not carried over, counted nowhere.
    hs("D07", "10", "20241101080000", k="20241214235959", h="20241110000000"),
    # Carried over, K > E -> in progress, overdue; apology letter sent.
    hs("D08", "10", "20241101080000", k="20250320100000", h="20241201000000",
       ThuXinLoi={"SoThu": "TXL-1", "NgayGui": "20241205000000"}),
    # Withdrawn (7), late -> DaGiaiQuyet.QuaHan and HS_XIN_LOI; empty SoThu = no letter; kenh null.
    hs("D09", "7", "20250105090000", k="20250210090000", h="20250201000000", kenh=None,
       DanhSachLePhi=FEE(30000), DuocThanhToanTrucTuyen="0", ThuXinLoi={"SoThu": ""}),
    # Stopped (8), early; processed by the agency itself; kenh "3" (post) = in person column.
    hs("D10", "8", "20250105090000", k="20250110090000", h="20250120000000", kenh="3", dv="SO",
       DanhSachLePhi=FEE(1000), DuocThanhToanTrucTuyen="", DongBoDVCQG="1"),
    # Never received: status 1 and 3 with T set -> counted nowhere.
    hs("D11", "1", "20250105090000", DongBoDVCQG="1"),
    hs("D12", "3", "20250105090000", k="20250106090000", DongBoDVCQG="1"),
    # Carried over, no due date -> resolved DungHan; status 10 without electronic result.
    hs("D13", "10", "20241210080000", k="20250115080000", h=None,
       DanhSachGiayToKetQua=[{"DuongDanTep": ""}, {"DuongDanTep": None}]),
    # Grand-child unit P1A; late; letter sent; electronic result; e-form count given as 4.0.
    hs("D14", "9", "20250201080000", k="20250301080000", h="20250228170000", kenh="2", tthc="1.003",
       dv="P1A", DanhSachLePhi=FEE(7000), DuocThanhToanTrucTuyen="1",
       ThongTinEForm={"SoTruong": 4.0, "SoTruongTuDong": 1}, ThuXinLoi={"SoThu": "TXL-2"},
       DanhSachGiayToKetQua=[{"TenGiayTo": "x"}, {"DuongDanTep": "s3://kq/14"}]),
    # B02 ------------------------------------------------------------------------------------
    # H the day after E -> TrongHan.
    hs("D15", "5", "20250201080000", h="20250315000000", tthc="1.002", dv="P2", DongBoDVCQG="1"),
    # K < T on a dossier in status 4 is ignored -> in progress, TrongHan (no due date).
    hs("D17", "4", "20250201080000", k="20250101000000", tthc="1.002", dv="P2"),
    # Stopped (8), late, letter sent.
    hs("D19", "8", "20250102080000", k="20250301080000", h="20250201000000", tthc="1.002", dv="P2",
       DongBoDVCQG="1", ThuXinLoi={"SoThu": "TXL-3"}),
    # C03 (procedure no longer in force) ------------------------------------------------------
    # H = E exactly -> overdue; online, paid, no e-form.
    hs("D16", "6", "20250301080000", h="20250314235959", kenh="2", tthc="1.004", dv="P2",
       DanhSachLePhi=FEE(5000), DuocThanhToanTrucTuyen="1", ThongTinEForm=None),
    # D04 -------------------------------------------------------------------------------------
    # Finished before the window: the lĩnh vực row would be all zeros -> left out.
    hs("D18", "10", "20241001080000", k="20241020080000", tthc="1.005", dv="P2"),
]


def row(lv, name, tn, dgq, dang):
    return {"MaLinhVuc": lv, "TenLinhVuc": name,
            "TiepNhan": dict(zip(("Tong", "TrucTuyen", "TrucTiepBuuChinh", "KyTruocChuyenSang"), tn)),
            "DaGiaiQuyet": dict(zip(("Tong", "TruocHan", "DungHan", "QuaHan"), dgq)),
            "DangGiaiQuyet": dict(zip(("Tong", "TrongHan", "QuaHan"), dang))}


EXPECTED_BIEU06 = [
    # A01: carried D02 D08 D13; online D03 D05 D14; in person D01 D06 D09 D10.
    #      resolved: early D10; on time D05 D13; late D09 D14.  open: within D01 D03 D06; overdue D02 D08.
    row("A01", "Hộ tịch", (10, 3, 4, 3), (5, 1, 2, 2), (5, 3, 2)),
    # B02: D15 D17 D19 in person; D19 late; D15 D17 within.
    row("B02", "Đất đai", (3, 0, 3, 0), (1, 0, 0, 1), (2, 2, 0)),
    # C03: D16 online, overdue.
    row("C03", "Xây dựng", (1, 1, 0, 0), (0, 0, 0, 0), (1, 0, 1)),
    row("TONG", "Tổng cộng", (14, 4, 7, 3), (6, 1, 2, 3), (8, 5, 3)),
]


# ----------------------------------------------------------------------------------------------
# classify: every boundary of §2
# ----------------------------------------------------------------------------------------------

def by_id(ma):
    return next(d for d in DOSSIERS if d["MaHoSo"] == ma)


@pytest.mark.parametrize("ma, counted, carried, online, offline, resolved, in_progress", [
    ("D01", True, False, False, True, None, "within"),      # T = S -> new
    ("D02", True, True, False, False, None, "overdue"),     # T = S - 1 s -> carried; H on date(E)
    ("D03", True, False, True, False, None, "within"),      # T = E -> new
    ("D04", False, False, False, False, None, None),        # T = E + 1 s -> nothing
    ("D05", True, False, True, False, "on_time", None),     # K = E; date(K) = date(H), K later in day
    ("D06", True, False, False, True, None, "within"),      # K = E + 1 s, status 9 -> still open
    ("D07", False, False, False, False, None, None),        # K = S - 1 s -> finished before
    ("D08", True, True, False, False, None, "overdue"),     # carried, K > E
    ("D09", True, False, False, True, "late", None),        # withdrawn, late
    ("D10", True, False, False, True, "early", None),       # stopped, early; kenh "3"
    ("D11", False, False, False, False, None, None),        # status 1 with T
    ("D12", False, False, False, False, None, None),        # status 3 with T and K
    ("D13", True, True, False, False, "on_time", None),     # no due date -> DungHan
    ("D15", True, False, False, True, None, "within"),      # H = E + 1 s (next day)
    ("D16", True, False, True, False, None, "overdue"),     # H = E
    ("D17", True, False, False, True, None, "within"),      # K < T on status 4 ignored
])
def test_classify_boundaries(ma, counted, carried, online, offline, resolved, in_progress):
    c = classify(by_id(ma), W)
    assert isinstance(c, Classification)
    assert (c.counted, c.carried_over, c.online_new, c.offline_new, c.resolved, c.in_progress) == \
        (counted, carried, online, offline, resolved, in_progress)


def test_classify_received_flags():
    assert classify(by_id("D11"), W).received is False
    assert classify(by_id("D12"), W).received is False
    assert classify(by_id("D04"), W).received is True  # received, but after E
    assert classify(by_id("D06"), W).finished is True  # finished, but after E


def test_kenh_null_empty_and_3_are_in_person():
    for kenh in (None, "", "1", "3"):
        c = classify(hs("X", "4", "20250101000000", kenh=kenh), W)
        assert c.offline_new and not c.online_new
    assert classify(hs("X", "4", "20250101000000", kenh="2"), W).online_new


def test_kenh_absent_is_in_person():
    d = hs("X", "4", "20250101000000")
    del d["KenhThucHien"]
    assert classify(d, W).offline_new


def test_resolved_on_the_due_date_boundaries():
    # date(K) < date(H): early even when H is at 00:00 and K late the day before.
    assert classify(hs("X", "9", "20250101000000", k="20250109235959", h="20250110000000"), W).resolved == "early"
    # date(K) > date(H): late even one second after midnight.
    assert classify(hs("X", "9", "20250101000000", k="20250111000000", h="20250110235959"), W).resolved == "late"
    # Carried over and resolved at K = S exactly.
    c = classify(hs("X", "10", "20241201000000", k="20241215000000", h="20241215000000"), W)
    assert c.carried_over and c.resolved == "on_time"


def test_in_progress_due_the_day_before_E_is_overdue():
    assert classify(hs("X", "4", "20250101000000", h="20250313000000"), W).in_progress == "overdue"


def test_calendar_window_also_works():
    wc = window_for(2025, 1, "calendar")
    assert classify(hs("X", "4", "20250101000000"), wc).online_new is False
    assert classify(hs("X", "4", "20241231235959"), wc).carried_over


def test_classify_refuses_unreadable_timestamps():
    with pytest.raises(ValueError):
        classify(hs("X", "4", "20250230120000"), W)


# ----------------------------------------------------------------------------------------------
# Biểu 06
# ----------------------------------------------------------------------------------------------

def test_bieu06_golden():
    assert compute_bieu06(DOSSIERS, PROCEDURES, W) == EXPECTED_BIEU06


def test_bieu06_identities_hold():
    assert check_identities(EXPECTED_BIEU06) == []
    assert check_identities(compute_bieu06(DOSSIERS, PROCEDURES, W)) == []


def test_bieu06_order_does_not_depend_on_input_order():
    assert compute_bieu06(list(reversed(DOSSIERS)), list(reversed(PROCEDURES)), W) == EXPECTED_BIEU06


def test_bieu06_empty_has_only_total_row():
    rows = compute_bieu06([], PROCEDURES, W)
    assert rows == [row("TONG", "Tổng cộng", (0, 0, 0, 0), (0, 0, 0, 0), (0, 0, 0))]
    assert check_identities(rows) == []


def test_bieu06_json_serialisable_and_key_order():
    rows = compute_bieu06(DOSSIERS, PROCEDURES, W)
    json.dumps(rows, ensure_ascii=False)
    assert list(rows[0]) == ["MaLinhVuc", "TenLinhVuc", "TiepNhan", "DaGiaiQuyet", "DangGiaiQuyet"]


def test_bieu06_name_is_nfc():
    import unicodedata
    nfd = unicodedata.normalize("NFD", "Hộ tịch")
    procs = [dict(PROCEDURES[0], TenLinhVuc=nfd)]
    rows = compute_bieu06([by_id("D01")], procs, W)
    assert rows[0]["TenLinhVuc"] == unicodedata.normalize("NFC", "Hộ tịch")


def test_bieu06_members_trace_each_cell():
    m = bieu06_members(DOSSIERS, PROCEDURES, W)
    assert m["A01"]["TiepNhan.KyTruocChuyenSang"] == ["D02", "D08", "D13"]
    assert m["A01"]["DaGiaiQuyet.QuaHan"] == ["D09", "D14"]
    assert m["A01"]["DangGiaiQuyet.QuaHan"] == ["D02", "D08"]
    assert m["TONG"]["DangGiaiQuyet.QuaHan"] == ["D02", "D08", "D16"]
    assert "D04" not in sum(m["TONG"].values(), [])
    # every cell count equals the length of its member list
    rows = {r["MaLinhVuc"]: r for r in EXPECTED_BIEU06}
    for lv, cells in m.items():
        for col in BIEU06_COLUMNS:
            g, c = col.split(".")
            assert rows[lv][g][c] == len(cells.get(col, []))


def test_unknown_procedure_is_an_error_not_a_silent_miscount():
    with pytest.raises(ValueError):
        compute_bieu06([hs("X", "4", "20250101000000", tthc="9.999")], PROCEDURES, W)


# ----------------------------------------------------------------------------------------------
# check_identities on broken rows
# ----------------------------------------------------------------------------------------------

def test_identities_detect_each_break():
    bad = json.loads(json.dumps(EXPECTED_BIEU06))
    bad[0]["TiepNhan"]["TrucTuyen"] += 1  # breaks identity 1 and TONG sum
    probs = check_identities(bad)
    assert any("A01" in p and "TiepNhan.Tong" in p for p in probs)
    assert any("TONG" in p and "TiepNhan.TrucTuyen" in p for p in probs)

    bad = json.loads(json.dumps(EXPECTED_BIEU06))
    bad[1]["DaGiaiQuyet"]["Tong"] = 2  # breaks identities 2 and 4
    probs = check_identities(bad)
    assert sum("B02" in p for p in probs) == 2

    bad = json.loads(json.dumps(EXPECTED_BIEU06))
    bad[2]["DangGiaiQuyet"]["TrongHan"] = 1  # breaks identity 3
    assert any("DangGiaiQuyet.Tong" in p for p in check_identities(bad))

    assert any("TONG" in p for p in check_identities(EXPECTED_BIEU06[:-1]))
    bad = json.loads(json.dumps(EXPECTED_BIEU06))
    bad[0]["TiepNhan"]["Tong"] = "10"
    assert any("số nguyên" in p for p in check_identities(bad))


# ----------------------------------------------------------------------------------------------
# Indicators
# ----------------------------------------------------------------------------------------------

# scope -> code -> (TuSo, MauSo, GiaTri, DatMucTieu); targets of 2025 (HL_HAI_LONG 90).
EXPECTED_INDICATORS = {
    "SO": {
        "TTHC_MOT_CUA": (2, 3, 66.67, False),            # DacThu 0: 1.001 1.003 1.005; MotCua: 1.001 1.005
        "TTHC_BON_TAI_CHO": (1, 4, 25.0, True),          # 1.001 1.003 1.002 1.005; 1.003
        "TTHC_TRUC_TUYEN": (2, 3, 66.67, False),         # eligible 1.001 1.003 1.002; level 3/4: 2
        "TTHC_THANH_TOAN_TRUC_TUYEN": (2, 3, 66.67, False),  # fee: 1.001 1.003 1.005; pay online: 1.001 1.005
        "HS_TRUC_TUYEN": (4, 8, 50.0, True),             # D01 D03 D05 D06 D09 D10 D14 D16; online D03 D05 D14 D16
        "HS_THANH_TOAN_TRUC_TUYEN": (3, 5, 60.0, True),  # D01 D05 D09 D10 D16 (D03 fee 0); paid D01 D05 D16
        "HS_DUNG_HAN": (3, 6, 50.0, False),              # D05 D09 D10 D13 D14 D19; early/on time D05 D10 D13
        "HS_XIN_LOI": (3, 6, 50.0, False),               # D09 D14 D19 + D02 D08 D16; letters D08 D14 D19
        "HS_KET_QUA_DIEN_TU": (2, 3, 66.67, True),       # status 9/10 resolved: D05 D13 D14; e-result D05 D14
        "HS_EFORM_TU_DONG": (4, 20, 20.0, True),         # D03 (3/10) D05 (0/6) D14 (1/4)
        "HS_DONG_BO_DVCQG": (6, 11, 54.55, False),       # 11 new; synced D01 D03 D05 D10 D15 D19
        "HL_HAI_LONG": (4, 5, 80.0, False),              # R1 R2 R3 R6 R7; satisfied R1 R3 R6 R7
    },
    "P1": {
        "TTHC_MOT_CUA": (1, 2, 50.0, False),
        "TTHC_BON_TAI_CHO": (1, 2, 50.0, True),
        "TTHC_TRUC_TUYEN": (2, 2, 100.0, True),
        "TTHC_THANH_TOAN_TRUC_TUYEN": (1, 2, 50.0, False),
        "HS_TRUC_TUYEN": (3, 6, 50.0, True),             # D01 D03 D05 D06 D09 D14
        "HS_THANH_TOAN_TRUC_TUYEN": (2, 3, 66.67, True),  # D01 D05 D09
        "HS_DUNG_HAN": (2, 4, 50.0, False),              # D05 D09 D13 D14
        "HS_XIN_LOI": (2, 4, 50.0, False),               # D02 D08 D09 D14
        "HS_KET_QUA_DIEN_TU": (2, 3, 66.67, True),
        "HS_EFORM_TU_DONG": (4, 20, 20.0, True),
        "HS_DONG_BO_DVCQG": (3, 6, 50.0, False),
        "HL_HAI_LONG": (2, 3, 66.67, False),             # R1 R2 R3 (R3: grand-child unit, old dossier)
    },
    "P2": {
        "TTHC_MOT_CUA": (0, 0, None, None),              # only 1.002 (DacThu 1); 1.004 not in force
        "TTHC_BON_TAI_CHO": (0, 1, 0.0, False),
        "TTHC_TRUC_TUYEN": (0, 1, 0.0, False),
        "TTHC_THANH_TOAN_TRUC_TUYEN": (0, 0, None, None),
        "HS_TRUC_TUYEN": (1, 1, 100.0, True),            # D16 (procedure 1.004, level 4)
        "HS_THANH_TOAN_TRUC_TUYEN": (1, 1, 100.0, True),  # D16
        "HS_DUNG_HAN": (0, 1, 0.0, False),               # D19
        "HS_XIN_LOI": (1, 2, 50.0, False),               # D16 D19
        "HS_KET_QUA_DIEN_TU": (0, 0, None, None),
        "HS_EFORM_TU_DONG": (0, 0, None, None),          # D16 has ThongTinEForm null
        "HS_DONG_BO_DVCQG": (2, 4, 50.0, False),         # D15 D16 D17 D19; synced D15 D19
        "HL_HAI_LONG": (1, 1, 100.0, True),              # R6: own DonViXuLy P2 rates a P1 dossier
    },
}


def rating(ma, when, dv, level, ho_so="D05"):
    return {"MaDanhGia": ma, "MaHoSo": ho_so, "DonViXuLy": dv, "NgayDanhGia": when, "MucDoHaiLong": level}


RATINGS = [
    rating("R1", "20250110100000", "P1", "3"),
    rating("R2", "20241215000000", "P1", "1"),                     # NgayDanhGia = S
    rating("R3", "20250314235959", "P1A", "2", ho_so="OLD-2023"),   # = E; dossier older than the window
    rating("R4", "20250315000000", "P1", "3"),                     # E + 1 s: out
    rating("R5", "20241214235959", "P1", "3"),                     # S - 1 s: out
    rating("R6", "20250201000000", "P2", "2", ho_so="D05"),         # counts for P2, not P1
    rating("R7", "20250201000000", "SO", "3"),                     # agency only
    rating("R8", "20250201000000", "XO", "3"),                     # outside the agency: nowhere
]


def compute():
    return compute_indicators(DOSSIERS, RATINGS, PROCEDURES, UNITS, AGENCY, W, targets_for_year(W.year))



def test_one_pass_from_json_text_gives_the_golden_figures():
    """What compute_figures runs: each record's JSON text decoded into the fields the figures read,
    Biểu 06 and the indicators counted in one pass; the same figures as the golden tests."""
    texts = [json.dumps(d, ensure_ascii=False) for d in DOSSIERS]
    bieu06, indicators = compute_quarter(dossiers_from_json(texts), ratings_from_json(json.dumps(r) for r in RATINGS),
                                         PROCEDURES, UNITS, AGENCY, W, targets_for_year(W.year))
    assert bieu06 == EXPECTED_BIEU06
    assert indicators == compute()

@pytest.mark.parametrize("helpers", [0, 1])
def test_dossiers_counted_in_parts_on_helpers_give_the_golden_figures(monkeypatch, helpers):
    """What compute_figures runs on a large window: the dossiers' texts counted two at a time,
    in this process and in a helper process, the parts' counts added up."""
    from parreport.figures import quarter
    from parreport.figures.quarter import compute_quarter_from_texts
    from parreport.quality import chunks

    monkeypatch.setattr(quarter, "PART", 2)
    pools = []
    real_pool = chunks._pool
    monkeypatch.setattr(chunks, "_pool", lambda n: pools.append(real_pool(n)) or pools[-1])
    sent = []
    real_submit = chunks._Helpers.submit
    monkeypatch.setattr(chunks._Helpers, "submit", lambda self, *a: sent.append(a) or real_submit(self, *a))
    texts = [json.dumps(d, ensure_ascii=False) for d in DOSSIERS]
    assert len(texts) >= 2 * chunks.HELPERS_FROM

    def from_the_store():  # read as slowly as a store: the helper, once started, takes parts meanwhile
        for text in texts:
            time.sleep(0.08)
            yield text

    bieu06, indicators = compute_quarter_from_texts(from_the_store(), ratings_from_json(json.dumps(r) for r in RATINGS),
                                                    PROCEDURES, UNITS, AGENCY, W, targets_for_year(W.year),
                                                    helpers=helpers)
    assert bieu06 == EXPECTED_BIEU06
    assert indicators == compute()
    assert len(pools) == helpers and (len(sent) > 0) == bool(helpers)  # a helper did count some parts


def test_a_dossier_the_figures_cannot_read_stops_them_though_a_helper_counted_it(monkeypatch, caplog):
    from parreport.figures import quarter
    from parreport.figures.quarter import compute_quarter_from_texts
    from parreport.quality import chunks

    monkeypatch.setattr(quarter, "PART", 2)
    sent = []
    real_submit = chunks._Helpers.submit
    monkeypatch.setattr(chunks._Helpers, "submit", lambda self, *a: sent.append(a) or real_submit(self, *a))
    bad = dict(DOSSIERS[0], MaHoSo="BAD", MaTTHC="KHONG-CO-TRONG-DANH-MUC")
    # the first parts read are good (this process counts some of them as the helper starts), then
    # every part has the bad dossier: parts read while the helper is free go to the helper
    texts = [json.dumps(d, ensure_ascii=False) for d in DOSSIERS[:10] + [bad] * 8]

    def from_the_store():  # the bad parts slower to read than a helper's start under load
        for text in texts:
            time.sleep(0.05 if '"BAD"' not in text else 0.3)
            yield text

    with pytest.raises(ValueError, match="KHONG-CO-TRONG-DANH-MUC"), \
            caplog.at_level("WARNING", logger="parreport.quality.chunks"):
        compute_quarter_from_texts(from_the_store(), [], PROCEDURES, UNITS, AGENCY, W, targets_for_year(W.year),
                                   helpers=1)
    assert any('"BAD"' in text for call in sent for text in call[-1])  # a helper met it too
    assert "tiến trình phụ" not in caplog.text  # the data's error, not a helper's


def test_scope_order():
    assert scopes_of(UNITS, AGENCY) == ["SO", "P1", "P2"]


def test_indicators_golden():
    items = compute()
    codes = list(DEFAULT_TARGETS)
    assert [(i["PhamVi"], i["MaChiTieu"]) for i in items] == [(s, c) for s in ("SO", "P1", "P2") for c in codes]
    got = {(i["PhamVi"], i["MaChiTieu"]): (i["TuSo"], i["MauSo"], i["GiaTri"], i["DatMucTieu"]) for i in items}
    for scope, per in EXPECTED_INDICATORS.items():
        for code, expected in per.items():
            assert got[(scope, code)] == expected, (scope, code)


def test_indicator_item_shape():
    items = compute()
    first = items[0]
    assert set(first) == {"MaChiTieu", "TenChiTieu", "PhamVi", "TuSo", "MauSo", "GiaTri", "DonViTinh",
                          "MucTieu", "SoSanh", "DatMucTieu"}
    assert first["DonViTinh"] == "%" and first["SoSanh"] == ">="
    targets = {i["MaChiTieu"]: i["MucTieu"] for i in items if i["PhamVi"] == "SO"}
    assert targets == {"TTHC_MOT_CUA": 100, "TTHC_BON_TAI_CHO": 20, "TTHC_TRUC_TUYEN": 100,
                       "TTHC_THANH_TOAN_TRUC_TUYEN": 80, "HS_TRUC_TUYEN": 50,
                       "HS_THANH_TOAN_TRUC_TUYEN": 30, "HS_DUNG_HAN": 100, "HS_XIN_LOI": 100,
                       "HS_KET_QUA_DIEN_TU": 50, "HS_EFORM_TU_DONG": 20, "HS_DONG_BO_DVCQG": 100,
                       "HL_HAI_LONG": 90}
    for i in items:
        assert i["TenChiTieu"]
        assert isinstance(i["TuSo"], int) and isinstance(i["MauSo"], int)
        assert i["GiaTri"] is None or isinstance(i["GiaTri"], float)
    json.dumps(items, ensure_ascii=False)


def test_agency_dung_han_matches_bieu06_total():
    total = EXPECTED_BIEU06[-1]["DaGiaiQuyet"]
    item = next(i for i in compute() if i["PhamVi"] == "SO" and i["MaChiTieu"] == "HS_DUNG_HAN")
    assert item["MauSo"] == total["Tong"]
    assert item["TuSo"] == total["TruocHan"] + total["DungHan"]
    xl = next(i for i in compute() if i["PhamVi"] == "SO" and i["MaChiTieu"] == "HS_XIN_LOI")
    assert xl["MauSo"] == total["QuaHan"] + EXPECTED_BIEU06[-1]["DangGiaiQuyet"]["QuaHan"]


def test_no_target_gives_null_datmuctieu():
    targets = targets_for_year(2025, {"default": {"HS_DUNG_HAN": None}})
    items = compute_indicators(DOSSIERS, RATINGS, PROCEDURES, UNITS, AGENCY, W, targets)
    item = next(i for i in items if i["PhamVi"] == "SO" and i["MaChiTieu"] == "HS_DUNG_HAN")
    assert item["MucTieu"] is None and item["DatMucTieu"] is None and item["GiaTri"] == 50.0


def test_hl_target_of_the_quarters_year():
    # Q1 2026 opens on 15 Dec 2025 but takes the 2026 target (91).
    w = window_for(2026, 1)
    items = compute_indicators([], [rating("R", "20251215000000", "SO", "2")], PROCEDURES, UNITS, AGENCY, w,
                               targets_for_year(w.year))
    hl = next(i for i in items if i["PhamVi"] == "SO" and i["MaChiTieu"] == "HL_HAI_LONG")
    assert hl["MucTieu"] == 91 and hl["TuSo"] == 1 and hl["MauSo"] == 1 and hl["DatMucTieu"] is True


def test_indicator_members_trace():
    m = indicator_members(DOSSIERS, RATINGS, PROCEDURES, UNITS, AGENCY, W)
    assert m["SO"]["HS_XIN_LOI"] == {"TuSo": ["D08", "D14", "D19"], "MauSo": ["D02", "D08", "D09", "D14", "D19", "D16"]}
    assert m["P2"]["HL_HAI_LONG"] == {"TuSo": ["R6"], "MauSo": ["R6"]}
    assert m["SO"]["TTHC_MOT_CUA"]["MauSo"] == ["1.001", "1.003", "1.005"]


# ----------------------------------------------------------------------------------------------
# Rounding and target comparison (§4)
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("num, den, expected", [
    (1, 8, "12.50"),
    (2, 3, "66.67"),
    (1, 6, "16.67"),
    (7, 16, "43.75"),
    (1, 800, "0.13"),        # 0.125 exactly: float round() would give 0.12
    (201, 20000, "1.01"),    # 1.005 exactly: float round(1.005, 2) gives 1.0
    (2001, 20000, "10.01"),  # 10.005
    (8999, 10000, "89.99"),
    (17999, 20000, "90.00"),  # 89.995 -> 90.00 (half-up)
    (1, 3, "33.33"),
    (0, 5, "0.00"),
    (5, 5, "100.00"),
])
def test_percent_half_up_exact(num, den, expected):
    assert percent(num, den) == Decimal(expected)
    assert str(percent(num, den)) == expected


def test_float_would_get_these_wrong():
    # The reason for exact arithmetic: binary floats round these two the wrong way.
    assert round(100 * 201 / 20000, 2) == 1.0  # not 1.01
    assert round(100 * 1 / 800, 2) == 0.12  # not 0.13 (round-half-even on a float)
    assert float(percent(201, 20000)) == 1.01 and float(percent(1, 800)) == 0.13
    assert percent(0, 0) is None


@pytest.mark.parametrize("num, den, target, expected", [
    (8999, 10000, 90, False),   # 89.99 %
    (17999, 20000, 90, False),  # GiaTri rounds to 90.00, the fraction is below 90 %
    (9, 10, 90, True),
    (9, 10, Decimal("90.0"), True),
    (1, 3, Decimal("33.33"), True),
    (1, 3, Decimal("33.34"), False),
    (0, 0, 90, None),
    (5, 10, None, None),
    (3, 10, 30.0, True),  # float target read through its decimal repr
])
def test_meets_target_exact(num, den, target, expected):
    assert meets_target(num, den, target) is expected


def _hl_item(num, den, target=90):
    ratings = [rating(f"R{i}", "20250101000000", "SO", "2" if i < num else "1") for i in range(den)]
    items = compute_indicators([], ratings, PROCEDURES, UNITS, AGENCY, W, {"HL_HAI_LONG": target})
    return next(i for i in items if i["PhamVi"] == "SO" and i["MaChiTieu"] == "HL_HAI_LONG")


@pytest.mark.parametrize("num, den, giatri, dat", [
    (1, 8, 12.5, False),
    (201, 20000, 1.01, False),
    (1, 800, 0.13, False),
    (8999, 10000, 89.99, False),
    (17999, 20000, 90.0, False),  # GiaTri shows 90.00 but the target is not met
    (18000, 20000, 90.0, True),
])
def test_indicator_rounding_end_to_end(num, den, giatri, dat):
    item = _hl_item(num, den)
    assert (item["TuSo"], item["MauSo"], item["GiaTri"], item["DatMucTieu"]) == (num, den, giatri, dat)
    assert json.dumps(item["GiaTri"]) == json.dumps(giatri)


def test_zero_denominator_is_null_not_zero_or_hundred():
    item = _hl_item(0, 0)
    assert item["MauSo"] == 0 and item["GiaTri"] is None and item["DatMucTieu"] is None
    # other targets absent from the dict -> MucTieu null
    items = compute_indicators([], [], PROCEDURES, UNITS, AGENCY, W, {})
    assert all(i["MucTieu"] is None and i["DatMucTieu"] is None for i in items)


# ----------------------------------------------------------------------------------------------
# Reconciliation with the portal (§5 warnings)
# ----------------------------------------------------------------------------------------------

def test_reconcile_identical_is_empty():
    assert reconcile_bieu06(EXPECTED_BIEU06, EXPECTED_BIEU06[:-1]) == []


def test_reconcile_differences():
    portal = json.loads(json.dumps(EXPECTED_BIEU06))
    portal[0]["DaGiaiQuyet"]["QuaHan"] = 3           # A01 differs in one cell
    del portal[1]                                     # B02 missing on the portal: compare with zeros
    portal[-1]["TiepNhan"]["Tong"] = 999              # portal TONG ignored
    portal.insert(0, row("0ZZ", "Khác", (1, 0, 1, 0), (0, 0, 0, 0), (1, 1, 0)))  # only on the portal
    got = reconcile_bieu06(EXPECTED_BIEU06, portal)
    assert got == [
        {"MaLinhVuc": "0ZZ", "Cot": "TiepNhan.Tong", "CongDVC": 1, "TinhLai": 0},
        {"MaLinhVuc": "0ZZ", "Cot": "TiepNhan.TrucTiepBuuChinh", "CongDVC": 1, "TinhLai": 0},
        {"MaLinhVuc": "0ZZ", "Cot": "DangGiaiQuyet.Tong", "CongDVC": 1, "TinhLai": 0},
        {"MaLinhVuc": "0ZZ", "Cot": "DangGiaiQuyet.TrongHan", "CongDVC": 1, "TinhLai": 0},
        {"MaLinhVuc": "A01", "Cot": "DaGiaiQuyet.QuaHan", "CongDVC": 3, "TinhLai": 2},
        {"MaLinhVuc": "B02", "Cot": "TiepNhan.Tong", "CongDVC": 0, "TinhLai": 3},
        {"MaLinhVuc": "B02", "Cot": "TiepNhan.TrucTiepBuuChinh", "CongDVC": 0, "TinhLai": 3},
        {"MaLinhVuc": "B02", "Cot": "DaGiaiQuyet.Tong", "CongDVC": 0, "TinhLai": 1},
        {"MaLinhVuc": "B02", "Cot": "DaGiaiQuyet.QuaHan", "CongDVC": 0, "TinhLai": 1},
        {"MaLinhVuc": "B02", "Cot": "DangGiaiQuyet.Tong", "CongDVC": 0, "TinhLai": 2},
        {"MaLinhVuc": "B02", "Cot": "DangGiaiQuyet.TrongHan", "CongDVC": 0, "TinhLai": 2},
    ]


def test_reconcile_absent_and_non_integer_portal_cells():
    portal = json.loads(json.dumps(EXPECTED_BIEU06[:3]))
    del portal[0]["TiepNhan"]["TrucTuyen"]          # absent -> 0 -> differs from 3
    portal[0]["DaGiaiQuyet"]["QuaHan"] = "2"        # a string: not comparable, skipped
    portal[1]["DaGiaiQuyet"]["Tong"] = 1.0          # integral float: compared as 1
    portal[2]["TiepNhan"]["Tong"] = 1.5             # fractional: skipped
    got = reconcile_bieu06(EXPECTED_BIEU06, portal)
    assert got == [{"MaLinhVuc": "A01", "Cot": "TiepNhan.TrucTuyen", "CongDVC": 0, "TinhLai": 3}]
    problems = portal_bieu06_problems(portal)
    assert len(problems) == 2 and "DaGiaiQuyet.QuaHan" in problems[0] and "TiepNhan.Tong" in problems[1]


# ----------------------------------------------------------------------------------------------
# Targets (§4: one table per year, with defaults)
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("year, expected", [
    (2022, 90), (2025, 90), (2026, 91), (2027, 92), (2028, 93), (2029, 94), (2030, 95), (2035, 95),
])
def test_hl_hai_long_default_by_year(year, expected):
    assert targets_for_year(year)["HL_HAI_LONG"] == Decimal(expected)


def test_default_targets_table():
    t = targets_for_year(2025)
    assert list(t) == list(DEFAULT_TARGETS)
    assert all(isinstance(v, Decimal) for v in t.values())
    assert t["HS_TRUC_TUYEN"] == 50 and t["HS_EFORM_TU_DONG"] == 20 and t["TTHC_THANH_TOAN_TRUC_TUYEN"] == 80


def test_target_overrides_precedence():
    overrides = {"default": {"HS_TRUC_TUYEN": 55, "HS_DUNG_HAN": 95.5},
                 "2026": {"HS_TRUC_TUYEN": 60, "HL_HAI_LONG": None}}
    t26 = targets_for_year(2026, overrides)
    assert t26["HS_TRUC_TUYEN"] == Decimal(60)          # the year's table wins
    assert t26["HS_DUNG_HAN"] == Decimal("95.5")        # then the configured default
    assert t26["HL_HAI_LONG"] is None                   # null = no target set
    assert t26["HS_XIN_LOI"] == Decimal(100)            # then the built-in default
    t27 = targets_for_year(2027, overrides)
    assert t27["HS_TRUC_TUYEN"] == Decimal(55) and t27["HL_HAI_LONG"] == Decimal(92)
    assert targets_for_year(2026, {2026: {"HS_TRUC_TUYEN": "61.5"}})["HS_TRUC_TUYEN"] == Decimal("61.5")


@pytest.mark.parametrize("overrides", [
    {"default": {"KHONG_CO": 1}},
    {"2026": {"HS_TRUC_TUYEN": True}},
    {"2026": {"HS_TRUC_TUYEN": "nhiều"}},
    {"2026": {"HS_TRUC_TUYEN": -1}},
    {"2026": {"HS_TRUC_TUYEN": 101}},
    {"nam2026": {"HS_TRUC_TUYEN": 60}},
])
def test_bad_target_configuration_is_refused(overrides):
    with pytest.raises(ValueError):
        targets_for_year(2026, overrides)
