"""Numbers, dates and units as a Mandarin speaker says them, with cn2an doing the counting.

cn2an (MIT) writes a number in Chinese numerals with the 零 a reader inserts
(10086 -> 一万零八十六, 3.5 -> 三点五); its own ``transform`` also rewrites whole
sentences, but reads "9:30" as 九:三十 and "10-20" as 十负二十, so only its
number conversion is used and the reading is chosen here:

* a year is read digit by digit (2000年 -> 二零零零年), a duration counted (2000多年 -> 两千多年);
* 两, not 二, before 千/万/亿 and a measure word (两千, 两个, 两公里), as people say it;
* "3.5%" -> 百分之三点五, "$2 billion" -> 二十亿美元, "km/h" -> 公里每小时, "9:30" -> 九点三十分,
  "10-20" -> 十到二十, "3rd" -> 第三, "-5°C" -> 零下五摄氏度.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from ytmaker.spoken.grammar import CURRENCIES, SCALES, UNITS, is_range, value

_DIGITS = "零一二三四五六七八九"
#: 2 before one of these is 两 (两个, 两年, 两万), but not before 年级 (二年级: the second grade)
_MEASURE = re.compile(r"^\s?(?:[个只位名本次天周种条件张台辆家所座岁倍万亿千百项块层场米克斤吨升杯点]|公[里斤顷]|小时|分钟|年(?!级))")
_TWO = re.compile(r"(?<![十一二三四五六七八九])二(?=[千万亿])")
#: after "N年": a duration (2000多年, 300年来), not a year
_DURATION = re.compile(r"^年?(?:多|余|来|之久|左右)|^多年")
_TEMPERATURE = frozenset({"°C", "℃", "°F", "℉"})


class Chinese:
    """Reads the numbers of one text (the text is kept for what follows a number: 年, a measure word)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def say(self, m: re.Match[str]) -> str | None:
        if m["alone"]:
            return UNITS[m["alone"]][2]
        if m["date"]:
            return f"{digits(m['year'])}年{cardinal(str(int(m['month'])))}月{cardinal(str(int(m['day'])))}日"
        if m["hour"]:
            hour, minute = int(m["hour"]), int(m["minute"])
            if hour > 24 or minute > 59:
                return None
            said = ("两" if hour == 2 else cardinal(str(hour))) + "点"
            return said + (f"{'零' if minute < 10 else ''}{cardinal(str(minute))}分" if minute else "")
        if m["currency"]:
            amount = Decimal(value(m["amount"])) * SCALES.get(m["scale"] or "", 1)
            return cardinal(_plain(amount)) + CURRENCIES[m["currency"]][2]
        return self._number(m)

    def _number(self, m: re.Match[str]) -> str | None:
        a, b = value(m["a"]), value(m["b"] or "")
        ranged = is_range(m)
        after = self.text[m.end():m.end() + 4]
        if m["b"] and not ranged:
            return None
        if m["decade"] and a.isdigit():
            return (digits(a) if len(a) == 4 else cardinal(a)) + "年代"
        if m["ordinal"] and a.isdigit():
            ordinal = cardinal(a)
            return ordinal if self.text[max(0, m.start() - 1):m.start()] == "第" else "第" + ordinal
        yearly = (after.startswith("年") and not _DURATION.match(after) and a.isdigit() and len(a) in (3, 4)
                  and (not ranged or len(b) in (3, 4)))
        say = digits if yearly else cardinal
        first, last = say(a), say(b) if ranged else ""
        unit = m["unit"]
        if not ranged and a == "2" and not m["sign"] and (unit or _MEASURE.match(after)) and not m["percent_a"]:
            first = "两"
        if m["percent"] or m["percent_a"]:
            return f"百分之{first}" + (f"到百分之{last}" if ranged else "")
        said = first + (f"到{last}" if ranged else "")
        if m["sign"]:
            said = ("零下" if unit in _TEMPERATURE else "负") + said
        return said + (UNITS[unit][2] if unit else "")


@lru_cache(maxsize=4096)  # texts repeat their numbers (years, counts); a conversion costs ~50 µs
def cardinal(number: str) -> str:
    """A number in Chinese numerals (two thousand: 两千); one with a leading zero or too long to count, digit by digit."""
    # imported here: 0.3 s to import (it builds all its converters), paid only by a Chinese text with numbers
    import cn2an  # type: ignore[import-untyped]

    whole = number.split(".")[0]
    if (len(whole) > 1 and whole.startswith("0")) or len(whole) > 16:
        return digits(number)
    return _TWO.sub("两", cn2an.an2cn(number))


def digits(number: str) -> str:
    """Digit by digit, as a year or a code is read (2000 -> 二零零零)."""
    return "".join(_DIGITS[int(d)] if d.isdigit() else "点" for d in number)


def _plain(amount: Decimal) -> str:
    """A money amount without an exponent or trailing zeros (2E+9 -> "2000000000", 3.50 -> "3.5")."""
    text = f"{amount:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
