"""Baseline: the store as store.py declared it before migrations (main at 03b33ba).

Creates every table on a new store. On a store made before migrations existed (tables from
``metadata.create_all``, no version table) it keeps every table that is there, with its rows,
after checking that it has every column below, and creates the missing ones (``run_events``,
say, on a store older than that table). The definitions are a frozen copy: later changes to
store.py go into later revisions, never here.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import (JSON, Boolean, Column, DateTime, Integer, MetaData, String, Table, Text,
                        UniqueConstraint)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _partition() -> list[Column]:
    return [Column("agency", String(64), nullable=False, index=True),
            Column("window_key", String(64), nullable=False, index=True)]


def baseline_metadata() -> MetaData:
    m = MetaData()
    Table("staged_units", m, *_partition(), Column("seq", Integer, nullable=False),
          Column("ma_don_vi", String(64)), Column("record", JSON, nullable=False))
    Table("staged_procedures", m, *_partition(), Column("seq", Integer, nullable=False),
          Column("ma_tthc", String(64)), Column("record", JSON, nullable=False))
    Table("staged_dossiers", m, *_partition(),
          Column("seq", Integer, nullable=False), Column("ma_ho_so", String(128), index=True),
          Column("record", JSON, nullable=False), Column("accepted", Boolean),
          UniqueConstraint("agency", "window_key", "seq"))
    Table("staged_ratings", m, *_partition(), Column("seq", Integer, nullable=False),
          Column("ma_danh_gia", String(128)), Column("record", JSON, nullable=False), Column("accepted", Boolean))
    Table("staged_portal_bieu06", m, *_partition(), Column("seq", Integer, nullable=False),
          Column("record", JSON, nullable=False))
    Table("load_stats", m, *_partition(),
          Column("dataset", String(32), nullable=False), Column("run_id", String(250)),
          Column("raw_dir", Text), Column("tong_so", Integer), Column("delivered", Integer),
          Column("staged", Integer), Column("duplicates", Integer), Column("loaded_at", DateTime(timezone=True)),
          UniqueConstraint("agency", "window_key", "dataset"))
    Table("quarantine", m, *_partition(),
          Column("kind", String(16), nullable=False), Column("seq", Integer, nullable=False),
          Column("ref", String(128)), Column("violations", JSON, nullable=False),
          Column("created_at", DateTime(timezone=True)))
    Table("figures", m, *_partition(),
          Column("run_id", String(250)), Column("computed_at", DateTime(timezone=True)),
          Column("content", JSON, nullable=False),
          UniqueConstraint("agency", "window_key"))
    Table("report_drafts", m, *_partition(),
          Column("run_id", String(250)), Column("built_at", DateTime(timezone=True)),
          Column("figures_sha", String(64), nullable=False), Column("core", JSON, nullable=False),
          UniqueConstraint("agency", "window_key"))
    Table("reports", m,
          Column("agency", String(64), nullable=False), Column("year", Integer, nullable=False),
          Column("quarter", Integer, nullable=False), Column("version", Integer, nullable=False),
          Column("window_key", String(64), nullable=False),
          Column("figures_sha", String(64), nullable=False), Column("content_sha", String(64)),
          Column("idempotency_key", String(255)), Column("body", JSON, nullable=False),
          Column("status", String(32), nullable=False), Column("receipt", JSON), Column("run_id", String(250)),
          Column("created_at", DateTime(timezone=True)), Column("submitted_at", DateTime(timezone=True)),
          UniqueConstraint("agency", "year", "quarter", "version"))
    Table("corrections", m,
          Column("id", Integer, primary_key=True, autoincrement=True), *_partition(),
          Column("ma_ho_so", String(128), nullable=False, index=True),
          Column("field", String(255), nullable=False), Column("value_json", Text, nullable=False),
          Column("old_json", Text), Column("reason", Text, nullable=False),
          Column("created_by", String(128), nullable=False),
          Column("created_at", DateTime(timezone=True), nullable=False),
          Column("status", String(16), nullable=False), Column("closed_at", DateTime(timezone=True)),
          Column("closed_note", Text))
    Table("correction_events", m,
          Column("id", Integer, primary_key=True, autoincrement=True),
          Column("correction_id", Integer, nullable=False, index=True), *_partition(),
          Column("event", String(32), nullable=False), Column("at", DateTime(timezone=True), nullable=False),
          Column("actor", String(128)), Column("detail", JSON))
    Table("corrected_dossiers", m, *_partition(),
          Column("seq", Integer, nullable=False), Column("ma_ho_so", String(128)),
          Column("original", JSON, nullable=False), Column("corrected", JSON, nullable=False),
          Column("correction_ids", JSON, nullable=False))
    Table("validation_results", m, *_partition(),
          Column("run_id", String(250)), Column("validated_at", DateTime(timezone=True)),
          Column("data_docs", Text), Column("content", JSON, nullable=False),
          UniqueConstraint("agency", "window_key"))
    Table("run_events", m,
          Column("id", Integer, primary_key=True, autoincrement=True), *_partition(),
          Column("run_id", String(250), nullable=False, index=True),
          Column("step", String(32), nullable=False), Column("outcome", String(32), nullable=False),
          Column("at", DateTime(timezone=True), nullable=False), Column("detail", JSON, nullable=False))
    return m


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    tables = baseline_metadata().sorted_tables
    problems = []
    for table in tables:
        if table.name in existing:
            have = {c["name"] for c in inspector.get_columns(table.name)}
            missing = [c.name for c in table.columns if c.name not in have]
            if missing:
                problems.append(f"bảng {table.name} thiếu cột {', '.join(missing)}")
    if problems:
        raise RuntimeError("Kho dữ liệu có sẵn không khớp lược đồ gốc của parreport (" + "; ".join(problems)
                           + "): không thay đổi gì. Kiểm tra PARREPORT_STORE_URL có trỏ đúng kho của pipeline.")
    for table in tables:
        if table.name not in existing:
            table.create(bind)  # with its indexes (ix_<table>_<column>, as create_all names them)


def downgrade() -> None:
    raise RuntimeError("the baseline is not undone: it would drop every table of the store and its rows")
