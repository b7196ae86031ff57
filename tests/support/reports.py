"""A minimal report body that report-api.yaml accepts, for the intake tests."""
from __future__ import annotations

import base64
import hashlib

AGENCY = "000.00.20.H57"


def minimal_report(agency: str = AGENCY, version: int = 1, reason: str | None = None, year: int = 2025,
                   quarter: int = 1, value: int = 95) -> dict:
    content = b"Bao cao quy I/2025"
    return {
        "MaBaoCao": "CCHC_QUY",
        "MaDonViBaoCao": agency,
        "TenDonViBaoCao": "Sở Lao động - Thương binh và Xã hội tỉnh Thừa Thiên Huế",
        "KyBaoCao": {"Nam": year, "Quy": quarter, "TuNgay": "2024-12-15", "DenNgay": "2025-03-14"},
        "PhienBan": version,
        "LyDoDieuChinh": reason,
        "NgayLap": "2025-03-16T08:00:00+07:00",
        "ChiTieu": [
            {"MaChiTieu": "HS_DUNG_HAN", "TenChiTieu": "Hồ sơ giải quyết đúng hạn", "PhamVi": agency, "TuSo": value,
             "MauSo": 100, "GiaTri": float(value), "DonViTinh": "%", "MucTieu": 100, "SoSanh": ">=",
             "DatMucTieu": value >= 100},
            {"MaChiTieu": "HL_HAI_LONG", "PhamVi": agency, "TuSo": 0, "MauSo": 0, "GiaTri": None, "DonViTinh": "%",
             "MucTieu": 90, "DatMucTieu": None},
        ],
        "Bieu06": [{"MaLinhVuc": "TONG", "TenLinhVuc": "Tổng cộng",
                    "TiepNhan": {"Tong": 0, "TrucTuyen": 0, "TrucTiepBuuChinh": 0, "KyTruocChuyenSang": 0},
                    "DaGiaiQuyet": {"Tong": 0, "TruocHan": 0, "DungHan": 0, "QuaHan": 0},
                    "DangGiaiQuyet": {"Tong": 0, "TrongHan": 0, "QuaHan": 0}}],
        "ChatLuongDuLieu": {"SoBanGhi": 0, "SoBanGhiLoai": 0, "SoBanGhiDaSua": 0, "DoiSoatCongDVC": [],
                            "KiemTra": [{"Ten": "bat_buoc", "MucDo": "CHAN", "KetQua": "DAT", "SoLoi": 0}]},
        "TepDinhKem": [{"TenTep": "baocao.txt", "LoaiTep": "text/plain", "SHA256": hashlib.sha256(content).hexdigest(),
                        "NoiDung": base64.b64encode(content).decode()}],
        "ChuKy": {"alg": "ES256", "kid": "placeholder", "jws": "x..y"},
    }
