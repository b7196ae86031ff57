"""``scripts/serve.sh``: the embedded installation with its UI, in one command.

One ``AIRFLOW_HOME`` is one installation. This module (run by ``scripts/serve.sh`` after
``setup.sh``, ``airflow_env.sh`` and ``airflow db migrate``) starts, on 127.0.0.1 only:

- the sandbox (Cổng DVC + Sở Nội vụ giả lập): one persistent "province" per installation — the
  intake keeps its accepted reports and the client secrets stay the same from one start to the
  next (``<data_dir>/sandbox/``);
- Airflow's API server (``--port``, default 8080), scheduler (LocalExecutor), DAG processor and
  triggerer, each from ``.venv`` (``.venv/bin`` first on PATH), each in its own process group,
  their output in ``$AIRFLOW_HOME/serve/logs/``.

Before Airflow starts, the sandbox's connections ``dvc_portal`` and ``snv_report_api`` are written
to the metadata database (their host and port change with every start) and ``report_signing_key``
is created there once and kept: runs triggered in the UI, cleared tasks and scheduled quarters
all find them. The user ``admin`` logs in with ``PARREPORT_ADMIN_PASSWORD``, or with a password
generated and printed at every start (SimpleAuthManager's passwords file, written here).

Scheduling. The DAG does not catch up, and Airflow would still start, on the first unpause, the
latest quarter whose run time has passed — a quarter nobody asked for, beside the operator's own
run. The installation's first start is therefore kept as ``PARREPORT_SCHEDULE_FROM``
(``$AIRFLOW_HOME/serve/schedule_from``, exported by ``airflow_env.sh``): the schedule starts no
quarter due before it, and every later quarter runs on its own, a day after its window closes.
Each DAG is unpaused the first time this command sees it; after that the operator's pause holds.

The command runs until Ctrl-C (SIGINT), SIGTERM or SIGHUP, then stops what it started: each
component's process group (SIGTERM, then SIGKILL after a grace period), a last sweep for any
process carrying this start's marker, and the sandbox.
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from .config import CONN_INTAKE, CONN_PORTAL, CONN_SIGNING_KEY, Settings, load_settings

ADMIN_USER = "admin"
DEFAULT_PORT = 8080
DAG_ID = "quarterly_par_report"
MARKER_VAR = "PARREPORT_SERVE_ID"
#: Components in the order they start; they stop in the reverse order.
COMPONENTS = ("api-server", "dag-processor", "scheduler", "triggerer")
STARTUP_TIMEOUT = 240.0
STOP_GRACE = 20.0


class ServeError(RuntimeError):
    """Something an operator must fix; the message is one Vietnamese sentence."""


class Stopped(Exception):
    """Ctrl-C / SIGTERM arrived while starting."""


# ------------------------------------------------------------------------------ installation
def state_dir(home: Path) -> Path:
    return home / "serve"


def lock_path(home: Path) -> Path:
    return state_dir(home) / "serve.lock"


def running_elsewhere(home: Path) -> bool:
    """True when a ``serve.sh`` holds this installation (its lock file is locked)."""
    path = lock_path(home)
    if not path.exists():
        return False
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
    return False


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` atomically, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def admin_password(env: dict) -> tuple[str, bool]:
    """(password, generated): ``PARREPORT_ADMIN_PASSWORD`` when set, else a fresh one."""
    given = (env.get("PARREPORT_ADMIN_PASSWORD") or "").strip()
    return (given, False) if given else (secrets.token_urlsafe(12), True)


def write_passwords_file(path: Path, password: str) -> None:
    """SimpleAuthManager's passwords file: ``{"admin": "<password>"}`` (read at every login)."""
    _write_private(path, json.dumps({ADMIN_USER: password}) + "\n")


def schedule_from(home: Path, env: dict, now: datetime | None = None) -> str:
    """The installation's first scheduled instant: ``PARREPORT_SCHEDULE_FROM`` when set, else the
    one kept in ``serve/schedule_from``, else now (kept for every later start)."""
    given = (env.get("PARREPORT_SCHEDULE_FROM") or "").strip()
    if given:
        return given
    path = state_dir(home) / "schedule_from"
    if path.exists() and path.read_text().strip():
        return path.read_text().strip()
    value = (now or datetime.now(timezone.utc)).replace(microsecond=0).isoformat()
    _write_private(path, value + "\n")
    return value


def _load_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


# ------------------------------------------------------------------------------------ sandbox
def sandbox_dir(settings: Settings) -> Path:
    return settings.data_path / "sandbox"


def sandbox_clients(settings: Settings, agency: str) -> tuple[dict[str, str], dict[str, dict]]:
    """The sandbox's OAuth clients, fixed per installation (``<data_dir>/sandbox/clients.json``,
    owner-only): the connections in the metadata database keep working across restarts."""
    path = sandbox_dir(settings) / "clients.json"
    saved = _load_json(path)
    portal = saved.get("portal") or {"sandbox-portal": secrets.token_urlsafe(18)}
    intake = saved.get("intake") or {"sandbox-intake": {"secret": secrets.token_urlsafe(18), "agency": agency}}
    for client in intake.values():
        client["agency"] = agency
    if saved != {"portal": portal, "intake": intake}:
        _write_private(path, json.dumps({"portal": portal, "intake": intake}, indent=2))
    return portal, intake


def signing_key(agency: str, announce=print) -> tuple[str, str]:
    """The agency's ES256 key from the connection ``report_signing_key`` of the metadata
    database, created on first use and kept: (private PEM, kid)."""
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
            announce(f"• tạo khóa ký ES256 mới trong kết nối Airflow '{CONN_SIGNING_KEY}'")
        return conn.password, json.loads(conn.extra or "{}").get("kid") or f"sandbox-{agency}"


def public_pem(private_pem: str) -> str:
    from joserfc.jwk import ECKey

    return ECKey.import_key(private_pem).as_pem(private=False).decode()


def http_connection(url: str, client_id: str, secret: str) -> dict:
    """An ``http`` connection for ``http://host:port`` with an OAuth client."""
    host, _, port = url.split("://", 1)[1].partition(":")
    return {"conn_type": "http", "host": host, "port": int(port), "schema": "http", "login": client_id,
            "password": secret}


@contextlib.contextmanager
def installation_sandbox(settings: Settings, *, agency: str, private_pem: str, kid: str, seed: int,
                         dossiers_per_quarter: int, invalid_rate: float | None, faults: str = "",
                         review_delay: float = 3.0) -> Iterator:
    """The installation's sandbox: persistent intake state and clients, the agency's public key."""
    from .sandbox.runner import run_sandbox

    portal, intake = sandbox_clients(settings, agency)
    extra = ("--invalid-rate", str(invalid_rate)) if invalid_rate is not None else ()
    with run_sandbox(seed=seed, dossiers_per_quarter=dossiers_per_quarter, agency=agency, faults=faults or None,
                     review_delay=review_delay, extra_args=extra, public_keys={kid: public_pem(private_pem)},
                     state_file=sandbox_dir(settings) / "intake-state.json", portal_clients=portal,
                     intake_clients=intake, startup_timeout=120.0) as sb:
        yield sb


def register_connections(sb) -> None:
    """Write ``dvc_portal`` and ``snv_report_api`` (this start's ports) to the metadata database."""
    from airflow.models import Connection
    from airflow.utils.session import create_session

    wanted = {
        CONN_PORTAL: (http_connection(sb.portal_url, *sb.portal_client), "Cổng DVC (sandbox)"),
        CONN_INTAKE: (http_connection(sb.intake_url, *sb.intake_client[:2]), "Sở Nội vụ (sandbox)"),
    }
    with create_session() as session:
        for conn_id, (spec, description) in wanted.items():
            conn = session.query(Connection).filter(Connection.conn_id == conn_id).one_or_none()
            if conn is None:
                conn = Connection(conn_id=conn_id)
                session.add(conn)
            conn.conn_type, conn.host, conn.port, conn.schema = (spec["conn_type"], spec["host"], spec["port"],
                                                                  spec["schema"])
            conn.login = spec["login"]
            conn.password = spec["password"]
            conn.description = description


# ---------------------------------------------------------------------------------- processes
@dataclass
class Component:
    name: str
    proc: subprocess.Popen
    log: Path


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _parent_death_signal() -> None:  # pragma: no cover - runs in the child before exec
    """Ask Linux to SIGTERM the component if this command dies without cleaning up."""
    os.setsid()
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_component(name: str, args: list[str], env: dict, log_dir: Path, airflow: str) -> Component:
    log = log_dir / f"{name}.log"
    with open(log, "ab") as out:
        out.write(f"\n===== {datetime.now(timezone.utc).isoformat()} airflow {' '.join(args)}\n".encode())
        out.flush()
        proc = subprocess.Popen([airflow, *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=env.get("AIRFLOW_HOME"),
                                preexec_fn=_parent_death_signal)
    return Component(name, proc, log)


def stop_components(components: list[Component], grace: float = STOP_GRACE) -> None:
    """SIGTERM every component's process group at once, wait, then SIGKILL what is left."""
    for c in components:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(c.proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for c in components:
        with contextlib.suppress(subprocess.TimeoutExpired):
            c.proc.wait(max(0.1, deadline - time.monotonic()))
    for c in components:  # the group: task runners, uvicorn workers, executor workers
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(c.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            c.proc.wait(10)


def marked_processes(marker: str) -> list[int]:
    """Processes (other than this one) whose environment carries ``PARREPORT_SERVE_ID=<marker>``."""
    return processes_with(MARKER_VAR, marker)


def processes_with(name: str, value: str) -> list[int]:
    """Processes (other than this one) whose environment has ``name=value``."""
    needle = f"{name}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
    return found


def cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    return str(pid)


def sweep(marker: str) -> list[str]:
    """SIGKILL any process this start created that outlived its group; their command lines."""
    left = marked_processes(marker)
    names = [cmdline(pid)[:80] for pid in left]
    for pid in left:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return names


# --------------------------------------------------------------------------------- environment
def component_env(base: dict, *, home: Path, port: int, passwords_file: Path, start: str, marker: str,
                  venv_bin: Path) -> dict:
    """The environment of every Airflow component of the embedded installation."""
    env = dict(base)
    env["PATH"] = f"{venv_bin}{os.pathsep}{env.get('PATH', '')}"
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        # a DAG appears unpaused; an installation's existing DAGs are unpaused once (unpause_new_dags)
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "PARREPORT_SCHEDULE_FROM": start,
        MARKER_VAR: marker,
    })
    # two shared cores are enough for a quarter; the operator may raise them
    env.setdefault("AIRFLOW__API__WORKERS", "1")
    env.setdefault("AIRFLOW__API__INSTANCE_NAME", "Báo cáo CCHC quý")
    env.setdefault("AIRFLOW__CORE__PARALLELISM", "4")
    env.setdefault("PARREPORT_RECEIPT_POLL_SECONDS", "2")  # the sandbox reviews a report in seconds
    return env


# ----------------------------------------------------------------------------------- REST API
class Api:
    def __init__(self, url: str, password: str):
        import httpx

        self.url, self.password = url, password
        self.http = httpx.Client(base_url=url, timeout=30)
        self._token: str | None = None

    def close(self) -> None:
        self.http.close()

    def token(self) -> str:
        if self._token is None:
            r = self.http.post("/auth/token", json={"username": ADMIN_USER, "password": self.password})
            r.raise_for_status()
            self._token = r.json()["access_token"]
        return self._token

    def request(self, method: str, path: str, **kwargs):
        for attempt in (1, 2):
            r = self.http.request(method, path, headers={"Authorization": f"Bearer {self.token()}"}, **kwargs)
            if r.status_code == 401 and attempt == 1:
                self._token = None
                continue
            return r
        return r  # pragma: no cover

    def up(self) -> bool:
        import httpx

        try:
            return self.http.get("/api/v2/version").status_code in (200, 401, 403)
        except httpx.HTTPError:
            return False


def unpause_new_dags(api: Api, state_file: Path) -> list[str]:
    """Unpause every DAG this command has not seen before; remember them all."""
    state = _load_json(state_file)
    seen = set(state.get("seen_dags", []))
    r = api.request("GET", "/api/v2/dags", params={"limit": 100})
    r.raise_for_status()
    unpaused = []
    for dag in r.json().get("dags", []):
        if dag["dag_id"] in seen:
            continue
        if dag.get("is_paused"):
            api.request("PATCH", f"/api/v2/dags/{dag['dag_id']}", json={"is_paused": False}).raise_for_status()
            unpaused.append(dag["dag_id"])
        seen.add(dag["dag_id"])
    if seen != set(state.get("seen_dags", [])):
        state["seen_dags"] = sorted(seen)
        _write_private(state_file, json.dumps(state, indent=2))
    return unpaused


def login_text(password: str, generated: bool) -> str:
    """The banner's login: a generated password is shown (nobody else knows it); one the operator
    gave in PARREPORT_ADMIN_PASSWORD is not repeated on the terminal."""
    if generated:
        return f"{ADMIN_USER} / {password}   (mật khẩu tạo mới cho lần khởi động này)"
    return f"{ADMIN_USER} / mật khẩu trong PARREPORT_ADMIN_PASSWORD"


def next_quarter_text(dag: dict, rule: str = "nd09") -> str:
    """"Quý 4/2026 tự chạy lúc 16/12/2026 00:00" from the DAG's next run, or why there is none."""
    from . import fmt
    from .calendar_timetable import closed_window_at

    if dag.get("is_paused"):
        return "lịch đang tắt (DAG bị tạm dừng trong giao diện)"
    run_after, end = dag.get("next_dagrun_run_after"), dag.get("next_dagrun_data_interval_end")
    if not run_after or not end:
        return "chưa có quý nào được lên lịch"
    window = closed_window_at(datetime.fromisoformat(end.replace("Z", "+00:00")), rule)
    return (f"{fmt.quarter_title(window.year, window.quarter)} tự chạy lúc "
            f"{fmt.datetime_text(run_after)} (giờ Việt Nam)")


# ----------------------------------------------------------------------------------- running
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
        dag = self.wait(f"DAG {DAG_ID}", lambda: _dag(api), STARTUP_TIMEOUT)
        unpause_new_dags(api, sdir / "state.json")
        dag = _dag(api) or dag
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
        url = f"http://127.0.0.1:{self.port}"
        self.say("\n".join([
            "",
            "Báo cáo CCHC quý — Airflow đang chạy. Dừng: Ctrl-C",
            f"  Giao diện:      {url}",
            f"  Đăng nhập:      {login_text(self.password, self.generated)}",
            f"  Chạy một quý:   Dags → {DAG_ID} → Trigger (năm, quý, mã đơn vị) — theo dõi ở Grid,"
            f" menu \"Báo cáo CCHC\"",
            f"  Lịch:           {next_quarter_text(dag, self.settings.window_rule)}",
            f"  Sandbox:        Cổng DVC {sb.portal_url}, Sở Nội vụ {sb.intake_url}",
            f"  Cài đặt:        AIRFLOW_HOME={self.home}; nhật ký các thành phần: {self.log_dir}",
            "",
        ]))

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


def _dag(api: Api) -> dict | None:
    r = api.request("GET", f"/api/v2/dags/{DAG_ID}")
    return r.json() if r.status_code == 200 else None


def build_parser(settings: Settings) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scripts/serve.sh",
                                description="Cài đặt Airflow đầy đủ với giao diện, chạy với sandbox (Cổng DVC + "
                                            "Sở Nội vụ giả lập) trên 127.0.0.1, đến khi bấm Ctrl-C")
    p.add_argument("--port", type=int, default=int(os.environ.get("PARREPORT_UI_PORT") or DEFAULT_PORT),
                   help="cổng của giao diện Airflow (mặc định 8080, hoặc PARREPORT_UI_PORT)")
    p.add_argument("--agency", default=settings.agency, help="mã đơn vị của sandbox")
    p.add_argument("--dossiers-per-quarter", type=int, default=5000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--invalid-rate", type=float, default=0.002,
                   help="tỷ lệ hồ sơ lỗi mà sandbox cài vào (mặc định 0,2 %%: dưới ngưỡng dừng 1 %%)")
    p.add_argument("--faults", default="", help="lỗi giả lập của sandbox (xem parreport.sandbox.runner)")
    return p


def main(argv: list[str] | None = None) -> int:
    settings = load_settings()
    args = build_parser(settings).parse_args(argv)
    home = Path(os.environ.get("AIRFLOW_HOME") or "").resolve()
    if not os.environ.get("AIRFLOW_HOME"):
        print("✗ AIRFLOW_HOME chưa được đặt: hãy chạy scripts/serve.sh", file=sys.stderr)
        return 2
    if not _free(args.port):
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


if __name__ == "__main__":
    sys.exit(main())
