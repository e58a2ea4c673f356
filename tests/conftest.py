"""Shared fixtures: the sample portal served on 127.0.0.1, warehouses on DuckDB and PostgreSQL.

Test kinds are told apart by folder, and each test gets its folder's marker:

* ``tests/unit/``: domain logic without servers (parsing, codes, rules, the registry, the import direction);
  ``make test-fast`` runs these (about a minute);
* ``tests/integration/``: stages against real services (DuckDB and PostgreSQL warehouses, HTTP portals on
  127.0.0.1, Dagster runs, the CLI);
* ``tests/system/``: the whole pipeline over the real corpus, the real samples and the generated corpora, and
  the UI in headless Chromium.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import signal
import threading
import uuid
import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", message=".*(beta|preview).*", category=Warning)

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("BUDGET_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


TEST_KINDS = ("unit", "integration", "system")


def pytest_collection_modifyitems(config, items):
    """Mark every test with the kind its folder names (``-m unit``, ``-m "not system"`` …)."""
    for item in items:
        kind = next((k for k in TEST_KINDS if f"/tests/{k}/" in str(item.path)), None)
        if kind is None:
            raise pytest.UsageError(f"{item.nodeid}: a test lives in tests/unit, tests/integration or tests/system")
        item.add_marker(getattr(pytest.mark, kind))


@pytest.fixture(autouse=True)
def _signal_handlers():
    """Each test leaves SIGINT and SIGTERM as it found them.  A Dagster run on the main thread (the in-process
    comparison run of the Celery test) restores SIGINT on exit and maps SIGTERM to it: when the suite was started
    with SIGINT ignored (a background job, nohup), SIGTERM would stay ignored, every later `tail` of Dagster's
    compute-log capture would inherit that, and the run that waits for its tail to end on SIGTERM would hang."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        if handler is not None and signal.getsignal(sig) is not handler:
            signal.signal(sig, handler)


def real_samples_dir() -> Path:
    return Path(os.environ.get("BUDGET_REAL_SAMPLES", REPO.parent / "shared" / "real-samples"))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture(scope="session")
def sample_portal_dir(tmp_path_factory) -> Path:
    """The bundled small corpus, rendered once per test session (base URL patched per server)."""
    from examples.sample_portal.portal import build_portal

    out = tmp_path_factory.mktemp("sample_portal")
    build_portal(out, base_url="http://127.0.0.1:0", corpus="small")
    return out


@pytest.fixture(scope="session")
def sample_portal(sample_portal_dir, tmp_path_factory):
    """(base_url, site_dir, sources_yaml) of the small corpus served over HTTP on 127.0.0.1."""
    handler = functools.partial(QuietHandler, directory=str(sample_portal_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    text = (sample_portal_dir / "sources.yaml").read_text(encoding="utf-8").replace("http://127.0.0.1:0", base)
    sources = tmp_path_factory.mktemp("sources") / "sources.yaml"
    sources.write_text(text + "", encoding="utf-8")
    yield base, sample_portal_dir, sources
    server.shutdown()


def _pg_available() -> bool:
    try:
        import sqlalchemy as sa

        eng = sa.create_engine(PG_ADMIN_URL)
        with eng.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        eng.dispose()
        return True
    except Exception:  # noqa: BLE001
        return False


@contextlib.contextmanager
def fresh_pg_database():
    """A new PostgreSQL database on the test server, dropped afterwards (skips, or fails in CI, without a server)."""
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL not reachable at {PG_ADMIN_URL} (CI must start it)")
        pytest.skip("PostgreSQL not reachable")
    import sqlalchemy as sa

    name = f"budget_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    with fresh_pg_database() as url:
        yield url


@pytest.fixture
def duckdb_url(tmp_path) -> str:
    return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
