"""The overview page (``/``): the quarters at a glance, agency × quarter — state, version,
receipt, deadline and the latest runs."""
from __future__ import annotations

from ... import fmt
from ... import store as st
from ...config import Settings
from ...periods import last_closed_window
from ...story import ADHOC_PREFIX
from ...timeutil import now_local
from ..urls import Urls
from .common import RunInfo, agency_view, as_json, receipt_state, window_view
from .runs import run_label, run_outcome, runs_of, short_outcome

# The state of a quarter on the overview: code -> (label, css class)
QUARTER_STATES = {
    "approved": ("Đã duyệt", "ok"), "accepted": ("Đã tiếp nhận, chờ duyệt", "ok"),
    "returned": ("Bị trả lại", "bad"), "stopped": ("Dừng ở bước kiểm tra dữ liệu", "bad"),
    "failed": ("Thất bại", "bad"), "running": ("Đang chạy", "info"), "submitted": ("Đã gửi, chưa có biên nhận", "info"),
    "not_sent": ("Chưa gửi", "warn"), "not_run": ("Chưa chạy", "muted"),
}


def quarters_overview(store: st.Store, settings: Settings, run_info: RunInfo | None, urls: "Urls") -> dict:
    """Agency × quarter: state, version, receipt, deadline and the runs (newest quarter first).
    Quarters come from the store and, for each configured agency, every window from the
    earliest known (at most four back) to the last closed one, so a quarter never run shows."""
    partitions = set(store.partitions())
    agencies = sorted({a for a, _ in partitions} | set(settings.agencies or (settings.agency,)))
    last = last_closed_window(now_local(), settings.window_rule)
    expected = [last]
    for _ in range(3):
        expected.append(expected[-1].previous())
    for agency in settings.agencies or (settings.agency,):
        for w in expected:
            partitions.add((agency, w.key))
    events = store.all_run_events()
    by_partition: dict[tuple[str, str], list[dict]] = {}
    for e in events:
        by_partition.setdefault((e["agency"], e["window_key"]), []).append(e)
    reports: dict[tuple[str, str], list[dict]] = {}
    for r in store.all_reports():
        reports.setdefault((r["agency"], r["window_key"]), []).append(r)
    run_ids = sorted({e["run_id"] for e in events if not e["run_id"].startswith(ADHOC_PREFIX)})
    info = (run_info(run_ids) if run_info else {}) or {}
    names = store.unit_names(codes=agencies)

    rows = []
    for agency, key in sorted(partitions, key=lambda p: (p[1], p[0]), reverse=True):
        w = window_view(key, settings.deadline_day)
        runs = runs_of([e for e in by_partition.get((agency, key), []) if not e["run_id"].startswith(ADHOC_PREFIX)])
        versions = reports.get((agency, key), [])
        state = _quarter_state(runs, versions, info)
        latest_version = versions[-1] if versions else None
        receipt = as_json(latest_version.get("receipt")) if latest_version else None
        run_links = []
        for run_id in list(runs)[::-1][:5]:
            o = run_outcome(runs[run_id], info.get(run_id))
            run_links.append({"label": run_label(run_id, info.get(run_id)), "outcome": short_outcome(o),
                              "summary": urls.summary(agency, key, run_id), "grid": urls.grid(run_id)})
        rows.append({
            "agency": agency_view(agency, names), "window": w, "state": state[0], "state_class": state[1],
            "version": latest_version["version"] if latest_version else None,
            "version_text": (f"Phiên bản {latest_version['version']}" if latest_version else fmt.DASH),
            "receipt": (receipt or {}).get("MaTiepNhan"),
            "receipt_state": receipt_state(receipt, latest_version["status"]) if latest_version else fmt.DASH,
            "receipt_url": urls.receipt(agency, key, latest_version["version"]) if receipt else None,
            "quarter_url": urls.summary(agency, key), "runs": run_links,
        })
    return {"rows": rows, "agencies": [agency_view(a, names) for a in agencies],
            "last_closed": fmt.quarter_title(last.year, last.quarter)}


def _quarter_state(runs: dict[str, list[dict]], versions: list[dict], info: dict) -> tuple[str, str]:
    latest = next(reversed(runs), None) if runs else None
    outcome = run_outcome(runs[latest], info.get(latest)) if latest else None
    if outcome and outcome.get("running"):
        return QUARTER_STATES["running"]
    if outcome and outcome["kind"] == "stopped":
        return QUARTER_STATES["stopped"]
    if outcome and outcome["kind"] == "failed":
        return QUARTER_STATES["failed"]
    last = versions[-1] if versions else None
    receipt = as_json(last.get("receipt")) if last else None
    state = (receipt or {}).get("TrangThai")
    if state == "TRA_LAI":
        return QUARTER_STATES["returned"]
    if outcome and outcome.get("airflow_failed"):
        return QUARTER_STATES["failed"]
    if state == "DA_DUYET":
        return QUARTER_STATES["approved"]
    if last is not None and last["status"] == "ACCEPTED":
        return QUARTER_STATES["accepted"]
    if last is not None:
        return QUARTER_STATES["submitted"]
    if runs:
        return QUARTER_STATES["not_sent"]
    return QUARTER_STATES["not_run"]
