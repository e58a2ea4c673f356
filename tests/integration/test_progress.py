"""Progress while `budget-etl ingest` runs: a live display in a pseudo-terminal, timestamped lines elsewhere;
and the tracker both read (partitions, the document being extracted, pages/s, ETA) on a fake clock."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from orchestration_corpus import YICHUAN, build_folders

from assets.extract.document import EXTRACTOR_VERSION
from assets.records import ManifestEntry
from pipelines.progress import PlainProgress, Tracker, make_progress

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent / "budget-etl"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d ")
SEED = "2024年洛阳市伊川县政务服务中心部门预算.pdf"


# -- the tracker --------------------------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def entry(sha: str, name: str, pages: int, year: int = 2024) -> ManifestEntry:
    return ManifestEntry(
        url=f"http://x/files/{name}",
        region_code=YICHUAN,
        sha256=sha,
        year=year,
        doc_type="budget",
        status="fetched",
        page_count=pages,
    )


def extracted(data: Path, sha: str) -> None:
    (data / "extracted" / f"{sha}.v{EXTRACTOR_VERSION}.pickle").write_bytes(b"x")


def test_tracker_follows_partitions_documents_pages_and_eta(tmp_path):
    (tmp_path / "extracted").mkdir()
    a, b, c, d = ("a" * 64, "b" * 64, "c" * 64, "d" * 64)
    extracted(tmp_path, d)  # extracted by an earlier run: costs nothing
    crawled = {
        YICHUAN: [
            entry(a, "%E4%BC%8A%E5%B7%9D.pdf", 20),
            entry(b, "b.pdf", 30),
            entry(c, "c.pdf", 10, 2023),
            entry(d, "d.pdf", 50, 2023),
        ]
    }
    clock = Clock()
    t = Tracker(tmp_path, clock=clock)
    t.crawl_started(YICHUAN, 0, 1)
    t.crawl_finished(YICHUAN, crawled[YICHUAN])
    t.plan([(2023, YICHUAN), (2024, YICHUAN)], crawled)
    s = t.snapshot()
    assert (s.regions_done, s.regions_total, s.done, s.total) == (1, 1, 0, 2)
    assert (s.pages_done, s.pages_total, s.pages_per_s, s.eta_s) == (0, 60, None, None)

    t.partition_started(2023, YICHUAN)
    assert t.snapshot().current == [(f"2023|{YICHUAN}", "extracting c.pdf (10 pages; document 1/2)")]
    clock.now += 5
    extracted(tmp_path, c)
    s = t.snapshot()
    assert s.current == [(f"2023|{YICHUAN}", "validating and loading")]
    assert (s.pages_done, s.pages_per_s) == (10, 2.0)  # 10 pages in 5 s
    assert s.eta_s == 25.0  # 50 pages left at 2 pages/s
    clock.now += 5
    t.partition_finished(SimpleNamespace(year=2023, region=YICHUAN, success=True, seconds=10.0, key="2023|x"))
    t.partition_started(2024, YICHUAN)
    # the document name is percent-decoded
    assert t.snapshot().current == [(f"2024|{YICHUAN}", "extracting 伊川.pdf (20 pages; document 1/2)")]
    extracted(tmp_path, a)
    clock.now += 10
    s = t.snapshot()
    assert s.current == [(f"2024|{YICHUAN}", "extracting b.pdf (30 pages; document 2/2)")]
    assert (s.done, s.pages_done, s.pages_per_s, s.eta_s) == (1, 30, 1.5, 20.0)
    extracted(tmp_path, b)
    t.partition_finished(SimpleNamespace(year=2024, region=YICHUAN, success=False, seconds=12.0, key="2024|x"))
    s = t.snapshot()
    assert (s.done, s.failed, s.eta_s, s.current) == (2, 1, 0.0, [])


def test_plain_lines_are_timestamped_and_say_what_changed(tmp_path):
    import io

    (tmp_path / "extracted").mkdir()
    out = io.StringIO()
    sha = "e" * 64
    with PlainProgress(tmp_path, out, interval=0.05) as p:
        p.crawl_started(YICHUAN, 0, 1)
        p.crawl_finished(YICHUAN, [entry(sha, "e.pdf", 12)])
        p.plan([(2024, YICHUAN)], {YICHUAN: [entry(sha, "e.pdf", 12)]})
        p.partition_started(2024, YICHUAN)
        time.sleep(0.2)
        extracted(tmp_path, sha)
        time.sleep(0.2)
        p.partition_finished(
            SimpleNamespace(year=2024, region=YICHUAN, success=True, seconds=0.4, key=f"2024|{YICHUAN}")
        )
    lines = out.getvalue().splitlines()
    assert all(STAMP.match(line) for line in lines), lines
    text = "\n".join(line[26:] for line in lines)
    assert f"crawl {YICHUAN} (region 1/1)" in text and f"crawl {YICHUAN}: 1 document stored" in text
    assert "1 partition to process, 12 pages to extract" in text
    assert f"partition 2024|{YICHUAN}: extracting e.pdf (12 pages; document 1/1)" in text
    assert f"partition 2024|{YICHUAN}: validating and loading" in text
    assert re.search(
        rf"partition 2024\|{YICHUAN}: done in 0.4 s; 1/1 partitions, 12/12 pages, [\d.]+ pages/s, "
        r"ETA 0:00",
        text,
    ), text
    assert lines[-1][26:].startswith("finished: 1/1 partitions (0 failed), 12 pages extracted")


def test_auto_mode_is_plain_off_a_terminal(tmp_path):
    import io

    p = make_progress(tmp_path, "auto", io.StringIO())
    assert isinstance(p, PlainProgress)
    p.close()
    assert type(make_progress(tmp_path, "off")).__name__ == "Progress"


# -- the command line, for real -------------------------------------------------------------------------------


@pytest.fixture
def one_document(sample_portal_dir, tmp_path):
    """A folder source with the seed document, and a fresh data dir (no extraction cache: it is extracted)."""
    sources = build_folders(sample_portal_dir, tmp_path / "folders", docs=[(YICHUAN, 2024, "伊川县政务服务中心")])
    return sources, tmp_path / "data"


def _ingest_args(sources, data):
    return [str(BIN), "ingest", "--sources", str(sources), "--data-dir", str(data), "--no-robots"]


def test_live_progress_in_a_pseudo_terminal(one_document, tmp_path):
    sources, data = one_document
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(TERM="xterm-256color", COLUMNS="160", LINES="40")
    proc = subprocess.Popen(
        _ingest_args(sources, data),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=tmp_path,
        close_fds=True,
        start_new_session=True,
    )
    os.close(slave)
    raw = b""
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                raw += chunk
            elif proc.poll() is not None:
                break
        assert proc.wait(timeout=30) == 0, raw.decode("utf-8", "replace")[-3000:]
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    text = raw.decode("utf-8", "replace")
    (tmp_path / "pty-output.txt").write_text(text, encoding="utf-8")
    assert "\x1b[" in text  # drawn with cursor movement: a live display, redrawn in place
    frames = {ANSI.sub("", f).strip() for f in re.split(r"\r|\n|\x1b\[2K|\x1b\[1A", text)}
    assert any(f"2024|{YICHUAN}  extracting {SEED} (" in f for f in frames), sorted(frames)[:40]
    head = [f for f in frames if f.startswith("regions crawled 1/1 partitions")]
    assert head and any(re.search(r"partitions 0/1 .*pages \d+/\d+ .*(– |[\d.]+ )pages/s ETA", f) for f in head)
    assert any(re.search(r"partitions 1/1 .*pages (\d+)/\1 [\d.]+ pages/s ETA 0:00", f) for f in head), head
    assert not any(STAMP.match(f) for f in frames)  # no log lines on a terminal
    assert "documents by status: loaded 1" in ANSI.sub("", text)


def test_plain_progress_lines_when_not_a_terminal(one_document, tmp_path):
    sources, data = one_document
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    res = subprocess.run(
        _ingest_args(sources, data), capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "\x1b[" not in res.stderr and "\x1b[" not in res.stdout
    progress = [line for line in res.stderr.splitlines() if STAMP.match(line)]
    text = "\n".join(line[26:] for line in progress)
    assert f"crawl {YICHUAN} (region 1/1)" in text
    assert re.search(r"1 partition to process, \d+ pages to extract", text)
    assert f"partition 2024|{YICHUAN} (1/1): extract → load, 1 document" in text
    assert f"partition 2024|{YICHUAN}: extracting {SEED} (" in text
    assert re.search(
        rf"partition 2024\|{YICHUAN}: done in [\d.]+ s; 1/1 partitions, (\d+)/\1 pages, "
        r"[\d.]+ pages/s, ETA 0:00",
        text,
    ), text
    # the summary is on stdout, apart from the progress
    assert "documents by status: loaded 1" in res.stdout and not STAMP.search(res.stdout)
