"""The charts of the report (matplotlib, no pyplot: no global state, safe in a worker): the
indicators against their targets, and the trend of the recent quarters. Rendered with a fixed
SVG hash salt and no date/software metadata, so identical inputs give identical bytes.

Vietnamese text is set in DejaVu Sans, the TTF that matplotlib ships (located through
matplotlib's own data path); the PDF embeds the same font."""
from __future__ import annotations

import contextlib
import io
import re
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from ..figures import INDICATOR_NAMES
from .. import fmt
from .view import SHORT_NAMES, View, cell, quarter_text

__all__ = ["font_path", "indicator_figure", "trend_figure", "render", "shared_figures", "inline_svg", "escape"]

_SVG_SALT = "parreport-report"


@lru_cache(maxsize=None)
def font_path(style: str = "") -> str:
    """DejaVu Sans as shipped by matplotlib (``style``: "", "Bold", "Oblique", "BoldOblique")."""
    import matplotlib

    name = f"DejaVuSans-{style}.ttf" if style else "DejaVuSans.ttf"
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name
    if not path.is_file():  # pragma: no cover - a broken matplotlib install
        raise FileNotFoundError(f"không tìm thấy phông chữ {path}")
    return str(path)


_GREEN, _RED, _GREY, _BLUE, _INK = "#2e7d32", "#c62828", "#9e9e9e", "#1f5fa8", "#222222"


def _rc() -> dict:
    return {"font.family": "DejaVu Sans", "font.size": 9, "svg.hashsalt": _SVG_SALT, "svg.fonttype": "path",
            "axes.spines.top": False, "axes.spines.right": False, "path.simplify": True}


def indicator_figure(v: View):
    from matplotlib.figure import Figure

    items = v.current.agency_items(v.agency)
    codes = [c for c in INDICATOR_NAMES if c in items] or list(items)
    fig = Figure(figsize=(8.0, 0.42 * max(len(codes), 1) + 1.3), dpi=100)
    ax = fig.add_subplot(111)
    ys = list(range(len(codes)))[::-1]
    for y, code in zip(ys, codes):
        item = items[code]
        value, target = item.get("GiaTri"), item.get("MucTieu")
        color = {True: _GREEN, False: _RED}.get(item.get("DatMucTieu"), _GREY)
        if value is None:
            ax.text(1, y, "không có số liệu (mẫu số = 0)", va="center", ha="left", color=_GREY, fontsize=8)
        else:
            ax.barh(y, float(value), height=0.6, color=color)
            ax.text(max(float(value), float(target) if target is not None else 0) + 1.5, y, fmt.percent(value),
                    va="center", ha="left", fontsize=8, color=_INK)
        if target is not None:
            ax.plot([float(target)] * 2, [y - 0.38, y + 0.38], color=_INK, linewidth=2)
    ax.set_yticks(ys)
    ax.set_yticklabels([SHORT_NAMES.get(c, c) for c in codes])
    ax.set_xlim(0, 114)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xticklabels([f"{x} %" for x in range(0, 101, 20)])
    ax.set_ylim(-0.7, len(codes) - 0.3)
    ax.grid(axis="x", color="#e0e0e0", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_title(f"Chỉ tiêu so với mục tiêu – toàn đơn vị, {quarter_text(v.window)}", fontsize=10, loc="left")
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    height = fig.get_figheight()
    fig.legend(handles=[Patch(color=_GREEN, label="Đạt"), Patch(color=_RED, label="Không đạt"),
                        Patch(color=_GREY, label="Không đánh giá"),
                        Line2D([0], [0], color=_INK, linewidth=2, label="Mục tiêu")],
               loc="lower center", bbox_to_anchor=(0.5, 0.08 / height), ncol=4, frameon=False, fontsize=8)
    fig.subplots_adjust(left=0.34, right=0.97, top=1 - 0.4 / height, bottom=0.85 / height)
    return fig


def trend_figure(v: View):
    from matplotlib.figure import Figure

    quarters = v.trend
    labels = [q.short_label for q in quarters]
    xs = list(range(len(quarters)))
    codes = list(INDICATOR_NAMES)
    ncols = 4
    nrows = (len(codes) + ncols - 1) // ncols
    fig = Figure(figsize=(9.0, 1.85 * nrows + 2.9), dpi=100)
    grid = fig.add_gridspec(nrows + 1, ncols, height_ratios=[1.45] + [1] * nrows, hspace=0.85, wspace=0.35)
    ax = fig.add_subplot(grid[0, :])
    width = 0.27
    series = (("TiepNhan.Tong", "Nhận giải quyết", _BLUE), ("DaGiaiQuyet.Tong", "Đã giải quyết", _GREEN),
              ("DaGiaiQuyet.QuaHan", "Giải quyết quá hạn", _RED))
    for k, (path, label, color) in enumerate(series):
        ax.bar([x + (k - 1) * width for x in xs], [cell(q.total, path) for q in quarters], width=width,
               color=color, label=label)
    ax.set_xticks(xs)
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_title("Số hồ sơ theo quý (Biểu 06, dòng Tổng cộng)", fontsize=10, loc="left")
    ax.legend(fontsize=8, frameon=False, ncol=3, loc="upper left", bbox_to_anchor=(0, -0.16))
    ax.yaxis.set_major_formatter(_int_formatter())
    ax.grid(axis="y", color="#e0e0e0", linewidth=0.6)
    ax.set_axisbelow(True)
    for n, code in enumerate(codes):
        a = fig.add_subplot(grid[1 + n // ncols, n % ncols])
        points = [(x, q.agency_items(v.agency).get(code, {})) for x, q in zip(xs, quarters)]
        vals = [(x, float(i["GiaTri"])) for x, i in points if i.get("GiaTri") is not None]
        targets = [(x, float(i["MucTieu"])) for x, i in points if i.get("MucTieu") is not None]
        if targets:
            a.step([t[0] for t in targets], [t[1] for t in targets], where="mid", color=_INK, linestyle="--",
                   linewidth=1)
        if vals:
            a.plot([p[0] for p in vals], [p[1] for p in vals], color=_BLUE, marker="o", markersize=3, linewidth=1.4)
        a.set_title(SHORT_NAMES.get(code, code), fontsize=7)
        a.set_ylim(0, 105)
        a.set_xlim(-0.5, len(xs) - 0.5)
        a.set_yticks([0, 50, 100])
        a.tick_params(labelsize=6.5)
        a.set_xticks(xs)
        a.set_xticklabels(labels if len(xs) <= 4 else [lb if i % 2 == (len(xs) - 1) % 2 else "" for i, lb
                                                      in enumerate(labels)], fontsize=6)
        a.grid(axis="y", color="#eeeeee", linewidth=0.5)
    fig.text(0.01, 0.005, "Đường liền: giá trị (%) toàn đơn vị; đường đứt: mục tiêu.", fontsize=7, color="#555555")
    fig.subplots_adjust(left=0.07, right=0.98, top=0.95, bottom=0.05)
    return fig


def _int_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _pos: fmt.number(int(x)))


# The figures built within :func:`shared_figures`: (make, view, figure) triples.
_SHARED: ContextVar[list | None] = ContextVar("parreport_shared_figures", default=None)


@contextlib.contextmanager
def shared_figures():
    """Within this block, a chart asked for twice for equal views (the PDF's PNG and the HTML's
    SVG of one report) is built once and saved in each format. Saving one figure as PNG and as
    SVG gives the same bytes as two figures built apart, in either order
    (tests/report/test_charts.py)."""
    token = _SHARED.set([])
    try:
        yield
    finally:
        _SHARED.reset(token)


def _figure(make, view: View):
    shared = _SHARED.get()
    if shared is None:
        return make(view)
    fig = next((f for m, v, f in shared if m is make and v == view), None)
    if fig is None:
        fig = make(view)
        shared.append((make, view, fig))
    return fig


def render(make, view: View, fmt: str) -> bytes:
    import matplotlib

    with matplotlib.rc_context(_rc()):
        fig = _figure(make, view)
        buf = io.BytesIO()
        if fmt == "svg":
            fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
        else:
            fig.savefig(buf, format="png", dpi=200, metadata={"Software": None})
    return buf.getvalue()


def inline_svg(svg: bytes, title: str) -> str:
    """matplotlib's SVG, made fit for inlining into HTML: no XML prolog, no RDF metadata, scalable."""
    text = svg.decode("utf-8")
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.DOTALL)
    text = re.sub(r'<svg([^>]*?)\swidth="[^"]*"\s+height="[^"]*"', r"<svg\1", text, count=1)
    title_el = f"<title>{escape(title)}</title>"
    return re.sub(r"(<svg[^>]*>)", lambda m: m.group(1) + title_el, text, count=1).replace(
        "<svg", '<svg role="img" class="chart"', 1)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
