"""The README's first command: a real quarterly run against the sandbox.

Starts the installation's sandbox (portal + intake, ``serve.installation_sandbox``: the intake
keeps its accepted reports and the client secrets per AIRFLOW_HOME), runs ``airflow dags test
quarterly_par_report`` for the quarter, stops the sandbox and ends with ONE line saying what
this run did — sent version N, nothing new to send (same as version N), stopped at validation
(how many dossiers were quarantined against the threshold) or failed (one Vietnamese sentence) —
with the path of the run's log. The line is decided from this run's own outcome (its
``run_events`` rows in the store when the pipeline records them, else its task states and
XComs in the metadata database), never from the quarter's latest state.

The agency's signing key lives where the operator interface says credentials live — in the
Airflow connection ``report_signing_key`` of this installation's metadata database (created on
first use); the sandbox's portal and intake logins reach ``airflow dags test`` as
``AIRFLOW_CONN_*`` variables of the child process.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import fmt
from .config import CONN_INTAKE, CONN_PORTAL, DAG_ID, Settings, load_settings
from .periods import Window, last_closed_window, window_for
from .story import task_text
from .timeutil import now_local

DEFAULT_FAULTS = "portal.rate_503=0.03,portal.rate_429=0.03,portal.token_max_calls=7,retry_after=1,intake.schedule=503@1"


# ------------------------------------------------------------------------------ what happened
@dataclass
class RunFacts:
    """One run's own outcome for one agency, whatever it was read from."""

    run_id: str
    state: str | None = None  # the DAG run's state: success / failed / None (unknown)
    failed_tasks: list[str] = field(default_factory=list)  # task ids that failed (not upstream_failed)
    submitted: dict | None = None  # submit_report's result: {"sent", "PhienBan", "MaTiepNhan", ...}
    validation: dict | None = None  # {"quarantined", "total", "threshold"} when validation ran
    validation_stopped: bool = False
    error: str | None = None  # the failure's own message, when one was found


def facts_from_events(run_id: str, events: list[dict]) -> RunFacts | None:
    """The run's facts from the store's ``run_events`` rows (None when the run recorded none)."""
    if not events:
        return None
    facts = RunFacts(run_id)
    for e in events:
        detail = e.get("detail") or {}
        step, outcome = e.get("step"), e.get("outcome")
        if step == "validate":
            q = _first(detail, "quarantined", "SoBanGhiLoai")
            n = _first(detail, "total", "dossiers", "SoBanGhi")
            if q is not None and n is not None:
                facts.validation = {"quarantined": int(q), "total": int(n), "threshold": detail.get("threshold")}
            facts.validation_stopped = outcome == "stopped"
        elif step == "submit" and outcome in ("sent", "unchanged", "adopted"):
            facts.submitted = {"sent": outcome == "sent", **detail,
                               "PhienBan": _first(detail, "PhienBan", "version")}
        if outcome in ("failed", "stopped") and not facts.error:
            facts.error = detail.get("reason") or detail.get("message")
    return facts


def _first(d: dict, *keys: str) -> Any:
    return next((d[k] for k in keys if d.get(k) is not None), None)


def closing_line(facts: RunFacts, *, window: Window, agency_text: str, threshold: float, log_path: Path,
                 agency: str, version_state: str | None = None) -> tuple[bool, str]:
    """(ok, the one line that ends the terminal's story of the run)."""
    title = f"{fmt.quarter_title(window.year, window.quarter)}, {agency_text}"
    step = facts.failed_tasks[0] if facts.failed_tasks else None
    where = f" ở bước {task_text(step) or step} ({step})" if step else ""
    why = _sentence(facts.error)
    sub = facts.submitted
    if sub is not None:
        version, receipt = sub.get("PhienBan"), sub.get("MaTiepNhan")
        code = version_state or sub.get("TrangThai")
        tail = (f" — biên nhận {receipt}" if receipt else "") + (f", {fmt.label('bien_nhan', code).lower()}"
                                                                  if code else "")
        if sub.get("sent"):
            done = f"đã gửi phiên bản {version}{tail}"
        else:
            done = f"không có gì mới để gửi (giống phiên bản {version}{tail})"
        if step is None and facts.state != "failed":
            folder = sub["report_path"].rsplit("/", 1)[0] if sub.get("sent") and sub.get("report_path") else None
            return True, f"✓ {title}: {done}" + (f"; báo cáo: {folder}" if folder else "")
        return False, (f"✗ {title}: {done}, nhưng lần chạy thất bại{where}" + (f": {why}" if why else "")
                       + f" — nhật ký: {log_path}")
    if facts.validation_stopped or (step and step.split(".")[-1] == "validate_records"):
        v = facts.validation
        if v and v.get("total"):
            thr = v.get("threshold") if v.get("threshold") is not None else threshold
            reason = (f"{fmt.number(v['quarantined'])}/{fmt.number(v['total'])} hồ sơ bị cách ly "
                      f"({fmt.percent(100 * v['quarantined'] / v['total'])} > ngưỡng {fmt.target(100 * thr, None)})")
        else:
            reason = why or "dữ liệu không qua được bộ kiểm tra"
        return False, (f"✗ {title}: dừng ở bước kiểm tra dữ liệu: {reason} — xem danh sách: parreport quarantine "
                       f"list --year {window.year} --quarter {window.quarter} --agency {agency}; nhật ký: {log_path}")
    return False, f"✗ {title}: lần chạy thất bại{where}" + (f": {why}" if why else "") + f" — nhật ký: {log_path}"


def _sentence(message: str | None, limit: int = 300) -> str:
    """The first line of an error message, without a trailing period, at most ``limit`` chars."""
    if not message:
        return ""
    text = " ".join(str(message).strip().splitlines()[0].split()).rstrip(".")
    return text if len(text) <= limit else text[: limit - 1] + "…"


_ERROR_LINE = re.compile(r"(?:^|[\s:])(?:[A-Za-z_][\w]*\.)*([A-Z]\w*(?:Error|Exception|Exceeded|Conflict|Failure)): "
                         r"(?P<message>.+?)\s*$")


def last_error(log_text: str) -> str | None:
    """The message of the last exception the log shows (``SomeError: message``), if any."""
    found = None
    for line in log_text.splitlines():
        m = _ERROR_LINE.search(line)
        if m and m.group("message").strip() not in ("", "None"):
            found = m.group("message")
    return found


# ---------------------------------------------------------------------- reading the run back
def facts_from_airflow(run_id: str, dag_id: str = DAG_ID) -> RunFacts:
    """The run's task states and ``submit_report`` XCom from the metadata database."""
    from sqlalchemy import select

    from airflow.models import DagRun, TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    from .ui import decode_xcom

    facts = RunFacts(run_id)
    with create_session() as session:
        run = session.execute(select(DagRun.state).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)).first()
        facts.state = str(run[0].value if hasattr(run[0], "value") else run[0]) if run else None
        for task_id, state in session.execute(select(TaskInstance.task_id, TaskInstance.state).where(
                TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id).order_by(TaskInstance.start_date)):
            if str(getattr(state, "value", state)) == "failed" and task_id not in facts.failed_tasks:
                facts.failed_tasks.append(task_id)
        for task_id, value in session.execute(select(XComModel.task_id, XComModel.value).where(
                XComModel.dag_id == dag_id, XComModel.run_id == run_id, XComModel.key == "return_value")):
            if task_id.split(".")[-1] == "submit_report":
                decoded = decode_xcom(value)
                if isinstance(decoded, dict):
                    facts.submitted = decoded
    return facts


def latest_run_id(since: datetime, dag_id: str = DAG_ID) -> str | None:
    """The run ``airflow dags test`` just made (the newest of the DAG started since ``since``)."""
    from sqlalchemy import select

    from airflow.models import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.execute(select(DagRun.run_id).where(DagRun.dag_id == dag_id, DagRun.start_date >= since)
                              .order_by(DagRun.id.desc()).limit(1)).first()
    return row[0] if row else None


def run_facts(settings: Settings, agency: str, window: Window, run_id: str | None, log_text: str) -> RunFacts:
    """This run's facts: its run_events when the pipeline recorded them, else Airflow's records
    completed from the store's validation of this run (validation_results carries its run id)."""
    from . import store as st

    if run_id is None:
        return RunFacts("", state="failed", error=last_error(log_text))
    with st.Store(settings.store_url) as store:
        facts = facts_from_events(run_id, store.run_events(agency, window.key, run_id))
        airflow = facts_from_airflow(run_id)
        if facts is None:
            facts = airflow
        else:
            facts.state, facts.failed_tasks = airflow.state, airflow.failed_tasks
            facts.submitted = facts.submitted or airflow.submitted
        if facts.validation is None:
            rows = [r for r in store.rows(st.validation_results, agency, window.key) if r["run_id"] == run_id]
            if rows:
                content = rows[0]["content"] or {}
                if content.get("SoBanGhi") is not None:
                    facts.validation = {"quarantined": int(content.get("SoBanGhiLoai") or 0),
                                        "total": int(content["SoBanGhi"]), "threshold": None}
    if facts.error is None and facts.failed_tasks:
        facts.error = last_error(log_text)
    return facts


def agency_text(settings: Settings, agency: str, window: Window) -> str:
    from . import store as st

    with st.Store(settings.store_url) as store:
        units = store.records(st.units, agency, window.key)
    name = next((u.get("TenDonVi") for u in units if isinstance(u, dict) and u.get("MaDonVi") == agency), None)
    return fmt.agency_label(agency, name)


def version_state(settings: Settings, agency: str, window: Window, version: Any) -> str | None:
    """The receipt state the store holds for ``version`` (the follow-up may have moved it on)."""
    from . import store as st

    with st.Store(settings.store_url) as store:
        for row in store.report_versions(agency, window.year, window.quarter):
            if str(row["version"]) == str(version):
                receipt = row.get("receipt") or {}
                if isinstance(receipt, str):
                    receipt = json.loads(receipt)
                return receipt.get("TrangThai")
    return None


# ------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    from . import serve

    settings = load_settings()
    default = last_closed_window(now_local(), settings.window_rule)
    p = argparse.ArgumentParser(prog="scripts/run_quarter.sh",
                                description="Chạy một quý thật với sandbox (Cổng DVC + Sở Nội vụ giả lập)")
    p.add_argument("--year", type=int, default=default.year)
    p.add_argument("--quarter", type=int, default=default.quarter)
    serve.add_sandbox_arguments(p, settings)
    p.add_argument("--faults", nargs="?", const=DEFAULT_FAULTS, default="",
                   help="bật lỗi giả lập (503/429 kèm Retry-After, token hết hạn); tùy chọn: chuỗi lỗi riêng")
    args = p.parse_args(argv)

    home = Path(os.environ.get("AIRFLOW_HOME") or ".")
    if serve.running_elsewhere(home):
        print(f"✗ scripts/serve.sh đang chạy trên cài đặt {home}: hãy chạy quý trong giao diện Airflow "
              "(Trigger), hoặc dừng serve.sh trước", file=sys.stderr)
        return 2
    window = window_for(args.year, args.quarter, settings.window_rule)
    private_pem, kid = serve.signing_key(args.agency)
    log_dir = settings.data_path / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    print(f"• kỳ: {fmt.quarter_title(args.year, args.quarter)}, đơn vị {args.agency}; sandbox "
          f"{fmt.number(args.dossiers_per_quarter)} hồ sơ/quý" + (f", lỗi giả lập: {args.faults}" if args.faults else ""),
          flush=True)
    with serve.installation_sandbox(settings, agency=args.agency, private_pem=private_pem, kid=kid, seed=args.seed,
                                    dossiers_per_quarter=args.dossiers_per_quarter, invalid_rate=args.invalid_rate,
                                    faults=args.faults) as sb:
        print(f"• sandbox: cổng DVC {sb.portal_url}, Sở Nội vụ {sb.intake_url}", flush=True)
        env = dict(os.environ)
        env[f"AIRFLOW_CONN_{CONN_PORTAL.upper()}"] = json.dumps(serve.http_connection(sb.portal_url, *sb.portal_client))
        env[f"AIRFLOW_CONN_{CONN_INTAKE.upper()}"] = json.dumps(
            serve.http_connection(sb.intake_url, *sb.intake_client[:2]))
        env.setdefault("PARREPORT_RECEIPT_POLL_SECONDS", "2")  # the sandbox reviews a report in seconds
        conf = json.dumps({"year": args.year, "quarter": args.quarter, "agency": args.agency})
        log_path = log_dir / f"run-{args.year}Q{args.quarter}-{time.strftime('%Y%m%dT%H%M%S')}.log"
        airflow = str(Path(sys.executable).with_name("airflow"))
        print(f"• chạy: airflow dags test {DAG_ID} -c '{conf}'  (nhật ký: {log_path})", flush=True)
        since = datetime.now(timezone.utc).replace(microsecond=0)
        started = time.monotonic()
        with open(log_path, "wb") as log:
            rc = subprocess.run([airflow, "dags", "test", DAG_ID, "-c", conf], env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode
        elapsed = time.monotonic() - started
        if rc == 0:  # the quarter ended at acceptance; the sandbox reviews it in seconds: follow it up
            print("• theo dõi biên nhận: airflow dags test receipt_follow_up", flush=True)
            env.setdefault("PARREPORT_RECEIPT_WAIT_HOURS", "0.05")
            with open(log_path, "ab") as log:
                rc = subprocess.run([airflow, "dags", "test", "receipt_follow_up"], env=env, stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode
    log_text = log_path.read_text(errors="replace")
    try:
        facts = run_facts(settings, args.agency, window, latest_run_id(since), log_text)
        who = agency_text(settings, args.agency, window)
    except Exception as exc:  # noqa: BLE001 - the closing line must still say something true
        facts, who = RunFacts("", state="failed", error=f"không đọc được kết quả lần chạy ({exc})"), args.agency
    if rc != 0 and facts.state == "success":
        facts.state = "failed"
    state = None
    if facts.submitted and facts.submitted.get("PhienBan") is not None:
        state = version_state(settings, args.agency, window, facts.submitted["PhienBan"])
    print(f"• Airflow kết thúc sau {fmt.decimal(elapsed, 1)} giây", flush=True)
    ok, line = closing_line(facts, window=window, agency_text=who, threshold=settings.blocking_threshold,
                            log_path=log_path, agency=args.agency, version_state=state)
    print(line, file=sys.stdout if ok else sys.stderr, flush=True)
    return 0 if ok and rc == 0 else (rc or 1)


if __name__ == "__main__":
    sys.exit(main())
