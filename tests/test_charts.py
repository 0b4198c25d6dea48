"""Charts render Chinese with a CJK font, not boxes."""

from __future__ import annotations

import warnings
from datetime import date

import pytest
from matplotlib.ft2font import FT2Font

from engine.analysis.charts import bar_chart, cjk_family, line_chart
from engine.errors import InvalidData
from engine.rules import Rules

FAMILIES = tuple(Rules.load().at(date(2026, 11, 1))["charts"]["font_families"])
TITLE = "三率本期与上期对比"


def test_chinese_text_is_drawn_with_a_cjk_font_that_has_the_glyphs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font" when it would draw boxes
        chart = bar_chart(TITLE, ["响应率", "解决率"], {"本期": [80.0, 60.0], "上期": [70.0, 65.0]}, "百分比", FAMILIES)
    assert chart.png.startswith(b"\x89PNG")
    assert len(chart.fonts) == 1
    (font,) = chart.fonts
    assert "CJK" in str(font)
    charmap = FT2Font(str(font)).get_charmap()
    assert all(ord(char) in charmap for char in TITLE + "响应率解决率本期上期百分比")


def test_line_chart_uses_the_same_font():
    chart = line_chart("排名走势", ["2026-10", "2026-11"], {"排名": [6, None]}, "名次", FAMILIES, inverted=True)
    assert chart.png.startswith(b"\x89PNG") and all("CJK" in str(font) for font in chart.fonts)


def test_missing_font_is_a_clear_error():
    with pytest.raises(InvalidData, match="未找到中文字体"):
        cjk_family(("没有这个字体",))
