"""Process supervision: each Airflow component in its own process group (SIGTERM'd by Linux if
``serve.sh`` dies), stopped group by group (SIGTERM, then SIGKILL after a grace period), and a
last sweep for any process whose environment carries this start's marker (``MARKER_VAR``).
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

MARKER_VAR = "PARREPORT_SERVE_ID"
STOP_GRACE = 20.0


@dataclass
class Component:
    name: str
    proc: subprocess.Popen
    log: Path


def port_free(port: int) -> bool:
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
