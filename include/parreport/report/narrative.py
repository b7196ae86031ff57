"""The report's generated text, section by section: overview, comparison with the previous
quarter, indicators against targets, data quality."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Iterable, Mapping

from ..figures import INDICATOR_NAMES, TOTAL_CODE
from ..periods import Window
from .. import fmt
from .view import (SHORT_NAMES, View, cell, indicator_gap, lower_first, make_view, period_text, quarter_text, round2)

__all__ = ["narrative", "narrative_of"]


def _share(part: int, whole: int) -> str:
    return fmt.percent(round2(Fraction(100 * part, whole))) if whole else fmt.DASH


def _change(name: str, old: int, new: int, unit: str = "hồ sơ") -> str:
    if new == old:
        return f"{name} không đổi ({fmt.number(new)} {unit})"
    verb = "tăng" if new > old else "giảm"
    rel = f", {fmt.decimal(round2(Fraction(100 * abs(new - old), old)), 1)} %" if old else ""
    return f"{name} {verb} {fmt.number(abs(new - old))} {unit} ({fmt.number(old)} → {fmt.number(new)}{rel})"


def narrative(content: Mapping, *, agency: str, agency_name: str, window: Window,
              history: Iterable[tuple[Window, Mapping]] = (),
              unit_names: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """The report's generated text, by section: "tong_quan", "so_sanh", "chi_tieu", "chat_luong"."""
    return narrative_of(make_view(content, agency, agency_name, window, history, unit_names))


def narrative_of(v: View) -> dict[str, list[str]]:
    t = v.current.total
    tn, dg, dang = (lambda c: cell(t, f"TiepNhan.{c}")), (lambda c: cell(t, f"DaGiaiQuyet.{c}")), \
        (lambda c: cell(t, f"DangGiaiQuyet.{c}"))
    new = tn("TrucTuyen") + tn("TrucTiepBuuChinh")
    overview = [
        f"Trong kỳ báo cáo {quarter_text(v.window)} ({period_text(v.window)}), {v.agency_name} nhận giải quyết "
        f"{fmt.number(tn('Tong'))} hồ sơ thủ tục hành chính, trong đó {fmt.number(tn('KyTruocChuyenSang'))} hồ sơ từ kỳ "
        f"trước chuyển sang và {fmt.number(new)} hồ sơ mới tiếp nhận ({fmt.number(tn('TrucTuyen'))} hồ sơ trực tuyến, "
        f"chiếm {_share(tn('TrucTuyen'), new)} hồ sơ mới; {fmt.number(tn('TrucTiepBuuChinh'))} hồ sơ trực tiếp hoặc "
        f"qua dịch vụ bưu chính).",
        f"Đã giải quyết {fmt.number(dg('Tong'))} hồ sơ: {fmt.number(dg('TruocHan'))} trước hạn, {fmt.number(dg('DungHan'))} "
        f"đúng hạn, {fmt.number(dg('QuaHan'))} quá hạn (tỷ lệ giải quyết trước hạn và đúng hạn "
        f"{_share(dg('TruocHan') + dg('DungHan'), dg('Tong'))}). Đến hết kỳ còn {fmt.number(dang('Tong'))} hồ sơ "
        f"đang giải quyết, trong đó {fmt.number(dang('TrongHan'))} hồ sơ trong hạn và {fmt.number(dang('QuaHan'))} "
        f"hồ sơ đã quá hạn.",
    ]
    rows = [r for r in v.content.get("Bieu06") or [] if r.get("MaLinhVuc") != TOTAL_CODE]
    if rows:
        busiest = max(rows, key=lambda r: (cell(r, "TiepNhan.Tong"), r.get("MaLinhVuc") or ""))
        late = sorted((r for r in rows if cell(r, "DaGiaiQuyet.QuaHan") + cell(r, "DangGiaiQuyet.QuaHan")),
                      key=lambda r: -(cell(r, "DaGiaiQuyet.QuaHan") + cell(r, "DangGiaiQuyet.QuaHan")))
        text = (f"Số liệu trải trên {len(rows)} lĩnh vực; lĩnh vực nhận nhiều hồ sơ nhất là "
                f"{busiest.get('TenLinhVuc')} ({fmt.number(cell(busiest, 'TiepNhan.Tong'))} hồ sơ).")
        if late:
            names = ", ".join(f"{r.get('TenLinhVuc')} "
                              f"({fmt.number(cell(r, 'DaGiaiQuyet.QuaHan') + cell(r, 'DangGiaiQuyet.QuaHan'))})"
                              for r in late[:3])
            text += f" Hồ sơ quá hạn (đã và đang giải quyết) tập trung ở: {names}."
        else:
            text += " Không có hồ sơ quá hạn."
        overview.append(text)

    comparison: list[str] = []
    prev = v.previous
    if prev is None:
        comparison.append("Chưa có số liệu quý trước để so sánh.")
    else:
        pt = prev.total
        parts = [_change(label, cell(pt, path), cell(t, path)) for path, label in (
            ("TiepNhan.Tong", "số hồ sơ nhận giải quyết"),
            ("TiepNhan.TrucTuyen", "số hồ sơ mới tiếp nhận trực tuyến"),
            ("DaGiaiQuyet.Tong", "số hồ sơ đã giải quyết"),
            ("DaGiaiQuyet.QuaHan", "số hồ sơ giải quyết quá hạn"),
            ("DangGiaiQuyet.QuaHan", "số hồ sơ đang giải quyết đã quá hạn"))]
        comparison.append(f"So với {quarter_text(prev.window)}: " + "; ".join(parts) + ".")
        old_items, new_items = prev.agency_items(v.agency), v.current.agency_items(v.agency)
        rose, fell, same = [], [], 0
        for code in INDICATOR_NAMES:
            a, b = (old_items.get(code) or {}).get("GiaTri"), (new_items.get(code) or {}).get("GiaTri")
            if a is None or b is None:
                continue
            delta = Decimal(str(b)) - Decimal(str(a))
            text = (f"{lower_first(SHORT_NAMES[code])} "
                    f"{'tăng' if delta > 0 else 'giảm'} {fmt.decimal(abs(delta))} điểm phần trăm "
                    f"({fmt.percent(a)} → {fmt.percent(b)})")
            if delta > 0:
                rose.append(text)
            elif delta < 0:
                fell.append(text)
            else:
                same += 1
        if rose:
            comparison.append("Các chỉ tiêu tăng: " + "; ".join(rose) + ".")
        if fell:
            comparison.append("Các chỉ tiêu giảm: " + "; ".join(fell) + ".")
        if same:
            comparison.append(f"{same} chỉ tiêu giữ nguyên giá trị so với quý trước.")

    targets: list[str] = []
    items = list(v.current.agency_items(v.agency).values())
    met = [i for i in items if i.get("DatMucTieu") is True]
    missed = [i for i in items if i.get("DatMucTieu") is False]
    empty = [i for i in items if not i.get("MauSo")]
    unset = [i for i in items if i.get("MauSo") and i.get("MucTieu") is None]
    targets.append(f"Ở phạm vi toàn đơn vị, {len(met)}/{len(items)} chỉ tiêu đạt mục tiêu, "
                   f"{len(missed)} chỉ tiêu không đạt.")
    if missed:
        lines = []
        for i in missed:
            gap = indicator_gap(i)
            short = "chưa đến 0,01" if gap is not None and gap == 0 else fmt.decimal(abs(gap)) if gap is not None else fmt.DASH
            lines.append(f"{INDICATOR_NAMES.get(i['MaChiTieu'], i['MaChiTieu'])}: đạt {fmt.percent(i.get('GiaTri'))} "
                         f"so với mục tiêu {fmt.target(i.get('MucTieu'), i.get('SoSanh'))}, thấp hơn {short} điểm phần trăm")
        targets.append("Các chỉ tiêu không đạt: " + "; ".join(lines) + ".")
    if empty:
        targets.append("Không có số liệu trong kỳ (mẫu số bằng 0) nên không đánh giá: "
                       + "; ".join(SHORT_NAMES.get(i["MaChiTieu"], i["MaChiTieu"]) for i in empty) + ".")
    if unset:
        targets.append("Chưa đặt mục tiêu: " + "; ".join(SHORT_NAMES.get(i["MaChiTieu"], i["MaChiTieu"])
                                                         for i in unset) + ".")
    sub_missed = [(s, [i for i in v.content.get("ChiTieu") or [] if i.get("PhamVi") == s
                       and i.get("DatMucTieu") is False]) for s in v.scopes if s != v.agency]
    sub_missed = [(s, m) for s, m in sub_missed if m]
    if sub_missed:
        targets.append("Ở các đơn vị trực thuộc: " + "; ".join(
            f"{v.unit_name(s)} có {len(m)} chỉ tiêu không đạt" for s, m in sub_missed) + ".")

    q = v.content.get("ChatLuongDuLieu") or {}
    checks = q.get("KiemTra") or []
    failed = [c for c in checks if c.get("KetQua") == "KHONG_DAT"]
    quality = [f"Số liệu được tính từ {fmt.number(q.get('SoBanGhi'))} hồ sơ lấy từ Cổng Dịch vụ công của tỉnh "
               f"(sau khi loại bản ghi trùng); {fmt.number(q.get('SoBanGhiLoai'))} hồ sơ bị loại khỏi số liệu do vi "
               f"phạm quy tắc kiểm tra; {fmt.number(q.get('SoBanGhiDaSua'))} hồ sơ đã được cán bộ quản lý dữ liệu "
               f"hiệu chỉnh trước khi tính."]
    if failed:
        quality.append(f"{len(failed)}/{len(checks)} nội dung kiểm tra không đạt: " + "; ".join(
            f"{c.get('Ten')} ({fmt.label('muc_do', c.get('MucDo'))}, {fmt.number(c.get('SoLoi'))} lỗi)"
            for c in failed) + ".")
    else:
        quality.append(f"Tất cả {len(checks)} nội dung kiểm tra đều đạt.")
    diffs = q.get("DoiSoatCongDVC") or []
    quality.append(f"Đối soát Biểu 06 với số liệu của Cổng DVC: {len(diffs)} ô chênh lệch."
                   if diffs else "Đối soát Biểu 06 với số liệu của Cổng DVC: không có chênh lệch.")
    return {"tong_quan": overview, "so_sanh": comparison, "chi_tieu": targets, "chat_luong": quality}
