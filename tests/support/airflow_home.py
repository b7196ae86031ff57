"""An Airflow installation for a test: its environment, and connections as AIRFLOW_CONN_* values
(the same http connection the product writes for the sandbox: parreport.serve.http_connection)."""
from __future__ import annotations

import json
import os
from pathlib import Path

from parreport.serve import http_connection

ROOT = Path(__file__).resolve().parents[2]


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
