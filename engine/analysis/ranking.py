"""The district's monthly ranking: import its sheet, our place, tier and money, the trend, and an estimate."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select

from engine import audit
from engine.audit import AuditEntry
from engine.errors import InvalidData, NotFound
from engine.models import DistrictRanking, SheetImport
from engine.privacy import Actor
from engine.service import Engine

from . import periods
from .periods import Period
from .rates import period_rates
from .sheet import check_columns, read_sheet, text

KIND = "ranking"
COLUMNS = ("排名", "单位名称", "得分", "等次")
REQUIRED = ("排名", "单位名称", "得分")


@dataclass(frozen=True)
class Standing:
    """Our place in a month: from the district's sheet (`estimated` False) or estimated from our tickets."""

    period: str
    score: float | None
    rank: int | None
    units: int  # 0: no sheet and no estimate for that month
    tier: str | None
    amount: int | None  # bonus (+) or deduction (−) in yuan the contract attaches to the tier
    estimated: bool
    basis: str | None = None  # for estimates: the month whose sheet gave the other units' scores


@dataclass(frozen=True)
class RankingImportResult:
    period: str
    units: int  # 0: no sheet and no estimate for that month
    standing: Standing | None
    already_imported: bool


def import_ranking(engine: Engine, path: Path, period_text: str, actor: Actor) -> RankingImportResult:
    """Store a month's ranking sheet; a corrected sheet for the same month replaces the earlier one."""
    period = periods.parse(period_text, engine.rules)
    if period.kind != "month":
        raise InvalidData("排名表的期间必须是考核月，例如 2026-11")
    sheet = read_sheet(path)
    index = check_columns(sheet, COLUMNS, REQUIRED)
    lines = _ranking_lines(sheet.rows(), index, engine.rules.at(period.last_day)["ranking"], sheet.filename)
    now = engine.clock()
    with engine.db.transaction() as conn:
        if conn.scalar(select(SheetImport.id).where(SheetImport.kind == KIND,
                                                    SheetImport.content_hash == sheet.content_hash)):
            return RankingImportResult(period.label, len(lines), None, True)
        import_id = conn.scalar(insert(SheetImport).values(
            kind=KIND, filename=sheet.filename[:255], content_hash=sheet.content_hash, rows=len(lines),
            imported_at=now, imported_by=actor.name).returning(SheetImport.id))
        conn.execute(delete(DistrictRanking).where(DistrictRanking.period == period.label))
        conn.execute(insert(DistrictRanking), [{**line, "period": period.label, "import_id": import_id}
                                               for line in lines])
        audit.append(conn, [AuditEntry("ranking.imported", actor.name, data={
            "period": period.label, "filename": sheet.filename, "content_hash": sheet.content_hash,
            "units": len(lines)})], now)
    return RankingImportResult(period.label, len(lines), standing(engine, period), False)


def standing(engine: Engine, period: Period) -> Standing:
    """Our place from the district's sheet when it has arrived, else estimated from our own tickets."""
    config = engine.rules.at(period.last_day)["ranking"]
    return _from_sheet(engine, period, config) or _estimate(engine, period, config)


def ranking_trend(engine: Engine, until: Period, months: int = 12) -> list[Standing]:
    """Our standing in the `months` assessment months up to `until`, oldest first. Only `until` is
    estimated when its sheet is missing; an earlier month without a sheet shows no place."""
    *past, last = periods.months_back(until, months, engine.rules)
    return [*(_from_sheet(engine, month, engine.rules.at(month.last_day)["ranking"])
              or Standing(month.label, None, None, 0, None, None, False) for month in past),
            standing(engine, last)]


def _from_sheet(engine: Engine, period: Period, config: dict[str, Any]) -> Standing | None:
    with engine.db.read() as session:
        sheet = session.scalars(select(DistrictRanking).where(DistrictRanking.period == period.label)).all()
    ours = next((line for line in sheet if line.unit_name == config["office_name"]), None)
    if ours is None:
        return None
    return Standing(period.label, ours.score, ours.rank, len(sheet), ours.tier, config["tier_amounts"].get(ours.tier),
                    False)


def district_table(engine: Engine, period: Period) -> list[dict[str, Any]]:
    """The whole district's sheet for a month, by rank."""
    with engine.db.read() as session:
        rows = session.scalars(select(DistrictRanking).where(DistrictRanking.period == period.label)
                               .order_by(DistrictRanking.rank)).all()
    if not rows:
        raise NotFound(f"尚未导入 {period.label} 的区排名表")
    return [{"rank": r.rank, "unit": r.unit_name, "score": r.score, "tier": r.tier} for r in rows]


def tier_of(rank: int, config: dict[str, Any]) -> str:
    for tier in config["tiers"]:
        if tier["max_rank"] is None or rank <= tier["max_rank"]:
            return tier["tier"]
    raise InvalidData("排名等次配置不完整：最后一档须不设名次上限")


def _estimate(engine: Engine, period: Period, config: dict[str, Any]) -> Standing:
    """Our composite from our own tickets, placed among the other units' scores of the latest sheet."""
    score = period_rates(engine, period).overall.composite
    with engine.db.read() as session:
        basis = session.scalar(select(DistrictRanking.period).where(DistrictRanking.period < period.label)
                               .order_by(DistrictRanking.period.desc()).limit(1))
        others = session.scalars(select(DistrictRanking.score).where(
            DistrictRanking.period == basis, DistrictRanking.unit_name != config["office_name"])).all()
    if score is None or not others:
        return Standing(period.label, score, None, config["units_total"], None, None, True, basis)
    rank = 1 + sum(1 for other in others if other > score)
    tier = tier_of(rank, config)
    return Standing(period.label, score, rank, len(others) + 1, tier, config["tier_amounts"].get(tier), True, basis)


def _ranking_lines(rows: Iterable[tuple[int, tuple]], index: dict[str, int], config: dict[str, Any],
                   filename: str) -> list[dict]:
    errors, lines = [], []
    for number, raw in rows:
        cells = {name: text(raw[position]) if position < len(raw) else None for name, position in index.items()}
        try:
            rank, score = int(cells["排名"] or ""), float(cells["得分"] or "")
        except ValueError:
            errors.append(f"第 {number} 行：排名须为整数、得分须为数字")
            continue
        if not cells["单位名称"]:
            errors.append(f"第 {number} 行：单位名称为空")
            continue
        tier = cells.get("等次") or tier_of(rank, config)
        if tier not in config["tier_amounts"]:
            errors.append(f"第 {number} 行：等次“{tier}”不是{'、'.join(config['tier_amounts'])}之一")
        lines.append({"rank": rank, "unit_name": cells["单位名称"], "score": score, "tier": tier})
    names = [line["unit_name"] for line in lines]
    if len(set(names)) != len(names):
        errors.append("有单位名称重复出现")
    if len(lines) != config["units_total"]:
        errors.append(f"应有全区 {config['units_total']} 个街乡镇，表中有 {len(lines)} 个")
    if config["office_name"] not in names:
        errors.append(f"表中没有本单位“{config['office_name']}”")
    if errors:
        raise InvalidData(f"排名表 {filename} 有误，未导入：" + "；".join(errors))
    return lines
