"""The FastAPI app of the operator's and the steward's pages (mounted by the plugin at
``/parreport``, behind Airflow's authentication). GET only; pages are Jinja2 templates
(``templates/``), the data behind them is :mod:`parreport.ui.pages` (one module a page).

Routes (below the mount point):

- ``/`` the quarters at a glance (agency × quarter: state, version, receipt, deadline, runs);
- ``/tom-tat/<agency>/<window>?run_id=`` what one run did (the quarter's latest run without it);
- ``/cach-ly/<agency>/<window>?run_id=&quy_tac=&don_vi=`` the run's quarantine, filterable, and
  ``/cach-ly/<agency>/<window>/tai-ve.csv|.xlsx`` the same rows to download;
- ``/bien-nhan/<agency>/<window>?phien_ban=`` a receipt, in Vietnamese (its JSON downloadable);
- ``/bao-cao/<agency>/<window>/`` the documents of every version, ``.../v<N>/<file>`` one file;
- ``/data-docs/<agency>/<window>/`` the evidence of every run, ``.../<run>/<file>`` one file (GX
  pages rewritten to the vendored assets, so they read offline);
- ``/lan-chay/<target>/<dag_id>/<run_id>`` from an Airflow run to its page;
- ``/static/...`` the stylesheet and the vendored Data Docs assets (public libraries: served
  without authentication, so that the sandboxed Data Docs can load them);
- ``/api/tom-tat/<agency>/<window>`` the run's story as JSON, for tools.
"""
from __future__ import annotations

import mimetypes
import re
import threading
from pathlib import Path
from typing import Any, Callable, Sequence
from urllib.parse import quote

from starlette.requests import Request

from .. import store as st
from ..config import Settings, load_settings
from ..files import run_slug
from . import pages
from .airflow import LINK_TARGETS
from .datadocs import offline_html
from .paths import NotFound, data_docs_root, reports_root, safe_name, safe_path
from .urls import Urls, run_page_path

__all__ = ["create_app", "TEMPLATES_DIR", "STATIC_DIR"]

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

_PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
             "frame-ancestors 'self'")
# Files from the data trees (GX Data Docs carry their own scripts): an opaque origin, so nothing
# in them can act with the operator's Airflow session.
_FILE_CSP = "sandbox allow-scripts allow-popups allow-downloads allow-forms; frame-ancestors 'self'"
_PAGE_HEADERS = {"Content-Security-Policy": _PAGE_CSP, "X-Content-Type-Options": "nosniff",
                 "Cache-Control": "no-store", "Referrer-Policy": "same-origin"}


def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["j2", "html"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def create_app(*, settings_loader: Callable[[], Settings] = load_settings,
               period_lookup: Callable[..., list[dict]] | None = None,
               run_info: Callable[[list[str]], dict[str, dict]] | None = None,
               dependencies: Sequence[Any] = ()):
    """The app. ``period_lookup(dag_id, run_id, map_index)`` gives a run's periods (the plugin
    passes :func:`parreport.ui.airflow.airflow_period_lookup`); ``run_info(run_ids)`` the runs'
    Airflow states; ``dependencies`` guard every page (the plugin passes Airflow's
    authentication and DAG-run read permission) — not the public static assets."""
    from fastapi import APIRouter, FastAPI
    from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
    from fastapi.staticfiles import StaticFiles

    app = FastAPI(title="Báo cáo CCHC — trang vận hành", docs_url=None, redoc_url=None, openapi_url=None)
    router = APIRouter(dependencies=list(dependencies))
    env = _environment()
    lock = threading.Lock()
    stores: dict[str, st.Store] = {}

    def context() -> tuple[Settings, st.Store]:
        settings = settings_loader()
        with lock:
            store = stores.get(settings.store_url)
            if store is None:
                store = stores[settings.store_url] = st.Store(settings.store_url)
        return settings, store

    def prefix(request: Request) -> str:
        return str(request.scope.get("root_path") or "").rstrip("/")

    def urls(request: Request) -> Urls:
        p = prefix(request)
        return Urls(p, p.rsplit("/", 1)[0] if "/" in p else "")

    def render(request: Request, template: str, status: int = 200, **values) -> HTMLResponse:
        text = env.get_template(template).render(static=f"{prefix(request)}/static", **values)
        return HTMLResponse(text, status_code=status, headers=_PAGE_HEADERS)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound):
        return render(request, "not_found.html.j2", 404, message=str(exc) or "Không tìm thấy.",
                      overview_url=f"{prefix(request)}/")

    from fastapi.exceptions import RequestValidationError

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError):  # noqa: ARG001
        return render(request, "not_found.html.j2", 400,
                      heading="Địa chỉ không hợp lệ", message="Địa chỉ có tham số không hợp lệ (ví dụ: phiên bản phải là một số).",
                      overview_url=f"{prefix(request)}/")

    def serve_file(request: Request, root: Path, *parts: str, data_docs: bool = False,
                   summary_url: str | None = None):
        path = safe_path(root, *parts)
        if not path.is_file():
            raise NotFound("không có tệp này")
        media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Content-Security-Policy": _FILE_CSP}
        if path.suffix == ".json":
            media = "application/json"
            headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(path.name)}"
        if data_docs and path.suffix in (".html", ".htm"):
            text = offline_html(path.read_text(encoding="utf-8", errors="replace"), f"{prefix(request)}/static/vendor",
                                summary_url if path.name != "tom-tat.html" else None)
            return HTMLResponse(text, headers=headers)
        if media.startswith("text/") or media == "application/json":
            media += "; charset=utf-8"
        if not isinstance(path, Path):  # in an object store (storage.py)
            return Response(path.read_bytes(), media_type=media, headers=headers)
        return FileResponse(path, media_type=media, headers=headers)

    @router.get("/", response_class=HTMLResponse)
    def overview(request: Request):
        settings, store = context()
        return render(request, "overview.html.j2", **pages.quarters_overview(store, settings, run_info, urls(request)))

    @router.get("/tom-tat/{agency}/{window_key}", response_class=HTMLResponse)
    def summary(request: Request, agency: str, window_key: str, run_id: str | None = None):
        settings, store = context()
        return render(request, "run.html.j2", **pages.run_story(store, settings, agency, window_key, run_id,
                                                                run_info, urls(request)))

    @router.get("/api/tom-tat/{agency}/{window_key}")
    def summary_json(request: Request, agency: str, window_key: str, run_id: str | None = None):
        settings, store = context()
        story = pages.run_story(store, settings, agency, window_key, run_id, run_info, urls(request))
        story["events"] = [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in e.items()}
                           for e in store.run_events(agency, window_key, story["run_id"])] if story["run_id"] else []
        return JSONResponse(story, headers={"Cache-Control": "no-store"})

    @router.get("/cach-ly/{agency}/{window_key}", response_class=HTMLResponse)
    def quarantine_page(request: Request, agency: str, window_key: str, run_id: str | None = None,
                        quy_tac: str | None = None, don_vi: str | None = None):
        settings, store = context()
        return render(request, "quarantine.html.j2", **pages.quarantine_view(
            store, settings, agency, window_key, run_id, quy_tac or None, don_vi or None, urls(request), run_info))

    @router.get("/cach-ly/{agency}/{window_key}/tai-ve.{ext}")
    def quarantine_download(agency: str, window_key: str, ext: str, run_id: str | None = None,
                            quy_tac: str | None = None, don_vi: str | None = None):
        from .. import quarantine

        if ext not in ("csv", "xlsx"):
            raise NotFound("định dạng không hỗ trợ (chỉ csv hoặc xlsx)")
        settings, store = context()
        rows, title = pages.quarantine_export(store, settings, agency, window_key, run_id, quy_tac or None,
                                              don_vi or None)
        name = f"cach-ly_{agency}_{window_key}" + (f"_{run_slug(run_id)}" if run_id else "") + f".{ext}"
        headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}", "Cache-Control": "no-store",
                   "X-Content-Type-Options": "nosniff"}
        if ext == "csv":
            return Response(quarantine.csv_bytes(rows), media_type="text/csv; charset=utf-8", headers=headers)
        return Response(quarantine.xlsx_bytes(rows, title), headers=headers,
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    @router.get("/bien-nhan/{agency}/{window_key}", response_class=HTMLResponse)
    def receipt(request: Request, agency: str, window_key: str, phien_ban: int | None = None):
        settings, store = context()
        return render(request, "receipt.html.j2", **pages.receipt_view(store, settings, agency, window_key,
                                                                       phien_ban, urls(request)))

    @router.get("/bao-cao/{agency}/{window_key}/", response_class=HTMLResponse)
    def documents(request: Request, agency: str, window_key: str):
        settings, store = context()
        return render(request, "documents.html.j2", **pages.documents_view(store, settings, agency, window_key,
                                                                           urls(request)))

    @router.get("/bao-cao/{agency}/{window_key}/{version}/{path:path}")
    def report_file(request: Request, agency: str, window_key: str, version: str, path: str = ""):
        settings, _ = context()
        if not re.fullmatch(r"v\d{1,6}", version):
            raise NotFound("phiên bản không hợp lệ")
        if not path:
            raise NotFound("không có tệp này")
        return serve_file(request, reports_root(settings, agency, window_key), version, path)

    @router.get("/data-docs/{agency}/{window_key}/", response_class=HTMLResponse)
    def evidence(request: Request, agency: str, window_key: str, run_id: str | None = None):
        settings, store = context()
        root = data_docs_root(settings, agency, window_key)
        if run_id:
            for page in ("tom-tat.html", "index.html"):
                if (root / run_slug(run_id) / page).is_file():
                    return RedirectResponse(url=urls(request).evidence(agency, window_key, run_slug(run_id), page),
                                            status_code=307)
        return render(request, "evidence.html.j2", **pages.evidence_view(store, settings, agency, window_key,
                                                                         urls(request), run_info))

    @router.get("/data-docs/{agency}/{window_key}/{run}/{path:path}")
    def data_docs_file(request: Request, agency: str, window_key: str, run: str, path: str = ""):
        settings, _ = context()
        root = data_docs_root(settings, agency, window_key)
        summary = (urls(request).evidence(agency, window_key, safe_name(run))
                   if (root / safe_name(run) / "tom-tat.html").is_file() else None)
        return serve_file(request, root, run, path or "index.html", data_docs=True, summary_url=summary)

    @router.get("/lan-chay/{target}/{dag_id}/{run_id:path}")
    def from_run(request: Request, target: str, dag_id: str, run_id: str, map_index: int | None = None):
        if target not in LINK_TARGETS:
            raise NotFound("không có trang này")
        periods = period_lookup(dag_id, run_id, map_index) if period_lookup else []
        p = prefix(request)
        if not periods:
            raise NotFound("Lần chạy này chưa xác định kỳ báo cáo (bước resolve_period chưa chạy xong), hoặc không "
                           "phải lần chạy báo cáo CCHC.")
        if len(periods) == 1:
            return RedirectResponse(url=p + run_page_path(target, periods[0], run_id), status_code=307)
        settings, store = context()
        names = store.unit_names(codes=[per["agency"] for per in periods])
        entries = []
        for per in periods:
            w = pages.window_view(per["window_key"], settings.deadline_day)
            entries.append({"url": p + run_page_path(target, per, run_id),
                            "text": f"{pages.agency_view(per['agency'], names)['label']} — {w['title']}"})
        return render(request, "choose.html.j2", title=f"{LINK_TARGETS[target]} — chọn đơn vị",
                      intro="Lần chạy này lập báo cáo cho nhiều đơn vị; chọn một đơn vị.", entries=entries)

    app.include_router(router)

    class _PublicStatic(StaticFiles):
        async def get_response(self, path, scope):  # noqa: ANN001
            response = await super().get_response(path, scope)
            response.headers["Access-Control-Allow-Origin"] = "*"  # fonts requested by the sandboxed Data Docs
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Cache-Control"] = "public, max-age=86400"
            return response

    app.mount("/static", _PublicStatic(directory=str(STATIC_DIR)), name="static")
    return app
