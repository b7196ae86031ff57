"""What ``serve.sh`` prints for the operator once everything is up: where the UI is, how to log
in, how to run a quarter, when the schedule runs the next one, where the sandbox and the logs are.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..config import DAG_ID
from .home import ADMIN_USER


def login_text(password: str, generated: bool) -> str:
    """The banner's login: a generated password is shown (nobody else knows it); one the operator
    gave in PARREPORT_ADMIN_PASSWORD is not repeated on the terminal."""
    if generated:
        return f"{ADMIN_USER} / {password}   (mật khẩu tạo mới cho lần khởi động này)"
    return f"{ADMIN_USER} / mật khẩu trong PARREPORT_ADMIN_PASSWORD"


def next_quarter_text(dag: dict, rule: str = "nd09") -> str:
    """"Quý 4/2026 tự chạy lúc 16/12/2026 00:00" from the DAG's next run, or why there is none."""
    from .. import fmt
    from ..calendar_timetable import closed_window_at

    if dag.get("is_paused"):
        return "lịch đang tắt (DAG bị tạm dừng trong giao diện)"
    run_after, end = dag.get("next_dagrun_run_after"), dag.get("next_dagrun_data_interval_end")
    if not run_after or not end:
        return "chưa có quý nào được lên lịch"
    window = closed_window_at(datetime.fromisoformat(end.replace("Z", "+00:00")), rule)
    return (f"{fmt.quarter_title(window.year, window.quarter)} tự chạy lúc "
            f"{fmt.datetime_text(run_after)} (giờ Việt Nam)")


def banner(*, url: str, password: str, generated: bool, dag: dict, rule: str, portal_url: str, intake_url: str,
           home: Path, log_dir: Path) -> str:
    """The guide printed once Airflow is up (Vietnamese, for the operator)."""
    return "\n".join([
        "",
        "Báo cáo CCHC quý — Airflow đang chạy. Dừng: Ctrl-C",
        f"  Giao diện:      {url}",
        f"  Đăng nhập:      {login_text(password, generated)}",
        f"  Chạy một quý:   Dags → {DAG_ID} → Trigger (năm, quý, mã đơn vị) — theo dõi ở Grid,"
        f" menu \"Báo cáo CCHC\"",
        f"  Lịch:           {next_quarter_text(dag, rule)}",
        f"  Sandbox:        Cổng DVC {portal_url}, Sở Nội vụ {intake_url}",
        f"  Cài đặt:        AIRFLOW_HOME={home}; nhật ký các thành phần: {log_dir}",
        "",
    ])
