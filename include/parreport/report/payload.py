"""The body of report-api.yaml's BaoCaoQuy, and what distinguishes one version from another
(``figures_sha``); the LyDoDieuChinh of a later version is written by ``changes.py``."""
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
    """SHA-256 of what the report says: the body without NgayLap, ChuKy, PhienBan, LyDoDieuChinh
    and the draft's document sources. Its TepDinhKem must be the documents as version 1 shows
    them (``pipeline.build_report`` builds them so): a later version's "replaces version N" text
    is not what the report says, and an unchanged re-run must not see it as a change."""
    core = {k: v for k, v in body.items() if k not in _VOLATILE}
    return hashlib.sha256(rfc8785.dumps(json_safe(core))).hexdigest()
