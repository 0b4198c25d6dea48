"""The three rates (三率) and the composite score, overall and by group, and the tickets that cost points.

For a period the counted tickets are those received in it, not exempted (剔除), not handled as 协办
(configurable), with a valid callback: the district's 是否有效回访 where the sheet gives it, else a
recorded satisfaction rating (满意/基本满意/不满意). Over those V tickets:
response = contacted / V, resolution = solved / V, satisfaction = (满意 + factor × 基本满意) / V,
composite = 100 × (weights · rates). A ticket's lost points are its share of what the composite lacks
from 100 × Σweights, so the lost points of all tickets add up to exactly that gap.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, not_, or_, select

from engine.errors import InvalidData
from engine.service import Engine

from .periods import Period
from .volumes import T, in_period

GROUPS = {"category": T.category_l1, "community": T.community, "unit": T.lead_unit}
GROUP_LABELS = {"category": "一级分类", "community": "村/社区", "unit": "承办单位"}


@dataclass(frozen=True)
class Counts:
    tickets: int = 0
    exempted: int = 0
    valid: int = 0
    contacted: int = 0
    solved: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True)
class GroupedCounts:
    """Counts per combination of the `by` columns: one query serves the overall figures and every grouping."""

    by: tuple[str, ...]
    counts: dict[tuple[str | None, ...], Counts]


@dataclass(frozen=True)
class RateRow:
    """Figures of one group (key None: the whole period); rates are None without valid callbacks."""

    key: str | None
    counts: Counts
    response: float | None
    resolution: float | None
    satisfaction: float | None
    composite: float | None
    lost_points: float  # of the period's composite, so rows add up to the whole period's loss

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, **asdict(self.counts), "response": self.response, "resolution": self.resolution,
                "satisfaction": self.satisfaction, "composite": self.composite, "lost_points": self.lost_points}


@dataclass(frozen=True)
class RateTable:
    period: Period
    by: str | None
    overall: RateRow
    rows: list[RateRow]  # most lost points first
    formula: str


@dataclass(frozen=True)
class TicketLoss:
    ticket_no: str
    received_at: datetime
    category: str | None
    community: str | None
    unit: str | None
    contacted: bool | None
    solved: bool | None
    satisfaction: str | None
    lost_points: float


class Assessment:
    """The assessment rules in force for a period: which tickets count and how they score."""

    def __init__(self, engine: Engine, period: Period):
        self.values = engine.rules.at(period.last_day)["assessment"]
        self.weights = self.values["weights"]
        self.factor = self.values["basically_satisfied_factor"]
        self.full = 100 * sum(self.weights.values())

    def counted(self) -> Any:
        """SQL condition: the ticket is in the denominator."""
        valid = or_(T.valid_callback.is_(True),
                    and_(T.valid_callback.is_(None), T.satisfaction.in_(self.values["rated_satisfaction"])))
        not_exempted = or_(T.exempted.is_(None), T.exempted.is_(False))
        role_counts = or_(T.handling_role.is_(None), T.handling_role.not_in(self.values["excluded_handling_roles"]))
        return and_(valid, not_exempted, role_counts)

    def ticket_score(self, contacted: bool | None, solved: bool | None, satisfaction: str | None) -> float:
        """What one valid ticket earns, between 0 and the full weight sum."""
        rated = {"满意": 1.0, "基本满意": self.factor}.get(satisfaction or "", 0.0)
        return (self.weights["response"] * bool(contacted) + self.weights["resolution"] * bool(solved)
                + self.weights["satisfaction"] * rated)

    def row(self, key: str | None, counts: Counts, period_valid: int) -> RateRow:
        if counts.valid == 0:
            return RateRow(key, counts, None, None, None, None, 0.0)
        response, resolution = counts.contacted / counts.valid, counts.solved / counts.valid
        satisfaction = (counts.satisfied + self.factor * counts.basically_satisfied) / counts.valid
        composite = 100 * (self.weights["response"] * response + self.weights["resolution"] * resolution
                           + self.weights["satisfaction"] * satisfaction)
        lost = (self.full - composite) * counts.valid / period_valid
        return RateRow(key, counts, response, resolution, satisfaction, composite, lost)

    def formula(self) -> str:
        w = self.weights
        return (f"综合得分 = ({w['response']:.0%}×响应率 + {w['resolution']:.0%}×解决率 + "
                f"{w['satisfaction']:.0%}×满意率)×100；满意率 = (满意 + {self.factor}×基本满意)/有效回访量；"
                "分母为有效回访工单，不含剔除工单")


def period_rates(engine: Engine, period: Period, by: str | None = None,
                 counts: GroupedCounts | None = None) -> RateTable:
    """The three rates and composite of a period, overall and (with `by`) per category, community or unit.
    `counts` from grouped_counts() over several columns lets one query serve several tables."""
    if by is not None and by not in GROUPS:
        raise InvalidData(f"不支持按 {by} 分组：可选 {'、'.join(GROUPS)}")
    grouped = counts or grouped_counts(engine, period, (by,) if by else ())
    rules = Assessment(engine, period)
    overall_counts = sum(grouped.counts.values(), Counts())
    overall = rules.row(None, overall_counts, overall_counts.valid)
    rows = [] if by is None else sorted(
        (rules.row(key, c, overall_counts.valid) for key, c in _merged(grouped, by).items()),
        key=lambda r: (-r.lost_points, -r.counts.tickets, r.key or ""))
    return RateTable(period, by, overall, rows, rules.formula())


def _merged(grouped: GroupedCounts, by: str) -> dict[str | None, Counts]:
    position = grouped.by.index(by)
    merged: dict[str | None, Counts] = {}
    for key, counts in grouped.counts.items():
        merged[key[position]] = merged.get(key[position], Counts()) + counts
    return merged


def costly_tickets(engine: Engine, period: Period, limit: int | None = 50) -> list[TicketLoss]:
    """Counted tickets that did not earn full marks, the costliest first."""
    rules = Assessment(engine, period)
    counted = and_(in_period(period), rules.counted())
    perfect = and_(T.contacted.is_(True), T.solved.is_(True), T.satisfaction == "满意")
    with engine.db.read() as session:
        valid = session.scalar(select(func.count()).where(counted)) or 0
        found = session.execute(select(T.ticket_no, T.received_at, T.category_l1, T.community, T.lead_unit,
                                       T.contacted, T.solved, T.satisfaction).where(counted, not_(perfect))).all()
    losses = [TicketLoss(*row, lost_points=100 * (sum(rules.weights.values()) - rules.ticket_score(*row[5:])) / valid)
              for row in found]
    losses.sort(key=lambda loss: (-loss.lost_points, loss.ticket_no))
    return losses if limit is None else losses[:limit]


def grouped_counts(engine: Engine, period: Period, by: tuple[str, ...] = tuple(GROUPS)) -> GroupedCounts:
    """Ticket counts of a period per combination of the `by` columns, in one query."""
    counted = Assessment(engine, period).counted()
    exempted = T.exempted.is_(True)
    keys = [GROUPS[name] for name in by]

    def total(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    columns = [func.count(), total(exempted), total(counted), total(and_(counted, T.contacted.is_(True))),
               total(and_(counted, T.solved.is_(True))), total(and_(counted, T.satisfaction == "满意")),
               total(and_(counted, T.satisfaction == "基本满意"))]
    query = select(*keys, *columns).where(in_period(period)).group_by(*keys)
    with engine.db.read() as session:
        result = session.execute(query).all()
    return GroupedCounts(by, {tuple(row[:len(keys)]): Counts(*(int(v or 0) for v in row[len(keys):]))
                              for row in result if row[len(keys)]})
