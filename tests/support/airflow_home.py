"""An Airflow installation for a test: its environment, and connections as AIRFLOW_CONN_* values
(the same http connection the product writes for the sandbox: parreport.serve.http_connection)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from parreport.serve import http_connection

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
PARREPORT = str(Path(sys.executable).with_name("parreport"))


def airflow_env(home: Path, **extra) -> dict:
    """This process's environment without AIRFLOW*/PARREPORT* variables, for the installation ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PARREPORT"))}
    env.update({"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False", **extra})
    return env


def conn_var(conn_id: str) -> str:
    return "AIRFLOW_CONN_" + conn_id.upper()


def http_conn(url: str, client_id: str, secret: str) -> str:
    """``http://host:port`` with an OAuth client, as the JSON of an AIRFLOW_CONN_* variable."""
    return json.dumps(http_connection(url, client_id, secret))


def install(home: Path) -> Path:
    """``airflow db migrate`` and ``parreport db upgrade`` into ``home`` (what scripts/install.sh does
    first): Airflow's metadata database ``airflow.db`` and the store ``parreport/store.db``, both SQLite."""
    env = airflow_env(home)
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    subprocess.run([PARREPORT, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=300)
    return home


def copy_installation(template: Path, home: Path, *, store: bool = True) -> Path:
    """A new installation at ``home`` from an :func:`install`-ed ``template``, by copying its SQLite
    files (no process has them open): the migrations run once per session, not once per home.
    Neither database holds a path of the template (``airflow.cfg`` does, so it is not copied:
    Airflow writes ``home``'s own on first use). ``store=False``: no store (it lives elsewhere)."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy2(template / "airflow.db", home / "airflow.db")
    if store:
        (home / "parreport").mkdir(exist_ok=True)
        shutil.copy2(template / "parreport" / "store.db", home / "parreport" / "store.db")
    return home
