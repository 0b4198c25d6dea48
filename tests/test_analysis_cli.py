"""The analysis commands of the jiesu command line."""

from __future__ import annotations

from docx import Document

from tests.sheets import HEADER, sheet_row, write_csv
from tests.test_ranking import ranking_rows, write_ranking
from tests.test_rates import MONTH_ROWS


def test_import_rates_ranking_report(run, tmp_path):
    assert run("init").exit_code == 0
    sheet = write_csv(tmp_path / "t.csv", MONTH_ROWS)
    first = run("import-sheet", str(sheet))
    assert first.exit_code == 0 and "共 9 行：新增 9 件，更新 0 件，未变 0 件" in first.output
    assert "已导入过，未做任何更改" in run("import-sheet", str(sheet)).output

    rates = run("rates", "--period", "2026-11", "--by", "category", "--lost", "2")
    assert rates.exit_code == 0, rates.output
    overall = next(line for line in rates.output.splitlines() if line.startswith("全部"))
    assert "响应率   80.00%" in overall and "综合得分  61.20" in overall
    assert [line.split()[0] for line in rates.output.splitlines()[-2:]] == ["D", "C"]

    ranked = run("ranking", "import", str(write_ranking(tmp_path / "r.csv", ranking_rows(3))), "--period", "2026-11")
    assert ranked.exit_code == 0 and "排名 3/22  等次 优秀  奖惩 +12,000 元  （区排名表）" in ranked.output
    shown = run("ranking", "show", "--period", "2026-12", "--months", "2")
    assert "2026-12" in shown.output and "（估算）" in shown.output

    output = tmp_path / "月报.docx"
    report = run("report", "monthly", "--period", "2026-11", "-o", str(output))
    assert report.exit_code == 0 and "已生成" in report.output
    assert Document(str(output)).paragraphs[0].text == "城南街道接诉即办工作月报"


def test_errors_exit_with_chinese_message(run, tmp_path):
    run("init")
    bad = write_csv(tmp_path / "bad.csv", [sheet_row("X")], [*HEADER, "备注"])
    result = run("import-sheet", str(bad))
    assert result.exit_code == 1 and "无法识别的列：备注" in result.output
    assert "无法识别期间" in run("rates", "--period", "十一月").output
