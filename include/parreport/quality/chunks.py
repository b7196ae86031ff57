"""A staged partition's typed chunks (:func:`.fast_frames.chunk_from_texts`), built on every
core the machine gives the task.

Reading records into columns is Python work, one chunk of :data:`CHUNK` staged rows at a time.
A partition of one chunk is built here, in the task's process. From the second chunk on, helper
processes (``PARREPORT_FRAME_WORKERS``, by default one per core beyond the first, at most 3)
take chunks while this process reads the store and builds a chunk itself whenever the helpers
already have two each in hand (so nobody waits for the other, and the texts in memory stay
bounded). The helpers are started
from a fresh ``forkserver`` (nothing of the task's threads, sockets or locks is copied) and
load only this module. Where they cannot be started or break (a daemonic worker process that
may have no children, a killed helper), the chunk is built here instead and the run says so in
its log: the frames are the same either way.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Iterable, Iterator

from .fast_frames import chunk_from_texts

log = logging.getLogger(__name__)

__all__ = ["CHUNK", "batches", "build_chunks", "helper_count"]

# How many staged records one chunk is built from (bounded memory per chunk).
CHUNK = 20_000


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


def _pool(helpers: int) -> ProcessPoolExecutor:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["parreport.quality.chunks"])
    return ProcessPoolExecutor(max_workers=helpers, mp_context=ctx)


def build_chunks(kind: str, parts: Iterable[list], helpers: int | None = None) -> list[dict[str, Any]]:
    """The typed chunks of ``parts`` (lists of staged ``(seq, JSON text)``), in order."""
    helpers = helper_count() if helpers is None else helpers
    done: list[dict[str, Any] | None] = []
    waiting: deque[tuple[int, Future, list]] = deque()  # (position, future, the batch itself)
    pool: ProcessPoolExecutor | None = None

    def settle(position: int, future: Future, batch: list) -> None:
        nonlocal helpers
        try:
            done[position] = future.result()
        except Exception as exc:  # a helper died or could not start: build it here
            if helpers:
                log.warning("không dùng được tiến trình phụ để dựng bảng dữ liệu (%s); dựng trong tiến trình "
                            "này", exc)
            helpers = 0
            done[position] = chunk_from_texts(kind, batch)

    try:
        for position, batch in enumerate(parts):
            done.append(None)
            for item in [w for w in waiting if w[1].done()]:  # what the helpers have finished
                waiting.remove(item)
                settle(*item)
            if position == 0 or not helpers or len(waiting) >= 2 * helpers:  # the helpers have enough
                done[position] = chunk_from_texts(kind, batch)
                continue
            if pool is None:
                try:
                    pool = _pool(helpers)
                except Exception as exc:  # pragma: no cover - no forkserver on this platform
                    log.warning("không khởi động được tiến trình phụ (%s)", exc)
                    helpers = 0
                    done[position] = chunk_from_texts(kind, batch)
                    continue
            try:
                waiting.append((position, pool.submit(chunk_from_texts, kind, batch), batch))
            except Exception:  # the pool is broken: settle() builds it here
                failed: Future = Future()
                failed.set_exception(RuntimeError("tiến trình phụ không nhận việc"))
                waiting.append((position, failed, batch))
        while waiting:
            settle(*waiting.popleft())
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return done  # type: ignore[return-value]
