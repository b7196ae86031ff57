"""staged_dossiers without its single-column indexes on agency and window_key

The unique (agency, window_key, seq) serves every look-up of a partition (its leading columns);
the two single-column indexes only cost the load of each partition two more B-tree inserts per
row (≈ 0.4–0.8 s of CPU per 240,000 dossiers on SQLite). Dropping an index loses no data; an
index drop is done in place on SQLite (no table copy).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 14:14:54.152902
"""
from __future__ import annotations

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staged_dossiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staged_dossiers_agency'))
        batch_op.drop_index(batch_op.f('ix_staged_dossiers_window_key'))


def downgrade() -> None:
    with op.batch_alter_table('staged_dossiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staged_dossiers_window_key'), ['window_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_staged_dossiers_agency'), ['agency'], unique=False)
