"""Words in ticket content, by jieba segmentation: the issue class and sensitive words a ticket names.

Matching whole words of a segmented text, not substrings, keeps 供水管 from reading as 停水 and 记者站路
from reading as 记者 … as far as the segmenter gets it right. The configured words are added to a
tokenizer of their own (never jieba's shared one), so each is kept whole.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

import jieba

jieba.setLogLevel(logging.WARNING)


@lru_cache(maxsize=8)
def _tokenizer(words: tuple[str, ...]) -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    for word in words:
        tokenizer.add_word(word, freq=100_000)
    return tokenizer


def words(text: str, vocabulary: tuple[str, ...]) -> list[str]:
    """`text` segmented, with every word of `vocabulary` kept whole."""
    return _tokenizer(tuple(sorted(set(vocabulary)))).lcut(text or "")


@lru_cache(maxsize=64)
def _word_set(text: str, vocabulary: tuple[str, ...]) -> frozenset[str]:
    """One segmentation per content, shared by the issue class and the sensitive-word check."""
    return frozenset(words(text, vocabulary))


def _vocabulary(values: dict[str, Any]) -> tuple[str, ...]:
    escalation = values["escalation"]
    lists = [*escalation["issue_classes"].values(), *escalation["sensitive_words"].values()]
    return tuple(sorted({word for group in lists for word in group}))


def issue_class(content: str, categories: tuple[str | None, ...], values: dict[str, Any]) -> str | None:
    """The configured issue class whose words the content uses most, else the most specific category."""
    tokens = _word_set(content or "", _vocabulary(values))
    best, hits = None, 0
    for name, keywords in values["escalation"]["issue_classes"].items():
        count = len(tokens & set(keywords))
        if count > hits:
            best, hits = name, count
    return best or next((c for c in categories if c), None)


def sensitive_hits(content: str, values: dict[str, Any]) -> dict[str, list[str]]:
    """Sensitive-word list name -> the words of it the content uses (only lists with a hit)."""
    tokens = _word_set(content or "", _vocabulary(values))
    found = {name: sorted(tokens & set(listed)) for name, listed in values["escalation"]["sensitive_words"].items()}
    return {name: hits for name, hits in found.items() if hits}
