"""The one rule of INDICATORS.md §5 the suites cannot state over fixed columns.

§5: "every field whose name begins with Ngay, nested ones included, whether or not a figure
uses it" must be a real ``yyyyMMddHHmmss`` instant. For the contract's own fields the suites
check this with a regex on each ``ngay:<path>`` column. A field the contract does *not* define
has no column (its name is only known when it arrives), so this module walks each record and
states one verdict per record, the column ``ngay_ngoai_hop_dong``: ``khong_co`` (no such
field), ``hop_le`` (every one absent or a real instant) or ``khong_hop_le``. The suites then
require ``hop_le`` or ``khong_co`` (rule ``bad_timestamp``, field ``Ngay*``). The values are
never copied (they may be personal data, e.g. a birth date). See expectations/README.md.
"""
from __future__ import annotations

from typing import Any

from .contract import DANHGIA_FIELDS, DONVI_FIELDS, HOSO_FIELDS, LIST, OBJ, THUTUC_FIELDS, Spec, valid_timestamp

__all__ = ["ngay_verdict"]


def _unknown_ngay(value: Any, fields: dict[str, Spec] | None, verdict: list[int]) -> None:
    """Walk ``value``: keys a shape does not define and that begin with ``Ngay`` are noted in
    ``verdict`` = [count, invalid count]. (tests/support/rules.py reads the same rule independently.)"""
    if isinstance(value, dict):
        if fields is not None:
            for key in value.keys() - fields.keys():
                _unknown_one(key, value[key], verdict)
            for key in value.keys() & _CONTAINERS.get(id(fields), ()):
                spec, val = fields[key], value[key]
                if spec.kind == OBJ:
                    if isinstance(val, dict):
                        _unknown_ngay(val, spec.fields or {}, verdict)
                elif isinstance(val, list) and spec.item is not None and spec.item.kind == OBJ:
                    for item in val:
                        if isinstance(item, dict):
                            _unknown_ngay(item, spec.item.fields or {}, verdict)
        else:
            for key, val in value.items():
                _unknown_one(key, val, verdict)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)):
                _unknown_ngay(item, None, verdict)


def _unknown_one(key: Any, val: Any, verdict: list[int]) -> None:
    if isinstance(key, str) and key.startswith("Ngay"):
        verdict[0] += 1
        if not (val is None or val == "") and not valid_timestamp(val):
            verdict[1] += 1
    elif isinstance(val, (dict, list)):
        _unknown_ngay(val, None, verdict)


def _containers(fields: dict[str, Spec]) -> None:
    """Index, per shape, the keys whose values may hold further known fields."""
    _CONTAINERS[id(fields)] = frozenset(k for k, s in fields.items()
                                        if s.kind == OBJ or (s.kind == LIST and s.item is not None
                                                             and s.item.kind == OBJ))
    for s in fields.values():
        if s.kind == OBJ and s.fields is not None:
            _containers(s.fields)
        elif s.kind == LIST and s.item is not None and s.item.kind == OBJ and s.item.fields is not None:
            _containers(s.item.fields)


_CONTAINERS: dict[int, frozenset] = {}
for _f in (HOSO_FIELDS, DANHGIA_FIELDS, THUTUC_FIELDS, DONVI_FIELDS):
    _containers(_f)



def ngay_verdict(rec: Any, fields: dict[str, Spec]) -> str:
    """``khong_co`` / ``hop_le`` / ``khong_hop_le`` for the Ngay* fields of ``rec`` that the
    shape ``fields`` does not define (at any depth)."""
    verdict = [0, 0]
    _unknown_ngay(rec, fields, verdict)
    if verdict[0] == 0:
        return "khong_co"
    return "khong_hop_le" if verdict[1] else "hop_le"
