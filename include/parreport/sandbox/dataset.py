"""The generated data of one agency, kept as columns (numpy arrays) and turned into
contract-shaped records only when asked for, so that memory stays small and a portal page
costs only its own records.

Entry points: records (:meth:`Dataset.dossier`, :meth:`Dataset.deliveries`,
:meth:`Dataset.rating`), the portal's selections (:meth:`Dataset.listing`,
:meth:`Dataset.ratings_in`, :meth:`Dataset.procedures_of`, :meth:`Dataset.scope`,
:meth:`Dataset.portal_bieu06`) and the ground truth (:attr:`Dataset.invalid`,
:attr:`Dataset.duplicates`, ``warnings``, ``invalid_ratings``, ``boundary_cases``,
:meth:`Dataset.personal_data`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterator

import numpy as np

from ..periods import Window
from . import catalogue as cat
from .bieu06 import portal_bieu06
from .model import TIME_COLUMNS, BoundaryCase, Duplicate, GeneratorConfig
from .planted import MUTATORS
from .ratings import rating_record
from .records import build_dossier, personal_strings
from .timecols import bad_timestamp_value, fmt, secs_to_tsint


@dataclass(eq=False)
class Dataset:
    """The generated data. Records are built on demand from columns (see the module docstring).

    Main entry points: :meth:`dossier` / :meth:`dossiers` / :meth:`dossier_by_id` (true copies),
    :meth:`stale_copy`, :meth:`listing` / :meth:`listing_records` (the portal's /ho-so selection
    in delivery order), :meth:`rating` / :meth:`ratings_in`, :meth:`procedures_of`,
    :meth:`scope`, :meth:`portal_bieu06`, and the ground truth listed in the module docstring.
    """

    config: GeneratorConfig
    units: list[dict]
    procedures: list[dict]
    windows: list[Window]
    cols: dict[str, np.ndarray]
    rating_cols: dict[str, np.ndarray]
    mutations: dict[int, list[tuple[str, int]]]
    dup_rows: np.ndarray  # row of each stale copy, in stale-copy order
    dup_meta: list[tuple[str, int, bool]]  # (kind, variant, stale_first) per stale copy
    delivery_order: np.ndarray  # delivery ids: row for a true copy, n + j for stale copy j
    warnings: dict[str, frozenset[str]]
    invalid_ratings: dict[str, frozenset[str]]
    boundary_cases: list[BoundaryCase]
    # filter columns computed from the emitted values (see _filter_columns)
    f_status: np.ndarray = field(default=None, repr=False)
    f_t: np.ndarray = field(default=None, repr=False)
    f_k: np.ndarray = field(default=None, repr=False)
    f_h: np.ndarray = field(default=None, repr=False)
    f_nop: np.ndarray = field(default=None, repr=False)

    # ---------------------------------------------------------------- basics
    def __len__(self) -> int:
        return int(self.cols["proc"].shape[0])

    @property
    def agency(self) -> str:
        return self.config.agency

    @cached_property
    def unit_codes(self) -> list[str]:
        return [u["MaDonVi"] for u in self.units]

    @cached_property
    def _unit_index(self) -> dict[str, int]:
        return {code: i for i, code in enumerate(self.unit_codes)}

    @cached_property
    def rating_unit_codes(self) -> list[str]:
        """Unit codes a rating can carry: the agency's units, then units of other agencies."""
        return self.unit_codes + list(cat.OUTSIDE_UNITS)

    @cached_property
    def _scopes(self) -> dict[str, list[str]]:
        children: dict[str, list[str]] = {}
        for u in self.units:
            if u["MaDonViCha"]:
                children.setdefault(u["MaDonViCha"], []).append(u["MaDonVi"])
        out = {}
        for code in self.unit_codes:
            below, stack = set(), [code]
            while stack:
                c = stack.pop()
                below.add(c)
                stack.extend(children.get(c, []))
            out[code] = [c for c in self.unit_codes if c in below]
        return out

    @property
    def agencies(self) -> list[str]:
        return [self.agency]

    def agency_of(self, ma_don_vi: str) -> str | None:
        """The agency whose tree holds the unit (None for a unit not ours)."""
        return self.agency if ma_don_vi in self._scopes else None

    def scope(self, ma_don_vi: str) -> list[str] | None:
        """The unit and every unit below it, in unit order (None for an unknown unit)."""
        return self._scopes.get(ma_don_vi)

    def scope_mask(self, ma_don_vi: str) -> np.ndarray:
        codes = self.scope(ma_don_vi) or []
        idx = np.array([self._unit_index[c] for c in codes], dtype=np.int64)
        return np.isin(self.cols["unit"], idx)

    @cached_property
    def _row_of(self) -> dict[str, int]:
        return {self.ma_ho_so(i): i for i in range(len(self))}

    def row_of(self, ma_ho_so: str) -> int:
        return self._row_of[ma_ho_so]

    # ---------------------------------------------------------------- ground truth
    @cached_property
    def invalid(self) -> dict[str, frozenset[str]]:
        """MaHoSo -> planted blocking rules (on the copy that survives de-duplication)."""
        return {self.ma_ho_so(r): frozenset(rule for rule, _ in muts) for r, muts in sorted(self.mutations.items())}

    @cached_property
    def duplicates(self) -> dict[str, Duplicate]:
        return {self.ma_ho_so(int(r)): Duplicate(self.ma_ho_so(int(r)), kind, first)
                for r, (kind, _v, first) in zip(self.dup_rows, self.dup_meta)}

    # ---------------------------------------------------------------- records
    def dossier(self, row: int) -> dict:
        """The true (current) copy of the dossier in ``row``, as the portal emits it."""
        return self.dossiers([row])[0]

    def dossiers(self, rows) -> list[dict]:
        """True copies of several rows at once (column reads are batched: much faster)."""
        rows = [int(r) for r in rows]
        out = self._base_records(rows)
        for row, rec in zip(rows, out):
            for rule, variant in self.mutations.get(row, ()):
                MUTATORS[rule](rec, variant, self)
        return out

    def dossier_by_id(self, ma_ho_so: str) -> dict:
        return self.dossier(self.row_of(ma_ho_so))

    def stale_copy(self, j: int) -> dict:
        """Stale copy number ``j`` (see ``dup_rows``): an earlier state of the same dossier."""
        return self._stale_from(j, self._base_records([int(self.dup_rows[j])])[0])

    def _stale_from(self, j: int, rec: dict) -> dict:
        row = int(self.dup_rows[j])
        kind, variant, _first = self.dup_meta[j]
        status = rec["TrangThaiHoSo"]
        if status in ("7", "8", "9", "10"):
            rec.update(TrangThaiHoSo="4", NgayKetThucXuLy=None, NgayTra=None, DanhSachGiayToKetQua=[], ThuXinLoi=None)
        elif status in ("4", "5", "6"):
            rec["TrangThaiHoSo"] = "2"
        rec["DongBoDVCQG"] = "0"
        ncn = int(self.cols["ncn"][row])
        if kind == "older":
            older = min(max(ncn - 3600 - (variant % 240) * 3600, int(self.cols["submit"][row])), ncn - 1)
            rec["NgayCapNhat"] = fmt(older)
        elif kind == "absent":
            if variant % 3 == 0:
                del rec["NgayCapNhat"]
            else:
                rec["NgayCapNhat"] = "" if variant % 3 == 1 else None
        elif kind == "unreadable":
            rec["NgayCapNhat"] = bad_timestamp_value(rec["NgayCapNhat"], variant)
        return rec

    def delivery(self, delivery_id: int) -> dict:
        return self.deliveries([delivery_id])[0]

    def deliveries(self, delivery_ids) -> list[dict]:
        """Records for delivery ids (a row for a true copy, ``len(self) + j`` for stale copy j)."""
        ids = [int(d) for d in delivery_ids]
        n = len(self)
        true_recs = iter(self.dossiers([d for d in ids if d < n]))
        stale_ids = [d - n for d in ids if d >= n]
        stale_recs = iter(self._base_records([int(self.dup_rows[j]) for j in stale_ids]))
        out = []
        for d in ids:
            out.append(next(true_recs) if d < n else self._stale_from(d - n, next(stale_recs)))
        return out

    def delivery_row(self, delivery_ids: np.ndarray) -> np.ndarray:
        n = len(self)
        ids = np.asarray(delivery_ids, dtype=np.int64)
        stale = ids >= n
        rows = ids.copy()
        if stale.any():
            rows[stale] = self.dup_rows[ids[stale] - n]
        return rows

    def iter_dossiers(self, batch: int = 5000) -> Iterator[dict]:
        for lo in range(0, len(self), batch):
            yield from self.dossiers(range(lo, min(lo + batch, len(self))))

    @cached_property
    def _ts_cols(self) -> dict[str, np.ndarray]:
        return {name: secs_to_tsint(self.cols[name]) for name in TIME_COLUMNS}

    def _columns(self, rows: list[int]) -> dict[str, list]:
        idx = np.asarray(rows, dtype=np.int64)
        out = {name: col[idx].tolist() for name, col in self.cols.items() if name not in TIME_COLUMNS}
        out.update({name: col[idx].tolist() for name, col in self._ts_cols.items()})
        return out

    def _base_records(self, rows: list[int]) -> list[dict]:
        c = self._columns(rows)
        out = []
        for n_, i in enumerate(rows):
            out.append(build_dossier(self, i, {name: values[n_] for name, values in c.items()}))
        return out
    def ma_ho_so(self, row: int) -> str:
        return f"{self.agency}-{str(int(self._ts_cols['submit'][row]))[2:8]}-{row + 1:07d}"

    # personal data -------------------------------------------------------------------------
    def row_columns(self, row: int) -> dict[str, Any]:
        return {name: values[0] for name, values in self._columns([row]).items()}

    def personal_values(self, row: int) -> set[str]:
        """Personal-data strings of one dossier (both Unicode forms that may be emitted)."""
        return personal_strings(self._base_records([row]))


    def personal_data(self) -> frozenset[str]:
        """Every personal-data string the portal can emit: the six HoSo fields of every dossier
        (NFC, and NFD where emitted so) and every non-empty rating comment (GopY). Built once
        (a few seconds for 500,000 dossiers) and cached."""
        if getattr(self, "_personal_cache", None) is None:
            out: set[str] = set()
            for lo in range(0, len(self), 10_000):
                out |= personal_strings(self._base_records(list(range(lo, min(lo + 10_000, len(self))))))
            for j in range(self.n_ratings):
                g = self.rating(j).get("GopY")
                if isinstance(g, str) and g:
                    out.add(g)
            self._personal_cache = frozenset(out)
        return self._personal_cache

    @cached_property
    def id_numbers(self) -> frozenset[str]:
        """The applicants' 12-digit ID numbers (unique per dossier): the cheapest leak check."""
        return frozenset(f"{int(v):012d}" for v in self.cols["id_no"])

    # ---------------------------------------------------------------- ratings
    @property
    def n_ratings(self) -> int:
        return int(self.rating_cols["row"].shape[0])

    def ma_danh_gia(self, j: int) -> str:
        return f"DG-{j + 1:07d}"

    def rating(self, j: int) -> dict:
        return rating_record(self, j)


    def ratings_in(self, ma_don_vi: str, tu_ngay: str, den_ngay: str) -> np.ndarray:
        """Rating numbers of the portal's /danh-gia listing, in delivery order (by MaDanhGia)."""
        scope = self.scope(ma_don_vi)
        if scope is None:
            return np.zeros(0, dtype=np.int64)
        rc = self.rating_cols
        idx = [self.rating_unit_codes.index(code) for code in scope]
        own = np.isin(rc["unit"], idx)
        rated = self.scope_mask(ma_don_vi)[rc["row"]]
        tu, den = int(tu_ngay), int(den_ngay)
        d = rc["date_int"]
        in_window = (d < 0) | ((d >= tu) & (d <= den))
        return np.nonzero((own | rated) & in_window)[0]

    # ---------------------------------------------------------------- portal selections
    def active_rows(self, ma_don_vi: str, tu_ngay: str, den_ngay: str) -> np.ndarray:
        """Boolean mask over rows: the portal's /ho-so rule (portal-api.yaml), on emitted values.

        Reading taken: a dossier in status 1 or 3 is "never received" whatever NgayTiepNhan says
        (INDICATORS.md §2) and is selected by NgayNopHoSo; every other dossier (including one
        whose status is missing or unreadable) by NgayTiepNhan / NgayKetThucXuLy. A date the rule
        needs that is absent or unreadable selects the record. Dossiers are selected by the unit
        that owns them in the portal, so one whose exported DonViXuLy is missing or outside the
        agency (planted errors) still appears in its owner's listing.
        """
        if self.scope(ma_don_vi) is None:
            return np.zeros(len(self), dtype=bool)
        tu, den = int(tu_ngay), int(den_ngay)
        st, t, k, nop = self.f_status, self.f_t, self.f_k, self.f_nop
        never = (st == 1) | (st == 3)
        finished = (st >= 7) & (st <= 10)
        received_rule = (t <= 0) | ((t <= den) & (~finished | (k <= 0) | (k >= tu)))
        never_rule = (nop <= 0) | ((nop >= tu) & (nop <= den))
        return self.scope_mask(ma_don_vi) & np.where(never, never_rule, received_rule)

    def listing(self, ma_don_vi: str, tu_ngay: str, den_ngay: str, duplicates: bool = True) -> np.ndarray:
        """Delivery ids of the /ho-so listing in delivery order. Stale copies of a selected
        dossier are delivered with it (whatever their own dates say) when ``duplicates``."""
        mask = self.active_rows(ma_don_vi, tu_ngay, den_ngay)
        order = self.delivery_order
        if not duplicates:
            order = order[order < len(self)]
        return order[mask[self.delivery_row(order)]]

    def listing_records(self, ma_don_vi: str, tu_ngay: str, den_ngay: str, duplicates: bool = True) -> list[dict]:
        return [self.delivery(int(d)) for d in self.listing(ma_don_vi, tu_ngay, den_ngay, duplicates)]

    def procedures_of(self, ma_don_vi: str) -> list[dict]:
        scope = set(self.scope(ma_don_vi) or [])
        return sorted((p for p in self.procedures if p["MaDonViThucHien"] in scope), key=lambda p: p["MaTTHC"])

    def portal_bieu06(self, ma_don_vi: str, tu_ngay: str, den_ngay: str) -> list[dict]:
        """The portal's own Biểu 06 (see :func:`parreport.sandbox.bieu06.portal_bieu06`)."""
        return portal_bieu06(self, ma_don_vi, tu_ngay, den_ngay)
