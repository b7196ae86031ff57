"""An independent recomputation of INDICATORS.md for end-to-end tests.

Written separately from parreport.figures, in pandas and integer arithmetic, straight from the
text of INDICATORS.md, so that the end-to-end test compares two implementations rather than
one with itself.
"""
from __future__ import annotations

from datetime import datetime
from fractions import Fraction

import pandas as pd

RECEIVED = {"2", "4", "5", "6", "7", "8", "9", "10"}
FINISHED = {"7", "8", "9", "10"}
TARGETS_2025 = {"TTHC_MOT_CUA": 100, "TTHC_BON_TAI_CHO": 20, "TTHC_TRUC_TUYEN": 100,
                "TTHC_THANH_TOAN_TRUC_TUYEN": 80, "HS_TRUC_TUYEN": 50, "HS_THANH_TOAN_TRUC_TUYEN": 30,
                "HS_DUNG_HAN": 100, "HS_XIN_LOI": 100, "HS_KET_QUA_DIEN_TU": 50, "HS_EFORM_TU_DONG": 20,
                "HS_DONG_BO_DVCQG": 100, "HL_HAI_LONG": 90}


def target(code: str, year: int):
    if code == "HL_HAI_LONG":
        return 90 if year <= 2025 else 95 if year >= 2030 else 90 + (year - 2025)
    return TARGETS_2025[code]


def ts(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series.where(series.astype(bool) & series.notna(), None), format="%Y%m%d%H%M%S")


def frame(dossiers: list[dict], procedures: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(dossiers)
    cat = pd.DataFrame(procedures).set_index("MaTTHC")
    for col in ("MaLinhVuc", "TenLinhVuc", "MucDo", "CoPhiLePhi", "ThanhToanTrucTuyen"):
        df["cat_" + col] = df["MaTTHC"].map(cat[col])
    df["T"], df["H"], df["K"] = ts(df["NgayTiepNhan"]), ts(df["NgayHenTra"]), ts(df["NgayKetThucXuLy"])
    return df


def classify(df: pd.DataFrame, S: datetime, E: datetime) -> pd.DataFrame:
    st = df["TrangThaiHoSo"]
    received = st.isin(RECEIVED) & df["T"].notna()
    finished = st.isin(FINISHED)
    k = df["K"].where(finished)
    dK, dH, dE = k.dt.normalize(), df["H"].dt.normalize(), pd.Timestamp(E).normalize()
    online = df["KenhThucHien"].fillna("") == "2"
    c = pd.DataFrame(index=df.index)
    c["carried"] = received & (df["T"] < S) & (~finished | (k >= S))
    c["new"] = received & (df["T"] >= S) & (df["T"] <= E)
    c["new_online"] = c["new"] & online
    c["new_offline"] = c["new"] & ~online
    resolved = received & finished & (k >= S) & (k <= E)
    c["resolved"] = resolved
    c["early"] = resolved & df["H"].notna() & (dK < dH)
    c["late"] = resolved & df["H"].notna() & (dK > dH)
    c["ontime"] = resolved & ~c["early"] & ~c["late"]
    open_ = received & (df["T"] <= E) & (~finished | (k > E))
    c["open"] = open_
    c["overdue"] = open_ & df["H"].notna() & (dH <= dE)
    c["within"] = open_ & ~c["overdue"]
    return c


def bieu06(dossiers, procedures, S, E) -> list[dict]:
    df = frame(dossiers, procedures)
    c = classify(df, S, E)
    c["lv"], c["ten"] = df["cat_MaLinhVuc"], df["cat_TenLinhVuc"]
    rows = []
    for lv, g in sorted(c.groupby("lv"), key=lambda x: x[0]):
        row = _row(lv, g["ten"].iloc[0], g)
        if any(v for part in ("TiepNhan", "DaGiaiQuyet", "DangGiaiQuyet") for v in row[part].values()):
            rows.append(row)
    rows.append(_row("TONG", "Tổng cộng", c))
    return rows


def _row(lv, ten, g) -> dict:
    s = {k: int(g[k].sum()) for k in ("carried", "new_online", "new_offline", "early", "ontime", "late",
                                      "within", "overdue")}
    return {"MaLinhVuc": lv, "TenLinhVuc": ten,
            "TiepNhan": {"Tong": s["carried"] + s["new_online"] + s["new_offline"], "TrucTuyen": s["new_online"],
                         "TrucTiepBuuChinh": s["new_offline"], "KyTruocChuyenSang": s["carried"]},
            "DaGiaiQuyet": {"Tong": s["early"] + s["ontime"] + s["late"], "TruocHan": s["early"],
                            "DungHan": s["ontime"], "QuaHan": s["late"]},
            "DangGiaiQuyet": {"Tong": s["within"] + s["overdue"], "TrongHan": s["within"], "QuaHan": s["overdue"]}}


def scopes(units: list[dict], agency: str) -> dict[str, set[str]]:
    parent = {u["MaDonVi"]: u.get("MaDonViCha") for u in units}

    def below(root):
        out = {root}
        changed = True
        while changed:
            new = {u for u, p in parent.items() if p in out and u not in out}
            out |= new
            changed = bool(new)
        return out

    direct = sorted(u for u, p in parent.items() if p == agency)
    return {agency: below(agency), **{d: below(d) for d in direct}}


def half_up(tu: int, mau: int):
    if mau == 0:
        return None
    hundredths = Fraction(10000 * tu, mau)  # value in 1/100 of a percent
    q, r = divmod(hundredths.numerator, hundredths.denominator)
    if 2 * r >= hundredths.denominator:
        q += 1
    return q / 100


def indicators(dossiers, ratings, procedures, units, agency, S, E, year) -> dict[tuple[str, str], tuple[int, int]]:
    """{(MaChiTieu, PhamVi): (TuSo, MauSo)}"""
    df = frame(dossiers, procedures)
    c = classify(df, S, E)
    cat = pd.DataFrame(procedures)
    cat = cat[cat["HieuLuc"] == "1"]
    rt = pd.DataFrame(ratings)
    rt["D"] = ts(rt["NgayDanhGia"])
    fee_sum = df["DanhSachLePhi"].map(lambda fees: sum(f.get("Gia") or 0 for f in fees) if isinstance(fees, list) else 0)
    has_e_result = df["DanhSachGiayToKetQua"].map(
        lambda items: isinstance(items, list) and any(i.get("DuongDanTep") for i in items if isinstance(i, dict)))
    eform = df["ThongTinEForm"].map(lambda e: e if isinstance(e, dict) else None)
    out = {}
    for scope, members in scopes(units, agency).items():
        d_in = df["DonViXuLy"].isin(members)
        p = cat[cat["MaDonViThucHien"].isin(members)]
        new = c["new"] & d_in
        online_proc = df["cat_MucDo"].isin(["3", "4"])
        online = df["KenhThucHien"].fillna("") == "2"
        fee_proc = (df["cat_CoPhiLePhi"] == "1") & (df["cat_ThanhToanTrucTuyen"] == "1") & (fee_sum > 0)
        resolved = c["resolved"] & d_in
        late = (c["late"] | c["overdue"]) & d_in
        apology = df["ThuXinLoi"].map(lambda t: isinstance(t, dict) and bool(t.get("SoThu")))
        ef = new & online & eform.notna()
        r_in = rt["DonViXuLy"].isin(members) & (rt["D"] >= S) & (rt["D"] <= E)
        pairs = {
            "TTHC_MOT_CUA": (((p["DacThu"] == "0") & (p["MotCua"] == "1")).sum(), (p["DacThu"] == "0").sum()),
            "TTHC_BON_TAI_CHO": ((p["BonTaiCho"] == "1").sum(), len(p)),
            "TTHC_TRUC_TUYEN": (((p["DuDieuKienTrucTuyen"] == "1") & p["MucDo"].isin(["3", "4"])).sum(),
                                (p["DuDieuKienTrucTuyen"] == "1").sum()),
            "TTHC_THANH_TOAN_TRUC_TUYEN": (((p["CoPhiLePhi"] == "1") & (p["ThanhToanTrucTuyen"] == "1")).sum(),
                                           (p["CoPhiLePhi"] == "1").sum()),
            "HS_TRUC_TUYEN": ((new & online_proc & online).sum(), (new & online_proc).sum()),
            "HS_THANH_TOAN_TRUC_TUYEN": ((new & fee_proc & df["DuocThanhToanTrucTuyen"].isin(["1", "2"])).sum(),
                                         (new & fee_proc).sum()),
            "HS_DUNG_HAN": (((c["early"] | c["ontime"]) & d_in).sum(), resolved.sum()),
            "HS_XIN_LOI": ((late & apology).sum(), late.sum()),
            "HS_KET_QUA_DIEN_TU": ((resolved & df["TrangThaiHoSo"].isin(["9", "10"]) & has_e_result).sum(),
                                   (resolved & df["TrangThaiHoSo"].isin(["9", "10"])).sum()),
            "HS_EFORM_TU_DONG": (int(sum(e["SoTruongTuDong"] for e in eform[ef])),
                                 int(sum(e["SoTruong"] for e in eform[ef]))),
            "HS_DONG_BO_DVCQG": ((new & (df["DongBoDVCQG"] == "1")).sum(), new.sum()),
            "HL_HAI_LONG": ((r_in & rt["MucDoHaiLong"].isin(["2", "3"])).sum(), r_in.sum()),
        }
        for code, (tu, mau) in pairs.items():
            out[(code, scope)] = (int(tu), int(mau))
    return out


def truth(ds, agency: str, w):
    """The sandbox's ground truth for ``agency`` in window ``w``: the dossiers that survive
    de-duplication, those of them the generator planted no defect in, and the valid ratings."""
    rows = [int(d) for d in ds.listing(agency, w.start_ts, w.end_ts, duplicates=False)]
    surviving = [ds.dossier(r) for r in rows]
    valid = [d for d in surviving if d["MaHoSo"] not in ds.invalid]
    ratings = [ds.rating(int(j)) for j in ds.ratings_in(agency, w.start_ts, w.end_ts)]
    valid_ratings = [r for r in ratings if r["MaDanhGia"] not in ds.invalid_ratings]
    return w, surviving, valid, valid_ratings
