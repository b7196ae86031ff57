"""The three Airflow connections of DESIGN.md, read through Airflow (metadata database,
``AIRFLOW_CONN_<ID>`` variables or a secrets backend). Only called inside tasks."""
from __future__ import annotations

import json

from .config import CONN_INTAKE, CONN_PORTAL, CONN_SIGNING_KEY
from .http import Endpoint


def _get(conn_id: str):
    from airflow.sdk import Connection  # imported here: DAG parsing must not pay for it

    return Connection.get(conn_id)


def portal_endpoint() -> Endpoint:
    return Endpoint.from_connection(_get(CONN_PORTAL))


def intake_endpoint() -> Endpoint:
    return Endpoint.from_connection(_get(CONN_INTAKE))


def signing_key() -> tuple[str, str]:
    """(private key PEM, kid) from ``report_signing_key``: password holds the PEM, extra {"kid": …}."""
    conn = _get(CONN_SIGNING_KEY)
    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else json.loads(conn.extra or "{}")
    kid = extra.get("kid")
    if not conn.password or "PRIVATE KEY" not in conn.password:
        raise ValueError(f"kết nối {CONN_SIGNING_KEY!r}: password phải chứa khóa bí mật ES256 dạng PEM")
    if not kid:
        raise ValueError(f"kết nối {CONN_SIGNING_KEY!r}: extra phải có {{\"kid\": \"...\"}}")
    return conn.password, kid
