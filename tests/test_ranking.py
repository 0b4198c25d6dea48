"""The district ranking: import, place, tier and money, trend, and the estimate before the sheet arrives."""

from __future__ import annotations

import pytest

from engine.analysis import periods
from engine.analysis.ranking import import_ranking, ranking_trend, standing
from engine.analysis.ticket_import import import_tickets
from engine.errors import InvalidData
from tests.conftest import ADMIN
from tests.helpers import snapshot
from tests.sheets import sheet_row, write_csv

OTHERS = [f"第{n}镇" for n in range(1, 22)]


def ranking_rows(office_rank: int = 5, units: list[str] | None = None) -> list[dict]:
    names = list(units or OTHERS)
    names.insert(office_rank - 1, "城南街道")
    return [{"排名": rank, "单位名称": name, "得分": 100 - rank} for rank, name in enumerate(names, start=1)]


def write_ranking(path, rows, header=("排名", "单位名称", "得分")):
    return write_csv(path, rows, list(header))


def test_import_gives_place_tier_and_bonus(engine, tmp_path):
    result = import_ranking(engine, write_ranking(tmp_path / "r.csv", ranking_rows(5)), "2026-11", ADMIN)
    s = result.standing
    assert (s.rank, s.units, s.score, s.tier, s.amount, s.estimated) == (5, 22, 95.0, "优秀", 12000, False)
    low = standing(engine, periods.parse("2026-11", engine.rules))
    assert low == s


def test_same_sheet_twice_changes_nothing_and_correction_replaces(engine, tmp_path):
    path = write_ranking(tmp_path / "r.csv", ranking_rows(5))
    import_ranking(engine, path, "2026-11", ADMIN)
    before = snapshot(engine)
    assert import_ranking(engine, path, "2026-11", ADMIN).already_imported
    assert snapshot(engine) == before
    corrected = import_ranking(engine, write_ranking(tmp_path / "r2.csv", ranking_rows(20)), "2026-11", ADMIN)
    assert (corrected.standing.rank, corrected.standing.tier, corrected.standing.amount) == (20, "待提升", -20000)


def test_bad_sheets_are_refused(engine, tmp_path):
    before = snapshot(engine)
    with pytest.raises(InvalidData, match="应有全区 22 个街乡镇，表中有 21 个"):
        import_ranking(engine, write_ranking(tmp_path / "a.csv", ranking_rows(5)[:21]), "2026-11", ADMIN)
    no_office = [{"排名": n, "单位名称": f"第{n}镇", "得分": 90} for n in range(1, 23)]
    with pytest.raises(InvalidData, match="表中没有本单位“城南街道”"):
        import_ranking(engine, write_ranking(tmp_path / "b.csv", no_office), "2026-11", ADMIN)
    with pytest.raises(InvalidData, match="缺少的列：得分"):
        import_ranking(engine, write_ranking(tmp_path / "c.csv", ranking_rows(5), ("排名", "单位名称")), "2026-11",
                       ADMIN)
    with pytest.raises(InvalidData, match="必须是考核月"):
        import_ranking(engine, write_ranking(tmp_path / "d.csv", ranking_rows(5)), "2026-Q4", ADMIN)
    assert snapshot(engine) == before


def test_estimate_before_the_sheet_and_trend(engine, tmp_path):
    import_ranking(engine, write_ranking(tmp_path / "r.csv", ranking_rows(5)), "2026-11", ADMIN)
    # December (2026-11-19 to 2026-12-18): one full-marks ticket and one that earns 0.1 -> composite 55.
    rows = [sheet_row("D1", "2026-11-25 10:00:00"),
            sheet_row("D2", "2026-11-26 10:00:00", 是否解决="否", 是否满意="不满意")]
    import_tickets(engine, write_csv(tmp_path / "t.csv", rows), ADMIN)
    december = periods.parse("2026-12", engine.rules)
    estimate = standing(engine, december)
    # Other units scored 99..78 in November except our 95: all 21 are above 55.
    assert estimate.score == pytest.approx(55.0)
    assert (estimate.rank, estimate.tier, estimate.amount) == (22, "待提升", -20000)
    assert estimate.estimated and estimate.basis == "2026-11"
    trend = ranking_trend(engine, december, 3)
    assert [(t.period, t.rank, t.estimated) for t in trend] == [("2026-10", None, False), ("2026-11", 5, False),
                                                               ("2026-12", 22, True)]
