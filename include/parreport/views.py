"""The operator's view: read-only pages served by the Airflow API server (plugins/parreport_views.py).

Mounted at ``/parreport`` it serves, per (agency, window_key):

- ``/tom-tat/<agency>/<window_key>``: a run summary in Vietnamese — records extracted,
  quarantined, the figures sent (Biểu 06 TONG row, number of indicators, targets missed), every
  version with its receipt number and state, and links to the Data Docs, the report documents and
  the receipt (``/api/tom-tat/...`` gives the same as JSON);
- ``/data-docs/<agency>/<window_key>/<run>/<file>``: the Great Expectations Data Docs tree
  ``$PARREPORT_DATA_DIR/data_docs/<agency>/<window_key>/<run>/``;
- ``/bao-cao/<agency>/<window_key>/v<N>/<file>``: the report folder
  ``$PARREPORT_DATA_DIR/reports/<agency>/<window_key>/v<N>/`` (bao-cao.json, bien-nhan.json and the
  documents next to them); ``/bien-nhan/<agency>/<window_key>`` the latest receipt;
- ``/lan-chay/<target>/<dag_id>/<run_id>``: from an Airflow run to its pages — the period is read
  from the run's ``resolve_period`` XCom (the dict ``pipeline.Period.as_dict()``), so a link needs
  nothing but the run.

Everything is GET only and reads the pipeline's store and data directory; a file is served only
when every segment of its path is a plain name (no ``..``, no separator, no hidden file) and its
resolved path — symbolic links followed — is inside the tree it is served from.

The module imports nothing from Airflow at import time: :func:`create_app` takes the period
look-up and the authentication dependencies as arguments (the plugin passes Airflow's), so the
pages are testable without a running Airflow.
"""
from __future__ import annotations

import html
import json
import mimetypes
import re
import threading
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import quote

from starlette.requests import Request

from .config import Settings, load_settings
from .files import run_slug

__all__ = ["create_app", "StoreReader", "safe_path", "SAFE_NAME", "decode_xcom", "airflow_period_lookup",
           "run_page_path", "LINK_TARGETS", "PERIOD_TASK_ID", "summary_data"]

# The task whose return value (XCom "return_value") is the run's period; inside a task group or a
# mapped task group its id ends with ".resolve_period" and each map index is one agency.
PERIOD_TASK_ID = "resolve_period"
# target -> (button name, what it opens)
LINK_TARGETS: dict[str, str] = {
    "data-docs": "Data Docs",
    "bao-cao": "Báo cáo & tệp đính kèm",
    "bien-nhan": "Biên nhận",
    "tom-tat": "Tóm tắt lần chạy",
}

# Agency codes (000.00.20.H57), window keys (2025Q1_20241215_20250314), run slugs and versions.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
# A segment of a file path inside a served tree: no separator, no NUL, no leading dot.
_SAFE_SEGMENT = re.compile(r"^[^./\\\x00][^/\\\x00]{0,254}$")

_DATASETS = (("units", "Đơn vị"), ("procedures", "Thủ tục hành chính"), ("dossiers", "Hồ sơ"),
             ("ratings", "Đánh giá hài lòng"), ("bieu06", "Biểu 06 của Cổng DVC (đối soát)"))
_REPORT_STATUS = {"BUILT": "đã lập, chưa gửi", "SUBMITTED": "đã gửi, chưa có biên nhận",
                  "ACCEPTED": "Sở Nội vụ đã tiếp nhận"}
_RECEIPT_STATE = {"DA_TIEP_NHAN": "Đã tiếp nhận, chờ duyệt", "DA_DUYET": "Đã duyệt", "TRA_LAI": "Bị trả lại"}

_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'self'"
# Files from the data trees (GX Data Docs carry their own scripts): an opaque origin, so nothing
# in them can act with the operator's Airflow session.
_FILE_CSP = "sandbox allow-scripts allow-popups allow-downloads; frame-ancestors 'self'"


class NotFound(LookupError):
    pass


# ------------------------------------------------------------------------------------------------
# paths
# ------------------------------------------------------------------------------------------------
def safe_name(value: str) -> str:
    if not isinstance(value, str) or not SAFE_NAME.match(value):
        raise NotFound(f"tên không hợp lệ: {value!r}")
    return value


def safe_path(root: Path, *parts: str) -> Path:
    """``root/parts...`` as an existing regular file or directory strictly inside ``root``.

    Every part must be a plain name (see ``_SAFE_SEGMENT``; parts may contain ``/`` separated
    segments, each checked); the resolved path, symbolic links followed, must stay inside the
    resolved ``root``. Anything else is :class:`NotFound` — the caller cannot tell a forbidden
    path from a missing one.
    """
    segments: list[str] = []
    for part in parts:
        for seg in str(part).split("/"):
            if seg == "":
                continue
            if not _SAFE_SEGMENT.match(seg) or "\\" in seg:
                raise NotFound(f"đường dẫn không hợp lệ: {part!r}")
            segments.append(seg)
    try:
        base = root.resolve(strict=True)
        target = base.joinpath(*segments).resolve(strict=True)
    except (OSError, RuntimeError):
        raise NotFound("không có tệp này") from None
    if target != base and not target.is_relative_to(base):
        raise NotFound("không có tệp này")
    if not (target.is_file() or target.is_dir()):
        raise NotFound("không có tệp này")
    return target


def data_docs_root(settings: Settings, agency: str, window_key: str) -> Path:
    return settings.data_path / "data_docs" / safe_name(agency) / safe_name(window_key)


def reports_root(settings: Settings, agency: str, window_key: str) -> Path:
    return settings.data_path / "reports" / safe_name(agency) / safe_name(window_key)


def _subdirs(root: Path, pattern: str = "*") -> list[Path]:
    try:
        return [p for p in root.glob(pattern) if p.is_dir() and SAFE_NAME.match(p.name)]
    except OSError:
        return []


def _version_dirs(root: Path) -> list[tuple[int, Path]]:
    out = []
    for p in _subdirs(root, "v*"):
        if re.fullmatch(r"v\d{1,6}", p.name):
            out.append((int(p.name[1:]), p))
    return sorted(out)


def _files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.rglob("*")
                      if p.is_file() and not any(s.startswith(".") for s in p.relative_to(folder).parts)
                      and not p.name.endswith(".tmp"))
    except OSError:
        return []


# ------------------------------------------------------------------------------------------------
# the store, read only
# ------------------------------------------------------------------------------------------------
class StoreReader:
    """Read-only queries over the pipeline's store (include/parreport/store.py)."""

    def __init__(self, url: str):
        from . import store as st

        self.st = st
        self.store = st.Store(url)

    def dispose(self) -> None:
        self.store.dispose()

    def _all(self, stmt) -> list[dict]:
        with self.store.engine.connect() as conn:
            return [dict(r) for r in conn.execute(stmt).mappings()]

    def partitions(self) -> list[tuple[str, str]]:
        from sqlalchemy import select, union

        st = self.st
        stmt = union(select(st.load_stats.c.agency, st.load_stats.c.window_key),
                     select(st.reports.c.agency, st.reports.c.window_key))
        rows = self._all(stmt)
        return sorted({(r["agency"], r["window_key"]) for r in rows}, key=lambda p: (p[1], p[0]), reverse=True)

    def load_stats(self, agency: str, window_key: str) -> dict[str, dict]:
        return self.store.load_stats(agency, window_key)

    def quarantine(self, agency: str, window_key: str) -> dict:
        from sqlalchemy import select

        q = self.st.quarantine
        rows = self._all(select(q.c.kind, q.c.violations).where(q.c.agency == agency, q.c.window_key == window_key))
        kinds: Counter = Counter()
        rules: dict[str, Counter] = {}
        for r in rows:
            kinds[r["kind"]] += 1
            violations = r["violations"]
            if isinstance(violations, str):
                try:
                    violations = json.loads(violations)
                except ValueError:
                    violations = []
            for rule in {v.get("rule") for v in violations or [] if isinstance(v, dict)}:
                rules.setdefault(r["kind"], Counter())[rule or "?"] += 1
        return {"by_kind": dict(kinds), "by_rule": {k: dict(c.most_common()) for k, c in rules.items()}}

    def figures(self, agency: str, window_key: str) -> dict | None:
        from sqlalchemy import select

        f = self.st.figures
        rows = self._all(select(f).where(f.c.agency == agency, f.c.window_key == window_key))
        return rows[0] if rows else None

    def reports(self, agency: str, window_key: str) -> list[dict]:
        from sqlalchemy import select

        r = self.st.reports
        return self._all(select(r).where(r.c.agency == agency, r.c.window_key == window_key).order_by(r.c.version))

    def validation(self, agency: str, window_key: str) -> dict | None:
        from sqlalchemy import select

        v = getattr(self.st, "validation_results", None)
        if v is None:
            return None
        rows = self._all(select(v.c.run_id, v.c.validated_at, v.c.data_docs)
                         .where(v.c.agency == agency, v.c.window_key == window_key))
        return rows[0] if rows else None


# ------------------------------------------------------------------------------------------------
# XCom: from an Airflow run to its period(s)
# ------------------------------------------------------------------------------------------------
def decode_xcom(value: Any) -> Any:
    """An XCom value as stored in the metadata database (JSON, sometimes JSON text)."""
    for _ in range(2):
        if isinstance(value, (str, bytes)):
            try:
                value = json.loads(value)
            except ValueError:
                return value
    if isinstance(value, dict) and "__data__" in value and "__classname__" in value:
        value = value["__data__"]
    return value


def _as_period(value: Any) -> dict | None:
    value = decode_xcom(value)
    if isinstance(value, dict) and isinstance(value.get("agency"), str) and isinstance(value.get("window_key"), str):
        return value
    return None


def airflow_period_lookup(dag_id: str, run_id: str, map_index: int | None = None) -> list[dict]:
    """The periods (``Period.as_dict()``) the run's ``resolve_period`` task(s) returned, in map
    index order; only the one of ``map_index`` when given and present. Runs in the API server."""
    from sqlalchemy import or_, select

    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.execute(
            select(XComModel.map_index, XComModel.value).where(
                XComModel.dag_id == dag_id, XComModel.run_id == run_id, XComModel.key == "return_value",
                or_(XComModel.task_id == PERIOD_TASK_ID, XComModel.task_id.like(f"%.{PERIOD_TASK_ID}")))
            .order_by(XComModel.map_index)).all()
    periods = [(mi, _as_period(v)) for mi, v in rows]
    periods = [(mi, p) for mi, p in periods if p is not None]
    if map_index is not None and map_index >= 0:
        exact = [p for mi, p in periods if mi == map_index]
        if exact:
            return exact
    return [p for _, p in periods]


def run_page_path(target: str, period: dict, run_id: str | None = None) -> str:
    """The path (below the app's mount point) of ``target`` for one period."""
    agency, key = quote(period["agency"], safe=""), quote(period["window_key"], safe="")
    if target == "tom-tat":
        return f"/tom-tat/{agency}/{key}" + (f"?run_id={quote(run_id, safe='')}" if run_id else "")
    if target == "data-docs":
        return f"/data-docs/{agency}/{key}/" + (f"?run_id={quote(run_id, safe='')}" if run_id else "")
    if target == "bao-cao":
        return f"/bao-cao/{agency}/{key}/"
    if target == "bien-nhan":
        return f"/bien-nhan/{agency}/{key}"
    raise NotFound(target)


# ------------------------------------------------------------------------------------------------
# the summary
# ------------------------------------------------------------------------------------------------
def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _receipt(row: dict) -> dict | None:
    receipt = row.get("receipt")
    if isinstance(receipt, str):
        try:
            receipt = json.loads(receipt)
        except ValueError:
            return None
    return receipt if isinstance(receipt, dict) else None


def _body(row: dict) -> dict:
    body = row.get("body")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            body = {}
    return body if isinstance(body, dict) else {}


def _figures_digest(content: dict) -> dict:
    bieu06 = content.get("Bieu06") or []
    tong = next((r for r in bieu06 if isinstance(r, dict) and r.get("MaLinhVuc") == "TONG"),
                bieu06[-1] if bieu06 else None)
    indicators = [c for c in content.get("ChiTieu") or [] if isinstance(c, dict)]
    missed = [{k: c.get(k) for k in ("MaChiTieu", "TenChiTieu", "PhamVi", "GiaTri", "MucTieu", "SoSanh",
                                     "TuSo", "MauSo")}
              for c in indicators if c.get("DatMucTieu") is False]
    quality = content.get("ChatLuongDuLieu") or {}
    return {"TONG": tong, "indicators": len(indicators), "targets_missed": len(missed), "missed": missed,
            "SoBanGhi": quality.get("SoBanGhi"), "SoBanGhiLoai": quality.get("SoBanGhiLoai"),
            "DoiSoatCongDVC": len(quality.get("DoiSoatCongDVC") or [])}


def summary_data(reader: StoreReader, settings: Settings, agency: str, window_key: str,
                 run_id: str | None = None) -> dict:
    """Everything the summary page shows, JSON-able; :class:`NotFound` when nothing is known."""
    safe_name(agency), safe_name(window_key)
    stats = reader.load_stats(agency, window_key)
    reports = reader.reports(agency, window_key)
    figures = reader.figures(agency, window_key)
    if not stats and not reports and figures is None:
        raise NotFound(f"chưa có dữ liệu nào của đơn vị {agency}, kỳ {window_key}")
    quarantine = reader.quarantine(agency, window_key)
    validation = reader.validation(agency, window_key)

    versions = []
    for row in reports:
        receipt = _receipt(row) or {}
        body = _body(row)
        versions.append({
            "version": row["version"], "status": row["status"], "run_id": row.get("run_id"),
            "submitted_at": row.get("submitted_at"), "idempotency_key": row.get("idempotency_key"),
            "MaTiepNhan": receipt.get("MaTiepNhan"), "TrangThai": receipt.get("TrangThai"),
            "ThoiDiemTiepNhan": receipt.get("ThoiDiemTiepNhan"), "LyDoTraLai": receipt.get("LyDoTraLai"),
            "LyDoDieuChinh": body.get("LyDoDieuChinh"), "NgayLap": body.get("NgayLap"),
        })
    sent_row = next((r for r in reversed(reports) if r["status"] in ("ACCEPTED", "SUBMITTED")), None)
    sent = None
    if sent_row is not None:
        sent = {"version": sent_row["version"], "status": sent_row["status"], **_figures_digest(_body(sent_row))}
    computed = None
    if figures is not None:
        content = figures.get("content")
        if isinstance(content, str):
            content = json.loads(content)
        computed = {"run_id": figures.get("run_id"), "computed_at": figures.get("computed_at"),
                    **_figures_digest(content or {})}
    name = None
    period = None
    for row in reversed(reports):
        body = _body(row)
        name = name or body.get("TenDonViBaoCao")
        period = period or body.get("KyBaoCao")

    docs_root = data_docs_root(settings, agency, window_key)
    runs = sorted(((p.name, p.stat().st_mtime) for p in _subdirs(docs_root) if (p / "index.html").is_file()),
                  key=lambda x: x[1], reverse=True)
    latest_docs = None
    if validation and validation.get("data_docs"):
        try:
            rel = Path(validation["data_docs"]).resolve().relative_to(docs_root.resolve())
            latest_docs = rel.parts[0] if rel.parts else None
        except (ValueError, OSError):
            latest_docs = None
    if latest_docs is None and runs:
        latest_docs = runs[0][0]
    this_run_docs = run_slug(run_id) if run_id and (docs_root / run_slug(run_id) / "index.html").is_file() else None

    folder = reports_root(settings, agency, window_key)
    documents = {f"v{n}": [str(f.relative_to(p)) for f in _files(p)] for n, p in _version_dirs(folder)}
    receipt_version = next((v["version"] for v in reversed(versions)
                            if (folder / f"v{v['version']}" / "bien-nhan.json").is_file()), None)
    if receipt_version is None:
        receipt_version = next((n for n, p in reversed(_version_dirs(folder)) if (p / "bien-nhan.json").is_file()),
                               None)
    return _jsonable({
        "agency": agency, "agency_name": name, "window_key": window_key, "period": period, "run_id": run_id,
        "extracted": {ds: {k: stats.get(ds, {}).get(k) for k in
                           ("tong_so", "delivered", "staged", "duplicates", "run_id", "loaded_at")}
                      for ds, _ in _DATASETS if ds in stats},
        "quarantined": {"dossiers": quarantine["by_kind"].get("dossier", 0),
                        "ratings": quarantine["by_kind"].get("rating", 0),
                        "by_rule": quarantine["by_rule"]},
        "validation": validation, "sent": sent, "computed": computed, "versions": versions,
        "data_docs": {"runs": [r for r, _ in runs], "latest": latest_docs, "this_run": this_run_docs},
        "documents": documents, "receipt_version": receipt_version,
    })


# ------------------------------------------------------------------------------------------------
# HTML
# ------------------------------------------------------------------------------------------------
_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;margin:1.5em;color:#1a202c}
h1{font-size:1.45em;margin:0 0 .3em}h2{font-size:1.15em;margin:1.4em 0 .4em;border-bottom:1px solid #e2e8f0}
table{border-collapse:collapse;margin:.4em 0 1em}td,th{border:1px solid #cbd5e0;padding:4px 9px;text-align:left;
vertical-align:top}th{background:#edf2f7}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#276749;font-weight:600}.bad{color:#c53030;font-weight:600}.muted{color:#718096}
.cards{display:flex;flex-wrap:wrap;gap:.8em;margin:.8em 0}.card{border:1px solid #cbd5e0;border-radius:8px;
padding:.6em 1em;min-width:10em}.card b{display:block;font-size:1.5em}nav a{margin-right:1.2em}
code{background:#f7fafc;padding:0 3px}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _n(value: Any) -> str:
    if value is None:
        return "<span class='muted'>—</span>"
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    return _e(value)


def _page(title: str, body: Iterable[str]) -> str:
    return ("<!doctype html><html lang='vi'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width'><title>{_e(title)}</title>"
            f"<style>{_STYLE}</style></head><body>" + "".join(body) + "</body></html>")


def _link(href: str, text: str) -> str:
    return f"<a href='{_e(href)}'>{_e(text)}</a>"


def render_summary(data: dict, prefix: str) -> str:
    agency, key = data["agency"], data["window_key"]
    qa, qk = quote(agency, safe=""), quote(key, safe="")
    period = data.get("period") or {}
    label = (f"Quý {period.get('Quy')}/{period.get('Nam')} (từ {period.get('TuNgay')} đến {period.get('DenNgay')})"
             if period else key)
    out = [f"<h1>Tóm tắt báo cáo CCHC — {_e(label)}</h1>",
           f"<p>Đơn vị báo cáo: <b>{_e(data.get('agency_name') or agency)}</b> (<code>{_e(agency)}</code>); "
           f"kỳ <code>{_e(key)}</code>"
           + (f"; lần chạy <code>{_e(data['run_id'])}</code>" if data.get("run_id") else "") + ".</p>"]

    versions = data["versions"]
    last = versions[-1] if versions else None
    sent = data.get("sent")
    q = data["quarantined"]
    dossiers = data["extracted"].get("dossiers", {})
    cards = [("Hồ sơ nhận từ Cổng DVC", _n(dossiers.get("delivered"))),
             ("Hồ sơ sau khử trùng", _n(dossiers.get("staged"))),
             ("Hồ sơ bị cách ly", _n(q["dossiers"])),
             ("Phiên bản đã gửi", _n(sent["version"]) if sent else "—"),
             ("Số biên nhận", _e(last["MaTiepNhan"]) if last and last.get("MaTiepNhan") else "—"),
             ("Trạng thái biên nhận", _e(_RECEIPT_STATE.get(last.get("TrangThai"), last.get("TrangThai")))
              if last and last.get("TrangThai") else "—")]
    out.append("<div class='cards'>" + "".join(f"<div class='card'>{t}<b>{v}</b></div>" for t, v in cards) + "</div>")

    links = [_link(f"{prefix}/data-docs/{qa}/{qk}/{quote(data['data_docs']['this_run'] or data['data_docs']['latest'])}/index.html"
                   if (data["data_docs"]["this_run"] or data["data_docs"]["latest"]) else f"{prefix}/data-docs/{qa}/{qk}/",
                   "Data Docs (kết quả kiểm tra dữ liệu)"),
             _link(f"{prefix}/bao-cao/{qa}/{qk}/", "Báo cáo & tệp đính kèm")]
    if data.get("receipt_version") is not None:
        links.append(_link(f"{prefix}/bao-cao/{qa}/{qk}/v{data['receipt_version']}/bien-nhan.json",
                           f"Biên nhận (phiên bản {data['receipt_version']})"))
    links.append(_link(f"{prefix}/api/tom-tat/{qa}/{qk}", "Dữ liệu JSON"))
    out.append("<nav>" + "".join(links) + "</nav>")

    out.append("<h2>1. Dữ liệu lấy từ Cổng DVC</h2>")
    if data["extracted"]:
        out.append("<table><tr><th>Bộ dữ liệu</th><th>tong_so của cổng</th><th>Đã nhận</th>"
                   "<th>Lưu vào kho</th><th>Bản trùng bỏ</th><th>Lần chạy</th></tr>")
        for ds, title in _DATASETS:
            s = data["extracted"].get(ds)
            if s:
                out.append(f"<tr><td>{_e(title)}</td><td class='n'>{_n(s.get('tong_so'))}</td>"
                           f"<td class='n'>{_n(s.get('delivered'))}</td><td class='n'>{_n(s.get('staged'))}</td>"
                           f"<td class='n'>{_n(s.get('duplicates'))}</td><td><code>{_e(s.get('run_id'))}</code></td></tr>")
        out.append("</table>")
    else:
        out.append("<p class='muted'>Chưa lấy dữ liệu.</p>")

    out.append("<h2>2. Kiểm tra dữ liệu</h2>")
    out.append(f"<p>Hồ sơ bị cách ly (vi phạm quy tắc chặn, không vào số liệu): <b>{_n(q['dossiers'])}</b>; "
               f"đánh giá bị loại khỏi chỉ tiêu hài lòng: <b>{_n(q['ratings'])}</b>.</p>")
    if q["by_rule"]:
        try:
            from .quality.rules import RULE_TITLES
        except Exception:  # pragma: no cover - titles are a nicety
            RULE_TITLES = {}
        out.append("<table><tr><th>Loại</th><th>Quy tắc</th><th>Số bản ghi</th></tr>")
        for kind, rules in q["by_rule"].items():
            for rule, count in rules.items():
                out.append(f"<tr><td>{'hồ sơ' if kind == 'dossier' else 'đánh giá' if kind == 'rating' else _e(kind)}"
                           f"</td><td>{_e(RULE_TITLES.get(rule, rule))} <span class='muted'>({_e(rule)})</span></td>"
                           f"<td class='n'>{_n(count)}</td></tr>")
        out.append("</table>")

    figures = sent or data.get("computed")
    out.append("<h2>3. Số liệu " + ("đã gửi Sở Nội vụ" + (f" (phiên bản {sent['version']})" if sent else "")
                                    if sent else "đã tính, chưa gửi") + "</h2>")
    if figures and figures.get("TONG"):
        t = figures["TONG"]
        tn, dg, dang = t.get("TiepNhan", {}), t.get("DaGiaiQuyet", {}), t.get("DangGiaiQuyet", {})
        out.append("<table><tr><th colspan='4'>Tiếp nhận</th><th colspan='4'>Đã giải quyết</th>"
                   "<th colspan='3'>Đang giải quyết</th></tr><tr><th>Tổng</th><th>Trực tuyến</th>"
                   "<th>Trực tiếp, bưu chính</th><th>Kỳ trước chuyển sang</th><th>Tổng</th><th>Trước hạn</th>"
                   "<th>Đúng hạn</th><th>Quá hạn</th><th>Tổng</th><th>Trong hạn</th><th>Quá hạn</th></tr><tr>"
                   + "".join(f"<td class='n'>{_n(v)}</td>" for v in (
                       tn.get("Tong"), tn.get("TrucTuyen"), tn.get("TrucTiepBuuChinh"), tn.get("KyTruocChuyenSang"),
                       dg.get("Tong"), dg.get("TruocHan"), dg.get("DungHan"), dg.get("QuaHan"),
                       dang.get("Tong"), dang.get("TrongHan"), dang.get("QuaHan"))) + "</tr></table>")
        out.append("<p class='muted'>Biểu 06, dòng TONG (tổng cộng các lĩnh vực).</p>")
        missed = figures.get("missed") or []
        own = [m for m in missed if m.get("PhamVi") == agency]
        out.append(f"<p>Số chỉ tiêu: <b>{_n(figures.get('indicators'))}</b>; không đạt mục tiêu: "
                   f"<b class='{'bad' if missed else 'ok'}'>{_n(len(missed))}</b> "
                   f"(của đơn vị báo cáo: {_n(len(own))}, của các đơn vị trực thuộc: {_n(len(missed) - len(own))}).</p>")
        if missed:
            out.append("<details" + (" open" if len(missed) <= 15 else "") + "><summary>Các chỉ tiêu không đạt mục tiêu"
                       "</summary><table><tr><th>Chỉ tiêu</th><th>Phạm vi</th><th>Giá trị</th><th>Mục tiêu</th>"
                       "<th>Tử số / mẫu số</th></tr>")
            for m in missed:
                out.append(f"<tr><td>{_e(m.get('TenChiTieu'))} <span class='muted'>({_e(m.get('MaChiTieu'))})</span>"
                           f"</td><td><code>{_e(m.get('PhamVi'))}</code></td><td class='n'>{_n(m.get('GiaTri'))}</td>"
                           f"<td class='n'>{_e(m.get('SoSanh') or '')} {_n(m.get('MucTieu'))}</td>"
                           f"<td class='n'>{_n(m.get('TuSo'))} / {_n(m.get('MauSo'))}</td></tr>")
            out.append("</table></details>")
    else:
        out.append("<p class='muted'>Chưa có số liệu.</p>")

    out.append("<h2>4. Phiên bản và biên nhận</h2>")
    if versions:
        out.append("<table><tr><th>Phiên bản</th><th>Tình trạng</th><th>Số biên nhận</th><th>Trạng thái biên nhận</th>"
                   "<th>Thời điểm tiếp nhận</th><th>Lý do điều chỉnh / trả lại</th><th>Tệp</th></tr>")
        for v in versions:
            files = data["documents"].get(f"v{v['version']}", [])
            file_links = ", ".join(_link(f"{prefix}/bao-cao/{qa}/{qk}/v{v['version']}/{quote(f)}", f) for f in files)
            reason = v.get("LyDoTraLai") or v.get("LyDoDieuChinh")
            out.append(f"<tr><td class='n'>{_n(v['version'])}</td><td>{_e(_REPORT_STATUS.get(v['status'], v['status']))}"
                       f"</td><td>{_e(v.get('MaTiepNhan') or '—')}</td>"
                       f"<td>{_e(_RECEIPT_STATE.get(v.get('TrangThai'), v.get('TrangThai') or '—'))}</td>"
                       f"<td>{_e(v.get('ThoiDiemTiepNhan') or '—')}</td><td>{_e(reason or '')}</td>"
                       f"<td>{file_links}</td></tr>")
        out.append("</table>")
    else:
        out.append("<p class='muted'>Chưa gửi phiên bản nào.</p>")

    runs = data["data_docs"]["runs"]
    out.append("<h2>5. Data Docs theo lần chạy</h2>")
    if runs:
        out.append("<ul>" + "".join(
            f"<li>{_link(f'{prefix}/data-docs/{qa}/{qk}/{quote(r)}/index.html', r)}"
            + (" <span class='muted'>(lần kiểm tra gần nhất)</span>" if r == data["data_docs"]["latest"] else "")
            + "</li>" for r in runs) + "</ul>")
    else:
        out.append("<p class='muted'>Chưa có Data Docs.</p>")
    return _page(f"Tóm tắt báo cáo CCHC {agency} {key}", out)


def render_listing(title: str, intro: str, entries: Sequence[tuple[str, str, str]]) -> str:
    """entries: (href, text, note)."""
    out = [f"<h1>{_e(title)}</h1>", f"<p>{intro}</p>"]
    if entries:
        out.append("<ul>" + "".join(f"<li>{_link(h, t)} <span class='muted'>{_e(n)}</span></li>"
                                    for h, t, n in entries) + "</ul>")
    else:
        out.append("<p class='muted'>Không có gì.</p>")
    return _page(title, out)


# ------------------------------------------------------------------------------------------------
# the app
# ------------------------------------------------------------------------------------------------
def create_app(*, settings_loader: Callable[[], Settings] = load_settings,
               period_lookup: Callable[..., list[dict]] | None = None,
               dependencies: Sequence[Any] = ()):
    """The FastAPI app of the operator's view (mounted by the plugin at ``/parreport``).

    ``period_lookup(dag_id, run_id)`` gives a run's periods (default: none — the ``/lan-chay``
    pages then answer 404); ``dependencies`` are FastAPI dependencies applied to every route
    (the plugin passes Airflow's authentication and DAG-run read permission).
    """
    from fastapi import FastAPI
    from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse

    app = FastAPI(title="Báo cáo CCHC — trang của người vận hành", docs_url=None, redoc_url=None,
                  openapi_url=None, dependencies=list(dependencies))
    lock = threading.Lock()
    readers: dict[str, StoreReader] = {}

    def context() -> tuple[Settings, StoreReader]:
        settings = settings_loader()
        with lock:
            reader = readers.get(settings.store_url)
            if reader is None:
                reader = readers[settings.store_url] = StoreReader(settings.store_url)
        return settings, reader

    def prefix(request: Request) -> str:
        return str(request.scope.get("root_path") or "").rstrip("/")

    def html_response(text: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(text, status_code=status, headers={
            "Content-Security-Policy": _PAGE_CSP, "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store", "Referrer-Policy": "same-origin"})

    def not_found(message: str) -> HTMLResponse:
        return html_response(_page("Không tìm thấy", [f"<h1>Không tìm thấy</h1><p>{_e(message)}</p>"]), 404)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound):  # noqa: ARG001
        return not_found(str(exc) or "Không tìm thấy")

    def serve_file(root: Path, *parts: str):
        path = safe_path(root, *parts)
        if not path.is_file():
            raise NotFound("không có tệp này")
        media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix == ".json":
            media = "application/json"
        headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
                   "Content-Security-Policy": _FILE_CSP}
        if media.startswith("text/") or media == "application/json":
            media += "; charset=utf-8"
        return FileResponse(path, media_type=media, headers=headers)

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request):
        settings, reader = context()
        p = prefix(request)
        entries = [(f"{p}/tom-tat/{quote(a, safe='')}/{quote(k, safe='')}", f"{a} — {k}", "")
                   for a, k in reader.partitions()]
        return html_response(render_listing("Báo cáo CCHC quý — các kỳ đã chạy",
                                             "Chọn đơn vị và kỳ để xem tóm tắt lần chạy, Data Docs, báo cáo và biên nhận.",
                                             entries))

    @app.get("/api/tom-tat/{agency}/{window_key}")
    def summary_json(agency: str, window_key: str, run_id: str | None = None):
        settings, reader = context()
        return JSONResponse(summary_data(reader, settings, agency, window_key, run_id),
                            headers={"Cache-Control": "no-store"})

    @app.get("/tom-tat/{agency}/{window_key}", response_class=HTMLResponse)
    def summary(request: Request, agency: str, window_key: str, run_id: str | None = None):
        settings, reader = context()
        return html_response(render_summary(summary_data(reader, settings, agency, window_key, run_id),
                                            prefix(request)))

    @app.get("/data-docs/{agency}/{window_key}/", response_class=HTMLResponse)
    def data_docs_listing(request: Request, agency: str, window_key: str, run_id: str | None = None):
        settings, _ = context()
        root = data_docs_root(settings, agency, window_key)
        if run_id and (root / run_slug(run_id) / "index.html").is_file():
            return RedirectResponse(url=f"{prefix(request)}/data-docs/{quote(agency, safe='')}/"
                                        f"{quote(window_key, safe='')}/{quote(run_slug(run_id))}/index.html",
                                    status_code=307)
        runs = sorted((p for p in _subdirs(root) if (p / "index.html").is_file()),
                      key=lambda p: p.stat().st_mtime, reverse=True)
        base = f"{prefix(request)}/data-docs/{quote(agency, safe='')}/{quote(window_key, safe='')}"
        entries = [(f"{base}/{quote(r.name)}/index.html", r.name,
                    datetime.fromtimestamp(r.stat().st_mtime).strftime("%d/%m/%Y %H:%M")) for r in runs]
        return html_response(render_listing(f"Data Docs — {agency} — {window_key}",
                                            "Kết quả kiểm tra dữ liệu (Great Expectations) của từng lần chạy, "
                                            "mới nhất trước.", entries))

    @app.get("/data-docs/{agency}/{window_key}/{run}/{path:path}")
    def data_docs_file(agency: str, window_key: str, run: str, path: str = ""):
        settings, _ = context()
        return serve_file(data_docs_root(settings, agency, window_key), safe_name(run), path or "index.html")

    @app.get("/bao-cao/{agency}/{window_key}/", response_class=HTMLResponse)
    def reports_listing(request: Request, agency: str, window_key: str):
        settings, _ = context()
        root = reports_root(settings, agency, window_key)
        base = f"{prefix(request)}/bao-cao/{quote(agency, safe='')}/{quote(window_key, safe='')}"
        entries = []
        for n, folder in reversed(_version_dirs(root)):
            for f in _files(folder):
                rel = str(f.relative_to(folder))
                entries.append((f"{base}/v{n}/{quote(rel)}", f"v{n}/{rel}", f"{f.stat().st_size:,} byte".replace(",", ".")))
        return html_response(render_listing(f"Báo cáo & tệp đính kèm — {agency} — {window_key}",
                                            "Báo cáo đã ký (bao-cao.json), biên nhận của Sở Nội vụ (bien-nhan.json) "
                                            "và các tài liệu của từng phiên bản, mới nhất trước.", entries))

    @app.get("/bao-cao/{agency}/{window_key}/{version}/{path:path}")
    def report_file(agency: str, window_key: str, version: str, path: str = ""):
        settings, _ = context()
        if not re.fullmatch(r"v\d{1,6}", version):
            raise NotFound("phiên bản không hợp lệ")
        if not path:
            raise NotFound("không có tệp này")
        return serve_file(reports_root(settings, agency, window_key), version, path)

    @app.get("/bien-nhan/{agency}/{window_key}")
    def receipt(request: Request, agency: str, window_key: str):
        settings, reader = context()
        root = reports_root(settings, agency, window_key)
        accepted = [r["version"] for r in reader.reports(agency, window_key) if r["status"] == "ACCEPTED"]
        candidates = list(reversed(accepted)) + [n for n, _ in reversed(_version_dirs(root))]
        for n in candidates:
            if (root / f"v{n}" / "bien-nhan.json").is_file():
                return RedirectResponse(url=f"{prefix(request)}/bao-cao/{quote(agency, safe='')}/"
                                            f"{quote(window_key, safe='')}/v{n}/bien-nhan.json", status_code=307)
        raise NotFound(f"chưa có biên nhận của đơn vị {agency}, kỳ {window_key}")

    @app.get("/lan-chay/{target}/{dag_id}/{run_id:path}")
    def from_run(request: Request, target: str, dag_id: str, run_id: str, map_index: int | None = None):
        if target not in LINK_TARGETS:
            raise NotFound(target)
        periods = period_lookup(dag_id, run_id, map_index) if period_lookup else []
        p = prefix(request)
        if not periods:
            return not_found(f"lần chạy {run_id} của {dag_id} chưa xác định kỳ báo cáo (bước resolve_period "
                             "chưa chạy xong, hoặc đây không phải lần chạy báo cáo CCHC)")
        if len(periods) == 1:
            return RedirectResponse(url=p + run_page_path(target, periods[0], run_id), status_code=307)
        entries = [(p + run_page_path(target, per, run_id), f"{per['agency']} — {per.get('label') or per['window_key']}",
                    "") for per in periods]
        return html_response(render_listing(f"{LINK_TARGETS[target]} — lần chạy {run_id}",
                                            "Lần chạy này lập báo cáo cho nhiều đơn vị; chọn một đơn vị.", entries))

    return app
