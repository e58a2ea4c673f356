"""The 说明 (narrative) text of a document and the figures it quotes."""

from __future__ import annotations

from .model import Document, narrative_num, pct_str, wan_str
from .tables import BASE_TITLES, TableData


def narrative_values(doc: Document) -> dict[str, str]:
    """Figures quoted in the narrative, always in 万元, 2 decimals (the text drops '.00')."""
    ov = doc.narrative_overrides
    v = {
        "unit": "万元",
        "income_total": wan_str(doc.total),
        "expense_total": wan_str(doc.total),
        "gpb_total": wan_str(doc.total),
        "basic_total": wan_str(doc.basic),
        "basic_pct": pct_str(doc.basic, doc.total),
        "project_total": wan_str(doc.project),
        "project_pct": pct_str(doc.project, doc.total),
        "personnel_total": wan_str(doc.personnel),
        "personnel_pct": pct_str(doc.personnel, doc.basic),
        "public_total": wan_str(doc.public),
        "public_pct": pct_str(doc.public, doc.basic),
        "three_public_total": wan_str(doc.three_public.total if doc.three_public else 0),
    }
    if doc.prev_total is not None and doc.doc_type == "budget":
        diff = doc.total - doc.prev_total
        v["prev_year"] = str(doc.fiscal_year - 1)
        v["prev_total"] = wan_str(doc.prev_total)
        v["change_direction"] = "增加" if diff >= 0 else "减少"
        v["change_amount"] = wan_str(abs(diff))
        v["change_pct"] = ov.get("change_pct", pct_str(abs(diff), doc.prev_total))
    return v


def narrative_sections(doc: Document, tables: list[TableData]) -> list[tuple[str, str]]:
    """[(style, text)] with style in title|h1|h2|p."""
    if doc.doc_type == "final_accounts":
        return _final_sections(doc)
    v = narrative_values(doc)
    n = narrative_num
    d, y, pre = doc.department, doc.fiscal_year, doc.prefecture
    ov = doc.narrative_overrides
    full = f"{pre}{d}"
    s: list[tuple[str, str]] = [
        ("title", f"{y} 年{full} 部门预算说明"),
        ("h1", "目 录"),
        ("h2", f"第一部分 {full}概况"),
        ("p", "一、主要职责"),
        ("p", "二、部门所属预算单位构成情况"),
        ("h2", f"第二部分 {y} 年{full}部门预算情况说明"),
        ("h2", "第三部分 名词解释"),
        ("h2", f"附件：{y} 年{full}部门预算表"),
    ]
    s += [("p", f"{_cn(i + 1)}、{BASE_TITLES[t.key]}") for i, t in enumerate(tables)]
    s += [("pagebreak", ""), ("h1", "第一部分"), ("h1", f"{full}概况"), ("h2", f"一、{full}主要职责")]
    s += [("p", f"{i + 1}、{t}") for i, t in enumerate(doc.duties)]
    s += [("h2", f"二、{full}预算单位构成情况"), ("p", doc.structure)]
    s += [
        ("pagebreak", ""),
        ("h1", "第二部分"),
        ("h1", f"{y} 年{full}部门预算情况说明"),
        ("h2", "一、收入支出预算总体情况说明"),
    ]
    p1 = f"{d} {y} 年收入总计 {n(v['income_total'])} 万元，支出总计 {n(v['expense_total'])} 万元"
    if "prev_year" in v:
        reason = ov.get("change_reason", "人员变动及工作任务调整" if v["change_direction"] == "增加" else "经费压减")
        p1 += (
            f"，与 {v['prev_year']} 年预算相比，收支总计各{v['change_direction']} {n(v['change_amount'])} 万元，"
            f"{'增长' if v['change_direction'] == '增加' else '下降'} {v['change_pct']}%。"
            f"主要原因：{reason}。"
        )
    else:
        p1 += "。"
    s += [
        ("p", p1),
        ("h2", "二、收入预算总体情况说明"),
        ("p", f"{d} {y} 年收入合计 {n(v['income_total'])} 万元，其中：一般公共预算拨款收入 {n(v['gpb_total'])} 万元。"),
        ("h2", "三、支出预算总体情况说明"),
        (
            "p",
            f"{d} {y} 年支出合计 {n(v['expense_total'])} 万元，其中：基本支出 "
            f"{n(v['basic_total'])} 万元，占 {v['basic_pct']}%；"
            f"项目支出 {n(v['project_total'])} 万元，占 {v['project_pct']}%。",
        ),
        ("h2", "四、财政拨款收入支出预算总体情况说明"),
    ]
    if "fiscal_paragraph" in ov:
        s.append(("p", ov["fiscal_paragraph"]))
    else:
        fp = f"{d} {y} 年一般公共预算收支预算 {n(v['gpb_total'])} 万元，政府性基金收支预算 0 万元。"
        if "prev_year" in v:
            fp += (
                f"与 {v['prev_year']} 年相比，一般公共预算收支预算{v['change_direction']} "
                f"{n(v['change_amount'])} 万元，"
                f"{'增长' if v['change_direction'] == '增加' else '下降'} {v['change_pct']}%。"
            )
        s.append(("p", fp))
    s += [
        ("h2", "五、一般公共预算支出预算情况说明"),
        (
            "p",
            f"{d} {y} 年一般公共预算支出年初预算为 {n(v['gpb_total'])} "
            f"万元。其中：基本支出 {n(v['basic_total'])} 万元，"
            f"占 {v['basic_pct']}%；项目支出 {n(v['project_total'])} 万元，占 {v['project_pct']}%。",
        ),
        ("h2", "六、一般公共预算基本支出预算情况说明"),
        (
            "p",
            f"{d} {y} 年一般公共预算基本支出年初预算为 {v['basic_total']} "
            f"万元。其中：人员经费支出 {v['personnel_total']} 万元，"
            f"占 {v['personnel_pct']}%；公用经费支出 {v['public_total']} 万元，占 {v['public_pct']}%。",
        ),
        ("h2", "七、一般公共预算“三公”经费支出预算情况说明"),
    ]
    tp = doc.three_public
    if tp is None:
        s.append(("p", f"{d} {y} 年无“三公”经费预算拨款安排的支出。"))
    else:
        s.append(
            (
                "p",
                f"{d} {y} 年“三公”经费预算 {n(wan_str(tp.total))} "
                f"万元，其中：因公出国（境）费 {n(wan_str(tp.outbound))} 万元，"
                f"公务用车购置及运行费 {n(wan_str(tp.vehicle_total))} 万元（其中："
                f"公务用车购置费 {n(wan_str(tp.vehicle_purchase))} 万元，"
                f"公务用车运行费 {n(wan_str(tp.vehicle_operation))} "
                f"万元），公务接待费 {n(wan_str(tp.reception))} 万元。",
            )
        )
    s += [
        ("h2", "八、政府性基金支出预算情况说明"),
        ("p", f"{d} {y} 年无政府性基金预算拨款安排的支出。"),
        ("h2", "九、国有资本经营预算支出预算情况说明"),
        ("p", f"{d} {y} 年无国有资本经营预算拨款安排的支出。"),
        ("h2", "十、其他重要事项情况说明"),
        ("h2", "（一）行政（事业）单位机构运转经费支出预算情况"),
        (
            "p",
            f"{d} {y} 年机构运转经费支出预算 {n(ov.get('operating_funds', v['public_total']))} "
            "万元，主要保障机构正常运转及正常履职需要所需支出，"
            "包含公用经费、公务交通补贴、工会经费、职工福利费等。",
        ),
        ("h2", "（二）政府采购支出预算情况"),
        (
            "p",
            f"{y}年政府采购预算安排{n(v['project_total'])}万元，其中：政府采购货物预算{n(v['project_total'])}万元、"
            "政府采购工程预算0万元、政府采购服务预算0万元。",
        ),
        ("h2", "（三）预算绩效情况说明"),
        (
            "p",
            f"{y}年{d}对项目支出全面实施绩效目标管理，涉及预算拨款{n(v['income_total'])}万元,共{len(doc.projects)}个项目。",
        ),
        ("h2", "（四）国有资产占用情况"),
        (
            "p",
            f"{y - 1}年期末，{d}共有车辆{doc.vehicles}辆；"
            "单位价值50万元以上通用设备0套，单位价值100万元以上专用设备0套。",
        ),
        ("h2", "（五）专项转移支付项目情况"),
        ("p", f"{d}无负责管理的专项转移支付项目。"),
        ("pagebreak", ""),
        ("h1", "第三部分"),
        ("h1", "名词解释"),
    ]
    s += [("p", t) for t in GLOSSARY]
    s += [("pagebreak", ""), ("h1", f"附件：{y}年{full}部门预算表")]
    return s


def _cn(i: int) -> str:
    from .catalog import cn_ordinal

    return cn_ordinal(i)


GLOSSARY = [
    "一、财政拨款收入：是指同级财政拨付的资金：包括一般公共预算拨款、政府性基金预算拨款、国有资本经营预算拨款。",
    "二、财政专户管理资金：是指缴入财政专户、实行专项管理的高中以上学费、住宿费、高校委托培养费等教育收费。",
    "三、事业收入：是指事业单位开展专业活动及辅助活动所取得的收入。",
    "四、其他收入：是指部门取得的除“财政拨款”、“事业收入”、“事业单位经营收入”等以外的收入。",
    "五、基本支出：是指为保障机构正常运转、完成日常工作任务所必需的开支，其内容包括人员经费和日常公用经费两部分。",
    "六、项目支出：是指在基本支出之外，为完成特定的行政工作任务或事业发展目标所发生的支出。",
    "七、“三公”经费：是指纳入同级财政预算管理，部门使用财政拨款安排的因公出国（境）费、公务用车购置及运行费和公务接待费。",
]


def _final_sections(doc: Document) -> list[tuple[str, str]]:
    d, y = doc.department, doc.fiscal_year
    t = wan_str(doc.total)
    return [
        ("title", f"{y}年度{doc.prefecture}{d}部门决算"),
        ("h1", "第一部分 部门概况"),
        ("p", doc.structure),
        ("h1", f"第二部分 {y}年度部门决算情况说明"),
        ("h2", "一、收入支出决算总体情况说明"),
        ("p", f"{d}{y}年度收入总计 {narrative_num(t)} 万元，支出总计 {narrative_num(t)} 万元。"),
        ("h2", "二、一般公共预算财政拨款支出决算情况说明"),
        ("p", f"{d}{y}年度一般公共预算财政拨款支出 {narrative_num(t)} 万元，占本年支出合计的 100%。"),
        ("pagebreak", ""),
        ("h1", f"第三部分 {y}年度部门决算表"),
    ]
