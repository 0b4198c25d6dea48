"""Charts as PNG bytes, drawn with a CJK font so Chinese labels render as text, not boxes."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from functools import cache

# Figures are drawn without pyplot, so no GUI backend or global figure state is involved.
from matplotlib import font_manager, rc_context
from matplotlib.figure import Figure
from matplotlib.text import Text

from engine.errors import InvalidData

_RENDERING = threading.Lock()


@dataclass(frozen=True)
class Chart:
    png: bytes
    fonts: frozenset[str]  # font files the text was drawn with, to check that Chinese is really rendered


@cache
def cjk_family(candidates: tuple[str, ...]) -> str:
    """The first configured font family that is installed."""
    for attempt in range(2):
        installed = {font.name for font in font_manager.fontManager.ttflist}
        for family in candidates:
            if family in installed:
                return family
        if attempt == 0:
            _add_system_fonts()
    raise InvalidData(f"未找到中文字体（{'、'.join(candidates)}）：请安装 fonts-noto-cjk 后重试")


def _add_system_fonts() -> None:
    """matplotlib caches the font list; a font installed after the cache was built is added here."""
    known = {font.fname for font in font_manager.fontManager.ttflist}
    for path in font_manager.findSystemFonts():
        if path not in known:
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue  # a font file matplotlib cannot read is simply not a candidate


def bar_chart(title: str, labels: list[str], series: dict[str, list[float]], ylabel: str,
              families: tuple[str, ...]) -> Chart:
    """Bars per label, one colour per series (e.g. 本期 / 上期)."""
    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        width = 0.8 / max(1, len(series))
        for offset, (name, values) in enumerate(series.items()):
            positions = [i + offset * width - 0.4 + width / 2 for i in range(len(labels))]
            axes.bar(positions, values, width, label=name)
        axes.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 5 else 0, ha="right")
        _finish(axes, title, ylabel, len(series) > 1)

    return _render(draw, families)


def line_chart(title: str, labels: list[str], series: dict[str, list[float | None]], ylabel: str,
               families: tuple[str, ...], inverted: bool = False) -> Chart:
    """Lines over time; `inverted` puts 1 on top, as for ranks."""
    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        for name, values in series.items():
            axes.plot(labels, [float("nan") if v is None else v for v in values], marker="o", label=name)
        if inverted:
            axes.invert_yaxis()
        axes.tick_params(axis="x", rotation=30)
        _finish(axes, title, ylabel, len(series) > 1)

    return _render(draw, families)


def _finish(axes, title: str, ylabel: str, legend: bool) -> None:
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.grid(axis="y", alpha=0.3)
    if legend:
        axes.legend()


def _render(draw, families: tuple[str, ...]) -> Chart:
    # rc_context sets matplotlib's global settings, and matplotlib is not thread-safe: when the
    # scheduler filed several reports at once, one chart's exit restored the default font while
    # another was drawing, which then drew its Chinese with DejaVu Sans (boxes; seen once in CI).
    with _RENDERING, rc_context({"font.family": [cjk_family(families)], "axes.unicode_minus": False}):
        figure = Figure(figsize=(7.5, 3.8), dpi=110, layout="constrained")
        draw(figure)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        fonts = frozenset(font_manager.findfont(text.get_fontproperties(), fallback_to_default=False)
                          for text in figure.findobj(Text) if text.get_text())
    return Chart(buffer.getvalue(), fonts)
