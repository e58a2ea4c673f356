"""The bundled corpora: which documents exist, with which variants.

``corpus_specs(name)`` lists the :class:`DocSpec` s; ``build_corpus(name)``
turns them into :class:`Document` s (the seed is the real 2024
伊川县政务服务中心 document) with year-over-year figures linked.

Corpora: ``small`` and ``full`` are drawn by the reportlab producer
(``render.py``); ``xlsx`` by the second producer (``xlsx.py``: a workbook per
document, exported to PDF by LibreOffice), with the seed in its published
layout; ``both`` is ``full`` + ``xlsx``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assets.records import TABLE_GPB_EXPENDITURE, TABLE_SOE_CAPITAL

from .model import WAN, DocSpec, Document, _rng, generate_document, seed_document

SEED = "seed"

#: variant tags recorded in the ground truth (``variants``), and what they mean
VARIANTS = {
    "seed": "the real 2024 伊川县政务服务中心 document, real figures",
    "codes_split": "功能分类 code in three columns 类|款|项 (default)",
    "codes_joined": "code in one column, e.g. 2010306",
    "codes_tree": "类 and 款 subtotal rows (3/5-digit codes) between the 项 rows",
    "multi_unit": "several 单位 (unit subtotal rows 112001, 112002 …) in one document",
    "title_total": "titles say 预算总表 instead of 预算表",
    "title_numbered": "titles numbered, without the year: 表5 一般公共预算支出预算表",
    "title_no_year": "titles without the year",
    "unit_yuan": "tables in 元 with thousands separators (11,203,000.00); the narrative stays in 万元",
    "zero_blank": "zero printed as an empty cell (default)",
    "zero_zero": "zero printed as 0.00",
    "zero_dash": "zero printed as -",
    "zero_emdash": "zero printed as —",
    "multipage_repeat_header": "long tables over several pages, header repeated on each",
    "multipage_no_header": "long tables over several pages, header only on the first",
    "wrapped_names": "narrow name column: long names wrap inside their cell",
    "fullwidth": "full-width digits and brackets in names (２０２４年…)",
    "landscape_wide": "wide tables on landscape pages, others portrait (default)",
    "portrait": "every page portrait (wide tables squeezed, smaller type)",
    "landscape": "every table page landscape",
    "scanned": "image-only PDF: every page a grey 80 dpi raster, no text layer",
    "cid_font": "the fonts' /ToUnicode maps are hidden: Chinese extracts as (cid:N) or junk",
    "final_accounts": "a 部门决算 document: the pipeline must skip it (no tables in the truth)",
}
#: layout variants only the xlsx producer draws (``xlsx.py``); the shared ones above apply to it too
XLSX_VARIANTS = {
    "codes_merged": "split 类|款|项 columns, the 类 and 款 cells merged down their group (printed once per group)",
    "codes_own_level": "类/款 subtotal rows, every row printing only its own level (201 / 03 / 06)",
    "header_codes_low": "科目编码 over two header rows, 类|款|项 on the third",
    "multipage_repeat_title": "long tables: title, 部门名称 line and header repeated on every page (print titles)",
    "no_unit_code": "function tables without the 单位代码 column (科目名称; unit rows by name only)",
    "project_single": "项目支出 as one column, not split into 其他运转类 / 特定目标类",
    "header_synonyms": "header words 人员支出 / 日常公用支出, 合计 for the 小计 of 基本支出 and 项目支出",
    "column_numbers": "a 栏次 row under the header numbering the amount columns 1 2 3 …",
    "wan_separators": "万元 amounts with thousands separators (1,145.25)",
    "amounts_wrapped": "amounts as text in narrow columns: long ones wrap inside their cell",
}
#: variants the xlsx producer does not draw (they are about the PDF file, not the layout)
XLSX_UNSUPPORTED = {"scanned", "cid_font"}
DEFECTS = {
    "wrong_total": "the 合计 row's 合计 of the 一般公共预算支出预算表 is printed 1.00 万元 (123.45 元) too high; "
    "see tables.gpb_expenditure.defect_detail",
}


@dataclass(frozen=True)
class County:
    slug: str
    region_code: str
    region_name: str
    encoding: str = "utf-8"


COUNTIES = {
    "410329": County("yichuan", "410329", "伊川县"),
    "410323": County("xinan", "410323", "新安县", encoding="gbk"),
    "410324": County("luanchuan", "410324", "栾川县"),
    "410308": County("mengjin", "410308", "孟津区"),
}

YC, XA, LC, MJ = "410329", "410323", "410324", "410308"
_NAMES = {c: COUNTIES[c].region_name for c in COUNTIES}


def doc_spec(region: str, dept: str, code: str, year: int, profile: str, *variants: str, **kw) -> DocSpec:
    """A document of a county's department (its name prefixed with the county's) with its layout variants."""
    return DocSpec(
        region_code=region,
        region_name=_NAMES[region],
        department=f"{_NAMES[region]}{dept}",
        unit_code=code,
        fiscal_year=year,
        profile=profile,
        variants=list(variants),
        **kw,
    )


_s = doc_spec  # the short name the corpus lists below are written with


AGRI_UNITS = ["伊川县农业农村局机关", "伊川县农业技术推广中心", "伊川县动物疫病预防控制中心", "伊川县农村经营管理站"]
EDU_UNITS_YC = [
    "伊川县教育局机关",
    "伊川县第一高级中学",
    "伊川县实验小学",
    "伊川县城关镇中心幼儿园",
    "伊川县教育技术装备中心",
    "伊川县招生办公室",
]
EDU_UNITS_MJ = ["孟津区教育局机关", "孟津区第一高级中学", "孟津区实验小学", "孟津区实验幼儿园", "孟津区教师进修学校"]


def _x(region: str, dept: str, code: str, year: int, profile: str, *variants: str, **kw) -> DocSpec:
    return _s(region, dept, code, year, profile, *variants, producer="xlsx", **kw)


SEED_XLSX = "seed_xlsx"
#: the seed as its published PDF prints it: 科目编码 over two header rows in the 一般公共预算支出预算表
#: and the 国有资本经营支出预算表, over one in the other function tables
SEED_XLSX_LAYOUT = {"header_codes_low": [TABLE_GPB_EXPENDITURE, TABLE_SOE_CAPITAL]}


def xlsx_specs() -> list[DocSpec | str]:
    """The xlsx producer's documents: the seed in its published layout, documents of the full corpus
    with their variants, and the spreadsheet-only layouts."""
    return [
        SEED_XLSX,
        _x(YC, "政务服务中心", "106", 2023, "gov_service", "column_numbers", target_total=114_601 * 10_000),
        _x(
            YC,
            "农业农村局",
            "112",
            2023,
            "agriculture",
            "unit_yuan",
            "project_single",
            "amounts_wrapped",
            attachment_name="opaque",
            sub_units=AGRI_UNITS,
        ),
        _x(YC, "农业农村局", "112", 2024, "agriculture", "codes_tree", "multipage_repeat_title", sub_units=AGRI_UNITS),
        _x(XA, "教育局", "203", 2024, "education", "codes_joined", "zero_dash", "title_numbered", scale=1.5),
        _x(XA, "文化广电和旅游局", "208", 2024, "culture", "title_total", "zero_zero", defects=["wrong_total"]),
        _x(YC, "政务服务中心", "106", 2023, "gov_service", doc_type="final_accounts"),
        _x(
            YC,
            "教育局",
            "203",
            2024,
            "education",
            "codes_merged",
            "multipage_no_header",
            scale=1.2,
            sub_units=EDU_UNITS_YC,
        ),
        _x(
            MJ,
            "教育局",
            "203",
            2024,
            "education",
            "codes_tree",
            "codes_own_level",
            "multipage_repeat_header",
            sub_units=EDU_UNITS_MJ,
        ),
        _x(LC, "农业农村局", "112", 2024, "agriculture", "header_codes_low", "wrapped_names", "no_unit_code"),
        _x(YC, "城市管理局", "125", 2023, "urban", "zero_emdash", "unit_yuan", "codes_merged"),
        _x(LC, "统计局", "131", 2023, "statistics", "zero_dash", "portrait", "project_single", "header_synonyms"),
        _x(YC, "统计局", "131", 2025, "statistics", "landscape", "no_unit_code"),
        _x(YC, "城市管理局", "125", 2024, "urban", "wrapped_names", "title_no_year", "fullwidth", "wan_separators"),
        _x(XA, "生态环境分局", "140", 2024, "environment", "codes_tree", "codes_merged", "zero_zero"),
        _x(
            MJ,
            "政务服务中心",
            "106",
            2024,
            "gov_service",
            "codes_merged",
            "header_codes_low",
            "unit_yuan",
            "multipage_repeat_header",
            sub_units=["孟津区政务服务中心", "孟津区大数据服务中心", "孟津区公共资源交易中心"],
        ),
    ]


def seed_xlsx_document() -> Document:
    """The seed drawn by the xlsx producer in its published layout."""
    doc = seed_document()
    doc.doc_id += "-xlsx"
    doc.producer = "xlsx"
    doc.table_layout = {k: list(v) for k, v in SEED_XLSX_LAYOUT.items()}
    doc.variants += sorted(SEED_XLSX_LAYOUT)
    return doc


def corpus_specs(name: str = "small") -> list[DocSpec | str]:
    if name == "xlsx":
        return xlsx_specs()
    if name == "both":
        return corpus_specs("full") + xlsx_specs()
    small: list[DocSpec | str] = [
        SEED,
        _s(YC, "政务服务中心", "106", 2023, "gov_service", target_total=114_601 * 10_000),
        _s(YC, "农业农村局", "112", 2023, "agriculture", "unit_yuan", attachment_name="opaque", sub_units=AGRI_UNITS),
        _s(YC, "农业农村局", "112", 2024, "agriculture", "codes_tree", "multipage_repeat_header", sub_units=AGRI_UNITS),
        _s(XA, "教育局", "203", 2024, "education", "codes_joined", "zero_dash", "title_numbered", scale=1.5),
        _s(
            XA,
            "文化广电和旅游局",
            "208",
            2024,
            "culture",
            "title_total",
            "zero_zero",
            defects=["wrong_total"],
            attachment_name="opaque",
        ),
        _s(YC, "政务服务中心", "106", 2023, "gov_service", doc_type="final_accounts"),
    ]
    if name == "small":
        return small
    if name != "full":
        raise ValueError(f"unknown corpus {name!r} (small|full|xlsx|both)")
    return small + [
        _s(YC, "政务服务中心", "106", 2022, "gov_service", "zero_emdash"),
        _s(YC, "政务服务中心", "106", 2025, "gov_service", "title_no_year"),
        _s(YC, "农业农村局", "112", 2022, "agriculture", "fullwidth"),
        _s(YC, "农业农村局", "112", 2025, "agriculture", "codes_joined", "codes_tree", sub_units=AGRI_UNITS),
        _s(YC, "教育局", "203", 2024, "education", "multipage_no_header", scale=1.2, sub_units=EDU_UNITS_YC),
        _s(YC, "统计局", "131", 2024, "statistics", "portrait"),
        _s(YC, "统计局", "131", 2025, "statistics", "landscape", attachment_name="opaque"),
        _s(YC, "实验幼儿园", "203013", 2024, "kindergarten", "scanned"),
        _s(YC, "城市管理局", "125", 2024, "urban", "wrapped_names", "title_no_year", "fullwidth"),
        _s(YC, "城市管理局", "125", 2023, "urban", "zero_emdash", "unit_yuan"),
        _s(XA, "教育局", "203", 2023, "education", "unit_yuan", "codes_joined", scale=1.5),
        _s(XA, "教育局", "203", 2025, "education", "codes_joined", "codes_tree", scale=1.5),
        _s(XA, "文化广电和旅游局", "208", 2023, "culture", "title_total"),
        _s(XA, "人力资源和社会保障局", "116", 2024, "hrss", "cid_font"),
        _s(XA, "人力资源和社会保障局", "116", 2022, "hrss", "scanned"),
        _s(XA, "生态环境分局", "140", 2024, "environment", "codes_tree", "zero_zero"),
        _s(LC, "人力资源和社会保障局", "116", 2024, "hrss", "title_numbered", attachment_name="opaque"),
        _s(LC, "人力资源和社会保障局", "116", 2025, "hrss"),
        _s(LC, "城市管理局", "125", 2024, "urban", "unit_yuan", defects=["wrong_total"]),
        _s(LC, "统计局", "131", 2023, "statistics", "zero_dash", "portrait"),
        _s(LC, "农业农村局", "112", 2024, "agriculture", "wrapped_names"),
        _s(LC, "农业农村局", "112", 2023, "agriculture", doc_type="final_accounts"),
        _s(MJ, "教育局", "203", 2024, "education", "codes_tree", "multipage_repeat_header", sub_units=EDU_UNITS_MJ),
        _s(MJ, "文化广电和旅游局", "208", 2025, "culture", "title_numbered", "portrait"),
        _s(MJ, "统计局", "131", 2022, "statistics", "zero_emdash", "fullwidth"),
        _s(
            MJ,
            "政务服务中心",
            "106",
            2024,
            "gov_service",
            "multipage_no_header",
            "codes_tree",
            sub_units=["孟津区政务服务中心", "孟津区大数据服务中心", "孟津区公共资源交易中心"],
        ),
    ]


def finish_document(doc: Document, spec: DocSpec | None) -> Document:
    """Variant tags every document carries, dates and attachment names."""
    v = doc.variants

    def tag(t: str) -> None:
        if t not in v:
            v.append(t)

    if "codes_joined" not in v:
        tag("codes_split")
    if not any(t in v for t in ("zero_zero", "zero_dash", "zero_emdash")):
        tag("zero_blank")
    if not any(t in v for t in ("portrait", "landscape")):
        tag("landscape_wide")
    if doc.doc_type == "final_accounts":
        tag("final_accounts")
    if doc.unit == "元":
        tag("unit_yuan")
    if len(doc.units) > 1:
        tag("multi_unit")
    r = _rng("publish", doc.doc_id)
    if not doc.published:
        if doc.doc_type == "final_accounts":
            doc.published = f"{doc.fiscal_year + 1}-08-{r.randint(10, 28):02d}"
        else:
            doc.published = f"{doc.fiscal_year}-0{r.randint(2, 3)}-{r.randint(10, 28):02d}"
    if not doc.attachment_name or doc.attachment_name == "opaque":
        if doc.attachment_name == "opaque":
            doc.attachment_name = f"P0{doc.published.replace('-', '')}{r.randint(0, 999999):06d}.pdf"
        elif r.random() < 0.5:
            doc.attachment_name = f"{doc.title}.pdf"
        else:
            kind = "决算" if doc.doc_type == "final_accounts" else "预算"
            doc.attachment_name = f"{doc.department}{doc.fiscal_year}年部门{kind}公开.pdf"
    return doc


def folder_sources(folders: Path, regions: list[str], path: Path | None = None) -> Path:
    """A sources file with one ``folder:`` source per region, each reading ``folders/<region code>``
    (``path``: where to write it, default ``folders/sources.yaml``)."""
    path = path or folders / "sources.yaml"
    lines = ["sources:"]
    for region in regions:
        lines += [
            f'  - region_code: "{region}"',
            f"    region_name: {COUNTIES[region].region_name}",
            f"    folder: {folders / region}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def build_corpus(name: str = "small") -> list[Document]:
    if name == "both":  # each producer's documents link their own previous years
        return build_corpus("full") + build_corpus("xlsx")
    specs = corpus_specs(name)
    seeds = {SEED: seed_document, SEED_XLSX: seed_xlsx_document}

    # generate in year order so a document can quote its predecessor's total
    def is_seed(spec: DocSpec | str) -> bool:
        return isinstance(spec, str)

    order = sorted(range(len(specs)), key=lambda i: (2024 if is_seed(specs[i]) else specs[i].fiscal_year, i))
    totals: dict[tuple[str, str, int], int] = {}
    docs: dict[int, Document] = {}
    for i in order:
        spec = specs[i]
        if is_seed(spec):
            doc = seeds[spec]()
            # the corpus' own 2023 document must carry the seed's previous-year total
            assert totals.get((doc.region_code, doc.department, 2023), doc.prev_total) == doc.prev_total
        else:
            prev = totals.get((spec.region_code, spec.department, spec.fiscal_year - 1))
            doc = generate_document(spec, prev_total=prev if spec.doc_type == "budget" else None)
        if doc.doc_type == "budget":
            totals[(doc.region_code, doc.department, doc.fiscal_year)] = doc.total
        docs[i] = finish_document(doc, None if is_seed(spec) else spec)
    return [docs[i] for i in range(len(specs))]


__all__ = [
    "COUNTIES",
    "DEFECTS",
    "VARIANTS",
    "XLSX_VARIANTS",
    "County",
    "build_corpus",
    "corpus_specs",
    "seed_xlsx_document",
    "WAN",
]
