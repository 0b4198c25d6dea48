"""Word reports (python-docx) with charts: weekly, monthly, quarterly decision support, annual, and the
monthly retrospective's lost-points analysis. Reports never print callers' personal data."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from docx import Document
from docx.document import Document as DocumentType
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from engine.errors import InvalidData
from engine.service import Engine

from . import figures, periods
from .charts import Chart
from .context import Analysis, local_today
from .fmt import NONE, change, missing, pct, score, yuan
from .periods import Period
from .ranking import Standing
from .rates import GROUP_LABELS, RateRow

Section = Callable[[DocumentType, Analysis], None]
TITLES = {"weekly": "接诉即办工作周报", "monthly": "接诉即办工作月报", "quarterly": "接诉即办季度决策参考报告",
          "annual": "接诉即办工作年报", "retrospective": "考核复盘失分分析"}
PERIOD_KINDS = {"weekly": "week", "monthly": "month", "quarterly": "quarter", "annual": "year",
                "retrospective": "month"}
_TOP_TICKETS = 20


def build_report(engine: Engine, kind: str, period: Period) -> bytes:
    """The report as .docx bytes, for the web app to send or a recurring job to file."""
    if kind not in SECTIONS:
        raise InvalidData(f"未知的报告类型 {kind}：可选 {'、'.join(SECTIONS)}")
    if period.kind != PERIOD_KINDS[kind]:
        raise InvalidData(f"{TITLES[kind]}的期间应为{_KIND_NAMES[PERIOD_KINDS[kind]]}，而不是 {period.label}")
    analysis = Analysis(engine, period)
    document = _new_document(analysis.config["charts"]["docx_font"])
    office = analysis.config["ranking"]["office_name"]
    document.add_heading(f"{office}{TITLES[kind]}", level=0)
    now = engine.clock().astimezone(ZoneInfo(period.timezone))
    document.add_paragraph(f"统计期间：{period.title}　　生成时间：{now:%Y-%m-%d %H:%M}")
    for number, section in enumerate(SECTIONS[kind], start=1):
        document.add_heading(f"{_NUMERALS[number]}、{SECTION_TITLES[section]}", level=1)
        section(document, analysis)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def report_period(engine: Engine, kind: str, period_text: str | None = None) -> Period:
    """The period named, or else the last complete period of the report's kind (what a recurring job files)."""
    if period_text:
        return periods.parse(period_text, engine.rules)
    if kind not in PERIOD_KINDS:
        raise InvalidData(f"未知的报告类型 {kind}：可选 {'、'.join(PERIOD_KINDS)}")
    return periods.last_complete(PERIOD_KINDS[kind], local_today(engine), engine.rules)


def write_report(engine: Engine, kind: str, period: Period, path: Path) -> None:
    path.write_bytes(build_report(engine, kind, period))


def file_report(engine: Engine, kind: str, folder: Path) -> Path:
    """For the recurring job: file the last complete period's report once; a rerun finds it and does nothing."""
    period = report_period(engine, kind)
    path = folder / report_filename(kind, period)
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        write_report(engine, kind, period, partial)
        partial.replace(path)  # a crash never leaves a half-written report under the final name
    return path


# -- sections -------------------------------------------------------------------------------------

def overview(document: DocumentType, a: Analysis) -> None:
    now, before = a.rates.overall, a.previous_rates.overall
    this_total, previous_total, last_year_total = a.totals
    document.add_paragraph(
        f"本期受理工单 {this_total} 件，上期 {previous_total} 件（环比 {change(_rel(this_total, previous_total))}），"
        f"去年同期 {last_year_total} 件（同比 {change(_rel(this_total, last_year_total))}）。"
        f"有效回访 {now.counts.valid} 件，剔除 {now.counts.exempted} 件。")
    _table(document, ["指标", "本期", "上期"], [
        ["响应率", pct(now.response), pct(before.response)],
        ["解决率", pct(now.resolution), pct(before.resolution)],
        ["满意率", pct(now.satisfaction), pct(before.satisfaction)],
        ["综合得分", score(now.composite), score(before.composite)],
    ])
    document.add_paragraph(f"计算口径：{a.rates.formula}。")
    _image(document, figures.rates_chart(a))


def rates_breakdown(document: DocumentType, a: Analysis) -> None:
    for by in ("category", "unit", "community"):
        table = a.rates_by(by)
        document.add_heading(f"按{GROUP_LABELS[by]}", level=2)
        _table(document, [GROUP_LABELS[by], "有效回访", "响应率", "解决率", "满意率", "综合得分", "失分"],
               [_rate_cells(row) for row in table.rows[:10]])
    _image(document, figures.lost_points_chart(a))


def ranking_section(document: DocumentType, a: Analysis) -> None:
    s = a.standing
    source = ("区考核排名表" if not s.estimated else
              f"本单位工单估算，其他街乡镇得分取 {s.basis} 排名表" if s.basis else "本单位工单估算，尚无区排名表可比")
    document.add_paragraph(
        f"{s.period} 考核月：得分 {score(s.score)}，排名 {s.rank or '—'}/{s.units}，等次 {s.tier or '—'}，"
        f"对应奖惩 {yuan(s.amount)}。数据来源：{source}。")
    _table(document, ["考核月", "得分", "排名", "等次", "奖惩", "来源"],
           [[t.period, score(t.score), str(t.rank or "—"), t.tier or "—", yuan(t.amount), _source(t)]
            for t in a.trend])
    _image(document, figures.ranking_chart(a))


def hot_section(document: DocumentType, a: Analysis) -> None:
    hot = a.hot
    for heading, frame, label in (("热点类别", hot.categories, "一级分类"), ("热点二级类别", hot.subcategories, "类别"),
                                  ("热点地点", hot.places, "村/社区")):
        document.add_heading(heading, level=2)
        _table(document, [label, "本期", "占比", "上期", "环比", "去年同期", "同比"],
               [[r.key, str(r.count), pct(r.share), str(r.previous), change(r.change_pct), str(r.last_year),
                 change(r.yoy_pct)] for r in frame.itertuples()])
    document.add_heading("热点词", level=2)
    document.add_paragraph(f"对本期 {hot.keyword_sample} 件工单的主要内容分词（均匀抽样），统计提及各词的工单数；"
                           "上期与去年同期按样本量折算。")
    _table(document, ["关键词", "提及工单", "上期", "环比", "去年同期", "同比"],
           [[r.key, str(r.count), str(r.previous), change(r.change_pct), str(r.last_year), change(r.yoy_pct)]
            for r in hot.keywords.itertuples()])
    _image(document, figures.hot_categories_chart(a))


def themes_section(document: DocumentType, a: Analysis) -> None:
    for heading, frame in (("七有五性", a.hot.policy_tags), ("每月一题", a.hot.monthly_themes)):
        document.add_heading(heading, level=2)
        _table(document, ["主题", "本期", "上期", "去年同期"],
               [[r.key, str(r.count), str(r.previous), str(r.last_year)] for r in frame.itertuples()])


def forecast_section(document: DocumentType, a: Analysis) -> None:
    f = a.forecast
    document.add_paragraph(f"预测期：{f.target}。方法：{f.method}。合计预测 {f.total_forecast:.0f} 件，"
                           f"回测加权误差 {pct(f.total_wape)}。")
    _table(document, ["一级分类", "本期实际", "下期预测", "回测平均绝对误差", "回测加权误差"],
           [[r.category, str(r.last), f"{r.forecast:.1f}", NONE if missing(r.mae) else f"{r.mae:.1f}", pct(r.wape)]
            for r in f.table.head(a.config["hot_issues"]["top_n"]).itertuples()])


def costly_section(document: DocumentType, a: Analysis) -> None:
    _costly(document, a, _TOP_TICKETS)


def all_costly_section(document: DocumentType, a: Analysis) -> None:
    """The retrospective goes through every ticket that cost points."""
    _costly(document, a, None)


def _costly(document: DocumentType, a: Analysis, limit: int | None) -> None:
    losses = a.costly if limit is None else a.costly[:limit]
    document.add_paragraph(f"未得满分的计分工单共 {len(a.costly)} 件，合计失分 {score(a.rates.overall.lost_points)} 分"
                           f"{'' if limit is None else f'，下表列出失分最多的 {min(limit, len(a.costly))} 件'}。")
    _table(document, ["工单编号", "类别", "村/社区", "承办单位", "联系", "解决", "满意度", "失分"],
           [[t.ticket_no, t.category or "—", t.community or "—", t.unit or "—", _yes(t.contacted), _yes(t.solved),
             t.satisfaction or "—", score(t.lost_points)] for t in losses])


def suggestions(document: DocumentType, a: Analysis) -> None:
    lines = []
    for by in ("category", "unit"):
        worst = next((row for row in a.rates_by(by).rows if row.lost_points > 0), None)
        if worst is not None:
            lines.append(f"{GROUP_LABELS[by]}“{worst.key}”失分最多（{score(worst.lost_points)} 分，"
                         f"解决率 {pct(worst.resolution)}、满意率 {pct(worst.satisfaction)}），建议逐件复盘、"
                         "重点督办，并对办理质量开展培训。")
    rising = a.hot.categories.dropna(subset=["change_pct"])
    rising = rising[rising["change_pct"] > 0]
    if not rising.empty:
        top = rising.sort_values("change_pct", ascending=False).iloc[0]
        lines.append(f"“{top['key']}”类诉求环比上升 {change(top['change_pct'])}，建议提前研判、主动治理，"
                     "从源头减少同类诉求。")
    for line in lines or ["本期各项指标平稳，建议保持现有工作机制。"]:
        document.add_paragraph(line, style="List Number")


SECTIONS: dict[str, list[Section]] = {
    "weekly": [overview, hot_section, costly_section],
    "monthly": [overview, rates_breakdown, ranking_section, hot_section, themes_section, forecast_section,
                costly_section, suggestions],
    "quarterly": [overview, rates_breakdown, ranking_section, hot_section, themes_section, forecast_section,
                  suggestions],
    "annual": [overview, rates_breakdown, ranking_section, hot_section, themes_section, forecast_section,
               suggestions],
    "retrospective": [overview, ranking_section, rates_breakdown, all_costly_section, suggestions],
}
SECTION_TITLES = {overview: "总体情况", rates_breakdown: "三率分析", ranking_section: "考核排名",
                   hot_section: "热点问题", themes_section: "政策主题", forecast_section: "下期预测",
                   costly_section: "失分工单", all_costly_section: "失分工单明细", suggestions: "对策建议"}
_NUMERALS = dict(enumerate("零一二三四五六七八九十", start=0))
_KIND_NAMES = {"week": "周（如 2026-W47）", "month": "考核月（如 2026-11）", "quarter": "季度（如 2026-Q4）",
               "year": "年度（如 2026）"}


# -- document helpers ----------------------------------------------------------------------------

def _new_document(font: str) -> DocumentType:
    document = Document()
    style = document.styles["Normal"]
    style.font.size = Pt(10.5)
    style.font.name = font  # creates the rFonts element
    style.element.rPr.rFonts.set(qn("w:eastAsia"), font)  # Word picks CJK glyphs from the East Asian font
    return document


def _table(document: DocumentType, header: list[str], rows: list[list[str]]) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, title in zip(table.rows[0].cells, header, strict=True):
        cell.text = title
    for values in rows or [["无数据"] + [""] * (len(header) - 1)]:
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = value


def _image(document: DocumentType, chart: Chart) -> None:
    document.add_picture(io.BytesIO(chart.png), width=Cm(15))


def _rate_cells(row: RateRow) -> list[str]:
    return [row.key or "未填写", str(row.counts.valid), pct(row.response), pct(row.resolution), pct(row.satisfaction),
            score(row.composite), score(row.lost_points)]


def _source(standing: Standing) -> str:
    return "估算" if standing.estimated else "区排名表" if standing.units else "未导入"


def _yes(value: bool | None) -> str:
    return "—" if value is None else ("是" if value else "否")


def _rel(now: int, before: int) -> float | None:
    return None if before == 0 else (now - before) / before


def report_filename(kind: str, period: Period) -> str:
    return f"{TITLES[kind]}-{period.label}.docx"

