"""What the HTML and the PDF show, as one model: the heading, the narrative, the Biểu 06 rows,
the indicator tables (the agency's, then each sub-unit's) and the data-quality tables, every
figure already written for people."""
from __future__ import annotations

from ..figures import BIEU06_COLUMNS, INDICATOR_NAMES, TOTAL_CODE
from .narrative import narrative_of
from .view import (COLUMN_LABELS, FORM_NAME, FORM_SOURCE, FORM_TITLE, IDENTITY_NOTE, LEVELS, OUTCOMES, RECIPIENT,
                   SHORT_NAMES, UNITS_NOTE, View, as_int, cell, fmt_dec, fmt_int, fmt_pct, fmt_target,
                   indicator_gap, indicator_note, indicator_result, period_text, province, quarter_text,
                   split_agency)

__all__ = ["document_model"]


def _bieu06_rows(v: View) -> list[dict]:
    out, n = [], 0
    for item in v.content.get("Bieu06") or []:
        total = item.get("MaLinhVuc") == TOTAL_CODE
        if not total:
            n += 1
        out.append({"stt": "" if total else str(n), "name": item.get("TenLinhVuc") or "", "total": total,
                    "cells": [fmt_int(cell(item, p)) for p in BIEU06_COLUMNS]})
    return out


def _indicator_rows(v: View, scope: str) -> list[dict]:
    rows = []
    for item in v.content.get("ChiTieu") or []:
        if item.get("PhamVi") != scope:
            continue
        gap = indicator_gap(item)
        rows.append({"code": item.get("MaChiTieu"),
                     "name": item.get("TenChiTieu") or INDICATOR_NAMES.get(item.get("MaChiTieu"), ""),
                     "short": SHORT_NAMES.get(item.get("MaChiTieu"), item.get("MaChiTieu") or ""),
                     "has_value": bool(item.get("MauSo")),
                     "num": fmt_int(item.get("TuSo")), "den": fmt_int(item.get("MauSo")),
                     "value": fmt_pct(item.get("GiaTri")), "target": fmt_target(item.get("MucTieu")),
                     "result": indicator_result(item),
                     "gap": "—" if gap is None else ("+" if gap > 0 else "") + fmt_dec(gap),
                     "note": indicator_note(item)})
    return rows


def _unit_block(v: View, scope: str) -> dict:
    """A sub-unit's indicators for the readable report: those with a value; the others named."""
    rows = _indicator_rows(v, scope)
    return {"code": scope, "name": v.unit_name(scope), "rows": [r for r in rows if r["has_value"]],
            "missed": sum(1 for r in rows if r["result"] == "Không đạt"),
            "empty": [r["short"] for r in rows if not r["has_value"]]}


def _quality_rows(v: View) -> dict:
    q = v.content.get("ChatLuongDuLieu") or {}
    names = {r.get("MaLinhVuc"): r.get("TenLinhVuc") for r in v.content.get("Bieu06") or []}
    return {
        "summary": [("Số hồ sơ lấy từ Cổng DVC sau khi loại trùng", fmt_int(q.get("SoBanGhi"))),
                    ("Số hồ sơ bị loại khỏi số liệu", fmt_int(q.get("SoBanGhiLoai"))),
                    ("Số hồ sơ đã được hiệu chỉnh", fmt_int(q.get("SoBanGhiDaSua")))],
        "checks": [{"name": c.get("Ten") or "", "level": LEVELS.get(c.get("MucDo"), c.get("MucDo") or ""),
                    "result": OUTCOMES.get(c.get("KetQua"), c.get("KetQua") or ""),
                    "bad": c.get("KetQua") == "KHONG_DAT", "errors": fmt_int(c.get("SoLoi"))}
                   for c in q.get("KiemTra") or []],
        "diffs": [{"code": d.get("MaLinhVuc") or "", "name": names.get(d.get("MaLinhVuc"), ""),
                   "column": COLUMN_LABELS.get(d.get("Cot"), d.get("Cot") or ""),
                   "portal": fmt_int(d.get("CongDVC")), "ours": fmt_int(d.get("TinhLai")),
                   "delta": (lambda x: ("+" if x > 0 else "") + fmt_int(x) if x >= 0 else "-" + fmt_int(-x))(
                       as_int(d.get("CongDVC")) - as_int(d.get("TinhLai")))}
                  for d in q.get("DoiSoatCongDVC") or []],
    }


def document_model(v: View) -> dict:
    parent, org = split_agency(v.agency_name)
    return {
        "parent": parent, "org": org, "agency": v.agency, "agency_name": v.agency_name,
        "province": province(v.agency_name), "quarter": quarter_text(v.window), "period": period_text(v.window),
        "recipient": f"{RECIPIENT} {('tỉnh ' + province(v.agency_name)) if province(v.agency_name) else ''}".strip(),
        "text": narrative_of(v), "bieu06": _bieu06_rows(v), "identity_note": IDENTITY_NOTE,
        "columns": [f"({i})" for i in range(1, 3 + len(BIEU06_COLUMNS))],
        "agency_indicators": _indicator_rows(v, v.agency),
        "units": [_unit_block(v, s) for s in v.scopes if s != v.agency],
        "quality": _quality_rows(v), "has_trend": bool(v.history),
        "trend_labels": [q.short_label for q in v.trend],
        "units_note": UNITS_NOTE, "form_name": FORM_NAME, "form_source": FORM_SOURCE, "form_title": FORM_TITLE,
    }
