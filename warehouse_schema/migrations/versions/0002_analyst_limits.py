"""analyst limits: statement timeout on the analyst role, no TEMP on the warehouse database

* ``budget_analyst`` gets ``statement_timeout`` (``ANALYST_STATEMENT_TIMEOUT``) in this database
  (``ALTER ROLE … IN DATABASE … SET``).  PostgreSQL applies role settings at login only and never through
  membership: the README shows the admin giving each analyst login the same setting.
* ``TEMPORARY`` on this database is revoked from ``PUBLIC`` (every role has it by default): analysts cannot
  create temporary objects (the database owner keeps it).
* The mart views are ``security_barrier`` views (``warehouse_schema.views.create_views``): a function in an
  analyst's WHERE clause never sees a row a view filters out.

Restricting CONNECT to the warehouse database is the cluster admin's (README "Querying the warehouse").

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

from warehouse_schema.views import ANALYST_ROLE, ANALYST_STATEMENT_TIMEOUT

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(f"""
        DO $$
        BEGIN
            EXECUTE format('ALTER ROLE {ANALYST_ROLE} IN DATABASE %I SET statement_timeout = %L',
                           current_database(), '{ANALYST_STATEMENT_TIMEOUT}');
            EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
            EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM {ANALYST_ROLE}', current_database());
        END
        $$""")


def downgrade() -> None:
    op.execute(f"""
        DO $$
        BEGIN
            EXECUTE format('ALTER ROLE {ANALYST_ROLE} IN DATABASE %I RESET statement_timeout', current_database());
            EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', current_database());
        END
        $$""")
