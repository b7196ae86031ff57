"""What every task process imports: ``parreport.tasks`` stays light, and each heavy library is
imported only by the task that needs it (pandas and GX: validate; matplotlib, reportlab and
openpyxl: build_report)."""
from __future__ import annotations

import os
import subprocess
import sys

HEAVY = ("pandas", "numpy", "great_expectations", "matplotlib", "reportlab", "openpyxl")


def _loaded_after(code: str) -> list[str]:
    probe = (f"import sys; {code}; "
             f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))")
    env = {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=env,
                         check=True).stdout.strip().splitlines()
    return eval(out[-1])  # noqa: S307 - our own probe's printed list


def test_importing_the_tasks_imports_nothing_heavy():
    assert _loaded_after("from parreport import tasks") == []



def test_a_process_that_ran_a_task_exits_without_collecting_its_heap():
    # An exit handler registered before the task runs after the task's (handlers run last-in,
    # first-out): it sees the heap frozen, so the interpreter's teardown does not traverse it.
    probe = ("import atexit, gc\n"
             "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > 0))\n"
             "from parreport import tasks\n"
             "{call}\n")
    env = {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}

    def run(call: str) -> str:
        return subprocess.run([sys.executable, "-c", probe.format(call=call)], capture_output=True, text=True,
                              timeout=120, env=env, check=True).stdout.strip().splitlines()[-1]

    assert run("tasks.list_agencies({'agency': '000.00.20.H57'})") == "frozen at exit: True"
    assert run("pass") == "frozen at exit: False"  # importing the module alone changes nothing


def test_a_task_body_runs_with_the_heap_before_it_frozen_and_gives_it_back():
    # The objects alive before a task body are out of the collector's generations while it runs
    # (its collections walk only what it allocates) and are given back after it, a failure too:
    # garbage among them is still freed later.
    import gc

    from parreport import tasks

    seen = []

    @tasks._no_retry
    def body(fail: bool):
        seen.append(gc.get_freeze_count())
        if fail:
            raise RuntimeError("hỏng")
        return "ok"

    before = gc.get_freeze_count()
    assert body(False) == "ok"
    assert gc.get_freeze_count() == before
    try:
        body(True)
    except Exception:
        pass
    assert gc.get_freeze_count() == before
    assert len(seen) == 2 and all(n > before for n in seen)
