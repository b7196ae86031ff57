"""``scripts/serve.sh`` started as an operator starts it, for tests.

    with serving(home, port=..., password=..., args=[...], extra_env={...}, log=path) as s:
        s.url, s.intake_url, s.api.get(...), s.output()

The script runs in its own session (as in a terminal of its own); leaving the context sends the
terminal's Ctrl-C (SIGINT to its process group) and waits for it to stop. :func:`leftovers`
lists the processes still carrying the installation's ``AIRFLOW_HOME`` — there must be none.
"""
from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx

ROOT = Path(__file__).resolve().parents[2]


def clean_env(home: Path, **extra: str) -> dict:
    """The caller's environment without any Airflow/parreport setting, for one installation."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PARREPORT", "SANDBOX_"))}
    env["AIRFLOW_HOME"] = str(home)
    env.update(extra)
    return env


def leftovers(home: Path) -> list[str]:
    """Command lines of the processes (but this one) whose environment names ``home`` as AIRFLOW_HOME."""
    from parreport.serve import cmdline, processes_with

    return [f"{pid}: {cmdline(pid)[:160]}" for pid in processes_with("AIRFLOW_HOME", str(home))]


def kill_leftovers(home: Path) -> None:
    for line in leftovers(home):
        with contextlib.suppress(ProcessLookupError, PermissionError, ValueError):
            os.kill(int(line.split(":", 1)[0]), signal.SIGKILL)


@dataclass
class Serving:
    proc: subprocess.Popen
    log: Path
    url: str
    password: str
    home: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    @property
    def intake_url(self) -> str:
        return re.search(r"Sở Nội vụ (http://127\.0\.0\.1:\d+)", self.output()).group(1)

    def token(self) -> str:
        r = httpx.post(f"{self.url}/auth/token", json={"username": "admin", "password": self.password}, timeout=30)
        r.raise_for_status()
        return r.json()["access_token"]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token()}"}, timeout=60)

    def alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"serve.sh exited with {self.proc.returncode}:\n{self.output()[-3000:]}")

    def interrupt(self, timeout: float = 90.0) -> int:
        """Ctrl-C in its terminal; the exit code."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGINT)
        return self.proc.wait(timeout)


@contextlib.contextmanager
def serving(home: Path, *, port: int, password: str, log: Path, args: list[str] = (), extra_env: dict | None = None,
            startup_timeout: float = 300.0) -> Iterator[Serving]:
    env = clean_env(home, PARREPORT_ADMIN_PASSWORD=password, **(extra_env or {}))
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen(["bash", str(ROOT / "scripts" / "serve.sh"), "--port", str(port), *args], env=env,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT,
                                start_new_session=True)
    s = Serving(proc, log, f"http://127.0.0.1:{port}", password, home)
    try:
        deadline = time.monotonic() + startup_timeout
        while "Đăng nhập:" not in s.output():
            s.alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"serve.sh not ready after {startup_timeout:.0f} s:\n{s.output()[-3000:]}")
            time.sleep(0.5)
        yield s
    finally:
        try:
            s.interrupt()
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        finally:
            time.sleep(0.5)
            kill_leftovers(home)
