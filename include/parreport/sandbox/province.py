"""A whole province for the sandbox portal: several agencies, each its own tree of units and
its own generated dossiers and ratings, served by one portal.

``generate_province(GeneratorConfig(seed=...), agencies)`` generates one :class:`Dataset` per
agency (the i-th with seed :func:`agency_seed`, so the first agency's data is exactly what a
single-agency sandbox with the same seed serves) and returns a :class:`Province`, which answers
the portal's questions the way a :class:`Dataset` does: a unit code is routed to the agency
whose tree holds it, and delivery and rating numbers are made province-wide by an offset per
agency.

Readings taken: every agency uses the catalogue's organisation shape (the sub-units of
catalogue.UNITS) and procedure catalogue, under its own codes (sub-unit codes carry the last two
groups of the agency's code, so those must differ between agencies) and its own name.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from . import catalogue as cat
from .dataset import Dataset
from .model import GeneratorConfig

# Agencies of the sandbox province, in order: MaDonVi -> TenDonVi. The first is the catalogue's
# department (the single-agency default).
PROVINCE_AGENCIES: tuple[tuple[str, str], ...] = (
    (cat.DEFAULT_AGENCY, cat.DEFAULT_AGENCY_NAME),
    ("000.00.21.H57", "Sở Tư pháp tỉnh Thừa Thiên Huế"),
    ("000.00.22.H57", "Sở Xây dựng tỉnh Thừa Thiên Huế"),
    ("000.00.23.H57", "Sở Giao thông vận tải tỉnh Thừa Thiên Huế"),
    ("000.00.24.H57", "Sở Tài nguyên và Môi trường tỉnh Thừa Thiên Huế"),
    ("000.00.25.H57", "Sở Y tế tỉnh Thừa Thiên Huế"),
    ("000.00.26.H57", "Sở Giáo dục và Đào tạo tỉnh Thừa Thiên Huế"),
    ("000.00.27.H57", "Sở Công Thương tỉnh Thừa Thiên Huế"),
)
_NAMES = dict(PROVINCE_AGENCIES)
SEED_STEP = 7919


def agency_seed(seed: int, index: int) -> int:
    """The seed of the ``index``-th agency of a province generated with ``seed`` (index 0: ``seed``)."""
    return seed + SEED_STEP * index


def province_agencies(agencies: int | str | list[str] | tuple[str, ...] | None) -> list[str]:
    """The agency codes of a province: a count (the first N of :data:`PROVINCE_AGENCIES`), a
    comma-separated string or a list of MaDonVi. None -> the default agency alone."""
    if agencies is None or agencies == "":
        return [cat.DEFAULT_AGENCY]
    if isinstance(agencies, str):
        agencies = int(agencies) if agencies.strip().isdigit() else [a.strip() for a in agencies.split(",")
                                                                       if a.strip()]
    if isinstance(agencies, int):
        if not 1 <= agencies <= len(PROVINCE_AGENCIES):
            raise ValueError(f"a sandbox province has 1 to {len(PROVINCE_AGENCIES)} agencies, not {agencies}")
        return [code for code, _name in PROVINCE_AGENCIES[:agencies]]
    out = list(agencies)
    if not out:
        raise ValueError("a province needs at least one agency")
    if len(set(out)) != len(out):
        raise ValueError(f"agency codes repeat: {out}")
    return out


def generate_province(config: GeneratorConfig, agencies) -> "Province":
    """One dataset per agency of ``agencies`` (see :func:`province_agencies`), same size and span,
    seeds from :func:`agency_seed`; ``config.agency`` is ignored."""
    from .generator import generate  # the generator imports nothing from here

    codes = province_agencies(agencies)
    datasets = [generate(replace(config, agency=code, seed=agency_seed(config.seed, i),
                                 agency_name=_NAMES.get(code, config.agency_name if i == 0 else None)))
                for i, code in enumerate(codes)]
    return Province(config, datasets)


@dataclass(eq=False)
class Province:
    """Several agencies' datasets behind one portal (see the module docstring)."""

    config: GeneratorConfig
    datasets: list[Dataset]

    def __post_init__(self):
        seen: dict[str, str] = {}
        for ds in self.datasets:
            for code in ds.unit_codes:
                if code in seen:
                    raise ValueError(f"unit {code} belongs to both {seen[code]} and {ds.agency}: "
                                     "agency codes must differ in their last two groups")
                seen[code] = ds.agency
        self._owner_of = {code: i for i, ds in enumerate(self.datasets) for code in ds.unit_codes}
        sizes = [len(ds) + len(ds.dup_rows) for ds in self.datasets]
        self._delivery_offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self._rating_offsets = np.concatenate([[0], np.cumsum([ds.n_ratings for ds in self.datasets])]).astype(np.int64)

    def __len__(self) -> int:
        return sum(len(ds) for ds in self.datasets)

    @property
    def agencies(self) -> list[str]:
        return [ds.agency for ds in self.datasets]

    def dataset(self, agency: str) -> Dataset:
        """The dataset of one agency (KeyError for an agency not in the province)."""
        for ds in self.datasets:
            if ds.agency == agency:
                return ds
        raise KeyError(agency)

    def _owner(self, ma_don_vi: str) -> int | None:
        return self._owner_of.get(ma_don_vi)

    def agency_of(self, ma_don_vi: str) -> str | None:
        i = self._owner(ma_don_vi)
        return None if i is None else self.datasets[i].agency

    @cached_property
    def units(self) -> list[dict]:
        return [u for ds in self.datasets for u in ds.units]

    # ------------------------------------------------------------ the portal's selections
    def scope(self, ma_don_vi: str) -> list[str] | None:
        i = self._owner(ma_don_vi)
        return None if i is None else self.datasets[i].scope(ma_don_vi)

    def procedures_of(self, ma_don_vi: str) -> list[dict]:
        i = self._owner(ma_don_vi)
        return [] if i is None else self.datasets[i].procedures_of(ma_don_vi)

    def listing(self, ma_don_vi: str, tu_ngay: str, den_ngay: str, duplicates: bool = True) -> np.ndarray:
        """Province-wide delivery ids (the agency's offset + its own ids)."""
        i = self._owner(ma_don_vi)
        if i is None:
            return np.zeros(0, dtype=np.int64)
        return self.datasets[i].listing(ma_don_vi, tu_ngay, den_ngay, duplicates) + self._delivery_offsets[i]

    def deliveries(self, delivery_ids) -> list[dict]:
        return [self.datasets[i].delivery(int(d) - int(self._delivery_offsets[i]))
                for i, d in ((self._agency_index(self._delivery_offsets, d), d) for d in delivery_ids)]

    def ratings_in(self, ma_don_vi: str, tu_ngay: str, den_ngay: str) -> np.ndarray:
        """Province-wide rating numbers (the agency's offset + its own numbers)."""
        i = self._owner(ma_don_vi)
        if i is None:
            return np.zeros(0, dtype=np.int64)
        return self.datasets[i].ratings_in(ma_don_vi, tu_ngay, den_ngay) + self._rating_offsets[i]

    def rating(self, j: int) -> dict:
        i = self._agency_index(self._rating_offsets, j)
        return self.datasets[i].rating(int(j) - int(self._rating_offsets[i]))

    def portal_bieu06(self, ma_don_vi: str, tu_ngay: str, den_ngay: str) -> list[dict]:
        i = self._owner(ma_don_vi)
        return self.datasets[0 if i is None else i].portal_bieu06(ma_don_vi, tu_ngay, den_ngay)  # unknown: zeros

    @staticmethod
    def _agency_index(offsets: np.ndarray, number) -> int:
        return int(np.searchsorted(offsets, int(number), side="right")) - 1
