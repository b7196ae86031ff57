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

