"""The generator's vocabulary: what to generate (:class:`GeneratorConfig`), the codes of the
planted cases, and the records of ground truth (:class:`Duplicate`, :class:`BoundaryCase`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from . import catalogue as cat

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


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. Defaults give ~68,000 dossiers over 2023-09-01 – 2027-01-31."""

    seed: int = 42
    agency: str = cat.DEFAULT_AGENCY
    agency_name: str | None = None  # TenDonVi of the agency itself; None = the catalogue's department
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

