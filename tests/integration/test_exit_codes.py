"""`budget-etl ingest` under faults: honest exit codes and Ctrl-C.

Exit codes (README): 0 everything ran, 1 nothing ran, 3 a source failed, 4 a partition run failed, 130 Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner
from orchestration_corpus import build_folders

from assets.load.warehouse import Warehouse
from pipelines.cli import main
from tests.support.crawl import LocalPortal, budget_pdf

REPO = Path(__file__).resolve().parents[2]


def run(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env or {}, catch_exceptions=False)


def _sources(path: Path, entries: list[str]) -> str:
    path.write_text("sources:\n" + "".join(entries), encoding="utf-8")
    return str(path)


def _entry(region: str, name: str, body: str) -> str:
    return f'  - region_code: "{region}"\n    region_name: {name}\n' + body


# --------------------------------------------------------------------------- exit codes


def test_dead_sources_finish_with_exit_3_and_the_summary_names_each(tmp_path):
    with LocalPortal() as portal:
        portal.add("/robots.txt", "User-agent: *\nDisallow: /\n", content_type="text/plain")
        blocked = portal.add("/zwgk/index.html", '<a href="/a.pdf">伊川县政务服务中心2024年部门预算</a>')
        with LocalPortal() as mirror:  # robots allow, three list pages, max_pages 2
            pages = [
                mirror.add(f"/list/index_{i}.html", f'<a href="/list/index_{i + 1}.html">下一页</a>') for i in range(3)
            ]
            sources = _sources(
                tmp_path / "s.yaml",
                [
                    _entry("410329", "伊川县", '    start_urls: ["http://127.0.0.1:1/zwgk/index.html"]\n'),
                    _entry("410329", "伊川县", f'    start_urls: ["{blocked}"]\n'),
                    _entry("410329", "伊川县", f"    folder: {tmp_path / 'missing'}\n"),
                    _entry("410329", "伊川县", f'    start_urls: ["{pages[0]}"]\n    max_pages: 2\n'),
                ],
            )
            res = run("ingest", "--sources", sources, "--data-dir", str(tmp_path / "data"))
    assert res.exit_code == 3, res.output
    out = res.output
    assert "source problems:" in out
    assert (
        "伊川县 (410329) http://127.0.0.1:1/zwgk/index.html: start page http://127.0.0.1:1/zwgk/index.html "
        "unreachable: connection failed"
    ) in out
    assert f"伊川县 (410329) {blocked}: start page {blocked} blocked: disallowed by robots.txt" in out
    assert f"伊川县 (410329) folder {tmp_path / 'missing'}: folder not found: {tmp_path / 'missing'}" in out
    assert f"伊川县 (410329) {pages[0]}: truncated: max_pages=2 reached, 1 page(s) not crawled" in out
    assert "Traceback" not in out


def test_empty_but_healthy_source_exits_0(tmp_path):
    folder = tmp_path / "pdfs"
    folder.mkdir()
    res = run(
        "ingest",
        "--sources",
        _sources(tmp_path / "s.yaml", [_entry("410329", "伊川县", f"    folder: {folder}\n")]),
        "--data-dir",
        str(tmp_path / "data"),
    )
    assert res.exit_code == 0 and "source problems" not in res.output


def test_a_failed_partition_exits_4(tmp_path, monkeypatch):
    folder = tmp_path / "pdfs"
    folder.mkdir()
    (folder / "2024年伊川县政务服务中心部门预算.pdf").write_bytes(budget_pdf())

    def broken_load(self, loads):  # the warehouse fails mid-partition
        raise RuntimeError("disk full")

    monkeypatch.setattr("assets.load.warehouse.Warehouse.load_documents", broken_load)
    res = run(
        "ingest",
        "--sources",
        _sources(tmp_path / "s.yaml", [_entry("410329", "伊川县", f"    folder: {folder}\n")]),
        "--data-dir",
        str(tmp_path / "data"),
    )
    assert res.exit_code == 4, res.output
    assert "failed runs: process 2024|410329: warehouse_tables: RuntimeError: disk full" in res.output


# --------------------------------------------------------------------------- Ctrl-C


def _ingest(sources: Path, data: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "ingest", "--sources", str(sources), "--data-dir", str(data)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DAGSTER_HOME": ""},
    )


def _mart(data: Path) -> dict[str, list]:
    wh = Warehouse(f"duckdb:///{data / 'warehouse.duckdb'}", read_only=True)
    try:
        return {
            "documents": wh.query(
                "SELECT document_sha256, source_url, status, status_reason, department_name, "
                "fiscal_year FROM mart.documents ORDER BY 1"
            )[1],
            "expenditure": wh.query(
                "SELECT * FROM mart.expenditure_by_function ORDER BY document_sha256, page, function_code, unit_name"
            )[1],
            "findings": wh.query(
                "SELECT * FROM mart.quality_findings ORDER BY document_sha256, check_name, row_index, page"
            )[1],
        }
    finally:
        wh.dispose()


def test_first_ctrl_c_stops_after_the_current_document_and_the_rerun_completes(sample_portal_dir, tmp_path):
    """Ctrl-C while the first partition is extracting: the run stops there (nothing half-loaded), prints the
    partial summary without a traceback and exits 130; the same command then completes, and the warehouse
    equals a clean run's."""
    from assets.crawl.sources import load_sources
    from pipelines.ingest import run_ingest

    sources = build_folders(
        sample_portal_dir,
        tmp_path / "folders",
        [("410323", 2024, "新安县教育局"), ("410323", 2024, "新安县文化广电和旅游局")],
    )
    (tmp_path / "folders" / "410329").mkdir()
    (tmp_path / "folders" / "410329" / "2024年伊川县政务服务中心部门预算.pdf").write_bytes(budget_pdf())
    sources.write_text(
        sources.read_text(encoding="utf-8")
        + _entry("410329", "伊川县", f"    folder: {tmp_path / 'folders' / '410329'}\n"),
        encoding="utf-8",
    )
    data = tmp_path / "data"
    proc = _ingest(sources, data)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list((data / "extracted").glob("*.pickle")):
        time.sleep(0.1)  # the first document is extracted: the run is in the middle of partition 2024|410323
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, out + err
    assert "stopping after the current document" in err and "Traceback" not in err + out
    # every region is crawled first (crawl_job runs), then the partitions are processed: 2024|410329 did not run
    assert "interrupted: not run: " in out and "process 2024|410329" in out and "run the same command again" in out
    assert "documents found: 3" in out  # the partial summary

    again = _ingest(sources, data)
    out2, err2 = again.communicate(timeout=600)
    assert again.returncode == 0, out2 + err2
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "extracted").symlink_to(data / "extracted", target_is_directory=True)  # same extraction, cached
    summary = run_ingest(
        str(sources),
        load_sources(sources),
        data_dir=str(clean),
        warehouse_url=f"duckdb:///{clean / 'warehouse.duckdb'}",
    )
    assert summary.exit_code == 0
    resumed, reference = _mart(data), _mart(clean)
    assert sorted(d[2] for d in resumed["documents"]) == ["loaded", "quarantined", "rejected"]
    assert resumed == reference and len(resumed["expenditure"]) == 10
