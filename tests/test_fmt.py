"""How figures look to staff."""

from __future__ import annotations

from engine.analysis.fmt import change, pct, score, yuan


def test_formats():
    assert (pct(0.8), pct(None), pct(float("nan"))) == ("80.00%", "—", "—")
    assert (score(61.2), score(None)) == ("61.20", "—")
    assert (change(2.0), change(-0.5), change(-0.0004), change(None)) == ("+200.0%", "-50.0%", "0.0%", "新增")
    assert (yuan(12000), yuan(-20000), yuan(0), yuan(None)) == ("+12,000 元", "-20,000 元", "0 元", "—")
