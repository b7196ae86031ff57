"""The pipeline's own store (SQLAlchemy 2): SQLite by default, PostgreSQL by URL.

Every staged table is partitioned by (agency, window_key). Loading a partition replaces it in
one transaction, so a re-run task never appends twice. Reports and their receipts are keyed by
(agency, year, quarter, version). Everything reads and writes the store through
:class:`Store`'s methods.

- ``tables``: the schema (``metadata`` and every table); parreport/db/ migrates it.
- ``core``: :class:`Store` — opening (at the newest migration or :class:`StoreNotReady`), run
  events, staging (bulk, COPY on PostgreSQL), figures, drafts, reports, validation.
- ``corrections``: the stewards' corrections and their audit trail (a mixin of :class:`Store`).
- ``codec``: JSON columns, PostgreSQL COPY fields, timestamps.
"""
from __future__ import annotations

from .codec import utcnow
from .core import Store
from .tables import (
    accepted,
    corrected_dossiers,
    correction_events,
    corrections,
    dossiers,
    figures,
    load_stats,
    metadata,
    portal_bieu06,
    procedures,
    quarantine,
    ratings,
    report_drafts,
    reports,
    run_events,
    units,
    validation_results,
)

__all__ = [
    "Store", "utcnow", "accepted", "metadata", "units", "procedures", "dossiers", "ratings", "portal_bieu06", "load_stats", "quarantine",
    "figures", "report_drafts", "reports", "corrections", "correction_events", "corrected_dossiers",
    "validation_results", "run_events",
]
