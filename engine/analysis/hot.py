"""Hot issues of a period: top categories, places and keywords, with their change against the previous
period and the same period last year, and the policy-theme breakdown (每月一题, 七有五性)."""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pandas as pd

from engine.service import Engine

from . import periods
from .periods import Period
from .volumes import T, column_values, counts_by, total

_WORD = re.compile(r"^[\u4e00-\u9fffA-Za-z]+$")  # keeps Chinese and Latin words, drops numbers and punctuation
CHANGE_COLUMNS = ["key", "count", "share", "previous", "change_pct", "last_year", "yoy_pct"]


@dataclass(frozen=True)
class HotIssues:
    period: Period
    previous: Period
    last_year: Period
    totals: tuple[int, int, int]  # this period, previous, same period last year
    categories: pd.DataFrame  # CHANGE_COLUMNS; key is 一级分类
    subcategories: pd.DataFrame  # key is 一级分类/二级分类
    places: pd.DataFrame  # key is 村/社区
    keywords: pd.DataFrame  # CHANGE_COLUMNS over sampled tickets; count = tickets whose content has the word
    keyword_sample: int  # tickets segmented in this period
    policy_tags: pd.DataFrame  # key, count, previous, last_year: every 七有五性 tag, in the configured order
    monthly_themes: pd.DataFrame  # key, count, previous, last_year


def hot_issues(engine: Engine, period: Period) -> HotIssues:
    config = engine.rules.at(period.last_day)
    top = config["hot_issues"]["top_n"]
    trio = (period, periods.previous(period, engine.rules), periods.same_last_year(period, engine.rules))
    totals = tuple(total(engine, p) for p in trio)

    def grouped(column: Any) -> pd.DataFrame:
        return compare([counts_by(engine, p, column) for p in trio], totals[0], top)

    mentions, sampled = zip(*(keyword_counts(engine, p, config["hot_issues"]) for p in trio), strict=True)
    return HotIssues(
        period=period, previous=trio[1], last_year=trio[2], totals=totals,
        categories=grouped(T.category_l1),
        subcategories=grouped(T.category_l1 + "/" + T.category_l2),
        places=grouped(T.community),
        keywords=compare([_scaled(counts, sampled[0], n) for counts, n in zip(mentions, sampled, strict=True)],
                         sampled[0], top),
        keyword_sample=sampled[0],
        policy_tags=_themes([_tag_counts(engine, p) for p in trio], config["policy_tags"]),
        monthly_themes=_themes([counts_by(engine, p, T.monthly_theme) for p in trio], None),
    )


def compare(counts: list[dict[str, int]], current_total: int, top: int) -> pd.DataFrame:
    """The `top` keys of this period with their counts before, as a table of changes (percent, None if new)."""
    current, previous, last_year = counts
    keys = sorted(current, key=lambda key: (-current[key], key))[:top]
    rows = [{"key": key, "count": current[key], "share": current[key] / current_total if current_total else 0.0,
             "previous": previous.get(key, 0), "change_pct": _pct(current[key], previous.get(key, 0)),
             "last_year": last_year.get(key, 0), "yoy_pct": _pct(current[key], last_year.get(key, 0))}
            for key in keys]
    frame = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    for column in ("change_pct", "yoy_pct"):  # object columns keep None ("new") instead of NaN
        frame[column] = pd.Series([row[column] for row in rows], dtype=object)
    return frame


def keyword_counts(engine: Engine, period: Period, config: dict[str, Any]) -> tuple[Counter, int]:
    """Per word, how many sampled tickets mention it. An even sample (every k-th ticket) bounds the work."""
    contents = column_values(engine, period, T.content)
    step = max(1, -(-len(contents) // config["keyword_sample"]))
    sample = contents[::step]
    counts: Counter = Counter()
    stopwords = set(config["stopwords"])
    for content in sample:
        counts.update({word for word in _segment(content) if len(word) >= 2 and word not in stopwords
                       and _WORD.match(word)})
    return counts, len(sample)


def _segment(content: str) -> list[str]:
    import jieba  # loads its dictionary on first use: only keyword analysis pays for it

    jieba.setLogLevel(logging.WARNING)
    return jieba.lcut(content or "")


def _scaled(counts: Counter, target: int, sampled: int) -> dict[str, int]:
    """Mentions scaled to this period's sample size, so periods with more tickets compare fairly."""
    if sampled == 0:
        return {}
    return {word: round(count * target / sampled) for word, count in counts.items()}


def _tag_counts(engine: Engine, period: Period) -> dict[str, int]:
    counts: Counter = Counter()
    for tags in column_values(engine, period, T.policy_tags):
        counts.update(tags or [])
    return dict(counts)


def _themes(counts: list[dict[str, int]], order: list[str] | None) -> pd.DataFrame:
    current, previous, last_year = counts
    keys = order if order is not None else sorted(current, key=lambda key: (-current[key], key))
    return pd.DataFrame([{"key": key, "count": current.get(key, 0), "previous": previous.get(key, 0),
                          "last_year": last_year.get(key, 0)} for key in keys],
                        columns=["key", "count", "previous", "last_year"])


def _pct(now: int, before: int) -> float | None:
    return None if before == 0 else (now - before) / before
