"""The frames of :mod:`.frames` for records that fit the contract's shape exactly, built fast.

Almost every staged record is well formed: each field the contract defines is absent, null or
of its JSON kind, nested lists hold objects, and nothing else is there (extraction keeps only
the contract's fields). msgspec decodes such a record straight from the store's JSON text
into a struct that declares exactly that shape (``forbid_unknown_fields``, no coercion; a code
field as the literals the contract lists, so that each code is one shared string); a record it
refuses — a type error, an unknown field, a code the contract does not list, ``3.0`` in a
count, ``NaN``, a record that is not an object — is decoded as it is and flattened by
:func:`.frames.record_columns`, the general reading, which is what defines every column; its
row is written over in place.

For a record that fits, most facts of the general reading are known without looking: a text
field holds a string or nothing, so its ``kieu:`` column is ``string`` or ``absent``; there is
no field the contract does not define, so ``ngay_ngoai_hop_dong`` is ``khong_co``; null and
absent read the same in every column. What is left is done in one pass over each record's
fields, then column by column with numpy (the items of the lists flattened, a record's set of
codes as a bit mask). Both readings give the same frame, row for row and column for column
(tests/quality/test_fast_frames.py, on the fixtures, the sandbox's data and generated records).
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from operator import attrgetter
from typing import Any, Iterable, Iterator, Literal, Optional, Union

import msgspec
from msgspec.structs import astuple
import numpy as np
import pandas as pd

from .contract import ENUM, INT, LIST, NUM, OBJ, STR, TS, Spec
from .frames import (ABSENT, KIND_FIELDS, REF_FIELD, as_float, derived_dossier_columns, frame_of, record_columns,
                     timestamp_columns, typed_chunk)

__all__ = ["chunk_from_texts", "frame_from_texts"]

_TEXT_KINDS = (STR, TS, ENUM)


def _python_type(spec: Spec, name: str) -> Any:
    """The type msgspec decodes a field of ``spec`` into: exactly its JSON kind, or null."""
    k = spec.kind
    if k == ENUM and spec.values:  # one shared string object per code ("" is absent)
        return Optional[Literal[("",) + tuple(spec.values)]]
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


def _struct_frame(kind: str, seqs: list[int], recs: list) -> dict[str, list]:
    """The columns of :func:`.frames.records_frame` for records decoded into the kind's struct."""
    fields = KIND_FIELDS[kind]
    n = len(recs)
    cols: dict[str, list] = {"seq": seqs}
    ref = list(map(attrgetter(REF_FIELD[kind]), recs))
    cols["ref"] = [v or None for v in ref]
    cols["kieu:$"] = ["object"] * n
    deep: dict[str, list] = {}
    below: dict[str, _Below] = {}
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
            below[key] = _Below.of_lists(vals, n)
            deep[f"kieu:{key}[]"] = _where(n, below[key].has, "object", ABSENT)
            _child_columns(f"{key}[]", spec.item.fields or {}, below[key], deep)
        elif k == OBJ:
            below[key] = _Below.of_objects(vals, n)
            _child_columns(key, spec.fields or {}, below[key], deep)
    cols.update(deep)
    cols["ngay_ngoai_hop_dong"] = ["khong_co"] * n  # the struct forbids every field the contract does not define
    if kind == "ho_so":
        _dossier_numbers(below, n, cols)
    return cols


class _Below:
    """The values below one list or object field of every record of a chunk, flattened: for
    each value met below (an item of a list, or the object itself), ``at`` holds the record's
    row and ``fields`` one tuple per field of the items (the contract's order); ``has`` marks
    the records with at least one."""

    __slots__ = ("n", "at", "fields", "has", "starts")

    def __init__(self, n: int, at: np.ndarray, objs: list, has: np.ndarray, starts: np.ndarray | None):
        self.n, self.at, self.has, self.starts = n, at, has, starts
        self.fields = list(zip(*map(astuple, objs))) if objs else None

    @classmethod
    def of_lists(cls, vals: list, n: int) -> "_Below":
        sizes = np.array([len(v) if v else 0 for v in vals], dtype=np.intp)
        items = [x for v in vals if v for x in v]
        starts = np.cumsum(sizes) - sizes  # where each record's items begin among all the items
        return cls(n, np.repeat(np.arange(n, dtype=np.intp), sizes), items, sizes > 0, starts)

    @classmethod
    def of_objects(cls, vals: list, n: int) -> "_Below":
        has = np.array([v is not None for v in vals], dtype=bool)
        return cls(n, np.flatnonzero(has), [v for v in vals if v is not None], has, None)

    def values(self, position: int) -> tuple:
        return self.fields[position] if self.fields is not None else ()


def _where(n: int, mask: np.ndarray, yes: Any, no: Any) -> list:
    out = np.full(n, no, dtype=object)
    out[mask] = yes
    return out.tolist()


_NUMBER_TYPES = np.array([ABSENT, "integer", "number", "integer|number"], dtype=object)


def _child_columns(prefix: str, fields: dict[str, Spec], below: _Below, deep: dict[str, list]) -> None:
    """``kieu:``, ``ma:`` and ``ngay:`` of the fields below a list of objects (``X[].field``: over
    a record's items, the set of the field's types, its codes sorted and distinct, its timestamp
    texts in item order) or below an object (``X.field``), a whole column at a time."""
    n, at = below.n, below.at
    for position, (key, spec) in enumerate(fields.items()):
        if spec.kind in (OBJ, LIST):  # the contract nests two levels deep, no more
            raise ValueError(f"{prefix}.{key}: the fast path knows two levels of nesting")
        name = f"{prefix}.{key}"
        values = below.values(position)
        k = spec.kind
        if k in _TEXT_KINDS:
            present = np.array([bool(v) for v in values], dtype=bool)
            rows = at[present]
            deep[f"kieu:{name}"] = _where(n, rows, "string", ABSENT)
            texts = [v for v in values if v]
            if k == ENUM:
                deep[f"ma:{name}"] = _codes_by_row(n, rows, texts)
            elif k == TS:
                deep[f"ngay:{name}"] = _texts_by_row(n, rows, texts)
        else:  # a number: 1 = integer, 2 = number, 0 = absent; the record's types are OR-ed
            kinds = np.array([0 if v is None else (1 if type(v) is int or v.is_integer() else 2) for v in values],
                             dtype=np.int8)
            seen = np.zeros(n, dtype=np.int8)
            np.bitwise_or.at(seen, at, kinds)
            deep[f"kieu:{name}"] = _NUMBER_TYPES[seen].tolist()


def _texts_by_row(n: int, rows: np.ndarray, texts: list) -> list:
    """Each row's texts joined by ``|`` in the order met (None when it has none)."""
    out: list = [None] * n
    for row, text in zip(rows.tolist(), texts):
        before = out[row]
        out[row] = text if before is None else f"{before}|{text}"
    return out


def _codes_by_row(n: int, rows: np.ndarray, codes: list) -> list:
    """Each row's distinct codes, sorted and joined by ``|`` (None when it has none). Codes are
    numbered, each row's set of them is a bit mask, and each distinct mask is spelled once."""
    if not codes:
        return [None] * n
    numbers, distinct = pd.factorize(np.asarray(codes, dtype=object))
    if len(distinct) > 62:  # too many codes for one mask: spell each row's set
        sets: dict[int, set] = {}
        for row, code in zip(rows.tolist(), codes):
            sets.setdefault(row, set()).add(code)
        out: list = [None] * n
        for row, found in sets.items():
            out[row] = "|".join(sorted(found))
        return out
    masks = np.zeros(n, dtype=np.int64)
    np.bitwise_or.at(masks, rows, np.left_shift(np.int64(1), numbers.astype(np.int64)))
    used, which = np.unique(masks, return_inverse=True)
    names = distinct.tolist()
    spelled = np.array([None if m == 0 else "|".join(sorted(names[j] for j in range(len(names)) if m >> j & 1))
                        for m in used.tolist()], dtype=object)
    return spelled[which.reshape(-1)].tolist()


_FEE_FIELDS = list(KIND_FIELDS["ho_so"]["DanhSachLePhi"].item.fields or {})
_FORM_FIELDS = list(KIND_FIELDS["ho_so"]["ThongTinEForm"].fields or {})


def _dossier_numbers(below: dict[str, _Below], n: int, cols: dict[str, list]) -> None:
    """The columns of :func:`.frames._dossier_numbers` for dossier structs: the smallest fee
    (the first item holding it) and the e-form counts (absent = 0)."""
    fees = below["DanhSachLePhi"]
    gia = fees.values(_FEE_FIELDS.index("Gia"))
    low: np.ndarray = np.full(n, None, dtype=object)
    pos: np.ndarray = np.full(n, None, dtype=object)
    given = np.array([g is not None for g in gia], dtype=bool)
    if given.any():
        where = np.flatnonzero(given)  # among all the items
        amounts = np.array([as_float(g) for g in gia if g is not None], dtype=np.float64)
        rows = fees.at[where]
        order = np.lexsort((where, amounts, rows))  # by row, then amount, then item order
        first = np.ones(len(order), dtype=bool)
        first[1:] = rows[order][1:] != rows[order][:-1]
        pick = order[first]
        low[rows[pick]] = amounts[pick].tolist()
        pos[rows[pick]] = (where[pick] - fees.starts[rows[pick]]).tolist()
    cols["gia_min:DanhSachLePhi[].Gia"] = low.tolist()
    cols["vi_tri:DanhSachLePhi[].Gia"] = pos.tolist()
    form = below["ThongTinEForm"]
    counts = []
    for name in ("SoTruong", "SoTruongTuDong"):
        out = np.full(n, None, dtype=object)
        out[form.at] = [v or 0 for v in form.values(_FORM_FIELDS.index(name))]
        counts.append(out.tolist())
    derived_dossier_columns(cols, *counts)


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
    nothing = decode(b"{}")  # holds the place of a record that does not fit
    seqs, recs, others, where = [], [], [], []
    for seq, text in rows:
        try:
            recs.append(decode(text))
        except msgspec.DecodeError:  # a ValidationError too: the record does not fit
            where.append(len(recs))
            recs.append(nothing)
            from ..store.codec import json_loads  # here: a helper process imports no SQLAlchemy for it

            others.append((seq, json_loads(text)))
        seqs.append(seq)
    if len(others) == len(recs):
        return typed_chunk(record_columns(kind, others))
    fast = _struct_frame(kind, seqs, recs)
    del recs
    if others:  # their rows are written over by the general reading, in place
        general = record_columns(kind, others)
        for c in _columns(kind):
            column = fast[c]
            for i, value in zip(where, general[c]):
                column[i] = value
    return typed_chunk({c: fast[c] for c in _columns(kind)})


def frame_from_texts(kind: str, rows: Iterable[tuple[int, Any]]) -> pd.DataFrame:
    """The frame of :func:`.frames.records_frame` for staged rows ``(seq, JSON text)``."""
    return frame_of([chunk_from_texts(kind, rows)])
