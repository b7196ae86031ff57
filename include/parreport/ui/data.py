"""What each page shows, read from the pipeline's store and data directory (read only) and
worded for people through :mod:`parreport.fmt`: the quarters at a glance, the story of a run,
the quarantine of a run, a receipt, the documents of each version, the evidence of each run.

Every function returns plain dicts for the templates (``templates/``); nothing here writes.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, urlencode

from .. import fmt
from .. import store as st
from ..config import Settings
from ..files import run_slug
from ..kinds import KINDS
from ..periods import Window, deadline_for, last_closed_window, window_for
from ..story import ADHOC_PREFIX, QUARANTINE_FILE, snapshot_quarantine
from ..timeutil import now_local
from ..storage import mtime, relative_name
from .paths import NotFound, data_docs_root, files, reports_root, safe_name, subdirs, version_dirs

RunInfo = Callable[[list[str]], dict[str, dict]]

STEP_TITLES = {"extract": "Lấy dữ liệu từ Cổng DVC", "load": "Nạp vào kho dữ liệu", "validate": "Kiểm tra dữ liệu",
               "compute": "Tính số liệu", "build": "Lập báo cáo", "submit": "Gửi Sở Nội vụ",
               "receipt": "Theo dõi biên nhận"}
OUTCOME_LABELS = {"ok": "Xong", "stopped": "Dừng", "failed": "Thất bại", "sent": "Đã gửi",
                  "unchanged": "Không gửi (không có gì mới)", "adopted": "Nhận lại phiên bản đã gửi"}
AIRFLOW_STATES = {"success": "Thành công", "failed": "Thất bại", "running": "Đang chạy", "queued": "Đang chờ chạy"}
# The state of a quarter on the overview: code -> (label, css class)
QUARTER_STATES = {
    "approved": ("Đã duyệt", "ok"), "accepted": ("Đã tiếp nhận, chờ duyệt", "ok"),
    "returned": ("Bị trả lại", "bad"), "stopped": ("Dừng ở bước kiểm tra dữ liệu", "bad"),
    "failed": ("Thất bại", "bad"), "running": ("Đang chạy", "info"), "submitted": ("Đã gửi, chưa có biên nhận", "info"),
    "not_sent": ("Chưa gửi", "warn"), "not_run": ("Chưa chạy", "muted"),
}
_TASK_TITLES = {"follow_receipt": "theo dõi biên nhận", "record_receipt": "ghi biên nhận",
                "submit_report": "gửi Sở Nội vụ", "build_report": "lập báo cáo", "compute_figures": "tính số liệu",
                "validate_records": "kiểm tra dữ liệu", "load_staging": "nạp vào kho dữ liệu",
                "resolve_period": "xác định kỳ báo cáo", "list_agencies": "xác định đơn vị báo cáo"}
PAGE_LIMIT = 1000  # records listed on the quarantine page; the downloads carry every one
_KEY = re.compile(r"^(\d{4})Q([1-4])_(\d{8})_(\d{8})$")


# ------------------------------------------------------------------------------------------------
# small helpers
# ------------------------------------------------------------------------------------------------
def window_of(key: str) -> Window | None:
    """The window a partition key names (either rule), or None for a key of another form."""
    m = _KEY.match(key or "")
    if not m:
        return None
    for rule in ("nd09", "calendar"):
        try:
            w = window_for(int(m.group(1)), int(m.group(2)), rule)
        except ValueError:
            continue
        if w.key == key:
            return w
    return None


def window_view(key: str, deadline_day: int) -> dict:
    w = window_of(key)
    if w is None:
        return {"key": key, "title": "Kỳ báo cáo khác", "range": "", "deadline": fmt.DASH, "year": None,
                "quarter": None}
    deadline = deadline_for(w, deadline_day)
    return {"key": key, "title": fmt.quarter_title(w.year, w.quarter),
            "range": f"{w.start:%d/%m/%Y} – {w.end:%d/%m/%Y}", "year": w.year, "quarter": w.quarter,
            "deadline": f"{deadline:%H:%M:%S} ngày {deadline:%d/%m/%Y}"}


def agency_view(code: str, names: dict[str, str]) -> dict:
    name = names.get(code)
    return {"code": code, "name": name or code, "label": fmt.agency_label(code, name)}


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


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


def _at(value: Any) -> str:
    """A time from the store (SQLite gives it back naive, in UTC) in Vietnam time."""
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return fmt.datetime_text(value)


def _pct(part: int, whole: int) -> str:
    if not whole:
        return fmt.DASH
    return fmt.percent(Decimal(part) * 100 / Decimal(whole))


def _threshold(value: Any) -> str:
    if value is None:
        return fmt.DASH
    return fmt.target(Decimal(str(value)) * 100, None)


def _rule_title(rule: str) -> str:
    from ..quality.suites import rule_title

    return rule_title(rule)


def _receipt_state(receipt: dict | None, status: str | None = None) -> str:
    if receipt and receipt.get("TrangThai"):
        return fmt.label("bien_nhan", receipt.get("TrangThai"))
    return fmt.label("phien_ban", status) if status else fmt.DASH


# ------------------------------------------------------------------------------------------------
# the runs of a quarter, from their stories
# ------------------------------------------------------------------------------------------------
def _runs_of(events: list[dict]) -> dict[str, list[dict]]:
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


def _sentence(outcome: dict, versions: dict[int, dict], window_title: str, failed_tasks: list[str]) -> str:
    kind, event = outcome["kind"], outcome.get("event") or {}
    detail = event.get("detail") or {}
    version = outcome.get("version")
    row = versions.get(version) if version else None
    receipt = _json(row.get("receipt")) if row else None
    number = (receipt or {}).get("MaTiepNhan") or detail.get("MaTiepNhan")
    state = _receipt_state(receipt, row.get("status") if row else None)
    tail = ""
    if outcome.get("airflow_failed") and kind in ("sent", "unchanged", "adopted"):
        steps = ", ".join(sorted({_TASK_TITLES.get(t.rsplit(".", 1)[-1], t.rsplit(".", 1)[-1]) for t in failed_tasks}))
        tail = f" Sau đó lần chạy thất bại ở bước {steps or 'sau khi gửi'} (xem nhật ký của bước đó trong Airflow)."
    if kind == "sent":
        return (f"Lần chạy này đã gửi phiên bản {version} của báo cáo {window_title} cho Sở Nội vụ "
                f"(biên nhận {number or fmt.DASH}: {state.lower()}).{tail}")
    if kind == "unchanged":
        return (f"Lần chạy này không có gì mới để gửi: số liệu giống phiên bản {version} đã được Sở Nội vụ tiếp nhận "
                f"(biên nhận {number or fmt.DASH}).{tail}")
    if kind == "adopted":
        return (f"Lần chạy này nhận lại phiên bản {version} mà một lần chạy trước đã gửi nhưng chưa kịp ghi biên nhận "
                f"(biên nhận {number or fmt.DASH}); không gửi lại.{tail}")
    if kind == "stopped":
        q, total = detail.get("quarantined") or 0, detail.get("dossiers") or 0
        return (f"Lần chạy dừng ở bước kiểm tra dữ liệu, trước khi gửi báo cáo: {fmt.number(q)} trong "
                f"{fmt.number(total)} hồ sơ ({_pct(q, total)}) vi phạm quy tắc chặn, vượt ngưỡng "
                f"{_threshold(detail.get('threshold'))}.")
    if kind == "failed":
        if event and event.get("outcome") == "failed":
            return (f"Lần chạy thất bại ở bước {STEP_TITLES.get(event['step'], event['step']).lower()}, "
                    f"không gửi gì: {_first_sentence(detail.get('error'))}")
        steps = ", ".join(sorted({_TASK_TITLES.get(t.rsplit(".", 1)[-1], t.rsplit(".", 1)[-1]) for t in failed_tasks}))
        return (f"Lần chạy thất bại ở bước {steps or 'không rõ'} và không gửi báo cáo nào; "
                "xem nhật ký của bước đó trong Airflow.")
    if kind == "running":
        step = STEP_TITLES.get(event.get("step"), "") if event else ""
        return f"Lần chạy đang chạy{(' — bước đã xong gần nhất: ' + step.lower()) if step else ''}."
    step = STEP_TITLES.get(event.get("step"), "") if event else ""
    return f"Lần chạy chưa gửi báo cáo{(' — bước đã xong gần nhất: ' + step.lower()) if step else ''}."


def _first_sentence(text: Any) -> str:
    text = str(text or "").strip()
    if not text:
        return "không rõ lý do."
    first = text.splitlines()[0]
    return first if first.endswith(".") else first + "."


# ------------------------------------------------------------------------------------------------
# the quarters at a glance
# ------------------------------------------------------------------------------------------------
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
        runs = _runs_of([e for e in by_partition.get((agency, key), []) if not e["run_id"].startswith(ADHOC_PREFIX)])
        versions = reports.get((agency, key), [])
        state = _quarter_state(runs, versions, info)
        latest_version = versions[-1] if versions else None
        receipt = _json(latest_version.get("receipt")) if latest_version else None
        run_links = []
        for run_id in list(runs)[::-1][:5]:
            o = run_outcome(runs[run_id], info.get(run_id))
            run_links.append({"label": run_label(run_id, info.get(run_id)), "outcome": _short(o),
                              "summary": urls.summary(agency, key, run_id), "grid": urls.grid(run_id)})
        rows.append({
            "agency": agency_view(agency, names), "window": w, "state": state[0], "state_class": state[1],
            "version": latest_version["version"] if latest_version else None,
            "version_text": (f"Phiên bản {latest_version['version']}" if latest_version else fmt.DASH),
            "receipt": (receipt or {}).get("MaTiepNhan"),
            "receipt_state": _receipt_state(receipt, latest_version["status"]) if latest_version else fmt.DASH,
            "receipt_url": urls.receipt(agency, key, latest_version["version"]) if receipt else None,
            "quarter_url": urls.summary(agency, key), "runs": run_links,
        })
    return {"rows": rows, "agencies": [agency_view(a, names) for a in agencies],
            "last_closed": fmt.quarter_title(last.year, last.quarter)}


def _short(outcome: dict) -> str:
    kind, v = outcome["kind"], outcome.get("version")
    return {"sent": f"đã gửi phiên bản {v}", "unchanged": f"không có gì mới (giống phiên bản {v})",
            "adopted": f"nhận lại phiên bản {v}", "stopped": "dừng ở bước kiểm tra dữ liệu", "failed": "thất bại",
            "running": "đang chạy", "partial": "chưa gửi"}.get(kind, kind) + (
        " — sau đó thất bại" if outcome.get("airflow_failed") and kind in ("sent", "unchanged", "adopted") else "")


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
    receipt = _json(last.get("receipt")) if last else None
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


# ------------------------------------------------------------------------------------------------
# a run's story
# ------------------------------------------------------------------------------------------------
class Urls:
    """The links the pages carry (below the app's mount point, and into Airflow's UI)."""

    def __init__(self, prefix: str, airflow_root: str):
        self.prefix, self.airflow_root = prefix, airflow_root

    @staticmethod
    def _q(v: str) -> str:
        return quote(v, safe="")

    def _base(self, page: str, agency: str, key: str) -> str:
        return f"{self.prefix}/{page}/{self._q(agency)}/{self._q(key)}"

    def summary(self, agency: str, key: str, run_id: str | None = None) -> str:
        return self._base("tom-tat", agency, key) + (f"?{urlencode({'run_id': run_id})}" if run_id else "")

    def quarantine(self, agency: str, key: str, run_id: str | None = None, **filters) -> str:
        params = {k: v for k, v in {"run_id": run_id, **filters}.items() if v}
        return self._base("cach-ly", agency, key) + (f"?{urlencode(params)}" if params else "")

    def quarantine_download(self, agency: str, key: str, ext: str, run_id: str | None = None, **filters) -> str:
        params = {k: v for k, v in {"run_id": run_id, **filters}.items() if v}
        return self._base("cach-ly", agency, key) + f"/tai-ve.{ext}" + (f"?{urlencode(params)}" if params else "")

    def receipt(self, agency: str, key: str, version: int | None = None) -> str:
        return self._base("bien-nhan", agency, key) + (f"?{urlencode({'phien_ban': version})}" if version else "")

    def report_file(self, agency: str, key: str, version: int, name: str) -> str:
        return self._base("bao-cao", agency, key) + f"/v{version}/{quote(name)}"

    def documents(self, agency: str, key: str) -> str:
        return self._base("bao-cao", agency, key) + "/"

    def evidence(self, agency: str, key: str, slug: str, page: str = "tom-tat.html") -> str:
        return self._base("data-docs", agency, key) + f"/{quote(slug)}/{page}"

    def evidence_list(self, agency: str, key: str) -> str:
        return self._base("data-docs", agency, key) + "/"

    def grid(self, run_id: str) -> str:
        from .airflow import grid_url

        return grid_url(self.airflow_root, run_id)

    def overview(self) -> str:
        return f"{self.prefix}/"


def _versions(store: st.Store, agency: str, key: str) -> list[dict]:
    out = []
    for row in store.window_reports(agency, key):
        body = _json(row.get("body")) or {}
        receipt = _json(row.get("receipt")) or {}
        out.append({**row, "body": body, "receipt": receipt})
    return out


def _figures_view(detail: dict | None, agency: str, names: dict[str, str]) -> dict | None:
    if not detail or not detail.get("TONG"):
        return None
    t = detail["TONG"]
    tn, dg, dang = t.get("TiepNhan") or {}, t.get("DaGiaiQuyet") or {}, t.get("DangGiaiQuyet") or {}
    cells = [fmt.number(v) for v in (tn.get("Tong"), tn.get("TrucTuyen"), tn.get("TrucTiepBuuChinh"),
                                     tn.get("KyTruocChuyenSang"), dg.get("Tong"), dg.get("TruocHan"),
                                     dg.get("DungHan"), dg.get("QuaHan"), dang.get("Tong"), dang.get("TrongHan"),
                                     dang.get("QuaHan"))]
    missed = []
    for m in detail.get("missed") or []:
        scope = m.get("PhamVi")
        missed.append({"name": m.get("TenChiTieu") or m.get("MaChiTieu"), "code": m.get("MaChiTieu"),
                       "scope": "Toàn đơn vị" if scope == agency else (names.get(scope) or scope),
                       "value": fmt.percent(m.get("GiaTri")), "target": fmt.target(m.get("MucTieu"), m.get("SoSanh")),
                       "fraction": f"{fmt.number(m.get('TuSo'))} / {fmt.number(m.get('MauSo'))}"})
    own = sum(1 for m in detail.get("missed") or [] if m.get("PhamVi") == agency)
    return {"cells": cells, "indicators": fmt.number(detail.get("indicators")), "missed": missed,
            "missed_count": fmt.number(len(missed)), "missed_own": fmt.number(own),
            "missed_units": fmt.number(len(missed) - own), "reconciliation": fmt.number(detail.get("DoiSoatCongDVC"))}


def _validation_view(detail: dict | None) -> dict | None:
    if not detail:
        return None
    q, total = detail.get("quarantined") or 0, detail.get("dossiers") or 0
    rules = [{"title": _rule_title(r), "code": r, "count": fmt.number(n)} for r, n in (detail.get("by_rule") or {}).items()]
    rating_rules = [{"title": _rule_title(r), "code": r, "count": fmt.number(n)}
                    for r, n in (detail.get("rating_rules") or {}).items()]
    return {"dossiers": fmt.number(total), "quarantined": fmt.number(q), "share": _pct(q, total),
            "threshold": _threshold(detail.get("threshold")), "rules": rules, "rating_rules": rating_rules,
            "ratings_rejected": fmt.number(detail.get("ratings_rejected")),
            "corrected": fmt.number(detail.get("corrected")) if detail.get("corrected") is not None else None,
            "evidence": detail.get("evidence")}


def steward_commands(agency: str, window: dict) -> list[dict]:
    y, q = window.get("year"), window.get("quarter")
    p = f"--agency {agency} --year {y} --quarter {q}"
    return [
        {"what": "Xem các hồ sơ bị cách ly và quy tắc chúng vi phạm", "cmd": f"parreport quarantine list {p}"},
        {"what": "Ghi một sửa đổi (mỗi trường sai của một hồ sơ một lệnh; giá trị viết dạng JSON)",
         "cmd": f"parreport corrections add {p} --ma-ho-so <MaHoSo> --field <Trường> "
                f"--value '<giá trị JSON>' --reason '<lý do sửa>' --by '<họ tên>'"},
        {"what": "Kiểm tra lại ngay, không gửi gì (ghi bằng chứng vào thư mục riêng)", "cmd": f"parreport validate {p}"},
    ]


def run_story(store: st.Store, settings: Settings, agency: str, key: str, run_id: str | None,
              run_info: RunInfo | None, urls: Urls) -> dict:
    """Everything the run tab shows; without ``run_id``, the quarter's latest run."""
    safe_name(agency), safe_name(key)
    events = store.run_events(agency, key)
    versions = _versions(store, agency, key)
    stats = store.load_stats(agency, key)
    if not events and not versions and not stats:
        raise NotFound(f"chưa có dữ liệu nào của đơn vị {agency} cho kỳ này")
    runs = _runs_of(events)
    airflow_runs = [r for r in runs if not r.startswith(ADHOC_PREFIX)]
    if run_id is None:
        run_id = airflow_runs[-1] if airflow_runs else (list(runs)[-1] if runs else None)
    info_all = (run_info(list(runs)) if run_info and runs else {}) or {}
    names = store.unit_names(agency, key) or store.unit_names(codes=[agency])
    window = window_view(key, settings.deadline_day)
    by_version = {v["version"]: v for v in versions}
    this = runs.get(run_id, []) if run_id else []
    info = info_all.get(run_id) if run_id else None

    steps = []
    extracted = {}
    for e in this:
        d = e["detail"] or {}
        if e["step"] == "extract" and e["outcome"] == "ok":
            extracted[d.get("dataset")] = d
            continue
        steps.append({"title": STEP_TITLES.get(e["step"], e["step"]), "outcome": OUTCOME_LABELS.get(e["outcome"],
                                                                                                  e["outcome"]),
                      "cls": {"ok": "ok", "sent": "ok", "unchanged": "ok", "adopted": "ok"}.get(e["outcome"], "bad"),
                      "at": _at(e["at"]), "text": _step_text(e, names)})
    if extracted:
        steps.insert(0, {"title": STEP_TITLES["extract"], "outcome": OUTCOME_LABELS["ok"], "cls": "ok",
                         "at": _at(max(e["at"] for e in this if e["step"] == "extract")),
                         "text": "; ".join(f"{k.label}: {fmt.number(extracted[k.dataset].get('delivered'))}"
                                           for k in KINDS if k.dataset in extracted)})
    loads = [e for e in this if e["step"] == "load" and e["outcome"] == "ok"]
    records = []
    if loads:
        load = loads[-1]["detail"] or {}
        for k in KINDS:
            d = load.get(k.dataset)
            if d:
                records.append({"label": k.label, "tong_so": fmt.number((extracted.get(k.dataset) or {}).get("tong_so")),
                                "delivered": fmt.number(d.get("delivered")), "staged": fmt.number(d.get("staged")),
                                "duplicates": fmt.number(d.get("duplicates"))})
    validations = [e for e in this if e["step"] == "validate" and e["outcome"] in ("ok", "stopped")]
    validation = _validation_view(validations[-1]["detail"] if validations else None)
    for r in (validation or {}).get("rules") or []:
        r["url"] = urls.quarantine(agency, key, run_id, quy_tac=r["code"])
    computes = [e for e in this if e["step"] == "compute" and e["outcome"] == "ok"]
    figures = _figures_view(computes[-1]["detail"] if computes else None, agency, names)

    outcome = run_outcome(this, info) if this else {"kind": "none", "event": None, "version": None}
    failed_tasks = (info or {}).get("failed_tasks") or []
    sentence = (_sentence(outcome, by_version, window["title"], failed_tasks) if this
                else "Lần chạy này chưa ghi lại bước nào (chưa chạy đến bước lấy dữ liệu, hoặc chạy trước khi có "
                     "nhật ký lần chạy).")
    evidence = None
    slug = (validation or {}).get("evidence") or (run_slug(run_id) if run_id else None)
    if slug and (data_docs_root(settings, agency, key) / slug).is_dir():
        folder = data_docs_root(settings, agency, key) / slug
        evidence = {"summary": urls.evidence(agency, key, slug) if (folder / "tom-tat.html").is_file() else None,
                    "gx": urls.evidence(agency, key, slug, "index.html") if (folder / "index.html").is_file() else None}
    submission = None
    if outcome.get("version") and outcome["version"] in by_version:
        v = by_version[outcome["version"]]
        submission = _version_view(v, agency, key, urls, settings)
    stopped = outcome["kind"] == "stopped"
    return {
        "agency": agency_view(agency, names), "window": window, "run_id": run_id,
        "run_label": run_label(run_id, info) if run_id else None,
        "airflow_state": AIRFLOW_STATES.get((info or {}).get("state"), None),
        "grid_url": urls.grid(run_id) if run_id and not run_id.startswith(ADHOC_PREFIX) else None,
        "outcome": outcome["kind"], "outcome_class": {"sent": "ok", "unchanged": "ok", "adopted": "ok",
                                                      "running": "info", "partial": "warn", "none": "warn"}.get(outcome["kind"], "bad"),
        "sentence": sentence, "steps": steps, "records": records, "validation": validation, "figures": figures,
        "figures_sent": outcome["kind"] in ("sent", "unchanged", "adopted"), "submission": submission,
        "evidence": evidence, "stopped": stopped,
        "steward": {"commands": steward_commands(agency, window),
                    "page": urls.quarantine(agency, key, run_id)} if stopped or (validation and
                                                                               validation["quarantined"] != "0") else None,
        "quarantine_url": urls.quarantine(agency, key, run_id) if validation else None,
        # the versions as this run left them: up to the one it sent or matched, none if it sent nothing
        "versions": [_version_view(v, agency, key, urls, settings) for v in reversed(versions)
                     if outcome.get("version") and v["version"] <= outcome["version"]],
        "runs": [{"label": run_label(r, info_all.get(r)),
                  "outcome": ("chỉ kiểm tra lại dữ liệu, không gửi gì" if r.startswith(ADHOC_PREFIX)
                              else _short(run_outcome(runs[r], info_all.get(r)))),
                  "url": urls.summary(agency, key, r), "current": r == run_id} for r in reversed(list(runs))],
        "documents_url": urls.documents(agency, key), "evidence_list_url": urls.evidence_list(agency, key),
        "overview_url": urls.overview(),
    }


def _step_text(e: dict, names: dict[str, str]) -> str:
    d = e["detail"] or {}
    step, outcome = e["step"], e["outcome"]
    if outcome == "failed":
        return _first_sentence(d.get("error"))
    if step == "load":
        ds = d.get("dossiers") or {}
        return (f"{fmt.number(ds.get('staged'))} hồ sơ vào kho (nhận {fmt.number(ds.get('delivered'))}, "
                f"bỏ {fmt.number(ds.get('duplicates'))} bản trùng)")
    if step == "validate":
        q, total = d.get("quarantined") or 0, d.get("dossiers") or 0
        text = (f"{fmt.number(q)} trong {fmt.number(total)} hồ sơ bị cách ly ({_pct(q, total)}; ngưỡng dừng "
                f"{_threshold(d.get('threshold'))})")
        if d.get("corrected"):
            text += f"; {fmt.number(d['corrected'])} hồ sơ đã được cán bộ dữ liệu sửa"
        return text
    if step == "compute":
        return (f"Biểu 06 và {fmt.number(d.get('indicators'))} chỉ tiêu; "
                f"{fmt.number(len(d.get('missed') or []))} chỉ tiêu không đạt mục tiêu")
    if step == "build":
        if d.get("unchanged"):
            return f"Nội dung giống phiên bản {d.get('last_accepted_version')} đã được tiếp nhận"
        return "Nội dung mới" + (f" so với phiên bản {d['last_accepted_version']}" if d.get("last_accepted_version")
                                 else "")
    if step == "submit":
        v = d.get("version")
        if outcome == "sent":
            return f"Đã gửi phiên bản {v}, biên nhận {d.get('MaTiepNhan') or fmt.DASH}"
        if outcome == "unchanged":
            return f"Không gửi gì: giống phiên bản {v} (biên nhận {d.get('MaTiepNhan') or fmt.DASH})"
        if outcome == "adopted":
            return f"Nhận lại phiên bản {v} đã gửi trước đó (biên nhận {d.get('MaTiepNhan') or fmt.DASH})"
    return ""


def _version_view(v: dict, agency: str, key: str, urls: Urls, settings: Settings) -> dict:
    receipt = v.get("receipt") or {}
    body = v.get("body") or {}
    folder = reports_root(settings, agency, key) / f"v{v['version']}"
    docs = [{"name": relative_name(f, folder), "url": urls.report_file(agency, key, v["version"],
                                                                         relative_name(f, folder))}
            for f in files(folder) if f.name not in ("bao-cao.json", "bien-nhan.json")]
    return {"version": v["version"], "status": fmt.label("phien_ban", v["status"]),
            "receipt_no": receipt.get("MaTiepNhan"), "receipt_state": _receipt_state(receipt, v["status"]),
            "receipt_at": fmt.datetime_text(receipt.get("ThoiDiemTiepNhan")),
            "returned_reason": receipt.get("LyDoTraLai"), "reason": body.get("LyDoDieuChinh"),
            "created": fmt.datetime_text(body.get("NgayLap")),
            "receipt_url": urls.receipt(agency, key, v["version"]) if receipt else None, "documents": docs,
            "report_json": urls.report_file(agency, key, v["version"], "bao-cao.json")
            if (folder / "bao-cao.json").is_file() else None,
            "run_url": urls.summary(agency, key, v["run_id"]) if v.get("run_id") else None}


# ------------------------------------------------------------------------------------------------
# the quarantine of a run (the steward's page)
# ------------------------------------------------------------------------------------------------
def quarantine_items(store: st.Store, settings: Settings, agency: str, key: str,
                     run_id: str | None) -> tuple[list[dict], str]:
    """The run's quarantine (its evidence file), else the partition's current one; with where
    it came from, in words."""
    safe_name(agency), safe_name(key)
    if run_id:
        path = data_docs_root(settings, agency, key) / run_slug(run_id) / QUARANTINE_FILE
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                return list(data.get("items") or []), "run"
            except (OSError, ValueError):
                pass
    return snapshot_quarantine(store, agency, key), "current"


def quarantine_view(store: st.Store, settings: Settings, agency: str, key: str, run_id: str | None,
                    rule: str | None, unit: str | None, urls: Urls, run_info: RunInfo | None = None) -> dict:
    from ..quarantine import flat_rows

    items, source = quarantine_items(store, settings, agency, key, run_id)
    names = store.unit_names(agency, key) or store.unit_names(codes=[agency])
    rows = flat_rows(items, names, agency)
    rule_counts = Counter()
    unit_counts = Counter()
    for item in items:
        for r in {v["rule"] for v in item.get("violations") or []}:
            rule_counts[r] += 1
        unit_counts[item.get("direct_unit") or item.get("unit") or ""] += 1
    shown = [r for r in rows if (not rule or r["QuyTac"] == rule) and (not unit or r["_unit_code"] == unit)]
    records: dict[tuple, dict] = {}
    for r in shown:
        rec = records.setdefault((r["LoaiBanGhi"], r["STT"]), {"kind": r["LoaiBanGhi"], "ref": r["Ma"], "seq": r["STT"],
                                                               "unit": r["DonVi"], "rules": []})
        rec["rules"].append({"title": r["TenQuyTac"], "code": r["QuyTac"], "field": r["Truong"], "message": r["MoTa"]})
    window = window_view(key, settings.deadline_day)
    info = (run_info([run_id]) if run_info and run_id else {}) or {}
    filters = {"quy_tac": rule, "don_vi": unit}
    return {
        "agency": agency_view(agency, names), "window": window, "run_id": run_id,
        "run_label": run_label(run_id, info.get(run_id)) if run_id else None, "source": source,
        "records": list(records.values())[:PAGE_LIMIT], "shown": fmt.number(len(records)),
        "truncated": fmt.number(PAGE_LIMIT) if len(records) > PAGE_LIMIT else None,
        "total_dossiers": fmt.number(sum(1 for i in items if i.get("kind") == "dossier")),
        "total_ratings": fmt.number(sum(1 for i in items if i.get("kind") == "rating")),
        "rules": [{"code": r, "title": _rule_title(r), "count": fmt.number(n), "selected": r == rule}
                  for r, n in rule_counts.most_common()],
        "units": [{"code": u, "title": _unit_title(u, names, agency), "count": fmt.number(n), "selected": u == unit}
                  for u, n in sorted(unit_counts.items(), key=lambda x: _unit_title(x[0], names, agency))],
        "rule": rule, "unit": unit,
        "csv_url": urls.quarantine_download(agency, key, "csv", run_id, **filters),
        "xlsx_url": urls.quarantine_download(agency, key, "xlsx", run_id, **filters),
        "clear_url": urls.quarantine(agency, key, run_id),
        "summary_url": urls.summary(agency, key, run_id), "grid_url": urls.grid(run_id) if run_id and not
        run_id.startswith(ADHOC_PREFIX) else None,
        "commands": steward_commands(agency, window),
    }


def _unit_title(code: str, names: dict[str, str], agency: str) -> str:
    from ..quarantine import unit_label

    return unit_label(code or None, names, agency)


def quarantine_export(store: st.Store, settings: Settings, agency: str, key: str, run_id: str | None,
                      rule: str | None, unit: str | None) -> tuple[list[dict], str]:
    from ..quarantine import flat_rows

    items, _ = quarantine_items(store, settings, agency, key, run_id)
    names = store.unit_names(agency, key) or store.unit_names(codes=[agency])
    rows = [r for r in flat_rows(items, names, agency)
            if (not rule or r["QuyTac"] == rule) and (not unit or r["_unit_code"] == unit)]
    w = window_view(key, settings.deadline_day)
    return rows, f"Cách ly {w['title']}, {agency}"


# ------------------------------------------------------------------------------------------------
# receipts, documents, evidence
# ------------------------------------------------------------------------------------------------
def receipt_view(store: st.Store, settings: Settings, agency: str, key: str, version: int | None, urls: Urls) -> dict:
    safe_name(agency), safe_name(key)
    versions = _versions(store, agency, key)
    root = reports_root(settings, agency, key)
    candidates = [v["version"] for v in versions if v.get("receipt")]
    if version is None:
        accepted = [v["version"] for v in versions if v["status"] == "ACCEPTED" and v.get("receipt")]
        version = (accepted or candidates or [None])[-1]
    receipt = None
    row = next((v for v in versions if v["version"] == version), None)
    path = root / f"v{version}" / "bien-nhan.json" if version is not None else None
    if path is not None and path.is_file():
        try:
            receipt = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            receipt = None
    if receipt is None and row is not None:
        receipt = row.get("receipt") or None
    if not isinstance(receipt, dict):
        raise NotFound(f"chưa có biên nhận của đơn vị {agency} cho kỳ này")
    names = store.unit_names(agency, key) or store.unit_names(codes=[agency])
    window = window_view(key, settings.deadline_day)
    agency_code = receipt.get("MaDonViBaoCao") or agency
    return {
        "agency": agency_view(agency_code, names), "window": window, "version": version,
        "fields": [
            ("Số biên nhận", receipt.get("MaTiepNhan") or fmt.DASH),
            ("Trạng thái", fmt.label("bien_nhan", receipt.get("TrangThai"))),
            ("Thời điểm tiếp nhận", fmt.datetime_text(receipt.get("ThoiDiemTiepNhan"))),
            ("Đơn vị báo cáo", agency_view(agency_code, names)["label"]),
            ("Kỳ báo cáo", fmt.quarter_title(receipt["Nam"], receipt["Quy"])
             if isinstance(receipt.get("Nam"), int) and isinstance(receipt.get("Quy"), int) else window["title"]),
            ("Phiên bản", fmt.number(receipt.get("PhienBan"))),
            ("Mã băm SHA-256 của nội dung đã ký", receipt.get("SHA256") or fmt.DASH),
        ],
        "returned": receipt.get("TrangThai") == "TRA_LAI", "returned_reason": receipt.get("LyDoTraLai"),
        "state_class": {"DA_DUYET": "ok", "TRA_LAI": "bad"}.get(receipt.get("TrangThai"), "info"),
        "json_url": urls.report_file(agency, key, version, "bien-nhan.json") if path is not None and path.is_file()
        else None,
        "others": [{"version": v, "url": urls.receipt(agency, key, v)} for v in candidates if v != version],
        "summary_url": urls.summary(agency, key, row["run_id"]) if row and row.get("run_id") else urls.summary(agency, key),
        "documents_url": urls.documents(agency, key),
    }


_DOC_TITLES = {"bao-cao.json": "Báo cáo đã ký gửi Sở Nội vụ (JSON)", "bien-nhan.json": "Biên nhận của Sở Nội vụ (JSON)"}


def documents_view(store: st.Store, settings: Settings, agency: str, key: str, urls: Urls) -> dict:
    safe_name(agency), safe_name(key)
    root = reports_root(settings, agency, key)
    versions = {v["version"]: v for v in _versions(store, agency, key)}
    out = []
    for n, folder in reversed(version_dirs(root)):
        entries = []
        for f in files(folder):
            rel = relative_name(f, folder)
            entries.append({"name": rel, "title": _doc_title(rel), "url": urls.report_file(agency, key, n, rel),
                            "size": f"{fmt.number(max(1, round(f.stat().st_size / 1024)))} KB"})
        v = versions.get(n)
        out.append({"version": n, "files": entries,
                    "state": _receipt_state(v.get("receipt"), v.get("status")) if v else fmt.DASH,
                    "reason": (v.get("body") or {}).get("LyDoDieuChinh") if v else None,
                    "receipt_url": urls.receipt(agency, key, n) if v and v.get("receipt") else None})
    names = store.unit_names(agency, key) or store.unit_names(codes=[agency])
    return {"agency": agency_view(agency, names), "window": window_view(key, settings.deadline_day),
            "versions": out, "summary_url": urls.summary(agency, key)}


def _doc_title(name: str) -> str:
    if name in _DOC_TITLES:
        return _DOC_TITLES[name]
    suffix = Path(name).suffix.lower()
    return {".xlsx": "Biểu 06 (bảng tính)", ".pdf": "Báo cáo (PDF)", ".html": "Báo cáo (trang web)"}.get(suffix, name)


def evidence_view(store: st.Store, settings: Settings, agency: str, key: str, urls: Urls,
                  run_info: RunInfo | None = None) -> dict:
    root = data_docs_root(settings, agency, key)
    folders = sorted((p for p in subdirs(root) if (p / "index.html").is_file() or (p / "tom-tat.html").is_file()),
                     key=mtime, reverse=True)
    events = store.run_events(agency, key)
    slugs = {run_slug(e["run_id"]): e["run_id"] for e in events}
    info = (run_info(sorted(set(slugs.values()))) if run_info and slugs else {}) or {}
    names = store.unit_names(agency, key) or store.unit_names(codes=[agency])
    runs = []
    for p in folders:
        run_id = slugs.get(p.name)
        runs.append({"label": run_label(run_id, info.get(run_id)) if run_id else run_label(p.name),
                     "at": fmt.datetime_text(datetime.fromtimestamp(mtime(p), tz=timezone.utc)),
                     "summary": urls.evidence(agency, key, p.name) if (p / "tom-tat.html").is_file() else None,
                     "gx": urls.evidence(agency, key, p.name, "index.html") if (p / "index.html").is_file() else None,
                     "quarantine": urls.quarantine(agency, key, run_id) if run_id else None,
                     "run": urls.summary(agency, key, run_id) if run_id else None})
    return {"agency": agency_view(agency, names), "window": window_view(key, settings.deadline_day), "runs": runs,
            "summary_url": urls.summary(agency, key)}
