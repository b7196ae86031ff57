"""Staged records → flat tables (pandas DataFrames) that the Great Expectations suites judge.

The suites in ``expectations/`` are ordinary GX expectations over columns; this module makes
those columns from the records *without judging them*: it states facts (the JSON type of a
field, the code written in it, the timestamp text, the instant it names when it names one).
The expectations then say what is allowed. Column names (one set per record kind):

``seq``, ``ref``
    the staged row's delivery order and the record's identifier (MaHoSo, MaDanhGia, MaTTHC,
    MaDonVi; null when it has none): every failing row is identified by both.
``kieu:<path>``
    the JSON type of the field (``absent``, ``string``, ``integer``, ``number``, ``boolean``,
    ``array``, ``object``, ``khong_huu_han`` for NaN/±Infinity). null means absent anywhere,
    and so does ``""`` in a text, code or timestamp field (INDICATORS.md §5). JSON Schema's
    meaning of ``integer`` is used: a number with a zero fractional part (``3.0``). For a path
    inside an array (``DanhSachLePhi[].Gia``) the column holds the set of types met in the
    items, sorted and joined by ``|`` (``absent`` when none). ``kieu:$`` is the record itself;
    a record that is not an object has null in every other column (it has no fields).
``ma:<path>``
    the code written in a code field (a string, else null); for a path inside an array, the
    set of codes met, sorted and joined by ``|``.
``ngay:<path>``
    the text of a timestamp field (a string, else null); inside an array, the texts in item
    order joined by ``|``.
``thoi_diem:<path>``
    the same text when it names a real ``yyyyMMddHHmmss`` instant, else null (a parsed,
    typed column: valid texts compare as the instants they name). ``ngay_thang:<path>`` is its
    calendar date ``yyyyMMdd``.
``ngay_ngoai_hop_dong``
    for keys beginning with ``Ngay`` that the contract does not define (at any depth): ``khong_co``
    when there are none, ``hop_le`` when every one is absent or a real instant, ``khong_hop_le``
    otherwise. Their values are not copied (they might be personal data, e.g. a birth date).
``<Field>``
    plain string values used by referential checks (MaTTHC, DonViXuLy, MaDonViCha, ...).
``so:...`` / ``gia_min:...`` / ``vi_tri:...``
    numbers used by the fee and e-form checks, and the index of the fee item with the smallest
    amount (see :func:`_dossier_numbers`).
``trang_thai_va_kieu:NgayTiepNhan`` / ``trang_thai_va_kieu:NgayKetThucXuLy``
    the status code and the JSON type of T / K side by side (``"10|absent"``), null when the
    status is not a code; the suites forbid a received / finished status with T / K absent.
``thoi_diem_ket_thuc``
    K as §2 reads it: ``thoi_diem:NgayKetThucXuLy`` of a finished dossier (status 7–10), null
    on any other status ("K on a dossier in any other status is ignored").

Personal fields (ChuHoSo, SoGiayToChuHoSo, ...) only ever contribute their JSON *type*.

A frame's index is ``seq`` (GX's index query then names the failing records). Text columns
are categoricals except ``ref`` and the ones compared in order (see :func:`_typed`); a
window's frame is built 20,000 records at a time and joined by :func:`frame_of`.
"""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Iterable

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from .contract import (
    DANHGIA_FIELDS,
    FINISHED_STATUSES,
    DONVI_FIELDS,
    ENUM,
    HOSO_FIELDS,
    INT,
    LIST,
    NUM,
    OBJ,
    STR,
    THUTUC_FIELDS,
    TS,
    Spec,
    valid_timestamp,
)
from .ngay_ngoai_hop_dong import ngay_verdict

__all__ = [
    "ABSENT",
    "FieldPath",
    "field_paths",
    "json_type",
    "allowed_types",
    "records_frame",
    "record_columns",
    "typed_chunk",
    "frame_of",
    "KIND_FIELDS",
    "derived_dossier_columns",
    "timestamp_columns",
    "valid_timestamps",
    "timestamp_fields",
]

ABSENT = "absent"
KIND_FIELDS: dict[str, dict[str, Spec]] = {
    "ho_so": HOSO_FIELDS, "danh_gia": DANHGIA_FIELDS, "thu_tuc": THUTUC_FIELDS, "don_vi": DONVI_FIELDS,
}
REF_FIELD = {"ho_so": "MaHoSo", "danh_gia": "MaDanhGia", "thu_tuc": "MaTTHC", "don_vi": "MaDonVi"}


def json_type(value: Any, kind: str) -> str:
    """The JSON type of ``value`` as the contract sees it (see the module docstring)."""
    if value is None:
        return ABSENT
    if isinstance(value, str):
        return ABSENT if value == "" and kind in (STR, TS, ENUM) else "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "khong_huu_han"
        return "integer" if value.is_integer() else "number"
    if isinstance(value, Decimal):
        if not value.is_finite():
            return "khong_huu_han"
        return "integer" if value == value.to_integral_value() else "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "khac"


def allowed_types(kind: str) -> tuple[str, ...]:
    """The JSON types the contract allows for a field of ``kind`` (absent always allowed)."""
    return {STR: ("string",), TS: ("string",), ENUM: ("string",), NUM: ("integer", "number"),
            INT: ("integer",), LIST: ("array",), OBJ: ("object",)}[kind]


class FieldPath:
    """One field of a record shape: ``name`` like ``DanhSachLePhi[].Gia``; ``steps`` the keys
    from the record down (``"[]"`` = every item of an array)."""

    __slots__ = ("name", "steps", "spec", "in_array", "personal")

    def __init__(self, name: str, steps: tuple[str, ...], spec: Spec):
        self.name, self.steps, self.spec = name, steps, spec
        self.in_array = "[]" in steps
        self.personal = spec.personal

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"FieldPath({self.name!r}, {self.spec.kind})"


def field_paths(fields: dict[str, Spec], prefix: str = "", steps: tuple[str, ...] = ()) -> list[FieldPath]:
    """Every field of a shape, depth first: ``ThongTinEForm``, ``ThongTinEForm.SoTruong``, ..."""
    out: list[FieldPath] = []
    for name, spec in fields.items():
        path, st = prefix + name, steps + (name,)
        out.append(FieldPath(path, st, spec))
        if spec.kind == LIST and spec.item is not None:
            out.append(FieldPath(path + "[]", st + ("[]",), spec.item))
            if spec.item.kind == OBJ:
                out.extend(field_paths(spec.item.fields or {}, path + "[].", st + ("[]",)))
        elif spec.kind == OBJ:
            out.extend(field_paths(spec.fields or {}, path + ".", st))
    return out


def _tree(fields: dict[str, Spec], prefix: str = "") -> list[tuple[str, str, Spec, list]]:
    """(key, path name, spec, children) for the known fields below a shape; a LIST's child is its
    item path ``X[]`` whose own children are the item object's fields."""
    out = []
    for key, spec in fields.items():
        name = prefix + key
        children: list = []
        if spec.kind == LIST and spec.item is not None:
            item_children = _tree(spec.item.fields or {}, name + "[].") if spec.item.kind == OBJ else []
            children = [("[]", name + "[]", spec.item, item_children)]
        elif spec.kind == OBJ:
            children = _tree(spec.fields or {}, name + ".")
        out.append((key, name, spec, children))
    return out


class _Deep:
    """Column builders for the fields below the top level, filled sparsely (most records have
    few nested values): every column starts as its default, then one walk per present
    container writes record ``i``'s cells. Each node is bound once to its own column lists
    (:meth:`bind`), so a visit does no look-up by name."""

    def __init__(self, n: int):
        self.n = n
        self.cols: dict[str, list] = {}

    def bind(self, node: tuple) -> tuple:
        """(key, kind, kieu column, ma column | None, ngay column | None, bound children)."""
        key, name, spec, children = node
        n = self.n
        kieu = self.cols[f"kieu:{name}"] = [ABSENT] * n
        ma = ngay = None
        if spec.kind == ENUM:
            ma = self.cols[f"ma:{name}"] = [None] * n
        elif spec.kind == TS:
            ngay = self.cols[f"ngay:{name}"] = [None] * n
        return key, spec.kind, kieu, ma, ngay, [self.bind(c) for c in children]

    def visit(self, i: int, node: tuple, values: list, in_array: bool) -> None:
        """``values``: what the path reaches in record ``i`` (several when inside an array)."""
        _, k, kieu, ma, ngay, children = node
        if len(values) == 1:
            v = values[0]
            kieu[i] = _fast_type(v, k)
            if (ma is not None or ngay is not None) and isinstance(v, str) and v:
                (ma if ma is not None else ngay)[i] = v
        else:
            types = {_fast_type(v, k) for v in values}
            types.discard(ABSENT)
            kieu[i] = ("|".join(sorted(types)) if len(types) > 1 else types.pop()) if types else ABSENT
            if ma is not None:
                codes = {v for v in values if isinstance(v, str) and v}
                if codes:
                    ma[i] = "|".join(sorted(codes))
            elif ngay is not None:
                texts = [v for v in values if isinstance(v, str) and v]
                if texts:
                    ngay[i] = "|".join(texts)
        if not children:
            return
        if k == LIST:
            items = [x for v in values if isinstance(v, list) for x in v]
            if items:
                self.visit(i, children[0], items, True)
        elif k == OBJ:
            objs = [v for v in values if isinstance(v, dict)]
            if objs:
                for child in children:
                    key = child[0]
                    vals = [o[key] for o in objs if key in o]
                    if vals:
                        self.visit(i, child, vals, in_array)


_SIMPLE_TYPES = {int: "integer", bool: "boolean", dict: "object", list: "array", type(None): ABSENT}


def _fast_type(v: Any, k: str) -> str:
    """:func:`json_type`, with the common cases first."""
    t = type(v)
    if t is str:
        return "string" if v != "" or k in _NUMERIC_KINDS else ABSENT
    simple = _SIMPLE_TYPES.get(t)
    return simple if simple is not None else json_type(v, k)


_TEXT_KINDS = (STR, TS, ENUM)
_NUMERIC_KINDS = (NUM, INT, LIST, OBJ)  # "" is a type error there, absent in a text field


def records_frame(kind: str, rows: Iterable[tuple[int, Any]]) -> pd.DataFrame:
    """A flat table of the records of ``kind`` (ho_so, danh_gia, thu_tuc, don_vi), one row per
    staged row ``(seq, record)``, indexed by ``seq``; see the module docstring for the columns,
    and :func:`_typed` for their types."""
    return frame_of([typed_chunk(record_columns(kind, rows))])


def record_columns(kind: str, rows: Iterable[tuple[int, Any]]) -> dict[str, list]:
    """The columns of :func:`records_frame` as plain lists (``seq`` first), before typing."""
    fields = KIND_FIELDS[kind]
    tree = _tree(fields)
    ref_field = REF_FIELD[kind]
    rows = list(rows)
    recs = [r for _, r in rows]
    n = len(recs)
    dicts = [r if type(r) is dict else (r if isinstance(r, dict) else {}) for r in recs]
    cols: dict[str, list] = {"seq": [s for s, _ in rows]}

    def str_or_none(v: Any) -> str | None:
        return v if type(v) is str and v != "" else (v if isinstance(v, str) and v != "" else None)

    cols["ref"] = [str_or_none(d.get(ref_field)) for d in dicts]
    cols["kieu:$"] = [json_type(r, OBJ) for r in recs]
    deep = _Deep(n)
    for key, name, spec, children in tree:
        children = [deep.bind(c) for c in children]
        k = spec.kind
        vals = [d.get(key) for d in dicts]
        empty = ABSENT if k in _TEXT_KINDS else "string"  # what "" is in this field (see _fast_type)
        cols[f"kieu:{name}"] = [(("string" if v else empty) if type(v) is str else _SIMPLE_TYPES.get(type(v)))
                                or json_type(v, k) for v in vals]
        if k == ENUM:
            cols[f"ma:{name}"] = [v if isinstance(v, str) and v else None for v in vals]
        elif k == TS:
            timestamp_columns(cols, name, [v if isinstance(v, str) and v else None for v in vals])
        elif k == STR and not spec.personal:
            cols[name] = [v if isinstance(v, str) and v else None for v in vals]
        if children:
            container = list if k == LIST else dict
            for i, v in enumerate(vals):
                if isinstance(v, container) and v:
                    # the field's own type is already in the top-level column; walk below it
                    if k == LIST:
                        deep.visit(i, children[0], list(v), True)
                    else:
                        for child in children:
                            if child[0] in v:
                                deep.visit(i, child, [v[child[0]]], False)
    cols.update(deep.cols)
    cols["ngay_ngoai_hop_dong"] = [ngay_verdict(r, fields) if isinstance(r, dict) else "khong_co" for r in recs]
    if kind == "ho_so":
        _dossier_numbers(dicts, cols)
    not_object = [i for i, t in enumerate(cols["kieu:$"]) if t != "object"]
    if not_object:  # a record that is not an object has no fields: only kieu:$ speaks
        for c, values in cols.items():
            if c not in ("seq", "ref", "kieu:$"):
                for i in not_object:
                    values[i] = None
    return cols


# Columns kept as plain Python text (object dtype): those compared with each other in order
# (column-pair expectations: the order of valid texts is the order of the instants they name,
# and categoricals of different categories do not compare), and ``ref``.
_TEXT = ("thoi_diem", "ngay_thang:")


def _typed(column: str, values: list | np.ndarray) -> Any:
    """A column as GX gets it. Numbers become numeric; other text becomes categorical: codes,
    types and even timestamp texts then move as small integer codes through GX's set look-ups,
    regexes and the row copies it makes per expectation (measured: GX's time at 100,000
    dossiers halves against pandas' string dtype). ``ref`` and the columns of :data:`_TEXT`
    stay plain text (GX itself is given them as a categorical and as datetimes, cheaper to copy:
    ``gx_runner._for_gx``). Categories are in order of appearance (factorised, not sorted:
    nothing reads their order)."""
    if column == "seq":
        return np.asarray(values, dtype=np.int64)
    if column.startswith(("so:", "gia_min:", "vi_tri:")):
        try:
            return pd.to_numeric(np.asarray(values, dtype=object), errors="raise")
        except OverflowError:  # an integer beyond the float range (see as_float)
            return np.array([np.nan if v is None else as_float(v) for v in values], dtype=np.float64)
    if column == "ref" or column.startswith(_TEXT):
        return np.asarray(values, dtype=object)
    codes, categories = pd.factorize(np.asarray(values, dtype=object))
    return pd.Categorical.from_codes(codes, categories=categories)


def typed_chunk(columns: dict[str, list | np.ndarray]) -> dict[str, Any]:
    """Every column of a chunk typed (:func:`_typed`): the chunk's Python values can go."""
    return {c: _typed(c, values) for c, values in columns.items()}


def frame_of(chunks: list[dict[str, Any]]) -> pd.DataFrame:
    """The frame of consecutive typed chunks, indexed by ``seq``: categoricals stay categoricals
    (their categories united with pandas' ``union_categoricals``), other columns are joined by
    numpy (object columns stay object); each chunk's column is let go once joined, so the
    transient copy is one column's worth."""
    index = pd.Index(np.concatenate([c["seq"] for c in chunks]), dtype="int64")
    columns = {}
    for c in list(chunks[0]):
        pieces = [chunk.pop(c) for chunk in chunks]
        if len(pieces) == 1:
            columns[c] = pieces[0]
        elif all(isinstance(x, pd.Categorical) for x in pieces):
            if any(len(x.categories) for x in pieces):
                columns[c] = _united(pieces)
            else:  # no chunk has a value
                columns[c] = union_categoricals(pieces)
        else:
            columns[c] = np.concatenate([np.asarray(x) for x in pieces])
        del pieces
    return pd.DataFrame(columns, index=index)


def _united(pieces: list[pd.Categorical]) -> pd.Categorical:
    """``union_categoricals(pieces)`` (categories in order of appearance, chunk after chunk), with
    one hash pass over the chunks' categories: each is numbered once in the united categories and
    each chunk's codes are looked up in that numbering."""
    numbers, categories = pd.factorize(np.concatenate([np.asarray(x.categories, dtype=object) for x in pieces]))
    codes, start = [], 0
    for x in pieces:
        mine = numbers[start:start + len(x.categories)]
        start += len(x.categories)
        codes.append(np.where(x.codes >= 0, mine[np.maximum(x.codes, 0)] if len(mine) else -1, -1))
    return pd.Categorical.from_codes(np.concatenate(codes), categories=categories)


def as_float(v: int | float | Decimal) -> float:
    """A JSON number as a float; one beyond the float range (JSON allows a 400-digit integer)
    becomes an infinity of its sign, so that its comparison with zero, which the rules judge,
    stays what it is."""
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int):
        return as_float(v)
    if isinstance(v, (float, Decimal)):
        f = float(v)
        return f if math.isfinite(f) else None
    return None


def _count(v: Any) -> int | None:
    """A count as the figures read it: an integer (3.0 included); absent = 0; else None."""
    if v is None:
        return 0
    if json_type(v, INT) == "integer":
        return int(v)
    return None


def _dossier_numbers(dicts: list[dict], cols: dict[str, list]) -> None:
    """``gia_min:DanhSachLePhi[].Gia``: the smallest fee amount that is a number (null when
    none); ``so:ThongTinEForm.SoTruong`` / ``so:ThongTinEForm.SoTruongTuDong``: the e-form
    counts as the figures add them up (absent = 0) when ThongTinEForm is an object and the
    count is an integer, else null."""
    gmin, gpos, n_all, n_auto = [], [], [], []
    for d in dicts:
        fees = d.get("DanhSachLePhi")
        low = pos = None
        if isinstance(fees, list):
            for i, fee in enumerate(fees):
                if isinstance(fee, dict):
                    g = _number(fee.get("Gia"))
                    if g is not None and (low is None or g < low):
                        low, pos = g, i
        gmin.append(low)
        gpos.append(pos)
        form = d.get("ThongTinEForm")
        if isinstance(form, dict):
            n_all.append(_count(form.get("SoTruong")))
            n_auto.append(_count(form.get("SoTruongTuDong")))
        else:
            n_all.append(None)
            n_auto.append(None)
    cols["gia_min:DanhSachLePhi[].Gia"] = gmin
    cols["vi_tri:DanhSachLePhi[].Gia"] = gpos  # which item holds that smallest amount (for the steward)
    derived_dossier_columns(cols, n_all, n_auto)


def timestamp_columns(cols: dict[str, list], name: str, texts: list) -> None:
    """``ngay:``, ``thoi_diem:`` and ``ngay_thang:`` of a timestamp field from its texts (a
    non-empty string, else None)."""
    cols[f"ngay:{name}"] = texts
    valid = valid_timestamps(texts).tolist()
    cols[f"thoi_diem:{name}"] = [t if ok else None for t, ok in zip(texts, valid)]
    cols[f"ngay_thang:{name}"] = [t[:8] if ok else None for t, ok in zip(texts, valid)]


_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def valid_timestamps(texts: list) -> np.ndarray:
    """:func:`.contract.valid_timestamp` of every item of ``texts`` (strings or None) at once."""
    return timestamp_fields(texts)[0]


def timestamp_fields(texts: list) -> tuple[np.ndarray, np.ndarray]:
    """Of every item of ``texts`` (strings or None) at once: whether it is a real
    ``yyyyMMddHHmmss`` instant — 14 ASCII digits naming a calendar date (year 1 to 9999, leap
    years Gregorian), hour ≤ 23, minute ≤ 59, second ≤ 59 — and its year, month, day, hour,
    minute and second (an ``(n, 6)`` integer array, meaningful where it is one)."""
    n = len(texts)
    filled = [t if type(t) is str else "" for t in texts]
    # numpy's fixed-width text drops trailing NULs, so the length is Python's
    right_length = np.fromiter(map(len, filled), dtype=np.intp, count=n) == 14
    if not right_length.any():
        return right_length, np.zeros((n, 6), dtype=np.int32)
    codes = np.asarray(filled, dtype="U14").view(np.uint32).reshape(n, 14) - np.uint32(48)  # wraps below '0'
    ok = right_length & (codes <= 9).all(axis=1)
    pairs = codes[:, 0::2].astype(np.int32) * 10 + codes[:, 1::2].astype(np.int32)  # yy yy MM dd HH mm ss
    year, month, day = pairs[:, 0] * 100 + pairs[:, 1], pairs[:, 2], pairs[:, 3]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    last_day = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + ((month == 2) & leap)
    ok &= (year >= 1) & month_ok & (day >= 1) & (day <= last_day)
    ok &= (pairs[:, 4] <= 23) & (pairs[:, 5] <= 59) & (pairs[:, 6] <= 59)
    return ok, np.column_stack([year, month, day, pairs[:, 4], pairs[:, 5], pairs[:, 6]])


def derived_dossier_columns(cols: dict[str, list], n_all: list, n_auto: list) -> None:
    """The dossier columns read off other columns (and the e-form counts, given)."""
    # §2: K is the end of a *finished* dossier (status 7–10); on any other status it is ignored.
    cols["thoi_diem_ket_thuc"] = [k if s in FINISHED_STATUSES else None
                                  for k, s in zip(cols["thoi_diem:NgayKetThucXuLy"], cols["ma:TrangThaiHoSo"])]
    # The status beside the JSON type of T and of K, as one fact ("10|absent"): the suites forbid
    # a received / finished status with T / K absent (set look-ups; GX's column-pair set
    # expectation walks the rows one by one in pandas).
    for name in ("NgayTiepNhan", "NgayKetThucXuLy"):
        cols[f"trang_thai_va_kieu:{name}"] = [f"{s}|{t}" if s is not None else None
                                             for s, t in zip(cols["ma:TrangThaiHoSo"], cols[f"kieu:{name}"])]
    cols["so:ThongTinEForm.SoTruong"] = n_all
    cols["so:ThongTinEForm.SoTruongTuDong"] = n_auto

