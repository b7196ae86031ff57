"""The report as an A4 PDF (reportlab platypus, invariant mode): DejaVu Sans embedded (subset),
fixed dates (the window's end) and file id, so identical inputs give identical bytes.

The story is built section by section (heading, I. Biểu 06, II. indicators, III. trend, IV. data
quality, closing) from :func:`model.document_model`, the same model the HTML renders."""
from __future__ import annotations

import io
from typing import Any, Iterable, Mapping

from ..figures import BIEU06_COLUMNS
from ..periods import Window
from .charts import escape, font_path, indicator_figure, render, trend_figure
from .model import document_model
from .view import UNITS_NOTE, Revision, View, make_view, nonbreaking

__all__ = ["build_pdf"]

_PDF_FONT = "DejaVuSans"
_BAD, _TOTAL, _UNIT, _HEAD = "#FCE4E4", "#F2F2F2", "#EEF3F8", "#DDEBF7"
_INDICATOR_HEAD = ("STT", "Chỉ tiêu", "Tử số", "Mẫu số", "Giá trị", "Mục tiêu", "Kết quả", "Chênh lệch (điểm %)")
_INDICATOR_WIDTHS = (8, 72, 15, 15, 16, 16, 17, 21)  # mm


def _register_fonts() -> None:
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if _PDF_FONT in pdfmetrics.getRegisteredFontNames():
        return
    for suffix, style, bold, italic in (("", "", 0, 0), ("-Bold", "Bold", 1, 0), ("-Oblique", "Oblique", 0, 1),
                                        ("-BoldOblique", "BoldOblique", 1, 1)):
        pdfmetrics.registerFont(TTFont(_PDF_FONT + suffix, font_path(style)))
        addMapping(_PDF_FONT, bold, italic, _PDF_FONT + suffix)


def _styles() -> dict:
    from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm

    F, FB, FI = _PDF_FONT, _PDF_FONT + "-Bold", _PDF_FONT + "-Oblique"
    s = {"body": ParagraphStyle("body", fontName=F, fontSize=10, leading=13.5, alignment=TA_JUSTIFY, spaceAfter=4,
                                firstLineIndent=8 * mm),
         "small": ParagraphStyle("small", fontName=F, fontSize=7, leading=8.5)}
    s["small_c"] = ParagraphStyle("small_c", parent=s["small"], alignment=TA_CENTER)
    s["small_b"] = ParagraphStyle("small_b", parent=s["small"], fontName=FB)
    s["small_bc"] = ParagraphStyle("small_bc", parent=s["small_b"], alignment=TA_CENTER)
    s["small_r"] = ParagraphStyle("n", parent=s["small"], alignment=TA_RIGHT)
    s["small_br"] = ParagraphStyle("n", parent=s["small_b"], alignment=TA_RIGHT)
    s["small_i"] = ParagraphStyle("e", parent=s["small"], fontName=FI)
    s.update(
        center_b=ParagraphStyle("center_b", fontName=FB, fontSize=10, leading=13, alignment=TA_CENTER),
        center=ParagraphStyle("center", fontName=F, fontSize=10, leading=13, alignment=TA_CENTER),
        center_i=ParagraphStyle("center_i", fontName=FI, fontSize=10, leading=13, alignment=TA_CENTER),
        title=ParagraphStyle("title", fontName=FB, fontSize=14, leading=18, alignment=TA_CENTER, spaceBefore=10),
        h1=ParagraphStyle("h1", fontName=FB, fontSize=11, leading=14, spaceBefore=10, spaceAfter=5, keepWithNext=1),
        h2=ParagraphStyle("h2", fontName=FB, fontSize=10, leading=13, spaceBefore=6, spaceAfter=4, keepWithNext=1),
        org_b=ParagraphStyle("org_b", fontName=FB, fontSize=9.5, leading=12, alignment=TA_CENTER),
        org=ParagraphStyle("org", fontName=F, fontSize=9.5, leading=12, alignment=TA_CENTER),
        caption=ParagraphStyle("caption", fontName=FI, fontSize=8, leading=10, alignment=TA_CENTER, spaceAfter=6),
        right_i=ParagraphStyle("right_i", fontName=FI, fontSize=8, leading=10, alignment=TA_RIGHT),
        nn=ParagraphStyle("nn", fontName=FB, fontSize=8, leading=10),
        rev_title=ParagraphStyle("rev_title", fontName=FB, fontSize=10, leading=13, spaceAfter=2),
        rev=ParagraphStyle("rev", fontName=F, fontSize=9, leading=12, alignment=TA_JUSTIFY),
    )
    return s


class _Story:
    """The flowables of one report, section by section."""

    def __init__(self, v: View, m: dict):
        from reportlab.lib import colors

        self.v, self.m, self.s, self.flow = v, m, _styles(), []
        self.grid = [("GRID", (0, 0), (-1, -1), 0.4, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                     ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                     ("LEFTPADDING", (0, 0), (-1, -1), 2.5), ("RIGHTPADDING", (0, 0), (-1, -1), 2.5)]

    def P(self, text: Any, style: str = "body"):
        from reportlab.platypus import Paragraph

        return Paragraph(escape(nonbreaking(str(text))), self.s[style])

    def texts(self, section: str) -> list:
        return [self.P(t) for t in self.m["text"][section]]

    @staticmethod
    def fill(row: int, color: str, first: int = 0) -> tuple:
        from reportlab.lib import colors

        return ("BACKGROUND", (first, row), (-1, row), colors.HexColor(color))

    def table(self, rows: list, widths_mm: Iterable[float], style: list, repeat: int = 0):
        from reportlab.lib.units import mm
        from reportlab.platypus import Table, TableStyle

        t = Table(rows, colWidths=[w * mm for w in widths_mm], repeatRows=repeat) if repeat else \
            Table(rows, colWidths=[w * mm for w in widths_mm])
        t.setStyle(TableStyle(style))
        return t

    # -- heading block (quốc hiệu, tiêu ngữ) --
    def heading(self) -> None:
        from reportlab.lib.units import mm
        from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

        m, P = self.m, self.P
        left = [P(m["parent"], "org"), P(m["org"], "org_b"), P("―――――", "center"), P("Số: ……/BC", "center")]
        right = [P("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "center_b"), P("Độc lập - Tự do - Hạnh phúc", "center_b"),
                 P("―――――――――", "center"),
                 P(f"{m['province'] + ', ' if m['province'] else ''}ngày …… tháng …… năm ……", "center_i")]
        head = Table([[left, right]], colWidths=[84 * mm, 96 * mm])
        head.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                  ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
        self.flow += [head, Paragraph("BÁO CÁO", self.s["title"]),
                      P(f"Tình hình, kết quả giải quyết thủ tục hành chính {m['quarter']}", "center_b"),
                      P(f"(Kỳ báo cáo {m['period']})", "center_i"), Spacer(1, 4 * mm),
                      P(f"Kính gửi: {m['recipient']}.", "center"), Spacer(1, 3 * mm)]
        if m["revision"] is not None:
            self.revision(m["revision"])

    def revision(self, rev: Revision) -> None:
        from reportlab.lib import colors
        from reportlab.lib.units import mm
        from reportlab.platypus import Spacer

        box = self.table([[[self.P(rev.title, "rev_title"), self.P(rev.replaced, "rev"), self.P(rev.why, "rev")]]],
                         [180], [("BOX", (0, 0), (-1, -1), 0.8, colors.HexColor("#B26A00")),
                                 ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#FFF6E0")),
                                 ("LEFTPADDING", (0, 0), (-1, -1), 6), ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                                 ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 5)])
        self.flow += [box, Spacer(1, 3 * mm)]

    # -- I. Biểu 06 --
    def bieu06(self) -> None:
        from reportlab.lib.units import mm
        from reportlab.platypus import KeepTogether, Spacer

        m, P = self.m, self.P
        self.flow.append(P("I. TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH", "h1"))
        self.flow += self.texts("tong_quan")
        self.flow.append(P("So sánh với quý trước", "h2"))
        self.flow += self.texts("so_sanh")
        h = "small_bc"
        hdr = [
            [P("STT", h), P("Lĩnh vực, công việc giải quyết", h), P("Số hồ sơ nhận giải quyết", h), "", "", "",
             P("Số hồ sơ đã giải quyết", h), "", "", "", P("Số hồ sơ đang giải quyết", h), "", ""],
            ["", "", P("Tổng số", h), P("Trong kỳ", h), "", P("Từ kỳ trước", h), P("Tổng số", h),
             P("Trước hạn", h), P("Đúng hạn", h), P("Quá hạn", h), P("Tổng số", h), P("Trong hạn", h),
             P("Quá hạn", h)],
            ["", "", "", P("Trực tuyến", h), P("Trực tiếp, bưu chính", h), "", "", "", "", "", "", "", ""],
            [P(c, "small_c") for c in m["columns"]],
        ]
        data = hdr + [[P(r["stt"], "small_c"), P(r["name"], "small_b" if r["total"] else "small")]
                      + [P(c, "small_br" if r["total"] else "small_r") for c in r["cells"]] for r in m["bieu06"]]
        spans = [("SPAN", (0, 0), (0, 2)), ("SPAN", (1, 0), (1, 2)), ("SPAN", (2, 0), (5, 0)),
                 ("SPAN", (6, 0), (9, 0)), ("SPAN", (10, 0), (12, 0)), ("SPAN", (2, 1), (2, 2)),
                 ("SPAN", (3, 1), (4, 1)), ("SPAN", (5, 1), (5, 2))]
        spans += [("SPAN", (c, 1), (c, 2)) for c in range(6, 13)]
        style = self.grid + spans + [self._head_fill(3)]
        style += [self.fill(4 + i, _TOTAL) for i, r in enumerate(m["bieu06"]) if r["total"]]
        table = self.table(data, [8, 40] + [12] * len(BIEU06_COLUMNS), style, repeat=4)
        self.flow += [Spacer(1, 2 * mm), KeepTogether([P(f"{m['form_name']} – {m['form_title']}", "center_b"),
                                                       P(m["form_source"], "caption"),
                                                       P("Đơn vị tính: số hồ sơ TTHC", "right_i")]), table,
                      P(m["identity_note"], "caption")]

    def _head_fill(self, last_row: int = 0) -> tuple:
        from reportlab.lib import colors

        return ("BACKGROUND", (0, 0), (-1, last_row), colors.HexColor(_HEAD))

    def _indicator_cells(self, n: int, r: dict, name_key: str) -> list:
        P, bad = self.P, r["result"] == "Không đạt"
        return [P(str(n), "small_c"), P(r[name_key], "small"), P(r["num"], "small_c"), P(r["den"], "small_c"),
                P(r["value"], "small_c"), P(r["target"], "small_c"), P(r["result"], "small_bc" if bad else "small_c"),
                P(r["gap"], "small_c")]

    # -- II. Indicators --
    def indicators(self) -> None:
        from reportlab.lib.units import mm
        from reportlab.platypus import Image, KeepTogether

        m, P = self.m, self.P
        self.flow.append(P("II. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU", "h1"))
        self.flow += self.texts("chi_tieu")
        png = render(indicator_figure, self.v, "png")
        self.flow.append(KeepTogether([_png_flowable(Image, png, 178 * mm),
                                       P("Hình 1. Giá trị các chỉ tiêu của toàn đơn vị so với mục tiêu", "caption")]))
        rows = m["agency_indicators"]
        body = [self._indicator_cells(n, r, "name") for n, r in enumerate(rows, 1)]
        style = self.grid + [self._head_fill()]
        style += [self.fill(i, _BAD) for i, r in enumerate(rows, 1) if r["result"] == "Không đạt"]
        self.flow += [P(f"Toàn đơn vị: {m['agency_name']}", "h2"),
                      self.table([[P(t, "small_bc") for t in _INDICATOR_HEAD]] + body, _INDICATOR_WIDTHS, style,
                                 repeat=1)]
        if m["units"]:
            self.units()

    def units(self) -> None:
        P = self.P
        self.flow.append(P("Các đơn vị trực thuộc", "h2"))
        self.flow.append(P(UNITS_NOTE, "caption"))
        rows, st = [[P(t, "small_bc") for t in _INDICATOR_HEAD]], self.grid + [self._head_fill()]
        for unit in self.m["units"]:
            st += [("SPAN", (0, len(rows)), (-1, len(rows))), self.fill(len(rows), _UNIT)]
            rows.append([P(f"{unit['name']} – {unit['missed']} chỉ tiêu không đạt", "small_b")]
                        + [""] * 7)
            for n, r in enumerate(unit["rows"], 1):
                if r["result"] == "Không đạt":
                    st.append(self.fill(len(rows), _BAD))
                rows.append(self._indicator_cells(n, r, "short"))
            if unit["empty"]:
                st.append(("SPAN", (0, len(rows)), (-1, len(rows))))
                rows.append([P("Không có số liệu trong kỳ (mẫu số bằng 0): " + "; ".join(unit["empty"]) + ".",
                               "small_i")] + [""] * 7)
        self.flow.append(self.table(rows, _INDICATOR_WIDTHS, st, repeat=1))

    # -- III. Trend --
    def trend(self) -> None:
        from reportlab.lib.units import mm
        from reportlab.platypus import Image, KeepTogether

        m, P = self.m, self.P
        heading = P("III. XU HƯỚNG CÁC QUÝ GẦN ĐÂY", "h1")
        if m["has_trend"]:  # the heading goes with the chart, never alone at a page's foot
            png = render(trend_figure, self.v, "png")
            self.flow.append(KeepTogether([heading, P(f"Số liệu các quý {', '.join(m['trend_labels'])} (toàn đơn vị)."),
                                           _png_flowable(Image, png, 178 * mm),
                                           P("Hình 2. Số hồ sơ và giá trị các chỉ tiêu qua các quý", "caption")]))
        else:
            self.flow += [heading, P("Chưa có số liệu các quý trước trong kho dữ liệu để thể hiện xu hướng.")]

    # -- IV. Data quality --
    def quality(self) -> None:
        from reportlab.lib.units import mm
        from reportlab.platypus import Spacer

        P, q = self.P, self.m["quality"]
        self.flow.append(P("IV. CHẤT LƯỢNG DỮ LIỆU", "h1"))
        self.flow += self.texts("chat_luong")
        summary = self.table([[P(label, "small"), P(value, "small_bc")] for label, value in q["summary"]],
                             [120, 30], self.grid)
        self.flow += [summary, Spacer(1, 3 * mm)]
        rows = [[P(x, "small_bc") for x in ("STT", "Nội dung kiểm tra", "Mức độ", "Kết quả", "Số lỗi")]]
        rows += [[P(str(n), "small_c"), P(c["name"], "small"), P(c["level"], "small_c"),
                  P(c["result"], "small_bc" if c["bad"] else "small_c"), P(c["errors"], "small_c")]
                 for n, c in enumerate(q["checks"], 1)]
        checks = self.table(rows, [8, 112, 20, 20, 18], self.grid + [self._head_fill()]
                            + [self.fill(i, _BAD) for i, c in enumerate(q["checks"], 1) if c["bad"]], repeat=1)
        self.flow += [P("Kết quả kiểm tra dữ liệu", "h2"), checks, P("Đối soát Biểu 06 với số liệu của Cổng DVC", "h2")]
        if q["diffs"]:
            rows = [[P(x, "small_bc") for x in ("STT", "Lĩnh vực", "Cột", "Cổng DVC", "Tính lại", "Chênh lệch")]]
            rows += [[P(str(n), "small_c"), P(f"{d['name']} ({d['code']})", "small"), P(d["column"], "small"),
                      P(d["portal"], "small_c"), P(d["ours"], "small_c"), P(d["delta"], "small_c")]
                     for n, d in enumerate(q["diffs"], 1)]
            self.flow.append(self.table(rows, [8, 62, 56, 17, 17, 18], self.grid + [self._head_fill()], repeat=1))
        else:
            self.flow.append(P("Không có chênh lệch giữa Biểu 06 tính lại và số liệu của Cổng DVC."))

    # -- closing --
    def closing(self) -> None:
        from reportlab.lib.units import mm
        from reportlab.platypus import Spacer, Table, TableStyle

        m, P = self.m, self.P
        sign = Table([[[P("Nơi nhận:", "nn"), P(f"- {m['recipient']};", "small"), P("- Lưu: VT.", "small")],
                       [P("THỦ TRƯỞNG ĐƠN VỊ", "center_b"),
                        P("(Báo cáo được ký số kèm dữ liệu gửi Sở Nội vụ)", "center_i")]]],
                     colWidths=[80 * mm, 100 * mm])
        sign.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
        self.flow += [Spacer(1, 6 * mm), sign]


def build_pdf(content: Mapping, *, agency: str, agency_name: str, window: Window,
              history: Iterable[tuple[Window, Mapping]] = (),
              unit_names: Mapping[str, str] | None = None, revision: Revision | None = None) -> bytes:
    """The report as an A4 PDF with DejaVu Sans embedded; identical bytes for identical inputs."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    _register_fonts()
    v = make_view(content, agency, agency_name, window, history, unit_names, revision)
    m = document_model(v)
    story = _Story(v, m)
    for section in (story.heading, story.bieu06, story.indicators, story.trend, story.quality, story.closing):
        section()

    buf = io.BytesIO()
    footer = f"{m['agency_name']} – Báo cáo {m['quarter']}"
    if revision is not None:
        footer += f" – phiên bản {revision.version} (thay thế phiên bản {revision.replaces})"

    def on_page(canvas, doc):
        canvas.saveState()
        canvas.setFont(_PDF_FONT, 7)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(15 * mm, 9 * mm, footer)
        canvas.drawRightString(A4[0] - 15 * mm, 9 * mm, f"Trang {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(buf, pagesize=A4, initialFontName=_PDF_FONT, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=14 * mm, bottomMargin=16 * mm, invariant=1,
                            title=f"Báo cáo tình hình, kết quả giải quyết TTHC {m['quarter']}",
                            author=m["agency_name"], subject=f"Kỳ báo cáo {m['period']}",
                            creator="parreport", producer="parreport", lang="vi")
    stamp = window.end.timetuple()[:6]
    doc.build(story.flow, onFirstPage=on_page, onLaterPages=on_page,
              canvasmaker=lambda *a, **kw: _stamped_canvas(stamp, *a, **kw))
    return buf.getvalue()


def _stamped_canvas(stamp: tuple, *args, **kwargs):
    """A reportlab canvas whose document dates are ``stamp`` (the window's end, UTC+07:00), not
    the clock and not reportlab's invariant-mode 2000-01-01."""
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(*args, **kwargs)
    ts = canvas._doc._timeStamp
    ts.YMDhms, ts.dhh, ts.dmm, ts.tzname = tuple(stamp), 7, 0, "+07"
    return canvas


def _png_flowable(image_cls, png: bytes, width: float):
    from reportlab.lib.utils import ImageReader

    w, h = ImageReader(io.BytesIO(png)).getSize()
    return image_cls(io.BytesIO(png), width=width, height=width * h / w)
