"""The FAB auth manager's Flask configuration ([fab] config_file) for the production stack.

Airflow's defaults (database logins, CSRF on every form), plus one change: the login's rate
limiter (Flask-Limiter, ``[fab] auth_rate_limit``, 5 attempts per 40 s by default) keeps its
counters in ``RATELIMIT_STORAGE_URI`` — Redis in docker-compose.yaml — instead of each API
server's memory, so the limit holds across every API server process and replica and survives
a restart. Without the variable, memory as before.
"""
from __future__ import annotations

import os

from flask_appbuilder.const import AUTH_DB

WTF_CSRF_ENABLED = True
WTF_CSRF_TIME_LIMIT = None
AUTH_TYPE = AUTH_DB
RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or "memory://"
