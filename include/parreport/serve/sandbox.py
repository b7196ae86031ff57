"""The installation's sandbox (Cổng DVC + Sở Nội vụ giả lập) and the Airflow connections that
point at it: its OAuth clients and intake state kept per installation (``<data_dir>/sandbox/``),
the agency's signing key kept in the metadata database, and ``dvc_portal`` / ``snv_report_api``
rewritten at every start (their ports change). ``demo`` (scripts/run_quarter.sh) uses it too.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import secrets
from pathlib import Path
from typing import Iterator

from ..config import CONN_INTAKE, CONN_PORTAL, CONN_SIGNING_KEY, Settings
from .home import load_json, write_private


def add_sandbox_arguments(parser: argparse.ArgumentParser, settings: Settings) -> None:
    """The sandbox's options, the same for ``serve.sh`` and ``run_quarter.sh``."""
    parser.add_argument("--agency", default=settings.agency, help="mã đơn vị của sandbox")
    parser.add_argument("--dossiers-per-quarter", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--invalid-rate", type=float, default=0.002,
                        help="tỷ lệ hồ sơ lỗi mà sandbox cài vào (mặc định 0,2 %%: dưới ngưỡng dừng 1 %%)")


def sandbox_dir(settings: Settings) -> Path:
    return settings.data_path / "sandbox"


def sandbox_clients(settings: Settings, agency: str) -> tuple[dict[str, str], dict[str, dict]]:
    """The sandbox's OAuth clients, fixed per installation (``<data_dir>/sandbox/clients.json``,
    owner-only): the connections in the metadata database keep working across restarts."""
    path = sandbox_dir(settings) / "clients.json"
    saved = load_json(path)
    portal = saved.get("portal") or {"sandbox-portal": secrets.token_urlsafe(18)}
    intake = saved.get("intake") or {"sandbox-intake": {"secret": secrets.token_urlsafe(18), "agency": agency}}
    for client in intake.values():
        client["agency"] = agency
    if saved != {"portal": portal, "intake": intake}:
        write_private(path, json.dumps({"portal": portal, "intake": intake}, indent=2))
    return portal, intake


def signing_key(agency: str, announce=print) -> tuple[str, str]:
    """The agency's ES256 key from the connection ``report_signing_key`` of the metadata
    database, created on first use and kept: (private PEM, kid)."""
    from airflow.models import Connection
    from airflow.utils.session import create_session

    from ..report.signing import generate_keypair

    with create_session() as session:
        conn = session.query(Connection).filter(Connection.conn_id == CONN_SIGNING_KEY).one_or_none()
        if conn is None:
            private_pem, _ = generate_keypair()
            conn = Connection(conn_id=CONN_SIGNING_KEY, conn_type="generic", password=private_pem,
                              extra=json.dumps({"kid": f"sandbox-{agency}"}),
                              description="Khóa ký ES256 của đơn vị (sandbox)")
            session.add(conn)
            session.flush()
            announce(f"• tạo khóa ký ES256 mới trong kết nối Airflow '{CONN_SIGNING_KEY}'")
        return conn.password, json.loads(conn.extra or "{}").get("kid") or f"sandbox-{agency}"


def public_pem(private_pem: str) -> str:
    from joserfc.jwk import ECKey

    return ECKey.import_key(private_pem).as_pem(private=False).decode()


def http_connection(url: str, client_id: str, secret: str) -> dict:
    """An ``http`` connection for ``http://host:port`` with an OAuth client."""
    host, _, port = url.split("://", 1)[1].partition(":")
    return {"conn_type": "http", "host": host, "port": int(port), "schema": "http", "login": client_id,
            "password": secret}


@contextlib.contextmanager
def installation_sandbox(settings: Settings, *, agency: str, private_pem: str, kid: str, seed: int,
                         dossiers_per_quarter: int, invalid_rate: float | None, faults: str = "",
                         review_delay: float = 3.0) -> Iterator:
    """The installation's sandbox: persistent intake state and clients, the agency's public key."""
    from ..sandbox.runner import run_sandbox

    portal, intake = sandbox_clients(settings, agency)
    extra = ("--invalid-rate", str(invalid_rate)) if invalid_rate is not None else ()
    with run_sandbox(seed=seed, dossiers_per_quarter=dossiers_per_quarter, agency=agency, faults=faults or None,
                     review_delay=review_delay, extra_args=extra, public_keys={kid: public_pem(private_pem)},
                     state_file=sandbox_dir(settings) / "intake-state.json", portal_clients=portal,
                     intake_clients=intake, startup_timeout=120.0) as sb:
        yield sb


def register_connections(sb) -> None:
    """Write ``dvc_portal`` and ``snv_report_api`` (this start's ports) to the metadata database."""
    from airflow.models import Connection
    from airflow.utils.session import create_session

    wanted = {
        CONN_PORTAL: (http_connection(sb.portal_url, *sb.portal_client), "Cổng DVC (sandbox)"),
        CONN_INTAKE: (http_connection(sb.intake_url, *sb.intake_client[:2]), "Sở Nội vụ (sandbox)"),
    }
    with create_session() as session:
        for conn_id, (spec, description) in wanted.items():
            conn = session.query(Connection).filter(Connection.conn_id == conn_id).one_or_none()
            if conn is None:
                conn = Connection(conn_id=conn_id)
                session.add(conn)
            conn.conn_type, conn.host, conn.port, conn.schema = (spec["conn_type"], spec["host"], spec["port"],
                                                                  spec["schema"])
            conn.login = spec["login"]
            conn.password = spec["password"]
            conn.description = description
