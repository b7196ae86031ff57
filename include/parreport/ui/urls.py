"""The links the pages carry: :class:`Urls` (below the app's mount point, and into Airflow's UI),
:func:`run_page_path` (from an Airflow run's period to one of its pages) and :func:`grid_url`
(a run's page in Airflow). Every page path is written here once."""
from __future__ import annotations

from urllib.parse import quote, urlencode

from ..config import DAG_ID
from .paths import NotFound

__all__ = ["Urls", "run_page_path", "grid_url"]


def grid_url(airflow_root: str, run_id: str, dag_id: str = DAG_ID) -> str:
    """The run's page in Airflow's UI (its grid, task logs one click away)."""
    return f"{airflow_root}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


class Urls:
    """The links the pages carry (below the app's mount point, and into Airflow's UI)."""

    def __init__(self, prefix: str, airflow_root: str):
        self.prefix, self.airflow_root = prefix, airflow_root

    @staticmethod
    def _q(v: str) -> str:
        return quote(v, safe="")

    def _base(self, page: str, agency: str, key: str) -> str:
        return f"{self.prefix}/{page}/{self._q(agency)}/{self._q(key)}"

    def summary(self, agency: str, key: str, run_id: str | None = None) -> str:
        return self._base("tom-tat", agency, key) + (f"?{urlencode({'run_id': run_id})}" if run_id else "")

    def quarantine(self, agency: str, key: str, run_id: str | None = None, **filters) -> str:
        params = {k: v for k, v in {"run_id": run_id, **filters}.items() if v}
        return self._base("cach-ly", agency, key) + (f"?{urlencode(params)}" if params else "")

    def quarantine_download(self, agency: str, key: str, ext: str, run_id: str | None = None, **filters) -> str:
        params = {k: v for k, v in {"run_id": run_id, **filters}.items() if v}
        return self._base("cach-ly", agency, key) + f"/tai-ve.{ext}" + (f"?{urlencode(params)}" if params else "")

    def receipt(self, agency: str, key: str, version: int | None = None) -> str:
        return self._base("bien-nhan", agency, key) + (f"?{urlencode({'phien_ban': version})}" if version else "")

    def report_file(self, agency: str, key: str, version: int, name: str) -> str:
        return self._base("bao-cao", agency, key) + f"/v{version}/{quote(name)}"

    def documents(self, agency: str, key: str) -> str:
        return self._base("bao-cao", agency, key) + "/"

    def evidence(self, agency: str, key: str, slug: str, page: str = "tom-tat.html") -> str:
        return self._base("data-docs", agency, key) + f"/{quote(slug)}/{page}"

    def evidence_list(self, agency: str, key: str, run_id: str | None = None) -> str:
        return self._base("data-docs", agency, key) + "/" + (f"?{urlencode({'run_id': run_id})}" if run_id else "")

    def grid(self, run_id: str) -> str:
        return grid_url(self.airflow_root, run_id)

    def overview(self) -> str:
        return f"{self.prefix}/"


def run_page_path(target: str, period: dict, run_id: str | None = None) -> str:
    """The path (below the app's mount point) of ``target`` (a key of ``LINK_TARGETS``) for one period."""
    urls, agency, key = Urls("", ""), period["agency"], period["window_key"]
    if target == "tom-tat":
        return urls.summary(agency, key, run_id)
    if target == "data-docs":
        return urls.evidence_list(agency, key, run_id)
    if target == "bao-cao":
        return urls.documents(agency, key)
    if target == "bien-nhan":
        return urls.receipt(agency, key)
    raise NotFound(target)
