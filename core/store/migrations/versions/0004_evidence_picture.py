"""a photo kept as a stage's evidence

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 -- autogenerate writes sqlmodel.sql.sqltypes.AutoString
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_picture",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assertion_id", sa.Integer(), nullable=True),
        sa.Column("participant_id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assertion_id"],
            ["assertion.id"],
            name=op.f("fk_evidence_picture_assertion_id_assertion"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_picture")),
    )
    with op.batch_alter_table("evidence_picture", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_picture_assertion_id"), ["assertion_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("evidence_picture", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_picture_assertion_id"))
    op.drop_table("evidence_picture")
