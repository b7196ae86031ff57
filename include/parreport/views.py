"""The operator's view — kept as the name older imports use; everything lives in
:mod:`parreport.ui` (pages from templates, data access through the store, Data Docs offline)."""
from .ui import *  # noqa: F401,F403
from .ui import __all__  # noqa: F401
from .ui.airflow import as_period as _as_period  # noqa: F401
