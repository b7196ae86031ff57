"""Indicator targets (INDICATORS.md §4): defaults by year, and per-year configuration.

"Targets are configuration, one table per year, with these defaults; the report carries the
target of the quarter's year Y (Q1 2025, whose window opens on 15 Dec 2024, takes the 2025
target)."  So callers pass ``window.year``, never the year of the window's start.

Configuration shape (``overrides``)::

    {"default": {"HS_TRUC_TUYEN": 55},          # applies to every year
     "2026":    {"HS_TRUC_TUYEN": 60, "HL_HAI_LONG": null}}   # this year only; wins over "default"

Precedence: the year's table > the configured "default" table > the built-in defaults.
A value of ``null`` means "no target set" (MucTieu null, DatMucTieu null).  Numbers (and
numeric strings) become exact ``Decimal`` (a float is read through its shortest repr, so
``55.5`` is ``Decimal("55.5")``).  An unknown indicator code, a boolean, a non-numeric value or
a target outside 0–100 is a configuration error (ValueError), not something to guess around.
"""
from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Mapping

__all__ = ["INDICATOR_CODES", "DEFAULT_TARGETS", "hl_hai_long_target", "default_target",
           "targets_for_year"]


def hl_hai_long_target(year: int) -> Decimal:
    """HL_HAI_LONG: 90 for 2025 and earlier, 95 from 2030; in between 90 + (year − 2025)."""
    if year <= 2025:
        return Decimal(90)
    if year >= 2030:
        return Decimal(95)
    return Decimal(90 + (year - 2025))


# In the catalogue's order (§4); the value is a fixed target or a function of the year.
DEFAULT_TARGETS: dict[str, Decimal | Callable[[int], Decimal]] = {
    "TTHC_MOT_CUA": Decimal(100),
    "TTHC_BON_TAI_CHO": Decimal(20),
    "TTHC_TRUC_TUYEN": Decimal(100),
    "TTHC_THANH_TOAN_TRUC_TUYEN": Decimal(80),
    "HS_TRUC_TUYEN": Decimal(50),
    "HS_THANH_TOAN_TRUC_TUYEN": Decimal(30),
    "HS_DUNG_HAN": Decimal(100),
    "HS_XIN_LOI": Decimal(100),
    "HS_KET_QUA_DIEN_TU": Decimal(50),
    "HS_EFORM_TU_DONG": Decimal(20),
    "HS_DONG_BO_DVCQG": Decimal(100),
    "HL_HAI_LONG": hl_hai_long_target,
}
INDICATOR_CODES: tuple[str, ...] = tuple(DEFAULT_TARGETS)


def default_target(code: str, year: int) -> Decimal:
    value = DEFAULT_TARGETS[code]
    return value(year) if callable(value) else value


def _to_target(code: str, value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"mục tiêu {code} ({where}) không phải là số: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"mục tiêu {code} ({where}) không phải là số hữu hạn: {value!r}")
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"mục tiêu {code} ({where}) không phải là số: {value!r}") from None
    else:
        raise ValueError(f"mục tiêu {code} ({where}) không phải là số: {value!r}")
    if not result.is_finite() or result < 0 or result > 100:
        raise ValueError(f"mục tiêu {code} ({where}) phải nằm trong khoảng 0–100 (%): {value!r}")
    return result


def _apply(table: Mapping[str, Any] | None, into: dict[str, Decimal | None], where: str) -> None:
    if table is None:
        return
    if not isinstance(table, Mapping):
        raise ValueError(f"bảng mục tiêu {where} phải là một ánh xạ MaChiTieu -> số")
    for code, value in table.items():
        if code not in DEFAULT_TARGETS:
            raise ValueError(f"mã chỉ tiêu không có trong danh mục: {code!r} ({where})")
        into[code] = _to_target(code, value, where)


def targets_for_year(year: int, overrides: Mapping[str, Any] | None = None) -> dict[str, Decimal | None]:
    """MaChiTieu -> target in percent (Decimal) or None (no target) for the report year ``year``."""
    if isinstance(year, bool) or not isinstance(year, int):
        raise ValueError(f"năm không hợp lệ: {year!r}")
    result: dict[str, Decimal | None] = {code: default_target(code, year) for code in INDICATOR_CODES}
    if overrides:
        for key in overrides:
            if str(key) != "default" and not str(key).isdigit():
                raise ValueError(f"khóa bảng mục tiêu không hợp lệ: {key!r} (dùng năm hoặc 'default')")
        _apply(overrides.get("default"), result, "default")
        year_table = overrides.get(str(year), overrides.get(year))  # type: ignore[call-overload]
        _apply(year_table, result, str(year))
    return result
