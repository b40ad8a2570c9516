"""Numbers, dates and units as an English speaker says them, with num2words doing the counting.

num2words (LGPL, the usual choice, also behind many TTS front ends) spells cardinals,
ordinals and years ("nineteen ninety-nine"); this module decides which reading a
written number wants from what surrounds it. A four-digit number is a year after a
word that introduces one ("in", "since", "May"...), before "AD"/"BC", or in a list or
range that began with a year; otherwise it is a quantity ("2019 people").
"""

from __future__ import annotations

import re
from functools import lru_cache

from num2words import num2words  # type: ignore[import-untyped]

from ytmaker.spoken.grammar import CURRENCIES, UNITS, is_range, value

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
           "December"]
_YEAR_CUE = re.compile(r"(?:\b(?:in|since|by|from|until|till|through|during|before|after|around|circa|c\.|year|early|late|"
                       r"between|summer|winter|spring|autumn|fall|of (?:" + "|".join(_MONTHS) + r"))|\b(?:"
                       + "|".join(m[:3] for m in _MONTHS) + r")[a-z]*\.?(?: \d{1,2}(?:st|nd|rd|th)?,?)?|mid-)\s*$", re.I)
_CHAIN = re.compile(r"^\s*(?:,|,? and|,? or|to|-|–|&)\s*$")
_ERA = re.compile(r"^\s*(?:AD|BC|BCE|CE|A\.D\.|B\.C\.)\b")
_MONTH_AFTER = re.compile(r" (?:" + "|".join(m[:3] for m in _MONTHS) + r")[a-z]*\b")
_MONTH_BEFORE = re.compile(r"\b(?:" + "|".join(m[:3] for m in _MONTHS) + r")[a-z]*\.? $")


class English:
    """Reads the numbers of one text; remembers where the last year ended (a list of years: "in 1987, 2004 and 2019")."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.year_end = -1

    def say(self, m: re.Match[str]) -> str | None:
        if m["alone"]:
            return UNITS[m["alone"]][1]
        if m["date"]:
            month, day = int(m["month"]), int(m["day"])
            if not (1 <= month <= 12 and 1 <= day <= 31):
                return None
            return f"{_MONTHS[month - 1]} {_words(num2words(day, to='ordinal'))}, {_year(int(m['year']))}"
        if m["hour"]:
            return _time(int(m["hour"]), int(m["minute"]))
        if m["currency"]:
            return self._money(m)
        return self._number(m)

    def _money(self, m: re.Match[str]) -> str:
        singular, plural, _ = CURRENCIES[m["currency"]]
        amount = value(m["amount"])
        if m["scale"]:
            scale = {"bn": "billion"}.get(m["scale"], m["scale"])
            return f"{cardinal(amount)} {scale} {plural}"
        whole, _, cents = amount.partition(".")
        said = f"{cardinal(whole)} {singular if whole == '1' else plural}"
        if len(cents) == 2 and int(cents) and m["currency"] == "$":
            said += f" and {cardinal(cents.lstrip('0'))} {'cent' if cents == '01' else 'cents'}"
        elif cents:
            said = f"{cardinal(amount)} {plural}"
        return said

    def _number(self, m: re.Match[str]) -> str | None:
        a, b = value(m["a"]), value(m["b"] or "")
        ranged = is_range(m)
        if m["decade"] and not ranged and a.isdigit() and a.endswith("0") and len(a) in (2, 4):
            words = _year(int(a)) if len(a) == 4 else cardinal(a)
            return words[:-1] + "ies" if words.endswith("y") else words + "s"
        if (m["ordinal"] or self._a_day(m, a)) and not ranged and a.isdigit():
            said = _words(num2words(int(a), to="ordinal"))
            return f"the {said} of" if _MONTH_AFTER.match(self.text, m.end()) else said
        yearly = not m["sign"] and self._a_year(m, a, b if ranged else "")
        if yearly:
            self.year_end = m.end()
        first = _year(int(a)) if yearly else cardinal(a)
        said = f"minus {first}" if m["sign"] else first
        if m["b"] and not ranged:
            return None if not yearly else said  # "3-2": the engine reads it; a year is said and the rest left
        if ranged:
            said += " to " + (_year(int(b)) if yearly else cardinal(b))
        last = b if ranged else a
        if m["percent"] or m["percent_a"]:
            said += " percent"
        elif m["unit"]:
            singular, plural, _ = UNITS[m["unit"]]
            said += " " + (singular if last == "1" and not m["sign"] else plural)
        return said

    def _a_day(self, m: re.Match[str], a: str) -> bool:
        """A day of a month: "4 July", "July 4" (not "May 2019", a year)."""
        if not a.isdigit() or not 1 <= int(a) <= 31 or m["b"] or m["unit"] or m["percent"] or m["percent_a"]:
            return False
        return bool(_MONTH_AFTER.match(self.text, m.end()) or _MONTH_BEFORE.search(self.text, max(0, m.start() - 12), m.start()))

    def _a_year(self, m: re.Match[str], a: str, b: str) -> bool:
        if not (_yearlike(a) and (not b or _yearlike(b))) or m["unit"] or m["percent"] or m["percent_a"]:
            return False
        before = self.text[max(0, m.start() - 30):m.start()]
        chained = self.year_end >= 0 and bool(_CHAIN.match(self.text[self.year_end:m.start()]))
        return chained or bool(_YEAR_CUE.search(before) or _ERA.match(self.text[m.end():m.end() + 6]))


def _yearlike(number: str) -> bool:
    return number.isdigit() and len(number) == 4 and 1100 <= int(number) <= 2099


@lru_cache(maxsize=4096)  # texts repeat their numbers (years, counts); a conversion costs ~50 µs
def _year(year: int) -> str:
    return _words(num2words(year, to="year"))


def _time(hour: int, minute: int) -> str | None:
    if hour > 24 or minute > 59:
        return None
    if minute == 0:
        return f"{cardinal(str(hour))} o'clock" if hour <= 12 else f"{cardinal(str(hour))} hundred"
    return f"{cardinal(str(hour))} {'oh ' if minute < 10 else ''}{cardinal(str(minute))}"


@lru_cache(maxsize=4096)  # texts repeat their numbers (years, counts); a conversion costs ~50 µs
def cardinal(number: str) -> str:
    """A number as words; one with a leading zero ("007") or too long to count is read digit by digit."""
    whole = number.split(".")[0]
    if (len(whole) > 1 and whole.startswith("0")) or len(whole) > 15:
        return " ".join(_words(num2words(int(d))) for d in number if d.isdigit())
    return _words(num2words(number if "." in number else int(number)))


def _words(said: str) -> str:
    """num2words' text without its commas ("one million, two hundred"): a comma is a pause to a speech engine."""
    return said.replace(",", "")
