"""The schema as the code sees it. Changing it means a new migration in ``migrations/versions``
as well (``tests/test_storage.py`` checks the two agree)."""

from __future__ import annotations

from sqlalchemy import (
                        BigInteger,
                        CheckConstraint,
                        Column,
                        DateTime,
                        Index,
                        Integer,
                        LargeBinary,
                        MetaData,
                        SmallInteger,
                        String,
                        Table,
)

NOT_A_DIGIT = 10  # the label stored for "not a digit", as in training (model.glyphs.NONE)
metadata = MetaData()

feedback = Table(
    "feedback", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),        # UTC
    Column("pixels", LargeBinary, nullable=False),      # the 28×28 input the network saw: 784 bytes, row-major, 0–255
    Column("label", SmallInteger, nullable=False),      # what the user says it is: 0–9, or 10 for "not a digit"
    Column("predicted", SmallInteger, nullable=True),   # what the page had answered, the same way; null: unknown
    Column("model_version", String(64), nullable=True),  # the version of the model that answered
    CheckConstraint("label BETWEEN 0 AND 10", name="ck_feedback_label"),
    CheckConstraint("predicted IS NULL OR predicted BETWEEN 0 AND 10", name="ck_feedback_predicted"),
    Index("ix_feedback_created_at", "created_at"),
)
