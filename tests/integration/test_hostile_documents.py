"""Hostile documents: every step that parses a PDF runs in a worker process under a memory cap and a time
limit; a bomb, a hang, an encrypted file or a crash is rejected with its reason and the partition goes on.

The hostile PDFs are generated here (tests/support/crawl.py), never committed."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from assets.extract.worker import Limits, WorkerPool, extract_limited, extract_many, read_head_limited, run_limited
from tests.support import crawl as testing

SHA = "a" * 64


@pytest.fixture(scope="session")
def hostile(tmp_path_factory) -> dict[str, Path]:
    """The hostile PDFs of this suite, written once per session."""
    out = tmp_path_factory.mktemp("hostile")
    files = {
        "bomb": testing.bomb_pdf(),  # 522 KB → a 512 MiB stream on page 1
        "budget_with_bomb": testing.budget_with_bomb(),  # pages 1-3 read normally, page 4 inflates to 512 MiB
        "pages_2000": testing.many_pages_pdf(2000),
        "encrypted": testing.encrypted_pdf("user-secret"),
        "owner_only": testing.encrypted_pdf(""),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = out / f"{name}.pdf"
        paths[name].write_bytes(data)
    return paths


@pytest.fixture(scope="session")
def seed_pdfs(tmp_path_factory) -> dict[str, Path]:
    """The seed budget (伊川县政务服务中心 2024, 168 amounts), plain and protected by an owner password only."""
    from reportlab.lib import pdfencrypt

    import examples.sample_portal.render as render
    from examples.sample_portal import render_document, seed_document

    out = tmp_path_factory.mktemp("seed")
    plain = out / "2024年伊川县政务服务中心部门预算.pdf"
    render_document(seed_document(), plain)
    original = render.BaseDocTemplate

    class OwnerPassword(original):  # the same document, copying and printing restricted by an owner password
        def __init__(self, *args, **kw):
            kw["encrypt"] = pdfencrypt.StandardEncryption("", ownerPassword="owner", canPrint=0, canCopy=0)
            super().__init__(*args, **kw)

    protected = out / "protected.pdf"
    render.BaseDocTemplate = OwnerPassword
    try:
        render_document(seed_document(), protected)
    finally:
        render.BaseDocTemplate = original
    return {"plain": plain, "owner_only": protected}


# --------------------------------------------------------------------------- the worker


def test_bomb_is_rejected_at_the_memory_limit_by_the_crawl_and_by_extraction(hostile):
    head, reason = read_head_limited(hostile["bomb"])  # the crawl's look at the first pages
    assert head is None and reason == "memory limit 1 GiB exceeded"
    # the first three pages are harmless: the crawl passes it, extraction meets page 4
    head, reason = read_head_limited(hostile["budget_with_bomb"])
    assert reason is None and head.page_count == 4 and "部门预算" in head.first_page
    result = extract_limited(hostile["budget_with_bomb"], SHA)
    assert (result.status, result.reason) == ("rejected", "memory limit 1 GiB exceeded")
    small = extract_limited(hostile["budget_with_bomb"], SHA, Limits(memory_bytes=256 << 20))
    assert small.reason == "memory limit 256 MiB exceeded"


def test_time_limit_and_page_limit(hostile):
    result = extract_limited(hostile["pages_2000"], SHA)
    assert (result.status, result.reason) == ("rejected", "too many pages: 2000 (limit 1000)")
    head, reason = read_head_limited(hostile["pages_2000"])
    assert head is None and reason == "too many pages: 2000 (limit 1000)"
    # 10 000 pages take far longer than the 2 s limit on any machine (2 000 took 2-4 s: too close to it)
    many = hostile["pages_2000"].with_name("pages_10000.pdf")
    many.write_bytes(testing.many_pages_pdf(10000))
    started = time.monotonic()
    slow = extract_limited(many, SHA, Limits(seconds=2, max_pages=20000))
    assert (slow.status, slow.reason) == ("rejected", "time limit 2 s exceeded")
    assert time.monotonic() - started < 30


def test_encrypted_pdf_is_rejected_and_owner_password_only_reads_normally(hostile, seed_pdfs):
    head, reason = read_head_limited(hostile["encrypted"])
    assert head is None and reason == "encrypted (password required)"
    result = extract_limited(hostile["encrypted"], SHA)
    assert (result.status, result.reason) == ("rejected", "encrypted (password required)")

    head, reason = read_head_limited(hostile["owner_only"])
    assert reason is None and head.owner_password and "伊川县政务服务中心部门预算" in head.first_page
    plain, _ = read_head_limited(seed_pdfs["plain"])
    assert not plain.owner_password
    protected = extract_limited(seed_pdfs["owner_only"], SHA)
    unprotected = extract_limited(seed_pdfs["plain"], SHA)
    assert protected.status == "ok" and len(protected.tables) == len(unprotected.tables) >= 8
    assert protected.tables == unprotected.tables  # every row and amount, read without a password


def crash_with(signum: int) -> None:  # runs in the worker
    os.kill(os.getpid(), signum)


def fail() -> None:  # runs in the worker
    raise ValueError("boom")


def sleep_then(seconds: float, value: int) -> int:  # runs in the worker
    time.sleep(seconds)
    return value


def test_a_crash_or_an_exception_in_the_worker_is_a_reason_not_a_failure():
    assert run_limited(crash_with, signal.SIGSEGV).reason == "worker crashed (killed by SIGSEGV)"
    assert run_limited(fail).reason == "worker failed: ValueError: boom"
    assert run_limited(sleep_then, 5, 1, limits=Limits(seconds=0.5)).reason == "time limit 0.5 s exceeded"


def test_the_worker_ignores_ctrl_c():
    """Ctrl-C reaches the whole process group: the document in progress still finishes."""
    import threading
    from multiprocessing import forkserver

    def interrupt_workers():
        time.sleep(0.8)
        server = forkserver._forkserver._forkserver_pid
        for d in os.listdir("/proc"):
            try:
                if d.isdigit() and int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1]) == server:
                    os.kill(int(d), signal.SIGINT)  # the worker (a child of the forkserver)
            except OSError:
                pass
        os.kill(server, signal.SIGINT)  # and the forkserver itself

    started = time.monotonic()
    threading.Thread(target=interrupt_workers, daemon=True).start()
    (outcome,) = WorkerPool(1).map(sleep_then, [(1.5, 7)])
    assert outcome.ok and outcome.value == 7 and time.monotonic() - started >= 1.5
    assert run_limited(sleep_then, 0, 8).value == 8  # the forkserver still serves


def test_pool_results_are_in_input_order_and_equal_to_the_serial_run(hostile, seed_pdfs):
    docs = [
        (seed_pdfs["plain"], "s1"),
        (hostile["encrypted"], "s2"),
        (hostile["pages_2000"], "s3"),
        (seed_pdfs["owner_only"], "s4"),
    ]
    serial = extract_many(docs, WorkerPool(1))
    parallel = extract_many(docs, WorkerPool(2))
    assert [r.document_sha256 for r in parallel] == ["s1", "s2", "s3", "s4"]
    assert parallel == serial
    assert [r.status for r in serial] == ["ok", "rejected", "rejected", "ok"]


def test_pool_stops_between_documents():
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 1  # asked once the first call has started

    outcomes = WorkerPool(1).map(sleep_then, [(0.2, 1), (0.2, 2), (0.2, 3)], should_stop=stop)
    assert outcomes[0].value == 1 and outcomes[1:] == [None, None]


# --------------------------------------------------------------------------- through the pipeline


def test_hostile_documents_are_rejected_and_the_partition_loads_the_good_one(tmp_path, hostile, seed_pdfs):
    """A folder of one good budget (protected by an owner password) and hostile ones: each is rejected with its
    reason, the good one loads."""
    import sqlalchemy as sa
    from click.testing import CliRunner

    from pipelines.cli import main

    folder = tmp_path / "pdfs"
    folder.mkdir()
    (folder / "2024年伊川县政务服务中心部门预算.pdf").write_bytes(seed_pdfs["owner_only"].read_bytes())
    (folder / "2024年伊川县教育局部门预算.pdf").write_bytes(testing.budget_with_bomb(department="伊川县教育局"))
    (folder / "2024年伊川县财政局部门预算.pdf").write_bytes(testing.encrypted_pdf("u", department="伊川县财政局"))
    (folder / "2024年伊川县水利局部门预算.pdf").write_bytes(testing.many_pages_pdf(1200, department="伊川县水利局"))
    sources = tmp_path / "s.yaml"
    sources.write_text(
        f'sources:\n  - region_code: "410329"\n    region_name: 伊川县\n    folder: {folder}\n', encoding="utf-8"
    )
    data = tmp_path / "data"
    res = CliRunner().invoke(
        main, ["ingest", "--sources", str(sources), "--data-dir", str(data)], catch_exceptions=False
    )
    assert res.exit_code == 0, res.output
    engine = sa.create_engine(f"duckdb:///{data / 'warehouse.duckdb'}")
    with engine.connect() as conn:
        docs = {
            r.source_url: (r.status, r.status_reason)
            for r in conn.execute(sa.text("SELECT source_url, status, status_reason FROM mart.documents"))
        }
        manifest = {
            r.url: (r.status, r.reason) for r in conn.execute(sa.text("SELECT url, status, reason FROM raw.manifest"))
        }
    engine.dispose()
    from urllib.parse import quote

    def url(name: str) -> str:
        return "folder:410329/" + quote(name)

    # protected by an owner password only: read normally and labelled
    assert docs[url("2024年伊川县政务服务中心部门预算.pdf")] == (
        "loaded",
        "owner password only (permissions restricted): read without a password",
    )
    assert docs[url("2024年伊川县教育局部门预算.pdf")] == ("rejected", "memory limit 1 GiB exceeded")
    assert docs[url("2024年伊川县财政局部门预算.pdf")] == ("rejected", "encrypted (password required)")
    assert docs[url("2024年伊川县水利局部门预算.pdf")] == ("rejected", "too many pages: 1200 (limit 1000)")
    assert manifest[url("2024年伊川县财政局部门预算.pdf")] == ("rejected", "encrypted (password required)")
    # folder sources record paths relative to their folder, never an absolute local path
    assert all(u.startswith("folder:410329/") for u in docs) and not any(str(tmp_path) in u for u in manifest)
