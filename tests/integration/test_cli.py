"""`budget-etl` as a user runs it: exit codes and messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from pipelines.cli import main

REPO = Path(__file__).resolve().parents[2]


def run(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env or {}, catch_exceptions=False)


def folder_sources(tmp_path, folder) -> str:
    """A sources file with one folder source for 伊川县."""
    path = tmp_path / "s.yaml"
    path.write_text(
        f'sources:\n  - region_code: "410329"\n    region_name: 伊川县\n    folder: {folder}\n', encoding="utf-8"
    )
    return str(path)


def test_missing_sources_file_is_a_clear_error(tmp_path):
    res = run("ingest", "--sources", str(tmp_path / "nope.yaml"), "--data-dir", str(tmp_path))
    assert res.exit_code != 0
    assert "invalid sources file" in res.output and "nope.yaml" in res.output


def test_invalid_sources_entry_names_the_entry_and_problem(tmp_path):
    bad = tmp_path / "s.yaml"
    bad.write_text(
        'sources:\n  - region_code: "41032"\n    region_name: 伊川县\n    start_urls: ["http://127.0.0.1:1/x"]\n',
        encoding="utf-8",
    )
    res = run("ingest", "--sources", str(bad), "--data-dir", str(tmp_path))
    assert res.exit_code != 0
    assert "sources[0]" in res.output and "41032" in res.output


def test_unreachable_warehouse_is_a_clear_error(tmp_path):
    res = run(
        "ingest",
        "--sources",
        folder_sources(tmp_path, tmp_path),
        "--data-dir",
        str(tmp_path),
        "--warehouse",
        "postgresql+psycopg://nobody@127.0.0.1:1/none",
    )
    assert res.exit_code != 0
    assert "cannot open warehouse" in res.output and "127.0.0.1:1" in res.output


def test_bad_year_range_is_rejected(tmp_path):
    res = run(
        "ingest", "--sources", folder_sources(tmp_path, tmp_path), "--data-dir", str(tmp_path), "--years", "2025-2023"
    )
    assert res.exit_code != 0 and "runs backwards" in res.output


def test_empty_folder_source_finishes_with_exit_0_and_a_summary(tmp_path):
    folder = tmp_path / "pdfs"
    folder.mkdir()
    res = run("ingest", "--sources", folder_sources(tmp_path, folder), "--data-dir", str(tmp_path / "data"))
    assert res.exit_code == 0, res.output
    assert "documents found: 0" in res.output
    q = run("query", "SELECT COUNT(*) AS n FROM mart.documents", "--data-dir", str(tmp_path / "data"))
    assert q.exit_code == 0 and "(1 row)" in q.output


def test_query_reports_sql_errors(tmp_path):
    first = run("query", "SELECT 1", "--data-dir", str(tmp_path))  # read-only: never creates a warehouse
    assert first.exit_code == 1 and "no warehouse at" in first.output and "budget-etl ingest" in first.output
    from assets.load.warehouse import Warehouse

    Warehouse(f"duckdb:///{tmp_path / 'warehouse.duckdb'}").ensure_schema()
    res = run("query", "SELECT * FROM mart.no_such_view", "--data-dir", str(tmp_path))
    assert res.exit_code != 0 and "query failed" in res.output


def test_version_is_the_installed_package_version():
    from importlib.metadata import version

    res = run("--version")
    assert res.exit_code == 0 and res.output.strip() == f"budget-etl, version {version('budget-etl')}"


def test_read_commands_start_without_dagster_or_the_extraction_stack():
    """`budget-etl query/export/report` and `--help` import only the warehouse: an analyst's query starts at once."""
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from pipelines.cli import main\n"
        "for args in (['--help'], ['query', '--help'], ['export', '--help'], ['report', '--help']):\n"
        "    assert CliRunner().invoke(main, args).exit_code == 0, args\n"
        "heavy = sorted(m for m in ('dagster', 'camelot', 'great_expectations', 'pdfplumber') if m in sys.modules)\n"
        "print(','.join(heavy) or 'none')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "none"
    runs = subprocess.run(
        [sys.executable, "-c", code.replace("'--help'], ['query'", "'--help'], ['ingest'")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert "dagster" in runs.stdout  # the run commands do load the definitions
