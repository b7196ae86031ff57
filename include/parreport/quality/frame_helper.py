"""A helper process that builds frame chunks for :mod:`.chunks`: ``python -m
parreport.quality.frame_helper``.

It reads ``(function, args)`` pickled on its standard input, one after the other, and writes
``(True, result)`` or ``(False, error text)`` pickled on its standard output, until its input
ends (the task is done, or gone). It imports only what the function needs — not the task's
own main module (under ``airflow dags test`` or a worker, that is Airflow's command line),
which multiprocessing would import again in every helper. Anything else printed to standard
output goes to standard error, so the answers stay readable.
"""
from __future__ import annotations

import os
import pickle
import sys


def serve(source, sink) -> None:
    while True:
        try:
            function, args = pickle.load(source)
        except EOFError:
            return
        try:
            answer = (True, function(*args))
        except Exception as exc:  # reported to the task, which builds the chunk itself
            answer = (False, f"{type(exc).__name__}: {exc}")
        pickle.dump(answer, sink, protocol=pickle.HIGHEST_PROTOCOL)
        sink.flush()
        del answer


def main() -> None:
    sink = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints go to standard error
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, sink)


if __name__ == "__main__":
    main()
