"""``python -m parreport.serve`` (``scripts/serve.sh``): the command itself — its options, the
lock on the installation, the signals, and :class:`Serve`, which starts the sandbox and Airflow's
components in order, waits for them, prints the guide, watches them until Ctrl-C and stops them.
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import signal
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..config import DAG_ID, Settings, load_settings
from . import guide
from .airflow_api import Api, report_dag, unpause_new_dags
from .home import admin_password, component_env, lock_path, schedule_from, state_dir, write_passwords_file
from .processes import MARKER_VAR, Component, port_free, start_component, stop_components, sweep
from .sandbox import add_sandbox_arguments, installation_sandbox, register_connections, signing_key

DEFAULT_PORT = 8080
#: Components in the order they start; they stop in the reverse order.
COMPONENTS = ("api-server", "dag-processor", "scheduler", "triggerer")
STARTUP_TIMEOUT = 240.0


class ServeError(RuntimeError):
    """Something an operator must fix; the message is one Vietnamese sentence."""


class Stopped(Exception):
    """Ctrl-C / SIGTERM arrived while starting."""


@dataclass
class Serve:
    settings: Settings
    home: Path
    port: int
    password: str
    generated: bool
    args: argparse.Namespace
    stop: threading.Event = field(default_factory=threading.Event)
    components: list[Component] = field(default_factory=list)
    marker: str = field(default_factory=lambda: uuid.uuid4().hex)

    def say(self, text: str) -> None:
        print(text, flush=True)

    def check_stop(self) -> None:
        if self.stop.is_set():
            raise Stopped()

    def dead(self) -> Component | None:
        return next((c for c in self.components if c.proc.poll() is not None), None)

    def wait(self, what: str, probe, timeout: float, interval: float = 1.0):
        deadline = time.monotonic() + timeout
        while True:
            self.check_stop()
            died = self.dead()
            if died is not None:
                raise ServeError(f"{died.name} của Airflow dừng ngay khi khởi động (mã {died.proc.returncode}); "
                                 f"xem nhật ký {died.log}")
            try:
                value = probe()
            except Exception:  # noqa: BLE001 - not up yet (connection refused, auth manager starting)
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise ServeError(f"{what} chưa sẵn sàng sau {timeout:.0f} giây; xem nhật ký trong "
                                 f"{self.log_dir}")
            self.stop.wait(interval)

    @property
    def log_dir(self) -> Path:
        return state_dir(self.home) / "logs"

    def run(self) -> int:
        a = self.args
        sdir = state_dir(self.home)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        passwords = sdir / "passwords.json"
        write_passwords_file(passwords, self.password)
        start = schedule_from(self.home, os.environ)
        venv_bin = Path(sys.executable).parent
        airflow = str(venv_bin / "airflow")
        env = component_env(os.environ, home=self.home, port=self.port, passwords_file=passwords, start=start,
                            marker=self.marker, venv_bin=venv_bin)
        os.environ.update({k: env[k] for k in ("PARREPORT_SCHEDULE_FROM", MARKER_VAR)})

        private_pem, kid = signing_key(a.agency, announce=self.say)
        self.say(f"• sandbox: {a.dossiers_per_quarter} hồ sơ/quý, đơn vị {a.agency} (khởi động…)")
        try:
            with installation_sandbox(self.settings, agency=a.agency, private_pem=private_pem, kid=kid,
                                      seed=a.seed, dossiers_per_quarter=a.dossiers_per_quarter,
                                      invalid_rate=a.invalid_rate, faults=a.faults) as sb:
                register_connections(sb)
                self.check_stop()
                api = Api(f"http://127.0.0.1:{self.port}", self.password)
                try:
                    return self._run_airflow(sb, env, airflow, api, sdir)
                finally:
                    api.close()
                    self.stop_airflow()  # before the sandbox: running tasks may still call it
        finally:
            self.sweep()

    def _run_airflow(self, sb, env: dict, airflow: str, api: Api, sdir: Path) -> int:
        commands = {
            "api-server": ["api-server", "--host", "127.0.0.1", "--port", str(self.port)],
            "dag-processor": ["dag-processor"],
            "scheduler": ["scheduler", "--skip-serve-logs"],
            "triggerer": ["triggerer", "--skip-serve-logs"],
        }
        self.say("• khởi động Airflow: " + ", ".join(COMPONENTS))
        for name in COMPONENTS:
            self.components.append(start_component(name, commands[name], env, self.log_dir, airflow))
        self.wait("API server của Airflow", api.up, STARTUP_TIMEOUT, 0.5)
        dag = self.wait(f"DAG {DAG_ID}", lambda: report_dag(api), STARTUP_TIMEOUT)
        unpause_new_dags(api, sdir / "state.json")
        dag = report_dag(api) or dag
        self.banner(sb, dag)
        last_pass = time.monotonic()
        while not self.stop.is_set():
            died = self.dead()
            sandbox_gone = sb.process.poll() is not None
            # Ctrl-C reaches the sandbox (same terminal group) as it reaches us: not a failure
            if (died is not None or sandbox_gone) and self.stop.wait(1.0):
                break
            if died is not None:
                self.say(f"✗ {died.name} của Airflow đã dừng (mã {died.proc.returncode}); dừng cả cài đặt — "
                         f"xem nhật ký {died.log}")
                return 1
            if sandbox_gone:
                self.say(f"✗ sandbox đã dừng (mã {sb.process.returncode}); dừng cả cài đặt — xem {sb.log_path}")
                return 1
            if time.monotonic() - last_pass > 60:  # a DAG file added while running
                with contextlib.suppress(Exception):
                    for dag_id in unpause_new_dags(api, sdir / "state.json"):
                        self.say(f"• bật DAG mới: {dag_id}")
                last_pass = time.monotonic()
            self.stop.wait(1.0)
        return 0

    def banner(self, sb, dag: dict) -> None:
        self.say(guide.banner(url=f"http://127.0.0.1:{self.port}", password=self.password, generated=self.generated,
                              dag=dag, rule=self.settings.window_rule, portal_url=sb.portal_url,
                              intake_url=sb.intake_url, home=self.home, log_dir=self.log_dir))

    def stop_airflow(self) -> None:
        if not self.components:
            return
        self.say("• đang dừng Airflow và sandbox…")
        stop_components(list(reversed(self.components)))
        self.components.clear()

    def sweep(self) -> None:
        """After every group and the sandbox stopped: anything left that carries this start's marker."""
        left = sweep(self.marker)
        if left:
            self.say(f"• đã dừng thêm {len(left)} tiến trình còn sót: {'; '.join(left[:3])}")


def build_parser(settings: Settings) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scripts/serve.sh",
                                description="Cài đặt Airflow đầy đủ với giao diện, chạy với sandbox (Cổng DVC + "
                                            "Sở Nội vụ giả lập) trên 127.0.0.1, đến khi bấm Ctrl-C")
    p.add_argument("--port", type=int, default=int(os.environ.get("PARREPORT_UI_PORT") or DEFAULT_PORT),
                   help="cổng của giao diện Airflow (mặc định 8080, hoặc PARREPORT_UI_PORT)")
    add_sandbox_arguments(p, settings)
    p.add_argument("--faults", default="", help="lỗi giả lập của sandbox (xem parreport.sandbox.runner)")
    return p


def main(argv: list[str] | None = None) -> int:
    settings = load_settings()
    args = build_parser(settings).parse_args(argv)
    home = Path(os.environ.get("AIRFLOW_HOME") or "").resolve()
    if not os.environ.get("AIRFLOW_HOME"):
        print("✗ AIRFLOW_HOME chưa được đặt: hãy chạy scripts/serve.sh", file=sys.stderr)
        return 2
    if not port_free(args.port):
        print(f"✗ cổng 127.0.0.1:{args.port} đang được dùng; chọn cổng khác: scripts/serve.sh --port <cổng>",
              file=sys.stderr)
        return 2
    state_dir(home).mkdir(parents=True, exist_ok=True)
    lock = open(lock_path(home), "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"✗ cài đặt {home} đang được một scripts/serve.sh khác chạy", file=sys.stderr)
        return 2
    password, generated = admin_password(os.environ)
    serve = Serve(settings=settings, home=home, port=args.port, password=password, generated=generated, args=args)

    def on_signal(signum, _frame):
        serve.stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    try:
        rc = serve.run()
    except Stopped:
        rc = 130
    except ServeError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        rc = 1
    finally:
        serve.stop_airflow()
        serve.sweep()
        lock.close()
    print("• đã dừng mọi tiến trình của cài đặt", flush=True)
    return rc
