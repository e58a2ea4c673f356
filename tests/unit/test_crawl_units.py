"""Pure parts of the crawl stage: sources file, raw store, detection, HTML decoding and links."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from assets.crawl import detect as d
from assets.crawl.htmlpage import decode_html, file_name, link_kind, normalize_url, parse_page
from assets.crawl.raw_store import RawStore, sniff_extension
from assets.crawl.sources import SourceConfig, SourcesError, load_sources
from assets.records import DOC_BUDGET, DOC_FINAL_ACCOUNTS, DOC_OTHER
from tests.support.crawl import budget_pdf, make_pdf

# ---------------------------------------------------------------------------
# sources


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "sources.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_load_sources(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        """
sources:
  - region_code: "410329"
    region_name: 伊川县
    start_urls: [https://www.yichuan.gov.cn/zwgk/bmys/index.html]
    allowed_hosts: [Files.Yichuan.gov.cn]
    max_pages: 50
  - region_code: 410300
    region_name: 洛阳市
    folder: mirror/luoyang
    respect_robots: false
""",
    )
    a, b = load_sources(p)
    assert a == SourceConfig(
        "410329", "伊川县", ["https://www.yichuan.gov.cn/zwgk/bmys/index.html"], ["files.yichuan.gov.cn"], max_pages=50
    )
    assert a.hosts() == {"www.yichuan.gov.cn", "files.yichuan.gov.cn"}
    assert b.region_code == "410300" and b.folder == str(tmp_path / "mirror/luoyang") and not b.respect_robots


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources: [", "invalid YAML"),
        ("other: 1", "top-level key 'sources:'"),
        ("sources: []", "non-empty list"),
        (
            "sources:\n  - region_name: 伊川县\n    start_urls: [http://a.cn/]",
            "sources[0] (伊川县): missing field 'region_code'",
        ),
        (
            "sources:\n  - region_code: '41032'\n    region_name: 伊川县\n    start_urls: [http://a.cn/]",
            "sources[0] (伊川县): bad region_code '41032'",
        ),
        (
            "sources:\n  - region_code: 'abcdef'\n    region_name: X\n    start_urls: [http://a.cn/]",
            "bad region_code 'abcdef'",
        ),
        (
            "sources:\n  - region_code: '410329'\n    start_urls: [http://a.cn/]",
            "sources[0] (410329): missing field 'region_name'",
        ),
        ("sources:\n  - region_code: '410329'\n    region_name: 伊川县", "needs 'start_urls' or 'folder'"),
        (
            "sources:\n  - region_code: '410329'\n    region_name: 伊川县\n    start_urls: [ftp://a.cn/]",
            "bad start URL",
        ),
        (
            "sources:\n  - region_code: '410329'\n    region_name: 伊川县\n    folder: /x\n    max_pages: -1",
            "'max_pages'",
        ),
        (
            "sources:\n  - region_code: '410329'\n    region_name: 伊川县\n    folder: /x\n    start_url: y",
            "unknown key(s): start_url",
        ),
    ],
)
def test_bad_sources(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SourcesError, match=None) as info:
        load_sources(_write(tmp_path, text))
    assert message in str(info.value)


def test_missing_sources_file(tmp_path: Path) -> None:
    with pytest.raises(SourcesError, match="sources file not found"):
        load_sources(tmp_path / "nope.yaml")


# ---------------------------------------------------------------------------
# raw store


def test_raw_store(tmp_path: Path) -> None:
    store = RawStore(tmp_path)
    pdf = b"%PDF-1.7\n...\n%%EOF\n"
    sha, path, new = store.put(pdf)
    assert new and path == tmp_path / sha[:2] / f"{sha}.pdf" and path.read_bytes() == pdf
    assert store.put(pdf) == (sha, path, False)
    assert store.exists(sha) and store.path(sha) == path and store.open(sha).read() == pdf
    html_sha, html_path, _ = store.put(b"<!DOCTYPE html><html></html>")
    bin_sha, bin_path, _ = store.put(b"\xd0\xcf\x11\xe0")
    assert html_path.suffix == ".html" and bin_path.suffix == ".bin"
    assert not store.exists("0" * 64)
    with pytest.raises(FileNotFoundError):
        store.path("0" * 64)
    with pytest.raises(ValueError):
        store.path("../etc/passwd")
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert os.stat(path).st_mode & 0o222 == 0  # read-only: never overwritten in place
    assert sniff_extension(b"  \n%PDF-1.4") == ".pdf"


def test_raw_store_concurrent_puts(tmp_path: Path) -> None:
    store = RawStore(tmp_path)
    results = []
    body = b"%PDF-1.4 same\n%%EOF"

    def put() -> None:
        results.append(store.put(body))

    threads = [threading.Thread(target=put) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r[2] for r in results) == 1 and len({r[1] for r in results}) == 1
    assert len(list(tmp_path.rglob("*.pdf"))) == 1


# ---------------------------------------------------------------------------
# detection


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("2024年洛阳市伊川县政务服务中心部门预算", 2024),
        ("2025年区级部门预算", 2025),
        ("25年预算.pdf", 2025),
        ("伊川县教育局2024年度部门预算公开", 2024),
        ("二〇二四年伊川县财政局部门预算", 2024),
        ("2024年部门预算 2023年12月", 2024),  # a date is not the fiscal year
        ("2024部门预算", 2024),
        ("P020240315123456.pdf", None),  # digits inside an opaque name
        ("2023年预算执行情况和2024年预算草案", None),  # ambiguous
        ("部门预算", None),
        ("关于2023年决算和2024年工作安排", 2023),
    ],
)
def test_year_from_text(text: str, year: int | None) -> None:
    assert d.year_from_text(text) == year


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("2024年部门预算", DOC_BUDGET),
        ("单位预算公开", DOC_BUDGET),
        ("2023年度部门决算", DOC_FINAL_ACCOUNTS),
        ("预决算公开 伊川县教育局2024年部门预算", DOC_BUDGET),
        ("一般公共预算财政拨款支出决算表", DOC_FINAL_ACCOUNTS),
        ("关于召开全县工作会议的通知", None),
    ],
)
def test_classify_text(text: str, kind: str | None) -> None:
    assert d.classify_text(text) == kind


def test_doc_type_content_first() -> None:
    # the PDF's title page beats its link text; with no text layer, the link and article decide
    assert d.detect_doc_type("2023年伊川县民政局部门决算", anchor="2024年部门预算") == DOC_FINAL_ACCOUNTS
    assert (
        d.detect_doc_type("", anchor="附件1", file_name="P0203.pdf", article_title="伊川县教育局2024年部门预算")
        == DOC_BUDGET
    )
    assert d.detect_doc_type("会议纪要", anchor="附件", file_name="x.pdf", article_title="通知") == DOC_OTHER


@pytest.mark.parametrize(
    ("text", "dept"),
    [
        ("部门名称：伊川县政务服务中心    单位：万元", "伊川县政务服务中心"),
        ("部门名称：伊川县政务服务中心单位：万元", "伊川县政务服务中心"),
        ("预算主管部门：伊川县教育局\n", "伊川县教育局"),
        ("编制部门：伊川县水利局  金额单位：元", "伊川县水利局"),
        ("部门：伊川县民政局", "伊川县民政局"),
        ("编制单位：（盖章）\n部门：伊川县水利局 ", "伊川县水利局"),
        ("单位：万元", None),
    ],
)
def test_department_from_header(text: str, dept: str | None) -> None:
    assert d.department_from_header(text) == dept


@pytest.mark.parametrize(
    ("text", "dept"),
    [
        ("2024年洛阳市伊川县政务服务中心部门预算", "伊川县政务服务中心"),
        ("伊川县教育局2024年度部门预算公开", "伊川县教育局"),
        ("附件1：伊川县财政局2024年部门预算.pdf", "伊川县财政局"),
        ("2024年伊川县教育局（本级）部门预算", "伊川县教育局（本级）"),
        ("洛阳市城市管理局2024年部门预算", "洛阳市城市管理局"),
        ("2025年区级部门预算", None),
        ("关于2024年部门预算的说明", None),
        ("P020240315123456.pdf", None),
    ],
)
def test_department_from_title(text: str, dept: str | None) -> None:
    assert d.department_from_title(text, "伊川县") == dept


def test_department_from_wrapped_title_page() -> None:
    page = "2024年\n洛阳市伊川县政务服务中心\n部门预算\n二〇二四年一月"
    assert d.detect_department(page, region_name="伊川县") == "伊川县政务服务中心"
    assert d.detect_year(page) == 2024


def test_pdf_checks_and_detect() -> None:
    pdf = budget_pdf()
    head = d.read_pdf_head(pdf)
    assert head.page_count == 2 and "部门预算" in head.first_page
    det = d.detect(head, anchor="附件1", file_name="P020240315123456.pdf", region_name="伊川县")
    assert (det.doc_type, det.year, det.department, det.page_count) == (DOC_BUDGET, 2024, "伊川县政务服务中心", 2)
    assert d.check_pdf(pdf, "application/pdf") is None
    assert (
        d.check_pdf(b"<html><body>err</body></html>", "application/pdf; charset=utf-8")
        == "not a PDF: HTML page served as application/pdf"
    )
    assert d.check_pdf(b"PK\x03\x04", "application/pdf").startswith("not a PDF: body does not start with %PDF")
    assert d.check_pdf(pdf[:-200], None).startswith("corrupt PDF: truncated")
    with pytest.raises(d.PdfError, match="corrupt PDF"):
        d.read_pdf_head(b"%PDF-1.4\ngarbage\n%%EOF\n")
    scanned_like = make_pdf([[""]])
    det2 = d.detect(d.read_pdf_head(scanned_like), anchor="附件", article_title="伊川县教育局2024年部门预算")
    assert (det2.doc_type, det2.year, det2.department) == (DOC_BUDGET, 2024, "伊川县教育局")


# ---------------------------------------------------------------------------
# HTML


def test_decode_html() -> None:
    text = "<html><head><meta charset='gb2312'></head><body>部门预算</body></html>"
    assert decode_html(text.encode("gbk")) == (text, "gb18030")
    plain = "<html><body>部门预算</body></html>"
    assert decode_html(plain.encode("gbk"))[0] == plain  # undeclared: utf-8 fails strictly → gb18030
    assert decode_html(plain.encode("gbk"), "text/html; charset=GBK")[1] == "gb18030"
    assert decode_html(plain.encode("utf-8"), "text/html; charset=utf-8")[1] == "utf-8"
    # a wrong server-wide header (utf-8) on a GBK page
    assert decode_html(plain.encode("gbk"), "text/html; charset=utf-8")[0] == plain
    assert decode_html(b"\xef\xbb\xbf" + plain.encode())[0] == plain
    # a copied gb2312 meta on a UTF-8 page
    wrong_meta = "<html><head><meta charset='gb2312'></head><body>部门预算</body></html>"
    assert decode_html(wrong_meta.encode("utf-8")) == (wrong_meta, "utf-8")
    big5 = "<html><head><meta charset='big5'></head><body>部門預算</body></html>"
    assert decode_html(big5.encode("big5"))[0] == big5


def test_links_and_names() -> None:
    html = (
        '<html><head><base href="http://a.gov.cn/zwgk/"><meta '
        'name="ArticleTitle" content="伊川县教育局2024年部门预算"></head><body>'
        '<a href="bmys/%E9%A2%84%E7%AE%97.pdf">预算</a><a href="bmys/预算.pdf">预算二</a>'
        '<a href="javascript:void(0)">x</a><a href="#top">top</a>'
        '<a href="/download.jsp?filename=%D4%A4%CB%E3.pdf">GBK名</a>'
        '<iframe src="/pdfjs/web/viewer.html?file=/u/a.pdf"></iframe>'
        '<a href="index_1.html">下一页</a><a href="/index.html">首页</a>'
        '<a href="t1.html" title="伊川县政务服务中心2024年部门预算公开">伊川县政务服务中心2024年…</a></body></html>'
    ).encode()
    page = parse_page(html, "http://a.gov.cn/zwgk/bmys/index.html")
    assert page.title == "伊川县教育局2024年部门预算"
    urls = [link.url for link in page.links]
    assert urls.count("http://a.gov.cn/zwgk/bmys/%E9%A2%84%E7%AE%97.pdf") == 2  # same URL, two anchors
    assert "http://a.gov.cn/u/a.pdf" in urls
    assert not [u for u in urls if "javascript" in u or "#" in u]
    assert page.pagination == ["http://a.gov.cn/zwgk/index_1.html"]
    assert [link.text for link in page.links if link.url.endswith("t1.html")] == [
        "伊川县政务服务中心2024年部门预算公开"
    ]
    assert file_name("http://a.gov.cn/download.jsp?filename=%D4%A4%CB%E3.pdf") == "预算.pdf"
    assert file_name("http://a.gov.cn/a/%E9%A2%84%E7%AE%97.pdf") == "预算.pdf"
    assert link_kind("http://a.gov.cn/download.jsp?filename=%D4%A4%CB%E3.pdf") == "pdf"
    assert link_kind("http://a.gov.cn/a/b.DOCX") == "attachment"
    assert link_kind("http://a.gov.cn/a/b.jpg") == "ignore"
    assert link_kind("http://a.gov.cn/a/t2024_1.html") == "page"
    assert normalize_url("HTTP://A.gov.cn/附件/x.pdf#p=2") == "http://a.gov.cn/%E9%99%84%E4%BB%B6/x.pdf"
