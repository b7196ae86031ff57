"""Airflow's REST API as ``serve.sh`` uses it, logged in as ``admin``: is the API server up, the
report DAG's state, and each DAG unpaused the first time this installation sees it (the
operator's later pause holds; ``serve/state.json`` remembers the DAGs seen).
"""
from __future__ import annotations

import json
from pathlib import Path

from ..config import DAG_ID
from .home import ADMIN_USER, load_json, write_private


class Api:
    def __init__(self, url: str, password: str):
        import httpx

        self.url, self.password = url, password
        self.http = httpx.Client(base_url=url, timeout=30)
        self._token: str | None = None

    def close(self) -> None:
        self.http.close()

    def token(self) -> str:
        if self._token is None:
            r = self.http.post("/auth/token", json={"username": ADMIN_USER, "password": self.password})
            r.raise_for_status()
            self._token = r.json()["access_token"]
        return self._token

    def request(self, method: str, path: str, **kwargs):
        for attempt in (1, 2):
            r = self.http.request(method, path, headers={"Authorization": f"Bearer {self.token()}"}, **kwargs)
            if r.status_code == 401 and attempt == 1:
                self._token = None
                continue
            return r
        return r  # pragma: no cover

    def up(self) -> bool:
        import httpx

        try:
            return self.http.get("/api/v2/version").status_code in (200, 401, 403)
        except httpx.HTTPError:
            return False


def unpause_new_dags(api: Api, state_file: Path) -> list[str]:
    """Unpause every DAG this command has not seen before; remember them all."""
    state = load_json(state_file)
    seen = set(state.get("seen_dags", []))
    r = api.request("GET", "/api/v2/dags", params={"limit": 100})
    r.raise_for_status()
    unpaused = []
    for dag in r.json().get("dags", []):
        if dag["dag_id"] in seen:
            continue
        if dag.get("is_paused"):
            api.request("PATCH", f"/api/v2/dags/{dag['dag_id']}", json={"is_paused": False}).raise_for_status()
            unpaused.append(dag["dag_id"])
        seen.add(dag["dag_id"])
    if seen != set(state.get("seen_dags", [])):
        state["seen_dags"] = sorted(seen)
        write_private(state_file, json.dumps(state, indent=2))
    return unpaused


def report_dag(api: Api) -> dict | None:
    """The report DAG as the API gives it (paused, next run), or None while it is not parsed yet."""
    r = api.request("GET", f"/api/v2/dags/{DAG_ID}")
    return r.json() if r.status_code == 200 else None
