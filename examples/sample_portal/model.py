"""Budget *content* model and the deterministic generator.

All amounts are integers in 分 (1/100 元).  Documents printed in 万元 only
hold multiples of 10 000 分 (= 0.01 万元), so every printed sum is exact.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from .catalog import ECON_NAMES, FUNCTION_NAMES, GOV_ECON_NAMES, gov_econ_code

WAN = 1_000_000  # 分 per 万元
Q_WAN = 10_000  # 分 per 0.01 万元


# ---------------------------------------------------------------------------
# content dataclasses
# ---------------------------------------------------------------------------


@dataclass
class FuncRow:
    """One 项 row of the function-classified expenditure tables."""

    code: str  # 7 digits
    name: str
    wages: int = 0  # 工资福利支出
    household: int = 0  # 对个人和家庭的补助
    goods: int = 0  # 商品和服务支出
    capital: int = 0  # 资本性支出
    proj_other: int = 0  # 项目支出 其他运转类
    proj_specific: int = 0  # 项目支出 特定目标类

    @property
    def personnel(self) -> int:
        return self.wages + self.household

    @property
    def public(self) -> int:
        return self.goods + self.capital

    @property
    def basic(self) -> int:
        return self.wages + self.household + self.goods + self.capital

    @property
    def project(self) -> int:
        return self.proj_other + self.proj_specific

    @property
    def total(self) -> int:
        return self.basic + self.project


@dataclass
class Project:
    name: str
    category: str  # 其他运转类 | 特定目标类
    amount: int
    function_code: str
    code: str  # 20-digit project code
    indicators: list[tuple[str, str, str]] = field(default_factory=list)  # (类别, 三级指标, 指标值)


@dataclass
class Unit:
    code: str  # "106" or "203001"
    name: str
    rows: list[FuncRow]
    projects: list[Project] = field(default_factory=list)


@dataclass
class EconRow:
    code: str
    name: str
    gov_code: str
    gov_name: str
    amount: int

    @property
    def personnel(self) -> bool:
        return not (self.code.startswith("302") or self.code.startswith("310"))


@dataclass
class ThreePublic:
    outbound: int = 0
    vehicle_purchase: int = 0
    vehicle_operation: int = 0
    reception: int = 0

    @property
    def vehicle_total(self) -> int:
        return self.vehicle_purchase + self.vehicle_operation

    @property
    def total(self) -> int:
        return self.outbound + self.vehicle_total + self.reception


@dataclass
class Document:
    doc_id: str  # stable slug, e.g. "410329-2024-106"
    region_code: str
    region_name: str  # 伊川县
    prefecture: str  # 洛阳市
    fiscal_year: int
    department: str  # 伊川县政务服务中心
    unit_code: str  # "106"
    unit_kind: str  # "admin" (行政单位) | "institution" (事业单位)
    units: list[Unit]
    econ_rows: list[EconRow]
    three_public: ThreePublic | None  # None → published empty with a note
    doc_type: str = "budget"  # "budget" | "final_accounts"
    unit: str = "万元"  # printed unit of the tables: 万元 | 元
    variants: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    prev_total: int | None = None  # previous year's 收支总计 (分)
    prev_gpb: int | None = None
    duties: list[str] = field(default_factory=list)
    structure: str = ""  # 部门预算单位构成
    annual_goal: str = ""
    narrative_overrides: dict[str, str] = field(default_factory=dict)
    published: str = ""  # YYYY-MM-DD on the portal
    attachment_name: str = ""  # file name on the portal
    vehicles: int = 0
    producer: str = "reportlab"  # how the PDF is made: "reportlab" | "xlsx" (workbook → LibreOffice)
    # layout variants that hold for some tables only: variant tag → table keys (else a tag holds for all)
    table_layout: dict[str, list[str]] = field(default_factory=dict)

    # --- totals -----------------------------------------------------------
    @property
    def rows(self) -> list[FuncRow]:
        return [r for u in self.units for r in u.rows]

    @property
    def projects(self) -> list[Project]:
        return [p for u in self.units for p in u.projects]

    def _sum(self, attr: str) -> int:
        return sum(getattr(r, attr) for r in self.rows)

    @property
    def total(self) -> int:
        return self._sum("total")

    @property
    def basic(self) -> int:
        return self._sum("basic")

    @property
    def project(self) -> int:
        return self._sum("project")

    @property
    def personnel(self) -> int:
        return self._sum("personnel")

    @property
    def public(self) -> int:
        return self._sum("public")

    def class_totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rows:
            out[r.code[:3]] = out.get(r.code[:3], 0) + r.total
        return out

    @property
    def title(self) -> str:
        kind = "部门决算" if self.doc_type == "final_accounts" else "部门预算"
        return f"{self.fiscal_year}年{self.prefecture}{self.department}{kind}"


# ---------------------------------------------------------------------------
# formatting helpers (shared with render/truth)
# ---------------------------------------------------------------------------


def wan_str(fen: int) -> str:
    """分 → 万元 with 2 decimals (rounded half-up), e.g. '1145.25'."""
    d = (Decimal(fen) / Decimal(WAN)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{d:.2f}"


def amount_str(fen: int, unit: str) -> str:
    """The plain value string of an amount in the printed unit (no separators)."""
    if unit == "万元":
        if fen % Q_WAN:
            raise ValueError(f"{fen} 分 is not a multiple of 0.01 万元")
        c = fen // Q_WAN
    else:
        c = fen
    sign = "-" if c < 0 else ""
    c = abs(c)
    return f"{sign}{c // 100}.{c % 100:02d}"


def pct_str(part: int, whole: int) -> str:
    if not whole:
        return "0.00"
    d = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{d:.2f}"


def narrative_num(s: str) -> str:
    """'236.00' → '236', '1145.25' → '1145.25' (as the seed prints them)."""
    return s[:-3] if s.endswith(".00") else s


# ---------------------------------------------------------------------------
# the seed document: 2024 伊川县政务服务中心, real numbers
# ---------------------------------------------------------------------------


def _w(s: str) -> int:
    """'1120.30' 万元 → 分"""
    return int((Decimal(s) * WAN).to_integral_value())


SEED_DUTIES = [
    "贯彻执行政务服务相关的法律、法规;配合做好“放管服”改革、优化营商环境、审批制度改革以及政务服务标准化建设等工作;协助做好全县政务服务工作的业务指导、协调和管理工作。",
    "协助确定进驻县级实体综合性政务服务大厅的单位和事项,配合做好全县政务服务事项目录管理和标准化建设。",
    "承担涉企服务有关工作,负责协调解决企业帮办服务中的各种问题。",
    "制定县级综合性实体政务服务大厅日常管理制度并组织实施,负责大厅窗口和工作人员的日常管理和考核,为进驻的各单位开展工作提供服务。",
    "受理公民、法人及其他组织对进驻工作人员违纪、违规、违诺行为的投诉和处理。",
    "负责大厅突发公共事件的应急管理工作,预防和处置大厅的突发公共事件。",
    "负责做好县级政务服务平台的建设、管理、技术培训等工作,推进实体服务大厅与网上政务服务平台的融合发展;负责市级部署的中介超市的日常运营及服务承接工作。",
    "配合做好全县政务服务“好差评”工作;承担全县审批服务电子监察工作，做好回访、督办、考核、公示等工作。",
    "协助推进全县政务服务体系建设，配合开展政务服务督查考核，指导、规范乡(镇、街道)政务服务大厅和村(社区)便民服务中心建设、环境优化工作。",
    "完成上级交办的其它工作。",
]


def seed_document() -> Document:
    rows = [
        FuncRow("2010306", "政务公开审批", wages=_w("857.75"), goods=_w("26.55"), proj_other=_w("236.00")),
        FuncRow("2080502", "事业单位离退休", household=_w("3.35")),
        FuncRow("2080505", "机关事业单位基本养老保险缴费支出", wages=_w("14.28")),
        FuncRow("2101101", "行政单位医疗", wages=_w("6.62")),
        FuncRow("2101199", "其他行政事业单位医疗支出", wages=_w("0.70")),
    ]
    projects = [
        Project(
            "2024年保安保洁、免费邮寄复印等补充经费",
            "其他运转类",
            _w("207.00"),
            "2010306",
            "41032924000000005208",
            [
                ("产出指标", "保障政务中心正常运转", "正常维护"),
                ("产出指标", "制定工作人员管理制度", "≥31个"),
                ("产出指标", "为群众和企业提供基本证照类材料的免费复印服务", "100%"),
                ("效益指标", "通过实施，提高财务管理水平", "完成要求"),
                ("满意度指标", "增强企业和群众获得感、满意度", "≥99%"),
            ],
        ),
        Project(
            "2024年系统建设与运维",
            "其他运转类",
            _w("29.00"),
            "2010306",
            "41032923000000138701",
            [
                ("成本指标", "严格控制预算成本", "厉行节约"),
                ("产出指标", "16条专线内网", "16条"),
                ("产出指标", "硬件采购（维护）数量", "≥160套"),
                ("效益指标", "群众享受“办理行政许可和公共服务事项”应用支撑大平台的各项便捷服务", "100%"),
                ("满意度指标", "服务对象满意度", "≥98%"),
            ],
        ),
    ]
    econ_seed = [
        ("30107", "50501", "17.60"),
        ("30113", "50103", "71.75"),
        ("30112", "50102", "4.90"),
        ("30110", "50102", "46.43"),
        ("30103", "50101", "0.56"),
        ("30102", "50101", "8.54"),
        ("30108", "50102", "100.39"),
        ("30199", "50199", "570.51"),
        ("30101", "50101", "58.67"),
        ("30228", "50201", "6.66"),
        ("30201", "50201", "10.56"),
        ("30229", "50201", "9.33"),
        ("30301", "50905", "0.60"),
        ("30399", "50999", "2.75"),
    ]
    econ = [EconRow(c, ECON_NAMES[c], g, GOV_ECON_NAMES[g], _w(a)) for c, g, a in econ_seed]
    doc = Document(
        doc_id="410329-2024-106",
        region_code="410329",
        region_name="伊川县",
        prefecture="洛阳市",
        fiscal_year=2024,
        department="伊川县政务服务中心",
        unit_code="106",
        unit_kind="institution",
        units=[Unit("106", "伊川县政务服务中心", rows, projects)],
        econ_rows=econ,
        three_public=None,
        variants=["seed", "codes_split", "zero_blank", "landscape_wide"],
        prev_total=_w("1146.01"),
        prev_gpb=_w("1165.01"),
        duties=SEED_DUTIES,
        structure="伊川县政务服务中心无所属预算单位，部门预算包括：办公室、政务大厅管理股、业务协调股的预算。",
        annual_goal="以“便民、高效、廉洁、公开”为宗旨，以提高群众获得感、满意度为导向，强化服务意识，提高办事效率，拧紧责任链条，努力打通服务群众“最后一公里”，各项工作实现新突破。",
        narrative_overrides={
            "change_pct": "0.65",
            "change_reason": "经费压减",
            "fiscal_paragraph": (
                "伊川县政务服务中心 2024 年一般公共预算收支预算 1145.25 万元，"
                "政府性基金收支预算 0 万元。与 2023 年相比，一般公共预算收支预算减少 19.76 万元，"
                "下降 1.73%，主要原因：人员经费支出减少；政府性基金收支预算减少 81 万元，"
                "下降 100%，主要原因：减少政府性基金支出。"
            ),
            "operating_funds": "1145.25",
        },
        published="2024-03-15",
        attachment_name="2024年洛阳市伊川县政务服务中心部门预算.pdf",
    )
    assert doc.total == _w("1145.25") and doc.basic == _w("909.25")
    assert sum(e.amount for e in econ) == doc.basic
    assert sum(e.amount for e in econ if e.personnel) == doc.personnel == _w("882.70")
    return doc


# ---------------------------------------------------------------------------
# generator
# ---------------------------------------------------------------------------


@dataclass
class DeptProfile:
    """What kind of department: which 功能分类 codes its rows use."""

    main_code: str  # 行政运行 / 事业运行 row (wages + goods)
    project_codes: list[str]  # codes project spending is booked to
    project_pool: list[tuple[str, str]]  # (name template, category)
    duties: list[str]
    unit_kind: str = "admin"
    extra_codes: list[str] = field(default_factory=list)  # more 项 rows with wages (large depts)


PROFILES: dict[str, DeptProfile] = {
    "gov_service": DeptProfile(
        "2010306",
        ["2010306", "2010399"],
        [
            ("{y}年保安保洁、免费邮寄复印等补充经费", "其他运转类"),
            ("{y}年系统建设与运维", "其他运转类"),
            ("{y}年政务服务大厅窗口人员劳务派遣经费", "特定目标类"),
        ],
        [
            "负责县级政务服务大厅的日常管理和考核。",
            "负责县级政务服务平台的建设、管理和运行维护。",
            "承担全县审批服务电子监察工作。",
            "完成上级交办的其它工作。",
        ],
        unit_kind="institution",
    ),
    "agriculture": DeptProfile(
        "2130101",
        ["2130199", "2130104"],
        [
            ("{y}年高标准农田建设前期工作经费", "特定目标类"),
            ("{y}年农业技术推广及培训经费", "特定目标类"),
            ("{y}年动物疫病防控专项经费", "特定目标类"),
            ("{y}年机关运转补充经费", "其他运转类"),
        ],
        [
            "贯彻落实党中央关于“三农”工作的方针政策和决策部署。",
            "统筹研究和组织实施全县“三农”工作的发展战略、中长期规划、重大政策。",
            "负责种植业、畜牧业、渔业、农垦、农业机械化等农业各产业的监督管理。",
            "完成县委、县政府交办的其他任务。",
        ],
    ),
    "education": DeptProfile(
        "2050101",
        ["2050201", "2050202", "2050299"],
        [
            ("{y}年学前教育生均公用经费", "特定目标类"),
            ("{y}年义务教育阶段家庭经济困难学生生活补助", "特定目标类"),
            ("{y}年中小学校舍维修改造经费", "特定目标类"),
            ("{y}年教师培训经费", "其他运转类"),
            ("{y}年教育信息化建设与运维经费", "其他运转类"),
        ],
        [
            "贯彻执行国家、省、市教育工作方针、政策和法规。",
            "统筹规划和指导全县各级各类教育的发展。",
            "负责全县教育经费的统筹管理。",
            "完成县委、县政府交办的其他任务。",
        ],
        extra_codes=["2050201", "2050202", "2050203"],
    ),
    "culture": DeptProfile(
        "2070101",
        ["2070109", "2070199"],
        [
            ("{y}年送戏下乡及群众文化活动经费", "特定目标类"),
            ("{y}年文物保护和非遗传承经费", "特定目标类"),
            ("{y}年旅游宣传推介经费", "其他运转类"),
        ],
        [
            "贯彻落实党的文化工作方针政策。",
            "统筹规划全县文化事业、文化产业和旅游业发展。",
            "负责全县文物保护和非物质文化遗产保护工作。",
            "完成县委、县政府交办的其他任务。",
        ],
    ),
    "hrss": DeptProfile(
        "2080101",
        ["2080199"],
        [("{y}年就业创业服务专项经费", "特定目标类"), ("{y}年劳动保障监察经费", "其他运转类")],
        [
            "贯彻执行人力资源和社会保障事业发展规划、政策。",
            "负责促进就业工作。",
            "统筹建立覆盖城乡的社会保障体系。",
            "完成县委、县政府交办的其他任务。",
        ],
    ),
    "urban": DeptProfile(
        "2120101",
        ["2120104", "2120199"],
        [
            ("{y}年城市环境卫生保洁经费", "特定目标类"),
            ("{y}年城管执法车辆运行经费", "其他运转类"),
            ("{y}年市政设施维护经费", "特定目标类"),
        ],
        [
            "负责城市管理和综合行政执法工作。",
            "负责市容环境卫生管理。",
            "负责市政公用设施的维护管理。",
            "完成县委、县政府交办的其他任务。",
        ],
    ),
    "statistics": DeptProfile(
        "2010501",
        ["2010502"],
        [("{y}年统计调查专项经费", "特定目标类"), ("{y}年经济普查经费", "特定目标类")],
        ["组织实施全县统计调查。", "依法管理全县统计工作。", "完成县委、县政府交办的其他任务。"],
    ),
    "environment": DeptProfile(
        "2110101",
        ["2110199"],
        [("{y}年大气污染防治专项经费", "特定目标类"), ("{y}年环境监测运行经费", "其他运转类")],
        ["负责全县生态环境监督管理。", "负责大气、水、土壤污染防治工作。", "完成上级交办的其他任务。"],
    ),
    "kindergarten": DeptProfile(
        "2050201",
        ["2050201"],
        [("{y}年幼儿园保教设施购置经费", "特定目标类"), ("{y}年幼儿园运转补充经费", "其他运转类")],
        ["承担学前教育保育和教育工作。", "完成主管部门交办的其他任务。"],
        unit_kind="institution",
    ),
}


@dataclass
class DocSpec:
    region_code: str
    region_name: str
    department: str
    unit_code: str
    fiscal_year: int
    profile: str
    variants: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    doc_type: str = "budget"
    scale: float = 1.0  # staff size multiplier
    sub_units: list[str] = field(default_factory=list)  # names of 下属单位 (multi-unit documents)
    target_total: int | None = None  # force 收支总计 (分)
    prefecture: str = "洛阳市"
    published: str = ""
    attachment_name: str = ""  # "" → <title>.pdf; "opaque" → P0…pdf
    producer: str = "reportlab"  # "reportlab" (render.py) | "xlsx" (xlsx.py: workbook → LibreOffice → PDF)


def _rng(*parts: object) -> random.Random:
    h = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return random.Random(int(h[:16], 16))


def _split(total: int, weights: list[float], q: int) -> list[int]:
    """Split ``total`` (multiple of q) into parts proportional to weights, each a multiple of q."""
    sw = sum(weights)
    parts = [int(total * w / sw) // q * q for w in weights[:-1]]
    parts.append(total - sum(parts))
    assert parts[-1] >= 0
    return parts


def _yuan(rng: random.Random, lo: float, hi: float, q: int) -> int:
    """A random amount between lo and hi 元, in 分, multiple of q."""
    v = int(rng.uniform(lo, hi) * 100)
    return max(q, v // q * q)


def _gen_unit(rng: random.Random, spec: DocSpec, prof: DeptProfile, code: str, name: str, q: int, scale: float) -> Unit:
    y = spec.fiscal_year
    inst = prof.unit_kind == "institution"
    staff = max(3, int(rng.randint(10, 45) * scale))
    avg = rng.uniform(70_000, 105_000)
    wages_main = _yuan(rng, staff * avg * 0.60, staff * avg * 0.66, q)
    rows: dict[str, FuncRow] = {}

    def row(c: str) -> FuncRow:
        if c not in rows:
            rows[c] = FuncRow(c, FUNCTION_NAMES[c])
        return rows[c]

    main = row(prof.main_code)
    main.wages = wages_main
    main.goods = _yuan(rng, staff * 5_000, staff * 14_000, q)
    if rng.random() < 0.2:
        main.capital = _yuan(rng, 8_000, 60_000, q)
    if rng.random() < 0.4:
        main.household = _yuan(rng, 2_000, 30_000, q)
    for c in prof.extra_codes:
        r = row(c)
        r.wages = _yuan(rng, staff * avg * 0.8, staff * avg * 2.5, q)
        r.goods = _yuan(rng, staff * 2_000, staff * 9_000, q)
    base = sum(r.wages for r in rows.values()) / 100  # 元
    ret = row("2080502" if inst else "2080501")
    ret.household = _yuan(rng, 5_000, 20_000 * max(1, staff // 8), q)
    row("2080505").wages = _yuan(rng, base * 0.15, base * 0.17, q)
    if rng.random() < 0.7:
        row("2080506").wages = _yuan(rng, base * 0.07, base * 0.085, q)
    row("2101102" if inst else "2101101").wages = _yuan(rng, base * 0.055, base * 0.07, q)
    if rng.random() < 0.5:
        row("2101199").wages = _yuan(rng, 2_000, 15_000, q)
    if rng.random() < 0.5:
        row("2210201").wages = _yuan(rng, base * 0.11, base * 0.12, q)

    projects: list[Project] = []
    pool = list(prof.project_pool)
    rng.shuffle(pool)
    n = rng.randint(1, min(4, len(pool))) if rng.random() < 0.9 else 0
    for tmpl, cat in pool[:n]:
        fc = prof.main_code if cat == "其他运转类" else rng.choice(prof.project_codes)
        amt = _yuan(rng, 50_000, 2_500_000 * scale, q)
        pcode = f"{spec.region_code}{y - 2000:02d}{rng.randint(0, 10**12 - 1):012d}"[:20].ljust(20, "0")
        inds = [
            ("产出指标", "完成年度工作任务", "100%"),
            ("时效指标", "按时完成", f"{y}年12月底前"),
            ("效益指标", "社会效益", "持续提升"),
            ("满意度指标", "服务对象满意度", f"≥{rng.choice([90, 95, 98])}%"),
        ]
        projects.append(Project(tmpl.format(y=y), cat, amt, fc, pcode, inds))
        r = row(fc)
        if cat == "其他运转类":
            r.proj_other += amt
        else:
            r.proj_specific += amt
    ordered = [rows[c] for c in sorted(rows)]
    return Unit(code, name, ordered, projects)


# the economic classification of wages charged to a function code of its own (社会保障缴费, 住房公积金 …)
_WAGE_ECON = {
    "2080505": "30108",
    "2080506": "30109",
    "2101101": "30110",
    "2101102": "30110",
    "2101199": "30112",
    "2210201": "30113",
}
_GOODS_CODES = [
    "30201",
    "30205",
    "30206",
    "30207",
    "30211",
    "30213",
    "30215",
    "30216",
    "30217",
    "30228",
    "30229",
    "30231",
    "30239",
    "30299",
]


def _wage_amounts(r: FuncRow, u: Unit, q: int) -> list[tuple[str, int]]:
    """A row's wages by economic code: one code for a function code of its own, else split over the 款."""
    if r.code in _WAGE_ECON:
        return [(_WAGE_ECON[r.code], r.wages)]
    if not r.wages:
        return []
    has_hf = any(x.code == "2210201" for x in u.rows)
    codes = ["30101", "30102", "30103", "30107", "30199"] + ([] if has_hf else ["30113"])
    ws = [0.30, 0.25, 0.04, 0.22, 0.19] + ([0.10] if not has_hf else [])
    return list(zip(codes, _split(r.wages, ws, q), strict=False))


def _household_amounts(r: FuncRow, q: int) -> list[tuple[str, int]]:
    if not r.household:
        return []
    if r.code in ("2080501", "2080502"):
        a, b = _split(r.household, [0.85, 0.15], q)
        return [("30302", a), ("30305", b)]
    return [("30399", r.household)]


def _goods_amounts(r: FuncRow, rng: random.Random, q: int) -> list[tuple[str, int]]:
    if not r.goods:
        return []
    ws = [rng.uniform(0.2, 1.0) for _ in _GOODS_CODES]
    return list(zip(_GOODS_CODES, _split(r.goods, ws, q), strict=False))


def _econ_rows(units: list[Unit], unit_kind: str, rng: random.Random, q: int) -> list[EconRow]:
    amounts: dict[str, int] = {}
    for u in units:
        for r in u.rows:
            capital = [("31002", r.capital)] if r.capital else []
            # in this order: the goods split draws from rng
            for c, v in _wage_amounts(r, u, q) + _household_amounts(r, q) + _goods_amounts(r, rng, q) + capital:
                if v:
                    amounts[c] = amounts.get(c, 0) + v
    out = []
    for c in sorted(amounts):
        g = gov_econ_code(c, unit_kind)
        out.append(EconRow(c, ECON_NAMES[c], g, GOV_ECON_NAMES[g], amounts[c]))
    return out


def generate_document(spec: DocSpec, prev_total: int | None = None) -> Document:
    rng = _rng(spec.region_code, spec.department, spec.fiscal_year, spec.doc_type)
    prof = PROFILES[spec.profile]
    unit_yuan = "unit_yuan" in spec.variants
    q = 1 if unit_yuan else Q_WAN
    if spec.sub_units:
        units = [
            _gen_unit(
                rng,
                spec,
                prof,
                f"{spec.unit_code}{i + 1:03d}",
                nm,
                q,
                spec.scale * (1.0 if i == 0 else rng.uniform(0.3, 0.8)),
            )
            for i, nm in enumerate(spec.sub_units)
        ]
    else:
        units = [_gen_unit(rng, spec, prof, spec.unit_code, spec.department, q, spec.scale)]
    if spec.target_total is not None:
        # scale every leaf amount towards the target, then put the residual on 商品和服务支出
        ratio = spec.target_total / sum(r.total for u in units for r in u.rows)
        for u in units:
            for p in u.projects:
                p.amount = max(q, int(p.amount * ratio) // q * q)
            for r in u.rows:
                for a in ("wages", "household", "goods", "capital"):
                    v = getattr(r, a)
                    setattr(r, a, int(v * ratio) // q * q if v else 0)
                r.proj_other = sum(
                    p.amount for p in u.projects if p.function_code == r.code and p.category == "其他运转类"
                )
                r.proj_specific = sum(
                    p.amount for p in u.projects if p.function_code == r.code and p.category != "其他运转类"
                )
        main = next(r for r in units[0].rows if r.code == prof.main_code)
        main.goods += spec.target_total - sum(r.total for u in units for r in u.rows)
        assert main.goods > 0
    econ = _econ_rows(units, prof.unit_kind, rng, q)
    three = None
    amounts = {e.code: e.amount for e in econ}
    vehicles = 0
    if rng.random() < 0.6:
        vehicles = rng.randint(1, 4)
        three = ThreePublic(reception=amounts.get("30217", 0), vehicle_operation=amounts.get("30231", 0))
        if three.total == 0:
            three = None
    doc = Document(
        doc_id=(
            f"{spec.region_code}-{spec.fiscal_year}-{spec.unit_code}"
            + ("-js" if spec.doc_type == "final_accounts" else "")
            + ("" if spec.producer == "reportlab" else f"-{spec.producer}")
        ),
        region_code=spec.region_code,
        region_name=spec.region_name,
        prefecture=spec.prefecture,
        fiscal_year=spec.fiscal_year,
        department=spec.department,
        unit_code=spec.unit_code,
        unit_kind=prof.unit_kind,
        units=units,
        econ_rows=econ,
        three_public=three,
        doc_type=spec.doc_type,
        unit="元" if unit_yuan else "万元",
        variants=list(spec.variants),
        defects=list(spec.defects),
        duties=list(prof.duties),
        structure=(
            f"{spec.department}无所属预算单位，部门预算为本级预算。"
            if not spec.sub_units
            else f"{spec.department}部门预算包括：" + "、".join(spec.sub_units) + "的预算。"
        ),
        annual_goal=f"围绕{spec.department}年度重点工作，提高履职效能和服务水平，确保各项工作任务按时保质完成。",
        published=spec.published,
        attachment_name=spec.attachment_name,
        vehicles=vehicles,
        producer=spec.producer,
    )
    if prev_total is None:
        # previous year not in the corpus: a plausible figure
        prev_total = doc.total * rng.randint(900, 1100) // 1000 // q * q
    doc.prev_total = prev_total
    doc.prev_gpb = prev_total
    return doc
