"""The independent, pure-Python reading of the per-record rules (INDICATORS.md §5) for dossiers, ratings, procedures
and units. Production validates with the GX suites of ``parreport/expectations/`` alone; this
module keeps them honest (tests/test_rules.py, tests/test_quality_validation.py), as
``tests/support/expected.py`` does for the figures.

Every function returns *all* the violations a record has (never only the first), as
:class:`Violation` items whose ``message`` is plain Vietnamese for a data steward.

Readings taken where the text is open (each one is documented where it is applied):

* "null means absent anywhere, and so does the empty string in a text or timestamp field:
  absent is never a type error" (§5).  So ``None`` is absent for every field, ``""`` is
  absent for text, code and timestamp fields, but ``""`` where the contract wants a number,
  an integer, an array or an object *is* a type error ("a number written as a string").
  ``None`` as an item of an array is an absent item and is skipped.
* Integers ("a count with a fractional part" is a type error): JSON Schema's own meaning of
  ``integer`` is taken, i.e. any number whose fractional part is zero.  ``3`` and ``3.0`` are
  accepted, ``3.5`` is ``bad_type``.  Booleans are never numbers.  NaN / ±Infinity are not
  JSON numbers and are ``bad_type``.  ``decimal.Decimal`` values (a JSON parser run with
  ``parse_float=Decimal``) are numbers like floats.
* A value of the wrong JSON type gives one ``bad_type`` for that field and nothing else for
  it (a status written as the number ``9`` is ``bad_type``, not also ``bad_code``); rules that
  need the value (status-dependent rules, catalogue look-ups) are then skipped, because the
  value is unknown.
* The timestamp rule applies to every key beginning with ``Ngay`` at any depth, the contract's
  fields and unknown extra fields alike (§5: "in any field whose name begins with Ngay, nested
  ones included, whether or not a figure uses it").  Apart from that, unknown extra fields are
  ignored.  Values of unknown fields are not echoed in messages (they may be personal data,
  e.g. a date of birth).
* ``K`` on a dossier that is not finished is ignored by the K rules (§2), but an *unreadable*
  ``NgayKetThucXuLy`` is still ``bad_timestamp`` on any status (§5: "whether or not a figure
  uses it").
* A present but unreadable ``NgayTiepNhan``/``NgayKetThucXuLy`` is ``bad_timestamp`` only,
  not also ``received_without_T``/``finished_without_K``.
* e-form counts: an absent ``SoTruong``/``SoTruongTuDong`` counts as 0 (that is how the
  figures add them up), so ``SoTruongTuDong`` present with ``SoTruong`` absent is
  ``SoTruongTuDong > SoTruong`` and thus ``bad_eform``; that keeps TuSo <= MauSo.
* The due-date warning compares calendar dates, like every other use of ``H`` (§2 compares
  deadlines by date): ``date(NgayHenTra) < date(NgayTiepNhan)``.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field as dc_field
from datetime import datetime
from decimal import Decimal
from typing import Any, Iterable

from parreport.quality.contract import (
    DANHGIA_FIELDS, DANHGIA_REQUIRED, DONVI_FIELDS, DONVI_REQUIRED, ENUM, FINISHED_STATUSES, HOSO_FIELDS,
    HOSO_REQUIRED, INT, LIST, NUM, OBJ, RECEIVED_STATUSES, STR, THUTUC_FIELDS, THUTUC_REQUIRED, TS, Spec,
    valid_timestamp,
)
from parreport.quality.rules import BLOCKING_RULES, RULE_TITLES, WARNING_RULES
from parreport.timeutil import BadTimestamp, is_absent

__all__ = ["Violation", "RuleContext", "RULE_TITLES", "BLOCKING_RULES", "WARNING_RULES", "RECEIVED_STATUSES",
           "FINISHED_STATUSES", "parse_timestamp", "valid_timestamp", "check_dossier", "check_dossier_warnings",
           "check_rating", "check_procedure", "check_unit"]


@dataclass(frozen=True)
class Violation:
    rule: str  # one of RULE_TITLES
    field: str  # JSON path of the field, e.g. "DanhSachLePhi[0].Gia" ("" = the whole record)
    message: str  # plain Vietnamese for a data steward


@dataclass
class RuleContext:
    procedure_codes: set[str] = dc_field(default_factory=set)  # MaTTHC of the catalogue
    agency_units: set[str] = dc_field(default_factory=set)  # the agency and every unit below it


# ---------------------------------------------------------------------------------------------
# Timestamps
# ---------------------------------------------------------------------------------------------

_TS_RE = re.compile(r"[0-9]{14}")


def parse_timestamp(value: Any) -> datetime | None:
    """Same result as :func:`parreport.timeutil.parse_ts`, several times faster.

    ``strptime("%Y%m%d%H%M%S")`` on exactly 14 ASCII digits accepts a string iff every field
    is full width and valid, which is what the ``datetime`` constructor checks here (the
    golden tests compare both on tricky inputs).  None when absent; BadTimestamp otherwise.
    """
    if value is None or value == "":
        return None
    if type(value) is not str or len(value) != 14 or not _TS_RE.fullmatch(value):
        raise BadTimestamp(f"không đúng dạng yyyyMMddHHmmss: {value!r}")
    try:
        return datetime(int(value[0:4]), int(value[4:6]), int(value[6:8]),
                        int(value[8:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise BadTimestamp(f"không phải thời điểm có thật: {value!r}") from exc


_valid_ts = valid_timestamp


def _ts_problem(value: str) -> str | None:
    """None when ``value`` (a non-empty string) is a real ``yyyyMMddHHmmss`` instant."""
    if valid_timestamp(value):
        return None
    if _TS_RE.fullmatch(value):
        return "không phải thời điểm có thật"
    return "không đúng dạng yyyyMMddHHmmss"


_TYPE_NAMES = {STR: "chuỗi ký tự", TS: "chuỗi thời điểm yyyyMMddHHmmss", ENUM: "chuỗi mã",
               NUM: "số", INT: "số nguyên", LIST: "danh sách (mảng)", OBJ: "đối tượng"}


def _json_type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "giá trị đúng/sai"
    if isinstance(value, str):
        return "chuỗi ký tự"
    if isinstance(value, int):
        return "số nguyên"
    if isinstance(value, (float, Decimal)):
        return "số"
    if isinstance(value, (list, tuple)):
        return "danh sách (mảng)"
    if isinstance(value, dict):
        return "đối tượng"
    return type(value).__name__


def _show(value: Any) -> str:
    """A short, readable rendering of a (non-personal) value for a message."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"'{text}'" if isinstance(value, str) else text


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):  # booleans are not numbers
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Decimal):
        return value.is_finite()
    return False


def _is_integer(value: Any) -> bool:
    # JSON Schema: an integer is a number with a zero fractional part (3.0 is an integer).
    return _is_number(value) and value == int(value)


class _Checker:
    """Walks one record against a field table and collects violations."""

    def __init__(self) -> None:
        self.out: list[Violation] = []

    def add(self, rule: str, path: str, message: str) -> None:
        self.out.append(Violation(rule, path, message))

    # -- required fields -------------------------------------------------------------------
    def required(self, rec: dict, names: Iterable[str]) -> None:
        for name in names:
            if is_absent(rec.get(name)):
                self.add("missing_field", name, f"Thiếu trường bắt buộc {name}")

    # -- one field against its spec ---------------------------------------------------------
    def value(self, path: str, value: Any, spec: Spec) -> None:
        if value is None:
            return  # null means absent anywhere
        kind = spec.kind
        if kind is STR and type(value) is str:
            return  # the common case, first
        if value == "" and kind in (STR, TS, ENUM):
            return  # "" means absent in a text, code or timestamp field

        def shown() -> str:  # built only when there is something to report
            return "" if spec.personal else f" {_show(value)}"

        if kind in (STR, TS, ENUM):
            if not isinstance(value, str):
                self.add("bad_type", path, f"{path} phải là {_TYPE_NAMES[kind]}, nhưng nhận được "
                                           f"{_json_type_name(value)}{shown()}")
                return
            if kind == TS:
                self.timestamp(path, value, echo=True)
            elif kind == ENUM and value not in spec.values:
                allowed = ", ".join(f"'{v}'" for v in spec.values)
                self.add("bad_code", path, f"{path}{shown()} không thuộc danh mục mã cho phép ({allowed})")
        elif kind == NUM:
            if not _is_number(value):
                self.add("bad_type", path, f"{path} phải là số, nhưng nhận được "
                                           f"{_json_type_name(value)}{shown()}")
        elif kind == INT:
            if not _is_integer(value):
                what = ("số có phần thập phân" if _is_number(value) else _json_type_name(value))
                self.add("bad_type", path, f"{path} phải là số nguyên, nhưng nhận được {what}{shown()}")
        elif kind == LIST:
            if not isinstance(value, list):
                self.add("bad_type", path, f"{path} phải là danh sách (mảng), nhưng nhận được "
                                           f"{_json_type_name(value)}")
                return
            for i, item in enumerate(value):
                self.value(f"{path}[{i}]", item, spec.item)  # type: ignore[arg-type]
        elif kind == OBJ:
            if not isinstance(value, dict):
                self.add("bad_type", path, f"{path} phải là đối tượng, nhưng nhận được "
                                           f"{_json_type_name(value)}")
                return
            self.object(value, spec.fields or {}, prefix=f"{path}.")

    def object(self, obj: dict, fields: dict[str, Spec], prefix: str = "") -> None:
        for key, val in obj.items():
            spec = fields.get(key)
            if spec is None:
                self.unknown(f"{prefix}{key}", key, val)
                continue
            # Fast paths for the common, valid cases (half a million records per run).
            if val is None:
                continue
            kind = spec.kind
            if type(val) is str:
                if kind is STR or (kind is ENUM and (val in spec.values or val == "")):
                    continue
                if kind is TS and (val == "" or _valid_ts(val)):
                    continue
            elif kind is OBJ and type(val) is dict:
                self.object(val, spec.fields or {}, f"{prefix}{key}.")
                continue
            elif kind is LIST and type(val) is list and spec.item is not None and spec.item.kind is OBJ:
                for i, item in enumerate(val):
                    if type(item) is dict:
                        self.object(item, spec.item.fields or {}, f"{prefix}{key}[{i}].")
                    elif item is not None:
                        self.value(f"{prefix}{key}[{i}]", item, spec.item)
                continue
            self.value(f"{prefix}{key}", val, spec)

    # -- unknown fields: only the Ngay* timestamp rule applies (§5) --------------------------
    def unknown(self, path: str, key: Any, value: Any) -> None:
        if isinstance(key, str) and key.startswith("Ngay"):
            if is_absent(value):
                return
            if not isinstance(value, str):
                self.add("bad_timestamp", path, f"{path} không đúng dạng yyyyMMddHHmmss")
            else:
                self.timestamp(path, value, echo=False)
            return
        if isinstance(value, dict):
            for k, v in value.items():
                self.unknown(f"{path}.{k}", k, v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                if isinstance(v, (dict, list)):
                    self.unknown(f"{path}[{i}]", None, v)

    def timestamp(self, path: str, value: str, echo: bool) -> None:
        problem = _ts_problem(value)
        if problem is not None:
            shown = f" {_show(value)}" if echo else ""
            self.add("bad_timestamp", path, f"{path}{shown} {problem}")


def _record_type_error(rec: Any, what: str) -> list[Violation]:
    return [Violation("bad_type", "", f"Bản ghi {what} phải là đối tượng JSON, nhưng nhận được "
                                      f"{_json_type_name(rec)}")]


def _good_str(rec: dict, name: str) -> str | None:
    """The field's value when it is a usable (present, string) value, else None."""
    value = rec.get(name)
    return value if isinstance(value, str) and value != "" else None


# ---------------------------------------------------------------------------------------------
# Dossiers (HoSo)
# ---------------------------------------------------------------------------------------------

def check_dossier(rec: dict, ctx: RuleContext) -> list[Violation]:
    """Every blocking rule of §5 that the dossier ``rec`` breaks (empty list = valid)."""
    if not isinstance(rec, dict):
        return _record_type_error(rec, "hồ sơ")
    c = _Checker()
    c.required(rec, HOSO_REQUIRED)
    c.object(rec, HOSO_FIELDS)

    # Status-dependent rules need a readable status; a bad status is already reported.
    status = rec.get("TrangThaiHoSo")
    status = status if isinstance(status, str) and status in HOSO_FIELDS["TrangThaiHoSo"].values else None
    t_raw, k_raw = rec.get("NgayTiepNhan"), rec.get("NgayKetThucXuLy")
    if status in RECEIVED_STATUSES and is_absent(t_raw):
        c.add("received_without_T", "NgayTiepNhan",
              f"Hồ sơ ở trạng thái '{status}' (đã tiếp nhận) nhưng thiếu NgayTiepNhan")
    if status in FINISHED_STATUSES:
        # §2: "K on a dossier in any other status is ignored."
        if is_absent(k_raw):
            c.add("finished_without_K", "NgayKetThucXuLy",
                  f"Hồ sơ ở trạng thái '{status}' (đã kết thúc) nhưng thiếu NgayKetThucXuLy")
        else:
            # Valid timestamps compare as strings exactly as instants (see valid_timestamp).
            if valid_timestamp(t_raw) and valid_timestamp(k_raw) and k_raw < t_raw:
                c.add("K_before_T", "NgayKetThucXuLy",
                      f"NgayKetThucXuLy '{k_raw}' sớm hơn NgayTiepNhan '{t_raw}'")

    code = _good_str(rec, "MaTTHC")
    if code is not None and code not in ctx.procedure_codes:
        c.add("unknown_procedure", "MaTTHC",
              f"MaTTHC '{code}' không có trong danh mục thủ tục hành chính của cơ quan")
    unit = _good_str(rec, "DonViXuLy")
    if unit is not None and unit not in ctx.agency_units:
        c.add("unit_outside_agency", "DonViXuLy",
              f"DonViXuLy '{unit}' không thuộc cơ quan báo cáo hoặc các đơn vị trực thuộc")

    fees = rec.get("DanhSachLePhi")
    if isinstance(fees, list):
        for i, fee in enumerate(fees):
            if isinstance(fee, dict):
                gia = fee.get("Gia")
                if _is_number(gia) and gia < 0:
                    c.add("negative_fee", f"DanhSachLePhi[{i}].Gia",
                          f"DanhSachLePhi[{i}].Gia = {_show(gia)} là số tiền âm")

    eform = rec.get("ThongTinEForm")
    if isinstance(eform, dict):
        counts = {}
        for name in ("SoTruong", "SoTruongTuDong"):
            val = eform.get(name)
            if val is None:
                counts[name] = 0  # absent counts as 0, as in the figures' sums
            elif _is_integer(val):
                counts[name] = int(val)
                if val < 0:
                    c.add("bad_eform", f"ThongTinEForm.{name}",
                          f"ThongTinEForm.{name} = {_show(val)} là số âm")
            else:
                counts[name] = None  # bad_type already reported
        n, auto = counts["SoTruong"], counts["SoTruongTuDong"]
        # Compared only when both counts are usable and non-negative (a negative count is
        # already reported above; comparing it again would report one fault twice).
        if n is not None and auto is not None and n >= 0 and auto >= 0 and auto > n:
            c.add("bad_eform", "ThongTinEForm.SoTruongTuDong",
                  f"ThongTinEForm.SoTruongTuDong ({auto}) lớn hơn ThongTinEForm.SoTruong ({n})")
    return c.out


def check_dossier_warnings(rec: dict) -> list[Violation]:
    """Record-level warnings (§5): a due date earlier than the receipt (by calendar date)."""
    if not isinstance(rec, dict):
        return []
    t, h = rec.get("NgayTiepNhan"), rec.get("NgayHenTra")
    if valid_timestamp(t) and valid_timestamp(h) and h[:8] < t[:8]:  # [:8] = the calendar date
        return [Violation("due_before_receipt", "NgayHenTra",
                          f"NgayHenTra '{rec['NgayHenTra']}' sớm hơn ngày tiếp nhận "
                          f"NgayTiepNhan '{rec['NgayTiepNhan']}'")]
    return []


# ---------------------------------------------------------------------------------------------
# Ratings (DanhGia), procedures (ThuTuc), units (DonVi)
# ---------------------------------------------------------------------------------------------

def check_rating(rec: dict, ctx: RuleContext) -> list[Violation]:
    """A rating judged on its own (§5): required fields, types, MucDoHaiLong, NgayDanhGia and
    DonViXuLy inside the agency.  Whether the rated dossier is valid does not matter."""
    if not isinstance(rec, dict):
        return _record_type_error(rec, "đánh giá")
    c = _Checker()
    c.required(rec, DANHGIA_REQUIRED)
    c.object(rec, DANHGIA_FIELDS)
    unit = _good_str(rec, "DonViXuLy")
    if unit is not None and unit not in ctx.agency_units:
        c.add("unit_outside_agency", "DonViXuLy",
              f"DonViXuLy '{unit}' của đánh giá không thuộc cơ quan báo cáo hoặc các đơn vị trực thuộc")
    return c.out


def check_procedure(rec: dict) -> list[Violation]:
    """Required fields, types and codes of a catalogue entry (ThuTuc)."""
    if not isinstance(rec, dict):
        return _record_type_error(rec, "thủ tục")
    c = _Checker()
    c.required(rec, THUTUC_REQUIRED)
    c.object(rec, THUTUC_FIELDS)
    return c.out


def check_unit(rec: dict) -> list[Violation]:
    """Required fields, types and codes of an organisation unit (DonVi)."""
    if not isinstance(rec, dict):
        return _record_type_error(rec, "đơn vị")
    c = _Checker()
    c.required(rec, DONVI_REQUIRED)
    c.object(rec, DONVI_FIELDS)
    return c.out
