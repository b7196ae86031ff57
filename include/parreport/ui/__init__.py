"""The operator's and the steward's pages in the Airflow UI (served by airflow_plugins/parreport_views.py).

- :mod:`.app`: the FastAPI app and its routes; ``templates/`` and ``static/`` next to it;
- :mod:`.pages`: what each page shows, one module a page (quarters, run, quarantine, receipt,
  documents, evidence), read from the store (``store.run_events`` tells each run's story);
- :mod:`.urls`: every page's path, written once (:class:`~.urls.Urls`, ``run_page_path``,
  ``grid_url`` into Airflow's own UI);
- :mod:`.airflow`: from an Airflow run to its period and state (look-ups that run in the API server);
- :mod:`.paths`: where files are read, and the path-traversal rule (:func:`safe_path`);
- :mod:`.datadocs`: GX Data Docs rewritten to vendored assets (readable offline).

Nothing here imports Airflow at import time.
"""
from .airflow import (DAG_ID, LINK_TARGETS, PERIOD_TASK_ID, airflow_period_lookup, airflow_run_info, as_period,
                      decode_xcom)
from .app import create_app
from .paths import SAFE_NAME, NotFound, safe_name, safe_path
from .urls import grid_url, run_page_path

__all__ = ["create_app", "safe_path", "safe_name", "SAFE_NAME", "NotFound", "decode_xcom", "as_period",
           "airflow_period_lookup", "airflow_run_info", "run_page_path", "grid_url", "LINK_TARGETS",
           "PERIOD_TASK_ID", "DAG_ID"]
