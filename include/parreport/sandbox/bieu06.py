"""The portal's own Biểu 06 (``/thong-ke/bieu-06``), computed with the portal's habits so that
the pipeline's reconciliation (``DoiSoatCongDVC``) has real differences to find."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .dataset import Dataset

GROUP_KEYS = {"TiepNhan": ("Tong", "TrucTuyen", "TrucTiepBuuChinh", "KyTruocChuyenSang"),
              "DaGiaiQuyet": ("Tong", "TruocHan", "DungHan", "QuaHan"),
              "DangGiaiQuyet": ("Tong", "TrongHan", "QuaHan")}


def portal_bieu06(ds: "Dataset", ma_don_vi: str, tu_ngay: str, den_ngay: str) -> list[dict]:
    """The portal's own Biểu 06, deliberately computed with the portal's habits:

    - it does not quarantine: planted-invalid dossiers count wherever their readable dates
      put them (finished without K counts as in progress; K < T still counts as resolved);
    - early/on time/late compares the full timestamps K and H, not their dates, so a dossier
      finished on its due date after the due hour (17:00) is late for the portal;
    - it returns a row for every lĩnh vực of the unit's procedures, zeros included, in
      catalogue order, and a final "TONG" row.
    Stale duplicate copies are not counted (the portal knows each dossier once).
    """
    rows = ds.scope_mask(ma_don_vi)
    S, E = int(tu_ngay), int(den_ngay)
    st, t, k, h = ds.f_status, ds.f_t, ds.f_k, ds.f_h
    received = (((st == 2) | ((st >= 4) & (st <= 10))) & (t > 0)) & rows
    finished = (st >= 7) & (st <= 10) & (k > 0)
    carried = received & (t < S) & (~finished | (k >= S))
    new = received & (t >= S) & (t <= E)
    channel = ds.cols["channel"]
    online = new & (channel == 1)
    offline = new & (channel != 1)
    resolved = received & finished & (k >= S) & (k <= E) & (t <= E)
    no_limit = h <= 0
    early = resolved & ~no_limit & (k <= h) & (k // 1_000_000 < h // 1_000_000)
    on_time = resolved & (no_limit | ((k <= h) & (k // 1_000_000 == h // 1_000_000)))
    late = resolved & ~no_limit & (k > h)
    pending = received & (t <= E) & (~finished | (k > E))
    overdue = pending & ~no_limit & (h <= E)
    lv_of_proc = np.array([p["MaLinhVuc"] for p in ds.procedures])
    lv = lv_of_proc[ds.cols["proc"]]
    in_scope_fields = set(lv[rows].tolist()) | {p["MaLinhVuc"] for p in ds.procedures_of(ma_don_vi)}
    fields: list[tuple[str, str]] = []
    for p in ds.procedures:
        if p["MaLinhVuc"] in in_scope_fields and (p["MaLinhVuc"], p["TenLinhVuc"]) not in fields:
            fields.append((p["MaLinhVuc"], p["TenLinhVuc"]))
    out = []
    for code, name in fields:
        m = lv == code
        def n(a):
            return int(np.count_nonzero(a & m))
        out.append({
            "MaLinhVuc": code, "TenLinhVuc": name,
            "TiepNhan": {"Tong": n(carried) + n(online) + n(offline), "TrucTuyen": n(online),
                         "TrucTiepBuuChinh": n(offline), "KyTruocChuyenSang": n(carried)},
            "DaGiaiQuyet": {"Tong": n(resolved), "TruocHan": n(early), "DungHan": n(on_time), "QuaHan": n(late)},
            "DangGiaiQuyet": {"Tong": n(pending), "TrongHan": n(pending & ~overdue), "QuaHan": n(overdue)},
        })
    total: dict[str, Any] = {"MaLinhVuc": "TONG", "TenLinhVuc": "Tổng cộng"}
    for group, keys in GROUP_KEYS.items():
        total[group] = {key: sum(r[group][key] for r in out) for key in keys}
    return out + [total]

