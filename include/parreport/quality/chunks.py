"""Work on a staged partition spread over every core the machine gives the task: the typed
chunks of the validation frames (:func:`build_chunks`, :func:`.fast_frames.chunk_from_texts`)
and the figures' counts of the dossiers (``figures.quarter.compute_quarter_from_texts``), both
through :func:`spread`.

Reading records is Python work, one part of :data:`CHUNK` staged rows at a time. A partition of
fewer than :data:`HELPERS_FROM` parts is done here, in the task's process. From that many on,
helper processes (``PARREPORT_FRAME_WORKERS``, by default one per core beyond the first, at most
3) are started at once; the parts this process reads from the store wait in one queue, each
helper takes the next as soon as it is free, and this process does the oldest itself whenever
more than two per helper wait, then empties the queue once every part is read (so nobody is
idle while a part waits, and the texts in memory stay bounded). A helper is a fresh interpreter running :mod:`.frame_helper`
(``python -m parreport.quality.frame_helper``): nothing of the task's threads, sockets or locks
is copied, and it imports only what the work needs — not the task's main module, which
multiprocessing would import again in each helper (under Airflow, its command line: seconds).
Where they cannot be started or break (a killed helper), the part is done here instead and the
run says so in its log: the result is the same either way. An error of the work itself (a
record the figures cannot read) is raised here, as without helpers.
"""
from __future__ import annotations

import itertools
import logging
import os
import subprocess
import sys
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from . import frame_helper
from .fast_frames import chunk_from_texts

log = logging.getLogger(__name__)

__all__ = ["CHUNK", "batches", "build_chunks", "helper_count", "spread"]

# How many staged records one chunk is built from (bounded memory per chunk).
CHUNK = 20_000
# Helpers start only for a partition of at least this many chunks: a helper's start (a fresh
# interpreter importing numpy, pandas, msgspec: ~1 s of CPU) is about one dossier chunk's work,
# and more than three cheap rating chunks' (measured at 250,000 dossiers, 58,000 ratings).
HELPERS_FROM = 4


def helper_count() -> int:
    """``$PARREPORT_FRAME_WORKERS`` (0 = none), else one per core beyond the first, at most 3."""
    value = os.environ.get("PARREPORT_FRAME_WORKERS", "").strip()
    if value:
        return max(0, int(value))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(3, max(0, cores - 1))


def batches(rows: Iterable[Any], size: int | None = None) -> Iterator[list]:
    """``rows`` in lists of ``size`` (:data:`CHUNK`; one, possibly empty, when there are none)."""
    size = size or CHUNK
    batch: list = []
    sent = False
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            sent, batch = True, []
    if batch or not sent:
        yield batch


class _PartFailed(Exception):
    """The function raised in the helper: the part is done again here, to raise it here."""


class _Helpers:
    """``count`` helper processes (:mod:`.frame_helper`), each driven by a thread of its own:
    :meth:`submit` sends a call to a free helper and its future holds the answer, as a
    process pool's would. A helper that breaks fails its call and every later call of its
    thread; the caller then builds those chunks itself."""

    def __init__(self, count: int):
        self._threads = ThreadPoolExecutor(max_workers=count, thread_name_prefix="parreport-frames")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._closed = False
        # started now, so that their imports overlap this process's first chunk
        self._every: list[subprocess.Popen] = []
        try:
            for _ in range(count):
                self._every.append(self._start())
        except Exception:
            self.shutdown()
            raise
        self._free = list(self._every)  # not yet taken by a thread

    @staticmethod
    def _start() -> subprocess.Popen:
        env = dict(os.environ)
        root = Path(__file__).resolve().parents[2]  # the folder holding the parreport package
        if root.name not in ("site-packages", "dist-packages"):  # a source tree: the helper finds it too
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH")) if p)
        proc = subprocess.Popen([sys.executable, "-m", "parreport.quality.frame_helper"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, env=env, close_fds=True)
        frame_helper.widen(proc.stdin, proc.stdout)
        return proc

    def _helper(self) -> subprocess.Popen:
        proc = getattr(self._local, "proc", None)
        if proc is None:
            with self._lock:
                proc = self._free.pop() if self._free else None
            if proc is None:
                raise RuntimeError("không còn tiến trình phụ")
            self._local.proc = proc
        return proc

    def _call(self, function: Callable, args: tuple) -> Any:
        proc = self._helper()
        try:
            frame_helper.send(proc.stdin, (function, args))
            ok, answer = frame_helper.receive(proc.stdout)
        except Exception as exc:
            proc.kill()
            raise RuntimeError(f"tiến trình phụ {proc.pid} dừng ({type(exc).__name__})") from exc
        if not ok:
            raise _PartFailed(answer)
        return answer

    def submit(self, function: Callable, *args: Any) -> Future:
        if self._closed:
            raise RuntimeError("tiến trình phụ đã đóng")
        return self._threads.submit(self._call, function, args)

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        self._closed = True
        self._threads.shutdown(wait=wait, cancel_futures=cancel_futures)
        for proc in self._every:
            try:
                proc.stdin.close()  # the helper's input ends: it exits
                proc.wait(timeout=10)
            except Exception:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


def _pool(helpers: int) -> _Helpers:
    return _Helpers(helpers)


def build_chunks(kind: str, parts: Iterable[list], helpers: int | None = None) -> list[dict[str, Any]]:
    """The typed chunks of ``parts`` (lists of staged ``(seq, JSON text)``), in order."""
    # plain tuples travel lighter to a helper than the store's rows
    return spread(chunk_from_texts, (kind,), ([tuple(r) for r in part] for part in parts), helpers,
                  doing=f"dựng bảng dữ liệu {kind}")


def spread(function: Callable, fixed: tuple, parts: Iterable[list], helpers: int | None = None, *,
           doing: str = "dựng bảng dữ liệu") -> list[Any]:
    """``[function(*fixed, part) for part in parts]``, in order, computed here and — from
    :data:`HELPERS_FROM` parts on — in helper processes too (see the module's docstring).
    ``function`` must be importable by name and ``fixed`` and the parts picklable; a part whose
    helper fails is computed here, so an error of the function itself is raised here, as
    without helpers. ``doing`` says, in the log, what the parts are for.

    The parts read wait in one queue: each helper takes the next as soon as it is free (a
    thread of this process drives it), and this process takes the oldest itself whenever more
    than two per helper wait, then empties the queue once the parts are all read — nobody is
    idle while a part waits, and at most two per helper (and one in each helper) are held."""
    helpers = helper_count() if helpers is None else helpers
    parts = iter(parts)
    head = list(itertools.islice(parts, HELPERS_FROM))  # enough parts? then the helpers start before the first
    everything = itertools.chain(head, parts)
    if not helpers or len(head) < HELPERS_FROM:
        return [function(*fixed, part) for part in everything]
    try:
        pool = _pool(helpers)
    except Exception as exc:
        log.warning("không khởi động được tiến trình phụ (%s)", exc)
        return [function(*fixed, part) for part in everything]

    done: dict[int, Any] = {}
    failed: dict[int, list] = {}  # parts whose function raised in a helper: done here, to raise here
    queue: deque[tuple[int, list]] = deque()
    ready = threading.Condition()
    state = {"read": False, "alive": helpers, "by_helpers": 0}

    def drive() -> None:  # one per helper: the next part, to the helper, until none is left
        while True:
            with ready:
                while not queue and not state["read"]:
                    ready.wait()
                if not queue:
                    return
                position, part = queue.popleft()
            try:
                answer = pool.submit(function, *fixed, part).result()
            except _PartFailed:
                with ready:
                    failed[position] = part
                continue
            except Exception as exc:  # the helper broke: its part goes back, this process does it
                with ready:
                    queue.appendleft((position, part))
                    state["alive"] -= 1
                    ready.notify_all()
                log.warning("không dùng được tiến trình phụ để %s (%s); làm trong tiến trình này", doing, exc)
                return
            with ready:
                done[position] = answer
                state["by_helpers"] += 1

    def own_turn(limit: int) -> bool:
        """Do the oldest waiting part here when more than ``limit`` wait."""
        with ready:
            if len(queue) <= limit:
                return False
            position, part = queue.popleft()
        done[position] = function(*fixed, part)
        return True

    drivers = [threading.Thread(target=drive, name=f"parreport-helper-{i}", daemon=True) for i in range(helpers)]
    count, completed = 0, False
    try:
        for thread in drivers:
            thread.start()
        for position, part in enumerate(everything):
            count = position + 1
            with ready:
                queue.append((position, part))
                ready.notify()
                limit = 2 * state["alive"]
            own_turn(limit)
        with ready:
            state["read"] = True
            ready.notify_all()
        while own_turn(0):  # the parts still waiting, alongside the helpers
            pass
        completed = True
    finally:
        with ready:
            state["read"] = True
            if not completed:
                queue.clear()  # failing here: the helpers take nothing more
            ready.notify_all()
        for thread in drivers:
            thread.join()
        pool.shutdown(wait=True, cancel_futures=True)
    while own_turn(0):  # what a helper that broke at the end gave back
        pass
    for position in sorted(failed):
        done[position] = function(*fixed, failed[position])
    log.info("%s: %d phần dữ liệu, %d phần do %d tiến trình phụ làm", doing, count, state["by_helpers"], helpers)
    return [done[i] for i in range(count)]
