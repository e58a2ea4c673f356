"""Orchestration: the nightly chain (schedule → crawl → sensor → process), region discovery, backfills,
blocking checks and run metadata, all executed through Dagster on a tiny folder-source corpus."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    Backoff,
    DagsterEventType,
    DagsterInstance,
    RunRequest,
    SkipReason,
    asset_check,
    build_run_status_sensor_context,
    build_schedule_context,
    build_sensor_context,
    instance_for_test,
)
from orchestration_corpus import FAST_FETCH, XINAN, YICHUAN, build_folders, data_dir, write_bad_documents

from assets.crawl.sources import load_sources
from assets.load.assets import DOCUMENT_KEY, LOADED_KEYS
from assets.load.warehouse import Warehouse
from assets.partitions import nightly_years, split_key, year_region_key
from assets.records import STATUS_QUARANTINED
from assets.validate.assets import validated_documents
from pipelines.backfill import job_definitions, process_partitions
from pipelines.jobs import TAG_PORTAL_HOST, TAG_PROCESS_YEARS, TAG_TRIGGER, nightly_crawl, portal_host
from pipelines.sensors import discover_regions, new_regions, process_after_crawl, years_to_process
from warehouse_schema.tables import FACT_TABLES

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def extract_cache(tmp_path_factory):
    path = tmp_path_factory.getbasetemp() / "orchestration_extract_cache"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def corpus(sample_portal_dir, tmp_path, extract_cache):
    """(sources.yaml, data dir, warehouse URL) of a fresh copy of the tiny corpus."""
    sources = build_folders(sample_portal_dir, tmp_path / "folders")
    return sources, data_dir(tmp_path / "data", extract_cache), f"duckdb:///{tmp_path / 'warehouse.duckdb'}"


def rows(url, sql):
    wh = Warehouse(url)
    try:
        return wh.query(sql)[1]
    finally:
        wh.dispose()


# -- pure decisions ----------------------------------------------------------------------------------------


def test_years_to_process_skips_what_is_loaded_and_unchanged():
    crawl = {"years": [2022, 2023, 2024], "documents_new": 1, "years_new": [2024]}
    loaded = {(2023, YICHUAN), (2024, YICHUAN)}
    assert years_to_process("2023,2024", YICHUAN, crawl, loaded) == [2024]
    assert years_to_process("2023,2024", YICHUAN, dict(crawl, documents_new=0, years_new=[]), loaded) == []
    # never loaded: processed even when nothing is new
    assert years_to_process("2023,2024", YICHUAN, dict(crawl, years_new=[]), set()) == [2023, 2024]
    # discovery asks for every year found; a year without documents is never processed
    assert years_to_process("all", YICHUAN, crawl, loaded) == [2022, 2024]
    assert years_to_process("2025,2026", YICHUAN, crawl, set()) == []
    # an older crawl that does not say which years are new: any new document reprocesses the asked years
    assert years_to_process("2023,2024", YICHUAN, {"years": [2023, 2024], "documents_new": 2}, loaded) == [2023, 2024]


def test_nightly_years_partition_keys_and_hosts():
    assert nightly_years(dt.date(2025, 3, 1)) == [2024, 2025]
    key = year_region_key(2024, YICHUAN)
    assert str(key) == f"{YICHUAN}|2024" and split_key(str(key)) == split_key(key) == (2024, YICHUAN)
    sources = load_sources_text("""
sources:
  - {region_code: "410329", region_name: 伊川县, start_urls: ["https://www.ycxzf.gov.cn:8443/zwgk/index.html"]}
  - {region_code: "410323", region_name: 新安县, folder: /tmp}
""")
    assert portal_host([s for s in sources if s.region_code == YICHUAN]) == "www.ycxzf.gov.cn"
    assert portal_host([s for s in sources if s.region_code == XINAN]) == "local"
    assert list(new_regions(sources, {YICHUAN})) == [XINAN]


def load_sources_text(text, tmp=None):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "sources.yaml"
        path.write_text(text, encoding="utf-8")
        return load_sources(path)


def test_crawl_step_retries_with_exponential_backoff():
    from assets.crawl.assets import crawled_documents

    policy = crawled_documents.op.retry_policy
    assert policy.max_retries >= 2 and policy.backoff == Backoff.EXPONENTIAL and policy.delay >= 1


# -- the nightly chain, through Dagster ----------------------------------------------------------------------


def sensor_tick(sensor, instance, defs):
    """One evaluation of a sensor, as the daemon does it (the context is closed before the instance is)."""
    with build_sensor_context(
        instance=instance,
        instance_ref=instance.get_ref(),
        resources=defs.resources,
        repository_def=defs.get_repository_def(),
    ) as ctx:
        return sensor.evaluate_tick(ctx)


def schedule_tick(instance, defs, when):
    with build_schedule_context(
        instance=instance,
        scheduled_execution_time=when,
        resources=defs.resources,
        repository_def=defs.get_repository_def(),
    ) as ctx:
        return nightly_crawl.evaluate_tick(ctx)


def _success_event(instance, run_id):
    (record,) = instance.get_records_for_run(run_id, of_type=DagsterEventType.RUN_SUCCESS).records
    return record.event_log_entry.dagster_event


def _run(defs, instance, request: RunRequest):
    """Execute a RunRequest as the daemon would launch it: its job, partition and tags."""
    job = defs.resolve_job_def(request.job_name or "process_job")
    result = job.execute_in_process(
        partition_key=request.partition_key, instance=instance, tags=request.tags, raise_on_error=False
    )
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]
    return result


def _chain(defs, instance, crawl_request: RunRequest):
    """Crawl run, then the process runs process_after_crawl requests for it; returns the sensor's output."""
    crawl = _run(defs, instance, crawl_request)
    run = instance.get_run_by_id(crawl.run_id)
    ctx = build_run_status_sensor_context(
        sensor_name="process_after_crawl",
        dagster_event=_success_event(instance, crawl.run_id),
        dagster_instance=instance,
        dagster_run=run,
        repository_def=defs.get_repository_def(),
    )
    out = process_after_crawl(ctx)
    if isinstance(out, SkipReason):
        return out, []
    return out, [_run(defs, instance, r) for r in out]


def test_discovery_then_nightly_chain(corpus, tmp_path):
    sources, ddir, url = corpus
    defs = job_definitions(ddir, url, str(sources), fetcher=FAST_FETCH)
    with instance_for_test() as instance:
        # 1. discovery: both regions of the sources file become partitions, each gets a crawl for every year
        data = sensor_tick(discover_regions, instance, defs)
        (add,) = data.dynamic_partitions_requests
        assert add.partitions_def_name == "region" and sorted(add.partition_keys) == [XINAN, YICHUAN]
        assert [
            (r.partition_key, r.tags[TAG_PROCESS_YEARS], r.tags[TAG_TRIGGER], r.tags[TAG_PORTAL_HOST])
            for r in data.run_requests
        ] == [(XINAN, "all", "discovery", "local"), (YICHUAN, "all", "discovery", "local")]
        instance.add_dynamic_partitions("region", add.partition_keys)
        again = sensor_tick(discover_regions, instance, defs)
        assert not again.run_requests and "no new region" in again.skip_message

        # 2. discovery's crawl of 伊川县 → the sensor processes every year found: 2023 and 2024
        out, runs = _chain(defs, instance, next(r for r in data.run_requests if r.partition_key == YICHUAN))
        assert sorted(str(r.partition_key) for r in out) == [f"{YICHUAN}|2023", f"{YICHUAN}|2024"]
        assert {r.job_name or "process_job" for r in out} == {"process_job"}
        loaded = {split_key(k) for k in instance.get_materialized_partitions(DOCUMENT_KEY)}
        assert loaded == {(2023, YICHUAN), (2024, YICHUAN)}
        assert rows(
            url,
            "SELECT SUM(total_wan) FROM mart.expenditure_by_function WHERE region_code = '410329' "
            "AND fiscal_year = 2024 AND department_name = '伊川县政务服务中心'",
        ) == [(Decimal("1145.25"),)]

        # 3. the nightly schedule at 02:00 on 2024-06-01 (Shanghai): crawl each registered region, years 2023,2024
        when = dt.datetime(2024, 6, 1, 2, 0, tzinfo=SHANGHAI)
        requests = schedule_tick(instance, defs, when).run_requests
        assert [(r.partition_key, r.run_key, r.tags[TAG_PROCESS_YEARS], r.tags[TAG_TRIGGER]) for r in requests] == [
            (XINAN, f"nightly-{XINAN}-20240601", "2023,2024", "nightly"),
            (YICHUAN, f"nightly-{YICHUAN}-20240601", "2023,2024", "nightly"),
        ]

        # 4. a quiet night: nothing new on the portal → nothing is processed (nothing extracted)
        nightly = next(r for r in requests if r.partition_key == YICHUAN)
        out, runs = _chain(defs, instance, nightly)
        assert isinstance(out, SkipReason) and "nothing new" in out.skip_message and not runs

        # 5. two new documents of 2024 appear, both bad: only 2024 is processed, the bad ones are rejected with
        #    their reason and the partition's good document stays loaded
        truncated, notables = write_bad_documents(sources.parent / YICHUAN, 2024)
        out, runs = _chain(
            defs, instance, RunRequest(partition_key=YICHUAN, job_name="crawl_job", run_key="n2", tags=nightly.tags)
        )
        assert [str(r.partition_key) for r in out] == [f"{YICHUAN}|2024"]
        docs = {
            unquote(r[0].rsplit("/", 1)[-1]): r[1:]
            for r in rows(url, "SELECT source_url, status, status_reason FROM mart.documents WHERE fiscal_year = 2024")
        }
        assert docs[truncated.name][0] == "rejected" and "truncated" in docs[truncated.name][1]
        assert docs[notables.name][0] == "rejected" and docs[notables.name][1]
        assert docs["2024年洛阳市伊川县政务服务中心部门预算.pdf"] == ("loaded", None)
        meta = runs[0].asset_materializations_for_node("extracted_documents")[0].metadata
        assert meta["extracted_now"].value == 1  # only the new valid PDF; the seed came from the cache

        # 6. the schedule skips regions no longer configured
        instance.add_dynamic_partitions("region", ["410381"])
        requests = schedule_tick(instance, defs, when).run_requests
        assert sorted(r.partition_key for r in requests) == [XINAN, YICHUAN]


def test_run_metadata_on_each_materialization(corpus):
    sources, ddir, url = corpus
    defs = job_definitions(ddir, url, str(sources), fetcher=FAST_FETCH)
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("region", [YICHUAN])
        defs.resolve_job_def("crawl_job").execute_in_process(partition_key=YICHUAN, instance=instance)
        result = defs.resolve_job_def("process_job").execute_in_process(
            partition_key=year_region_key(2024, YICHUAN), instance=instance
        )

        def meta(asset, key=None):
            events = instance.fetch_materializations(AssetKey.from_user_string(asset), limit=1).records
            return {k: v.value for k, v in events[0].asset_materialization.metadata.items()}

        crawl = meta("crawled_documents")
        assert crawl["documents_found"] == 2 and crawl["documents_new"] == 2 and crawl["years"] == [2023, 2024]
        extract = meta("extracted_documents")
        assert extract["documents"] == 1 and extract["pages"] == 20 and extract["tables"] >= 9
        assert 0 < extract["min_accuracy"] <= extract["mean_accuracy"] <= 100 and extract["documents_rejected"] == 0
        assert meta("raw/manifest")["rows_recorded"] == 2
        load = meta("core/document")
        assert load["documents_by_status"] == {"loaded": 1}
        assert (len(load["documents"]), load["documents_loaded"], load["documents_rejected"]) == (1, 1, 0)
        assert load["rows_loaded"] == load["dagster/row_count"] == 1
        n_function = rows(url, "SELECT COUNT(*) FROM core.fact_function_expenditure")[0][0]
        facts = meta("core/fact_function_expenditure")
        assert facts["rows_loaded"] == facts["dagster/row_count"] == n_function > 0
        # every core table's rows are the rows the load planned (a partitioned check per table)
        checks = [e for e in result.get_asset_check_evaluations() if e.check_name == "rows_as_planned"]
        assert len(checks) == 3 + len(FACT_TABLES) and all(e.passed for e in checks)  # + document, tables, findings
        assert result.success


# -- blocking checks: one partition stops, the others load ---------------------------------------------------


@asset_check(
    asset=validated_documents,
    blocking=True,
    partitions_def=validated_documents.partitions_def,
    description="test: block the load of a partition with a quarantined document",
)
def no_quarantined_documents(validated_documents) -> AssetCheckResult:
    bad = sorted(sha[:12] for sha, v in validated_documents.verdicts.items() if v.status == STATUS_QUARANTINED)
    return AssetCheckResult(passed=not bad, severity=AssetCheckSeverity.ERROR, metadata={"quarantined": len(bad)})


def test_failed_blocking_check_stops_only_its_partition(corpus):
    sources, ddir, url = corpus
    defs = job_definitions(ddir, url, str(sources), fetcher=FAST_FETCH, extra_checks=(no_quarantined_documents,))
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("region", [XINAN, YICHUAN])
        for region in (XINAN, YICHUAN):
            assert defs.resolve_job_def("crawl_job").execute_in_process(partition_key=region, instance=instance).success
        outcomes = process_partitions(
            [(2024, XINAN), (2024, YICHUAN)],
            data_dir=ddir,
            warehouse_url=url,
            sources_path=str(sources),
            instance=instance,
            job_name="process_job",
            defs=defs,
        )
        xinan, yichuan = outcomes
        assert yichuan.success and "validated_documents:no_quarantined_documents" not in yichuan.failed_checks
        assert not xinan.success and "validated_documents:no_quarantined_documents" in xinan.failed_checks
        loaded = {split_key(k) for k in instance.get_materialized_partitions(DOCUMENT_KEY)}
        assert loaded == {(2024, YICHUAN)}
        # the blocked partition's documents never reached the warehouse; the other partition's did
        assert rows(url, "SELECT region_code, status FROM mart.documents ORDER BY 1") == [(YICHUAN, "loaded")]


# -- backfill from the shell ---------------------------------------------------------------------------------


def test_backfill_two_years_for_one_region_from_the_cli(corpus, tmp_path, monkeypatch):
    from pipelines.cli import main

    sources, ddir, url = corpus
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    result = CliRunner().invoke(
        main,
        [
            "backfill",
            "--years",
            "2023-2024",
            "--region",
            YICHUAN,
            "--sources",
            str(sources),
            "--data-dir",
            ddir,
            "--warehouse",
            url,
            "--workers",
            "2",
            "--no-robots",
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"partitions (year|region): 2023|{YICHUAN}, 2024|{YICHUAN}" in result.output
    assert "documents by status: loaded 2" in result.output
    # progress off a terminal: timestamped lines, the worker partitions then their validate + load here
    assert "2 partitions to process" in result.output
    for year in (2023, 2024):
        assert f"partition {year}|{YICHUAN} ({year - 2022}/2): validate + load, 1 document" in result.output
        assert f"partition {year}|{YICHUAN}: done in " in result.output
    got = rows(url, "SELECT fiscal_year, department_name, status FROM mart.documents ORDER BY 1")
    assert got == [(2023, "伊川县政务服务中心", "loaded"), (2024, "伊川县政务服务中心", "loaded")]
    # the runs are in DAGSTER_HOME's instance, as backfill_job runs of the two partitions
    with DagsterInstance.get() as instance:
        runs = instance.get_runs()
        backfills = sorted(r.tags["dagster/partition"] for r in runs if r.job_name == "backfill_job")
        # DuckDB has one writer: extract + normalize ran in the two worker processes, validate + load here
        assert backfills == [f"{YICHUAN}|2023"] * 2 + [f"{YICHUAN}|2024"] * 2
        selections = sorted(
            sorted(k.to_user_string() for k in r.asset_selection)
            for r in runs
            if r.job_name == "backfill_job" and r.tags["dagster/partition"].endswith("2024")
        )
        assert selections == sorted(
            [
                ["extracted_documents", "normalized_documents"],
                sorted(["validated_documents", "previous_year_compared", *(k.to_user_string() for k in LOADED_KEYS)]),
            ]
        )
        assert all(r.is_success for r in runs)
        assert {r.tags[TAG_TRIGGER] for r in runs} == {"backfill"}
        assert sorted(instance.get_dynamic_partitions("region")) == [YICHUAN]
        loaded = {split_key(k) for k in instance.get_materialized_partitions(DOCUMENT_KEY)}
        assert loaded == {(2023, YICHUAN), (2024, YICHUAN)}


def test_backfill_cli_rejects_bad_arguments(corpus):
    from pipelines.cli import main

    sources, ddir, url = corpus
    out = CliRunner().invoke(main, ["backfill", "--years", "2024-2019", "--sources", str(sources)])
    assert out.exit_code != 0 and "runs backwards" in out.output
    out = CliRunner().invoke(main, ["backfill", "--years", "2024", "--region", "999999", "--sources", str(sources)])
    assert out.exit_code != 0 and "no source" in out.output and "999999" in out.output
