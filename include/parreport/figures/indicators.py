"""The indicator catalogue (INDICATORS.md §4), exactly: integer numerators and denominators per
scope (:class:`IndicatorTally`), GiaTri rounded half-up to 2 decimals with integer arithmetic
(:func:`percent`), DatMucTieu compared as fractions (:func:`meets_target`)."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from collections import abc
from typing import Any, Iterable, Mapping

from ..periods import Window
from ..quality.contract import valid_timestamp
from ..targets import INDICATOR_CODES
from .classify import ONLINE, Classification, bounds, classify_bounded
from .names import INDICATOR_NAMES
from .records import Dossier, Rating, as_dossiers, as_ratings
from .scopes import ProcedureIndex, Scopes

__all__ = ["IndicatorTally", "compute_indicators", "indicator_members", "percent", "meets_target"]


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


def _is_mapping(value: Any) -> bool:
    return type(value) is dict or isinstance(value, abc.Mapping)  # JSON objects are dicts: the fast path


def _fee_total(dossier: Dossier) -> Fraction:
    """The sum of DanhSachLePhi[].Gia, exactly (a float fee counts at its exact binary value)."""
    whole, total = 0, Fraction(0)
    fees = dossier.DanhSachLePhi
    if isinstance(fees, list):
        for fee in fees:
            if _is_mapping(fee):
                gia = fee.get("Gia")
                if type(gia) is int:
                    whole += gia
                elif isinstance(gia, (int, float, Decimal)) and not isinstance(gia, bool):
                    total += Fraction(gia)
    return total + whole


def _has_electronic_result(dossier: Dossier) -> bool:
    results = dossier.DanhSachGiayToKetQua
    if not isinstance(results, list):
        return False
    return any(_is_mapping(r) and isinstance(r.get("DuongDanTep"), str) and r["DuongDanTep"] != ""
               for r in results)


def _has_apology(dossier: Dossier) -> bool:
    letter = dossier.ThuXinLoi
    return _is_mapping(letter) and isinstance(letter.get("SoThu"), str) and letter["SoThu"] != ""


def _count(value: Any) -> int:
    return int(value) if value is not None else 0


class IndicatorTally:
    """TuSo and MauSo of every indicator for every scope, from the scope's procedures (in force,
    MaDonViThucHien in the scope), its dossiers (by DonViXuLy) and its ratings (by the rating's
    own DonViXuLy, NgayDanhGia in the window). With ``members``, the identifiers behind each."""

    def __init__(self, index: ProcedureIndex, scopes: Scopes, window: Window, members: bool = False):
        self.index, self.scopes = index, scopes
        self.start, self.end, _ = bounds(window)
        # Counted once per set of scopes a unit belongs to (a few), added up per scope at the end:
        # _counts[(agency, sub-unit)][code] = [TuSo, MauSo]. With members, the identifiers too.
        self._counts: dict[tuple[str, ...], dict[str, list[int]]] = {}
        self.trace = ({s: {code: ([], []) for code in INDICATOR_CODES} for s in scopes.order}
                      if members else None)

    def _add(self, scope_list: tuple[str, ...], code: str, ident: Any, num: int = 0, den: int = 0) -> None:
        counts = self._counts.get(scope_list)
        if counts is None:
            counts = self._counts[scope_list] = {c: [0, 0] for c in INDICATOR_CODES}
        cell = counts[code]
        cell[0] += num
        cell[1] += den
        if self.trace is not None:
            for s in scope_list:
                if num:
                    self.trace[s][code][0].append(ident)
                if den:
                    self.trace[s][code][1].append(ident)

    @property
    def counts(self) -> dict[tuple[str, ...], dict[str, list[int]]]:
        """``{scopes: {MaChiTieu: [TuSo, MauSo]}}`` counted so far, per set of scopes (for :meth:`merge`)."""
        return self._counts

    def merge(self, counts: dict[tuple[str, ...], dict[str, list[int]]]) -> None:
        """Add another tally's :attr:`counts` (of other records) to these."""
        for scope_list, per in counts.items():
            mine = self._counts.get(scope_list)
            if mine is None:
                mine = self._counts[scope_list] = {c: [0, 0] for c in INDICATOR_CODES}
            for code, (num, den) in per.items():
                cell = mine[code]
                cell[0] += num
                cell[1] += den

    @property
    def tallies(self) -> dict[str, dict[str, list[int]]]:
        """``{scope: {MaChiTieu: [TuSo, MauSo]}}`` for every scope, sub-units included in the agency."""
        out = {s: {code: [0, 0] for code in INDICATOR_CODES} for s in self.scopes.order}
        for scope_list, counts in self._counts.items():
            for s in scope_list:
                for code, (num, den) in counts.items():
                    cell = out[s][code]
                    cell[0] += num
                    cell[1] += den
        return out

    def add_procedures(self) -> None:
        """The scope's procedures: in force (HieuLuc = "1"), MaDonViThucHien in the scope."""
        add = self._add
        for p in self.index.entries:
            if p.get("HieuLuc") != "1":
                continue
            sc = self.scopes.of(p.get("MaDonViThucHien"))
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

    def add_dossier(self, d: Dossier, c: Classification) -> None:
        """One dossier, by its DonViXuLy, with its classification in the window."""
        if not c.received:
            return
        sc = self.scopes.of(d.DonViXuLy)
        if not sc:
            return
        add = self._add
        ident = d.MaHoSo
        if c.new:  # received in the window: S <= T <= E
            proc = self.index.require(d)
            online = d.KenhThucHien == ONLINE
            if proc.get("MucDo") in ("3", "4"):
                add(sc, "HS_TRUC_TUYEN", ident, num=int(online), den=1)
            if (proc.get("CoPhiLePhi") == "1" and proc.get("ThanhToanTrucTuyen") == "1"
                    and _fee_total(d) > 0):
                add(sc, "HS_THANH_TOAN_TRUC_TUYEN", ident, num=int(d.DuocThanhToanTrucTuyen in ("1", "2")), den=1)
            eform = d.ThongTinEForm
            if online and _is_mapping(eform):
                add(sc, "HS_EFORM_TU_DONG", ident, num=_count(eform.get("SoTruongTuDong")),
                    den=_count(eform.get("SoTruong")))
            add(sc, "HS_DONG_BO_DVCQG", ident, num=int(d.DongBoDVCQG == "1"), den=1)
        if c.resolved is not None:
            add(sc, "HS_DUNG_HAN", ident, num=int(c.resolved in ("early", "on_time")), den=1)
            if d.TrangThaiHoSo in ("9", "10"):
                add(sc, "HS_KET_QUA_DIEN_TU", ident, num=int(_has_electronic_result(d)), den=1)
        if c.late:  # DaGiaiQuyet.QuaHan + DangGiaiQuyet.QuaHan, withdrawn/stopped included
            add(sc, "HS_XIN_LOI", ident, num=int(_has_apology(d)), den=1)

    def add_rating(self, r: Rating) -> None:
        """One rating: NgayDanhGia in the window, the rating's own DonViXuLy in the scope."""
        moment = r.NgayDanhGia
        if not valid_timestamp(moment):
            raise ValueError(f"đánh giá {r.MaDanhGia!r}: NgayDanhGia {moment!r} không đọc được; "
                             "chỉ truyền đánh giá hợp lệ vào phần tính số liệu")
        if not self.start <= moment <= self.end:  # NgayDanhGia in the window, both ends inclusive
            return
        sc = self.scopes.of(r.DonViXuLy)
        if sc:
            self._add(sc, "HL_HAI_LONG", r.MaDanhGia, num=int(r.MucDoHaiLong in ("2", "3")), den=1)

    def items(self, targets: Mapping[str, Any]) -> list[dict]:
        """ChiTieu items: the agency, then each direct sub-unit; indicators in catalogue order."""
        tallies = self.tallies
        return [_item(code, scope, *tallies[scope][code], targets.get(code))
                for scope in self.scopes.order for code in INDICATOR_CODES]

    def members(self) -> dict[str, dict[str, dict[str, list]]]:
        return {s: {code: {"TuSo": t[0], "MauSo": t[1]} for code, t in per.items()}
                for s, per in (self.trace or {}).items()}


def _tally(dossiers, ratings, procedures, units, agency: str, window: Window, members: bool = False):
    tally = IndicatorTally(ProcedureIndex.of(procedures), Scopes(units, agency), window, members)
    tally.add_procedures()
    start, end, end_date = bounds(window)
    for d in as_dossiers(dossiers):
        if tally.scopes.of(d.DonViXuLy):  # a dossier outside every scope is not even classified
            tally.add_dossier(d, classify_bounded(d, start, end, end_date))
    for r in as_ratings(ratings):
        tally.add_rating(r)
    return tally


def compute_indicators(dossiers: Iterable[Mapping | Dossier], ratings: Iterable[Mapping | Rating],
                       procedures: Iterable[Mapping] | ProcedureIndex, units: Iterable[Mapping], agency: str,
                       window: Window, targets: Mapping[str, Any]) -> list[dict]:
    """Every indicator of §4 (report-api.yaml ChiTieu), for the agency and then each direct
    sub-unit by MaDonVi (each with everything below it); indicators in the catalogue's order.
    ``targets`` is MaChiTieu -> percent (e.g. ``targets_for_year(window.year)``); a missing key
    or None means no target."""
    return _tally(dossiers, ratings, procedures, units, agency, window).items(targets)


def indicator_members(dossiers, ratings, procedures, units, agency: str,
                      window: Window) -> dict[str, dict[str, dict[str, list]]]:
    """Traceability: ``{scope: {MaChiTieu: {"TuSo": [...], "MauSo": [...]}}}`` listing the
    MaHoSo (dossier indicators), MaTTHC (procedure indicators) or MaDanhGia (HL_HAI_LONG)
    behind each figure.  For HS_EFORM_TU_DONG the lists name the dossiers that add to the sums."""
    return _tally(dossiers, ratings, procedures, units, agency, window, members=True).members()
