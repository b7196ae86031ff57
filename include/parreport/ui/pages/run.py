"""The run page (``/tom-tat/...``, and its JSON at ``/api/tom-tat/...``): what one run did — its
steps, the records it took in, its validation, its figures, what it sent and the sentence that
says it all."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from ... import fmt
from ... import store as st
from ...config import Settings
from ...storage import relative_name
from ...files import run_slug
from ...kinds import KINDS
from ...quality import rule_title
from ...story import ADHOC_PREFIX, task_text
from ..paths import NotFound, data_docs_root, files, reports_root, safe_name
from ..urls import Urls
from .common import (RunInfo, agency_view, as_json, receipt_state, report_versions, steward_commands, unit_names,
                     window_view)
from .runs import run_label, run_outcome, runs_of, short_outcome

STEP_TITLES = {"extract": "Lấy dữ liệu từ Cổng DVC", "load": "Nạp vào kho dữ liệu", "validate": "Kiểm tra dữ liệu",
               "compute": "Tính số liệu", "build": "Lập báo cáo", "submit": "Gửi Sở Nội vụ",
               "receipt": "Theo dõi biên nhận"}
OUTCOME_LABELS = {"ok": "Xong", "stopped": "Dừng", "failed": "Thất bại", "sent": "Đã gửi",
                  "unchanged": "Không gửi (không có gì mới)", "adopted": "Nhận lại phiên bản đã gửi",
                  "approved": "Sở Nội vụ đã duyệt", "returned": "Sở Nội vụ trả lại"}
AIRFLOW_STATES = {"success": "Thành công", "failed": "Thất bại", "running": "Đang chạy", "queued": "Đang chờ chạy"}


def run_story(store: st.Store, settings: Settings, agency: str, key: str, run_id: str | None,
              run_info: RunInfo | None, urls: Urls) -> dict:
    """Everything the run tab shows; without ``run_id``, the quarter's latest run."""
    safe_name(agency), safe_name(key)
    events = store.run_events(agency, key)
    versions = report_versions(store, agency, key)
    stats = store.load_stats(agency, key)
    if not events and not versions and not stats:
        raise NotFound(f"chưa có dữ liệu nào của đơn vị {agency} cho kỳ này")
    runs = runs_of(events)
    airflow_runs = [r for r in runs if not r.startswith(ADHOC_PREFIX)]
    if run_id is None:
        run_id = airflow_runs[-1] if airflow_runs else (list(runs)[-1] if runs else None)
    info_all = (run_info(list(runs)) if run_info and runs else {}) or {}
    names = unit_names(store, agency, key)
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
                      "cls": {"ok": "ok", "sent": "ok", "unchanged": "ok", "adopted": "ok",
                              "approved": "ok"}.get(e["outcome"], "bad"),
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
                              else short_outcome(run_outcome(runs[r], info_all.get(r)))),
                  "url": urls.summary(agency, key, r), "current": r == run_id} for r in reversed(list(runs))],
        "documents_url": urls.documents(agency, key), "evidence_list_url": urls.evidence_list(agency, key),
        "overview_url": urls.overview(),
    }


def _sentence(outcome: dict, versions: dict[int, dict], window_title: str, failed_tasks: list[str]) -> str:
    kind, event = outcome["kind"], outcome.get("event") or {}
    detail = event.get("detail") or {}
    version = outcome.get("version")
    row = versions.get(version) if version else None
    receipt = as_json(row.get("receipt")) if row else None
    number = (receipt or {}).get("MaTiepNhan") or detail.get("MaTiepNhan")
    state = receipt_state(receipt, row.get("status") if row else None)
    tail = ""
    if outcome.get("airflow_failed") and kind in ("sent", "unchanged", "adopted"):
        steps = _failed_steps(failed_tasks)
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
        steps = _failed_steps(failed_tasks)
        return (f"Lần chạy thất bại ở bước {steps or 'không rõ'} và không gửi báo cáo nào; "
                "xem nhật ký của bước đó trong Airflow.")
    if kind == "running":
        step = STEP_TITLES.get(event.get("step"), "") if event else ""
        return f"Lần chạy đang chạy{(' — bước đã xong gần nhất: ' + step.lower()) if step else ''}."
    step = STEP_TITLES.get(event.get("step"), "") if event else ""
    return f"Lần chạy chưa gửi báo cáo{(' — bước đã xong gần nhất: ' + step.lower()) if step else ''}."


def _failed_steps(failed_tasks: list[str]) -> str:
    """The failed tasks of a run in words (``report.build_report`` → "lập báo cáo")."""
    return ", ".join(sorted({task_text(t) or t.rsplit(".", 1)[-1] for t in failed_tasks}))


def _first_sentence(text: Any) -> str:
    text = str(text or "").strip()
    if not text:
        return "không rõ lý do."
    first = text.splitlines()[0]
    return first if first.endswith(".") else first + "."


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
    rules = [{"title": rule_title(r), "code": r, "count": fmt.number(n)} for r, n in (detail.get("by_rule") or {}).items()]
    rating_rules = [{"title": rule_title(r), "code": r, "count": fmt.number(n)}
                    for r, n in (detail.get("rating_rules") or {}).items()]
    return {"dossiers": fmt.number(total), "quarantined": fmt.number(q), "share": _pct(q, total),
            "threshold": _threshold(detail.get("threshold")), "rules": rules, "rating_rules": rating_rules,
            "ratings_rejected": fmt.number(detail.get("ratings_rejected")),
            "corrected": fmt.number(detail.get("corrected")) if detail.get("corrected") is not None else None,
            "evidence": detail.get("evidence")}


def _version_view(v: dict, agency: str, key: str, urls: Urls, settings: Settings) -> dict:
    receipt = v.get("receipt") or {}
    body = v.get("body") or {}
    folder = reports_root(settings, agency, key) / f"v{v['version']}"
    docs = [{"name": relative_name(f, folder), "url": urls.report_file(agency, key, v["version"],
                                                                         relative_name(f, folder))}
            for f in files(folder) if f.name not in ("bao-cao.json", "bien-nhan.json")]
    return {"version": v["version"], "status": fmt.label("phien_ban", v["status"]),
            "receipt_no": receipt.get("MaTiepNhan"), "receipt_state": receipt_state(receipt, v["status"]),
            "receipt_at": fmt.datetime_text(receipt.get("ThoiDiemTiepNhan")),
            "returned_reason": receipt.get("LyDoTraLai"), "reason": body.get("LyDoDieuChinh"),
            "created": fmt.datetime_text(body.get("NgayLap")),
            "receipt_url": urls.receipt(agency, key, v["version"]) if receipt else None, "documents": docs,
            "report_json": urls.report_file(agency, key, v["version"], "bao-cao.json")
            if (folder / "bao-cao.json").is_file() else None,
            "run_url": urls.summary(agency, key, v["run_id"]) if v.get("run_id") else None}
