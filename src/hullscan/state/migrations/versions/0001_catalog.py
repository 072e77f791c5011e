"""The base image catalog: entries, their tags, layers with chain IDs and packages; the generation.

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

DIGEST = 80


def upgrade() -> None:
    op.create_table(
        "catalog_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_state")),
    )
    op.bulk_insert(sa.table("catalog_state", sa.column("id", sa.Integer()), sa.column("generation", sa.Integer())),
                   [{"id": 1, "generation": 0}])
    op.create_table(
        "base_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("image_key", sa.String(length=DIGEST), nullable=False),
        sa.Column("manifest_digest", sa.String(length=DIGEST), nullable=False),
        sa.Column("config_digest", sa.String(length=DIGEST), nullable=False),
        sa.Column("os", sa.String(length=32), nullable=False),
        sa.Column("architecture", sa.String(length=32), nullable=False),
        sa.Column("variant", sa.String(length=32), nullable=False),
        sa.Column("created", sa.String(length=40), nullable=True),
        sa.Column("os_id", sa.String(length=64), nullable=False),
        sa.Column("os_version", sa.String(length=64), nullable=False),
        sa.Column("os_release", sa.String(length=64), nullable=False),
        sa.Column("layer_count", sa.Integer(), nullable=False),
        sa.Column("package_keys", sa.Integer(), nullable=False),
        sa.Column("package_rows", sa.Integer(), nullable=False),
        sa.Column("top_chain_id", sa.String(length=DIGEST), nullable=False),
        sa.Column("added_at", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_base_entry")),
        sa.UniqueConstraint("name", "image_key", name="uq_base_entry_name_image"),
    )
    for column in ("config_digest", "manifest_digest", "name", "os_id", "top_chain_id"):
        op.create_index(op.f(f"ix_base_entry_{column}"), "base_entry", [column])
    op.create_table(
        "base_layer",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("diff_id", sa.String(length=DIGEST), nullable=False),
        sa.Column("chain_id", sa.String(length=DIGEST), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["base_entry.id"], name=op.f("fk_base_layer_entry_id_base_entry"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("entry_id", "idx", name=op.f("pk_base_layer")),
    )
    op.create_index(op.f("ix_base_layer_chain_id"), "base_layer", ["chain_id"])
    op.create_table(
        "base_package",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("ecosystem", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=False),
        sa.Column("arch", sa.String(length=32), nullable=False),
        sa.Column("source_name", sa.String(length=400), nullable=False),
        sa.Column("source_version", sa.String(length=200), nullable=False),
        sa.Column("purl", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["base_entry.id"], name=op.f("fk_base_package_entry_id_base_entry"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_base_package")),
    )
    op.create_index("ix_base_package_entry", "base_package", ["entry_id"])
    op.create_index("ix_base_package_key", "base_package", ["ecosystem", "name", "version", "entry_id"])
    op.create_table(
        "base_tag",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("platform", sa.String(length=100), nullable=False),
        sa.Column("tag", sa.String(length=128), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["base_entry.id"], name=op.f("fk_base_tag_entry_id_base_entry"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("name", "platform", "tag", name=op.f("pk_base_tag")),
    )
    op.create_index(op.f("ix_base_tag_entry_id"), "base_tag", ["entry_id"])


def downgrade() -> None:
    for table in ("base_tag", "base_package", "base_layer", "base_entry", "catalog_state"):
        op.drop_table(table)  # their indexes go with them
