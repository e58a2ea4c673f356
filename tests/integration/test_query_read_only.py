"""`budget-etl query` and `report` open the warehouse read-only; DuckDB's single-writer lock explained."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from assets.load.warehouse import Warehouse
from pipelines.cli import main
from tests.support.crawl import budget_pdf


def run(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env or {}, catch_exceptions=False)


def _sources(path: Path, entries: list[str]) -> str:
    path.write_text("sources:\n" + "".join(entries), encoding="utf-8")
    return str(path)


def _entry(region: str, name: str, body: str) -> str:
    return f'  - region_code: "{region}"\n    region_name: {name}\n' + body


# --------------------------------------------------------------------------- read-only query and report


@pytest.fixture
def duckdb_warehouse(tmp_path) -> Path:
    folder = tmp_path / "pdfs"
    folder.mkdir()
    (folder / "2024年伊川县政务服务中心部门预算.pdf").write_bytes(budget_pdf())  # rejected: no table
    data = tmp_path / "data"
    res = run(
        "ingest",
        "--sources",
        _sources(tmp_path / "s.yaml", [_entry("410329", "伊川县", f"    folder: {folder}\n")]),
        "--data-dir",
        str(data),
    )
    assert res.exit_code == 0, res.output
    return data


def test_query_refuses_writes_on_duckdb(duckdb_warehouse):
    data = str(duckdb_warehouse)
    for sql in (
        "DELETE FROM core.document",
        "DROP VIEW mart.documents",
        "UPDATE core.document SET status = 'loaded'",
        "CREATE TABLE core.x (a INT)",
    ):
        res = run("query", sql, "--data-dir", data)
        assert res.exit_code == 1, sql
        assert "query refused: `budget-etl query` opens the warehouse read-only and never writes" in res.output
    res = run("query", "SELECT status, status_reason FROM mart.documents", "--data-dir", data)
    assert res.exit_code == 0 and "rejected" in res.output and "(1 row)" in res.output


def _hold(path: Path, read_only: bool) -> subprocess.Popen:
    """Another process (a notebook) holding the DuckDB file; returns once it holds it."""
    code = (
        f"import duckdb, sys, time; c = duckdb.connect({str(path)!r}, read_only={read_only}); "
        "print('holding', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    return proc


def test_query_and_report_run_while_a_notebook_reads_the_file(duckdb_warehouse):
    notebook = _hold(duckdb_warehouse / "warehouse.duckdb", read_only=True)
    try:
        res = run("query", "SELECT COUNT(*) AS n FROM mart.documents", "--data-dir", str(duckdb_warehouse))
        assert res.exit_code == 0 and "(1 row)" in res.output, res.output
        rep = run("report", "--data-dir", str(duckdb_warehouse))
        assert rep.exit_code == 0 and "(1 document)" in rep.output, rep.output
    finally:
        notebook.kill()
        notebook.wait()


def test_the_lock_message_says_who_holds_the_file_and_what_to_do(duckdb_warehouse, tmp_path):
    path = duckdb_warehouse / "warehouse.duckdb"
    writer = _hold(path, read_only=False)  # e.g. an ingest, or a notebook opened read-write
    try:
        res = run("query", "SELECT 1", "--data-dir", str(duckdb_warehouse))
        assert res.exit_code == 1
        assert f"the DuckDB warehouse {path} is open for writing by another process (PID {writer.pid}: " in res.output
        assert "import duckdb" in res.output and "wait until that ingest or backfill has finished" in res.output
    finally:
        writer.kill()
        writer.wait()
    reader = _hold(path, read_only=True)
    try:
        folder = tmp_path / "empty"
        folder.mkdir()
        res = run(
            "ingest",
            "--sources",
            _sources(tmp_path / "s2.yaml", [_entry("410329", "伊川县", f"    folder: {folder}\n")]),
            "--data-dir",
            str(duckdb_warehouse),
        )
        assert res.exit_code == 1
        assert f"the DuckDB warehouse {path} is open in another process (PID {reader.pid}: " in res.output
        assert "close that connection (a notebook: con.close())" in res.output
    finally:
        reader.kill()
        reader.wait()


@pytest.mark.postgres
def test_query_and_report_are_read_only_on_postgresql(pg_url):
    wh = Warehouse(pg_url)
    wh.ensure_schema()
    wh.query("INSERT INTO core.quality_finding (document_sha256, check_name, severity) VALUES ('x', 'c', 'soft')")
    wh.dispose()
    for sql in (
        "DELETE FROM core.quality_finding",
        "DROP VIEW mart.documents",
        "COMMIT; DELETE FROM core.quality_finding",
        "SET default_transaction_read_only = off; DELETE FROM core.quality_finding",
    ):
        res = run("query", sql, "--warehouse", pg_url)
        assert res.exit_code == 1, sql
        assert "query refused: `budget-etl query` opens the warehouse read-only and never writes" in res.output
        assert ("in a read-only transaction" if ";" not in sql else "one statement at a time") in res.output
    res = run("query", "SELECT COUNT(*) AS n FROM core.quality_finding", "--warehouse", pg_url)
    assert res.exit_code == 0 and "  1\n(1 row)" in res.output, res.output
    assert run("query", "SELECT COUNT(*) FROM mart.documents", "--warehouse", pg_url).exit_code == 0
    assert run("report", "--warehouse", pg_url).exit_code == 0
