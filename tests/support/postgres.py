"""A throw-away PostgreSQL server on 127.0.0.1 for tests (Debian's postgresql package).

PostgreSQL refuses to run as root, so under root the cluster belongs to the ``postgres`` user.
The server is stopped and its folder removed when the context ends.
"""
from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

BIN_DIRS = [Path(p) for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)]


def find_bin(name: str) -> str | None:
    for d in BIN_DIRS:
        if (d / name).exists():
            return str(d / name)
    return shutil.which(name)


def available() -> bool:
    return find_bin("initdb") is not None and find_bin("pg_ctl") is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def temporary_postgres(timeout: float = 60.0):
    """Yield a SQLAlchemy URL of a fresh database ``parreport`` on 127.0.0.1."""
    initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
    if not initdb:
        raise RuntimeError("PostgreSQL is not installed (Debian package 'postgresql')")
    base = Path(tempfile.mkdtemp(prefix="parreport-pg-"))
    data = base / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()

    def run(*cmd, **kw):
        return subprocess.run([*as_user, *cmd], check=True, capture_output=True, text=True, timeout=timeout, **kw)

    try:
        run(initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        run(pg_ctl, "-D", str(data), "-w", "-t", str(int(timeout)), "-l", str(base / "log"), "start",
            "-o", f"-h 127.0.0.1 -p {port} -k {base} -c fsync=off")
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        run(find_bin("createdb") or "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "parreport")
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/parreport"
    finally:
        with contextlib.suppress(Exception):
            run(pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)
