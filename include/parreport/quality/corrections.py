"""Data stewards' corrections: recorded with an audit trail, applied before every validation
until the portal itself carries the corrected value (INDICATORS.md §5).

A correction names one dossier (MaHoSo, in one agency × window), one field of the contract's
HoSo schema as a path (``NgayHenTra``, ``ThuXinLoi.SoThu``, ``DanhSachLePhi[0].Gia``; a whole
object or list may be replaced too), the new value as JSON, a reason and who made it.

Life of a correction (``status``):

* ``HIEU_LUC`` — in force: applied to the staged record before each validation;
* ``CONG_DA_SUA`` — the portal now sends the same value itself: no longer applied (superseded);
* ``DA_THAY_THE`` — a later correction of the same dossier and field replaced it;
* ``DA_HUY`` — revoked by a steward.

Every change is an event in ``correction_events`` (who, when, what). The staged record the
figures read is the corrected one; the portal's own copy is kept in ``corrected_dossiers`` so
that a validation re-run without a re-load still compares with what the portal sent.

Readings: a correction whose value the portal already carries is refused (nothing to correct);
a value that would itself break a rule of §5 (wrong JSON type, a code outside its list, an
unreadable timestamp) is refused; personal-data fields and MaHoSo cannot be corrected; an index
must exist in the portal's list (``DanhSachLePhi[3]`` on a list of two is refused); a missing
object on the way (``ThuXinLoi`` absent) is created.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

from .. import store as st
from .contract import ENUM, HOSO_FIELDS, LIST, OBJ, TS, Spec, valid_timestamp
from .frames import ABSENT, allowed_types, json_type

__all__ = ["CorrectionError", "parse_field", "add_correction", "list_corrections", "revoke_correction",
           "apply_corrections", "get_at", "set_at", "ACTIVE", "STATUS_TITLES"]

ACTIVE = "HIEU_LUC"
STATUS_TITLES = {"HIEU_LUC": "đang áp dụng", "CONG_DA_SUA": "Cổng DVC đã sửa (hết áp dụng)",
                 "DA_THAY_THE": "đã được thay bằng sửa đổi sau", "DA_HUY": "đã hủy"}
_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\.")
_MISSING = object()


class CorrectionError(ValueError):
    """A correction refused; the message is Vietnamese, for the steward."""


def parse_field(text: str) -> tuple[list[str | int], Spec]:
    """``DanhSachLePhi[0].Gia`` → ``["DanhSachLePhi", 0, "Gia"]`` and the field's spec.
    Refuses anything that is not a field of the contract's HoSo schema."""
    if not isinstance(text, str) or not text.strip():
        raise CorrectionError("Chưa ghi tên trường cần sửa (ví dụ NgayHenTra, ThuXinLoi.SoThu, "
                              "DanhSachLePhi[0].Gia).")
    text = text.strip()
    tokens: list[str | int] = []
    pos, expect_name = 0, True
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise CorrectionError(f"Tên trường '{text}' không đúng cú pháp (ví dụ hợp lệ: NgayHenTra, "
                                  f"ThuXinLoi.SoThu, DanhSachLePhi[0].Gia).")
        name, index = m.group(1), m.group(2)
        if name is not None:
            if not expect_name:
                raise CorrectionError(f"Tên trường '{text}' không đúng cú pháp: thiếu dấu chấm trước '{name}'.")
            tokens.append(name)
            expect_name = False
        elif index is not None:
            if expect_name:
                raise CorrectionError(f"Tên trường '{text}' không đúng cú pháp.")
            tokens.append(int(index))
        else:  # "."
            if expect_name:
                raise CorrectionError(f"Tên trường '{text}' không đúng cú pháp.")
            expect_name = True
        pos = m.end()
    if expect_name:
        raise CorrectionError(f"Tên trường '{text}' không đúng cú pháp.")
    spec: Spec | None = None
    fields: dict[str, Spec] | None = HOSO_FIELDS
    walked = ""
    for tok in tokens:
        if isinstance(tok, int):
            if spec is None or spec.kind != LIST:
                raise CorrectionError(f"'{walked}' không phải là danh sách nên không dùng được chỉ số [{tok}].")
            spec = spec.item
            walked += f"[{tok}]"
            fields = spec.fields if spec is not None and spec.kind == OBJ else None
        else:
            if fields is None or tok not in fields:
                where = f"trong {walked}" if walked else "trong hồ sơ (HoSo)"
                raise CorrectionError(f"Trường '{text}' không có trong hợp đồng dữ liệu: không có '{tok}' {where}.")
            spec = fields[tok]
            walked += ("." if walked else "") + tok
            fields = spec.fields if spec.kind == OBJ else None
    assert spec is not None
    if tokens[0] == "MaHoSo":
        raise CorrectionError("Không sửa được MaHoSo: đó là mã để nhận biết hồ sơ; hãy đề nghị Cổng DVC sửa.")
    if _has_personal(spec):
        raise CorrectionError(f"Trường '{text}' chứa dữ liệu cá nhân: hệ thống không lưu dữ liệu này nên "
                              f"không ghi sửa đổi cho nó.")
    return tokens, spec


def _has_personal(spec: Spec) -> bool:
    if spec.personal:
        return True
    if spec.kind == LIST and spec.item is not None:
        return _has_personal(spec.item)
    if spec.kind == OBJ:
        return any(_has_personal(s) for s in (spec.fields or {}).values())
    return False


def format_field(tokens: list[str | int]) -> str:
    out = ""
    for tok in tokens:
        out += f"[{tok}]" if isinstance(tok, int) else (("." if out else "") + tok)
    return out


def get_at(rec: Any, tokens: list[str | int]) -> Any:
    """The value at the path, or the module's _MISSING marker."""
    cur = rec
    for tok in tokens:
        if isinstance(tok, int):
            if not isinstance(cur, list) or tok >= len(cur):
                return _MISSING
            cur = cur[tok]
        else:
            if not isinstance(cur, dict) or tok not in cur:
                return _MISSING
            cur = cur[tok]
    return cur


def set_at(rec: dict, tokens: list[str | int], value: Any) -> dict:
    """A copy of ``rec`` with ``value`` at the path; objects missing on the way are created.
    Raises CorrectionError when the path cannot be reached (an index beyond the list, a
    container of the wrong type)."""
    out = copy.deepcopy(rec)
    cur: Any = out
    for i, tok in enumerate(tokens):
        last = i == len(tokens) - 1
        shown = format_field(tokens[:i + 1])
        if isinstance(tok, int):
            if not isinstance(cur, list) or tok >= len(cur):
                raise CorrectionError(f"Hồ sơ không có phần tử {shown} (danh sách của Cổng DVC ngắn hơn).")
            if last:
                cur[tok] = value
            else:
                if cur[tok] is None:
                    cur[tok] = {}
                cur = cur[tok]
        else:
            if not isinstance(cur, dict):
                raise CorrectionError(f"Không ghi được {shown}: phần cha không phải là đối tượng.")
            if last:
                cur[tok] = value
            else:
                if cur.get(tok) is None:
                    if isinstance(tokens[i + 1], int):
                        raise CorrectionError(f"Hồ sơ không có danh sách {shown}.")
                    cur[tok] = {}
                cur = cur[tok]
    return out


_KIND_VI = {"str": "chuỗi ký tự", "ts": "chuỗi thời điểm yyyyMMddHHmmss", "enum": "chuỗi mã", "num": "số",
            "int": "số nguyên", "list": "danh sách (mảng)", "obj": "đối tượng"}


def _value_problems(path: str, value: Any, spec: Spec) -> list[str]:
    """Refuse a value the contract does not allow in that field (its JSON kind, its codes, a real
    instant), before anything is stored — the steward's input, stated with the same facts the
    suites judge (frames.json_type); the corrected record is then judged by the suites like any
    other at the next validation."""
    kind = spec.kind
    found = json_type(value, kind)
    if found == ABSENT:
        return []
    if found not in allowed_types(kind):
        return [f"{path} phải là {_KIND_VI[kind]}, nhưng nhận được {found}"]
    if kind == TS and not valid_timestamp(value):
        why = "không phải thời điểm có thật" if re.fullmatch(r"[0-9]{14}", value) else "không đúng dạng yyyyMMddHHmmss"
        return [f"{path} '{value}' {why}"]
    if kind == ENUM and value not in spec.values:
        return [f"{path} '{value}' không thuộc danh mục mã cho phép ({', '.join(repr(v) for v in spec.values)})"]
    out: list[str] = []
    if kind == LIST and spec.item is not None:
        for i, item in enumerate(value):
            out += _value_problems(f"{path}[{i}]", item, spec.item)
    elif kind == OBJ:
        for k, v in value.items():
            if k in (spec.fields or {}):
                out += _value_problems(f"{path}.{k}", v, spec.fields[k])
    return out


@dataclass
class _Staged:
    seq: int
    ma_ho_so: str
    original: dict  # as the portal sent it


def _staged_original(store: st.Store, agency: str, window_key: str, ma_ho_so: str) -> _Staged | None:
    row = store.staged_dossier(agency, window_key, ma_ho_so)
    if row is None:
        return None
    saved = store.corrected_copies(agency, window_key, row["seq"]).get(row["seq"])
    original = row["record"]
    if saved is not None and saved["corrected"] == row["record"]:
        original = saved["original"]
    return _Staged(row["seq"], row["ma_ho_so"], original)


def add_correction(store: st.Store, agency: str, window_key: str, *, ma_ho_so: str, field: str, value: str,
                   reason: str, by: str) -> dict:
    """Record a correction; returns it as a dict. Raises CorrectionError (nothing changed)."""
    ma_ho_so = (ma_ho_so or "").strip()
    reason, by = (reason or "").strip(), (by or "").strip()
    if not ma_ho_so:
        raise CorrectionError("Chưa ghi MaHoSo của hồ sơ cần sửa.")
    if not reason:
        raise CorrectionError("Cần ghi lý do sửa (--reason).")
    if not by:
        raise CorrectionError("Cần ghi tên người sửa (--by).")
    tokens, spec = parse_field(field)
    path = format_field(tokens)
    try:
        new_value = json.loads(value)
    except (TypeError, ValueError) as exc:
        raise CorrectionError(
            f"Giá trị mới {value!r} không phải JSON hợp lệ ({exc}). Chuỗi phải đặt trong nháy kép, ví dụ "
            f"'\"20250320170000\"'; số viết không có nháy, ví dụ 50000; null để xóa giá trị.") from exc
    problems = _value_problems(path, new_value, spec)
    if problems:
        raise CorrectionError("Giá trị mới không hợp lệ: " + "; ".join(problems))
    staged = _staged_original(store, agency, window_key, ma_ho_so)
    if staged is None:
        raise CorrectionError(f"Không có hồ sơ MaHoSo '{ma_ho_so}' trong dữ liệu đã nạp của đơn vị {agency}, "
                              f"kỳ {window_key}. Kiểm tra lại mã hồ sơ, đơn vị và quý.")
    old = get_at(staged.original, tokens)
    set_at(staged.original, tokens, new_value)  # raises when the path cannot be reached
    if old is not _MISSING and old == new_value and type(old) is type(new_value):
        raise CorrectionError(f"Cổng DVC đã có đúng giá trị này cho {path} của hồ sơ '{ma_ho_so}': "
                              f"không cần sửa.")
    cid = store.add_correction(agency, window_key, {
        "ma_ho_so": ma_ho_so, "field": path, "value_json": json.dumps(new_value, ensure_ascii=False),
        "old_json": None if old is _MISSING else json.dumps(old, ensure_ascii=False),
        "reason": reason, "created_by": by, "created_at": st.utcnow(), "status": ACTIVE},
        in_force=ACTIVE, event="TAO", detail={"ly_do": reason, "truong": path},
        replaced="DA_THAY_THE", replaced_event="DA_THAY_THE", replaced_note="thay bằng sửa đổi #{id}")
    return next(c for c in list_corrections(store, agency, window_key) if c["id"] == cid)


def revoke_correction(store: st.Store, correction_id: int, *, reason: str, by: str) -> dict:
    reason, by = (reason or "").strip(), (by or "").strip()
    if not reason or not by:
        raise CorrectionError("Cần ghi lý do (--reason) và người hủy (--by).")
    row = store.close_correction(correction_id, status="DA_HUY", note=reason, event="DA_HUY", actor=by,
                                 detail={"ly_do": reason}, only_if=ACTIVE)
    if row is None:
        raise CorrectionError(f"Không có sửa đổi số {correction_id}.")
    if row["status"] != ACTIVE:
        raise CorrectionError(f"Sửa đổi số {correction_id} không còn hiệu lực "
                              f"({STATUS_TITLES.get(row['status'], row['status'])}).")
    return dict(row, status="DA_HUY")


def list_corrections(store: st.Store, agency: str, window_key: str, *, active_only: bool = False) -> list[dict]:
    rows = store.corrections(agency, window_key, status=ACTIVE if active_only else None)
    events = store.correction_events(agency, window_key)
    by_id: dict[int, list[dict]] = {}
    for e in events:
        by_id.setdefault(e["correction_id"], []).append(e)
    for r in rows:
        r["value"] = json.loads(r["value_json"])
        r["old_value"] = None if r["old_json"] is None else json.loads(r["old_json"])
        r["events"] = by_id.get(r["id"], [])
    return rows


def apply_corrections(store: st.Store, agency: str, window_key: str, rows: list[dict] | None = None) -> dict:
    """Apply the partition's corrections in force to the staged dossier ``rows`` (dicts with
    seq, ma_ho_so, record; updated in place and in the store) before validation. Without
    ``rows``, the rows concerned are read from the store: those a correction names and those a
    previous validation corrected (every other row is left as it is either way).

    Each row's portal copy is found first (the stored one when the staged record is the one
    this function wrote last time). A correction whose value the portal now carries becomes
    ``CONG_DA_SUA``; one that cannot be applied (an index the portal's list no longer has)
    stays in force and is reported. Returns counts and the corrected MaHoSo."""
    active = list_corrections(store, agency, window_key, active_only=True)
    saved = store.corrected_copies(agency, window_key)
    by_ref: dict[str, list[dict]] = {}
    for c in active:
        by_ref.setdefault(c["ma_ho_so"], []).append(c)
    if rows is None:
        rows = store.staged_dossiers_named(agency, window_key, set(saved), set(by_ref))
    superseded, failed, applied_ids = [], [], []
    keep_rows, updates = [], []
    found_refs = set()
    for row in rows:
        previous = saved.get(row["seq"])
        original = previous["original"] if previous is not None and previous["corrected"] == row["record"] \
            else row["record"]
        ref = row.get("ma_ho_so")
        fixes = by_ref.get(ref, []) if ref else []
        record = original
        used = []
        for c in fixes:
            found_refs.add(ref)
            tokens, _ = parse_field(c["field"])
            portal_value = get_at(original, tokens)
            if portal_value is not _MISSING and portal_value == c["value"] and type(portal_value) is type(c["value"]):
                superseded.append(c)
                continue
            if not isinstance(record, dict):
                failed.append((c, "bản ghi không phải đối tượng JSON"))
                continue
            try:
                record = set_at(record, tokens, c["value"])
            except CorrectionError as exc:
                failed.append((c, str(exc)))
                continue
            used.append(c["id"])
        if used:
            keep_rows.append({"seq": row["seq"], "ma_ho_so": ref, "original": original, "corrected": record,
                              "correction_ids": used})
            applied_ids.extend(used)
        if record != row["record"]:
            updates.append((row["seq"], record))
            row["record"] = record
        row["corrected"] = bool(used)
    store.apply_corrections(
        agency, window_key, records=updates, actor="he_thong", copies=keep_rows,
        closed=[(c["id"], "CONG_DA_SUA", "Cổng DVC đã gửi đúng giá trị đã sửa; không cần áp dụng nữa", "CONG_DA_SUA",
                 {"gia_tri": c["value"]}) for c in superseded],
        events=[(c["id"], "KHONG_AP_DUNG", {"ly_do": why}) for c, why in failed]
        + [(cid, "AP_DUNG", {}) for cid in applied_ids])
    not_found = sorted({c["ma_ho_so"] for c in active} - found_refs)
    return {"applied": len(applied_ids), "corrected_dossiers": len(keep_rows),
            "corrected_refs": sorted(r["ma_ho_so"] for r in keep_rows if r["ma_ho_so"]),
            "superseded": [c["id"] for c in superseded], "failed": [(c["id"], why) for c, why in failed],
            "not_found": not_found}
