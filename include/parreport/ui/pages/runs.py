"""The runs of a quarter, read from their stories (``store.run_events``): a run in words
(``run_label``), the events grouped by run (``runs_of``), and what a run came to
(``run_outcome``, ``short_outcome``), for the overview, the run page and the evidence list.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from ... import fmt
from ...story import ADHOC_PREFIX


def run_label(run_id: str, info: dict | None = None) -> str:
    """A run for people: what started it and when (never its raw id alone)."""
    kind, _, rest = run_id.partition("__")
    when = None
    if info and info.get("start_date"):
        when = info["start_date"]
    elif kind == ADHOC_PREFIX.rstrip("_"):
        m = re.match(r"(\d{8}T\d{6})Z", rest)
        if m:
            when = datetime.strptime(m.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc)
    else:
        try:
            when = datetime.fromisoformat(rest.replace("Z", "+00:00"))
        except ValueError:
            when = None
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
    what = {"manual": "Chạy tay", "scheduled": "Chạy theo lịch", "backfill": "Chạy bù",
            "asset_triggered": "Chạy theo dữ liệu", "kiem-tra-tay": "Cán bộ dữ liệu kiểm tra lại"}.get(kind, "Lần chạy")
    return f"{what} lúc {fmt.datetime_text(when)}" if when else what


def runs_of(events: list[dict]) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {}
    for e in events:
        runs.setdefault(e["run_id"], []).append(e)
    return runs


def run_outcome(events: list[dict], info: dict | None = None) -> dict:
    """What a run came to: ``kind`` (sent / unchanged / adopted / stopped / failed / running /
    partial) and the event that says it; Airflow's state, when known, has the last word on a
    failure no step recorded (a returned receipt, a task that never started)."""
    last: dict[str, dict] = {}
    for e in events:
        last[e["step"]] = e
    final = events[-1] if events else None
    submit = last.get("submit")
    state = (info or {}).get("state")
    out: dict[str, Any] = {"kind": "partial", "event": final, "version": None}
    if submit is not None and submit["outcome"] in ("sent", "unchanged", "adopted") and submit is final:
        out = {"kind": submit["outcome"], "event": submit, "version": (submit["detail"] or {}).get("version")}
    elif final is not None and final["outcome"] in ("stopped", "failed"):
        out = {"kind": final["outcome"], "event": final, "version": None}
    elif submit is not None and submit["outcome"] in ("sent", "unchanged", "adopted"):
        out = {"kind": submit["outcome"], "event": submit, "version": (submit["detail"] or {}).get("version")}
    if out["kind"] == "unchanged" and any(e["step"] == "submit" and e["outcome"] == "adopted" and
                                         (e["detail"] or {}).get("version") == out["version"] for e in events):
        out["kind"] = "adopted"  # it took back what an earlier run had sent, then found nothing new
    if state in ("running", "queued"):  # a failed attempt may still be retried
        out["kind"] = "running" if out["kind"] in ("partial", "failed") else out["kind"]
        out["running"] = True
    if state == "failed":
        out["airflow_failed"] = True
        if out["kind"] in ("partial", "running"):
            out["kind"] = "failed"
    return out


def short_outcome(outcome: dict) -> str:
    kind, v = outcome["kind"], outcome.get("version")
    return {"sent": f"đã gửi phiên bản {v}", "unchanged": f"không có gì mới (giống phiên bản {v})",
            "adopted": f"nhận lại phiên bản {v}", "stopped": "dừng ở bước kiểm tra dữ liệu", "failed": "thất bại",
            "running": "đang chạy", "partial": "chưa gửi"}.get(kind, kind) + (
        " — sau đó thất bại" if outcome.get("airflow_failed") and kind in ("sent", "unchanged", "adopted") else "")
