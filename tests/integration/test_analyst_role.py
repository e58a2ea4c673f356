"""The analyst role on PostgreSQL: a statement timeout, views that are security barriers, no temporary objects,
CONNECT restricted to the warehouse database the way the README shows the admin."""

from __future__ import annotations

import uuid

import psycopg
import pytest
import sqlalchemy as sa
from conftest import fresh_pg_database

from assets.load.warehouse import DocumentLoad, Warehouse
from warehouse_schema.views import ANALYST_ROLE, ANALYST_STATEMENT_TIMEOUT

pytestmark = pytest.mark.postgres

LOADED, QUARANTINED = "1" * 64, "2" * 64


def _document(sha: str, status: str, department: str) -> DocumentLoad:
    doc = {
        "document_sha256": sha,
        "source_url": f"http://127.0.0.1/{sha[:4]}.pdf",
        "region_code": "410329",
        "fiscal_year": 2024,
        "department_name": department,
        "doc_type": "budget",
        "budget_phase": "budget",
        "status": status,
    }
    fact = {
        "table_type": "gpb_expenditure",
        "page": 5,
        "row_index": 0,
        "row_kind": "detail",
        "function_code": "2010301",
        "function_name": "行政运行",
        "total_yuan": 1000,
        "basic_yuan": 1000,
        "project_yuan": 0,
    }
    return DocumentLoad(doc, facts={"fact_function_expenditure": [fact]})


@pytest.fixture
def analyst_login():
    """``make(url)``: a login role created as the README tells the admin (member of the analyst role, the same
    statement_timeout: role settings are not inherited); dropped afterwards (roles are cluster-wide)."""
    made: list[tuple[str, str]] = []

    def make(url: str) -> str:
        name = f"analyst_{uuid.uuid4().hex[:8]}"
        db = sa.engine.make_url(url).database
        with psycopg.connect(_psycopg_url(url), autocommit=True) as admin:
            admin.execute(f"CREATE ROLE {name} LOGIN IN ROLE {ANALYST_ROLE}")
            admin.execute(
                f"ALTER ROLE {name} IN DATABASE \"{db}\" SET statement_timeout = '{ANALYST_STATEMENT_TIMEOUT}'"
            )
        made.append((name, url))
        return name

    yield make
    for name, url in made:
        try:
            with psycopg.connect(_psycopg_url(url), autocommit=True) as admin:
                admin.execute(f"DROP OWNED BY {name}")
                admin.execute(f"DROP ROLE IF EXISTS {name}")
        except psycopg.Error:  # the database is gone already: the role owns nothing
            with psycopg.connect(_psycopg_url(url.rsplit("/", 1)[0] + "/test"), autocommit=True) as admin:
                admin.execute(f"DROP ROLE IF EXISTS {name}")


@pytest.fixture
def warehouse(pg_url):
    wh = Warehouse(pg_url)
    wh.ensure_schema()
    wh.load_documents(
        [_document(LOADED, "loaded", "伊川县公开局"), _document(QUARANTINED, "quarantined", "伊川县秘密局")]
    )
    wh.dispose()
    return pg_url


def _psycopg_url(url: str, user: str | None = None) -> str:
    u = sa.engine.make_url(url)
    if user:
        u = u.set(username=user, password=None)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def test_analyst_role_has_a_statement_timeout_and_no_temp(warehouse, analyst_login):
    with psycopg.connect(_psycopg_url(warehouse)) as admin:
        setting = admin.execute(
            "SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole "
            "JOIN pg_database d ON d.oid = s.setdatabase WHERE r.rolname = %s AND d.datname = current_database()",
            (ANALYST_ROLE,),
        ).fetchone()
        assert setting == (["statement_timeout=2min"],)
        assert admin.execute(
            "SELECT has_database_privilege(%s, current_database(), 'TEMP')", (ANALYST_ROLE,)
        ).fetchone() == (False,)
    user = analyst_login(warehouse)
    with psycopg.connect(_psycopg_url(warehouse, user), autocommit=True) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("2min",)
        assert conn.execute("SELECT COUNT(*) FROM mart.expenditure_by_function").fetchone() == (1,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            conn.execute("CREATE TEMP TABLE scratch (a int)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM core.document")
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("SET statement_timeout = '100ms'")
            conn.execute("SELECT pg_sleep(2)")


def test_a_cheap_leaky_function_never_sees_rows_a_view_filters_out(warehouse, analyst_login):
    with psycopg.connect(_psycopg_url(warehouse), autocommit=True) as admin:
        admin.execute(
            "CREATE FUNCTION public.leak(text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS "
            "$$ BEGIN RAISE NOTICE 'seen: %', $1; RETURN true; END $$"
        )
    user = analyst_login(warehouse)
    with psycopg.connect(_psycopg_url(warehouse, user), autocommit=True) as conn:
        seen: list[str] = []
        conn.add_notice_handler(lambda d: seen.append(d.message_primary))
        rows = conn.execute(
            "SELECT department_name FROM mart.expenditure_by_function WHERE public.leak(department_name)"
        ).fetchall()
        assert rows == [("伊川县公开局",)]
        assert seen == ["seen: 伊川县公开局"]  # never 伊川县秘密局, the quarantined document's
        # a failing cast carries the value in its message: evaluated after the view's filter, it sees the
        # loaded row only
        with pytest.raises(psycopg.errors.InvalidTextRepresentation) as err:
            conn.execute("SELECT 1 FROM mart.expenditure_by_function WHERE CAST(department_name AS integer) > 0")
        assert "伊川县公开局" in str(err.value) and "秘密" not in str(err.value)


def test_connect_restricted_to_the_warehouse_database_as_the_readme_shows(warehouse, analyst_login):
    """README: REVOKE CONNECT … FROM PUBLIC on every database, GRANT CONNECT on the warehouse to the role."""
    user = analyst_login(warehouse)
    with fresh_pg_database() as other:
        for url, grant in ((warehouse, True), (other, False)):
            db = sa.engine.make_url(url).database
            with psycopg.connect(_psycopg_url(warehouse), autocommit=True) as admin:
                admin.execute(f'REVOKE CONNECT ON DATABASE "{db}" FROM PUBLIC')
                if grant:
                    admin.execute(f'GRANT CONNECT ON DATABASE "{db}" TO {ANALYST_ROLE}')
        with psycopg.connect(_psycopg_url(warehouse, user)) as conn:
            assert conn.execute("SELECT COUNT(*) FROM mart.documents").fetchone() == (2,)
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(_psycopg_url(other, user)).close()
