"""Stored inventories: images, their names and layers, the shared per-layer packages and their index
(layers have an integer id: the index and the image->layer rows repeat 4 bytes, not a 71-character diff_id).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DIGEST = 80


def upgrade() -> None:
    op.create_table(
        "stored_image",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("image_key", sa.String(length=DIGEST), nullable=False),
        sa.Column("manifest_digest", sa.String(length=DIGEST), nullable=False),
        sa.Column("config_digest", sa.String(length=DIGEST), nullable=False),
        sa.Column("repository", sa.String(length=255), nullable=False),
        sa.Column("registry_host", sa.String(length=255), nullable=False),
        sa.Column("first_seen", sa.String(length=40), nullable=False),
        sa.Column("last_seen", sa.String(length=40), nullable=False),
        sa.Column("policy_digest", sa.String(length=DIGEST), nullable=False),
        sa.Column("os", sa.String(length=160), nullable=False),
        sa.Column("package_count", sa.Integer(), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_image")),
        sa.UniqueConstraint("image_key", name=op.f("uq_stored_image_image_key")),
    )
    for column in ("config_digest", "last_seen", "manifest_digest", "repository"):
        op.create_index(op.f(f"ix_stored_image_{column}"), "stored_image", [column])
    op.create_table(
        "stored_image_name",
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("repository", sa.String(length=255), nullable=False),
        sa.Column("tag", sa.String(length=128), nullable=False),
        sa.Column("last_seen", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["image_id"], ["stored_image.id"],
                                name=op.f("fk_stored_image_name_image_id_stored_image"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("image_id", "name", name=op.f("pk_stored_image_name")),
    )
    op.create_index(op.f("ix_stored_image_name_repository"), "stored_image_name", ["repository"])
    op.create_table(
        "stored_layer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("diff_id", sa.String(length=DIGEST), nullable=False),
        sa.Column("content_digest", sa.String(length=DIGEST), nullable=False),
        sa.Column("package_count", sa.Integer(), nullable=False),
        sa.Column("packages", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_layer")),
        sa.UniqueConstraint("diff_id", name=op.f("uq_stored_layer_diff_id")),
    )
    op.create_table(
        "stored_image_layer",
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("layer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["image_id"], ["stored_image.id"],
                                name=op.f("fk_stored_image_layer_image_id_stored_image"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["layer_id"], ["stored_layer.id"],
                                name=op.f("fk_stored_image_layer_layer_id_stored_layer")),
        sa.PrimaryKeyConstraint("image_id", "idx", name=op.f("pk_stored_image_layer")),
    )
    op.create_index(op.f("ix_stored_image_layer_layer_id"), "stored_image_layer", ["layer_id"])
    op.create_table(
        "stored_layer_package",
        sa.Column("ecosystem", sa.String(length=100), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("layer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["layer_id"], ["stored_layer.id"],
                                name=op.f("fk_stored_layer_package_layer_id_stored_layer"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ecosystem", "name", "layer_id", name=op.f("pk_stored_layer_package")),
    )
    op.create_index("ix_stored_layer_package_layer_id", "stored_layer_package", ["layer_id"])


def downgrade() -> None:
    for table in ("stored_layer_package", "stored_image_layer", "stored_layer", "stored_image_name", "stored_image"):
        op.drop_table(table)  # their indexes go with them
