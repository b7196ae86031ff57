"""What one task costs: wall time and the peak resident memory of its process, logged.

Under ``airflow dags test`` every task runs in the same process, one after another; Linux lets
a process reset its own peak-RSS mark (``/proc/self/clear_refs``, value 5), so the peak read at
the end of a task is that task's peak (the process's baseline included). On a Celery worker a
task has its own process and the same figure is simply that process's peak. The line is the
one ``scripts/bench_quarter.py`` reads; it carries no data, only sizes and times.
"""
from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator

log = logging.getLogger(__name__)

MARK = "tài nguyên tác vụ"


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _reset_peak() -> None:
    with contextlib.suppress(OSError):
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")


@contextlib.contextmanager
def measured(label: str) -> Iterator[None]:
    """Log ``tài nguyên tác vụ <label>: <wall> s, đỉnh RSS <MiB> MiB`` when the block ends."""
    _reset_peak()
    started = time.perf_counter()
    try:
        yield
    finally:
        wall = time.perf_counter() - started
        peak = _status_kib("VmHWM")
        log.info("%s %s: %.2f s, đỉnh RSS %s MiB", MARK, label, wall,
                 f"{peak / 1024:.0f}" if peak is not None else "?")
