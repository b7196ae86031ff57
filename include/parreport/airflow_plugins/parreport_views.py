"""The operator's and the steward's pages in the Airflow UI (logic: include/parreport/ui/), registered
by the package's ``airflow.plugins`` entry point.

- a FastAPI app mounted by the API server at ``/parreport`` (read-only pages: the quarters at a
  glance, the story of each run, the quarantine of a run with its downloads, receipts, documents,
  Data Docs readable offline), behind Airflow's own authentication and DAG-run read permission;
- a menu entry "Báo cáo CCHC" and a "Tóm tắt báo cáo" tab on every DAG run page;
- four extra links on every task instance of the report DAG — "Data Docs", "Báo cáo & tệp đính
  kèm", "Biên nhận", "Tóm tắt lần chạy" — resolved in the API server from the run's
  ``resolve_period`` XCom, so the tasks push nothing for them.
"""
from __future__ import annotations

from urllib.parse import quote, urlsplit

from starlette.requests import Request

from airflow.plugins_manager import AirflowPlugin
from airflow.sdk import BaseOperatorLink

from parreport import ui as views

URL_PREFIX = "/parreport"
# The DAGs whose task instances carry the links (the links are global: one class for all
# TaskFlow tasks, answered by the API server).
REPORT_DAGS = frozenset({views.DAG_ID})


def _base() -> str:
    """``/parreport`` below ``[api] base_url``'s path, so links work behind a path prefix."""
    try:
        from airflow.configuration import conf

        path = urlsplit(conf.get("api", "base_url", fallback="") or "").path.rstrip("/")
    except Exception:  # pragma: no cover - configuration always loads in Airflow
        path = ""
    return path + URL_PREFIX


def _link(target: str, dag_id: str, run_id: str, map_index: int | None) -> str:
    if dag_id not in REPORT_DAGS:
        return ""
    periods = views.airflow_period_lookup(dag_id, run_id, map_index)
    if not periods:
        return ""  # resolve_period has not run yet: the button stays disabled
    if len(periods) == 1:
        return _base() + views.run_page_path(target, periods[0], run_id)
    suffix = f"?map_index={map_index}" if map_index is not None and map_index >= 0 else ""
    return f"{_base()}/lan-chay/{target}/{quote(dag_id, safe='')}/{quote(run_id, safe='')}{suffix}"


class _ReportLink(BaseOperatorLink):
    target = "tom-tat"

    def get_link(self, operator, *, ti_key) -> str:  # noqa: ARG002 - operator is unused
        try:
            return _link(self.target, ti_key.dag_id, ti_key.run_id, getattr(ti_key, "map_index", -1))
        except Exception:  # a link must never break the task page
            return ""


class DataDocsLink(_ReportLink):
    name = views.LINK_TARGETS["data-docs"]
    target = "data-docs"


class ReportFilesLink(_ReportLink):
    name = views.LINK_TARGETS["bao-cao"]
    target = "bao-cao"


class ReceiptLink(_ReportLink):
    name = views.LINK_TARGETS["bien-nhan"]
    target = "bien-nhan"


class RunSummaryLink(_ReportLink):
    name = views.LINK_TARGETS["tom-tat"]
    target = "tom-tat"


async def require_report_run_access(request: Request) -> None:
    """Airflow's own authentication (bearer header, or the UI's ``_token`` cookie) and read
    permission on the report DAG's runs. Imported on the first request, so that loading the
    plugin stays cheap in the processes that never serve it (scheduler, workers)."""
    import anyio
    from fastapi.security import HTTPBearer

    from airflow.api_fastapi.core_api.security import DagAccessEntity, get_user, requires_access_dag

    credentials = await HTTPBearer(auto_error=False)(request)
    user = await get_user(request, None, credentials)
    check = requires_access_dag("GET", DagAccessEntity.RUN, param_dag_id=views.DAG_ID)
    await anyio.to_thread.run_sync(check, request, user)


def _build_app():
    from fastapi import Depends

    async def dependency(request: Request) -> None:
        await require_report_run_access(request)

    return views.create_app(period_lookup=views.airflow_period_lookup, run_info=views.airflow_run_info,
                            dependencies=[Depends(dependency)])


class _AppOnFirstRequest:
    """An ASGI app that builds the views app on its first request: the plugin is loaded by every
    Airflow process that has the package (entry point), only the API server serves it."""

    def __init__(self, build):
        self._build = build
        self._app = None

    async def __call__(self, scope, receive, send):
        if self._app is None:
            self._app = self._build()
        await self._app(scope, receive, send)


class ParreportViewsPlugin(AirflowPlugin):
    name = "parreport_views"
    fastapi_apps = [{"app": _AppOnFirstRequest(_build_app), "url_prefix": URL_PREFIX, "name": "Báo cáo CCHC — trang vận hành"}]
    external_views = [
        {"name": "Báo cáo CCHC", "href": f"{URL_PREFIX}/", "destination": "nav", "category": "browse",
         "url_route": "parreport"},
        {"name": "Tóm tắt báo cáo", "href": f"{URL_PREFIX}/lan-chay/tom-tat/{{DAG_ID}}/{{RUN_ID}}",
         "destination": "dag_run", "url_route": "parreport-run"},
    ]
    global_operator_extra_links = [DataDocsLink(), ReportFilesLink(), ReceiptLink(), RunSummaryLink()]
