"""Contract-shaped records (``HoSo`` of portal-api.yaml) built from one row of the dossier
columns, and the fake personal data they carry (names, ID numbers, phones, e-mails, addresses).

Everything here is a pure function of the row's column values: the same row gives the same
record, which is what lets the portal build only the records of the page it serves.
"""
from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

from . import catalogue as cat
from .model import CHANNEL_VALUES, FLAG_VALUES, PERSONAL_FIELDS

if TYPE_CHECKING:
    from .dataset import Dataset


def absent_value(row: int, salt: int):
    """How an absent value is written: "" or null, alternating by row (both forms occur)."""
    return "" if (row + salt) % 2 else None


def build_dossier(ds: "Dataset", i: int, c: dict[str, Any]) -> dict:
    """The true, unmutated record of row ``i`` from its column values ``c``."""
    proc_i = c["proc"]
    proc = ds.procedures[proc_i]
    aux = c["aux"]

    def ts(col: str, salt: int):
        v = c[col]
        return absent_value(i, salt) if v == 0 else f"{v:014d}"

    fee = c["fee"]
    fees = [] if fee < 0 else [{
        "MaPhiLePhi": f"LP-{proc['MaLinhVuc']}-{proc_i:03d}",
        "TenPhiLePhi": "Lệ phí " + proc["TenTTHC"][0].lower() + proc["TenTTHC"][1:60],
        "Gia": fee,
        "HinhThucThu": "Trực tuyến" if c["paid"] in (1, 2) else "Trực tiếp",
    }]
    docs = []
    for d in range(1 + aux % 3):
        bits = aux >> (4 + 3 * d)
        docs.append({"TenTepDinhKem": cat.ATTACHMENTS[(aux >> 12) % len(cat.ATTACHMENTS) - d],
                     "DuocSoHoa": str(bits & 1), "DuocTaiSuDung": str((bits >> 1) & 1),
                     "DuocLayTuKhoDMQG": str((bits >> 2) & (bits >> 1) & 1)})
    results = []
    for r in range(c["results"]):
        link = c["result_link"] and r == 0
        results.append({
            "TenGiayTo": ("Quyết định giải quyết: " if r == 0 else "Văn bản kèm theo: ") + proc["TenTTHC"][:80],
            "MaKetQua": f"KQ-{i + 1:07d}-{r + 1}",
            "DuongDanTep": (f"https://dichvucong.thuathienhue.gov.vn/ketqua/{i + 1:07d}-{r + 1}.pdf" if link
                            else absent_value(i, 7 + r)),
        })
    supplements = []
    if c["sup_req"]:
        supplements.append({"NgayYeuCau": f"{c['sup_req']:014d}",
                            "NgayBoSung": f"{c['sup_done']:014d}" if c["sup_done"] else None})
    eform = None
    if c["eform_n"] >= 0:
        eform = {"SoTruong": c["eform_n"], "SoTruongTuDong": c["eform_auto"]}
    letter = None
    if c["letter"]:
        no = c["letter_no"]
        letter = {"SoThu": f"{no}/TXL-SLĐTBXH" if no > 0 else "", "NgayGui": f"{c['letter']:014d}"}
    name = name_of(c)
    ten_tthc, ten_lv = proc["TenTTHC"], proc["TenLinhVuc"]
    summary = f"{ten_tthc} - hồ sơ của {'bà' if c['gender'] else 'ông'} {name}"
    address = (f"{c['house']} {cat.STREETS[c['street']]}, {cat.WARDS[c['ward']]}, {cat.CITY}")
    email = email_of(c, name)
    if c["nfd"]:
        name, summary, address, ten_tthc, ten_lv = (unicodedata.normalize("NFD", s)
                                                    for s in (name, summary, address, ten_tthc, ten_lv))
    return {
        "MaHoSo": f"{ds.agency}-{str(c['submit'])[2:8]}-{i + 1:07d}",
        "MaTTHC": proc["MaTTHC"],
        "TenTTHC": ten_tthc,
        "MaLinhVuc": proc["MaLinhVuc"],
        "TenLinhVuc": ten_lv,
        "DonViXuLy": ds.unit_codes[c["unit"]],
        "KenhThucHien": CHANNEL_VALUES[c["channel"]],
        "ChuHoSo": name,
        "SoGiayToChuHoSo": f"{c['id_no']:012d}",
        "SoDienThoai": phone_of(c),
        "Email": email,
        "DiaChi": address,
        "TrichYeuHoSo": summary,
        "NgayNopHoSo": ts("submit", 1),
        "NgayTiepNhan": ts("t", 2),
        "NgayHenTra": ts("h", 3),
        "NgayKetThucXuLy": ts("k", 4),
        "NgayTra": ts("tra", 5),
        "TrangThaiHoSo": str(c["status"]),
        "DuocThanhToanTrucTuyen": FLAG_VALUES[c["paid"]],
        "DanhSachLePhi": fees,
        "HoSoCoThanhPhanSoHoa": FLAG_VALUES[c["digitised"]],
        "TaiLieuNop": docs,
        "DanhSachGiayToKetQua": results,
        "DanhSachHoSoBoSung": supplements,
        "TaiKhoanDuocXacThucVoiVNeID": FLAG_VALUES[c["vneid"]],
        "ThongTinEForm": eform,
        "ThuXinLoi": letter,
        "DongBoDVCQG": FLAG_VALUES[c["dvcqg"]],
        "NgayCapNhat": f"{c['ncn']:014d}",
    }


def name_of(c: dict[str, Any]) -> str:
    female = c["gender"] == 1
    middle = (cat.MIDDLE_NAMES_F if female else cat.MIDDLE_NAMES_M)[c["mid"]]
    given = (cat.GIVEN_NAMES_F if female else cat.GIVEN_NAMES_M)[c["given"]]
    return f"{cat.FAMILY_NAMES[c['fam']]} {middle} {given}"

def phone_of(c: dict[str, Any]) -> str:
    p = c["phone"]
    return f"0{(9, 3, 7, 8)[p % 4]}{p // 4:08d}"

def email_of(c: dict[str, Any], name: str) -> str:
    style = (c["aux"] >> 20) % 5
    if style == 4:
        return ""
    parts = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d")).encode("ascii", "ignore").decode().lower().split()
    local = (parts[-1] + "." + parts[0]) if style < 2 else "".join(p[0] for p in parts[:-1]) + parts[-1]
    domain = ("gmail.com", "yahoo.com", "gmail.com", "hue.gov.vn")[style]
    return f"{local}{c['id_no'] % 1000}@{domain}"


def personal_strings(records: list[dict]) -> set[str]:
    """The personal-data strings of ``records`` (as emitted, and in NFC)."""
    out = set()
    for rec in records:
        for f in PERSONAL_FIELDS:
            v = rec.get(f)
            if isinstance(v, str) and v:
                out.add(v)
                out.add(unicodedata.normalize("NFC", v))
    return out
