"""trust: invites expire, join attempts counted, dead letters, delivery claims, chat handles

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 12:27:15.576025
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 -- autogenerate writes sqlmodel.sql.sqltypes.AutoString
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "join_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_join_attempt")),
    )
    with op.batch_alter_table("join_attempt", schema=None) as batch_op:
        batch_op.create_index(
            "ix_join_attempt_account", ["platform", "address", "at"], unique=False
        )

    with op.batch_alter_table("chat_identity", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("handle", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )

    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("next_try_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("failed_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("invite", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")

    with op.batch_alter_table("invite", schema=None) as batch_op:
        batch_op.drop_column("expires_at")

    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.drop_column("failed_at")
        batch_op.drop_column("next_try_at")
        batch_op.drop_column("attempts")

    with op.batch_alter_table("chat_identity", schema=None) as batch_op:
        batch_op.drop_column("handle")

    with op.batch_alter_table("join_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_join_attempt_account")

    op.drop_table("join_attempt")
