"""Great Expectations Data Docs, readable without internet: GX 1.24 writes pages that load
jQuery, Bootstrap, bootstrap-table, Font Awesome… from public CDNs. At serve time their
references are rewritten to the copies vendored in ``static/vendor/`` (see its README), and the
scripts only profiling pages use (Vega) are dropped."""
from __future__ import annotations

import re

__all__ = ["CDN_ASSETS", "DROPPED", "offline_html"]

# CDN URL → path below static/vendor/
CDN_ASSETS: dict[str, str] = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js/popper.min.js",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap/js/bootstrap.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap/css/bootstrap.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table/filter-control/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table/filter-control/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker/js/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "fontawesome/css/all.min.css",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "bootstrap-dark/bootstrap-prefers-dark.min.css",
}
DROPPED = ("https://cdn.jsdelivr.net/npm/vega@5", "https://cdn.jsdelivr.net/npm/vega-lite@5",
           "https://cdn.jsdelivr.net/npm/vega-embed@6")
_LOGO = re.compile(r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/"
                   r"(?:logo-long|full_logo_dark)\.png(?:\?[^\"')\s]*)?")
_SRI = re.compile(r"""\s+(?:integrity|crossorigin)=(?:"[^"]*"|'[^']*'|[^\s>]+)""")
_TAG = re.compile(r"<(script|link)\b[^>]*>", re.IGNORECASE)


_BANNER = ("<div style=\"background:#fffbea;border-bottom:1px solid #e2c044;padding:8px 16px;font:15px "
           "system-ui,sans-serif\">Trang chi tiết của Great Expectations (tiếng Anh). "
           "<a href=\"{summary}\" target=\"_self\"><b>Xem kết quả kiểm tra bằng tiếng Việt</b></a></div>"
           "<style>#ge-cta-footer{{display:none !important}}</style>")


def offline_html(text: str, vendor_base: str, summary_url: str | None = None) -> str:
    """``text`` with every known CDN reference pointing to ``vendor_base`` (e.g.
    ``/parreport/static/vendor``), the Vega scripts removed, GX's logo served locally and, when
    ``summary_url`` is given, a bar at the top that leads to the Vietnamese summary."""
    def tag(m: re.Match) -> str:
        t = m.group(0)
        for url in DROPPED:
            if f'"{url}"' in t or f"'{url}'" in t:
                return "<!-- Vega (biểu đồ của trang hồ sơ dữ liệu) không dùng ở trang kết quả kiểm tra -->"
        changed = False
        for url, local in CDN_ASSETS.items():
            if url in t:
                t = t.replace(url, f"{vendor_base}/{local}")
                changed = True
        return _SRI.sub("", t) if changed else t

    text = _TAG.sub(tag, text)
    text = _LOGO.sub(f"{vendor_base}/great_expectations/logo-long.png", text)
    if summary_url:
        text = re.sub(r"(<body\b[^>]*>)", lambda m: m.group(1) + _BANNER.format(summary=summary_url), text, count=1)
    # a dropped <script ...> opening tag leaves its closing tag alone: remove the pair's remainder
    return text.replace("-->\n</script>", "-->").replace("--></script>", "-->")
