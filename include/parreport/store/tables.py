"""The store's tables (SQLAlchemy Core): the schema that parreport/db/'s migrations create.

Every staged table is partitioned by (agency, window_key); reports and their receipts are keyed
by (agency, year, quarter, version). A change here ships with a migration (README, "Changing the
store's schema").
"""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Integer, MetaData, String, Table, Text, UniqueConstraint

metadata = MetaData()


def _partition(indexed: bool = True) -> list[Column]:
    return [Column("agency", String(64), nullable=False, index=indexed),
            Column("window_key", String(64), nullable=False, index=indexed)]


units = Table("staged_units", metadata, *_partition(), Column("seq", Integer, nullable=False),
              Column("ma_don_vi", String(64)), Column("record", JSON, nullable=False))
procedures = Table("staged_procedures", metadata, *_partition(), Column("seq", Integer, nullable=False),
                   Column("ma_tthc", String(64)), Column("record", JSON, nullable=False))
dossiers = Table(
    # No index of its own on agency or window_key: the unique (agency, window_key, seq) serves every
    # look-up of a partition, and two more B-trees cost ≈ 0.4–0.8 s of CPU per 240,000 rows staged.
    "staged_dossiers", metadata, *_partition(indexed=False),
    Column("seq", Integer, nullable=False),  # delivery order of the surviving copy
    Column("ma_ho_so", String(128), index=True),
    Column("record", JSON, nullable=False),  # as received, personal data dropped
    Column("accepted", Boolean),  # FALSE = quarantined by the partition's last validation (see accepted())
    UniqueConstraint("agency", "window_key", "seq"),
)
ratings = Table("staged_ratings", metadata, *_partition(), Column("seq", Integer, nullable=False),
                Column("ma_danh_gia", String(128)), Column("record", JSON, nullable=False),
                Column("accepted", Boolean))
portal_bieu06 = Table("staged_portal_bieu06", metadata, *_partition(), Column("seq", Integer, nullable=False),
                      Column("record", JSON, nullable=False))
load_stats = Table(
    "load_stats", metadata, *_partition(),
    Column("dataset", String(32), nullable=False), Column("run_id", String(250)),
    Column("raw_dir", Text), Column("tong_so", Integer), Column("delivered", Integer),
    Column("staged", Integer), Column("duplicates", Integer), Column("loaded_at", DateTime(timezone=True)),
    UniqueConstraint("agency", "window_key", "dataset"),
)
quarantine = Table(
    "quarantine", metadata, *_partition(),
    Column("kind", String(16), nullable=False),  # dossier | rating
    Column("seq", Integer, nullable=False), Column("ref", String(128)),
    Column("violations", JSON, nullable=False),  # [{rule, field, message}]
    Column("created_at", DateTime(timezone=True)),
)
figures = Table(
    "figures", metadata, *_partition(),
    Column("run_id", String(250)), Column("computed_at", DateTime(timezone=True)),
    Column("content", JSON, nullable=False),  # {"Bieu06": [...], "ChiTieu": [...], "ChatLuongDuLieu": {...}}
    UniqueConstraint("agency", "window_key"),
)
report_drafts = Table(
    "report_drafts", metadata, *_partition(),
    Column("run_id", String(250)), Column("built_at", DateTime(timezone=True)),
    Column("figures_sha", String(64), nullable=False),  # SHA-256 of what the report says (see payload.py)
    Column("core", JSON, nullable=False),  # the body without PhienBan, LyDoDieuChinh, NgayLap, ChuKy
    UniqueConstraint("agency", "window_key"),
)
reports = Table(
    "reports", metadata,
    Column("agency", String(64), nullable=False), Column("year", Integer, nullable=False),
    Column("quarter", Integer, nullable=False), Column("version", Integer, nullable=False),
    Column("window_key", String(64), nullable=False),
    Column("figures_sha", String(64), nullable=False),  # what the figures say, NgayLap and ChuKy aside
    Column("content_sha", String(64)),  # SHA-256 of the signed content (the receipt's SHA256)
    Column("idempotency_key", String(255)),
    Column("body", JSON, nullable=False),  # the signed body as sent
    Column("status", String(32), nullable=False),  # BUILT | SUBMITTED | ACCEPTED
    Column("receipt", JSON), Column("run_id", String(250)),
    Column("created_at", DateTime(timezone=True)), Column("submitted_at", DateTime(timezone=True)),
    UniqueConstraint("agency", "year", "quarter", "version"),
)

# -- corrections (data stewards; quality/corrections.py) -----------------------------------------
# A steward's correction of one field of one dossier, with its audit trail. Values are stored as
# JSON text so that a correction to null stays distinguishable from "no value".
corrections = Table(
    "corrections", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    *_partition(),
    Column("ma_ho_so", String(128), nullable=False, index=True),
    Column("field", String(255), nullable=False),  # e.g. NgayHenTra, ThuXinLoi.SoThu, DanhSachLePhi[0].Gia
    Column("value_json", Text, nullable=False),  # the new value, JSON text
    Column("old_json", Text),  # the portal's value when the correction was recorded (null = absent)
    Column("reason", Text, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),  # HIEU_LUC | CONG_DA_SUA | DA_THAY_THE | DA_HUY
    Column("closed_at", DateTime(timezone=True)),
    Column("closed_note", Text),
)
correction_events = Table(
    "correction_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("correction_id", Integer, nullable=False, index=True),
    *_partition(),
    Column("event", String(32), nullable=False),  # TAO | AP_DUNG | KHONG_AP_DUNG | CONG_DA_SUA | DA_THAY_THE | DA_HUY
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(128)),
    Column("detail", JSON),
)
# Staged dossiers as the portal sent them, for rows whose staged record carries corrections
# (replaced by every validation; lets a re-validation without a re-load find the portal's value).
corrected_dossiers = Table(
    "corrected_dossiers", metadata, *_partition(),
    Column("seq", Integer, nullable=False), Column("ma_ho_so", String(128)),
    Column("original", JSON, nullable=False), Column("corrected", JSON, nullable=False),
    Column("correction_ids", JSON, nullable=False),
)
# The latest validation of a partition: every check's result, the Data Docs of the run.
validation_results = Table(
    "validation_results", metadata, *_partition(),
    Column("run_id", String(250)), Column("validated_at", DateTime(timezone=True)),
    Column("data_docs", Text), Column("content", JSON, nullable=False),
    UniqueConstraint("agency", "window_key"),
)
# What each run did, step by step (never overwritten): the operator's "story of a run" reads
# these rows — extracted, staged, validated (quarantined, threshold, evidence), computed,
# submitted (sent version N / nothing new / stopped, with the reason).
run_events = Table(
    "run_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    *_partition(),
    Column("run_id", String(250), nullable=False, index=True),
    Column("step", String(32), nullable=False),  # extract | load | validate | compute | build | submit | receipt
    Column("outcome", String(32), nullable=False),  # ok | stopped | failed | sent | unchanged | adopted
    Column("at", DateTime(timezone=True), nullable=False),
    Column("detail", JSON, nullable=False),  # the step's JSON-able summary (no personal data)
)


def accepted(table: Table):
    """The rows of a staged dossier or rating partition that its last validation did not
    quarantine: ``accepted`` is FALSE on a quarantined row and NULL on every other (a row
    carries its record, so a flag written on each row of a large partition rewrote the whole
    table). A partition is read as accepted only once validated (``validation_results``)."""
    return table.c.accepted.is_not(False)
