"""A report's content (Biểu 06 rows, indicators, data quality) made by hand, for the document
and receipt tests."""
from __future__ import annotations

from parreport.figures import INDICATOR_NAMES
from parreport.periods import window_for

AGENCY = "000.00.20.H57"
AGENCY_NAME = "Sở Lao động - Thương binh và Xã hội tỉnh Thừa Thiên Huế"
SUB = "000.01.20.H57"
UNITS = {SUB: "Văn phòng Sở"}
WINDOW = window_for(2025, 1)
PREV = window_for(2024, 4)
OLDER = window_for(2024, 3)


def row(code, name, tn, dg, dang):
    return {"MaLinhVuc": code, "TenLinhVuc": name,
            "TiepNhan": dict(zip(("Tong", "TrucTuyen", "TrucTiepBuuChinh", "KyTruocChuyenSang"), tn)),
            "DaGiaiQuyet": dict(zip(("Tong", "TruocHan", "DungHan", "QuaHan"), dg)),
            "DangGiaiQuyet": dict(zip(("Tong", "TrongHan", "QuaHan"), dang))}


def item(code, scope, num, den, target, value=None, met=None):
    if den and value is None:
        value = float(round(100 * num / den, 2))
    if den and target is not None and met is None:
        met = num * 100 >= target * den
    return {"MaChiTieu": code, "TenChiTieu": INDICATOR_NAMES[code], "PhamVi": scope, "TuSo": num, "MauSo": den,
            "GiaTri": value if den else None, "DonViTinh": "%", "MucTieu": target, "SoSanh": ">=",
            "DatMucTieu": met if den and target is not None else None}


def make_content(dung_han=(1180, 1200)) -> dict:
    rows = [row("G01", "Việc làm", (1200, 700, 400, 100), (1000, 600, 300, 100), (200, 150, 50)),
            row("G02", "Người có công", (345, 100, 200, 45), (300, 100, 150, 50), (45, 40, 5)),
            row("G03", "Bảo trợ xã hội", (7, 0, 7, 0), (7, 7, 0, 0), (0, 0, 0))]
    total = {"MaLinhVuc": "TONG", "TenLinhVuc": "Tổng cộng",
             **{g: {c: sum(r[g][c] for r in rows) for c in rows[0][g]}
                for g in ("TiepNhan", "DaGiaiQuyet", "DangGiaiQuyet")}}
    items = []
    for scope in (AGENCY, SUB):
        for code in INDICATOR_NAMES:
            num, den, target = {"HS_DUNG_HAN": (*dung_han, 100), "HS_TRUC_TUYEN": (800, 1500, 50),
                                "HL_HAI_LONG": (180, 200, 90), "HS_XIN_LOI": (0, 0, 100),
                                "HS_EFORM_TU_DONG": (55, 200, None),
                                "HS_DONG_BO_DVCQG": (99999, 100000, 100)}.get(code, (30, 40, 80))
            items.append(item(code, scope, num, den, target))
    quality = {"SoBanGhi": 1620, "SoBanGhiLoai": 12, "SoBanGhiDaSua": 3,
               "DoiSoatCongDVC": [{"MaLinhVuc": "G02", "Cot": "DaGiaiQuyet.QuaHan", "CongDVC": 52, "TinhLai": 50}],
               "KiemTra": [{"Ten": "Hồ sơ: Thiếu trường bắt buộc", "MucDo": "CHAN", "KetQua": "KHONG_DAT", "SoLoi": 7},
                           {"Ten": "Hồ sơ: Mã ngoài danh mục", "MucDo": "CHAN", "KetQua": "DAT", "SoLoi": 0},
                           {"Ten": "Đối soát Biểu 06 với số liệu của Cổng DVC", "MucDo": "CANH_BAO",
                            "KetQua": "KHONG_DAT", "SoLoi": 1}]}
    return {"Bieu06": rows + [total], "ChiTieu": items, "ChatLuongDuLieu": quality}


CONTENT = make_content()
HISTORY = [(PREV, make_content(dung_han=(1100, 1200))), (OLDER, make_content(dung_han=(1000, 1100)))]
KW = dict(agency=AGENCY, agency_name=AGENCY_NAME, window=WINDOW, unit_names=UNITS)
