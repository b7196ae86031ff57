"""A secrets backend that is down: the connection look-up fault of the sandbox.

Configure it as Airflow's custom secrets backend, e.g.::

    AIRFLOW__SECRETS__BACKEND=parreport.sandbox.secrets.UnavailableSecretsBackend
    AIRFLOW__SECRETS__BACKEND_KWARGS='{"fail": "snv_report_api__*,report_signing_key__*"}'

Every look-up of a connection id matching one of the ``fail`` patterns (fnmatch, comma-separated;
``*`` = all) raises ``ConnectionError``, as a Vault or cloud secrets manager that does not answer
would; other ids are "not here" (None), so Airflow goes on to its next backend. Variables are
never answered by this backend.
"""
from __future__ import annotations

from fnmatch import fnmatchcase

from airflow.sdk.bases.secrets_backend import BaseSecretsBackend


class UnavailableSecretsBackend(BaseSecretsBackend):
    def __init__(self, fail: str | list[str] = "*", **kwargs):
        super().__init__(**kwargs)
        items = fail if isinstance(fail, list) else str(fail).split(",")
        self.patterns = [p.strip() for p in items if p.strip()]
        self.lookups: list[str] = []

    def get_conn_value(self, conn_id: str, team_name: str | None = None) -> str | None:
        self.lookups.append(conn_id)
        if any(fnmatchcase(conn_id, p) for p in self.patterns):
            raise ConnectionError("sandbox: secrets backend unavailable")
        return None

    def get_variable(self, key: str, team_name: str | None = None) -> str | None:
        return None
