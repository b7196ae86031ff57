"""De-duplication of delivered records (INDICATORS.md §2, last bullet).

"The same MaHoSo can reach the pipeline more than once; the copy with the latest NgayCapNhat
is the dossier, and of copies with the same NgayCapNhat the one delivered last (in the order of
the agency's /ho-so listing for the window, page after page). A copy whose NgayCapNhat is absent
or unreadable counts as the oldest. De-duplication comes before validation: only the surviving
copy is judged."

Readings:

* Input order is delivery order.  Output order: each surviving copy stands at the position where
  its MaHoSo was *first* delivered (stable, and independent of which copy won).
* Copies whose NgayCapNhat is absent or unreadable all rank as "oldest"; among themselves the
  one delivered last wins (the same tie rule as equal NgayCapNhat).
* A record without a usable MaHoSo (absent, "" or not a string) is never merged with anything:
  it passes through as its own record, and validation quarantines it.
* MaHoSo values are compared after Unicode NFC normalisation (the portal does not promise a
  normalisation form); the surviving record itself is returned unchanged.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterable

from .contract import valid_timestamp

__all__ = ["DedupeResult", "Deduper", "dedupe", "dedupe_by", "dedupe_procedures", "dossier_key", "procedure_key"]


@dataclass
class DedupeResult:
    records: list[dict] = field(default_factory=list)  # survivors, in first-delivery order
    duplicates: int = 0  # copies dropped
    duplicate_keys: list[str] = field(default_factory=list)  # keys that had more than one copy


def _updated(rec: Any) -> Any:
    return rec.get("NgayCapNhat") if isinstance(rec, dict) else None


def _rank(value: Any) -> str:
    """NgayCapNhat as a sortable key; absent or unreadable = "" = the oldest possible.
    Valid yyyyMMddHHmmss strings order exactly as the instants they name."""
    return value if valid_timestamp(value) else ""


def _nfc(value: Any) -> str | None:
    if not isinstance(value, str) or value == "":
        return None
    return unicodedata.normalize("NFC", value)


class Deduper:
    """:func:`dedupe_by` one record at a time, for a stream too long to hold: :meth:`offer`
    says where a record goes — a new slot (``(slot, False)``), the slot of an earlier copy it
    replaces (``(slot, True)``), or nowhere (``None``, an older copy). Slots are numbered in
    first-delivery order, so the survivors in slot order are exactly ``dedupe_by``'s output."""

    def __init__(self, key: Callable[[Any], Hashable | None]):
        self.key = key
        self.slots = 0
        self.slot_of: dict[Hashable, int] = {}
        self.best_time: dict[Hashable, Any] = {}  # the winning copy's NgayCapNhat (as delivered, or its rank)
        self.copies: dict[Hashable, int] = {}
        self.dropped = 0

    def offer(self, rec: Any) -> tuple[int, bool] | None:
        k = self.key(rec)
        if k is None:
            self.slots += 1
            return self.slots - 1, False
        slot = self.slot_of.get(k)
        if slot is None:
            self.slot_of[k] = slot = self.slots
            self.slots += 1
            self.best_time[k] = _updated(rec)  # read as a rank only if another copy comes
            self.copies[k] = 1
            return slot, False
        self.dropped += 1
        self.copies[k] += 1
        moment = _rank(_updated(rec))
        # ">=": a later delivery with the same NgayCapNhat (or both unusable) wins.
        if moment >= _rank(self.best_time[k]):
            self.best_time[k] = moment
            return slot, True
        return None

    def duplicate_keys(self) -> list[str]:
        return [str(k) for k, n in self.copies.items() if n > 1]


def dedupe_by(records: Iterable[dict], key: Callable[[Any], Hashable | None]) -> DedupeResult:
    """Keep one copy per ``key(record)``: the latest NgayCapNhat, ties to the last delivered.

    Records for which ``key`` returns None pass through, each as its own record.
    """
    d = Deduper(key)
    slots: list[Any] = []  # output order: first delivery of each key
    for rec in records:
        placed = d.offer(rec)
        if placed is None:
            continue
        slot, replaces = placed
        if replaces:
            slots[slot] = rec
        else:
            slots.append(rec)
    return DedupeResult(records=slots, duplicates=d.dropped, duplicate_keys=d.duplicate_keys())


def dossier_key(r: Any) -> str | None:
    """A dossier's identity: its MaHoSo after NFC normalisation (None: never merged)."""
    return _nfc(r.get("MaHoSo")) if isinstance(r, dict) else None


def procedure_key(r: Any) -> tuple[str, str] | None:
    """A catalogue entry's identity: (MaTTHC, MaDonViThucHien), NFC-normalised."""
    if not isinstance(r, dict):
        return None
    code = _nfc(r.get("MaTTHC"))
    if code is None:
        return None
    return (code, _nfc(r.get("MaDonViThucHien")) or "")


def dedupe(records: Iterable[dict]) -> DedupeResult:
    """De-duplicate dossiers by MaHoSo (§2)."""
    return dedupe_by(records, dossier_key)


def dedupe_procedures(records: Iterable[dict]) -> DedupeResult:
    """De-duplicate catalogue entries delivered twice while paging (portal-api.yaml: "a record
    that changes may be returned a second time").  A catalogue entry is identified by
    (MaTTHC, MaDonViThucHien): the same national procedure may be carried out by several units,
    and each is its own entry.  Same tie rules as :func:`dedupe`."""
    return dedupe_by(records, procedure_key)
