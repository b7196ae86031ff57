"""The report as documents people read: Biểu 06 as XLSX, the report as PDF and HTML, attached
to the submission (``build_attachments`` gives the ``TepDinhKem`` items).

All three are built from the figures the payload carries (``content`` = ``{"Bieu06": [...],
"ChiTieu": [...], "ChatLuongDuLieu": {...}}``, as ``pipeline.compute`` stores it). Where each job
lives:

* ``view.py`` — the view of one quarter every document shows, the fixed wording, small helpers;
* ``narrative.py`` — the generated text; ``model.py`` — what the HTML and the PDF show;
* ``spreadsheet.py`` — the XLSX; ``charts.py`` — the matplotlib charts and the font;
* ``html.py`` (+ ``templates/report.html.j2``) — the HTML; ``pdf.py`` — the PDF;
* this module — the attachments (names, MIME types, TepDinhKem items) and the public API.

What decides whether a new version is sent (``payload.figures_sha``) covers the documents as
version 1 shows them, so every document is byte-identical for identical inputs: no clock is
read anywhere. They change only when the figures, the agency's or sub-units' names or the
history (previous quarters' figures) change — or when a pinned library that renders them is
upgraded. A later version's documents also say which version they replace and why
(:class:`Revision`); they are rendered at submission, when the version is known
(``draft_attachments``), from the sources kept with the draft, and are byte-identical for the
same version and reason. Their "replaces" text never counts as a change.
"""
from __future__ import annotations

import base64
import hashlib
from typing import Iterable, Mapping

from ..periods import Window, window_for
from .charts import font_path, shared_figures
from .html import build_html
from .narrative import narrative
from .pdf import build_pdf
from .spreadsheet import build_xlsx
from .payload import DOCUMENT_SOURCES
from .view import COLUMN_LABELS, SHORT_NAMES, TREND_QUARTERS, Revision, indicator_gap, indicator_result

__all__ = [
    "XLSX_TYPE", "PDF_TYPE", "HTML_TYPE", "TREND_QUARTERS", "SHORT_NAMES", "COLUMN_LABELS",
    "build_xlsx", "build_html", "build_pdf", "build_attachments", "attachment_names",
    "narrative", "indicator_result", "indicator_gap", "font_path", "decode_attachment", "history_windows",
    "Revision", "document_sources", "draft_attachments",
]

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_TYPE = "application/pdf"
HTML_TYPE = "text/html; charset=utf-8"


def attachment_names(agency: str, window: Window) -> dict[str, str]:
    stem = f"{agency}_{window.year}Q{window.quarter}"
    return {"xlsx": f"bieu-06_{stem}.xlsx", "pdf": f"bao-cao-cchc_{stem}.pdf", "html": f"bao-cao-cchc_{stem}.html"}


def build_attachments(content: Mapping, *, agency: str, agency_name: str, window: Window,
                      history: Iterable[tuple[Window, Mapping]] = (),
                      unit_names: Mapping[str, str] | None = None,
                      revision: Revision | None = None) -> list[dict]:
    """TepDinhKem items ``{TenTep, LoaiTep, SHA256, NoiDung}`` for the XLSX, the PDF and the HTML;
    with ``revision``, each says which version it replaces and why."""
    history = list(history or ())
    names = attachment_names(agency, window)
    kw = dict(agency=agency, agency_name=agency_name, window=window, unit_names=unit_names, revision=revision)
    with shared_figures():  # each chart is built once for the PDF (PNG) and the HTML (SVG)
        files = ((names["xlsx"], XLSX_TYPE, build_xlsx(content, **kw)),
                 (names["pdf"], PDF_TYPE, build_pdf(content, history=history, **kw)),
                 (names["html"], HTML_TYPE, build_html(content, history=history, **kw)))
    return [{"TenTep": name, "LoaiTep": mime, "SHA256": hashlib.sha256(data).hexdigest(),
             "NoiDung": base64.b64encode(data).decode("ascii")} for name, mime, data in files]


def document_sources(history: Iterable[tuple[Window, Mapping]] = (),
                     unit_names: Mapping[str, str] | None = None) -> dict:
    """What the documents need beyond the body (the earlier quarters' figures, the sub-units'
    names), as JSON kept with the draft so that a later version's documents are rendered at
    submission from exactly what the draft's documents were."""
    return {"LichSu": [{"Nam": w.year, "Quy": w.quarter, "NoiDung": dict(c)} for w, c in history or ()],
            "TenDonVi": dict(unit_names or {})}


def draft_attachments(core: Mapping, window: Window, revision: Revision | None = None) -> list[dict]:
    """The attachments of a draft (``payload.build_core`` with its ``sources``), rendered for one
    version: without ``revision`` they are the draft's own TepDinhKem, byte for byte."""
    sources = core.get(DOCUMENT_SOURCES) or {}
    history = [(window_for(int(h["Nam"]), int(h["Quy"]), window.rule), h["NoiDung"])
               for h in sources.get("LichSu") or []]
    content = {k: core[k] for k in ("Bieu06", "ChiTieu", "ChatLuongDuLieu")}
    return build_attachments(content, agency=core["MaDonViBaoCao"], agency_name=core["TenDonViBaoCao"],
                             window=window, history=history, unit_names=sources.get("TenDonVi"),
                             revision=revision)


def decode_attachment(item: Mapping) -> bytes:
    """The bytes of a TepDinhKem item, checked against its SHA256."""
    data = base64.b64decode(item["NoiDung"], validate=True)
    if hashlib.sha256(data).hexdigest() != item["SHA256"]:
        raise ValueError(f"tệp {item.get('TenTep')!r}: SHA256 không khớp nội dung")
    return data


def history_windows(window: Window, count: int = TREND_QUARTERS - 1) -> list[Window]:
    """The ``count`` windows before ``window``, oldest first (for the history lookup)."""
    out: list[Window] = []
    w = window
    for _ in range(count):
        w = w.previous()
        out.append(w)
    return out[::-1]
