"""The three Airflow connections of DESIGN.md, read through Airflow (metadata database,
``AIRFLOW_CONN_<ID>`` variables or a secrets backend). Only called inside tasks."""
from __future__ import annotations

import json
import re

from .config import CONN_INTAKE, CONN_PORTAL, CONN_SIGNING_KEY
from .http import Endpoint


def _get(conn_id: str):
    from airflow.sdk import Connection  # imported here: DAG parsing must not pay for it

    return Connection.get(conn_id)


def agency_conn_id(base: str, agency: str | None) -> str:
    """``<base>__<agency as a slug>``, e.g. ``snv_report_api__000_00_20_h57``: the intake login and
    the signing key belong to one agency, so a province-wide deployment gives each agency its
    own; an agency without one uses ``<base>``."""
    slug = re.sub(r"[^a-z0-9]+", "_", (agency or "").lower()).strip("_")
    return f"{base}__{slug}"


def resolve_conn_id(base: str, agency: str | None) -> str:
    """The agency's own connection id when it exists, else ``base``."""
    if agency:
        candidate = agency_conn_id(base, agency)
        try:
            _get(candidate)
            return candidate
        except Exception:  # not found: Airflow raises its own not-found error types
            pass
    return base


def portal_endpoint() -> Endpoint:
    return Endpoint.from_connection(_get(CONN_PORTAL))


def intake_endpoint(agency: str | None = None) -> Endpoint:
    return Endpoint.from_connection(_get(resolve_conn_id(CONN_INTAKE, agency)))


def signing_key(agency: str | None = None) -> tuple[str, str]:
    """(private key PEM, kid) from ``report_signing_key``: password holds the PEM, extra {"kid": …}."""
    conn = _get(resolve_conn_id(CONN_SIGNING_KEY, agency))
    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else json.loads(conn.extra or "{}")
    kid = extra.get("kid")
    if not conn.password or "PRIVATE KEY" not in conn.password:
        raise ValueError(f"kết nối {CONN_SIGNING_KEY!r}: password phải chứa khóa bí mật ES256 dạng PEM")
    if not kid:
        raise ValueError(f"kết nối {CONN_SIGNING_KEY!r}: extra phải có {{\"kid\": \"...\"}}")
    return conn.password, kid
