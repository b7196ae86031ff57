"""What each run did, step by step: the rows of ``store.run_events`` the operator's pages read.

The pipeline's steps call :func:`record` once each (extract, load, validate, compute, build,
submit); :func:`record_failure` writes a failed attempt (the task wrapper calls it). Details are
small JSON-able summaries without personal data: counts, rule codes, versions, receipt numbers.

A validation also leaves the run's quarantine as evidence next to its Data Docs
(``cach-ly.json`` in ``$PARREPORT_DATA_DIR/data_docs/<agency>/<window>/<run>/``), so the
steward's page shows the quarantine of THAT run even after a later validation replaced the
store's partition.
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import store as st
from .files import run_slug, write_json
from .storage import as_path

if TYPE_CHECKING:  # pragma: no cover
    from .config import Settings
    from .pipeline import Period

log = logging.getLogger(__name__)

__all__ = ["record", "record_failure", "adhoc_run_id", "validation_detail", "figures_detail", "snapshot_quarantine",
           "QUARANTINE_FILE", "ADHOC_PREFIX", "evidence_dir", "direct_units", "extract_detail", "TASK_TEXT",
           "task_text"]

QUARANTINE_FILE = "cach-ly.json"
ADHOC_PREFIX = "kiem-tra-tay__"
#: What each task of the DAGs is called for people (the run page, the terminal's closing line).
TASK_TEXT = {
    "list_agencies": "chọn đơn vị báo cáo", "resolve_period": "xác định kỳ báo cáo",
    "units": "lấy danh mục đơn vị từ Cổng DVC", "procedures": "lấy danh mục thủ tục từ Cổng DVC",
    "dossiers": "lấy hồ sơ từ Cổng DVC", "ratings": "lấy đánh giá từ Cổng DVC",
    "bieu06": "lấy Biểu 06 của Cổng DVC", "load_staging": "nạp dữ liệu vào kho",
    "validate_records": "kiểm tra dữ liệu", "compute_figures": "tính số liệu",
    "build_report": "lập báo cáo", "submit_report": "gửi Sở Nội vụ",
    "follow_receipt": "theo dõi biên nhận", "record_receipt": "ghi biên nhận",
}
_MISSED_KEYS = ("MaChiTieu", "TenChiTieu", "PhamVi", "GiaTri", "MucTieu", "SoSanh", "TuSo", "MauSo")


def task_text(task_id: str) -> str | None:
    """A task in words (matched by the last part of its id: ``report.extract.dossiers``), or None."""
    return TASK_TEXT.get(task_id.rsplit(".", 1)[-1])


def record(settings: "Settings", period: "Period", run_id: str | None, step: str, outcome: str,
           detail: dict | None = None) -> None:
    """One row of the run's story. Never fails the step it describes: a story that cannot be
    written is logged, the pipeline goes on."""
    if not run_id:
        return
    try:
        with st.Store(settings.store_url) as store:
            store.record_run_event(period.agency, period.window.key, run_id, step, outcome, detail or {})
    except Exception:  # noqa: BLE001 - the story is a record, not a step
        log.exception("không ghi được nhật ký lần chạy (%s, %s)", step, outcome)


def record_failure(settings: "Settings", period: "Period", run_id: str | None, step: str, exc: BaseException) -> None:
    """A failed attempt of ``step``: the error's text (Vietnamese where the pipeline wrote it)."""
    if getattr(exc, "_parreport_recorded", False):
        return
    record(settings, period, run_id, step, "failed", {"error": str(exc)[:2000], "type": type(exc).__name__})


def adhoc_run_id(data_dir: Path | str, agency: str, window_key: str, now: datetime | None = None) -> str:
    """The id of a steward's own validation (``parreport validate``): its evidence goes to its own
    folder, never to an Airflow run's."""
    now = now or datetime.now(timezone.utc)
    base = f"{ADHOC_PREFIX}{now:%Y%m%dT%H%M%SZ}"
    run_id, n = base, 1
    while evidence_dir(data_dir, agency, window_key, run_id).exists():
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def evidence_dir(data_dir: Path | str, agency: str, window_key: str, run_id: str) -> Path:
    """The run's evidence folder (its Data Docs, tom-tat.html, cach-ly.json)."""
    return as_path(data_dir) / "data_docs" / agency / window_key / run_slug(run_id)


def direct_units(units: list[dict], agency: str) -> dict[str, str]:
    """Every unit below ``agency`` → the direct sub-unit (child of ``agency``) it belongs to;
    the agency maps to itself."""
    parent = {u["MaDonVi"]: u.get("MaDonViCha") for u in units
              if isinstance(u, dict) and isinstance(u.get("MaDonVi"), str)}
    out = {agency: agency}
    for code in parent:
        seen, cur = set(), code
        while cur is not None and cur not in seen:
            seen.add(cur)
            if parent.get(cur) == agency:
                out[code] = cur
                break
            if cur == agency:
                out[code] = agency
                break
            cur = parent.get(cur)
    return out


def snapshot_quarantine(store: st.Store, agency: str, window_key: str) -> list[dict]:
    """The partition's quarantine as it stands, one item per record with every rule it broke and
    the unit that processed it (DonViXuLy, and its direct sub-unit of the agency)."""
    units = [r for r in store.records(st.units, agency, window_key) if isinstance(r, dict)]
    direct = direct_units(units, agency)
    seqs = {"dossier": {}, "rating": {}}
    rows = store.quarantined(agency, window_key)
    wanted = {kind: {r["seq"] for r in rows if r["kind"] == kind} for kind in seqs}
    for kind, table in (("dossier", st.dossiers), ("rating", st.ratings)):
        ordered = sorted(wanted[kind])
        for i in range(0, len(ordered), 500):  # only the quarantined rows are read, a batch at a time
            for seq, rec in store.rows(table, agency, window_key, table.c.seq.in_(ordered[i:i + 500]),
                                       columns=("seq", "record")):
                rec = rec if isinstance(rec, dict) else {}
                seqs[kind][seq] = rec.get("DonViXuLy") if isinstance(rec.get("DonViXuLy"), str) else None
    out = []
    for r in rows:  # dossiers first, each kind in delivery order
        unit = seqs.get(r["kind"], {}).get(r["seq"])
        out.append({"kind": r["kind"], "seq": r["seq"], "ref": r["ref"], "unit": unit,
                    "direct_unit": direct.get(unit) if unit else None,
                    "violations": [{"rule": v.get("rule", ""), "field": v.get("field", ""),
                                    "message": v.get("message", "")}
                                   for v in (r["violations"] or []) if isinstance(v, dict)]})
    return out


def validation_detail(store: st.Store, data_dir: Path | str, agency: str, window_key: str, run_id: str, *,
                      total: int | None = None, threshold: float | None = None, summary: dict | None = None) -> dict:
    """What a validation did, read back from the store it wrote: counts by rule, the threshold,
    the evidence folder; the quarantine itself is written to the evidence folder."""
    items = snapshot_quarantine(store, agency, window_key)
    folder = evidence_dir(data_dir, agency, window_key, run_id)
    try:
        if folder.is_dir():
            write_json(folder / QUARANTINE_FILE, {"run_id": run_id, "agency": agency, "window_key": window_key,
                                                  "items": items})
    except OSError:
        log.exception("không ghi được danh sách cách ly của lần chạy vào %s", folder)
    dossiers = [i for i in items if i["kind"] == "dossier"]
    by_rule = Counter(rule for i in dossiers for rule in {v["rule"] for v in i["violations"]})
    rating_rules = Counter(rule for i in items if i["kind"] == "rating" for rule in {v["rule"] for v in i["violations"]})
    if total is None:
        total = sum(1 for _ in store.rows(st.dossiers, agency, window_key))
    detail = {"dossiers": total, "quarantined": len(dossiers), "ratings_rejected": len(items) - len(dossiers),
              "by_rule": dict(by_rule.most_common()), "rating_rules": dict(rating_rules.most_common()),
              "threshold": threshold, "evidence": run_slug(run_id) if folder.is_dir() else None}
    if summary:
        for key in ("corrected", "corrections_not_applied", "disagreements"):
            if key in summary:
                detail[key] = summary[key]
    return detail


def figures_detail(content: dict) -> dict:
    """What a computation found: Biểu 06's TONG row, the indicators and the targets missed."""
    bieu06 = [r for r in content.get("Bieu06") or [] if isinstance(r, dict)]
    tong = next((r for r in bieu06 if r.get("MaLinhVuc") == "TONG"), bieu06[-1] if bieu06 else None)
    indicators = [c for c in content.get("ChiTieu") or [] if isinstance(c, dict)]
    missed = [{k: c.get(k) for k in _MISSED_KEYS} for c in indicators if c.get("DatMucTieu") is False]
    quality = content.get("ChatLuongDuLieu") or {}
    return {"TONG": tong, "indicators": len(indicators), "missed": missed,
            "SoBanGhi": quality.get("SoBanGhi"), "SoBanGhiLoai": quality.get("SoBanGhiLoai"),
            "SoBanGhiDaSua": quality.get("SoBanGhiDaSua"),
            "DoiSoatCongDVC": len(quality.get("DoiSoatCongDVC") or [])}


def extract_detail(dataset: str, summary: dict) -> dict[str, Any]:
    return {"dataset": dataset, **{k: summary.get(k) for k in ("delivered", "tong_so", "pages")},
            "warnings": len(summary.get("warnings") or [])}
