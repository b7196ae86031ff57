"""The installation's own state, kept in ``$AIRFLOW_HOME/serve/`` (owner-only files): the lock
that one ``serve.sh`` holds, the ``admin`` password file SimpleAuthManager reads, the first
scheduled instant (``schedule_from``); and the environment every Airflow component starts with.
"""
from __future__ import annotations

import fcntl
import json
import os
import secrets
from datetime import datetime, timezone
from pathlib import Path

from .processes import MARKER_VAR

ADMIN_USER = "admin"


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


def write_private(path: Path, text: str) -> None:
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
    write_private(path, json.dumps({ADMIN_USER: password}) + "\n")


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
    write_private(path, value + "\n")
    return value


def load_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


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
