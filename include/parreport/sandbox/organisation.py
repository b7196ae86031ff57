"""An agency's organisation and catalogue: its tree of units, its procedures, and the
reporting windows that fall within the generated span."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from ..periods import Window, window_for
from . import catalogue as cat
from .model import GeneratorConfig


def build_units(agency: str, name: str | None = None) -> list[dict]:
    """The agency (named ``name``, else the catalogue's department) and its sub-units. Sub-unit
    codes swap the first two groups of the agency's."""
    groups = agency.split(".")
    tail = ".".join(groups[2:])

    def code(prefix: str) -> str:
        return agency if prefix == "000.00" else f"{prefix}.{tail}"

    return [{"MaDonVi": code(p), "TenDonVi": name if parent is None and name else unit_name,
             "MaDonViCha": code(parent) if parent else None, "CapDonVi": level}
            for p, unit_name, parent, level in cat.UNITS]


def build_procedures(rng: np.random.Generator, units: list[dict], agency: str, start: datetime) -> list[dict]:
    codes_by_prefix = {u["MaDonVi"][:6] if u["MaDonVi"] != agency else "000.00": u["MaDonVi"] for u in units}
    procs: list[dict] = []
    n_total = sum(len(names) for *_rest, names in cat.FIELDS)
    inactive = set(rng.choice(n_total, size=4, replace=False).tolist())
    i = 0
    for lv_code, lv_name, unit_prefix, names in cat.FIELDS:
        for name in names:
            code = "1.001776" if i == 0 else f"{1 if i % 6 else 2}.{(1000 + i * 379) % 13000 + 100:06d}"
            mucdo = str(rng.choice([2, 3, 4], p=[0.18, 0.37, 0.45]))
            dac_thu = "1" if rng.random() < 0.08 else "0"
            fee = rng.random() < 0.35
            unit = codes_by_prefix[unit_prefix]
            if unit_prefix == "000.03" and rng.random() < 0.1:
                unit = agency  # a few procedures are implemented by the department itself
            limit = None if rng.random() < 0.08 else str(rng.choice(cat.TIME_LIMITS))
            procs.append({
                "MaTTHC": code,
                "TenTTHC": name,
                "MaLinhVuc": lv_code,
                "TenLinhVuc": lv_name,
                "MucDo": mucdo,
                "MotCua": "0" if dac_thu == "1" and rng.random() < 0.7 else ("1" if rng.random() < 0.92 else "0"),
                "DacThu": dac_thu,
                "DuDieuKienTrucTuyen": "1" if (mucdo != "2" or rng.random() < 0.3) and rng.random() < 0.93 else "0",
                "BonTaiCho": "1" if rng.random() < 0.22 else "0",
                "CoPhiLePhi": "1" if fee else "0",
                "ThanhToanTrucTuyen": "1" if fee and rng.random() < 0.75 else "0",
                "ThoiHanGiaiQuyet": limit if limit is not None or rng.random() < 0.5 else "",
                "MaDonViThucHien": unit,
                "HieuLuc": "0" if i in inactive else "1",
                "NgayCapNhat": (start - timedelta(days=int(rng.integers(30, 900)))).strftime("%Y%m%d%H%M%S"),
                "_fee": int(rng.choice(cat.FEE_AMOUNTS)) if fee else -1,
            })
            i += 1
    assert len({p["MaTTHC"] for p in procs}) == len(procs), "procedure codes must be unique"
    return procs


def windows_in_span(config: GeneratorConfig) -> list[Window]:
    out = []
    for rule in config.boundary_rules:
        for year in range(config.span_start.year, config.span_end.year + 2):
            for q in (1, 2, 3, 4):
                w = window_for(year, q, rule)
                if w.start >= config.span_start and w.end <= config.extraction_time:
                    out.append(w)
    return out
