"""Hot issues of a period: top categories, places and keywords, with their change against the previous
period and the same period last year, and the policy-theme breakdown (每月一题, 七有五性)."""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import jieba
import orjson
import pandas as pd
from sqlalchemy import String, cast, func, select

from engine.service import Engine

from . import periods
from .periods import Period
from .volumes import T, in_period

jieba.setLogLevel(logging.WARNING)  # its dictionary loads lazily, on the first segmentation

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
    frames = [_frame(engine, p) for p in trio]
    totals = tuple(int(frame["n"].sum()) for frame in frames)

    def grouped(column: str) -> pd.DataFrame:
        return compare([_value_counts(frame, column) for frame in frames], totals[0], top)

    mentions, sampled = zip(*(keyword_counts(engine, p, n, config["hot_issues"])
                              for p, n in zip(trio, totals, strict=True)), strict=True)
    return HotIssues(
        period=period, previous=trio[1], last_year=trio[2], totals=totals,
        categories=grouped("category"), subcategories=grouped("subcategory"), places=grouped("community"),
        keywords=compare([_scaled(counts, sampled[0], n) for counts, n in zip(mentions, sampled, strict=True)],
                         sampled[0], top),
        keyword_sample=sampled[0],
        policy_tags=_themes([_tag_counts(frame) for frame in frames], config["policy_tags"]),
        monthly_themes=_themes([_value_counts(frame, "monthly_theme") for frame in frames], None),
    )


def _frame(engine: Engine, period: Period) -> pd.DataFrame:
    """The period's ticket counts (column n) per combination of the columns hot issues count, in one query;
    there are far fewer combinations than tickets. Tags stay JSON text: decoded once per combination."""
    keys = (T.category_l1, T.category_l2, T.community, T.monthly_theme, cast(T.policy_tags, String))
    query = select(*keys, func.count()).where(in_period(period)).group_by(*keys)
    with engine.db.read() as session:
        frame = pd.DataFrame(session.execute(query).all(),
                             columns=["category", "category_l2", "community", "monthly_theme", "policy_tags", "n"])
    frame["subcategory"] = frame["category"] + "/" + frame["category_l2"]
    return frame


def _value_counts(frame: pd.DataFrame, column: str) -> dict[str, int]:
    """Tickets per value of `column`; missing and empty values are left out."""
    present = frame[frame[column].notna() & (frame[column] != "")]
    return {str(key): int(count) for key, count in present.groupby(column)["n"].sum().items()}


def _tag_counts(frame: pd.DataFrame) -> dict[str, int]:
    counts: Counter = Counter()
    for tags, n in zip(frame["policy_tags"], frame["n"], strict=True):
        for tag in (orjson.loads(tags) if tags else None) or ():  # JSON null counts as no tags
            counts[tag] += int(n)
    return dict(counts)


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


def keyword_counts(engine: Engine, period: Period, tickets: int, config: dict[str, Any]) -> tuple[Counter, int]:
    """Per word, how many sampled tickets mention it. A sample spread over the period (tickets whose id is
    a multiple of k) bounds the work; it is chosen in SQL so only sampled contents are read."""
    step = max(1, -(-tickets // config["keyword_sample"]))
    with engine.db.read() as session:
        sample = session.scalars(select(T.content).where(in_period(period), T.id % step == 0)).all()
    counts: Counter = Counter()
    stopwords = set(config["stopwords"])
    for content in sample:
        counts.update({word for word in _segment(content) if len(word) >= 2 and word not in stopwords
                       and _WORD.match(word)})
    return counts, len(sample)


def _segment(content: str) -> list[str]:
    # Dictionary words only (no HMM guessing of new words): faster, and keywords are dictionary words.
    return jieba.lcut(content or "", HMM=False)


def _scaled(counts: Counter, target: int, sampled: int) -> dict[str, int]:
    """Mentions scaled to this period's sample size, so periods with more tickets compare fairly."""
    if sampled == 0:
        return {}
    return {word: round(count * target / sampled) for word, count in counts.items()}


def _themes(counts: list[dict[str, int]], order: list[str] | None) -> pd.DataFrame:
    current, previous, last_year = counts
    keys = order if order is not None else sorted(current, key=lambda key: (-current[key], key))
    return pd.DataFrame([{"key": key, "count": current.get(key, 0), "previous": previous.get(key, 0),
                          "last_year": last_year.get(key, 0)} for key in keys],
                        columns=["key", "count", "previous", "last_year"])


def _pct(now: int, before: int) -> float | None:
    return None if before == 0 else (now - before) / before
