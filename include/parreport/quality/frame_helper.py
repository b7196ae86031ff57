"""A helper process that builds frame chunks for :mod:`.chunks`: ``python -m
parreport.quality.frame_helper``.

It reads ``(function, args)`` pickled on its standard input, one after the other, and writes
``(True, result)`` or ``(False, error text)`` pickled on its standard output (each message
length-prefixed, :func:`send` / :func:`receive`), until its input
ends (the task is done, or gone). It imports only what the function needs — not the task's
own main module (under ``airflow dags test`` or a worker, that is Airflow's command line),
which multiprocessing would import again in every helper. Anything else printed to standard
output goes to standard error, so the answers stay readable.
"""
from __future__ import annotations

import os
import pickle
import sys


# Each message is its pickle, preceded by the pickle's length (8 bytes, little-endian), and written
# and read in one call: the task's process talks to a helper from a thread while its own thread
# builds chunks, and a pickle streamed frame by frame (64 KiB each) hands the interpreter lock
# back and forth at every frame — measured, a helper's chunk then took twice as long as the
# task's own.
_LENGTH = 8
# The pipes' capacity asked of Linux (F_SETPIPE_SZ; its default limit /proc/sys/fs/pipe-max-size):
# a chunk's 26 MB of text passes in a few dozen writes instead of 400 of 64 KiB.
PIPE_SIZE = 1 << 20


def send(sink, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    sink.write(len(data).to_bytes(_LENGTH, "little"))
    sink.write(data)
    sink.flush()


def receive(source):
    head = source.read(_LENGTH)
    if not head:
        raise EOFError
    if len(head) != _LENGTH:
        raise EOFError("thông điệp bị cắt")
    size = int.from_bytes(head, "little")
    data = source.read(size)
    if len(data) != size:
        raise EOFError("thông điệp bị cắt")
    return pickle.loads(data)


def widen(*files) -> None:
    """Ask for :data:`PIPE_SIZE` on each pipe (Linux only; elsewhere, or refused, nothing changes)."""
    try:
        import fcntl
        setsize = getattr(fcntl, "F_SETPIPE_SZ", 1031)
    except ImportError:  # pragma: no cover - not Linux
        return
    for f in files:
        try:
            fcntl.fcntl(f.fileno(), setsize, PIPE_SIZE)
        except (OSError, ValueError):
            pass


def serve(source, sink) -> None:
    while True:
        try:
            function, args = receive(source)
        except EOFError:
            return
        try:
            answer = (True, function(*args))
        except Exception as exc:  # reported to the task, which builds the chunk itself
            answer = (False, f"{type(exc).__name__}: {exc}")
        send(sink, answer)
        del answer


def main() -> None:
    sink = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints go to standard error
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, sink)


if __name__ == "__main__":
    main()
