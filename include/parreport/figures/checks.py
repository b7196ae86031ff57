"""The checks on Biểu 06 before anything is sent: the identities of INDICATORS.md §2 on every
row (:func:`check_identities`), and the reconciliation with the portal's own Biểu 06 for the
report's data-quality section (:func:`reconcile_bieu06`, :func:`portal_bieu06_problems`)."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from .names import BIEU06_COLUMNS, TOTAL_CODE, cell, is_int
from .scopes import nfc

__all__ = ["check_identities", "reconcile_bieu06", "portal_bieu06_problems"]


def check_identities(rows: list[dict]) -> list[str]:
    """The identities of §2 on every Biểu 06 row, and TONG = the sum of the lĩnh vực rows.
    Returns problems in Vietnamese; an empty list means everything holds."""
    problems: list[str] = []
    field_rows: list[Mapping] = []
    total_rows: list[Mapping] = []
    for row in rows:
        code = row.get("MaLinhVuc") if isinstance(row, Mapping) else None
        label = f"Dòng {code!r}" if code != TOTAL_CODE else "Dòng TONG"
        if not isinstance(row, Mapping):
            problems.append(f"Một dòng Biểu 06 không phải là đối tượng: {row!r}")
            continue
        values = {}
        for column in BIEU06_COLUMNS:
            v = cell(row, column)
            if not is_int(v) or v < 0:
                problems.append(f"{label}: ô {column} phải là số nguyên không âm, nhận được {v!r}")
            else:
                values[column] = v
        (total_rows if code == TOTAL_CODE else field_rows).append(row)
        if len(values) != len(BIEU06_COLUMNS):
            continue
        g = values.get

        def need(lhs: str, parts: list[str], desc: str) -> None:
            rhs = sum(g(p) for p in parts)
            if g(lhs) != rhs:
                terms = " + ".join(f"{p} ({g(p)})" for p in parts)
                problems.append(f"{label}: {lhs} ({g(lhs)}) khác {desc} {terms} = {rhs}")

        need("TiepNhan.Tong", ["TiepNhan.KyTruocChuyenSang", "TiepNhan.TrucTuyen",
                               "TiepNhan.TrucTiepBuuChinh"], "tổng")
        need("DaGiaiQuyet.Tong", ["DaGiaiQuyet.TruocHan", "DaGiaiQuyet.DungHan",
                                  "DaGiaiQuyet.QuaHan"], "tổng")
        need("DangGiaiQuyet.Tong", ["DangGiaiQuyet.TrongHan", "DangGiaiQuyet.QuaHan"], "tổng")
        need("TiepNhan.Tong", ["DaGiaiQuyet.Tong", "DangGiaiQuyet.Tong"], "tổng đã giải quyết và đang giải quyết")
    if len(total_rows) != 1:
        problems.append(f"Biểu 06 phải có đúng một dòng TONG, đang có {len(total_rows)}")
    else:
        total = total_rows[0]
        if rows and rows[-1] is not total:
            problems.append("Dòng TONG phải là dòng cuối cùng của Biểu 06")
        for column in BIEU06_COLUMNS:
            parts = [cell(r, column) for r in field_rows]
            if not all(is_int(p) for p in parts) or not is_int(cell(total, column)):
                continue  # already reported above
            if cell(total, column) != sum(parts):
                problems.append(f"Dòng TONG: ô {column} ({cell(total, column)}) khác tổng các dòng "
                                f"lĩnh vực ({sum(parts)})")
    codes = [r.get("MaLinhVuc") for r in field_rows]
    if len(set(map(str, codes))) != len(codes):
        problems.append("Biểu 06 có mã lĩnh vực bị lặp")
    return problems


# ---------------------------------------------------------------------------------------------
# Reconciliation with the portal's own Biểu 06
# ---------------------------------------------------------------------------------------------

def _portal_value(value: Any) -> int | None:
    """A portal cell as an int; absent/null = 0; None = not comparable."""
    if value is None:
        return 0
    if is_int(value):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _portal_table(portal: Iterable[Mapping]) -> tuple[dict[str, list[int | None]], list[str]]:
    table: dict[str, list[int | None]] = {}
    problems: list[str] = []
    for i, row in enumerate(portal or []):
        if not isinstance(row, Mapping):
            problems.append(f"Dòng thứ {i + 1} của Biểu 06 từ Cổng DVC không phải là đối tượng; bỏ qua")
            continue
        code = nfc(row.get("MaLinhVuc"))
        if not isinstance(code, str) or code == "":
            problems.append(f"Dòng thứ {i + 1} của Biểu 06 từ Cổng DVC không có MaLinhVuc; bỏ qua")
            continue
        if code == TOTAL_CODE:
            continue  # §5: a TONG row from the portal is ignored
        acc = table.setdefault(code, [0] * len(BIEU06_COLUMNS))
        for j, column in enumerate(BIEU06_COLUMNS):
            raw = cell(row, column)
            v = _portal_value(raw)
            if v is None:
                problems.append(f"Cổng DVC, lĩnh vực {code!r}, ô {column}: giá trị {raw!r} không phải "
                                "số nguyên; không đối soát được ô này")
            if acc[j] is None or v is None:
                acc[j] = None
            else:
                acc[j] += v  # type: ignore[operator]
    return table, problems


def reconcile_bieu06(ours: list[dict], portal: list[dict]) -> list[dict]:
    """Every cell of a lĩnh vực row where the portal's figure (CongDVC) differs from ours
    (TinhLai), as ChatLuongDuLieu.DoiSoatCongDVC items, ordered by MaLinhVuc then column.
    The portal's TONG row is ignored; a row missing on one side compares with zeros."""
    theirs, _ = _portal_table(portal)
    mine: dict[str, list[int]] = {}
    for row in ours:
        code = nfc(row.get("MaLinhVuc"))
        if code == TOTAL_CODE:
            continue
        acc = mine.setdefault(code, [0] * len(BIEU06_COLUMNS))
        for j, column in enumerate(BIEU06_COLUMNS):
            acc[j] += cell(row, column) or 0
    zeros = [0] * len(BIEU06_COLUMNS)
    items = []
    for code in sorted(set(mine) | set(theirs)):
        a, b = mine.get(code, zeros), theirs.get(code, zeros)
        for j, column in enumerate(BIEU06_COLUMNS):
            if b[j] is None:
                continue  # not comparable (see portal_bieu06_problems)
            if a[j] != b[j]:
                items.append({"MaLinhVuc": code, "Cot": column, "CongDVC": b[j], "TinhLai": a[j]})
    return items


def portal_bieu06_problems(portal: list[dict]) -> list[str]:
    """Portal Biểu 06 cells/rows that could not be reconciled (Vietnamese, for the report)."""
    return _portal_table(portal)[1]
