"""What an alert says: the run it is about, and its Vietnamese texts — a failed task, a missed
deadline, a report the Sở Nội vụ sent back (TRA_LAI) — with the quarter, the agency and the link
to the run. Pure: nothing here sends anything."""
from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping
from urllib.parse import quote

from ..periods import Window, run_window, window_for
from ..timeutil import VN_TZ

log = logging.getLogger(__name__)

TITLE = "[Báo cáo CCHC]"

_STATE_VI = {"running": "đang chạy", "queued": "đang chờ chạy", "failed": "thất bại", "success": "thành công"}


# -- what an alert says ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RunRef:
    """The DAG run an alert is about."""

    dag_id: str
    run_id: str
    window: Window | None
    agency: str
    url: str
    state: str | None = None


@dataclass(frozen=True)
class Alert:
    kind: str  # "failure" | "deadline"
    subject: str
    body: str
    dag_id: str
    run_id: str
    url: str
    task_id: str | None = None
    quarter: str | None = None  # "2025Q1"
    agency: str | None = None
    extra: dict = field(default_factory=dict)

    def payload(self) -> dict:
        return {"text": f"{self.subject}\n\n{self.body}", "dag_id": self.dag_id, "run_id": self.run_id,
                "task_id": self.task_id, "quarter": self.quarter, "url": self.url, "kind": self.kind,
                "agency": self.agency, **self.extra}


def _quarter_key(window: Window | None) -> str | None:
    return f"{window.year}Q{window.quarter}" if window else None


def _quarter_text(window: Window | None) -> str:
    return f"Quý {window.quarter}/{window.year}" if window else "(chưa xác định được quý)"


def _settings():
    from ..config import load_settings

    try:
        return load_settings()
    except Exception as exc:  # a broken configuration must not stop an alert
        log.warning("không đọc được cấu hình, dùng mặc định cho cảnh báo: %s", exc)
        from ..config import Settings

        return Settings()


def base_url() -> str:
    """The Airflow UI's address (``[api] base_url``)."""
    try:
        from airflow.sdk.configuration import conf

        value = conf.get("api", "base_url", fallback=None)
    except Exception:  # pragma: no cover - outside Airflow
        value = None
    value = value or os.environ.get("AIRFLOW__API__BASE_URL") or "http://localhost:8080"
    return value.rstrip("/")


def run_url(dag_id: str, run_id: str) -> str:
    """The run's page in the Airflow 3 UI (its grid, with every task)."""
    return f"{base_url()}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


_CREDENTIALS_IN_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@")
_TOKEN_LIKE = re.compile(r"(?i)\b(access_token|token|password|secret|client_secret)=([^&\s]+)")


def _scrub(text: str) -> str:
    text = _CREDENTIALS_IN_URL.sub(r"\1***@", text)
    return _TOKEN_LIKE.sub(r"\1=***", text)


def _reason(exc: BaseException | None) -> str:
    if exc is None:
        return "không có thông tin lỗi (xem nhật ký nhiệm vụ)"
    text = str(exc).strip() or type(exc).__name__
    text = text.splitlines()[0] if text else text
    if len(text) > 500:
        text = text[:497] + "…"
    return _scrub(f"{type(exc).__name__}: {text}")


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if obj is None:
        return default
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _window_from_context(context: Mapping[str, Any], rule: str) -> tuple[Window | None, str | None]:
    """The quarter (and agency, when known) a task's run reports, as resolve_period decided it."""
    params = context.get("params") or {}
    agency = _get(params, "agency")
    agency = agency.strip() or None if isinstance(agency, str) else None
    ti = context.get("ti") or context.get("task_instance")
    # 1. what resolve_period returned (XCom), when it ran
    try:
        period = None
        if ti is not None:
            group = str(getattr(ti, "task_id", "")).split(".")[0]
            map_index = getattr(ti, "map_index", -1)
            if group == "report" and isinstance(map_index, int) and map_index >= 0:
                period = ti.xcom_pull(task_ids="report.resolve_period", map_indexes=map_index)
            period = period or ti.xcom_pull(task_ids="resolve_period")
    except Exception:
        period = None
    if isinstance(period, Mapping) and period.get("year") and period.get("quarter"):
        try:
            w = window_for(int(period["year"]), int(period["quarter"]), period.get("rule") or rule)
            return w, period.get("agency") or agency
        except (TypeError, ValueError):
            pass
    # 2. the same decision, from params and the run
    dag_run = context.get("dag_run")
    try:
        w = run_window(rule=rule, params=params, run_type=_get(dag_run, "run_type"),
                       data_interval_end=_as_datetime(context.get("data_interval_end")
                                                      or _get(dag_run, "data_interval_end")),
                       run_after=_as_datetime(_get(dag_run, "run_after")))
        return w, agency
    except Exception:
        return None, agency


def failure_message(context: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, body) of the alert for a failed task, in Vietnamese."""
    alert = failure_alert(context)
    return alert.subject, alert.body


def failure_alert(context: Mapping[str, Any], settings: Any = None) -> Alert:
    settings = settings or _settings()
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    dag_id = _get(ti, "dag_id") or _get(dag_run, "dag_id") or _get(context.get("dag"), "dag_id") or "?"
    run_id = context.get("run_id") or _get(ti, "run_id") or _get(dag_run, "run_id") or "?"
    task_id = _get(ti, "task_id") or _get(context.get("task"), "task_id") or "?"
    map_index = _get(ti, "map_index")
    task_name = f"{task_id}[{map_index}]" if isinstance(map_index, int) and map_index >= 0 else task_id
    try_number = _get(ti, "try_number")
    window, agency = _window_from_context(context, settings.window_rule)
    agency = agency or settings.agency
    url = run_url(dag_id, run_id)
    try:
        task_url = _get(ti, "log_url") or f"{url}/tasks/{quote(task_id, safe='')}"
    except Exception:
        task_url = f"{url}/tasks/{quote(task_id, safe='')}"
    subject = f"{TITLE} Lỗi nhiệm vụ {task_name} – báo cáo {_quarter_text(window)}, đơn vị {agency}"
    lines = [
        f"Nhiệm vụ «{task_name}» của DAG «{dag_id}» đã thất bại"
        + (f" (lần thử {try_number})." if try_number else "."),
        f"Kỳ báo cáo: {window.label if window else _quarter_text(window)}; đơn vị báo cáo: {agency}.",
        f"Lần chạy: {run_id}",
        f"Lỗi: {_reason(context.get('exception'))}",
        f"Xem lần chạy: {url}",
        f"Nhật ký nhiệm vụ: {task_url}",
        "Sửa nguyên nhân rồi xóa (clear) nhiệm vụ để chạy lại; chạy lại không gửi trùng báo cáo.",
    ]
    return Alert("failure", subject, "\n".join(lines), dag_id, run_id, url, task_id=task_name,
                 quarter=_quarter_key(window), agency=agency)


def deadline_message(run: RunRef, deadline: datetime) -> tuple[str, str]:
    """(subject, body) of the alert for a missed deadline, in Vietnamese."""
    alert = _deadline_alert(run, deadline)
    return alert.subject, alert.body


def _deadline_alert(run: RunRef, deadline: datetime) -> Alert:
    local = deadline.astimezone(VN_TZ) if deadline.tzinfo else deadline
    when = f"{local:%H:%M:%S} ngày {local:%d/%m/%Y} (giờ Việt Nam)"
    quarter = _quarter_text(run.window)
    subject = f"{TITLE} Quá hạn nộp báo cáo {quarter}, đơn vị {run.agency}: chưa được Sở Nội vụ tiếp nhận"
    state = _STATE_VI.get(str(run.state or "").lower(), run.state or "không rõ")
    lines = [
        f"Đã quá hạn nộp báo cáo {run.window.label if run.window else quarter} của đơn vị {run.agency}: "
        f"hạn là {when}, nhưng báo cáo chưa được Sở Nội vụ tiếp nhận.",
        f"Lần chạy: {run.run_id} của DAG «{run.dag_id}» (trạng thái: {state}).",
        f"Xem lần chạy: {run.url}",
        "Xem nhiệm vụ nào đang lỗi hoặc đang chờ, khắc phục rồi chạy lại; "
        "nếu cần, báo Sở Nội vụ về việc nộp chậm.",
    ]
    return Alert("deadline", subject, "\n".join(lines), run.dag_id, run.run_id, run.url, task_id=None,
                 quarter=_quarter_key(run.window), agency=run.agency,
                 extra={"deadline": local.isoformat()})


def returned_alert(receipt: Mapping[str, Any], *, dag_id: str, run_id: str, window: Window | None = None,
                   submitted_by: str | None = None) -> Alert:
    """The alert for a report the Sở Nội vụ sent back (TRA_LAI): the quarter, the version, the
    reason (LyDoTraLai) and the next step, in Vietnamese."""
    agency = receipt.get("MaDonViBaoCao") or "?"
    version = receipt.get("PhienBan")
    number = receipt.get("MaTiepNhan") or "?"
    reason = (receipt.get("LyDoTraLai") or "").strip() or "Sở Nội vụ không ghi lý do"
    if window is None and receipt.get("Nam") and receipt.get("Quy"):
        window = window_for(int(receipt["Nam"]), int(receipt["Quy"]), _settings().window_rule)
    quarter = _quarter_text(window)
    url = run_url(dag_id, run_id)
    year, q = (window.year, window.quarter) if window else ("<năm>", "<quý>")
    nxt = version + 1 if isinstance(version, int) else "mới"
    subject = f"{TITLE} Sở Nội vụ trả lại báo cáo {quarter}, đơn vị {agency} (phiên bản {version})"
    lines = [
        f"Báo cáo {window.label if window else quarter} của đơn vị {agency}, phiên bản {version} "
        f"(biên nhận {number}) đã bị Sở Nội vụ TRẢ LẠI.",
        f"Lý do: {reason}",
        "Việc cần làm: rà soát số liệu theo lý do trên; sửa dữ liệu hồ sơ nếu cần "
        f"(parreport quarantine list / parreport corrections add --year {year} --quarter {q}), rồi chạy lại "
        f"DAG «quarterly_par_report» với year={year}, quarter={q}, agency={agency}: "
        f"phiên bản {nxt} sẽ được gửi kèm lý do điều chỉnh. Số liệu không đổi thì lần chạy lại không gửi gì mới.",
        f"Lần theo dõi biên nhận: {run_id} của DAG «{dag_id}»",
        f"Xem: {url}",
    ]
    if submitted_by:
        lines.insert(3, f"Phiên bản này được gửi ở lần chạy {submitted_by}.")
    return Alert("returned", subject, "\n".join(lines), dag_id, run_id, url, task_id=None,
                 quarter=_quarter_key(window), agency=agency,
                 extra={"receipt": number, "version": version, "reason": reason})
