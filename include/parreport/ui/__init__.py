"""The operator's and the steward's pages in the Airflow UI (served by airflow_plugins/parreport_views.py).

- :mod:`.paths`: where files are read, and the path-traversal rule (:func:`safe_path`);
- :mod:`.airflow`: from an Airflow run to its period and state, and back to Airflow's pages;
- :mod:`.data`: what each page shows, read from the store (``store.run_events`` tells each run's story);
- :mod:`.datadocs`: GX Data Docs rewritten to vendored assets (readable offline);
- :mod:`.app`: the FastAPI app and its routes; ``templates/`` and ``static/`` next to them.

Nothing here imports Airflow at import time.
"""
from .airflow import (DAG_ID, LINK_TARGETS, PERIOD_TASK_ID, airflow_period_lookup, airflow_run_info, as_period,
                      decode_xcom, grid_url, run_page_path)
from .app import create_app
from .paths import SAFE_NAME, NotFound, safe_name, safe_path

__all__ = ["create_app", "safe_path", "safe_name", "SAFE_NAME", "NotFound", "decode_xcom", "as_period",
           "airflow_period_lookup", "airflow_run_info", "run_page_path", "grid_url", "LINK_TARGETS",
           "PERIOD_TASK_ID", "DAG_ID"]
