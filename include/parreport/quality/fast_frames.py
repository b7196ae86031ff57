"""The frames of :mod:`.frames` for records that fit the contract's shape exactly, built fast.

Almost every staged record is well formed: each field the contract defines is absent, null or
of its JSON kind, nested lists hold objects, and nothing else is there (extraction keeps only
the contract's fields). msgspec decodes such a record straight from the store's JSON text
into a struct that declares exactly that shape (``forbid_unknown_fields``, no coercion); a
record it refuses — a type error, an unknown field, ``3.0`` in a count, ``NaN``, a record that
is not an object — is decoded as it is and flattened by :func:`.frames.record_columns`, the
general reading, which is what defines every column.

For a record that fits, most facts of the general reading are known without looking: a text
field holds a string or nothing, so its ``kieu:`` column is ``string`` or ``absent``; there is
no field the contract does not define, so ``ngay_ngoai_hop_dong`` is ``khong_co``; null and
absent read the same in every column. What is left is done column by column over the structs
(attribute reads, no type dispatch). Both readings give the same frame, row for row and column
for column (tests/quality/test_fast_frames.py, on the fixtures, the sandbox's data and
generated records).
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from operator import attrgetter
from typing import Any, Iterable, Iterator, Optional, Union

import msgspec
from msgspec.structs import astuple
import numpy as np
import pandas as pd

from ..store.codec import json_loads
from .contract import ENUM, INT, LIST, NUM, OBJ, STR, TS, Spec
from .frames import (ABSENT, KIND_FIELDS, REF_FIELD, derived_dossier_columns, frame_of, record_columns,
                     timestamp_columns, typed_chunk)

__all__ = ["chunk_from_texts", "frame_from_texts"]

_TEXT_KINDS = (STR, TS, ENUM)


def _python_type(spec: Spec, name: str) -> Any:
    """The type msgspec decodes a field of ``spec`` into: exactly its JSON kind, or null."""
    k = spec.kind
    if k in _TEXT_KINDS:
        return Optional[str]
    if k == NUM:
        return Union[int, float, None]
    if k == INT:
        return Optional[int]
    if k == OBJ:
        return Optional[_struct(name, spec.fields or {})]
    if k == LIST:
        if spec.item is None or spec.item.kind != OBJ:
            raise ValueError(f"{name}: the fast path knows lists of objects only")
        return Optional[list[_struct(name + "Muc", spec.item.fields or {})]]
    raise ValueError(f"{name}: unknown kind {k}")


def _struct(name: str, fields: dict[str, Spec]) -> type:
    """gc=False: decoded records hold no cycles, so the collector need not track them."""
    return msgspec.defstruct(name, [(key, _python_type(spec, name + key), None) for key, spec in fields.items()],
                             forbid_unknown_fields=True, gc=False)


_DECODERS: dict[str, msgspec.json.Decoder] = {}


def _decoder(kind: str) -> msgspec.json.Decoder:
    if kind not in _DECODERS:
        _DECODERS[kind] = msgspec.json.Decoder(_struct("_", KIND_FIELDS[kind]))
    return _DECODERS[kind]


def _number_type(v: Any) -> str:
    """The JSON type of a decoded number (an int, or a finite float: msgspec reads no NaN)."""
    return "integer" if type(v) is int or v.is_integer() else "number"


def _kieu(spec: Spec, vals: list) -> list[str]:
    k = spec.kind
    if k in _TEXT_KINDS:
        return ["string" if v else ABSENT for v in vals]
    if k in (NUM, INT):
        return [ABSENT if v is None else _number_type(v) for v in vals]
    word = "array" if k == LIST else "object"
    return [ABSENT if v is None else word for v in vals]


def _merged_type(spec: Spec, values: list) -> str:
    """kieu of a field met several times (in the items of a list): the set of its types, sorted
    and joined by ``|``; ``absent`` when none is there."""
    if spec.kind in _TEXT_KINDS:
        return "string" if any(values) else ABSENT
    types = {_number_type(v) for v in values if v is not None}
    return "|".join(sorted(types)) if types else ABSENT


def _struct_frame(kind: str, seqs: list[int], recs: list) -> dict[str, list]:
    """The columns of :func:`.frames.records_frame` for records decoded into the kind's struct."""
    fields = KIND_FIELDS[kind]
    n = len(recs)
    cols: dict[str, list] = {"seq": seqs}
    ref = list(map(attrgetter(REF_FIELD[kind]), recs))
    cols["ref"] = [v or None for v in ref]
    cols["kieu:$"] = ["object"] * n
    deep: dict[str, list] = {}
    # one tuple per field (the struct's fields are the contract's, in order): a pass over each
    # record, not over every record once per field
    by_field = zip(*map(astuple, recs)) if recs else ([] for _ in fields)
    for (key, spec), vals in zip(fields.items(), by_field):
        k = spec.kind
        cols[f"kieu:{key}"] = _kieu(spec, vals)
        if k == ENUM:
            cols[f"ma:{key}"] = [v or None for v in vals]
        elif k == TS:
            timestamp_columns(cols, key, [v or None for v in vals])
        elif k == STR and not spec.personal:
            cols[key] = [v or None for v in vals]
        if k == LIST:
            _list_columns(key, spec.item, vals, n, deep)
        elif k == OBJ:
            _object_columns(key, spec, vals, n, deep)
    cols.update(deep)
    cols["ngay_ngoai_hop_dong"] = ["khong_co"] * n  # the struct forbids every field the contract does not define
    return cols


def _child_columns(prefix: str, fields: dict[str, Spec], n: int, deep: dict[str, list]) -> list:
    """(key, spec, kieu column, ma column | None, ngay column | None) for each field below."""
    out = []
    for key, spec in fields.items():
        if spec.kind in (OBJ, LIST):  # the contract nests two levels deep, no more
            raise ValueError(f"{prefix}.{key}: the fast path knows two levels of nesting")
        name = f"{prefix}.{key}"
        kieu = deep[f"kieu:{name}"] = [ABSENT] * n
        ma = ngay = None
        if spec.kind == ENUM:
            ma = deep[f"ma:{name}"] = [None] * n
        elif spec.kind == TS:
            ngay = deep[f"ngay:{name}"] = [None] * n
        out.append((key, spec, kieu, ma, ngay))
    return out


def _list_columns(key: str, item: Spec, vals: list, n: int, deep: dict[str, list]) -> None:
    """``X[]`` and ``X[].field`` for a list of objects: over a record's items, the set of the
    field's types, its codes (sorted, distinct) and its timestamp texts (in item order)."""
    items_kieu = deep[f"kieu:{key}[]"] = [ABSENT] * n
    children = _child_columns(f"{key}[]", item.fields or {}, n, deep)
    for i, items in enumerate(vals):
        if not items:
            continue
        items_kieu[i] = "object"
        # one tuple per field of the items, in the struct's (the contract's) field order
        for (_, spec, kieu, ma, ngay), values in zip(children, zip(*map(astuple, items))):
            k = spec.kind
            if k == STR:
                if any(values):
                    kieu[i] = "string"
            elif k == ENUM:
                codes = {v for v in values if v}
                if codes:
                    kieu[i] = "string"
                    ma[i] = "|".join(sorted(codes))
            elif k == TS:
                texts = [v for v in values if v]
                if texts:
                    kieu[i] = "string"
                    ngay[i] = "|".join(texts)
            else:
                kieu[i] = _merged_type(spec, values)


def _object_columns(key: str, spec: Spec, vals: list, n: int, deep: dict[str, list]) -> None:
    children = _child_columns(key, spec.fields or {}, n, deep)
    for i, obj in enumerate(vals):
        if obj is None:
            continue
        for child, cspec, kieu, ma, ngay in children:
            v = getattr(obj, child)
            if v is None:
                continue
            kieu[i] = _merged_type(cspec, [v])
            if v and (ma is not None or ngay is not None):
                (ma if ma is not None else ngay)[i] = v


def _dossier_numbers(recs: list, cols: dict[str, list]) -> None:
    """The columns of :func:`.frames._dossier_numbers` for dossier structs."""
    gmin, gpos, n_all, n_auto = [], [], [], []
    for r in recs:
        low = pos = None
        fees = r.DanhSachLePhi
        if fees:
            for i, fee in enumerate(fees):
                g = fee.Gia
                if g is not None:
                    g = float(g)
                    if low is None or g < low:
                        low, pos = g, i
        gmin.append(low)
        gpos.append(pos)
        form = r.ThongTinEForm
        if form is None:
            n_all.append(None)
            n_auto.append(None)
        else:
            n_all.append(form.SoTruong or 0)
            n_auto.append(form.SoTruongTuDong or 0)
    cols["gia_min:DanhSachLePhi[].Gia"] = gmin
    cols["vi_tri:DanhSachLePhi[].Gia"] = gpos
    derived_dossier_columns(cols, n_all, n_auto)


_COLUMNS: dict[str, list[str]] = {}


def _columns(kind: str) -> list[str]:
    """The general reading's columns, in its order."""
    if kind not in _COLUMNS:
        _COLUMNS[kind] = list(record_columns(kind, []))
    return _COLUMNS[kind]


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cyclic garbage collector paused while a chunk is built: building one allocates
    hundreds of thousands of lists and tuples, none in a cycle, and the collector would walk
    every live object again and again (measured: 15-20 % of a chunk's CPU time). Reference
    counting still frees everything; the collector runs again as soon as the chunk is built."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def chunk_from_texts(kind: str, rows: Iterable[tuple[int, Any]]) -> dict[str, Any]:
    """The typed columns (:func:`.frames.typed_chunk`) of staged rows ``(seq, JSON text)`` in
    ``seq`` order: records that fit the contract's shape are read the fast way, the others by
    :func:`.frames.record_columns`."""
    with _no_cycle_collection():
        return _chunk_from_texts(kind, rows)


def _chunk_from_texts(kind: str, rows: Iterable[tuple[int, Any]]) -> dict[str, Any]:
    decode = _decoder(kind).decode
    seqs, recs, others = [], [], []
    for seq, text in rows:
        try:
            recs.append(decode(text))
        except msgspec.DecodeError:  # a ValidationError too: the record does not fit
            others.append((seq, json_loads(text)))
            continue
        seqs.append(seq)
    if not recs:
        return typed_chunk(record_columns(kind, others))
    fast = _struct_frame(kind, seqs, recs)
    if kind == "ho_so":
        _dossier_numbers(recs, fast)
    del recs
    if not others:
        return typed_chunk({c: fast[c] for c in _columns(kind)})
    general = record_columns(kind, others)
    order = np.argsort(np.asarray(seqs + general["seq"], dtype=np.int64), kind="stable")
    return typed_chunk({c: np.asarray(fast[c] + general[c], dtype=object)[order] for c in _columns(kind)})


def frame_from_texts(kind: str, rows: Iterable[tuple[int, Any]]) -> pd.DataFrame:
    """The frame of :func:`.frames.records_frame` for staged rows ``(seq, JSON text)``."""
    return frame_of([chunk_from_texts(kind, rows)])
