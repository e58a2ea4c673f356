"""an index on core.document.source_url: a load's lookup of the current versions at its documents' URLs

Without it PostgreSQL scanned all of ``core.document`` once per partition load (20 ms a load at 20 000
documents, growing with the warehouse: deploy/README.md *Loads*).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_document_source_url", "document", ["source_url"], unique=False, schema="core")


def downgrade() -> None:
    op.drop_index("ix_document_source_url", table_name="document", schema="core")
