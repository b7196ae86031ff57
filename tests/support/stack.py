"""The production deployment of docker-compose.yaml as local processes, for tests.

PostgreSQL (Debian package; databases ``airflow`` and ``parreport``), Redis, then Airflow with
the compose file's configuration — CeleryExecutor, PostgreSQL metadata database, Redis broker,
the FAB auth manager — initialised by the compose file's own init script
(``scripts/airflow_init.sh``: ``airflow db migrate``, ``parreport db upgrade``, the admin and
operator users from password files), then ``api-server``, ``scheduler``, ``dag-processor``,
``triggerer`` and one or more ``celery worker`` — every one on 127.0.0.1, each in its own process
group, started with a bounded wait and always stopped (the whole group) when the context ends.

Each component stands for a host of its own: its own local ``PARREPORT_DATA_DIR``
(``stack.data_dirs[name]``) and, for a worker, its own host name (``[core] hostname_callable``,
which task instances record: ``worker-1.parreport.test``, …). What one task leaves for another
must therefore go through the store or the shared storage (``PARREPORT_STORAGE_URL`` in
``extra_env``). The FAB login's rate limiter keeps its counters in Redis (database 1), as in
docker-compose.yaml (``deploy/webserver_config.py``).

    with production_stack(artifacts, extra_env={...}, workers=2) as stack:
        stack.api_url, stack.env, stack.store_url, stack.token(), stack.login(), stack.health()

Nothing listens on another interface: the log servers of the worker and the triggerer (which
would bind every interface) are not started — every component shares one ``AIRFLOW_HOME`` and
reads task logs from its ``logs/`` folder.
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import httpx

from tests.support import postgres

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
CELERY = str(Path(sys.executable).with_name("celery"))
INIT_SCRIPT = ROOT / "scripts" / "airflow_init.sh"
WEBSERVER_CONFIG = ROOT / "deploy" / "webserver_config.py"
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
REDIS_MISSING = ("redis-server is not installed: the production-stack test needs it "
                 "(Debian: apt-get install -y redis-server; .ci/run installs it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float, proc: subprocess.Popen | None = None, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{what} exited with {proc.returncode} before listening on {port}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} not listening on 127.0.0.1:{port} after {timeout:.0f} s")
            time.sleep(0.2)


@dataclass
class Component:
    name: str
    proc: subprocess.Popen
    log: Path

    def tail(self, n: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""


def stop_group(proc: subprocess.Popen, grace: float = 20.0) -> None:
    """SIGTERM the process group the component leads, then SIGKILL what is left of it."""
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        return
    if pgid != proc.pid:  # never signal a group this helper did not create
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)  # children (task runners, uvicorn workers) included
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(10)


@dataclass
class Stack:
    home: Path
    env: dict
    api_url: str
    store_url: str
    airflow_db_url: str
    redis_url: str
    logs: Path
    username: str = "operator"
    password: str = ""
    scheduler_health_port: int = 0
    worker_names: dict[str, str] = field(default_factory=dict)  # component -> celery node name
    worker_hosts: dict[str, str] = field(default_factory=dict)  # component -> host name tasks record
    data_dirs: dict[str, Path] = field(default_factory=dict)  # component -> its own PARREPORT_DATA_DIR
    ratelimit_url: str = ""
    components: dict[str, Component] = field(default_factory=dict)

    def token(self) -> str:
        """A JWT from the FAB auth manager's ``POST /auth/token`` (the API's way in)."""
        r = httpx.post(f"{self.api_url}/auth/token", json={"username": self.username, "password": self.password},
                       timeout=30)
        r.raise_for_status()
        return r.json()["access_token"]

    def login(self, password: str | None = None) -> httpx.Response:
        """Log in as a person does: the FAB login form (with its CSRF token), username and
        password. Returns the form's answer; on success it redirects and sets the ``_token``
        cookie the UI and the operator's pages read."""
        with httpx.Client(base_url=self.api_url, timeout=30, follow_redirects=False) as client:
            page = client.get("/auth/login/")
            page.raise_for_status()
            csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
            assert csrf, f"no CSRF token on the login page:\n{page.text[:2000]}"
            answer = client.post("/auth/login/", data={
                "username": self.username, "password": self.password if password is None else password,
                "csrf_token": csrf.group(1)})
            answer.read()
            return answer

    def health(self) -> dict[str, tuple[bool, str]]:
        """docker-compose.yaml's health checks, run against the local processes."""
        checks: dict[str, tuple[bool, str]] = {}
        for name, url in (("airflow-apiserver", f"{self.api_url}/api/v2/version"),
                          ("airflow-scheduler", f"http://127.0.0.1:{self.scheduler_health_port}/health")):
            try:
                r = httpx.get(url, timeout=10)
                checks[name] = (r.status_code == 200, f"HTTP {r.status_code} {r.text[:200]}")
            except httpx.HTTPError as exc:
                checks[name] = (False, repr(exc))
        commands = {
            "airflow-dag-processor": [AIRFLOW, "jobs", "check", "--job-type", "DagProcessorJob", "--local"],
            "airflow-triggerer": [AIRFLOW, "jobs", "check", "--job-type", "TriggererJob", "--local"],
        }
        for component, node in self.worker_names.items():
            commands[component.replace("celery-worker", "airflow-worker")] = [
                CELERY, "--app", "airflow.providers.celery.executors.celery_executor.app", "inspect", "ping", "-d", node]
        if "triggerer" not in self.components:
            commands.pop("airflow-triggerer")

        def run(cmd: list[str]) -> tuple[bool, str]:
            done = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=120)
            return done.returncode == 0, (done.stdout + done.stderr)[-600:]

        # the checks are independent commands (each an Airflow or Celery start-up of seconds): run
        # them at once, as docker compose runs each service's own check
        with ThreadPoolExecutor(max_workers=len(commands)) as pool:
            results = {name: pool.submit(run, cmd) for name, cmd in commands.items()}
            checks.update({name: future.result() for name, future in results.items()})
        return checks

    def check_alive(self) -> None:
        dead = {n: c for n, c in self.components.items() if c.proc.poll() is not None}
        if dead:
            raise RuntimeError("; ".join(f"{n} exited with {c.proc.returncode}:\n{c.tail()}" for n, c in dead.items()))

    def diagnostics(self) -> str:
        return "\n".join(f"===== {n} (rc={c.proc.poll()}) =====\n{c.tail(3000)}" for n, c in self.components.items())


def start_redis(workdir: Path, logs: Path, timeout: float = 30.0):
    exe = shutil.which("redis-server")
    if exe is None:
        raise RuntimeError(REDIS_MISSING)
    port = free_port()
    log = logs / "redis.log"
    proc = subprocess.Popen([exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(workdir), "--protected-mode", "yes", "--daemonize", "no"],
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    wait_port(port, timeout, proc, "redis-server")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"PING\r\n")
        assert s.recv(64).startswith(b"+PONG"), "redis-server did not answer PING"
    return Component("redis", proc, log), f"redis://127.0.0.1:{port}/0"


def airflow_env(home: Path, *, db_url: str, redis_url: str, api_port: int, store_url: str, data_dir: Path,
                scheduler_health_port: int, extra: dict | None = None) -> dict:
    """The environment of docker-compose.yaml's ``x-airflow-common``, for local processes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PARREPORT", "SANDBOX_"))}
    sa_url = db_url  # postgresql+psycopg2://postgres@127.0.0.1:<port>/airflow
    env.update({
        # the init script calls `airflow` and `parreport` by name, as in the image
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sa_url,
        # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3: name the driver the product pins
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + sa_url,
        "AIRFLOW__CELERY__BROKER_URL": redis_url,
        "AIRFLOW__CORE__FERNET_KEY": _fernet_key(),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "true",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(24),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
        # as in docker-compose.yaml; bound to 127.0.0.1 here (its default host is every interface)
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "true",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(scheduler_health_port),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "PARREPORT_STORE_URL": store_url,
        "PARREPORT_DATA_DIR": str(data_dir),
        # FAB's login rate limiter keeps its counters in Redis, shared by every API server
        "AIRFLOW__FAB__CONFIG_FILE": str(WEBSERVER_CONFIG),
        "RATELIMIT_STORAGE_URI": redis_url.rsplit("/", 1)[0] + "/1",
    })
    env.update(extra or {})
    return env


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


@contextlib.contextmanager
def production_stack(logs: Path, *, extra_env: dict | None = None, startup_timeout: float = 180.0,
                     worker_concurrency: int = 2, with_triggerer: bool = True, workers: int = 1) -> Iterator[Stack]:
    """Start the whole stack; yield a :class:`Stack`; always stop every process it started."""
    logs.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="parreport-stack-"))
    components: dict[str, Component] = {}
    try:
        with postgres.temporary_postgres() as store_url:
            try:
                yield from _run(base, logs, store_url, components, extra_env, startup_timeout, worker_concurrency,
                                with_triggerer, workers)
            finally:  # every Airflow process and Redis stop before PostgreSQL does
                for name in reversed(list(components)):
                    stop_group(components[name].proc)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _run(base: Path, logs: Path, store_url: str, components: dict, extra_env: dict | None, startup_timeout: float,
         worker_concurrency: int, with_triggerer: bool, workers: int) -> Iterator[Stack]:
    from sqlalchemy import create_engine, text

    admin = create_engine(store_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text("CREATE DATABASE airflow"))
    admin.dispose()
    airflow_db = store_url.rsplit("/", 1)[0] + "/airflow"

    components["redis"], redis_url = start_redis(base, logs)
    home = base / "airflow-home"
    home.mkdir()
    # the users' passwords as the compose file's secrets: one line in a file only the init reads
    secrets_dir = base / "secrets"
    secrets_dir.mkdir(mode=0o700)
    password = secrets.token_urlsafe(16)
    for who, value in (("admin", secrets.token_urlsafe(16)), ("operator", password)):
        (secrets_dir / f"airflow-{who}-password").write_text(value + "\n")
    api_port, health_port = free_port(), free_port()
    env = airflow_env(home, db_url=airflow_db, redis_url=redis_url, api_port=api_port, store_url=store_url,
                      data_dir=base / "hosts" / "airflow-init" / "data", scheduler_health_port=health_port,
                      extra=extra_env)
    names = [f"celery-worker-{i}" for i in range(1, workers + 1)] if workers > 1 else ["celery-worker"]
    stack = Stack(home=home, env=env, api_url=f"http://127.0.0.1:{api_port}", store_url=store_url,
                  airflow_db_url=airflow_db, redis_url=redis_url, logs=logs, password=password,
                  scheduler_health_port=health_port, ratelimit_url=env["RATELIMIT_STORAGE_URI"],
                  worker_names={n: f"parreport-test-{api_port}-{i}@127.0.0.1" for i, n in enumerate(names, 1)},
                  worker_hosts={n: f"worker-{i}.parreport.test" for i, n in enumerate(names, 1)},
                  components=components)

    init_env = {**env, "AIRFLOW_ADMIN_USERNAME": "admin", "AIRFLOW_OPERATOR_USERNAME": stack.username,
                "AIRFLOW_ADMIN_PASSWORD_FILE": str(secrets_dir / "airflow-admin-password"),
                "AIRFLOW_OPERATOR_PASSWORD_FILE": str(secrets_dir / "airflow-operator-password")}
    init = subprocess.run(["bash", str(INIT_SCRIPT)], env=init_env, capture_output=True, text=True, timeout=600)
    (logs / "airflow-init.log").write_text(init.stdout + init.stderr)
    if init.returncode != 0:
        raise RuntimeError("scripts/airflow_init.sh failed:\n" + (init.stdout + init.stderr)[-4000:])
    assert password not in init.stdout + init.stderr, "the init script printed a password"

    def start(name: str, *args: str) -> Component:
        log = logs / f"{name}.log"
        host = base / "hosts" / name  # the component's own "machine": its local data folder (not named
        # parreport: a worker has this folder on PYTHONPATH)
        stack.data_dirs[name] = host / "data"
        own = {"PARREPORT_DATA_DIR": str(host / "data")}
        if name in stack.worker_hosts:  # the host name its task instances record
            (host / "parreport_test_host.py").parent.mkdir(parents=True, exist_ok=True)
            (host / "parreport_test_host.py").write_text(f"def name():\n    return {stack.worker_hosts[name]!r}\n")
            own.update({"PYTHONPATH": str(host), "AIRFLOW__CORE__HOSTNAME_CALLABLE": "parreport_test_host.name"})
        proc = subprocess.Popen([AIRFLOW, *args], env={**env, **own}, cwd=base, stdout=open(log, "wb"),
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        components[name] = Component(name, proc, log)
        return components[name]

    api = start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(api_port), "--workers", "1")
    start("scheduler", "scheduler")
    start("dag-processor", "dag-processor")
    if with_triggerer:
        start("triggerer", "triggerer", "--skip-serve-logs")
    for name, node in stack.worker_names.items():
        start(name, "celery", "worker", "--concurrency", str(worker_concurrency), "--skip-serve-logs",
              "--celery-hostname", node)

    deadline = time.monotonic() + startup_timeout
    while True:
        stack.check_alive()
        try:
            if httpx.get(f"{stack.api_url}/api/v2/version", timeout=5).status_code in (200, 401, 403):
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"api-server not up after {startup_timeout:.0f} s:\n{api.tail()}")
        time.sleep(0.5)
    yield stack
