"""Spreadsheet writers: formula-like text stays text, and Excel's row limit is refused clearly."""

from __future__ import annotations

import csv

import pytest
from openpyxl import load_workbook

from engine.errors import InvalidData
from engine.tabular import write_csv, write_xlsx


def test_csv_guard_prefixes_only_formula_like_text(tmp_path):
    rows = [["=SUM(A1)", "+1", "-2", "@x", "普通", 3, None]]
    assert write_csv(tmp_path / "a.csv", list("abcdefg"), rows, guard_formulas=True) == 1
    with (tmp_path / "a.csv").open(encoding="utf-8-sig", newline="") as handle:
        assert list(csv.reader(handle))[1] == ["'=SUM(A1)", "'+1", "'-2", "'@x", "普通", "3", ""]


def test_excel_keeps_numbers_and_refuses_more_rows_than_a_sheet_holds(tmp_path):
    assert write_xlsx(tmp_path / "ok.xlsx", ["n", "t"], [[1, "=1+1"], [2, "x"]], max_rows=2) == 2
    sheet = load_workbook(tmp_path / "ok.xlsx").active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [["n", "t"], [1, "=1+1"], [2, "x"]]
    with pytest.raises(InvalidData, match="最多 2 行"):
        write_xlsx(tmp_path / "big.xlsx", ["n"], [[1], [2], [3]], max_rows=2)
