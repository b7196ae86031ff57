"""Deterministic generator of the portal's data: units, procedures, dossiers and ratings.

``generate(GeneratorConfig(seed=...))`` returns a :class:`Dataset`. Same config, same data:
every random draw comes from one ``numpy`` generator seeded with ``config.seed`` and is made in
bulk, so half a million dossiers take seconds. Dossiers are kept as columns (numpy arrays) and
turned into contract-shaped dicts (``HoSo``) only when asked for (:meth:`Dataset.dossier`), so
memory stays small and a portal page costs only its own records.

Times are handled as integer seconds of naive local (UTC+07:00) wall-clock time since
1970-01-01 00:00 and written as ``yyyyMMddHHmmss``. Everything happens before ``as_of``: the
status of a dossier is its status at that instant (processing that ends later is in progress).

Ground truth exposed for tests of the rest of the pipeline:

- ``Dataset.invalid``: MaHoSo -> rule codes planted on the *surviving* copy (INDICATORS.md §5):
  ``missing_field``, ``bad_code``, ``bad_timestamp``, ``bad_type``, ``received_without_T``,
  ``finished_without_K``, ``K_before_T``, ``unknown_procedure``, ``unit_outside_agency``,
  ``negative_fee``, ``bad_eform``. Every rule is planted (evenly); a few records carry two.
  The mutations are chosen so that they break no other rule as a side effect, under the
  reading: a present value of the wrong JSON type is ``bad_type``, a string outside its list
  is ``bad_code``, an unreadable ``Ngay*`` value (nested ones included) is ``bad_timestamp``
  (and not also "received without T"). tests/test_sandbox_generator.py re-derives the map with
  an independent check of INDICATORS.md §5 and requires equality.
- ``Dataset.warnings``: MaHoSo -> ``{"due_before_received"}`` (NgayHenTra < NgayTiepNhan on an
  otherwise valid dossier).
- ``Dataset.invalid_ratings``: MaDanhGia -> ``bad_code`` / ``bad_timestamp`` / ``unit_outside_agency``.
- ``Dataset.duplicates``: MaHoSo -> :class:`Duplicate` (a stale copy delivered in addition to
  the true one; the true one is always the copy INDICATORS.md §2 keeps).
- ``Dataset.boundary_cases``: dossiers placed exactly on window boundaries.
- ``Dataset.personal_data()``: every personal-data string that appears in any record.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, Iterator

import numpy as np

from ..periods import Window, window_for
from ..timeutil import BadTimestamp, parse_ts
from . import catalogue as cat

DAY = 86_400
HOUR = 3_600
EPOCH = datetime(1970, 1, 1)
NONE = -1  # "absent" in the integer time columns

# Channel codes (column "channel") -> KenhThucHien value.
CHANNEL_VALUES = ("1", "2", "3", "", None)
# Generic code columns 0..4 -> value (flags/enums where "" and null both occur).
FLAG_VALUES = ("0", "1", "2", "", None)

RULES = ("missing_field", "bad_code", "bad_timestamp", "bad_type", "received_without_T",
         "finished_without_K", "K_before_T", "unknown_procedure", "unit_outside_agency",
         "negative_fee", "bad_eform")
DUPLICATE_KINDS = ("older", "same", "absent", "unreadable")
BOUNDARY_KINDS = ("T_eq_S", "T_eq_S_minus_1", "T_eq_E", "T_eq_E_plus_1", "K_eq_S", "K_eq_S_minus_1",
                  "K_eq_E", "K_eq_E_plus_1", "H_on_E_date", "H_day_after_E")
TIME_COLUMNS = ("submit", "t", "h", "k", "tra", "sup_req", "sup_done", "letter", "ncn")
PERSONAL_FIELDS = ("ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai", "Email", "DiaChi", "TrichYeuHoSo")


def to_secs(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds())


def from_secs(secs: int) -> datetime:
    return EPOCH + timedelta(seconds=int(secs))


def fmt(secs) -> str:
    return from_secs(secs).strftime("%Y%m%d%H%M%S")


def secs_to_tsint(secs: np.ndarray) -> np.ndarray:
    """Seconds -> yyyyMMddHHmmss as int64 (0 where absent). Vectorised."""
    secs = np.asarray(secs, dtype=np.int64)
    absent = secs == NONE
    safe = np.where(absent, 0, secs)
    days = (safe // DAY).astype("datetime64[D]")
    year = days.astype("datetime64[Y]").astype(np.int64) + 1970
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    sod = safe % DAY
    value = ((year * 100 + month) * 100 + day) * 1_000_000 + (sod // HOUR) * 10_000 + (sod % HOUR // 60) * 100 + sod % 60
    return np.where(absent, 0, value)


def ts_to_int(value: Any) -> int:
    """A contract timestamp -> int for comparisons: 0 when absent, -1 when unreadable."""
    try:
        moment = parse_ts(value)
    except BadTimestamp:
        return -1
    return 0 if moment is None else int(moment.strftime("%Y%m%d%H%M%S"))


def _busday(days: np.ndarray, offsets) -> np.ndarray:
    """Business-day offset (Mon–Fri) on integer day numbers, rolling forward first."""
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    return np.busday_offset(d, offsets, roll="forward").astype(np.int64)


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. Defaults give ~68,000 dossiers over 2023-09-01 – 2027-01-31."""

    seed: int = 42
    agency: str = cat.DEFAULT_AGENCY
    dossiers_per_quarter: int = 5000
    span_start: datetime = datetime(2023, 9, 1)
    span_end: datetime = datetime(2027, 1, 31, 23, 59, 59)
    as_of: datetime | None = None  # extraction instant; None = span_end
    invalid_rate: float = 0.005
    duplicate_rate: float = 0.01
    warning_rate: float = 0.003
    rating_rate: float = 0.35
    invalid_rating_rate: float = 0.005
    boundary_per_kind: int = 4  # dossiers per boundary kind per window and rule
    boundary_rules: tuple[str, ...] = ("nd09", "calendar")
    nfd_rate: float = 0.08

    @property
    def extraction_time(self) -> datetime:
        return self.as_of or self.span_end


@dataclass(frozen=True)
class Duplicate:
    """A dossier delivered twice: the stale copy's kind and whether it is delivered first.

    kind: "older" (older NgayCapNhat), "same" (same NgayCapNhat; the true copy is delivered
    after it, so "delivered last" picks the true one), "absent" (NgayCapNhat missing/""/null),
    "unreadable" (NgayCapNhat not a valid timestamp). The true copy is :meth:`Dataset.dossier`.
    """

    ma_ho_so: str
    kind: str
    stale_first: bool


@dataclass(frozen=True)
class BoundaryCase:
    rule: str
    year: int
    quarter: int
    kind: str
    ma_ho_so: str


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

    def scope(self, ma_don_vi: str) -> list[str] | None:
        """The unit and every unit below it, in unit order (None for an unknown unit)."""
        return self._scopes.get(ma_don_vi)

    def _scope_mask(self, ma_don_vi: str) -> np.ndarray:
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
                _MUTATORS[rule](rec, variant, self)
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
            rec["NgayCapNhat"] = _bad_timestamp_value(rec["NgayCapNhat"], variant)
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

    @staticmethod
    def _absent(row: int, salt: int):
        return "" if (row + salt) % 2 else None

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
            out.append(self._build(i, {name: values[n_] for name, values in c.items()}))
        return out

    def _build(self, i: int, c: dict[str, Any]) -> dict:
        proc_i = c["proc"]
        proc = self.procedures[proc_i]
        aux = c["aux"]

        def ts(col: str, salt: int):
            v = c[col]
            return self._absent(i, salt) if v == 0 else f"{v:014d}"

        fee = c["fee"]
        fees = [] if fee < 0 else [{
            "MaPhiLePhi": f"LP-{proc['MaLinhVuc']}-{proc_i:03d}",
            "TenPhiLePhi": "Lệ phí " + proc["TenTTHC"][0].lower() + proc["TenTTHC"][1:60],
            "Gia": fee,
            "HinhThucThu": "Trực tuyến" if c["paid"] in (1, 2) else "Trực tiếp",
        }]
        docs = []
        for d in range(1 + aux % 3):
            bits = aux >> (4 + 3 * d)
            docs.append({"TenTepDinhKem": cat.ATTACHMENTS[(aux >> 12) % len(cat.ATTACHMENTS) - d],
                         "DuocSoHoa": str(bits & 1), "DuocTaiSuDung": str((bits >> 1) & 1),
                         "DuocLayTuKhoDMQG": str((bits >> 2) & (bits >> 1) & 1)})
        results = []
        for r in range(c["results"]):
            link = c["result_link"] and r == 0
            results.append({
                "TenGiayTo": ("Quyết định giải quyết: " if r == 0 else "Văn bản kèm theo: ") + proc["TenTTHC"][:80],
                "MaKetQua": f"KQ-{i + 1:07d}-{r + 1}",
                "DuongDanTep": (f"https://dichvucong.thuathienhue.gov.vn/ketqua/{i + 1:07d}-{r + 1}.pdf" if link
                                else self._absent(i, 7 + r)),
            })
        supplements = []
        if c["sup_req"]:
            supplements.append({"NgayYeuCau": f"{c['sup_req']:014d}",
                                "NgayBoSung": f"{c['sup_done']:014d}" if c["sup_done"] else None})
        eform = None
        if c["eform_n"] >= 0:
            eform = {"SoTruong": c["eform_n"], "SoTruongTuDong": c["eform_auto"]}
        letter = None
        if c["letter"]:
            no = c["letter_no"]
            letter = {"SoThu": f"{no}/TXL-SLĐTBXH" if no > 0 else "", "NgayGui": f"{c['letter']:014d}"}
        name = self._name_of(c)
        ten_tthc, ten_lv = proc["TenTTHC"], proc["TenLinhVuc"]
        summary = f"{ten_tthc} - hồ sơ của {'bà' if c['gender'] else 'ông'} {name}"
        address = (f"{c['house']} {cat.STREETS[c['street']]}, {cat.WARDS[c['ward']]}, {cat.CITY}")
        email = self._email_of(c, name)
        if c["nfd"]:
            name, summary, address, ten_tthc, ten_lv = (unicodedata.normalize("NFD", s)
                                                        for s in (name, summary, address, ten_tthc, ten_lv))
        return {
            "MaHoSo": f"{self.agency}-{str(c['submit'])[2:8]}-{i + 1:07d}",
            "MaTTHC": proc["MaTTHC"],
            "TenTTHC": ten_tthc,
            "MaLinhVuc": proc["MaLinhVuc"],
            "TenLinhVuc": ten_lv,
            "DonViXuLy": self.unit_codes[c["unit"]],
            "KenhThucHien": CHANNEL_VALUES[c["channel"]],
            "ChuHoSo": name,
            "SoGiayToChuHoSo": f"{c['id_no']:012d}",
            "SoDienThoai": self._phone_of(c),
            "Email": email,
            "DiaChi": address,
            "TrichYeuHoSo": summary,
            "NgayNopHoSo": ts("submit", 1),
            "NgayTiepNhan": ts("t", 2),
            "NgayHenTra": ts("h", 3),
            "NgayKetThucXuLy": ts("k", 4),
            "NgayTra": ts("tra", 5),
            "TrangThaiHoSo": str(c["status"]),
            "DuocThanhToanTrucTuyen": FLAG_VALUES[c["paid"]],
            "DanhSachLePhi": fees,
            "HoSoCoThanhPhanSoHoa": FLAG_VALUES[c["digitised"]],
            "TaiLieuNop": docs,
            "DanhSachGiayToKetQua": results,
            "DanhSachHoSoBoSung": supplements,
            "TaiKhoanDuocXacThucVoiVNeID": FLAG_VALUES[c["vneid"]],
            "ThongTinEForm": eform,
            "ThuXinLoi": letter,
            "DongBoDVCQG": FLAG_VALUES[c["dvcqg"]],
            "NgayCapNhat": f"{c['ncn']:014d}",
        }

    def ma_ho_so(self, row: int) -> str:
        return f"{self.agency}-{str(int(self._ts_cols['submit'][row]))[2:8]}-{row + 1:07d}"

    # personal data -------------------------------------------------------------------------
    @staticmethod
    def _name_of(c: dict[str, Any]) -> str:
        female = c["gender"] == 1
        middle = (cat.MIDDLE_NAMES_F if female else cat.MIDDLE_NAMES_M)[c["mid"]]
        given = (cat.GIVEN_NAMES_F if female else cat.GIVEN_NAMES_M)[c["given"]]
        return f"{cat.FAMILY_NAMES[c['fam']]} {middle} {given}"

    @staticmethod
    def _phone_of(c: dict[str, Any]) -> str:
        p = c["phone"]
        return f"0{(9, 3, 7, 8)[p % 4]}{p // 4:08d}"

    @staticmethod
    def _email_of(c: dict[str, Any], name: str) -> str:
        style = (c["aux"] >> 20) % 5
        if style == 4:
            return ""
        parts = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d")).encode("ascii", "ignore").decode().lower().split()
        local = (parts[-1] + "." + parts[0]) if style < 2 else "".join(p[0] for p in parts[:-1]) + parts[-1]
        domain = ("gmail.com", "yahoo.com", "gmail.com", "hue.gov.vn")[style]
        return f"{local}{c['id_no'] % 1000}@{domain}"

    def _row_columns(self, row: int) -> dict[str, Any]:
        return {name: values[0] for name, values in self._columns([row]).items()}

    def personal_values(self, row: int) -> set[str]:
        """Personal-data strings of one dossier (both Unicode forms that may be emitted)."""
        return self._personal_of(self._base_records([row]))

    @staticmethod
    def _personal_of(records: list[dict]) -> set[str]:
        out = set()
        for rec in records:
            for f in PERSONAL_FIELDS:
                v = rec.get(f)
                if isinstance(v, str) and v:
                    out.add(v)
                    out.add(unicodedata.normalize("NFC", v))
        return out

    def personal_data(self) -> frozenset[str]:
        """Every personal-data string the portal can emit: the six HoSo fields of every dossier
        (NFC, and NFD where emitted so) and every non-empty rating comment (GopY). Built once
        (a few seconds for 500,000 dossiers) and cached."""
        if getattr(self, "_personal_cache", None) is None:
            out: set[str] = set()
            for lo in range(0, len(self), 10_000):
                out |= self._personal_of(self._base_records(list(range(lo, min(lo + 10_000, len(self))))))
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
        rc = self.rating_cols
        row = int(rc["row"][j])
        bad_date = int(rc["bad_date"][j])
        date = fmt(rc["date"][j])
        if bad_date >= 0:
            date = _bad_timestamp_value(date, bad_date)
        kind = int(rc["comment"][j])
        if kind == 0:
            comment = self._absent(j, 0)
        elif kind == 1:
            comment = cat.GENERIC_COMMENTS[j % len(cat.GENERIC_COMMENTS)]
        else:
            rc_ = self._row_columns(row)
            comment = (f"Tôi là {self._name_of(rc_)}, số điện thoại {self._phone_of(rc_)}. "
                       + cat.GENERIC_COMMENTS[j % len(cat.GENERIC_COMMENTS)])
        return {
            "MaDanhGia": self.ma_danh_gia(j),
            "MaHoSo": self.ma_ho_so(row),
            "DonViXuLy": self.rating_unit_codes[int(rc["unit"][j])],
            "NgayDanhGia": date,
            "MucDoHaiLong": str(int(rc["level"][j])),
            "GopY": comment,
            "NgayCapNhat": fmt(rc["date"][j]),
        }

    def ratings_in(self, ma_don_vi: str, tu_ngay: str, den_ngay: str) -> np.ndarray:
        """Rating numbers of the portal's /danh-gia listing, in delivery order (by MaDanhGia)."""
        scope = self.scope(ma_don_vi)
        if scope is None:
            return np.zeros(0, dtype=np.int64)
        rc = self.rating_cols
        idx = [self.rating_unit_codes.index(code) for code in scope]
        own = np.isin(rc["unit"], idx)
        rated = self._scope_mask(ma_don_vi)[rc["row"]]
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
        return self._scope_mask(ma_don_vi) & np.where(never, never_rule, received_rule)

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
        """The portal's own Biểu 06, deliberately computed with the portal's habits:

        - it does not quarantine: planted-invalid dossiers count wherever their readable dates
          put them (finished without K counts as in progress; K < T still counts as resolved);
        - early/on time/late compares the full timestamps K and H, not their dates, so a dossier
          finished on its due date after the due hour (17:00) is late for the portal;
        - it returns a row for every lĩnh vực of the unit's procedures, zeros included, in
          catalogue order, and a final "TONG" row.
        Stale duplicate copies are not counted (the portal knows each dossier once).
        """
        rows = self._scope_mask(ma_don_vi)
        S, E = int(tu_ngay), int(den_ngay)
        st, t, k, h = self.f_status, self.f_t, self.f_k, self.f_h
        received = (((st == 2) | ((st >= 4) & (st <= 10))) & (t > 0)) & rows
        finished = (st >= 7) & (st <= 10) & (k > 0)
        carried = received & (t < S) & (~finished | (k >= S))
        new = received & (t >= S) & (t <= E)
        channel = self.cols["channel"]
        online = new & (channel == 1)
        offline = new & (channel != 1)
        resolved = received & finished & (k >= S) & (k <= E) & (t <= E)
        no_limit = h <= 0
        early = resolved & ~no_limit & (k <= h) & (k // 1_000_000 < h // 1_000_000)
        on_time = resolved & (no_limit | ((k <= h) & (k // 1_000_000 == h // 1_000_000)))
        late = resolved & ~no_limit & (k > h)
        pending = received & (t <= E) & (~finished | (k > E))
        overdue = pending & ~no_limit & (h <= E)
        lv_of_proc = np.array([p["MaLinhVuc"] for p in self.procedures])
        lv = lv_of_proc[self.cols["proc"]]
        in_scope_fields = set(lv[rows].tolist()) | {p["MaLinhVuc"] for p in self.procedures_of(ma_don_vi)}
        fields: list[tuple[str, str]] = []
        for p in self.procedures:
            if p["MaLinhVuc"] in in_scope_fields and (p["MaLinhVuc"], p["TenLinhVuc"]) not in fields:
                fields.append((p["MaLinhVuc"], p["TenLinhVuc"]))
        out = []
        for code, name in fields:
            m = lv == code
            def n(a):
                return int(np.count_nonzero(a & m))
            out.append({
                "MaLinhVuc": code, "TenLinhVuc": name,
                "TiepNhan": {"Tong": n(carried) + n(online) + n(offline), "TrucTuyen": n(online),
                             "TrucTiepBuuChinh": n(offline), "KyTruocChuyenSang": n(carried)},
                "DaGiaiQuyet": {"Tong": n(resolved), "TruocHan": n(early), "DungHan": n(on_time), "QuaHan": n(late)},
                "DangGiaiQuyet": {"Tong": n(pending), "TrongHan": n(pending & ~overdue), "QuaHan": n(overdue)},
            })
        total: dict[str, Any] = {"MaLinhVuc": "TONG", "TenLinhVuc": "Tổng cộng"}
        for group in ("TiepNhan", "DaGiaiQuyet", "DangGiaiQuyet"):
            keys = {"TiepNhan": ("Tong", "TrucTuyen", "TrucTiepBuuChinh", "KyTruocChuyenSang"),
                    "DaGiaiQuyet": ("Tong", "TruocHan", "DungHan", "QuaHan"),
                    "DangGiaiQuyet": ("Tong", "TrongHan", "QuaHan")}[group]
            total[group] = {key: sum(r[group][key] for r in out) for key in keys}
        return out + [total]


# =============================================================================== mutations
_BAD_TS_FORMS = 6


def _bad_timestamp_value(original: Any, variant: int) -> str:
    base = original if isinstance(original, str) and len(original) == 14 and original.isdigit() else "20250314093000"
    form = variant % _BAD_TS_FORMS
    if form == 0:
        return base[:4] + "0230" + base[8:]  # 30 February
    if form == 1:
        return base[:8] + "24" + base[10:]  # hour 24
    if form == 2:
        return f"{base[:4]}-{base[4:6]}-{base[6:8]} {base[8:10]}:{base[10:12]}:{base[12:]}"
    if form == 3:
        return base[:12]  # seconds missing
    if form == 4:
        return f"{base[6:8]}/{base[4:6]}/{base[:4]}"
    return base[:4] + "1301" + base[8:]  # month 13


def _ensure_fee(rec: dict, ds: Dataset) -> dict:
    if not rec["DanhSachLePhi"]:
        rec["DanhSachLePhi"] = [{"MaPhiLePhi": "LP-KHAC", "TenPhiLePhi": "Phí cung cấp thông tin", "Gia": 20000,
                                 "HinhThucThu": "Trực tiếp"}]
    return rec["DanhSachLePhi"][0]


def _ensure_eform(rec: dict) -> dict:
    if not rec["ThongTinEForm"]:
        rec["ThongTinEForm"] = {"SoTruong": 24, "SoTruongTuDong": 6}
    return rec["ThongTinEForm"]


def _m_missing(rec: dict, v: int, ds: Dataset) -> None:
    name = ("MaTTHC", "DonViXuLy", "TrangThaiHoSo", "NgayCapNhat")[v % 4]
    form = (v // 4) % 3
    if form == 0:
        del rec[name]
    else:
        rec[name] = "" if form == 1 else None


def _m_bad_code(rec: dict, v: int, ds: Dataset) -> None:
    choice = v % 6
    if choice == 0:
        rec["KenhThucHien"] = "4"
    elif choice == 1:
        rec["DuocThanhToanTrucTuyen"] = "3"
    elif choice == 2:
        rec["DongBoDVCQG"] = "2"
    elif choice == 3:
        rec["HoSoCoThanhPhanSoHoa"] = "x"
    elif choice == 4:
        rec["TaiKhoanDuocXacThucVoiVNeID"] = "Y"
    else:
        if rec["TaiLieuNop"]:
            rec["TaiLieuNop"][0]["DuocSoHoa"] = "2"
        else:
            rec["KenhThucHien"] = "0"


def _m_bad_timestamp(rec: dict, v: int, ds: Dataset) -> None:
    candidates: list[tuple[str, ...]] = []
    for f in ("NgayHenTra", "NgayTra", "NgayHenTra", "NgayNopHoSo", "NgayTiepNhan", "NgayKetThucXuLy"):
        if rec.get(f):
            candidates.append((f,))
    if rec["DanhSachHoSoBoSung"]:
        candidates += [("DanhSachHoSoBoSung", "NgayYeuCau")] * 2
        if rec["DanhSachHoSoBoSung"][0]["NgayBoSung"]:
            candidates.append(("DanhSachHoSoBoSung", "NgayBoSung"))
    if rec["ThuXinLoi"]:
        candidates += [("ThuXinLoi", "NgayGui")] * 2
    target = candidates[v % len(candidates)] if candidates else ("NgayNopHoSo",)
    form = v // max(1, len(candidates))
    if len(target) == 1:
        rec[target[0]] = _bad_timestamp_value(rec.get(target[0]), form)
    elif target[0] == "DanhSachHoSoBoSung":
        item = rec["DanhSachHoSoBoSung"][0]
        item[target[1]] = _bad_timestamp_value(item[target[1]], form)
    else:
        rec["ThuXinLoi"]["NgayGui"] = _bad_timestamp_value(rec["ThuXinLoi"]["NgayGui"], form)


def _m_bad_type(rec: dict, v: int, ds: Dataset) -> None:
    choice = v % 5
    if choice == 0:
        fee = _ensure_fee(rec, ds)
        fee["Gia"] = str(fee["Gia"])  # a number written as a string
    elif choice == 1:
        _ensure_eform(rec)["SoTruong"] = 3.5  # a count with a fractional part
        rec["ThongTinEForm"]["SoTruongTuDong"] = min(rec["ThongTinEForm"]["SoTruongTuDong"], 2)
    elif choice == 2:
        fee = _ensure_fee(rec, ds)
        rec["DanhSachLePhi"] = dict(fee)  # an object where a list belongs
    elif choice == 3:
        rec["TaiLieuNop"] = {"TenTepDinhKem": "Đơn đề nghị.pdf", "DuocSoHoa": "1", "DuocTaiSuDung": "0",
                             "DuocLayTuKhoDMQG": "0"}
    else:
        _ensure_eform(rec)["SoTruongTuDong"] = "5"  # a count written as a string
        rec["ThongTinEForm"]["SoTruong"] = max(rec["ThongTinEForm"]["SoTruong"], 5)


def _m_received_without_t(rec: dict, v: int, ds: Dataset) -> None:
    if v % 3 == 0:
        del rec["NgayTiepNhan"]
    else:
        rec["NgayTiepNhan"] = "" if v % 3 == 1 else None


def _m_finished_without_k(rec: dict, v: int, ds: Dataset) -> None:
    rec["NgayKetThucXuLy"] = "" if v % 2 else None


def _m_k_before_t(rec: dict, v: int, ds: Dataset) -> None:
    t = parse_ts(rec["NgayTiepNhan"])
    rec["NgayKetThucXuLy"] = (t - timedelta(minutes=30 + (v % 7200))).strftime("%Y%m%d%H%M%S")


def _m_unknown_procedure(rec: dict, v: int, ds: Dataset) -> None:
    known = {p["MaTTHC"] for p in ds.procedures}
    code = f"2.{9000 + v % 999:06d}"
    while code in known:  # pragma: no cover - the catalogue never uses 2.009xxx
        code = code[:-1] + "9"
    rec["MaTTHC"] = code


def _m_unit_outside(rec: dict, v: int, ds: Dataset) -> None:
    rec["DonViXuLy"] = cat.OUTSIDE_UNITS[v % len(cat.OUTSIDE_UNITS)]


def _m_negative_fee(rec: dict, v: int, ds: Dataset) -> None:
    fee = _ensure_fee(rec, ds)
    fee["Gia"] = -abs(fee["Gia"] or 50000)


def _m_bad_eform(rec: dict, v: int, ds: Dataset) -> None:
    form = _ensure_eform(rec)
    if v % 2:
        form["SoTruong"] = -1
        form["SoTruongTuDong"] = 0
    else:
        form["SoTruongTuDong"] = form["SoTruong"] + 1 + v % 5


_MUTATORS = {
    "missing_field": _m_missing, "bad_code": _m_bad_code, "bad_timestamp": _m_bad_timestamp,
    "bad_type": _m_bad_type, "received_without_T": _m_received_without_t,
    "finished_without_K": _m_finished_without_k, "K_before_T": _m_k_before_t,
    "unknown_procedure": _m_unknown_procedure, "unit_outside_agency": _m_unit_outside,
    "negative_fee": _m_negative_fee, "bad_eform": _m_bad_eform,
}


# =============================================================================== generation
def build_units(agency: str) -> list[dict]:
    """The agency and its sub-units. Sub-unit codes swap the first two groups of the agency's."""
    groups = agency.split(".")
    tail = ".".join(groups[2:])

    def code(prefix: str) -> str:
        return agency if prefix == "000.00" else f"{prefix}.{tail}"

    return [{"MaDonVi": code(p), "TenDonVi": name, "MaDonViCha": code(parent) if parent else None, "CapDonVi": level}
            for p, name, parent, level in cat.UNITS]


def build_procedures(rng: np.random.Generator, units: list[dict], agency: str, start: datetime) -> list[dict]:
    codes_by_prefix = {u["MaDonVi"][:6] if u["MaDonVi"] != agency else "000.00": u["MaDonVi"] for u in units}
    procs: list[dict] = []
    n_total = sum(len(names) for *_rest, names in cat.FIELDS)
    inactive = set(rng.choice(n_total, size=4, replace=False).tolist())
    i = 0
    for lv_code, lv_name, unit_prefix, names in cat.FIELDS:
        for name in names:
            code = "1.001776" if i == 0 else f"{1 if i % 6 else 2}.{(1000 + i * 379) % 13000 + 100:06d}"
            mucdo = str(rng.choice([2, 3, 4], p=[0.18, 0.37, 0.45]))
            dac_thu = "1" if rng.random() < 0.08 else "0"
            fee = rng.random() < 0.35
            unit = codes_by_prefix[unit_prefix]
            if unit_prefix == "000.03" and rng.random() < 0.1:
                unit = agency  # a few procedures are implemented by the department itself
            limit = None if rng.random() < 0.08 else str(rng.choice(cat.TIME_LIMITS))
            procs.append({
                "MaTTHC": code,
                "TenTTHC": name,
                "MaLinhVuc": lv_code,
                "TenLinhVuc": lv_name,
                "MucDo": mucdo,
                "MotCua": "0" if dac_thu == "1" and rng.random() < 0.7 else ("1" if rng.random() < 0.92 else "0"),
                "DacThu": dac_thu,
                "DuDieuKienTrucTuyen": "1" if (mucdo != "2" or rng.random() < 0.3) and rng.random() < 0.93 else "0",
                "BonTaiCho": "1" if rng.random() < 0.22 else "0",
                "CoPhiLePhi": "1" if fee else "0",
                "ThanhToanTrucTuyen": "1" if fee and rng.random() < 0.75 else "0",
                "ThoiHanGiaiQuyet": limit if limit is not None or rng.random() < 0.5 else "",
                "MaDonViThucHien": unit,
                "HieuLuc": "0" if i in inactive else "1",
                "NgayCapNhat": (start - timedelta(days=int(rng.integers(30, 900)))).strftime("%Y%m%d%H%M%S"),
                "_fee": int(rng.choice(cat.FEE_AMOUNTS)) if fee else -1,
            })
            i += 1
    assert len({p["MaTTHC"] for p in procs}) == len(procs), "procedure codes must be unique"
    return procs


def windows_in_span(config: GeneratorConfig) -> list[Window]:
    out = []
    for rule in config.boundary_rules:
        for year in range(config.span_start.year, config.span_end.year + 2):
            for q in (1, 2, 3, 4):
                w = window_for(year, q, rule)
                if w.start >= config.span_start and w.end <= config.extraction_time:
                    out.append(w)
    return out


def generate(config: GeneratorConfig | None = None, **overrides) -> Dataset:
    """Generate the dataset for ``config`` (or ``GeneratorConfig(**overrides)``)."""
    if config is None:
        config = GeneratorConfig(**overrides)
    elif overrides:
        from dataclasses import replace
        config = replace(config, **overrides)
    return _Builder(config).build()


class _Builder:
    def __init__(self, config: GeneratorConfig):
        self.cfg = config
        self.rng = np.random.default_rng(config.seed)
        self.start = to_secs(config.span_start)
        self.as_of = to_secs(config.extraction_time)
        self.end = min(to_secs(config.span_end), self.as_of)

    # ------------------------------------------------------------------ helpers
    def _office(self, days: np.ndarray, lo=7 * HOUR + 30 * 60, hi=17 * HOUR) -> np.ndarray:
        return days * DAY + self.rng.integers(lo, hi, size=days.shape[0])

    def build(self) -> Dataset:
        cfg, rng = self.cfg, self.rng
        units = build_units(cfg.agency)
        unit_index = {u["MaDonVi"]: i for i, u in enumerate(units)}
        procs = build_procedures(rng, units, cfg.agency, cfg.span_start)
        windows = windows_in_span(cfg)

        quarter = 365.25 / 4 * DAY
        n_reg = max(1, int(round(cfg.dossiers_per_quarter * (self.end - self.start) / quarter)))
        # boundary rows: (kind, window) specs
        specs: list[tuple[str, Window]] = []
        for w in windows:
            for kind in BOUNDARY_KINDS:
                specs += [(kind, w)] * cfg.boundary_per_kind
        n_b = len(specs)
        n = n_reg + n_b

        # ---- procedure, unit, channel
        active = np.array([p["HieuLuc"] == "1" for p in procs])
        weights = rng.gamma(0.8, 1.0, size=len(procs)) * active
        weights /= weights.sum()
        proc = rng.choice(len(procs), size=n, p=weights)
        submit = np.empty(n, dtype=np.int64)
        submit[:n_reg] = np.sort(rng.integers(self.start, self.end, size=n_reg))
        submit[n_reg:] = self.start  # set below
        # old dossiers of procedures no longer in force
        inactive = np.nonzero(~active)[0]
        early_rows = np.nonzero((submit < self.start + 300 * DAY) & (np.arange(n) < n_reg))[0]
        pick = early_rows[rng.random(early_rows.shape[0]) < 0.02]
        proc[pick] = rng.choice(inactive, size=pick.shape[0])

        proc_unit = np.array([unit_index[p["MaDonViThucHien"]] for p in procs])
        unit = proc_unit[proc]
        u = rng.random(n)
        for parent, branches in cat.BRANCH_SHARE.items():
            parent_code = cfg.agency if parent == "000.00" else parent + "." + ".".join(cfg.agency.split(".")[2:])
            acc = 0.0
            base = unit == unit_index[parent_code]
            for prefix, share in branches:
                code = prefix + "." + ".".join(cfg.agency.split(".")[2:])
                sel = base & (u >= acc) & (u < acc + share)
                unit[sel] = unit_index[code]
                acc += share

        online_ok = np.array([p["MucDo"] in ("3", "4") for p in procs])[proc]
        r = rng.random(n)
        channel = np.where(online_ok,
                           np.select([r < 0.62, r < 0.87, r < 0.92, r < 0.97], [1, 0, 2, 3], 4),
                           np.select([r < 0.01, r < 0.76, r < 0.86, r < 0.96], [1, 0, 2, 3], 4)).astype(np.int8)
        online = channel == 1

        # ---- submission and reception
        sday = submit // DAY
        inperson = ~online & (np.arange(n) < n_reg)
        sday_bd = _busday(sday, 0)
        submit = np.where(inperson, self._office(sday_bd), submit)
        t = np.where(online, submit + rng.integers(600, 2 * DAY, size=n), submit + rng.integers(60, 1200, size=n))
        tday, tod = t // DAY, t % DAY
        weekend = ~np.is_busday(tday.astype("datetime64[D]"))
        off = (tod < 7 * HOUR + 30 * 60) | (tod > 17 * HOUR) | weekend
        moved = self._office(_busday(tday + (tod > 17 * HOUR), 0), hi=10 * HOUR + 30 * 60)
        t = np.where(off & online, moved, t)

        # boundary rows: forced T or forced K
        forced_k = np.full(n, NONE, dtype=np.int64)
        boundary_kind = {}
        for j, (kind, w) in enumerate(specs):
            row = n_reg + j
            S, E = to_secs(w.start), to_secs(w.end)
            boundary_kind[row] = (kind, w)
            target = {"T_eq_S": S, "T_eq_S_minus_1": S - 1, "T_eq_E": E, "T_eq_E_plus_1": E + 1}.get(kind)
            if target is not None:
                t[row] = target
            elif kind.startswith("K_"):
                forced_k[row] = {"K_eq_S": S, "K_eq_S_minus_1": S - 1, "K_eq_E": E, "K_eq_E_plus_1": E + 1}[kind]
                t[row] = forced_k[row] - int(rng.integers(HOUR, 25 * DAY))
            else:  # due-date boundaries: received some weeks before E, still open at E
                t[row] = E - int(rng.integers(10 * DAY, 40 * DAY))
            submit[row] = t[row] - (int(rng.integers(HOUR, 2 * DAY)) if online[row] else int(rng.integers(0, 1200)))
        t = np.minimum(t, self.as_of)
        submit = np.minimum(submit, t)

        # ---- due date and supplements
        limits = np.array([float(p["ThoiHanGiaiQuyet"]) if p["ThoiHanGiaiQuyet"] else np.nan for p in procs])[proc]
        has_limit = ~np.isnan(limits) & (rng.random(n) > 0.02)
        lim = np.where(has_limit, np.nan_to_num(limits, nan=1), 1).astype(np.int64)
        tday_rolled = _busday(t // DAY, 0)
        hday = _busday(t // DAY, lim)
        sup = has_limit & (rng.random(n) < 0.12) & (np.arange(n) < n_reg)
        req_day = _busday(t // DAY, rng.integers(1, np.maximum(2, lim // 2 + 1)))
        pause = rng.integers(2, 11, size=n)
        done_day = _busday(req_day, pause)
        sup_req = np.where(sup, self._office(req_day), NONE)
        sup_done = np.where(sup, self._office(done_day), NONE)
        hday = np.where(sup, _busday(hday, pause), hday)
        # due-date boundary rows
        for row, (kind, w) in boundary_kind.items():
            if kind == "H_on_E_date":
                has_limit[row], hday[row] = True, to_secs(w.end) // DAY
            elif kind == "H_day_after_E":
                has_limit[row], hday[row] = True, to_secs(w.end) // DAY + 1
        h = np.where(has_limit, hday * DAY + 17 * HOUR, NONE)

        # ---- processing end
        outcome = rng.choice(5, size=n, p=[0.5, 0.27, 0.15, 0.025, 0.055])  # early, on time, late, stalled, no-limit path
        span_bd = np.maximum(np.busday_count(tday_rolled.astype("datetime64[D]"), hday.astype("datetime64[D]")), 1)
        early_day = _busday(t // DAY, np.floor(rng.random(n) * span_bd).astype(np.int64))
        early_day = np.minimum(early_day, hday - 1)
        late_day = _busday(hday, rng.integers(1, 21, size=n))
        free_day = _busday(t // DAY, rng.integers(0, 31, size=n))
        kday = np.select([~has_limit, outcome == 0, outcome == 1, outcome == 2], [free_day, early_day, hday, late_day],
                         free_day)
        k = self._office(kday)
        overtime = rng.random(n) < 0.03  # a few finish after the due hour (17:00) of their day
        k = np.where(overtime, k + rng.integers(HOUR, 3 * HOUR, size=n), k)
        k = np.maximum(k, t + rng.integers(300, 4 * HOUR, size=n))
        k = np.where(sup, np.maximum(k, sup_done + HOUR), k)
        stalled = (outcome == 3) & (np.arange(n) < n_reg)
        k = np.where(stalled, NONE, k)
        # due-date boundary rows stay open past E; forced-K rows end exactly at K
        for row, (kind, w) in boundary_kind.items():
            if kind.startswith("H_"):
                k[row] = to_secs(w.end) + int(rng.integers(DAY, 20 * DAY))
            elif kind.startswith("K_"):
                k[row] = forced_k[row]
        finished = (k != NONE) & (k <= self.as_of)

        # ---- statuses
        status = np.zeros(n, dtype=np.int8)
        fin_status = rng.choice([10, 9, 8, 7], size=n, p=[0.62, 0.26, 0.06, 0.06])
        status[finished] = fin_status[finished]
        tra = np.where(status == 10, k + rng.integers(0, 3 * DAY, size=n), NONE)
        late_return = (status == 10) & (tra > self.as_of)
        status[late_return], tra[late_return] = 9, NONE
        fee_proc = np.array([p["_fee"] for p in procs])[proc]
        open_rows = ~finished
        open_status = rng.choice([4, 2, 5, 6], size=n, p=[0.7, 0.12, 0.1, 0.08])
        open_status = np.where((open_status == 6) & (fee_proc < 0), 4, open_status)
        status[open_rows] = open_status[open_rows]
        # supplements: only what happened by as_of
        sup_req = np.where(sup_req > self.as_of, NONE, sup_req)
        sup_done = np.where((sup_req == NONE) | (sup_done > self.as_of), NONE, sup_done)
        pending_sup = open_rows & (sup_req != NONE) & (sup_done == NONE)
        status[pending_sup] = 5
        want_sup = open_rows & (status == 5) & (sup_req == NONE)
        sup_req = np.where(want_sup, np.minimum(np.maximum(t + 60, self.as_of - rng.integers(HOUR, 10 * DAY, size=n)),
                                                self.as_of), sup_req)
        k_shown = np.where(finished, k, NONE)
        # noise: K on a dossier still open (ignored by the rules)
        noise = open_rows & (rng.random(n) < 0.01) & (np.arange(n) < n_reg)
        k_shown = np.where(noise, np.minimum(t + rng.integers(DAY, 20 * DAY, size=n), self.as_of), k_shown)
        # never received: status 1 (submitted) and 3 (refused at reception)
        r = rng.random(n)
        regular = np.arange(n) < n_reg
        st1 = regular & (r < 0.015)
        st3 = regular & (r >= 0.015) & (r < 0.035)
        never = st1 | st3
        status[st1], status[st3] = 1, 3
        keep_t = st3 & (rng.random(n) < 0.12)  # refused, yet NgayTiepNhan filled in
        t = np.where(never & ~keep_t, NONE, t)
        h = np.where(never, NONE, h)
        refusal = submit + rng.integers(HOUR, 3 * DAY, size=n)
        k_shown = np.where(st1, NONE, np.where(st3, np.where(rng.random(n) < 0.5, np.minimum(refusal, self.as_of), NONE),
                                                k_shown))
        tra = np.where(never, NONE, tra)
        sup_req = np.where(never, NONE, sup_req)
        sup_done = np.where(never, NONE, sup_done)
        finished &= ~never

        # ---- apology letters
        late_fin = finished & (h != NONE) & (k // DAY > h // DAY)
        overdue_open = open_rows & ~never & (h != NONE) & (h < self.as_of)
        letter_p = np.where(late_fin, 0.6, np.where(overdue_open, 0.4, 0.0))
        has_letter = rng.random(n) < letter_p
        letter = np.where(has_letter, np.minimum(np.maximum(h + rng.integers(HOUR, 2 * DAY, size=n), t), self.as_of), NONE)
        letter_no = np.where(rng.random(n) < 0.05, 0, rng.integers(1, 999, size=n))

        # ---- fees, payment, forms, results, flags
        fee = np.where(fee_proc >= 0, np.where(rng.random(n) < 0.1, 0, fee_proc), -1)
        pay_online = np.array([p["ThanhToanTrucTuyen"] == "1" for p in procs])[proc]
        r = rng.random(n)
        paid_code = np.where(r < 0.6, 1, 2)
        p_paid = np.where(online, 0.55, 0.08)
        paid = np.where((fee > 0) & pay_online & (rng.random(n) < p_paid), paid_code,
                        rng.choice([0, 3, 4], size=n, p=[0.6, 0.25, 0.15]))
        eform_present = np.where(online, rng.random(n) < 0.85, rng.random(n) < 0.03)
        eform_n = np.where(eform_present, rng.integers(8, 61, size=n), -1)
        eform_auto = np.where(eform_present, np.floor(rng.random(n) * (eform_n * 0.55 + 1)).astype(np.int64), -1)
        eform_auto = np.minimum(eform_auto, eform_n)
        has_result = (status == 9) | (status == 10)
        results = np.where(has_result, np.where(rng.random(n) < 0.85, 1, 2), 0)
        result_link = rng.random(n) < 0.55
        dvcqg = rng.choice([1, 0, 3, 4], size=n, p=[0.88, 0.07, 0.03, 0.02])
        digitised = rng.choice([1, 0, 3, 4], size=n, p=[0.55, 0.3, 0.1, 0.05])
        vneid = np.where(online, rng.choice([1, 0, 3], size=n, p=[0.85, 0.1, 0.05]),
                         rng.choice([0, 3, 4], size=n, p=[0.5, 0.3, 0.2]))

        # ---- personal data
        gender = rng.integers(0, 2, size=n)
        fam = rng.integers(0, len(cat.FAMILY_NAMES), size=n)
        mid = rng.integers(0, len(cat.MIDDLE_NAMES_M), size=n)
        given = rng.integers(0, len(cat.GIVEN_NAMES_M), size=n)
        birth_year = rng.integers(1945, 2006, size=n)
        century = np.where(birth_year >= 2000, 2, 0) + gender
        id_no = (460 + century) * 10**8 + (birth_year % 100) * 10**6 + rng.integers(0, 10**6, size=n)
        for _ in range(50):  # unique ID numbers: leak checks elsewhere rely on them
            _, first = np.unique(id_no, return_index=True)
            clash = np.ones(n, dtype=bool)
            clash[first] = False
            if not clash.any():
                break
            id_no[clash] = (id_no[clash] // 10**6) * 10**6 + rng.integers(0, 10**6, size=int(clash.sum()))
        phone = rng.integers(0, 4 * 10**8, size=n)
        house = rng.integers(1, 300, size=n)
        street = rng.integers(0, len(cat.STREETS), size=n)
        ward = rng.integers(0, len(cat.WARDS), size=n)
        aux = rng.integers(0, 2**31, size=n)
        nfd = rng.random(n) < cfg.nfd_rate

        # ---- last update
        cols_time = [submit, t, sup_req, sup_done, k_shown, tra, letter]
        last = np.max(np.stack([np.where(c == NONE, 0, c) for c in cols_time]), axis=0)
        ncn = np.minimum(last + rng.integers(0, 900, size=n), self.as_of)

        cols = dict(proc=proc, unit=unit, channel=channel, status=status, submit=submit, t=t, h=h, k=k_shown, tra=tra,
                    sup_req=sup_req, sup_done=sup_done, letter=letter, letter_no=letter_no, fee=fee, paid=paid,
                    eform_n=eform_n, eform_auto=eform_auto, results=results, result_link=result_link, dvcqg=dvcqg,
                    digitised=digitised, vneid=vneid, gender=gender, fam=fam, mid=mid, given=given, id_no=id_no,
                    phone=phone, house=house, street=street, ward=ward, aux=aux, nfd=nfd, ncn=ncn)
        # chronological order of submission (stable), boundary rows placed among the others
        perm = np.argsort(submit, kind="stable")
        cols = {name: np.ascontiguousarray(a[perm]) for name, a in cols.items()}
        new_pos = np.empty(n, dtype=np.int64)
        new_pos[perm] = np.arange(n)
        boundary_rows = {int(new_pos[row]): spec for row, spec in boundary_kind.items()}

        ds = Dataset(config=cfg, units=units, procedures=[{k2: v for k2, v in p.items() if not k2.startswith("_")}
                                                           for p in procs],
                     windows=windows, cols=cols, rating_cols={}, mutations={}, dup_rows=np.zeros(0, dtype=np.int64),
                     dup_meta=[], delivery_order=np.arange(n), warnings={}, invalid_ratings={}, boundary_cases=[])
        ds.boundary_cases = sorted((BoundaryCase(w.rule, w.year, w.quarter, kind, ds.ma_ho_so(row))
                                    for row, (kind, w) in boundary_rows.items()),
                                   key=lambda b: (b.rule, b.year, b.quarter, b.kind, b.ma_ho_so))
        self._plant(ds, set(boundary_rows))
        self._filter_columns(ds)
        self._ratings(ds, windows)
        return ds

    # ------------------------------------------------------------------ planting
    def _plant(self, ds: Dataset, protected: set[int]) -> None:
        cfg, rng, c = self.cfg, self.rng, ds.cols
        n = len(ds)
        free = np.ones(n, dtype=bool)
        free[list(protected)] = False
        status = c["status"]
        received = ((status == 2) | (status >= 4)) & (c["t"] != NONE)
        finished = (status >= 7) & (c["k"] != NONE) & received

        def take(mask: np.ndarray, count: int) -> np.ndarray:
            cand = np.nonzero(mask & free)[0]
            chosen = np.sort(rng.choice(cand, size=min(count, cand.shape[0]), replace=False))
            free[chosen] = False
            return chosen

        # invalid records
        n_invalid = int(round(cfg.invalid_rate * n))
        rules = rng.permutation(np.arange(n_invalid) % len(RULES))  # every rule, evenly
        eligible = {"finished_without_K": finished, "K_before_T": finished, "received_without_T": received}
        for rule_i in range(len(RULES)):
            rule = RULES[rule_i]
            count = int(np.count_nonzero(rules == rule_i))
            if count == 0:
                continue
            for row in take(eligible.get(rule, received | (rng.random(n) < 0.1)), count):
                ds.mutations[int(row)] = [(rule, int(rng.integers(0, 10_000)))]
        # a few records break two rules at once
        multi = [r for r in ds.mutations if ds.mutations[r][0][0] in ("bad_timestamp", "bad_code")][:: 7]
        for row in multi:
            second = "negative_fee" if ds.mutations[row][0][0] == "bad_timestamp" else "bad_eform"
            ds.mutations[row].append((second, int(rng.integers(0, 10_000))))

        # warnings: due date before reception on otherwise valid dossiers
        for row in take(received & (c["h"] != NONE), int(round(cfg.warning_rate * n))):
            c["h"][row] = (c["t"][row] // DAY - int(rng.integers(1, 4))) * DAY + 17 * HOUR
            ds.warnings[ds.ma_ho_so(int(row))] = frozenset({"due_before_received"})
        ds.__dict__.pop("_ts_cols", None)  # the due dates changed

        # duplicates: stale copies delivered in addition to the true one
        dup_rows = take(np.ones(n, dtype=bool), int(round(cfg.duplicate_rate * n)))
        kinds = rng.choice(len(DUPLICATE_KINDS), size=dup_rows.shape[0], p=[0.55, 0.2, 0.12, 0.13])
        firsts = rng.random(dup_rows.shape[0]) < 0.5
        meta = []
        for kind_i, first in zip(kinds, firsts):
            kind = DUPLICATE_KINDS[kind_i]
            meta.append((kind, int(rng.integers(0, 10_000)), True if kind == "same" else bool(first)))
        ds.dup_rows, ds.dup_meta = dup_rows.astype(np.int64), meta
        offsets = rng.integers(150, 1500, size=dup_rows.shape[0]) + 0.5
        signs = np.array([-1.0 if first else 1.0 for _k, _v, first in meta])
        keys = np.concatenate([np.arange(n, dtype=float), dup_rows + signs * offsets])
        ds.delivery_order = np.argsort(keys, kind="stable").astype(np.int64)

    def _filter_columns(self, ds: Dataset) -> None:
        """Columns of the values as emitted (yyyyMMddHHmmss ints; 0 absent, -1 unreadable),
        re-read from the record for the few planted ones."""
        c = ds.cols
        ds.f_status = c["status"].astype(np.int64).copy()
        ds.f_t = secs_to_tsint(c["t"])
        ds.f_k = secs_to_tsint(c["k"])
        ds.f_h = secs_to_tsint(c["h"])
        ds.f_nop = secs_to_tsint(c["submit"])
        for row in ds.mutations:
            rec = ds.dossier(row)
            st = rec.get("TrangThaiHoSo")
            ds.f_status[row] = int(st) if isinstance(st, str) and st.isdigit() and 1 <= int(st) <= 10 else 0
            ds.f_t[row] = ts_to_int(rec.get("NgayTiepNhan"))
            ds.f_k[row] = ts_to_int(rec.get("NgayKetThucXuLy"))
            ds.f_h[row] = ts_to_int(rec.get("NgayHenTra"))
            ds.f_nop[row] = ts_to_int(rec.get("NgayNopHoSo"))

    def _ratings(self, ds: Dataset, windows: list[Window]) -> None:
        cfg, rng, c = self.cfg, self.rng, ds.cols
        n = len(ds)
        done = ((c["status"] == 9) | (c["status"] == 10)) & (c["k"] != NONE)
        rated = done & (rng.random(n) < cfg.rating_rate)
        rows = np.nonzero(rated)[0]
        base = np.where(c["tra"][rows] != NONE, c["tra"][rows], c["k"][rows])
        date = base + rng.integers(600, 25 * DAY, size=rows.shape[0])
        keep = date <= self.as_of
        rows, date = rows[keep], date[keep]
        # boundary ratings: exactly at S, E and E + 1 s of each window, for older dossiers
        extra_rows, extra_dates = [], []
        for w in windows:
            S, E = to_secs(w.start), to_secs(w.end)
            older = np.nonzero(done & (c["k"] < S - DAY))[0]
            if older.shape[0] == 0:
                continue
            for moment in (S, E, E + 1):
                if moment <= self.as_of:
                    extra_rows += rng.choice(older, size=2).tolist()
                    extra_dates += [moment, moment]
        rows = np.concatenate([rows, np.array(extra_rows, dtype=np.int64)])
        date = np.concatenate([date, np.array(extra_dates, dtype=np.int64)])
        order = np.lexsort((rows, date))
        rows, date = rows[order], date[order]
        m = rows.shape[0]
        level = rng.choice([3, 2, 1], size=m, p=[0.55, 0.38, 0.07]).astype(np.int8)
        unit = c["unit"][rows].astype(np.int64)
        n_units = len(ds.units)
        r = rng.random(m)
        unit = np.where(r < 0.05, 0, unit)  # attributed to the department itself
        unit = np.where((r >= 0.05) & (r < 0.08), rng.integers(1, n_units, size=m), unit)  # to another sub-unit
        comment = rng.choice([0, 1, 2], size=m, p=[0.5, 0.35, 0.15]).astype(np.int8)
        bad_date = np.full(m, -1, dtype=np.int64)
        # invalid ratings
        n_bad = int(round(cfg.invalid_rating_rate * m))
        bad = np.sort(rng.choice(m, size=min(n_bad * 3, m), replace=False))
        for idx, j in enumerate(bad):
            kind = idx % 3
            if kind == 0:
                level[j] = (4, 0)[idx % 2]
                ds.invalid_ratings[ds.ma_danh_gia(int(j))] = frozenset({"bad_code"})
            elif kind == 1:
                bad_date[j] = int(rng.integers(0, 10_000))
                ds.invalid_ratings[ds.ma_danh_gia(int(j))] = frozenset({"bad_timestamp"})
            else:
                unit[j] = n_units + idx % len(cat.OUTSIDE_UNITS)
                ds.invalid_ratings[ds.ma_danh_gia(int(j))] = frozenset({"unit_outside_agency"})
        ds.rating_cols = dict(row=rows, date=date, level=level, unit=unit, comment=comment, bad_date=bad_date)
        date_int = secs_to_tsint(date)
        date_int[bad_date >= 0] = -1
        ds.rating_cols["date_int"] = date_int
