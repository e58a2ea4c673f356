"""`budget-etl ingest` as the UI and an operator see it: its runs are the code location's jobs in
$DAGSTER_HOME, and its summary adds up (found = new + changed + unchanged + failed), names files decoded,
lists every document's status and the soft warnings with their document."""

from __future__ import annotations

import re
import shutil
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from dagster import DagsterInstance
from orchestration_corpus import DOCS, XINAN, YICHUAN, build_folders, data_dir

from assets.records import ManifestEntry
from pipelines.cli import main
from pipelines.jobs import TAG_TRIGGER
from pipelines.summary import crawl_counts, display_name, format_summary


@pytest.fixture(scope="module")
def extract_cache(tmp_path_factory):
    path = tmp_path_factory.getbasetemp() / "orchestration_extract_cache"
    path.mkdir(exist_ok=True)
    return path


def ingest(sources, ddir, url, *extra):
    return CliRunner().invoke(
        main,
        [
            "ingest",
            "--sources",
            str(sources),
            "--data-dir",
            ddir,
            "--warehouse",
            url,
            "--no-robots",
            "--progress",
            "off",
            *extra,
        ],
        catch_exceptions=False,
    )


def found_line(output: str) -> tuple[int, int, int, int, int]:
    m = re.search(r"documents found: (\d+) = (\d+) new \+ (\d+) changed \+ (\d+) unchanged \+ (\d+) failed", output)
    assert m, output
    return tuple(int(x) for x in m.groups())


# -- pure -----------------------------------------------------------------------------------------------------


def test_file_names_are_decoded():
    assert display_name("http://h/xinan/files/%E5%85%B3%E4%BA%8E%E9%80%9A%E7%9F%A5.doc") == "关于通知.doc"
    assert display_name("file:///archive/%E4%BC%8A%E5%B7%9D/2024%E5%B9%B4.pdf") == "2024年.pdf"
    assert display_name(None) == "?"


def test_counts_add_up_and_warnings_name_their_document():
    def e(url, sha, status="fetched", **kw):
        return ManifestEntry(url=url, region_code=YICHUAN, sha256=sha, status=status, **kw)

    s = SimpleNamespace(
        crawled={
            YICHUAN: [
                e("u/new.pdf", "1" * 64, year=2024, department="甲"),
                e("u/changed.pdf", "2" * 64, year=2024, department="乙"),
                e("u/same.pdf", "3" * 64, "unchanged", year=2024),
                e("u/404.pdf", None, "failed", reason="HTTP 404"),
                e("u/a.doc", None, "skipped", reason="not a PDF (.doc)"),
            ]
        },
        previous={YICHUAN: {"u/changed.pdf": "9" * 64, "u/same.pdf": "3" * 64}},
        documents={
            "1" * 64: {"status": "loaded", "reason": None, "url": "u/%E7%94%B2.pdf", "department": "甲"},
            "2" * 64: {"status": "quarantined", "reason": "1 hard finding", "url": "u/changed.pdf", "department": "乙"},
        },
        warnings=[
            {
                "document_sha256": "1" * 64,
                "check_name": "narrative_total",
                "page": 4,
                "detail": "说明 says 5",
                "expected": None,
                "actual": None,
            }
        ],
        rows={"fact_three_public": 1},
        partitions=["2024|410329"],
        failed_runs=[],
    )
    counts = crawl_counts(s)
    assert {k: len(v) for k, v in counts.items()} == {
        "new": 1,
        "changed": 1,
        "unchanged": 1,
        "failed": 1,
        "not_downloaded": 1,
    }
    text = format_summary(s, 1.0, "duckdb:///w")
    assert found_line(text) == (4, 1, 1, 1, 1)
    assert "(1 link not downloaded: not a PDF (.doc))" in text
    assert re.search(r"quarantined +2024 +410329 +乙 +changed.pdf: 1 hard finding", text)
    assert re.search(r"loaded +2024 +410329 +甲 +甲.pdf", text)  # decoded
    assert "  甲 2024 (甲.pdf) p. 4: narrative_total: 说明 says 5" in text
    assert "documents by status: loaded 1, quarantined 1" in text


# -- for real -------------------------------------------------------------------------------------------------


def test_cli_runs_are_the_code_locations_jobs_and_the_summary_adds_up(
    sample_portal_dir, tmp_path, extract_cache, monkeypatch
):
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    folders = tmp_path / "folders"
    sources = build_folders(sample_portal_dir, folders, docs=DOCS[:2])  # 伊川县 2023 and 2024
    ddir = data_dir(tmp_path / "data", extract_cache)
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"

    first = ingest(sources, ddir, url)
    assert first.exit_code == 0, first.output
    assert found_line(first.output) == (2, 2, 0, 0, 0)
    with DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert sorted(r.job_name for r in runs) == ["crawl_job", "process_job", "process_job"]
        for run in runs:  # recorded as runs of the workspace's code location: the UI's Overview shows them
            origin = run.remote_job_origin
            assert origin is not None and origin.location_name == "budget_etl"
            assert origin.repository_origin.repository_name == "__repository__" and origin.job_name == run.job_name
            assert run.tags[TAG_TRIGGER] == "cli" and run.is_success
        assert sorted(r.tags["dagster/partition"] for r in runs if r.job_name == "process_job") == [
            f"{YICHUAN}|2023",
            f"{YICHUAN}|2024",
        ]

    # the seed's known soft warnings, each with its document
    assert "warnings (soft data-quality findings: they do not keep a document from loading): 3" in first.output
    assert re.search(
        r"伊川县政务服务中心 2024 \(.*\.pdf\) p\. \d+: narrative_change_pct_total: 说明 says", first.output
    )

    # unchanged files, and one changed in place (a new version at the same URL)
    (seed_2023,) = [p for p in (folders / YICHUAN).glob("*.pdf") if "2023" in p.name]
    (seed_2024,) = [p for p in (folders / YICHUAN).glob("*.pdf") if "2024" in p.name]
    shutil.copy(seed_2024, seed_2023)  # the 2023 file now holds other content
    again = ingest(sources, ddir, url, "--years", "2024")
    assert again.exit_code == 0, again.output
    assert found_line(again.output) == (2, 0, 1, 1, 0)

    # the same raw store into a new warehouse (the PostgreSQL case: stored files, an empty manifest)
    fresh = ingest(sources, ddir, f"duckdb:///{tmp_path / 'other.duckdb'}", "--years", "2024")
    assert fresh.exit_code == 0, fresh.output
    assert found_line(fresh.output) == (2, 2, 0, 0, 0)


def test_a_failed_fetch_and_a_link_not_downloaded_are_counted_apart(sample_portal, tmp_path, extract_cache):
    """The sample portal over HTTP: its deliberate faults (404, .doc, 决算, a wrong total) in the summary."""
    base, site, sources = sample_portal
    ddir = data_dir(tmp_path / "data", extract_cache)
    res = ingest(sources, ddir, f"duckdb:///{tmp_path / 'w.duckdb'}", "--region", XINAN)
    assert res.exit_code == 0, res.output
    found, new, changed, unchanged, failed = found_line(res.output)
    assert found == new + changed + unchanged + failed and failed == 1 and new >= 2
    assert "1 link not downloaded: not a PDF (.doc)" in res.output
    assert "关于做好2024年部门预算公开工作的通知.doc: not a PDF (.doc)" in res.output  # decoded, not %E5…
    assert "%E5" not in res.output
    assert re.search(r"failed +- +410323 +- +P\d+\.pdf: HTTP 404", res.output)
    assert re.search(
        r"quarantined +2024 +410323 +新安县文化广电和旅游局 +\S+\.pdf: \d hard data-quality finding", res.output
    )
