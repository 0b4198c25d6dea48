"""Normalised places from Chinese addresses: residential compound (with its sub-area), else road; building.

Addresses are written many ways for one place: 北京市昌平区城南街道龙锦苑东五区三号楼, 龙锦苑东5区3号楼,
ＬＪＹ… The key drops the city, district, town or sub-district and community prefixes, writes numbers as
digits and keeps the compound (or, without one, the road), so neighbours in different buildings of one
compound share a key while the building stays in the label staff read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_CN = "〇零一二三四五六七八九十"
# Beijing's sixteen districts: geography, not configuration.
_DISTRICTS = ("东城区", "西城区", "朝阳区", "海淀区", "丰台区", "石景山区", "门头沟区", "房山区", "通州区",
              "顺义区", "昌平区", "大兴区", "怀柔区", "平谷区", "密云区", "延庆区")
_PREFIXES = (
    re.compile(r"^(北京市|北京)"),
    re.compile("^(" + "|".join(_DISTRICTS) + ")"),
    re.compile(r"^[\u4e00-\u9fff]{2,5}?(街道办事处|地区办事处|街道|镇|乡)"),
    re.compile(r"^[\u4e00-\u9fff]{2,6}?社区(居委会)?(?=[\u4e00-\u9fff0-9])"),
)
_NUMBER = re.compile(f"[{_CN}]+(?=号|楼|栋|幢|单元|区|里|期|条|巷)")
_COMPOUND = re.compile(
    r"(?P<name>[\u4e00-\u9fff0-9]{1,10}?(?:小区|家园|花园|嘉园|公寓|苑|园|村|庭|府|城|院|阁|里))"
    r"(?P<sub>[东西南北中]?[0-9]{1,2}区|[东西南北中]区|[东西南北中]里|[0-9]期)?")
_ROAD = re.compile(r"(?P<road>[\u4e00-\u9fff0-9]{1,8}?(?:大街|大道|路|街|胡同|巷))(?!道)")
_BUILDING = re.compile(r"([0-9]{1,3})(?:号楼|栋|幢|楼)")
_NOISE = re.compile(r"[\s,，.。、;；:：()（）\[\]【】\-—_/\\#＃]")


@dataclass(frozen=True)
class Place:
    key: str | None  # compound (+ sub-area) or road; None when the text names neither
    label: str | None  # key plus building, as staff read it


def place_of(address: str, content: str = "") -> Place:
    """The place an address names; the content is read only when the address names none."""
    for text in (address, content):
        place = _parse(normalise(text))
        if place.key:
            return place
    return Place(None, None)


def normalise(text: str) -> str:
    """Half-width, no punctuation or spaces, Chinese numerals before 号/楼/区… as digits, no admin prefix."""
    text = _NOISE.sub("", unicodedata.normalize("NFKC", text or ""))
    text = _NUMBER.sub(lambda m: str(_chinese_number(m.group())), text)
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            stripped = prefix.sub("", text, count=1)
            if stripped != text and stripped:
                text, changed = stripped, True
    return text


def _parse(text: str) -> Place:
    road = _ROAD.search(text)
    compound = _COMPOUND.search(text)
    if compound and road and compound.start() <= road.start() < road.end() < compound.end():
        compound = _COMPOUND.search(text, road.end())  # 回龙观西大街龙腾苑: the compound starts after the road
    building = _BUILDING.search(text[compound.end():] if compound else text)
    if compound:
        key = compound.group("name").removesuffix("小区") + (compound.group("sub") or "")
        if key[0].isdigit() and road:
            key = road.group("road") + key  # 南环路88号院
    elif road is not None:
        key = road.group("road")
    else:
        return Place(None, None)
    label = key + (f"{building.group(1)}号楼" if building else "")
    return Place(key, label)


def _chinese_number(text: str) -> int:
    """一 .. 九十九, and digit by digit (二〇五 → 205)."""
    if "十" not in text:
        return int("".join(str(_CN.index(c) - 1 if c != "〇" else 0) for c in text))
    tens, _, ones = text.partition("十")
    return (_CN.index(tens) - 1 if tens else 1) * 10 + (_CN.index(ones) - 1 if ones else 0)
