"""The fields of a dossier and of a rating that the figures read, as typed records.

The store keeps each staged record as the JSON text the portal sent (personal data dropped);
the figures need 14 of a dossier's fields and 4 of a rating's. :func:`dossiers_from_json` and
:func:`ratings_from_json` decode only those (msgspec skips the rest without building it), one
record at a time, so a window of half a million dossiers is streamed, never held as dicts.
Records given as mappings (the tests, the traceability helpers) become the same types through
:meth:`Dossier.of` / :meth:`Rating.of`. An absent field reads as None, as ``dict.get`` did:
nothing in INDICATORS.md tells an absent field from a null one where the figures read them.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import msgspec

__all__ = ["Dossier", "Rating", "dossiers_from_json", "ratings_from_json", "as_dossiers", "as_ratings"]


class _Fields(msgspec.Struct, frozen=True):
    """A record's fields the figures read; ``of`` makes one from a mapping (absent → None)."""

    @classmethod
    def of(cls, record):
        if type(record) is cls:
            return record
        return cls(*[record.get(name) for name in cls.__struct_fields__])


class Dossier(_Fields, frozen=True):
    """What the figures read of one HoSo (portal-api.yaml), values exactly as received."""

    MaHoSo: Any = None
    TrangThaiHoSo: Any = None
    NgayTiepNhan: Any = None
    NgayKetThucXuLy: Any = None
    NgayHenTra: Any = None
    KenhThucHien: Any = None
    MaTTHC: Any = None
    DonViXuLy: Any = None
    DanhSachLePhi: Any = None
    DuocThanhToanTrucTuyen: Any = None
    ThongTinEForm: Any = None
    DongBoDVCQG: Any = None
    DanhSachGiayToKetQua: Any = None
    ThuXinLoi: Any = None


class Rating(_Fields, frozen=True):
    """What the figures read of one DanhGia (portal-api.yaml)."""

    MaDanhGia: Any = None
    NgayDanhGia: Any = None
    DonViXuLy: Any = None
    MucDoHaiLong: Any = None


def _decoded(texts: Iterable[str | bytes], kind: type) -> Iterator[Any]:
    decode = msgspec.json.Decoder(kind).decode
    for text in texts:
        try:
            yield decode(text)
        except msgspec.DecodeError:
            # What msgspec refuses (NaN, Infinity in a field the figures do not read) is read as
            # the store reads it (the standard library), then taken as a mapping.
            record = json.loads(text)
            if not isinstance(record, Mapping):
                raise ValueError(f"bản ghi không phải là đối tượng JSON: {str(text)[:80]!r}") from None
            yield kind.of(record)


def dossiers_from_json(texts: Iterable[str | bytes]) -> Iterator[Dossier]:
    """Each staged dossier's JSON text as a :class:`Dossier`, streamed."""
    return _decoded(texts, Dossier)


def ratings_from_json(texts: Iterable[str | bytes]) -> Iterator[Rating]:
    """Each staged rating's JSON text as a :class:`Rating`, streamed."""
    return _decoded(texts, Rating)


def as_dossiers(records: Iterable[Mapping | Dossier]) -> Iterator[Dossier]:
    return map(Dossier.of, records)


def as_ratings(records: Iterable[Mapping | Rating]) -> Iterator[Rating]:
    return map(Rating.of, records)
