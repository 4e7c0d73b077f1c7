"""The feedback table: the users' corrections.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pixels", sa.LargeBinary, nullable=False),
        sa.Column("label", sa.SmallInteger, nullable=False),
        sa.Column("predicted", sa.SmallInteger, nullable=True),
        sa.Column("model_version", sa.String(64), nullable=True),
        sa.CheckConstraint("label BETWEEN 0 AND 10", name="ck_feedback_label"),
        sa.CheckConstraint("predicted IS NULL OR predicted BETWEEN 0 AND 10", name="ck_feedback_predicted"),
    )
    op.create_index("ix_feedback_created_at", "feedback", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_feedback_created_at", table_name="feedback")
    op.drop_table("feedback")
