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

__all__ = ["DedupeResult", "dedupe", "dedupe_by", "dedupe_procedures"]


@dataclass
class DedupeResult:
    records: list[dict] = field(default_factory=list)  # survivors, in first-delivery order
    duplicates: int = 0  # copies dropped
    duplicate_keys: list[str] = field(default_factory=list)  # keys that had more than one copy


def _rank_time(rec: Any) -> str:
    """NgayCapNhat as a sortable key; absent or unreadable = "" = the oldest possible.
    Valid yyyyMMddHHmmss strings order exactly as the instants they name."""
    value = rec.get("NgayCapNhat") if isinstance(rec, dict) else None
    return value if valid_timestamp(value) else ""


def _nfc(value: Any) -> str | None:
    if not isinstance(value, str) or value == "":
        return None
    return unicodedata.normalize("NFC", value)


def dedupe_by(records: Iterable[dict], key: Callable[[Any], Hashable | None]) -> DedupeResult:
    """Keep one copy per ``key(record)``: the latest NgayCapNhat, ties to the last delivered.

    Records for which ``key`` returns None pass through, each as its own record.
    """
    slots: list[Any] = []  # output order: first delivery of each key
    slot_of: dict[Hashable, int] = {}
    best_time: dict[Hashable, str] = {}
    copies: dict[Hashable, int] = {}
    dropped = 0
    for rec in records:
        k = key(rec)
        if k is None:
            slots.append(rec)
            continue
        moment = _rank_time(rec)
        if k not in slot_of:
            slot_of[k] = len(slots)
            slots.append(rec)
            best_time[k] = moment
            copies[k] = 1
            continue
        dropped += 1
        copies[k] += 1
        # ">=": a later delivery with the same NgayCapNhat (or both unusable) wins.
        if moment >= best_time[k]:
            slots[slot_of[k]] = rec
            best_time[k] = moment
    dup_keys = [str(k) for k, n in copies.items() if n > 1]
    return DedupeResult(records=slots, duplicates=dropped, duplicate_keys=dup_keys)


def dedupe(records: Iterable[dict]) -> DedupeResult:
    """De-duplicate dossiers by MaHoSo (§2)."""
    return dedupe_by(records, lambda r: _nfc(r.get("MaHoSo")) if isinstance(r, dict) else None)


def dedupe_procedures(records: Iterable[dict]) -> DedupeResult:
    """De-duplicate catalogue entries delivered twice while paging (portal-api.yaml: "a record
    that changes may be returned a second time").  A catalogue entry is identified by
    (MaTTHC, MaDonViThucHien): the same national procedure may be carried out by several units,
    and each is its own entry.  Same tie rules as :func:`dedupe`."""
    def key(r: Any):
        if not isinstance(r, dict):
            return None
        code = _nfc(r.get("MaTTHC"))
        if code is None:
            return None
        unit = r.get("MaDonViThucHien")
        return (code, _nfc(unit) or "")
    return dedupe_by(records, key)
