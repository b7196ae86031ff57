"""``LyDoDieuChinh``: what changed between the version sent last and the one about to be sent,
and why, in one Vietnamese sentence a reader at the Sở Nội vụ understands without the payload.

    Phiên bản 2 thay thế phiên bản 1 (biên nhận TN-…): 1 hồ sơ được cán bộ dữ liệu sửa
    (NgayHenTra của hồ sơ X — lý do: “…”, Nguyễn Văn B); vì vậy Biểu 06 dòng Tổng cộng: đã giải
    quyết 107 → 108; chỉ tiêu “Hồ sơ giải quyết đúng hạn” (HS_DUNG_HAN) của toàn đơn vị:
    94,37 % → 94,40 %.

The why comes from the stewards' corrections recorded since the last version was sent (those
applied by the validation, those revoked, those the portal itself now carries); without any,
the portal's own data changed. The what lists the changed figures, most important first (the
Biểu 06 total, the agency's indicators, data quality, the other rows, the sub-units), at most
``limit`` of them and a count of the rest. Readings: the steward's name is shown as the example
of issue 8 asks (it is the official who made the correction, not a citizen); a steward's free
text reason is cut at :data:`REASON_CHARS` characters and anything in it shaped like a phone
number, an ID number or an e-mail address is hidden.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from .. import fmt
from ..figures import BIEU06_COLUMNS, TOTAL_CODE
from .view import SHORT_NAMES

__all__ = ["describe_changes", "corrections_since", "REASON_CHARS"]

REASON_CHARS = 120
DETAILED_CORRECTIONS = 3
_HIDDEN = "[đã ẩn]"
_PERSONAL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail
                       r"|(?<!\d)(?:\+?84|0)\d{8,10}(?!\d)"  # phone
                       r"|(?<!\d)(?:\d{9}|\d{12})(?!\d)")  # CMND / CCCD
_CELLS = {  # Biểu 06 "Group.Column" -> how the sentence names it
    "TiepNhan.Tong": "nhận giải quyết", "TiepNhan.TrucTuyen": "tiếp nhận trực tuyến",
    "TiepNhan.TrucTiepBuuChinh": "tiếp nhận trực tiếp hoặc qua bưu chính", "TiepNhan.KyTruocChuyenSang": "từ kỳ trước",
    "DaGiaiQuyet.Tong": "đã giải quyết", "DaGiaiQuyet.TruocHan": "đã giải quyết trước hạn",
    "DaGiaiQuyet.DungHan": "đã giải quyết đúng hạn", "DaGiaiQuyet.QuaHan": "đã giải quyết quá hạn",
    "DangGiaiQuyet.Tong": "đang giải quyết", "DangGiaiQuyet.TrongHan": "đang giải quyết trong hạn",
    "DangGiaiQuyet.QuaHan": "đang giải quyết quá hạn",
}
assert tuple(_CELLS) == BIEU06_COLUMNS
_QUALITY = {"SoBanGhi": "hồ sơ lấy từ Cổng DVC", "SoBanGhiLoai": "hồ sơ bị loại",
            "SoBanGhiDaSua": "hồ sơ đã hiệu chỉnh"}


def _clean(text: Any) -> str:
    text = " ".join(str(text or "").split())
    text = _PERSONAL.sub(_HIDDEN, text)
    return text if len(text) <= REASON_CHARS else text[:REASON_CHARS - 1].rstrip() + "…"


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def corrections_since(corrections: Iterable[Mapping], since: datetime | None, *,
                      not_applied: Iterable[int] = (), not_found: Iterable[str] = ()) -> list[dict]:
    """The corrections (``quality.corrections.list_corrections`` rows) that changed something
    after ``since`` (when the last version was sent), each with ``kind``: ``applied`` (recorded
    since and in force, unless the last validation could not apply it), ``revoked`` or
    ``portal_fixed`` (closed since). Without ``since``, every correction counts."""
    since = _utc(since)
    skipped, missing = set(not_applied), set(not_found)
    out = []
    for c in corrections:
        created, closed = _utc(c.get("created_at")), _utc(c.get("closed_at"))
        status = c.get("status")
        if status == "HIEU_LUC" and (since is None or (created and created > since)):
            if c.get("id") not in skipped and c.get("ma_ho_so") not in missing:
                out.append({**c, "kind": "applied"})
        elif status in ("DA_HUY", "CONG_DA_SUA") and (since is None or (closed and closed > since)):
            out.append({**c, "kind": "revoked" if status == "DA_HUY" else "portal_fixed"})
    return out


def _correction(c: Mapping) -> str:
    where = f"{c.get('field')} của hồ sơ {c.get('ma_ho_so')}"
    if c["kind"] == "applied":
        by = f", {_clean(c.get('created_by'))}" if c.get("created_by") else ""
        return f"{where} — lý do: “{_clean(c.get('reason'))}”{by}"
    if c["kind"] == "revoked":
        return f"{where} — lý do hủy: “{_clean(c.get('closed_note'))}”"
    return where


def _why(corrections: list[Mapping]) -> list[str]:
    parts = []
    for kind, head in (("applied", "{n} hồ sơ được cán bộ dữ liệu sửa"), ("revoked", "{n} sửa đổi bị hủy"),
                       ("portal_fixed", "Cổng DVC đã tự sửa {n} hồ sơ")):
        items = [c for c in corrections if c["kind"] == kind]
        if not items:
            continue
        n = len({c.get("ma_ho_so") for c in items}) if kind != "revoked" else len(items)
        shown = "; ".join(_correction(c) for c in items[:DETAILED_CORRECTIONS])
        more = f"; và {len(items) - DETAILED_CORRECTIONS} sửa đổi khác" if len(items) > DETAILED_CORRECTIONS else ""
        parts.append(f"{head.format(n=fmt.number(n))} ({shown}{more})")
    return parts


def _value(v: Any) -> Any:
    return 0 if v is None else v


def _what(old: Mapping, new: Mapping, unit_names: Mapping[str, str]) -> list[tuple[int, str, str]]:
    """Every changed figure as (priority, group, text)."""
    out: list[tuple[int, str, str]] = []
    old_rows = {r.get("MaLinhVuc"): r for r in old.get("Bieu06") or []}
    new_rows = {r.get("MaLinhVuc"): r for r in new.get("Bieu06") or []}
    for code in list(new_rows) + [c for c in old_rows if c not in new_rows]:
        a, b = old_rows.get(code) or {}, new_rows.get(code) or {}
        name = (b or a).get("TenLinhVuc") or code
        for path, label in _CELLS.items():
            group, col = path.split(".")
            x, y = _value((a.get(group) or {}).get(col)), _value((b.get(group) or {}).get(col))
            if x != y:
                out.append((0 if code == TOTAL_CODE else 3, f"Biểu 06 dòng {name}",
                            f"{label} {fmt.number(x)} → {fmt.number(y)}"))
    agency = new.get("MaDonViBaoCao") or old.get("MaDonViBaoCao")
    old_items = {(i.get("MaChiTieu"), i.get("PhamVi")): i for i in old.get("ChiTieu") or []}
    for item in new.get("ChiTieu") or []:
        key = (item.get("MaChiTieu"), item.get("PhamVi"))
        before = old_items.get(key) or {}
        parts = []
        if before.get("GiaTri") != item.get("GiaTri"):
            parts.append(f"{fmt.percent(before.get('GiaTri'))} → {fmt.percent(item.get('GiaTri'))}")
        counts = [f"{label} {fmt.number(_value(before.get(k)))} → {fmt.number(_value(item.get(k)))}"
                  for k, label in (("TuSo", "tử số"), ("MauSo", "mẫu số")) if before.get(k) != item.get(k)]
        if before.get("MucTieu") != item.get("MucTieu"):
            counts.append(f"mục tiêu {fmt.target(before.get('MucTieu'), before.get('SoSanh'))} → "
                          f"{fmt.target(item.get('MucTieu'), item.get('SoSanh'))}")
        if not parts and not counts:
            continue
        text = " ".join(parts + ([f"({', '.join(counts)})"] if parts and counts else counts))
        scope = "toàn đơn vị" if key[1] == agency else (unit_names.get(key[1]) or key[1])
        name = SHORT_NAMES.get(key[0], key[0])
        out.append((1 if key[1] == agency else 4, f"chỉ tiêu “{name}” ({key[0]}) của {scope}", text))
    oq, nq = old.get("ChatLuongDuLieu") or {}, new.get("ChatLuongDuLieu") or {}
    for k, label in _QUALITY.items():
        if _value(oq.get(k)) != _value(nq.get(k)):
            out.append((2, "chất lượng dữ liệu", f"{label} {fmt.number(_value(oq.get(k)))} → "
                                                 f"{fmt.number(_value(nq.get(k)))}"))
    if old.get("TenDonViBaoCao") != new.get("TenDonViBaoCao"):
        out.append((2, "tên đơn vị báo cáo", f"“{old.get('TenDonViBaoCao')}” → “{new.get('TenDonViBaoCao')}”"))
    return sorted(out, key=lambda t: t[0])


def _joined(items: list[tuple[int, str, str]]) -> str:
    groups: list[tuple[str, list[str]]] = []
    for _, group, text in items:
        if groups and groups[-1][0] == group:
            groups[-1][1].append(text)
        else:
            groups.append((group, [text]))
    return "; ".join(f"{group}: {', '.join(texts)}" for group, texts in groups)


def describe_changes(old: Mapping, new: Mapping, *, receipt: str | None = None, version: int | None = None,
                     corrections: Iterable[Mapping] = (), unit_names: Mapping[str, str] | None = None,
                     limit: int = 6) -> str:
    """LyDoDieuChinh of the version that replaces ``old`` (the last body sent) with ``new`` (what
    the report says now); ``corrections`` as :func:`corrections_since` gives them."""
    old_version = old.get("PhienBan")
    version = version if version is not None else (old_version or 0) + 1
    head = f"Phiên bản {version} thay thế phiên bản {old_version}"
    head += f" (biên nhận {receipt})" if receipt else ""
    why = _why(list(corrections))
    what = _what(old, new, dict(unit_names or {}))
    if not what:
        cause = "; ".join(why) + "; " if why else ""
        return (f"{head}: {cause}số liệu của quý không đổi; các tệp đính kèm được lập lại (số liệu các quý trước, "
                f"tên đơn vị hoặc cách trình bày trong tệp thay đổi).")
    cause = "; ".join(why) if why else "dữ liệu Cổng DVC cung cấp lại có thay đổi"
    shown = _joined(what[:limit])
    more = f"; và {fmt.number(len(what) - limit)} thay đổi khác (chi tiết trong tệp đính kèm)" \
        if len(what) > limit else ""
    return f"{head}: {cause}; vì vậy {shown}{more}."
