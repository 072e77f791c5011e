"""Rescans (issue #23): per stored image, the DB generation it was last matched at and its findings then.

Revision ID: 0006
Revises: 0005
Create Date: 2027-01-14
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rescan_state",
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=True),
        sa.Column("judged_on", sa.String(length=10), nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=True),
        sa.Column("finding_count", sa.Integer(), nullable=False),
        sa.Column("findings", sa.LargeBinary(), nullable=False),
        sa.Column("ids", sa.Text(), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["image_id"], ["stored_image.id"],
                                name=op.f("fk_rescan_state_image_id_stored_image"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("image_id", name=op.f("pk_rescan_state")),
    )
    op.create_index(op.f("ix_rescan_state_generation"), "rescan_state", ["generation"])


def downgrade() -> None:
    op.drop_table("rescan_state")
