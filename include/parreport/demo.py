"""The README's first command: a real quarterly run against the sandbox.

Starts the sandbox (portal + intake) on 127.0.0.1, runs ``airflow dags test
quarterly_par_report`` for the quarter, prints where the report and the receipt are, and stops
the sandbox. The sandbox is one persistent "province" per AIRFLOW_HOME: the intake keeps its
accepted reports in ``<data_dir>/sandbox/``, and the agency's signing key lives where the
operator interface says credentials live — in the Airflow connection ``report_signing_key``
of this installation's metadata database (created on first use). The sandbox's client secrets
are fresh at every run and reach Airflow only as ``AIRFLOW_CONN_*`` variables of the child
process.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .config import CONN_INTAKE, CONN_PORTAL, CONN_SIGNING_KEY, load_settings
from .periods import last_closed_window
from .timeutil import now_local

DEFAULT_FAULTS = "portal.rate_503=0.03,portal.rate_429=0.03,portal.token_max_calls=7,retry_after=1,intake.schedule=503@1"


def _signing_key(agency: str) -> tuple[str, str]:
    """The demo agency's key from the Airflow metadata database; created on first use."""
    from airflow.models import Connection
    from airflow.utils.session import create_session

    from .report.signing import generate_keypair

    with create_session() as session:
        conn = session.query(Connection).filter(Connection.conn_id == CONN_SIGNING_KEY).one_or_none()
        if conn is None:
            private_pem, _ = generate_keypair()
            conn = Connection(conn_id=CONN_SIGNING_KEY, conn_type="generic", password=private_pem,
                              extra=json.dumps({"kid": f"sandbox-{agency}"}),
                              description="Khóa ký ES256 của đơn vị (sandbox)")
            session.add(conn)
            session.flush()
            print(f"• tạo khóa ký ES256 mới trong kết nối Airflow '{CONN_SIGNING_KEY}'")
        return conn.password, json.loads(conn.extra or "{}").get("kid") or f"sandbox-{agency}"


def _public_pem(private_pem: str) -> str:
    from joserfc.jwk import ECKey

    return ECKey.import_key(private_pem).as_pem(private=False).decode()


def _conn_json(url: str, client_id: str, secret: str) -> str:
    host_port = url.split("://", 1)[1]
    host, _, port = host_port.partition(":")
    return json.dumps({"conn_type": "http", "host": host, "port": int(port), "schema": "http",
                       "login": client_id, "password": secret})


def main(argv: list[str] | None = None) -> int:
    settings = load_settings()
    default = last_closed_window(now_local(), settings.window_rule)
    p = argparse.ArgumentParser(prog="scripts/run_quarter.sh",
                                description="Chạy một quý thật với sandbox (Cổng DVC + Sở Nội vụ giả lập)")
    p.add_argument("--year", type=int, default=default.year)
    p.add_argument("--quarter", type=int, default=default.quarter)
    p.add_argument("--agency", default=settings.agency)
    p.add_argument("--dossiers-per-quarter", type=int, default=5000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--invalid-rate", type=float, default=0.002,
                   help="tỷ lệ hồ sơ lỗi mà sandbox cài vào (mặc định 0,2 %%: dưới ngưỡng dừng 1 %%)")
    p.add_argument("--faults", nargs="?", const=DEFAULT_FAULTS, default="",
                   help="bật lỗi giả lập (503/429 kèm Retry-After, token hết hạn); tùy chọn: chuỗi lỗi riêng")
    args = p.parse_args(argv)

    from .sandbox.runner import run_sandbox

    private_pem, kid = _signing_key(args.agency)
    state_dir = settings.data_path / "sandbox"
    state_dir.mkdir(parents=True, exist_ok=True)
    log_dir = settings.data_path / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    print(f"• kỳ: quý {args.quarter}/{args.year}, đơn vị {args.agency}; sandbox {args.dossiers_per_quarter} hồ sơ/quý"
          + (f", lỗi giả lập: {args.faults}" if args.faults else ""))
    with run_sandbox(seed=args.seed, dossiers_per_quarter=args.dossiers_per_quarter, agency=args.agency,
                     faults=args.faults or None, review_delay=3, extra_args=("--invalid-rate", str(args.invalid_rate)), public_keys={kid: _public_pem(private_pem)},
                     state_file=state_dir / "intake-state.json") as sb:
        print(f"• sandbox: cổng DVC {sb.portal_url}, Sở Nội vụ {sb.intake_url}")
        env = dict(os.environ)
        env[f"AIRFLOW_CONN_{CONN_PORTAL.upper()}"] = _conn_json(sb.portal_url, *sb.portal_client)
        env[f"AIRFLOW_CONN_{CONN_INTAKE.upper()}"] = _conn_json(sb.intake_url, *sb.intake_client[:2])
        env.setdefault("PARREPORT_RECEIPT_POLL_SECONDS", "2")  # the sandbox reviews a report in seconds
        conf = json.dumps({"year": args.year, "quarter": args.quarter, "agency": args.agency})
        log_path = log_dir / f"run-{args.year}Q{args.quarter}-{time.strftime('%Y%m%dT%H%M%S')}.log"
        airflow = str(Path(sys.executable).with_name("airflow"))
        print(f"• chạy: airflow dags test quarterly_par_report -c '{conf}'  (nhật ký: {log_path})")
        started = time.monotonic()
        with open(log_path, "wb") as log:
            rc = subprocess.run([airflow, "dags", "test", "quarterly_par_report", "-c", conf], env=env,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode
        elapsed = time.monotonic() - started
        if rc == 0:  # the quarter ended at acceptance; the sandbox reviews it in seconds: follow it up
            print("• theo dõi biên nhận: airflow dags test receipt_follow_up")
            env.setdefault("PARREPORT_RECEIPT_WAIT_HOURS", "0.05")
            with open(log_path, "ab") as log:
                rc = subprocess.run([airflow, "dags", "test", "receipt_follow_up"], env=env, stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode
    return _summarise(settings, args, rc, elapsed, log_path)


def _summarise(settings, args, rc: int, elapsed: float, log_path: Path) -> int:
    from . import store as st
    from .periods import window_for
    from .pipeline import Period, report_dir

    window = window_for(args.year, args.quarter, settings.window_rule)
    store = st.Store(settings.store_url)
    try:
        versions = store.report_versions(args.agency, args.year, args.quarter)
        figures = store.load_figures(args.agency, window.key)
    finally:
        store.dispose()
    accepted = [v for v in versions if v["status"] == "ACCEPTED"]
    failed = rc != 0 or not accepted
    print(f"• Airflow kết thúc với mã {rc} sau {elapsed:.1f} s")
    if figures:
        tong = figures["Bieu06"][-1]
        q = figures["ChatLuongDuLieu"]
        print(f"• Biểu 06 (Tổng cộng): tiếp nhận {tong['TiepNhan']['Tong']}, đã giải quyết "
              f"{tong['DaGiaiQuyet']['Tong']}, đang giải quyết {tong['DangGiaiQuyet']['Tong']}; "
              f"{len(figures['ChiTieu'])} chỉ tiêu")
        print(f"• chất lượng dữ liệu: {q['SoBanGhi']} hồ sơ, {q['SoBanGhiLoai']} bị cách ly, "
              f"{len(q.get('DoiSoatCongDVC') or [])} ô Biểu 06 lệch với Cổng DVC")
    if accepted:
        last = accepted[-1]
        folder = report_dir(settings, Period(args.agency, window), last["version"])
        print(f"• báo cáo (phiên bản {last['version']}): {folder / 'bao-cao.json'}")
        print(f"• biên nhận {last['receipt'].get('MaTiepNhan')} ({last['receipt'].get('TrangThai')}): "
              f"{folder / 'bien-nhan.json'}")
    if failed:
        print(f"✗ lần chạy không hoàn tất; xem nhật ký {log_path}", file=sys.stderr)
        tail = log_path.read_text(errors="replace").splitlines()[-40:]
        print("\n".join(tail), file=sys.stderr)
        return rc or 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
