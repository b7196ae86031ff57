"""What the HTML and the PDF show, as one model: the heading, the narrative, the Biểu 06 rows,
the indicator tables (the agency's, then each sub-unit's) and the data-quality tables, every
figure already written for people."""
from __future__ import annotations

from ..figures import BIEU06_COLUMNS, INDICATOR_NAMES, TOTAL_CODE
from .narrative import narrative_of
from .. import fmt
from .view import (COLUMN_LABELS, FORM_NAME, FORM_SOURCE, FORM_TITLE, IDENTITY_NOTE, RECIPIENT, SHORT_NAMES,
                   UNITS_NOTE, View, as_int, cell, indicator_gap, indicator_note, indicator_result, period_text, province, quarter_text,
                   split_agency)

__all__ = ["document_model"]


def _bieu06_rows(v: View) -> list[dict]:
    out, n = [], 0
    for item in v.content.get("Bieu06") or []:
        total = item.get("MaLinhVuc") == TOTAL_CODE
        if not total:
            n += 1
        out.append({"stt": "" if total else str(n), "name": item.get("TenLinhVuc") or "", "total": total,
                    "cells": [fmt.number(cell(item, p)) for p in BIEU06_COLUMNS]})
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
                     "num": fmt.number(item.get("TuSo")), "den": fmt.number(item.get("MauSo")),
                     "value": fmt.percent(item.get("GiaTri")),
                     "target": fmt.target(item.get("MucTieu"), item.get("SoSanh")),
                     "result": indicator_result(item),
                     "gap": fmt.signed(gap, 2),
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
        "summary": [("Số hồ sơ lấy từ Cổng DVC sau khi loại trùng", fmt.number(q.get("SoBanGhi"))),
                    ("Số hồ sơ bị loại khỏi số liệu", fmt.number(q.get("SoBanGhiLoai"))),
                    ("Số hồ sơ đã được hiệu chỉnh", fmt.number(q.get("SoBanGhiDaSua")))],
        "checks": [{"name": c.get("Ten") or "", "level": fmt.label("muc_do", c.get("MucDo")),
                    "result": fmt.label("ket_qua", c.get("KetQua")),
                    "bad": c.get("KetQua") == "KHONG_DAT", "errors": fmt.number(c.get("SoLoi"))}
                   for c in q.get("KiemTra") or []],
        "diffs": [{"code": d.get("MaLinhVuc") or "", "name": names.get(d.get("MaLinhVuc"), ""),
                   "column": COLUMN_LABELS.get(d.get("Cot"), d.get("Cot") or ""),
                   "portal": fmt.number(d.get("CongDVC")), "ours": fmt.number(d.get("TinhLai")),
                   "delta": fmt.signed(as_int(d.get("CongDVC")) - as_int(d.get("TinhLai")))}
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
        "revision": v.revision,
    }
