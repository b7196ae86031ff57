"""The report's figures: Biểu 06, the indicator catalogue, identities, reconciliation.

Pure functions, no I/O.  Normative text: INDICATORS.md §2 (which dossiers count), §3 (Biểu 06),
§4 (indicators).  Every number is built from :func:`classify`, one dossier at a time, so each
cell can be traced back to the MaHoSo behind it (:func:`bieu06_members`,
:func:`indicator_members`).

Inputs are *valid* records (de-duplicated, then validated by ``parreport.quality``).  The
functions do not re-validate; a record that cannot be classified (unreadable timestamp, a
MaTTHC missing from the catalogue) raises ``ValueError`` instead of being miscounted silently.

Readings taken where the text is open:

* Lĩnh vực of a dossier: the catalogue entry of its MaTTHC decides (§3 "MaLinhVuc, TenLinhVuc
  from the procedure catalogue"); the dossier's own MaLinhVuc/TenLinhVuc are ignored.  When the
  catalogue holds several entries for one MaTTHC (one per implementing unit), the entry is
  chosen by preference: MaDonViThucHien = the dossier's DonViXuLy and in force; then
  MaDonViThucHien = DonViXuLy; then in force; then any; ties to the first in catalogue order.
  The same entry supplies MucDo / CoPhiLePhi / ThanhToanTrucTuyen for the dossier indicators
  (HieuLuc does not exclude a dossier: it only scopes the *procedure* indicators).
* TenLinhVuc of a row: from the first in-force catalogue entry with that MaLinhVuc (else the
  first entry), Unicode-NFC-normalised.  Rows are sorted by MaLinhVuc as plain strings.
* Catalogue entries delivered twice while paging are de-duplicated by (MaTTHC, MaDonViThucHien)
  (``quality.dedupe_procedures``) before anything is counted.
* TiepNhan.Tong, DaGiaiQuyet.Tong and DangGiaiQuyet.Tong are counted per dossier (not as sums
  of their parts), so :func:`check_identities` is a real check.
* GiaTri is emitted as a ``float`` made from the exact 2-decimal value (computed with integer
  arithmetic, half-up); ``float(Decimal("1.01"))`` prints as ``1.01``, so JSON/RFC 8785 output
  is the intended decimal.  MucTieu is emitted as an ``int`` when whole, else a ``float``.
  DatMucTieu compares ``Fraction(TuSo, MauSo) >= Fraction(MucTieu) / 100`` exactly.
* "ThuXinLoi has a non-empty SoThu" and "DuongDanTep is non-empty" are read literally: a
  string of length > 0.
* e-form sums: an absent SoTruong / SoTruongTuDong inside a present ThongTinEForm adds 0;
  ``ThongTinEForm: {}`` is present (and adds nothing).
* Reconciliation: a portal cell that is absent or null compares as 0 (like a missing row);
  a cell that is not an integer (a string, a fraction, a boolean) cannot be compared and is
  skipped, and :func:`portal_bieu06_problems` lists it for the data-quality section.  Portal
  rows with the same MaLinhVuc are added up; a portal row without a usable MaLinhVuc is
  skipped (and listed as a problem).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterable, Mapping

from .periods import Window
from .quality.dedupe import dedupe_procedures
from .quality.contract import FINISHED_STATUSES, RECEIVED_STATUSES, valid_timestamp
from .targets import INDICATOR_CODES
from .timeutil import format_ts

__all__ = [
    "Classification",
    "classify",
    "BIEU06_COLUMNS",
    "TOTAL_CODE",
    "TOTAL_NAME",
    "INDICATOR_NAMES",
    "ProcedureIndex",
    "compute_bieu06",
    "bieu06_members",
    "compute_indicators",
    "indicator_members",
    "scopes_of",
    "percent",
    "meets_target",
    "check_identities",
    "reconcile_bieu06",
    "portal_bieu06_problems",
]

TOTAL_CODE = "TONG"
TOTAL_NAME = "Tổng cộng"

# Column order of a Biểu 06 row (report-api.yaml Bieu06Dong); "Group.Column" paths.
BIEU06_LAYOUT: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("TiepNhan", ("Tong", "TrucTuyen", "TrucTiepBuuChinh", "KyTruocChuyenSang")),
    ("DaGiaiQuyet", ("Tong", "TruocHan", "DungHan", "QuaHan")),
    ("DangGiaiQuyet", ("Tong", "TrongHan", "QuaHan")),
)
BIEU06_COLUMNS: tuple[str, ...] = tuple(f"{g}.{c}" for g, cols in BIEU06_LAYOUT for c in cols)
_COL_INDEX = {name: i for i, name in enumerate(BIEU06_COLUMNS)}

INDICATOR_NAMES: dict[str, str] = {
    "TTHC_MOT_CUA": "Tỷ lệ TTHC được tiếp nhận theo cơ chế một cửa tại Trung tâm Phục vụ hành chính "
                    "công tỉnh (trừ TTHC đặc thù)",
    "TTHC_BON_TAI_CHO": "Tỷ lệ TTHC thực hiện theo mô hình \"4 tại chỗ\"",
    "TTHC_TRUC_TUYEN": "Tỷ lệ TTHC đủ điều kiện được cung cấp dịch vụ công trực tuyến "
                       "(một phần hoặc toàn trình)",
    "TTHC_THANH_TOAN_TRUC_TUYEN": "Tỷ lệ TTHC có phí, lệ phí được thanh toán trực tuyến",
    "HS_TRUC_TUYEN": "Tỷ lệ hồ sơ nộp trực tuyến trên tổng số hồ sơ của TTHC được cung cấp "
                     "dịch vụ công trực tuyến",
    "HS_THANH_TOAN_TRUC_TUYEN": "Tỷ lệ hồ sơ có phí, lệ phí được thanh toán trực tuyến",
    "HS_DUNG_HAN": "Tỷ lệ hồ sơ được giải quyết trước hạn và đúng hạn",
    "HS_XIN_LOI": "Tỷ lệ hồ sơ trễ hạn có thư xin lỗi",
    "HS_KET_QUA_DIEN_TU": "Tỷ lệ hồ sơ có kết quả giải quyết TTHC được cấp dưới dạng điện tử",
    "HS_EFORM_TU_DONG": "Tỷ lệ trường thông tin trên biểu mẫu điện tử được điền tự động từ dữ liệu "
                        "sẵn có",
    "HS_DONG_BO_DVCQG": "Tỷ lệ hồ sơ được đồng bộ lên Cổng Dịch vụ công quốc gia",
    "HL_HAI_LONG": "Tỷ lệ người dân, doanh nghiệp hài lòng với việc giải quyết TTHC",
}
assert tuple(INDICATOR_NAMES) == INDICATOR_CODES

_ONLINE = "2"
_IN_PERSON_OR_POST = frozenset({"1", "3", "", None})  # §2: "1", "3", empty or null


# ---------------------------------------------------------------------------------------------
# One dossier
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Classification:
    """Where one dossier stands in a window (INDICATORS.md §2)."""

    ma_ho_so: str | None
    received: bool  # status 2 or 4–10 and T present
    finished: bool  # status 7–10 (K present: a valid finished dossier has K)
    new: bool  # received in the window: received and S <= T <= E
    carried_over: bool  # KyTruocChuyenSang: received, T < S and (not finished or K >= S)
    online_new: bool  # TrucTuyen: new and KenhThucHien = "2"
    offline_new: bool  # TrucTiepBuuChinh: new and KenhThucHien "1", "3", "" or null
    resolved: str | None  # DaGiaiQuyet: "early" | "on_time" | "late" | None
    in_progress: str | None  # DangGiaiQuyet at E: "within" | "overdue" | None

    @property
    def counted(self) -> bool:
        """In TiepNhan.Tong (carried over or newly received)."""
        return self.carried_over or self.new

    @property
    def late(self) -> bool:
        """In DaGiaiQuyet.QuaHan or DangGiaiQuyet.QuaHan (the HS_XIN_LOI denominator)."""
        return self.resolved == "late" or self.in_progress == "overdue"

    def cells(self) -> list[str]:
        """The Biểu 06 columns ("Group.Column") this dossier is counted in."""
        out: list[str] = []
        if self.counted:
            out.append("TiepNhan.Tong")
            if self.online_new:
                out.append("TiepNhan.TrucTuyen")
            if self.offline_new:
                out.append("TiepNhan.TrucTiepBuuChinh")
            if self.carried_over:
                out.append("TiepNhan.KyTruocChuyenSang")
        if self.resolved is not None:
            out.append("DaGiaiQuyet.Tong")
            out.append({"early": "DaGiaiQuyet.TruocHan", "on_time": "DaGiaiQuyet.DungHan",
                        "late": "DaGiaiQuyet.QuaHan"}[self.resolved])
        if self.in_progress is not None:
            out.append("DangGiaiQuyet.Tong")
            out.append("DangGiaiQuyet.TrongHan" if self.in_progress == "within" else "DangGiaiQuyet.QuaHan")
        return out


def _ts(dossier: Mapping, name: str) -> str | None:
    """The field's timestamp as its validated ``yyyyMMddHHmmss`` string; None when absent.

    Valid timestamps of fixed width compare as strings exactly as the instants they name,
    and ``value[:8]`` is the calendar date (local time), so nothing needs parsing here: that
    keeps half a million dossiers within a few seconds.
    """
    value = dossier.get(name)
    if value is None or value == "":
        return None
    if not valid_timestamp(value):
        raise ValueError(f"hồ sơ {dossier.get('MaHoSo')!r}: {name} {value!r} không đọc được; "
                         "chỉ truyền hồ sơ đã kiểm tra hợp lệ vào phần tính số liệu")
    return value


def _classify(d: Mapping, start: str, end: str, end_date: str) -> Classification:
    """``start``/``end``: S and E as ``yyyyMMddHHmmss``; ``end_date``: date(E) as ``yyyyMMdd``."""
    status = d.get("TrangThaiHoSo")
    # §2 Received: status 2 or 4–10 and T present; status 1 / 3 count nowhere, whatever T says.
    if status not in RECEIVED_STATUSES:
        return Classification(d.get("MaHoSo"), False, False, False, False, False, False, None, None)
    t = _ts(d, "NgayTiepNhan")
    if t is None:
        return Classification(d.get("MaHoSo"), False, False, False, False, False, False, None, None)
    # §2 Finished: status 7–10, ended at K.  "K on a dossier in any other status is ignored."
    finished = status in FINISHED_STATUSES
    k = _ts(d, "NgayKetThucXuLy") if finished else None
    if finished and k is None:
        raise ValueError(f"hồ sơ {d.get('MaHoSo')!r}: đã kết thúc nhưng thiếu NgayKetThucXuLy")
    new = start <= t <= end
    carried_over = t < start and (not finished or k >= start)  # type: ignore[operator]
    channel = d.get("KenhThucHien")
    online_new = new and channel == _ONLINE
    offline_new = new and channel in _IN_PERSON_OR_POST
    h = _ts(d, "NgayHenTra")
    resolved = None
    in_progress = None
    if finished and start <= k <= end:  # type: ignore[operator]
        # Compared by calendar date ([:8]); no due date = never late (DungHan).
        if h is None:
            resolved = "on_time"
        else:
            kd, hd = k[:8], h[:8]  # type: ignore[index]
            resolved = "early" if kd < hd else ("on_time" if kd == hd else "late")
    elif t <= end and (not finished or k > end):  # type: ignore[operator]
        # Still in progress at the cut-off ("the status is the one at extraction time, so a
        # dossier finished after E was still in progress at the cut-off").
        in_progress = "overdue" if (h is not None and h[:8] <= end_date) else "within"
    return Classification(d.get("MaHoSo"), True, finished, new, carried_over, online_new,
                          offline_new, resolved, in_progress)


def _bounds(window: Window) -> tuple[str, str, str]:
    """S, E as ``yyyyMMddHHmmss`` and date(E) as ``yyyyMMdd``."""
    start, end = format_ts(window.start), format_ts(window.end)
    return start, end, end[:8]


def classify(dossier: Mapping, window: Window) -> Classification:
    """Classify one (valid) dossier against ``window`` (INDICATORS.md §2)."""
    return _classify(dossier, *_bounds(window))


# ---------------------------------------------------------------------------------------------
# The procedure catalogue
# ---------------------------------------------------------------------------------------------

def _nfc(value: Any) -> Any:
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


class ProcedureIndex:
    """Catalogue look-ups: the entry of a dossier's MaTTHC, and the name of each lĩnh vực."""

    def __init__(self, procedures: Iterable[Mapping]):
        self.entries: list[Mapping] = [p for p in dedupe_procedures(procedures).records
                                       if isinstance(p, Mapping)]
        self._by_code: dict[str, list[Mapping]] = {}
        self._names: dict[str, tuple[int, str]] = {}
        for p in self.entries:
            code = _nfc(p.get("MaTTHC"))
            if not isinstance(code, str):
                continue
            self._by_code.setdefault(code, []).append(p)
            field = _nfc(p.get("MaLinhVuc"))
            if isinstance(field, str):
                rank = 0 if p.get("HieuLuc") == "1" else 1
                name = _nfc(p.get("TenLinhVuc")) if isinstance(p.get("TenLinhVuc"), str) else ""
                if field not in self._names or rank < self._names[field][0]:
                    self._names[field] = (rank, name)
        self._cache: dict[tuple[Any, Any], Mapping | None] = {}

    def lookup(self, code: Any, unit: Any = None) -> Mapping | None:
        """The catalogue entry for MaTTHC ``code`` of a dossier processed by ``unit``."""
        key = (code, unit)
        if key in self._cache:
            return self._cache[key]
        candidates = self._by_code.get(_nfc(code)) if isinstance(code, str) else None
        best = None
        if candidates:
            def pref(p: Mapping) -> int:
                same_unit = p.get("MaDonViThucHien") == unit
                in_force = p.get("HieuLuc") == "1"
                return (0 if same_unit else 2) + (0 if in_force else 1)
            best = min(candidates, key=pref)  # min() keeps the first of equal preference
        self._cache[key] = best
        return best

    def require(self, dossier: Mapping) -> Mapping:
        entry = self.lookup(dossier.get("MaTTHC"), dossier.get("DonViXuLy"))
        if entry is None:
            raise ValueError(f"hồ sơ {dossier.get('MaHoSo')!r}: MaTTHC {dossier.get('MaTTHC')!r} "
                             "không có trong danh mục thủ tục (hồ sơ lẽ ra đã bị loại khi kiểm tra)")
        return entry

    def field_of(self, dossier: Mapping) -> str:
        field = _nfc(self.require(dossier).get("MaLinhVuc"))
        if not isinstance(field, str):
            raise ValueError(f"thủ tục {dossier.get('MaTTHC')!r} không có MaLinhVuc trong danh mục")
        return field

    def field_name(self, field: str) -> str:
        return self._names.get(field, (1, ""))[1]


# ---------------------------------------------------------------------------------------------
# Biểu 06
# ---------------------------------------------------------------------------------------------

def _row(code: str, name: str, counts: list[int]) -> dict:
    row: dict[str, Any] = {"MaLinhVuc": code, "TenLinhVuc": name}
    i = 0
    for group, cols in BIEU06_LAYOUT:
        row[group] = {}
        for col in cols:
            row[group][col] = counts[i]
            i += 1
    return row


def _accumulate_bieu06(dossiers: Iterable[Mapping], procedures: Iterable[Mapping], window: Window,
                       members: dict[str, dict[str, list]] | None = None):
    index = procedures if isinstance(procedures, ProcedureIndex) else ProcedureIndex(procedures)
    start, end, end_date = _bounds(window)
    width = len(BIEU06_COLUMNS)
    counts: dict[str, list[int]] = {}
    for d in dossiers:
        c = _classify(d, start, end, end_date)
        if not c.received:
            continue
        cells = c.cells()
        if not cells:
            continue  # received, but finished before S or received after E
        field = index.field_of(d)
        row = counts.get(field)
        if row is None:
            row = counts[field] = [0] * width
        for cell in cells:
            row[_COL_INDEX[cell]] += 1
        if members is not None:
            for target in (field, TOTAL_CODE):
                bucket = members.setdefault(target, {})
                for cell in cells:
                    bucket.setdefault(cell, []).append(c.ma_ho_so)
    return index, counts


def compute_bieu06(dossiers: Iterable[Mapping], procedures: Iterable[Mapping], window: Window) -> list[dict]:
    """Biểu 06 rows (report-api.yaml Bieu06Dong): one per non-empty lĩnh vực in ascending
    MaLinhVuc, then the "TONG" / "Tổng cộng" row (always present)."""
    index, counts = _accumulate_bieu06(dossiers, procedures, window)
    rows = []
    total = [0] * len(BIEU06_COLUMNS)
    for field in sorted(counts):
        cells = counts[field]
        if not any(cells):  # §3: an all-zero lĩnh vực row is left out
            continue
        rows.append(_row(field, index.field_name(field), cells))
        total = [a + b for a, b in zip(total, cells)]
    rows.append(_row(TOTAL_CODE, TOTAL_NAME, total))
    return rows


def bieu06_members(dossiers: Iterable[Mapping], procedures: Iterable[Mapping],
                   window: Window) -> dict[str, dict[str, list]]:
    """Traceability: ``{MaLinhVuc or "TONG": {"DaGiaiQuyet.QuaHan": [MaHoSo, ...], ...}}``,
    MaHoSo in input order; a cell with no dossier is absent."""
    members: dict[str, dict[str, list]] = {}
    _accumulate_bieu06(dossiers, procedures, window, members)
    return members


def _cell(row: Mapping, column: str) -> Any:
    group, col = column.split(".")
    part = row.get(group)
    return part.get(col) if isinstance(part, Mapping) else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_identities(rows: list[dict]) -> list[str]:
    """The identities of §2 on every Biểu 06 row, and TONG = the sum of the lĩnh vực rows.
    Returns problems in Vietnamese; an empty list means everything holds."""
    problems: list[str] = []
    field_rows: list[Mapping] = []
    total_rows: list[Mapping] = []
    for row in rows:
        code = row.get("MaLinhVuc") if isinstance(row, Mapping) else None
        label = f"Dòng {code!r}" if code != TOTAL_CODE else "Dòng TONG"
        if not isinstance(row, Mapping):
            problems.append(f"Một dòng Biểu 06 không phải là đối tượng: {row!r}")
            continue
        values = {}
        for column in BIEU06_COLUMNS:
            v = _cell(row, column)
            if not _is_int(v) or v < 0:
                problems.append(f"{label}: ô {column} phải là số nguyên không âm, nhận được {v!r}")
            else:
                values[column] = v
        (total_rows if code == TOTAL_CODE else field_rows).append(row)
        if len(values) != len(BIEU06_COLUMNS):
            continue
        g = values.get

        def need(lhs: str, parts: list[str], desc: str) -> None:
            rhs = sum(g(p) for p in parts)
            if g(lhs) != rhs:
                terms = " + ".join(f"{p} ({g(p)})" for p in parts)
                problems.append(f"{label}: {lhs} ({g(lhs)}) khác {desc} {terms} = {rhs}")

        need("TiepNhan.Tong", ["TiepNhan.KyTruocChuyenSang", "TiepNhan.TrucTuyen",
                               "TiepNhan.TrucTiepBuuChinh"], "tổng")
        need("DaGiaiQuyet.Tong", ["DaGiaiQuyet.TruocHan", "DaGiaiQuyet.DungHan",
                                  "DaGiaiQuyet.QuaHan"], "tổng")
        need("DangGiaiQuyet.Tong", ["DangGiaiQuyet.TrongHan", "DangGiaiQuyet.QuaHan"], "tổng")
        need("TiepNhan.Tong", ["DaGiaiQuyet.Tong", "DangGiaiQuyet.Tong"], "tổng đã giải quyết và đang giải quyết")
    if len(total_rows) != 1:
        problems.append(f"Biểu 06 phải có đúng một dòng TONG, đang có {len(total_rows)}")
    else:
        total = total_rows[0]
        if rows and rows[-1] is not total:
            problems.append("Dòng TONG phải là dòng cuối cùng của Biểu 06")
        for column in BIEU06_COLUMNS:
            parts = [_cell(r, column) for r in field_rows]
            if not all(_is_int(p) for p in parts) or not _is_int(_cell(total, column)):
                continue  # already reported above
            if _cell(total, column) != sum(parts):
                problems.append(f"Dòng TONG: ô {column} ({_cell(total, column)}) khác tổng các dòng "
                                f"lĩnh vực ({sum(parts)})")
    codes = [r.get("MaLinhVuc") for r in field_rows]
    if len(set(map(str, codes))) != len(codes):
        problems.append("Biểu 06 có mã lĩnh vực bị lặp")
    return problems


# ---------------------------------------------------------------------------------------------
# Reconciliation with the portal's own Biểu 06
# ---------------------------------------------------------------------------------------------

def _portal_value(value: Any) -> int | None:
    """A portal cell as an int; absent/null = 0; None = not comparable."""
    if value is None:
        return 0
    if _is_int(value):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _portal_table(portal: Iterable[Mapping]) -> tuple[dict[str, list[int | None]], list[str]]:
    table: dict[str, list[int | None]] = {}
    problems: list[str] = []
    for i, row in enumerate(portal or []):
        if not isinstance(row, Mapping):
            problems.append(f"Dòng thứ {i + 1} của Biểu 06 từ Cổng DVC không phải là đối tượng; bỏ qua")
            continue
        code = _nfc(row.get("MaLinhVuc"))
        if not isinstance(code, str) or code == "":
            problems.append(f"Dòng thứ {i + 1} của Biểu 06 từ Cổng DVC không có MaLinhVuc; bỏ qua")
            continue
        if code == TOTAL_CODE:
            continue  # §5: a TONG row from the portal is ignored
        acc = table.setdefault(code, [0] * len(BIEU06_COLUMNS))
        for j, column in enumerate(BIEU06_COLUMNS):
            raw = _cell(row, column)
            v = _portal_value(raw)
            if v is None:
                problems.append(f"Cổng DVC, lĩnh vực {code!r}, ô {column}: giá trị {raw!r} không phải "
                                "số nguyên; không đối soát được ô này")
            if acc[j] is None or v is None:
                acc[j] = None
            else:
                acc[j] += v  # type: ignore[operator]
    return table, problems


def reconcile_bieu06(ours: list[dict], portal: list[dict]) -> list[dict]:
    """Every cell of a lĩnh vực row where the portal's figure (CongDVC) differs from ours
    (TinhLai), as ChatLuongDuLieu.DoiSoatCongDVC items, ordered by MaLinhVuc then column.
    The portal's TONG row is ignored; a row missing on one side compares with zeros."""
    theirs, _ = _portal_table(portal)
    mine: dict[str, list[int]] = {}
    for row in ours:
        code = _nfc(row.get("MaLinhVuc"))
        if code == TOTAL_CODE:
            continue
        acc = mine.setdefault(code, [0] * len(BIEU06_COLUMNS))
        for j, column in enumerate(BIEU06_COLUMNS):
            acc[j] += _cell(row, column) or 0
    zeros = [0] * len(BIEU06_COLUMNS)
    items = []
    for code in sorted(set(mine) | set(theirs)):
        a, b = mine.get(code, zeros), theirs.get(code, zeros)
        for j, column in enumerate(BIEU06_COLUMNS):
            if b[j] is None:
                continue  # not comparable (see portal_bieu06_problems)
            if a[j] != b[j]:
                items.append({"MaLinhVuc": code, "Cot": column, "CongDVC": b[j], "TinhLai": a[j]})
    return items


def portal_bieu06_problems(portal: list[dict]) -> list[str]:
    """Portal Biểu 06 cells/rows that could not be reconciled (Vietnamese, for the report)."""
    return _portal_table(portal)[1]


# ---------------------------------------------------------------------------------------------
# Indicators
# ---------------------------------------------------------------------------------------------

def percent(numerator: int, denominator: int) -> Decimal | None:
    """100 × numerator / denominator, rounded half-up to 2 decimals, exactly (integer
    arithmetic, no binary floating point); None when the denominator is 0."""
    if denominator == 0:
        return None
    q, r = divmod(10000 * numerator, denominator)  # hundredths of a percent
    if 2 * r >= denominator:
        q += 1
    return Decimal(q).scaleb(-2)


def _target_fraction(target: Any) -> Fraction | None:
    if target is None:
        return None
    if isinstance(target, float):
        return Fraction(Decimal(repr(target)))
    return Fraction(target)


def meets_target(numerator: int, denominator: int, target: Any) -> bool | None:
    """DatMucTieu: TuSo/MauSo >= MucTieu/100 exactly; None when MauSo = 0 or no target."""
    goal = _target_fraction(target)
    if denominator == 0 or goal is None:
        return None
    return Fraction(numerator, denominator) >= goal / 100


def _json_number(value: Any) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, (int, Decimal, Fraction)) and value == int(value):
        return int(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    return float(value)


def _item(code: str, scope: str, num: int, den: int, target: Any) -> dict:
    value = percent(num, den)
    return {
        "MaChiTieu": code,
        "TenChiTieu": INDICATOR_NAMES[code],
        "PhamVi": scope,
        "TuSo": num,
        "MauSo": den,
        "GiaTri": None if value is None else float(value),
        "DonViTinh": "%",
        "MucTieu": _json_number(target),
        "SoSanh": ">=",
        "DatMucTieu": meets_target(num, den, target),
    }


class _Scopes:
    """The agency, its direct sub-units, and which scopes each unit belongs to."""

    def __init__(self, units: Iterable[Mapping], agency: str):
        self.agency = agency
        parent: dict[str, Any] = {}
        for u in units:
            if isinstance(u, Mapping) and isinstance(u.get("MaDonVi"), str):
                parent.setdefault(u["MaDonVi"], u.get("MaDonViCha"))
        self._parent = parent
        self.direct = sorted(code for code, up in parent.items() if up == agency and code != agency)
        self._memo: dict[Any, tuple[str, ...]] = {}

    def of(self, unit: Any) -> tuple[str, ...]:
        """The scopes (agency first) a unit belongs to; () when it is outside the agency."""
        hit = self._memo.get(unit)
        if hit is not None:
            return hit
        result: tuple[str, ...] = ()
        if unit == self.agency:
            result = (self.agency,)
        elif isinstance(unit, str):
            seen = {unit}
            current = unit
            while True:
                up = self._parent.get(current)
                if up is None or up in seen:
                    break  # no parent, unknown unit or a cycle: outside the agency
                if up == self.agency:
                    result = (self.agency, current)
                    break
                seen.add(up)
                current = up
        self._memo[unit] = result
        return result

    @property
    def order(self) -> list[str]:
        return [self.agency, *self.direct]


def scopes_of(units: Iterable[Mapping], agency: str) -> list[str]:
    """The scopes the indicators are computed for: the agency, then its direct sub-units by MaDonVi."""
    return _Scopes(units, agency).order


def _fee_total(dossier: Mapping) -> Fraction:
    total = Fraction(0)
    fees = dossier.get("DanhSachLePhi")
    if isinstance(fees, list):
        for fee in fees:
            if isinstance(fee, Mapping):
                gia = fee.get("Gia")
                if isinstance(gia, (int, float, Decimal)) and not isinstance(gia, bool):
                    total += Fraction(gia)
    return total


def _has_electronic_result(dossier: Mapping) -> bool:
    results = dossier.get("DanhSachGiayToKetQua")
    if not isinstance(results, list):
        return False
    return any(isinstance(r, Mapping) and isinstance(r.get("DuongDanTep"), str) and r["DuongDanTep"] != ""
               for r in results)


def _has_apology(dossier: Mapping) -> bool:
    letter = dossier.get("ThuXinLoi")
    return isinstance(letter, Mapping) and isinstance(letter.get("SoThu"), str) and letter["SoThu"] != ""


def _count(value: Any) -> int:
    return int(value) if value is not None else 0


def _accumulate_indicators(dossiers, ratings, procedures, units, agency: str, window: Window,
                           members: bool = False):
    scopes = _Scopes(units, agency)
    index = procedures if isinstance(procedures, ProcedureIndex) else ProcedureIndex(procedures)
    # tallies[scope][code] = [TuSo, MauSo]; with members, lists of identifiers instead.
    tallies = {s: {code: [0, 0] for code in INDICATOR_CODES} for s in scopes.order}
    trace = {s: {code: ([], []) for code in INDICATOR_CODES} for s in scopes.order} if members else None

    def add(scope_list, code: str, ident: Any, num: int = 0, den: int = 0) -> None:
        for s in scope_list:
            cell = tallies[s][code]
            cell[0] += num
            cell[1] += den
            if trace is not None:
                if num:
                    trace[s][code][0].append(ident)
                if den:
                    trace[s][code][1].append(ident)

    # -- the scope's procedures: in force (HieuLuc = "1"), MaDonViThucHien in the scope -------
    for p in index.entries:
        if p.get("HieuLuc") != "1":
            continue
        sc = scopes.of(p.get("MaDonViThucHien"))
        if not sc:
            continue
        ident = p.get("MaTTHC")
        if p.get("DacThu") == "0":
            add(sc, "TTHC_MOT_CUA", ident, num=int(p.get("MotCua") == "1"), den=1)
        add(sc, "TTHC_BON_TAI_CHO", ident, num=int(p.get("BonTaiCho") == "1"), den=1)
        if p.get("DuDieuKienTrucTuyen") == "1":
            add(sc, "TTHC_TRUC_TUYEN", ident, num=int(p.get("MucDo") in ("3", "4")), den=1)
        if p.get("CoPhiLePhi") == "1":
            add(sc, "TTHC_THANH_TOAN_TRUC_TUYEN", ident, num=int(p.get("ThanhToanTrucTuyen") == "1"), den=1)

    # -- dossiers, by DonViXuLy -----------------------------------------------------------------
    start, end, end_date = _bounds(window)
    for d in dossiers:
        sc = scopes.of(d.get("DonViXuLy"))
        if not sc:
            continue
        c = _classify(d, start, end, end_date)
        if not c.received:
            continue
        ident = d.get("MaHoSo")
        if c.new:  # received in the window: S <= T <= E
            proc = index.require(d)
            online = d.get("KenhThucHien") == _ONLINE
            if proc.get("MucDo") in ("3", "4"):
                add(sc, "HS_TRUC_TUYEN", ident, num=int(online), den=1)
            if (proc.get("CoPhiLePhi") == "1" and proc.get("ThanhToanTrucTuyen") == "1"
                    and _fee_total(d) > 0):
                add(sc, "HS_THANH_TOAN_TRUC_TUYEN", ident,
                    num=int(d.get("DuocThanhToanTrucTuyen") in ("1", "2")), den=1)
            eform = d.get("ThongTinEForm")
            if online and isinstance(eform, Mapping):
                add(sc, "HS_EFORM_TU_DONG", ident, num=_count(eform.get("SoTruongTuDong")),
                    den=_count(eform.get("SoTruong")))
            add(sc, "HS_DONG_BO_DVCQG", ident, num=int(d.get("DongBoDVCQG") == "1"), den=1)
        if c.resolved is not None:
            add(sc, "HS_DUNG_HAN", ident, num=int(c.resolved in ("early", "on_time")), den=1)
            if d.get("TrangThaiHoSo") in ("9", "10"):
                add(sc, "HS_KET_QUA_DIEN_TU", ident, num=int(_has_electronic_result(d)), den=1)
        if c.late:  # DaGiaiQuyet.QuaHan + DangGiaiQuyet.QuaHan, withdrawn/stopped included
            add(sc, "HS_XIN_LOI", ident, num=int(_has_apology(d)), den=1)

    # -- ratings: NgayDanhGia in the window, the rating's own DonViXuLy in the scope --------------
    for r in ratings:
        moment = r.get("NgayDanhGia")
        if not valid_timestamp(moment):
            raise ValueError(f"đánh giá {r.get('MaDanhGia')!r}: NgayDanhGia {moment!r} không đọc được; "
                             "chỉ truyền đánh giá hợp lệ vào phần tính số liệu")
        if not start <= moment <= end:  # NgayDanhGia in the window, both ends inclusive
            continue
        sc = scopes.of(r.get("DonViXuLy"))
        if sc:
            add(sc, "HL_HAI_LONG", r.get("MaDanhGia"), num=int(r.get("MucDoHaiLong") in ("2", "3")), den=1)
    return scopes, tallies, trace


def compute_indicators(dossiers: Iterable[Mapping], ratings: Iterable[Mapping],
                       procedures: Iterable[Mapping], units: Iterable[Mapping], agency: str,
                       window: Window, targets: Mapping[str, Any]) -> list[dict]:
    """Every indicator of §4 (report-api.yaml ChiTieu), for the agency and then each direct
    sub-unit by MaDonVi (each with everything below it); indicators in the catalogue's order.
    ``targets`` is MaChiTieu -> percent (e.g. ``targets_for_year(window.year)``); a missing key
    or None means no target."""
    scopes, tallies, _ = _accumulate_indicators(dossiers, ratings, procedures, units, agency, window)
    out = []
    for scope in scopes.order:
        for code in INDICATOR_CODES:
            num, den = tallies[scope][code]
            out.append(_item(code, scope, num, den, targets.get(code)))
    return out


def indicator_members(dossiers, ratings, procedures, units, agency: str,
                      window: Window) -> dict[str, dict[str, dict[str, list]]]:
    """Traceability: ``{scope: {MaChiTieu: {"TuSo": [...], "MauSo": [...]}}}`` listing the
    MaHoSo (dossier indicators), MaTTHC (procedure indicators) or MaDanhGia (HL_HAI_LONG)
    behind each figure.  For HS_EFORM_TU_DONG the lists name the dossiers that add to the sums."""
    _, _, trace = _accumulate_indicators(dossiers, ratings, procedures, units, agency, window, members=True)
    return {s: {code: {"TuSo": t[0], "MauSo": t[1]} for code, t in per.items()}
            for s, per in trace.items()}
