"""Where one dossier stands in a window (INDICATORS.md §2): received, new or carried over,
resolved (early, on time, late) or still in progress at E (within the deadline or overdue).

Every Biểu 06 cell and every dossier indicator is built from :func:`classify`, one dossier at
a time, so each figure can be traced back to the MaHoSo behind it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from ..periods import Window
from ..quality.contract import FINISHED_STATUSES, RECEIVED_STATUSES, valid_timestamp
from ..timeutil import format_ts
from .names import COLUMN_INDEX
from .records import Dossier

__all__ = ["Classification", "classify", "bounds", "classify_bounded", "ONLINE"]

ONLINE = "2"
_IN_PERSON_OR_POST = frozenset({"1", "3", "", None})  # §2: "1", "3", empty or null


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

    def column_indexes(self) -> tuple[int, ...]:
        """:meth:`cells` as indexes into ``BIEU06_COLUMNS`` (memoised: few combinations exist)."""
        key = (self.new, self.carried_over, self.online_new, self.offline_new, self.resolved, self.in_progress)
        hit = _INDEXES.get(key)
        if hit is None:
            hit = _INDEXES[key] = tuple(COLUMN_INDEX[c] for c in self.cells())
        return hit


_INDEXES: dict[tuple, tuple[int, ...]] = {}


def _unreadable(d: Dossier, name: str, value) -> ValueError:
    return ValueError(f"hồ sơ {d.MaHoSo!r}: {name} {value!r} không đọc được; "
                      "chỉ truyền hồ sơ đã kiểm tra hợp lệ vào phần tính số liệu")


def classify_bounded(d: Dossier, start: str, end: str, end_date: str) -> Classification:
    """:func:`classify` with S, E as ``yyyyMMddHHmmss`` and date(E) as ``yyyyMMdd`` (:func:`bounds`)."""
    status = d.TrangThaiHoSo
    # §2 Received: status 2 or 4–10 and T present; status 1 / 3 count nowhere, whatever T says.
    if status not in RECEIVED_STATUSES:
        return Classification(d.MaHoSo, False, False, False, False, False, False, None, None)
    # Timestamps: absent or "" = None; otherwise a valid ``yyyyMMddHHmmss`` string or an error.
    # Valid timestamps of fixed width compare as strings exactly as the instants they name, and
    # ``value[:8]`` is the calendar date (local time): nothing is parsed, which keeps half a
    # million dossiers within a few seconds.
    t = d.NgayTiepNhan
    if t is None or t == "":
        return Classification(d.MaHoSo, False, False, False, False, False, False, None, None)
    if not valid_timestamp(t):
        raise _unreadable(d, "NgayTiepNhan", t)
    # §2 Finished: status 7–10, ended at K.  "K on a dossier in any other status is ignored."
    finished = status in FINISHED_STATUSES
    k = None
    if finished:
        k = d.NgayKetThucXuLy
        if k is None or k == "":
            raise ValueError(f"hồ sơ {d.MaHoSo!r}: đã kết thúc nhưng thiếu NgayKetThucXuLy")
        if not valid_timestamp(k):
            raise _unreadable(d, "NgayKetThucXuLy", k)
    new = start <= t <= end
    carried_over = t < start and (not finished or k >= start)  # type: ignore[operator]
    channel = d.KenhThucHien
    online_new = new and channel == ONLINE
    offline_new = new and channel in _IN_PERSON_OR_POST
    h = d.NgayHenTra
    if h == "":
        h = None
    elif h is not None and not valid_timestamp(h):
        raise _unreadable(d, "NgayHenTra", h)
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
    return Classification(d.MaHoSo, True, finished, new, carried_over, online_new, offline_new, resolved,
                          in_progress)


def bounds(window: Window) -> tuple[str, str, str]:
    """S, E as ``yyyyMMddHHmmss`` and date(E) as ``yyyyMMdd``."""
    start, end = format_ts(window.start), format_ts(window.end)
    return start, end, end[:8]


def classify(dossier: Mapping | Dossier, window: Window) -> Classification:
    """Classify one (valid) dossier against ``window`` (INDICATORS.md §2)."""
    return classify_bounded(Dossier.of(dossier), *bounds(window))
