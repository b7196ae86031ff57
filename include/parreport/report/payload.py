"""The body of report-api.yaml's BaoCaoQuy, and what distinguishes one version from another."""
from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any

import rfc8785

from ..periods import Window
from ..timeutil import VN_TZ

# What the documents need beyond the body (history, sub-unit names): kept in the draft, never sent.
DOCUMENT_SOURCES = "_NguonTaiLieu"
# Members that differ between two builds of the same figures: they do not make a new version.
_VOLATILE = ("NgayLap", "ChuKy", "PhienBan", "LyDoDieuChinh", DOCUMENT_SOURCES)


def json_safe(value: Any) -> Any:
    """Decimals become JSON numbers (their exact 2-decimal value), recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def build_core(*, agency: str, agency_name: str, window: Window, content: dict,
               attachments: list[dict] | None = None, sources: dict | None = None) -> dict:
    """What the report says: the body without the members that change from version to version
    (PhienBan, LyDoDieuChinh, NgayLap) and without ChuKy. ``attachments`` are the documents as
    version 1 shows them (they say nothing of a version); ``sources`` (``documents.document_sources``)
    is kept with the draft to render a later version's documents, and is never sent."""
    core = json_safe({
        "MaBaoCao": "CCHC_QUY",
        "MaDonViBaoCao": agency,
        "TenDonViBaoCao": agency_name,
        "KyBaoCao": {"Nam": window.year, "Quy": window.quarter,
                     "TuNgay": window.start.date().isoformat(), "DenNgay": window.end.date().isoformat()},
        "ChiTieu": content["ChiTieu"],
        "Bieu06": content["Bieu06"],
        "ChatLuongDuLieu": content["ChatLuongDuLieu"],
        "TepDinhKem": attachments or [],
    })
    if sources is not None:
        core[DOCUMENT_SOURCES] = json_safe(sources)
    return core


def finalize(core: dict, *, version: int, reason: str | None, created_at: datetime) -> dict:
    """The unsigned body of one version: every required member of BaoCaoQuy but ChuKy."""
    if version < 1:
        raise ValueError("PhienBan bắt đầu từ 1")
    if version > 1 and not (reason or "").strip():
        raise ValueError("phiên bản > 1 phải có LyDoDieuChinh")
    body = {k: v for k, v in core.items() if k not in _VOLATILE}
    body.update({"PhienBan": version, "LyDoDieuChinh": reason if version > 1 else None,
                 "NgayLap": created_at.astimezone(VN_TZ).isoformat(timespec="seconds")})
    return body


def figures_sha(body: dict) -> str:
    """SHA-256 of what the report says: the body without NgayLap, ChuKy, PhienBan, LyDoDieuChinh."""
    core = {k: v for k, v in body.items() if k not in _VOLATILE}
    return hashlib.sha256(rfc8785.dumps(json_safe(core))).hexdigest()


def _flat(body: dict) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for row in body.get("Bieu06", []):
        for group in ("TiepNhan", "DaGiaiQuyet", "DangGiaiQuyet"):
            for col, val in row.get(group, {}).items():
                flat[f"Biểu 06 {row['MaLinhVuc']} {group}.{col}"] = val
    for item in body.get("ChiTieu", []):
        for col in ("TuSo", "MauSo", "MucTieu"):
            flat[f"{item['MaChiTieu']} ({item['PhamVi']}) {col}"] = item.get(col)
    quality = body.get("ChatLuongDuLieu", {})
    for col in ("SoBanGhi", "SoBanGhiLoai", "SoBanGhiDaSua"):
        flat[f"ChatLuongDuLieu.{col}"] = quality.get(col)
    return flat


def describe_changes(old: dict, new: dict, limit: int = 15) -> str:
    """A Vietnamese sentence listing what changed between two bodies (for LyDoDieuChinh)."""
    a, b = _flat(old), _flat(new)
    changes = [f"{k}: {a.get(k, 0)} → {b.get(k, 0)}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    old_version = old.get("PhienBan")
    if not changes:
        return f"Cập nhật so với phiên bản {old_version}: chất lượng dữ liệu hoặc tệp đính kèm thay đổi, số liệu không đổi."
    shown = "; ".join(changes[:limit])
    more = f"; và {len(changes) - limit} thay đổi khác" if len(changes) > limit else ""
    return f"Điều chỉnh số liệu so với phiên bản {old_version} ({len(changes)} thay đổi): {shown}{more}."
