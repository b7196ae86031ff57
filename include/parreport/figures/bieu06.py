"""Biểu 06 (INDICATORS.md §3): one row per lĩnh vực with dossiers in it, in ascending MaLinhVuc,
then the TONG row; every dossier counted once per cell it falls in (:class:`Bieu06Tally`)."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..periods import Window
from .classify import Classification, bounds, classify_bounded
from .names import BIEU06_COLUMNS, BIEU06_LAYOUT, TOTAL_CODE, TOTAL_NAME
from .records import Dossier, as_dossiers
from .scopes import ProcedureIndex

__all__ = ["Bieu06Tally", "compute_bieu06", "bieu06_members"]


def _row(code: str, name: str, counts: list[int]) -> dict:
    row: dict[str, Any] = {"MaLinhVuc": code, "TenLinhVuc": name}
    i = 0
    for group, cols in BIEU06_LAYOUT:
        row[group] = {}
        for col in cols:
            row[group][col] = counts[i]
            i += 1
    return row


class Bieu06Tally:
    """The Biểu 06 counts of the dossiers added so far (with ``members``, the MaHoSo behind
    each cell as well)."""

    def __init__(self, index: ProcedureIndex, members: dict[str, dict[str, list]] | None = None):
        self.index = index
        self.members = members
        self.counts: dict[str, list[int]] = {}

    def add(self, d: Dossier, c: Classification) -> None:
        if not c.received:
            return
        cells = c.column_indexes()
        if not cells:
            return  # received, but finished before S or received after E
        field = self.index.field_of(d)
        row = self.counts.get(field)
        if row is None:
            row = self.counts[field] = [0] * len(BIEU06_COLUMNS)
        for i in cells:
            row[i] += 1
        if self.members is not None:
            for target in (field, TOTAL_CODE):
                bucket = self.members.setdefault(target, {})
                for name in c.cells():
                    bucket.setdefault(name, []).append(c.ma_ho_so)

    def merge(self, counts: dict[str, list[int]]) -> None:
        """Add another tally's :attr:`counts` (of other dossiers) to these."""
        for field, cells in counts.items():
            row = self.counts.get(field)
            if row is None:
                self.counts[field] = list(cells)
            else:
                for i, n in enumerate(cells):
                    row[i] += n

    def rows(self) -> list[dict]:
        """Biểu 06 rows (report-api.yaml Bieu06Dong): one per non-empty lĩnh vực in ascending
        MaLinhVuc, then the "TONG" / "Tổng cộng" row (always present)."""
        rows = []
        total = [0] * len(BIEU06_COLUMNS)
        for field in sorted(self.counts):
            cells = self.counts[field]
            if not any(cells):  # §3: an all-zero lĩnh vực row is left out
                continue
            rows.append(_row(field, self.index.field_name(field), cells))
            total = [a + b for a, b in zip(total, cells)]
        rows.append(_row(TOTAL_CODE, TOTAL_NAME, total))
        return rows


def _tally(dossiers: Iterable[Mapping | Dossier], procedures, window: Window, members=None) -> Bieu06Tally:
    tally = Bieu06Tally(ProcedureIndex.of(procedures), members)
    start, end, end_date = bounds(window)
    for d in as_dossiers(dossiers):
        tally.add(d, classify_bounded(d, start, end, end_date))
    return tally


def compute_bieu06(dossiers: Iterable[Mapping | Dossier], procedures: Iterable[Mapping] | ProcedureIndex,
                   window: Window) -> list[dict]:
    """Biểu 06 rows (report-api.yaml Bieu06Dong): one per non-empty lĩnh vực in ascending
    MaLinhVuc, then the "TONG" / "Tổng cộng" row (always present)."""
    return _tally(dossiers, procedures, window).rows()


def bieu06_members(dossiers: Iterable[Mapping | Dossier], procedures: Iterable[Mapping] | ProcedureIndex,
                   window: Window) -> dict[str, dict[str, list]]:
    """Traceability: ``{MaLinhVuc or "TONG": {"DaGiaiQuyet.QuaHan": [MaHoSo, ...], ...}}``,
    MaHoSo in input order; a cell with no dossier is absent."""
    members: dict[str, dict[str, list]] = {}
    _tally(dossiers, procedures, window, members)
    return members
