"""What a written number looks like, for every language: one pattern, read by each language's module.

One pass of one compiled pattern finds every number with what belongs to it (a currency
sign, a percent sign, a unit, an ordinal suffix, a range's second number), so a 200 KB
text is scanned in milliseconds. A number glued to Latin letters it cannot read ("5G",
"A4", "mp3", "3.0.1") is left to the speech engine, which spells those well.
"""

from __future__ import annotations

import re

#: full-width digits, point and percent as ASCII (one character each: offsets do not move)
FULL_WIDTH = str.maketrans("０１２３４５６７８９．％", "0123456789.%")
_HAS_FULL_WIDTH = re.compile("[０-９．％]")

#: unit: English singular, English plural, Chinese (the English names are British, as the issue writes "kilometres";
#: Chinese says byte units as written, "GB")
_UNIT_TABLE = """
km/h kilometre per hour|kilometres per hour|公里每小时
kph kilometre per hour|kilometres per hour|公里每小时
mph mile per hour|miles per hour|英里每小时
m/s metre per second|metres per second|米每秒
km² square kilometre|square kilometres|平方公里
m² square metre|square metres|平方米
km kilometre|kilometres|公里
cm centimetre|centimetres|厘米
mm millimetre|millimetres|毫米
m metre|metres|米
kg kilogram|kilograms|公斤
mg milligram|milligrams|毫克
g gram|grams|克
ml millilitre|millilitres|毫升
mL millilitre|millilitres|毫升
L litre|litres|升
°C degree Celsius|degrees Celsius|摄氏度
℃ degree Celsius|degrees Celsius|摄氏度
°F degree Fahrenheit|degrees Fahrenheit|华氏度
℉ degree Fahrenheit|degrees Fahrenheit|华氏度
TB terabyte|terabytes|TB
GB gigabyte|gigabytes|GB
MB megabyte|megabytes|MB
KB kilobyte|kilobytes|KB
kB kilobyte|kilobytes|KB
GHz gigahertz|gigahertz|吉赫兹
MHz megahertz|megahertz|兆赫
kHz kilohertz|kilohertz|千赫
Hz hertz|hertz|赫兹
kWh kilowatt hour|kilowatt hours|千瓦时
kW kilowatt|kilowatts|千瓦
MW megawatt|megawatts|兆瓦
GW gigawatt|gigawatts|吉瓦
W watt|watts|瓦
mAh milliamp hour|milliamp hours|毫安时
ms millisecond|milliseconds|毫秒
min minute|minutes|分钟
h hour|hours|小时
"""
UNITS: dict[str, tuple[str, str, str]] = {
    unit: (names[0], names[1], names[2])
    for unit, _, rest in (line.partition(" ") for line in _UNIT_TABLE.strip().splitlines())
    for names in [rest.split("|")]
}
#: units read even without a number ("speed in km/h"): none of them is an English word
ALONE = ("km/h", "m/s", "mph")
#: currency sign -> (English singular, plural, Chinese)
CURRENCIES = {"$": ("dollar", "dollars", "美元"), "€": ("euro", "euros", "欧元"), "£": ("pound", "pounds", "英镑"),
              "¥": ("yen", "yen", "元"), "￥": ("yen", "yen", "元")}
#: scale words after an amount, and their value
SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12, "bn": 10**9,
          "万": 10**4, "亿": 10**8, "百万": 10**6, "千万": 10**7}

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_UNIT = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
_SCALE = "|".join(sorted(SCALES, key=len, reverse=True))
NUMBER = re.compile(rf"""
    (?<![A-Za-z0-9_.,:/-])(?:
      (?P<date>(?P<year>\d{{4}})-(?P<month>\d{{1,2}})-(?P<day>\d{{1,2}}))(?![\d-])
    | (?P<hour>\d{{1,2}}):(?P<minute>\d{{2}})(?![\d:])
    | (?P<currency>[$€£¥￥])\s?(?P<amount>{_NUM})(?:\s?(?P<scale>{_SCALE})\b)?
    | (?P<sign>(?:(?<=^)|(?<=[\s(（：:，、\u4e00-\u9fff]))[-−])?(?P<a>{_NUM})(?P<percent_a>\s?%)?
      (?:\s?(?P<dash>[-–~～])\s?(?P<b>{_NUM}))?
      (?:(?P<percent>\s?%)|(?P<ordinal>st|nd|rd|th)|(?P<decade>'?s)|\s?(?P<unit>{_UNIT}))?
    | (?P<alone>{"|".join(re.escape(u) for u in ALONE)})
    )(?![A-Za-z0-9]|[.,]\d)
""", re.VERBOSE)


#: Latin letters that belong to a number before them (a unit, a scale, an ordinal or decade suffix), or a unit alone
TIED = re.compile(rf"(?<=[\d０-９])\s?(?:{_UNIT}|{_SCALE}|st|nd|rd|th|'?s)(?![A-Za-z])|(?<![A-Za-z])(?:km/h|m/s|mph)(?![A-Za-z])")


def ascii_digits(text: str) -> str:
    """``text`` with full-width digits as ASCII ones (a str.translate, only when there are some: it is slow)."""
    return text.translate(FULL_WIDTH) if _HAS_FULL_WIDTH.search(text) else text


def value(number: str) -> str:
    """A written number without its thousands separators ("1,234.5" -> "1234.5")."""
    return number.replace(",", "")


def is_range(match: re.Match[str]) -> bool:
    """A dash between two numbers is a range when the second is the larger (else a score or a code: "3-2")."""
    return bool(match["b"]) and float(value(match["b"])) > float(value(match["a"]))
