"""Notifications: webhook endpoints, notifications with their pages, deliveries and their attempts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

DIGEST = 80


def upgrade() -> None:
    op.create_table(
        "notify_endpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret_env", sa.String(length=255), nullable=True),
        sa.Column("secret_file", sa.Text(), nullable=True),
        sa.Column("cloudevents", sa.Boolean(), nullable=False),
        sa.Column("added_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_endpoint")),
        sa.UniqueConstraint("name", name=op.f("uq_notify_endpoint_name")),
    )
    op.create_table(
        "notification",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("image_digest", sa.String(length=DIGEST), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("verdict_change", sa.String(length=16), nullable=False),
        sa.Column("changes_total", sa.Integer(), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    op.create_index(op.f("ix_notification_image_digest"), "notification", ["image_digest"])
    op.create_table(
        "notification_page",
        sa.Column("notification_id", sa.String(length=64), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["notification_id"], ["notification.id"],
                                name=op.f("fk_notification_page_notification_id_notification"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("notification_id", "idx", name=op.f("pk_notification_page")),
    )
    op.create_table(
        "notification_delivery",
        sa.Column("notification_id", sa.String(length=64), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("page_idx", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("enqueued_at", sa.Double(), nullable=False),
        sa.Column("due_at", sa.Double(), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", sa.Double(), nullable=True),
        sa.Column("done_at", sa.Double(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["endpoint_id"], ["notify_endpoint.id"],
                                name=op.f("fk_notification_delivery_endpoint_id_notify_endpoint"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["notification_id"], ["notification.id"],
                                name=op.f("fk_notification_delivery_notification_id_notification"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("notification_id", "endpoint_id", "page_idx", name=op.f("pk_notification_delivery")),
    )
    op.create_index("ix_notification_delivery_due", "notification_delivery", ["state", "due_at"])
    op.create_table(
        "notification_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.String(length=64), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("page_idx", sa.Integer(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("wait", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(["endpoint_id"], ["notify_endpoint.id"],
                                name=op.f("fk_notification_attempt_endpoint_id_notify_endpoint"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["notification_id"], ["notification.id"],
                                name=op.f("fk_notification_attempt_notification_id_notification"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_attempt")),
    )
    op.create_index("ix_notification_attempt_delivery", "notification_attempt",
                    ["notification_id", "endpoint_id", "page_idx"])


def downgrade() -> None:
    for table in ("notification_attempt", "notification_delivery", "notification_page", "notification",
                  "notify_endpoint"):
        op.drop_table(table)  # their indexes go with them
