"""A small static 政务公开 portal serving a generated corpus.

Layout of ``out``::

    sources.yaml                         the product's source list (start_urls)
    truth/index.json                     every document: url, pdf path, truth path
    <county>/index.html, index_1.html …  list pages, 5 items each, "下一页" links
    <county>/art/<id>.html               article pages linking their attachment(s)
    <county>/files/<name>.pdf            the PDFs …
    <county>/files/<stem>.truth.json     … with their ground truth next to them
    <county>/files/xlsx/<name>.pdf       the xlsx producer's PDFs (with their .xlsx and truth),
                                         corpora ``xlsx`` and ``both``
"""

from __future__ import annotations

import html
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pypdfium2 as pdfium

from .corpus import COUNTIES, build_corpus
from .model import Document, _rng
from .render import render_pdf
from .tables import build_tables
from .truth import document_truth, write_truth

DEFAULT_BASE_URL = "http://127.0.0.1:8765"


@dataclass
class Item:
    title: str
    date: str
    art_id: str
    body: list[str]  # paragraphs (already HTML)
    links: list[tuple[str, str]] = field(default_factory=list)  # (href relative to art/, text)
    doc: Document | None = None
    kind: str = "doc"  # doc | news | doc_attachment | broken


def _art_id(*parts: object) -> str:
    return str(_rng("art", *parts).randint(10_000_000, 99_999_999))


def _page(county_name: str, title: str, body: str, encoding: str) -> bytes:
    charset = "gbk" if encoding == "gbk" else "utf-8"
    s = (
        f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="{charset}">\n'
        f"<title>{html.escape(title)} - {county_name}人民政府</title>\n</head>\n<body>\n"
        f'<div class="header">{county_name}人民政府 · 政府信息公开 · 财政预决算</div>\n'
        f"{body}\n"
        f'<div class="footer">主办：{county_name}人民政府办公室</div>\n</body>\n</html>\n'
    )
    return s.encode(encoding, errors="xmlcharrefreplace")


def _noise_items(county, year_span: list[int]) -> list[Item]:
    n = county.region_name
    y = max(year_span)
    return [
        Item(
            f"{n}召开{y}年财政预算编制工作会议",
            f"{y - 1}-11-20",
            _art_id(county.slug, "news"),
            [f"近日，{n}召开{y}年财政预算编制工作会议，安排部署部门预算编制工作。"],
            kind="news",
        ),
        Item(
            f"关于做好{y}年部门预算公开工作的通知",
            f"{y}-02-05",
            _art_id(county.slug, "doc"),
            ["各乡镇、县直各单位：现将有关事项通知如下，详见附件。"],
            links=[
                (
                    "../files/" + quote(f"关于做好{y}年部门预算公开工作的通知.doc"),
                    f"关于做好{y}年部门预算公开工作的通知.doc",
                )
            ],
            kind="doc_attachment",
        ),
        Item(
            f"{n}卫生健康委员会{y}年部门预算公开",
            f"{y}-03-29",
            _art_id(county.slug, "broken"),
            ["根据预算公开有关规定，现将本部门预算公开如下。"],
            links=[("../files/P0" + f"{y}0329" + "000000.pdf", f"{n}卫生健康委员会{y}年部门预算.pdf")],
            kind="broken",
        ),
    ]


def _fake_doc(text: str) -> bytes:
    """A small stand-in for a Word 97 file: the OLE2 signature and some text."""
    return bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 504 + text.encode("utf-16-le")


def build_portal(out: str | Path, base_url: str = DEFAULT_BASE_URL, corpus: str = "small", clean: bool = True) -> dict:
    """Render the corpus and write the portal under ``out``; return the truth index."""
    out = Path(out)
    if clean and out.exists():
        for c in COUNTIES.values():
            shutil.rmtree(out / c.slug, ignore_errors=True)
        shutil.rmtree(out / "truth", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    base_url = base_url.rstrip("/")
    docs = build_corpus(corpus)
    office = [d for d in docs if d.producer == "xlsx"]
    if office:  # every workbook converted in a few LibreOffice starts (cached by content)
        from .xlsx import convert_documents, xlsx_tables

        office_tables = {d.doc_id: xlsx_tables(d) for d in office}
        convert_documents(office, office_tables)
    index: list[dict] = []
    by_county: dict[str, list[Item]] = {}
    for doc in docs:
        county = COUNTIES[doc.region_code]
        sub = "" if doc.producer == "reportlab" else f"{doc.producer}/"
        files = out / county.slug / "files" / sub
        pdf = files / doc.attachment_name
        if doc.producer == "xlsx":
            from .xlsx import render_xlsx_pdf

            tables = office_tables[doc.doc_id]
            pages = render_xlsx_pdf(doc, pdf, tables, xlsx_path=pdf.with_suffix(".xlsx"))
        else:
            tables = build_tables(doc)
            pages = render_pdf(doc, pdf, tables)
        n_pages = len(pdfium.PdfDocument(str(pdf)))
        truth = document_truth(
            doc, tables, pages, file=f"{county.slug}/files/{sub}{doc.attachment_name}", page_count=n_pages
        )
        truth_path = pdf.with_name(pdf.stem + ".truth.json")
        write_truth(truth, truth_path)
        kind = "决算" if doc.doc_type == "final_accounts" else "预算"
        item = Item(
            f"{doc.department}{doc.fiscal_year}年部门{kind}公开",
            doc.published,
            _art_id(doc.doc_id),
            [
                f"根据《中华人民共和国预算法》和《河南省预决算公开操作规程》等规定，现将{doc.department}"
                f"{doc.fiscal_year}年部门{kind}予以公开。"
            ],
            links=[("../files/" + quote(sub + doc.attachment_name), doc.attachment_name)],
            doc=doc,
        )
        by_county.setdefault(county.region_code, []).append(item)
        index.append(
            {
                "doc_id": doc.doc_id,
                "region_code": doc.region_code,
                "fiscal_year": doc.fiscal_year,
                "department": doc.department,
                "doc_type": doc.doc_type,
                "variants": truth["variants"],
                "defects": doc.defects,
                "producer": doc.producer,
                "url": f"{base_url}/{county.slug}/files/{quote(sub + doc.attachment_name)}",
                "article_url": f"{base_url}/{county.slug}/art/{item.art_id}.html",
                "pdf": truth["file"],
                "truth": f"{county.slug}/files/{sub}{truth_path.name}",
            }
        )
    sources = []
    for code, items in by_county.items():
        county = COUNTIES[code]
        years = [i.doc.fiscal_year for i in items if i.doc]
        items = items + _noise_items(county, years)
        items.sort(key=lambda i: (i.date, i.art_id), reverse=True)
        _write_county(out, county, items)
        sources.append(county)
    _write_sources(out, sources, base_url)
    (out / "truth").mkdir(exist_ok=True)
    (out / "truth" / "index.json").write_text(
        json.dumps({"corpus": corpus, "base_url": base_url, "documents": index}, ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8",
    )
    return {"documents": index}


def _write_county(out: Path, county, items: list[Item]) -> None:
    root = out / county.slug
    (root / "art").mkdir(parents=True, exist_ok=True)
    (root / "files").mkdir(parents=True, exist_ok=True)
    name = county.region_name
    for it in items:
        body = [
            f'<h1 class="title">{html.escape(it.title)}</h1>',
            f'<div class="info">发布时间：{it.date}　来源：{name}财政局</div>',
            '<div class="content">',
        ]
        body += [f"<p>{p}</p>" for p in it.body]
        for href, text in it.links:
            body.append(f'<p>附件：<a href="{href}">{html.escape(text)}</a></p>')
        body.append("</div>")
        body.append('<p><a href="../index.html">返回列表</a></p>')
        (root / "art" / f"{it.art_id}.html").write_bytes(_page(name, it.title, "\n".join(body), county.encoding))
        if it.kind == "doc_attachment":
            fn = it.links[0][1]
            (root / "files" / fn).write_bytes(_fake_doc(it.title))
    per = 5
    pages = [items[i : i + per] for i in range(0, len(items), per)]
    for n, chunk in enumerate(pages):
        fname = "index.html" if n == 0 else f"index_{n}.html"
        lis = "\n".join(
            f'<li><a href="art/{it.art_id}.html" title="{html.escape(it.title)}">'
            f'{html.escape(it.title)}</a><span class="date">{it.date}</span></li>'
            for it in chunk
        )
        nav = [f"<span>共{len(items)}条 第{n + 1}/{len(pages)}页</span>"]
        if n > 0:
            prev = "index.html" if n == 1 else f"index_{n - 1}.html"
            nav.append(f'<a href="index.html">首页</a> <a href="{prev}">上一页</a>')
        if n + 1 < len(pages):
            nav.append(f'<a href="index_{n + 1}.html">下一页</a> <a href="index_{len(pages) - 1}.html">尾页</a>')
        body = f'<h2>财政预决算公开</h2>\n<ul class="list">\n{lis}\n</ul>\n<div class="pages">{" ".join(nav)}</div>'
        (root / fname).write_bytes(_page(name, "财政预决算公开", body, county.encoding))


def _write_sources(out: Path, counties, base_url: str) -> None:
    lines = ["sources:"]
    for c in sorted(counties, key=lambda c: c.region_code):
        lines += [
            f'  - region_code: "{c.region_code}"',
            f"    region_name: {c.region_name}",
            f'    start_urls: ["{base_url}/{c.slug}/index.html"]',
        ]
    (out / "sources.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
