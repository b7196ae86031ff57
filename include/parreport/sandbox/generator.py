"""Deterministic generator of the portal's data: units, procedures, dossiers and ratings.

``generate(GeneratorConfig(seed=...))`` returns a :class:`Dataset`. Same config, same data:
every random draw comes from one ``numpy`` generator seeded with ``config.seed`` and is made in
bulk, so half a million dossiers take seconds. Dossiers are kept as columns (numpy arrays) and
turned into contract-shaped dicts (``HoSo``) only when asked for (:meth:`Dataset.dossier`), so
memory stays small and a portal page costs only its own records.

Times are handled as integer seconds of naive local (UTC+07:00) wall-clock time since
1970-01-01 00:00 and written as ``yyyyMMddHHmmss``. Everything happens before ``as_of``: the
status of a dossier is its status at that instant (processing that ends later is in progress).

Where each job lives (this module only runs them in order):

- :mod:`.model`: :class:`GeneratorConfig`, the codes of the planted cases, the ground-truth records;
- :mod:`.organisation`: the agency's units and procedures, the windows of the span;
- :mod:`.dossiers`: the dossier columns (:class:`~.dossiers.DossierBuilder`);
- :mod:`.planted`: planted invalid records, warnings and stale duplicates;
- :mod:`.ratings`: the ratings; :mod:`.records`: records and personal data from columns;
- :mod:`.dataset`: :class:`Dataset`, the portal's selections; :mod:`.bieu06`: the portal's Biểu 06;
- :mod:`.timecols`: time columns and unreadable timestamps.

Ground truth exposed for tests of the rest of the pipeline:

- ``Dataset.invalid``: MaHoSo -> rule codes planted on the *surviving* copy (INDICATORS.md §5):
  ``missing_field``, ``bad_code``, ``bad_timestamp``, ``bad_type``, ``received_without_T``,
  ``finished_without_K``, ``K_before_T``, ``unknown_procedure``, ``unit_outside_agency``,
  ``negative_fee``, ``bad_eform``. Every rule is planted (evenly); a few records carry two.
  The mutations are chosen so that they break no other rule as a side effect, under the
  reading: a present value of the wrong JSON type is ``bad_type``, a string outside its list
  is ``bad_code``, an unreadable ``Ngay*`` value (nested ones included) is ``bad_timestamp``
  (and not also "received without T"). tests/sandbox/test_generator.py re-derives the map with
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

from dataclasses import replace

import numpy as np

from .dataset import Dataset
from .dossiers import DossierBuilder
from .model import BOUNDARY_KINDS, DUPLICATE_KINDS, RULES, BoundaryCase, Duplicate, GeneratorConfig
from .organisation import build_procedures, build_units, windows_in_span
from .planted import emitted_columns, plant
from .ratings import generate_ratings

__all__ = ["BOUNDARY_KINDS", "DUPLICATE_KINDS", "RULES", "BoundaryCase", "Dataset", "Duplicate", "GeneratorConfig",
           "build_procedures", "build_units", "generate", "windows_in_span"]


def generate(config: GeneratorConfig | None = None, **overrides) -> Dataset:
    """Generate the dataset for ``config`` (or ``GeneratorConfig(**overrides)``)."""
    if config is None:
        config = GeneratorConfig(**overrides)
    elif overrides:
        config = replace(config, **overrides)
    rng = np.random.default_rng(config.seed)
    builder = DossierBuilder(config, rng)
    ds, boundary_rows = builder.build()
    plant(ds, config, rng, boundary_rows)
    emitted_columns(ds)
    generate_ratings(ds, config, rng, ds.windows, builder.as_of)
    return ds
