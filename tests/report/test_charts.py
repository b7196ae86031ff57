"""The report's charts: one figure saved in both formats is what two figures built apart give."""
from __future__ import annotations

import hashlib

import pytest

from parreport.report import charts
from parreport.report.view import make_view

from tests.support.report_content import CONTENT, HISTORY, KW


def _view():
    return make_view(CONTENT, KW["agency"], KW["agency_name"], KW["window"], HISTORY, KW["unit_names"])


@pytest.mark.parametrize("make", [charts.indicator_figure, charts.trend_figure], ids=["indicators", "trend"])
@pytest.mark.parametrize("order", [("png", "svg"), ("svg", "png")])
def test_a_shared_figure_saves_the_bytes_of_figures_built_apart(make, order):
    apart = {fmt: hashlib.sha256(charts.render(make, _view(), fmt)).hexdigest() for fmt in ("png", "svg")}
    built = []

    def counted(view):
        built.append(view)
        return make(view)

    with charts.shared_figures():
        shared = {fmt: hashlib.sha256(charts.render(counted, _view(), fmt)).hexdigest() for fmt in order}
    assert shared == apart
    assert len(built) == 1  # equal views (made apart, as the PDF and the HTML make them): one figure


def test_a_shared_figure_is_not_reused_for_another_view_or_outside_the_block():
    built = []

    def counted(view):
        built.append(view)
        return charts.indicator_figure(view)

    other = make_view(CONTENT, KW["agency"], "Một đơn vị khác", KW["window"], HISTORY, KW["unit_names"])
    with charts.shared_figures():
        charts.render(counted, _view(), "svg")
        charts.render(counted, other, "svg")
    charts.render(counted, _view(), "svg")
    assert len(built) == 3
