"""A password in the warehouse URL reaches no run storage, snapshot, log, UI page or warehouse table: the URL
travels as a ``dagster.EnvVar`` (assets/resources.py)."""

from __future__ import annotations

import sqlite3
import uuid
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from pipelines.cli import main
from tests.support.crawl import budget_pdf

pytestmark = pytest.mark.postgres


def _texts_of_file(path: Path) -> list[str]:
    """A file's bytes as text, and for SQLite files every cell (Dagster stores snapshots zlib-compressed)."""
    data = path.read_bytes()
    texts = [data.decode("utf-8", "replace")]
    if data.startswith(b"SQLite format 3"):
        con = sqlite3.connect(path)
        try:
            for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
                for row in con.execute(f'SELECT * FROM "{table}"'):
                    for value in row:
                        if isinstance(value, bytes):
                            try:
                                value = zlib.decompress(value)
                            except zlib.error:
                                pass
                            value = value.decode("utf-8", "replace")
                        texts.append(str(value))
        finally:
            con.close()
    return texts


def _files_with(root: Path, secret: str) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and any(secret in t for t in _texts_of_file(p))]


def test_a_password_in_the_warehouse_url_is_stored_nowhere(pg_url, tmp_path, monkeypatch):
    secret = f"pw-{uuid.uuid4().hex}"
    url = sa.engine.make_url(pg_url).set(password=secret).render_as_string(hide_password=False)
    assert secret in url  # the server trusts 127.0.0.1: the password is accepted and ignored
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    folder = tmp_path / "pdfs"
    folder.mkdir()
    (folder / "2023年伊川县政务服务中心部门预算.pdf").write_bytes(budget_pdf(year=2023))
    (folder / "2024年伊川县政务服务中心部门预算.pdf").write_bytes(budget_pdf(year=2024))
    sources = tmp_path / "s.yaml"
    sources.write_text(
        f'sources:\n  - region_code: "410329"\n    region_name: 伊川县\n    folder: {folder}\n', encoding="utf-8"
    )
    data = tmp_path / "data"
    env = {"DAGSTER_HOME": str(home)}
    # the crawl runs in this process, the partitions in two worker processes (which build their own definitions)
    backfill = CliRunner().invoke(
        main,
        [
            "backfill",
            "--years",
            "2023-2024",
            "--sources",
            str(sources),
            "--data-dir",
            str(data),
            "--warehouse",
            url,
            "--workers",
            "2",
        ],
        env=env,
        catch_exceptions=False,
    )
    assert backfill.exit_code == 0, backfill.output
    assert "partitions (year|region): 2023|410329, 2024|410329" in backfill.output
    runs = [p for p in (home / "history").rglob("*.db")]
    assert runs, "the runs were recorded in DAGSTER_HOME"
    assert any("BUDGET_WAREHOUSE_URL" in t for p in runs for t in _texts_of_file(p))  # by name only
    assert _files_with(home, secret) == []
    assert _files_with(data, secret) == []
    assert secret not in backfill.output

    # the warehouse: no table of raw / core / mart holds it
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        tables = conn.execute(
            sa.text(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema IN ('raw', 'core', 'mart')"
            )
        ).all()
        for schema, table in tables:
            hits = conn.execute(
                sa.text(f'SELECT COUNT(*) FROM "{schema}"."{table}" t WHERE CAST(t AS text) LIKE :s'),
                {"s": f"%{secret}%"},
            ).scalar()
            assert hits == 0, f"{schema}.{table}"
    engine.dispose()

    # the UI: the code location's repository snapshot (what the resource page shows)
    from dagster import Definitions
    from dagster._core.remote_representation.external_data import RepositorySnap
    from dagster._serdes import serialize_value

    from pipelines.definitions import ALL_ASSETS, build_resources

    monkeypatch.setenv("BUDGET_WAREHOUSE_URL", url)
    defs = Definitions(assets=ALL_ASSETS, resources=build_resources(data_dir=str(data)))
    snapshot = serialize_value(RepositorySnap.from_def(defs.get_repository_def()))
    at = snapshot.find(secret)
    assert at < 0, snapshot[max(0, at - 300) : at + 40]
    # the resource page names the variable the warehouse resource reads
    assert '"BUDGET_WAREHOUSE_URL": [{"__class__": "EnvVarConsumer", "name": "warehouse"' in snapshot
