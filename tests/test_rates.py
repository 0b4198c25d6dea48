"""The three rates and the composite on hand-computed fixtures."""

from __future__ import annotations

import pytest

from engine.analysis import periods
from engine.analysis.rates import costly_tickets, period_rates
from engine.analysis.ticket_import import import_tickets
from tests.conftest import ADMIN
from tests.helpers import finish, receive, ticket_row, to_handling
from tests.sheets import sheet_row, write_csv

# Assessment month 2026-11 runs 2026-10-19 00:00 to 2026-11-18 24:00 Beijing time.
MONTH_ROWS = [
    sheet_row("A"),                                                                      # full marks
    sheet_row("B", 是否满意="基本满意"),                                                   # 0.1+0.5+0.4×0.9
    sheet_row("C", 一级分类="住房", 是否解决="否", 是否满意="不满意"),                          # 0.1
    sheet_row("D", 一级分类="住房", 是否联系="否", 是否解决="否", 是否满意="不满意"),             # 0
    sheet_row("E", 是否保留="否", 是否满意="不满意"),                                        # exempted
    sheet_row("F", 是否有效回访="否", 是否满意="不满意"),                                     # no valid callback
    sheet_row("G", 工单性质="协办", 是否满意="不满意"),                                       # assisting unit
    sheet_row("H", "2026-11-19 08:00:00", 是否满意="不满意"),                              # next month
    sheet_row("I", "2026-10-19 00:30:00"),                                                # first minutes of the month
]


@pytest.fixture
def month(engine, tmp_path):
    import_tickets(engine, write_csv(tmp_path / "month.csv", MONTH_ROWS), ADMIN)
    return periods.parse("2026-11", engine.rules)


def test_overall_rates_and_composite(engine, month):
    overall = period_rates(engine, month).overall
    assert (overall.counts.tickets, overall.counts.exempted, overall.counts.valid) == (8, 1, 5)
    assert overall.response == pytest.approx(4 / 5)
    assert overall.resolution == pytest.approx(3 / 5)
    assert overall.satisfaction == pytest.approx((2 + 0.9) / 5)
    assert overall.composite == pytest.approx(61.2)
    assert overall.lost_points == pytest.approx(38.8)


def test_by_category_lost_points_add_up(engine, month):
    table = period_rates(engine, month, by="category")
    assert [row.key for row in table.rows] == ["住房", "城市管理"]
    housing, city = table.rows
    assert housing.composite == pytest.approx(5.0) and housing.lost_points == pytest.approx(38.0)
    assert city.composite == pytest.approx(100 * (0.1 + 0.5 + 0.4 * 2.9 / 3))
    assert city.lost_points == pytest.approx(0.8)
    assert city.counts.tickets == 6  # A, B, E, F, G, I


def test_costly_tickets_explain_the_gap(engine, month):
    losses = costly_tickets(engine, month)
    assert [(loss.ticket_no, round(loss.lost_points, 6)) for loss in losses] == [("D", 20.0), ("C", 18.0), ("B", 0.8)]


def test_no_valid_callbacks_and_all_exempted(engine, tmp_path):
    rows = [sheet_row("N1", 是否有效回访="否"), sheet_row("N2", 是否保留="否"), sheet_row("N3", 是否满意="")]
    rows[2]["是否有效回访"] = ""  # no district verdict and no rating: not a valid callback
    import_tickets(engine, write_csv(tmp_path / "none.csv", rows), ADMIN)
    overall = period_rates(engine, periods.parse("2026-11", engine.rules)).overall
    assert overall.counts.valid == 0 and overall.counts.tickets == 3 and overall.counts.exempted == 1
    assert overall.composite is None and overall.response is None and overall.lost_points == 0
    empty = period_rates(engine, periods.parse("2026-10", engine.rules)).overall
    assert empty.counts.tickets == 0 and empty.composite is None


def test_engine_tickets_count_and_district_callback_overrides(engine, tmp_path):
    ticket = receive(engine, "ENG-1")  # received 2026-11-20 Beijing: assessment month 2026-12
    to_handling(engine, ticket.instance_id)
    finish(engine, ticket.instance_id)
    december = periods.parse("2026-12", engine.rules)
    assert period_rates(engine, december).overall.composite == pytest.approx(100.0)

    row = sheet_row("ENG-1", "2026-11-20 09:00:00", 是否满意="基本满意", 主要内容="表格里的另一段文字")
    result = import_tickets(engine, write_csv(tmp_path / "callback.csv", [row]), ADMIN)
    assert (result.created, result.updated) == (0, 1)
    assert period_rates(engine, december).overall.composite == pytest.approx(96.0)
    stored = ticket_row(engine, ticket.ticket_id)
    assert stored.origin == "engine" and stored.content.startswith("楼下烧烤店") and stored.satisfaction == "基本满意"
