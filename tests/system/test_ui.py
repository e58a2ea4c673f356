"""The Dagster UI, tested as a user would: dagster-webserver on 127.0.0.1 over an instance holding one
materialized partition and its asset-check results, opened in headless Chromium (Debian's /usr/bin/chromium,
driven by Playwright; no browser is downloaded)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from dagster import DagsterInstance
from orchestration_corpus import FAST_FETCH, YICHUAN, build_folders, data_dir

from assets.partitions import year_region_key
from pipelines.backfill import job_definitions
from pipelines.runs import execute

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("BUDGET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ASSETS = [
    "crawled_documents",
    "extracted_documents",
    "normalized_documents",
    "validated_documents",
    "document",
]  # core/document: one of the core tables the load writes

pytestmark = pytest.mark.ui


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: install the Debian packages chromium and chromium-driver "
            "(`make test` does) or set BUDGET_CHROMIUM"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: pip install -e .[dev]")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def materialized_home(sample_portal_dir, tmp_path_factory, tmp_path, monkeypatch):
    """A DAGSTER_HOME (deploy/dagster.local.yaml) with partition 410329|2024 materialized and checked."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.local.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    cache = tmp_path_factory.getbasetemp() / "orchestration_extract_cache"
    cache.mkdir(exist_ok=True)
    sources = build_folders(sample_portal_dir, tmp_path / "folders", docs=[(YICHUAN, 2024, "伊川县政务服务中心")])
    ddir = data_dir(tmp_path / "data", cache)
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    defs = job_definitions(ddir, url, str(sources), fetcher=FAST_FETCH)
    with DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("region", [YICHUAN])
        # as `budget-etl ingest` runs them: runs of the code location's jobs (pipelines/runs.py)
        crawl = execute(defs.resolve_job_def("crawl_job"), partition_key=YICHUAN, instance=instance)
        assert crawl.success
        result = execute(
            defs.resolve_job_def("process_job"),
            partition_key=year_region_key(2024, YICHUAN),
            instance=instance,
            raise_on_error=False,
        )
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        checks = {
            e.check_name: e.passed
            for e in result.get_asset_check_evaluations()
            if e.asset_key.to_user_string() == "validated_documents"
        }
    assert checks
    env = {"BUDGET_DATA_DIR": ddir, "BUDGET_WAREHOUSE_URL": url, "BUDGET_SOURCES": str(sources)}
    return home, env, checks


@pytest.fixture
def webserver(materialized_home, tmp_path):
    home, extra_env, checks = materialized_home
    port = _free_port()
    log = open(tmp_path / "webserver.log", "w")
    env = dict(os.environ, DAGSTER_HOME=str(home), **extra_env)
    exe = Path(sys.executable).parent / "dagster-webserver"
    proc = subprocess.Popen(
        [str(exe), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"dagster-webserver exited with {proc.returncode}: "
                    f"{(tmp_path / 'webserver.log').read_text()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(base + "/server_info", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("dagster-webserver did not answer within 180 s")
                time.sleep(0.5)
        yield base, checks
    finally:
        # the webserver and the code server it started share the session we created
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _text(page, path: str, expect: str) -> str:
    page.goto(page.base + path)
    page.get_by_text(expect).first.wait_for(timeout=60_000)
    page.wait_for_load_state("networkidle")
    return page.inner_text("body")


def test_asset_graph_partitions_and_check_results_in_the_ui(webserver, browser, tmp_path, capsys):
    base, checks = webserver
    page = browser.new_page(viewport={"width": 2400, "height": 1300})
    page.base = base
    page.goto(base + "/overview")
    try:  # first visit: Dagster's newsletter dialog
        page.get_by_role("button", name="Skip").click(timeout=5_000)
    except Exception:  # noqa: BLE001 - not shown: nothing to dismiss
        pass

    # the asset graph: every asset with its partition count, fill and the latest check results
    graph = _text(
        page, "/assets/core/document?view=lineage&lineageScope=upstream&lineageDepth=5", "validated_documents"
    )
    page.get_by_text("16 partitions").first.wait_for(timeout=60_000)
    # the graph's nodes fill in one by one: wait until all four processing assets show their partitions
    deadline = time.monotonic() + 60
    graph = page.inner_text("body")
    while graph.count("16 partitions") < 4 and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        graph = page.inner_text("body")
    shot = tmp_path / "asset_graph.png"
    page.screenshot(path=str(shot))
    with capsys.disabled():
        print(f"\nUI screenshot (asset graph): {shot}")
    for name in ASSETS:
        assert name in graph
    assert "1 partition" in graph  # crawled_documents: the one region
    assert graph.count("16 partitions") == 4  # year (16) × region (1) for each processing asset
    assert "6% filled" in graph  # 1 of 16 partitions materialized
    passed = sum(checks.values())
    assert re.search(rf"\b{passed} / {len(checks)} Passed", graph), graph

    # the partitions of core/document: 410329 × 2024 materialized, the 15 other years missing
    parts = _text(page, "/assets/core/document?view=partitions", "Materialized (1)")
    assert "Missing (15)" in parts and YICHUAN in parts and "2024" in parts

    # the latest result of each asset check of validated_documents, with its partition
    text = _text(page, "/assets/validated_documents?view=checks", "Latest execution")
    for name in checks:
        assert name in text
    assert text.count("Succeeded") >= passed  # each check's row in the list: Succeeded / Failed
    if passed < len(checks):
        assert "Failed" in text
    assert "Evaluation result" in text and ("Passed" in text or "Failed" in text)
    assert f"{YICHUAN}|2024" in text  # the partition the latest execution checked
    page.screenshot(path=str(tmp_path / "asset_checks.png"))

    # the Overview's timeline shows the command line's runs as runs of the code location's jobs
    page.set_viewport_size({"width": 1600, "height": 900})
    text = _text(page, "/overview/activity/timeline", "process_job")
    assert "crawl_job" in text and "budget_etl" in text and "__ephemeral_asset_job__" not in text
    page.screenshot(path=str(tmp_path / "overview.png"))
    # a mart view's asset page: its columns and their descriptions from the data dictionary
    text = _text(page, "/assets/mart/expenditure_by_function", "total_yuan")
    assert "printed_unit" in text and "rounded half away from zero" in text
    page.screenshot(path=str(tmp_path / "mart_view.png"))
    with capsys.disabled():
        print(f"UI screenshots (overview, mart view): {tmp_path / 'overview.png'} {tmp_path / 'mart_view.png'}")
