"""The report's figures: Biểu 06, the indicator catalogue, identities, reconciliation.

Pure functions, no I/O.  Normative text: INDICATORS.md §2 (which dossiers count), §3 (Biểu 06),
§4 (indicators).  Every number is built from :func:`classify`, one dossier at a time, so each
cell can be traced back to the MaHoSo behind it (:func:`bieu06_members`,
:func:`indicator_members`).

Inputs are *valid* records (de-duplicated, then validated by ``parreport.quality``).  The
functions do not re-validate; a record that cannot be classified (unreadable timestamp, a
MaTTHC missing from the catalogue) raises ``ValueError`` instead of being miscounted silently.
Dossiers and ratings may be given as mappings or as the typed records of ``records.py``.

Where each job lives:

* ``names.py`` — the Biểu 06 columns, the TONG row and the indicator names (what documents label);
* ``records.py`` — the fields of a dossier and a rating the figures read, decoded from the store's
  JSON text one record at a time (:func:`dossiers_from_json`, :func:`ratings_from_json`);
* ``classify.py`` — §2: where one dossier stands in a window (:func:`classify`);
* ``scopes.py`` — the procedure catalogue (:class:`ProcedureIndex`) and the unit tree's scopes;
* ``bieu06.py`` — §3: Biểu 06 and its traceability; ``indicators.py`` — §4: the indicators,
  :func:`percent` (half-up, exact) and :func:`meets_target` (exact fractions);
* ``quarter.py`` — both in one pass over the window (:func:`compute_quarter`, what the
  ``compute_figures`` task runs);
* ``checks.py`` — the identities of §2 and the reconciliation with the portal's Biểu 06.

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

from .bieu06 import Bieu06Tally, bieu06_members, compute_bieu06
from .checks import check_identities, portal_bieu06_problems, reconcile_bieu06
from .classify import Classification, classify
from .indicators import IndicatorTally, compute_indicators, indicator_members, meets_target, percent
from .names import BIEU06_COLUMNS, INDICATOR_NAMES, TOTAL_CODE, TOTAL_NAME
from .quarter import compute_quarter
from .records import Dossier, Rating, dossiers_from_json, ratings_from_json
from .scopes import ProcedureIndex, scopes_of

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
    "compute_quarter",
    "scopes_of",
    "percent",
    "meets_target",
    "check_identities",
    "reconcile_bieu06",
    "portal_bieu06_problems",
    "Dossier",
    "Rating",
    "dossiers_from_json",
    "ratings_from_json",
    "Bieu06Tally",
    "IndicatorTally",
]
