"""Planted cases and their ground truth.

- Invalid records: each rule of INDICATORS.md §5 (:data:`RULES`) is planted evenly by a mutator
  applied to the true copy when it is built (:data:`MUTATORS`); ``Dataset.mutations`` maps a row
  to its (rule, variant) pairs and ``Dataset.invalid`` is derived from it.
- Warnings: a due date before reception on an otherwise valid dossier.
- Duplicates: stale copies delivered in addition to the true one, before or after it.
- :func:`emitted_columns`: the filter columns the portal selects on, as the records show them
  (planted values re-read from the records).
"""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np

from ..timeutil import parse_ts
from . import catalogue as cat
from .model import DUPLICATE_KINDS, RULES, GeneratorConfig
from .timecols import DAY, HOUR, NONE, bad_timestamp_value, secs_to_tsint, ts_to_int

if TYPE_CHECKING:
    from .dataset import Dataset


def _ensure_fee(rec: dict, ds: "Dataset") -> dict:
    if not rec["DanhSachLePhi"]:
        rec["DanhSachLePhi"] = [{"MaPhiLePhi": "LP-KHAC", "TenPhiLePhi": "Phí cung cấp thông tin", "Gia": 20000,
                                 "HinhThucThu": "Trực tiếp"}]
    return rec["DanhSachLePhi"][0]


def _ensure_eform(rec: dict) -> dict:
    if not rec["ThongTinEForm"]:
        rec["ThongTinEForm"] = {"SoTruong": 24, "SoTruongTuDong": 6}
    return rec["ThongTinEForm"]


def _m_missing(rec: dict, v: int, ds: "Dataset") -> None:
    name = ("MaTTHC", "DonViXuLy", "TrangThaiHoSo", "NgayCapNhat")[v % 4]
    form = (v // 4) % 3
    if form == 0:
        del rec[name]
    else:
        rec[name] = "" if form == 1 else None


def _m_bad_code(rec: dict, v: int, ds: "Dataset") -> None:
    choice = v % 6
    if choice == 0:
        rec["KenhThucHien"] = "4"
    elif choice == 1:
        rec["DuocThanhToanTrucTuyen"] = "3"
    elif choice == 2:
        rec["DongBoDVCQG"] = "2"
    elif choice == 3:
        rec["HoSoCoThanhPhanSoHoa"] = "x"
    elif choice == 4:
        rec["TaiKhoanDuocXacThucVoiVNeID"] = "Y"
    else:
        if rec["TaiLieuNop"]:
            rec["TaiLieuNop"][0]["DuocSoHoa"] = "2"
        else:
            rec["KenhThucHien"] = "0"


def _m_bad_timestamp(rec: dict, v: int, ds: "Dataset") -> None:
    candidates: list[tuple[str, ...]] = []
    for f in ("NgayHenTra", "NgayTra", "NgayHenTra", "NgayNopHoSo", "NgayTiepNhan", "NgayKetThucXuLy"):
        if rec.get(f):
            candidates.append((f,))
    if rec["DanhSachHoSoBoSung"]:
        candidates += [("DanhSachHoSoBoSung", "NgayYeuCau")] * 2
        if rec["DanhSachHoSoBoSung"][0]["NgayBoSung"]:
            candidates.append(("DanhSachHoSoBoSung", "NgayBoSung"))
    if rec["ThuXinLoi"]:
        candidates += [("ThuXinLoi", "NgayGui")] * 2
    target = candidates[v % len(candidates)] if candidates else ("NgayNopHoSo",)
    form = v // max(1, len(candidates))
    if len(target) == 1:
        rec[target[0]] = bad_timestamp_value(rec.get(target[0]), form)
    elif target[0] == "DanhSachHoSoBoSung":
        item = rec["DanhSachHoSoBoSung"][0]
        item[target[1]] = bad_timestamp_value(item[target[1]], form)
    else:
        rec["ThuXinLoi"]["NgayGui"] = bad_timestamp_value(rec["ThuXinLoi"]["NgayGui"], form)


def _m_bad_type(rec: dict, v: int, ds: "Dataset") -> None:
    choice = v % 5
    if choice == 0:
        fee = _ensure_fee(rec, ds)
        fee["Gia"] = str(fee["Gia"])  # a number written as a string
    elif choice == 1:
        _ensure_eform(rec)["SoTruong"] = 3.5  # a count with a fractional part
        rec["ThongTinEForm"]["SoTruongTuDong"] = min(rec["ThongTinEForm"]["SoTruongTuDong"], 2)
    elif choice == 2:
        fee = _ensure_fee(rec, ds)
        rec["DanhSachLePhi"] = dict(fee)  # an object where a list belongs
    elif choice == 3:
        rec["TaiLieuNop"] = {"TenTepDinhKem": "Đơn đề nghị.pdf", "DuocSoHoa": "1", "DuocTaiSuDung": "0",
                             "DuocLayTuKhoDMQG": "0"}
    else:
        _ensure_eform(rec)["SoTruongTuDong"] = "5"  # a count written as a string
        rec["ThongTinEForm"]["SoTruong"] = max(rec["ThongTinEForm"]["SoTruong"], 5)


def _m_received_without_t(rec: dict, v: int, ds: "Dataset") -> None:
    if v % 3 == 0:
        del rec["NgayTiepNhan"]
    else:
        rec["NgayTiepNhan"] = "" if v % 3 == 1 else None


def _m_finished_without_k(rec: dict, v: int, ds: "Dataset") -> None:
    rec["NgayKetThucXuLy"] = "" if v % 2 else None


def _m_k_before_t(rec: dict, v: int, ds: "Dataset") -> None:
    t = parse_ts(rec["NgayTiepNhan"])
    rec["NgayKetThucXuLy"] = (t - timedelta(minutes=30 + (v % 7200))).strftime("%Y%m%d%H%M%S")


def _m_unknown_procedure(rec: dict, v: int, ds: "Dataset") -> None:
    known = {p["MaTTHC"] for p in ds.procedures}
    code = f"2.{9000 + v % 999:06d}"
    while code in known:  # pragma: no cover - the catalogue never uses 2.009xxx
        code = code[:-1] + "9"
    rec["MaTTHC"] = code


def _m_unit_outside(rec: dict, v: int, ds: "Dataset") -> None:
    rec["DonViXuLy"] = cat.OUTSIDE_UNITS[v % len(cat.OUTSIDE_UNITS)]


def _m_negative_fee(rec: dict, v: int, ds: "Dataset") -> None:
    fee = _ensure_fee(rec, ds)
    fee["Gia"] = -abs(fee["Gia"] or 50000)


def _m_bad_eform(rec: dict, v: int, ds: "Dataset") -> None:
    form = _ensure_eform(rec)
    if v % 2:
        form["SoTruong"] = -1
        form["SoTruongTuDong"] = 0
    else:
        form["SoTruongTuDong"] = form["SoTruong"] + 1 + v % 5


MUTATORS = {
    "missing_field": _m_missing, "bad_code": _m_bad_code, "bad_timestamp": _m_bad_timestamp,
    "bad_type": _m_bad_type, "received_without_T": _m_received_without_t,
    "finished_without_K": _m_finished_without_k, "K_before_T": _m_k_before_t,
    "unknown_procedure": _m_unknown_procedure, "unit_outside_agency": _m_unit_outside,
    "negative_fee": _m_negative_fee, "bad_eform": _m_bad_eform,
}



def plant(ds: "Dataset", cfg: GeneratorConfig, rng: np.random.Generator, protected: set[int]) -> None:
    """Plant invalid records, warnings and duplicates in ``ds``, never on a ``protected`` row."""
    c = ds.cols
    n = len(ds)
    free = np.ones(n, dtype=bool)
    free[list(protected)] = False
    status = c["status"]
    received = ((status == 2) | (status >= 4)) & (c["t"] != NONE)
    finished = (status >= 7) & (c["k"] != NONE) & received

    def take(mask: np.ndarray, count: int) -> np.ndarray:
        cand = np.nonzero(mask & free)[0]
        chosen = np.sort(rng.choice(cand, size=min(count, cand.shape[0]), replace=False))
        free[chosen] = False
        return chosen

    # invalid records
    n_invalid = int(round(cfg.invalid_rate * n))
    rules = rng.permutation(np.arange(n_invalid) % len(RULES))  # every rule, evenly
    eligible = {"finished_without_K": finished, "K_before_T": finished, "received_without_T": received}
    for rule_i in range(len(RULES)):
        rule = RULES[rule_i]
        count = int(np.count_nonzero(rules == rule_i))
        if count == 0:
            continue
        for row in take(eligible.get(rule, received | (rng.random(n) < 0.1)), count):
            ds.mutations[int(row)] = [(rule, int(rng.integers(0, 10_000)))]
    # a few records break two rules at once
    multi = [r for r in ds.mutations if ds.mutations[r][0][0] in ("bad_timestamp", "bad_code")][:: 7]
    for row in multi:
        second = "negative_fee" if ds.mutations[row][0][0] == "bad_timestamp" else "bad_eform"
        ds.mutations[row].append((second, int(rng.integers(0, 10_000))))

    # warnings: due date before reception on otherwise valid dossiers
    for row in take(received & (c["h"] != NONE), int(round(cfg.warning_rate * n))):
        c["h"][row] = (c["t"][row] // DAY - int(rng.integers(1, 4))) * DAY + 17 * HOUR
        ds.warnings[ds.ma_ho_so(int(row))] = frozenset({"due_before_received"})
    ds.__dict__.pop("_ts_cols", None)  # the due dates changed

    # duplicates: stale copies delivered in addition to the true one
    dup_rows = take(np.ones(n, dtype=bool), int(round(cfg.duplicate_rate * n)))
    kinds = rng.choice(len(DUPLICATE_KINDS), size=dup_rows.shape[0], p=[0.55, 0.2, 0.12, 0.13])
    firsts = rng.random(dup_rows.shape[0]) < 0.5
    meta = []
    for kind_i, first in zip(kinds, firsts):
        kind = DUPLICATE_KINDS[kind_i]
        meta.append((kind, int(rng.integers(0, 10_000)), True if kind == "same" else bool(first)))
    ds.dup_rows, ds.dup_meta = dup_rows.astype(np.int64), meta
    offsets = rng.integers(150, 1500, size=dup_rows.shape[0]) + 0.5
    signs = np.array([-1.0 if first else 1.0 for _k, _v, first in meta])
    keys = np.concatenate([np.arange(n, dtype=float), dup_rows + signs * offsets])
    ds.delivery_order = np.argsort(keys, kind="stable").astype(np.int64)


def emitted_columns(ds: "Dataset") -> None:
    """Columns of the values as emitted (yyyyMMddHHmmss ints; 0 absent, -1 unreadable),
    re-read from the record for the few planted ones."""
    c = ds.cols
    ds.f_status = c["status"].astype(np.int64).copy()
    ds.f_t = secs_to_tsint(c["t"])
    ds.f_k = secs_to_tsint(c["k"])
    ds.f_h = secs_to_tsint(c["h"])
    ds.f_nop = secs_to_tsint(c["submit"])
    for row in ds.mutations:
        rec = ds.dossier(row)
        st = rec.get("TrangThaiHoSo")
        ds.f_status[row] = int(st) if isinstance(st, str) and st.isdigit() and 1 <= int(st) <= 10 else 0
        ds.f_t[row] = ts_to_int(rec.get("NgayTiepNhan"))
        ds.f_k[row] = ts_to_int(rec.get("NgayKetThucXuLy"))
        ds.f_h[row] = ts_to_int(rec.get("NgayHenTra"))
        ds.f_nop[row] = ts_to_int(rec.get("NgayNopHoSo"))
