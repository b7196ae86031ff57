"""The DAG as Airflow loads it: no import error, the operator interface of DESIGN.md, every
task documented, and a thin file that imports nothing heavy at parse time."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DAGS = ROOT / "dags"


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow-home")))
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_loads_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert {"quarterly_par_report", "receipt_follow_up"} <= set(dagbag.dags)


def test_operator_interface(dagbag):
    dag = dagbag.dags["quarterly_par_report"]
    assert set(dag.params.keys()) == {"year", "quarter", "agency"}
    assert dag.params["year"] is None and dag.params["agency"] is None
    assert dag.max_active_runs == 1 and dag.doc_md
    ids = [t.task_id for t in dag.tasks]
    chain = ["report.resolve_period", "report.load_staging", "report.validate_records", "report.compute_figures",
             "report.build_report", "report.submit_report"]
    for upstream, downstream in zip(chain, chain[1:]):
        assert upstream in dag.get_task(downstream).get_flat_relative_ids(upstream=True), (upstream, downstream)
    extract = {t for t in ids if t.startswith("report.extract.")}
    assert extract == {f"report.extract.{d}" for d in ("units", "procedures", "dossiers", "ratings", "bieu06")}
    assert dag.get_task("report.load_staging").upstream_task_ids == extract | {"report.resolve_period"}
    assert dag.get_task("report.resolve_period").upstream_task_ids == {"list_agencies"}
    # one branch per agency: every task of the report group is mapped over list_agencies
    group = dag.task_group_dict["report"]
    assert group.__class__.__name__ == "MappedTaskGroup"
    for t in dag.tasks:
        assert t.doc_md and t.doc_md.strip(), f"{t.task_id} has no doc"
    assert dag.timetable.__class__.__name__ == "ReportingWindowTimetable"
    assert "15" in dag.timetable.description


def test_the_quarter_ends_at_acceptance_and_announces_it(dagbag):
    dag = dagbag.dags["quarterly_par_report"]
    # nothing waits for the review any more: submit_report is the last task of a branch
    assert dag.get_task("report.submit_report").downstream_task_ids == set()
    assert not [t for t in dag.tasks if "receipt" in t.task_id]
    [outlet] = dag.get_task("report.submit_report").outlets
    assert outlet.uri.rstrip("/") == "parreport://report-accepted"
    follow = dagbag.dags["receipt_follow_up"]
    # scheduled on that asset or daily (07:00, Vietnam time)
    timetable = follow.timetable
    assert timetable.__class__.__name__ == "AssetOrTimeSchedule"
    assert list(timetable.asset_condition.objects) == [outlet]
    assert (timetable.timetable.expression, timetable.timetable.timezone) == ("0 7 * * *", "Asia/Ho_Chi_Minh")
    assert follow.max_active_runs == 1 and follow.doc_md
    # one deferrable task per open receipt
    wait = follow.get_task("follow_receipt")
    assert wait.__class__.__name__ == "MappedOperator" and wait.operator_class.__name__ == "WaitForReceiptOperator"
    assert follow.get_task("open_receipts").downstream_task_ids == {"follow_receipt"}
    for t in follow.tasks:
        assert t.doc_md and t.doc_md.strip(), f"{t.task_id} has no doc"


def test_bounded_timed_tasks(dagbag):
    """Every task has an execution_timeout and exponential retry backoff with a ceiling; every task
    that calls the portal (the extracts) runs in the dvc_portal pool, and no other does."""
    from datetime import timedelta

    for dag_id in ("quarterly_par_report", "receipt_follow_up"):
        for t in dagbag.dags[dag_id].tasks:
            assert isinstance(t.execution_timeout, timedelta) and t.execution_timeout > timedelta(0), t.task_id
            assert t.retry_exponential_backoff == 2.0 and t.max_retry_delay == timedelta(minutes=10), t.task_id
            portal = t.task_id.startswith("report.extract.")
            assert (t.pool == "dvc_portal") == portal, (t.task_id, t.pool)


def test_each_task_pushes_one_xcom(dagbag):
    """A task's summary travels as one XCom (``return_value``), never one per key: each XCom is
    an API call of the task (``multiple_outputs``, inferred from a ``-> dict`` annotation)."""
    for dag_id in ("quarterly_par_report", "receipt_follow_up"):
        for t in dagbag.dags[dag_id].tasks:
            assert not getattr(t, "multiple_outputs", False), t.task_id


@pytest.mark.parametrize("name", ["quarterly_par_report.py", "receipt_follow_up.py"])
def test_dag_file_is_thin(name):
    code = (
        "import sys, runpy, time; t = time.perf_counter();"
        f"runpy.run_path({str(DAGS / name)!r});"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pandas', 'numpy', 'great_expectations', 'openpyxl', 'matplotlib', 'reportlab') "
        "or m in ('parreport.pipeline', 'parreport.figures', 'parreport.store', 'parreport.sandbox'));"
        "print(heavy); print(time.perf_counter() - t)"
    )
    env = {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                         check=True).stdout.strip().splitlines()
    assert out[-2] == "[]", f"the DAG file imports heavy modules at parse time: {out[-2]}"
    assert not _logic_in_tasks(DAGS / name), "a task in the DAG file does more than hand over to parreport.tasks"


def _logic_in_tasks(path) -> list[str]:
    """Every ``@task`` function of a DAG file must only import ``parreport`` and return one call
    into it (wiring, no logic): the names of the tasks that do more."""
    import ast

    offenders = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.FunctionDef) or not any(
                (d.func if isinstance(d, ast.Call) else d).id == "task" for d in node.decorator_list
                if isinstance(d.func if isinstance(d, ast.Call) else d, ast.Name)):
            continue
        body = [b for b in node.body if not (isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant))]
        imports = [b for b in body if isinstance(b, ast.ImportFrom)]
        rest = [b for b in body if not isinstance(b, ast.ImportFrom)]
        ok = (all(i.module == "parreport" or (i.module or "").startswith("parreport.") for i in imports)
              and rest and isinstance(rest[-1], ast.Return) and isinstance(rest[-1].value, ast.Call)
              and all(isinstance(b, ast.Assign) and isinstance(b.value, (ast.Call, ast.Subscript)) for b in rest[:-1]))
        if not ok:
            offenders.append(node.name)
    return offenders


def test_the_logic_check_catches_a_task_with_logic(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from airflow.sdk import task\n@task\ndef t():\n    x = 0\n    for i in range(3):\n"
                   "        x += i\n    return str(x)\n", encoding="utf-8")
    assert _logic_in_tasks(bad) == ["t"]
