"""Where a dossier belongs besides its window: its lĩnh vực and procedure attributes through
the procedure catalogue (:class:`ProcedureIndex`), and the reporting scopes of its unit through
the unit tree (:class:`Scopes`: the agency, then each direct sub-unit with everything below it).
"""
from __future__ import annotations

import unicodedata
from typing import Any, Iterable, Mapping

from ..quality.dedupe import dedupe_procedures
from .records import Dossier

__all__ = ["ProcedureIndex", "Scopes", "scopes_of", "nfc"]


def nfc(value: Any) -> Any:
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


class ProcedureIndex:
    """Catalogue look-ups: the entry of a dossier's MaTTHC, and the name of each lĩnh vực."""

    def __init__(self, procedures: Iterable[Mapping]):
        self.entries: list[Mapping] = [p for p in dedupe_procedures(procedures).records
                                       if isinstance(p, Mapping)]
        self._by_code: dict[str, list[Mapping]] = {}
        self._names: dict[str, tuple[int, str]] = {}
        for p in self.entries:
            code = nfc(p.get("MaTTHC"))
            if not isinstance(code, str):
                continue
            self._by_code.setdefault(code, []).append(p)
            field = nfc(p.get("MaLinhVuc"))
            if isinstance(field, str):
                rank = 0 if p.get("HieuLuc") == "1" else 1
                name = nfc(p.get("TenLinhVuc")) if isinstance(p.get("TenLinhVuc"), str) else ""
                if field not in self._names or rank < self._names[field][0]:
                    self._names[field] = (rank, name)
        self._cache: dict[tuple[Any, Any], Mapping | None] = {}
        self._fields: dict[tuple[Any, Any], str] = {}

    @classmethod
    def of(cls, procedures: "Iterable[Mapping] | ProcedureIndex") -> "ProcedureIndex":
        return procedures if isinstance(procedures, ProcedureIndex) else cls(procedures)

    def lookup(self, code: Any, unit: Any = None) -> Mapping | None:
        """The catalogue entry for MaTTHC ``code`` of a dossier processed by ``unit``."""
        key = (code, unit)
        if key in self._cache:
            return self._cache[key]
        candidates = self._by_code.get(nfc(code)) if isinstance(code, str) else None
        best = None
        if candidates:
            def pref(p: Mapping) -> int:
                same_unit = p.get("MaDonViThucHien") == unit
                in_force = p.get("HieuLuc") == "1"
                return (0 if same_unit else 2) + (0 if in_force else 1)
            best = min(candidates, key=pref)  # min() keeps the first of equal preference
        self._cache[key] = best
        return best

    def require(self, dossier: Dossier) -> Mapping:
        entry = self.lookup(dossier.MaTTHC, dossier.DonViXuLy)
        if entry is None:
            raise ValueError(f"hồ sơ {dossier.MaHoSo!r}: MaTTHC {dossier.MaTTHC!r} "
                             "không có trong danh mục thủ tục (hồ sơ lẽ ra đã bị loại khi kiểm tra)")
        return entry

    def field_of(self, dossier: Dossier) -> str:
        """The MaLinhVuc (NFC) of the dossier's catalogue entry."""
        key = (dossier.MaTTHC, dossier.DonViXuLy)
        hit = self._fields.get(key)
        if hit is not None:
            return hit
        field = nfc(self.require(dossier).get("MaLinhVuc"))
        if not isinstance(field, str):
            raise ValueError(f"thủ tục {dossier.MaTTHC!r} không có MaLinhVuc trong danh mục")
        self._fields[key] = field
        return field

    def field_name(self, field: str) -> str:
        return self._names.get(field, (1, ""))[1]


class Scopes:
    """The agency, its direct sub-units, and which scopes each unit belongs to."""

    def __init__(self, units: Iterable[Mapping], agency: str):
        self.agency = agency
        parent: dict[str, Any] = {}
        for u in units:
            if isinstance(u, Mapping) and isinstance(u.get("MaDonVi"), str):
                parent.setdefault(u["MaDonVi"], u.get("MaDonViCha"))
        self._parent = parent
        self.direct = sorted(code for code, up in parent.items() if up == agency and code != agency)
        self._memo: dict[Any, tuple[str, ...]] = {}

    def of(self, unit: Any) -> tuple[str, ...]:
        """The scopes (agency first) a unit belongs to; () when it is outside the agency."""
        hit = self._memo.get(unit)
        if hit is not None:
            return hit
        result: tuple[str, ...] = ()
        if unit == self.agency:
            result = (self.agency,)
        elif isinstance(unit, str):
            seen = {unit}
            current = unit
            while True:
                up = self._parent.get(current)
                if up is None or up in seen:
                    break  # no parent, unknown unit or a cycle: outside the agency
                if up == self.agency:
                    result = (self.agency, current)
                    break
                seen.add(up)
                current = up
        self._memo[unit] = result
        return result

    @property
    def order(self) -> list[str]:
        return [self.agency, *self.direct]


def scopes_of(units: Iterable[Mapping], agency: str) -> list[str]:
    """The scopes the indicators are computed for: the agency, then its direct sub-units by MaDonVi."""
    return Scopes(units, agency).order
