"""The report as one self-contained HTML page (Jinja2 template ``templates/report.html.j2``,
inline CSS and SVG charts, nothing fetched)."""
from __future__ import annotations

from functools import lru_cache
from typing import Iterable, Mapping

from ..periods import Window
from .charts import indicator_figure, inline_svg, render, trend_figure
from .model import document_model
from .view import Revision, make_view, nonbreaking

__all__ = ["build_html"]


@lru_cache(maxsize=1)
def _jinja():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
    from markupsafe import Markup

    def finalize(value):  # every text written into the page keeps its figures on one line
        return nonbreaking(value) if isinstance(value, str) and not isinstance(value, Markup) else value

    return Environment(loader=PackageLoader("parreport.report", "templates"), autoescape=select_autoescape(["j2"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                       finalize=finalize)


def build_html(content: Mapping, *, agency: str, agency_name: str, window: Window,
               history: Iterable[tuple[Window, Mapping]] = (),
               unit_names: Mapping[str, str] | None = None, revision: Revision | None = None) -> bytes:
    """The report as one self-contained HTML page (inline CSS and SVG charts, nothing fetched)."""
    from markupsafe import Markup

    v = make_view(content, agency, agency_name, window, history, unit_names, revision)
    model = document_model(v)
    model["indicator_chart"] = Markup(inline_svg(render(indicator_figure, v, "svg"),
                                                  "Biểu đồ các chỉ tiêu so với mục tiêu"))
    model["trend_chart"] = Markup(inline_svg(render(trend_figure, v, "svg"),
                                              "Biểu đồ xu hướng các quý gần đây")) if v.history else None
    return _jinja().get_template("report.html.j2").render(**model).encode("utf-8")
