"""Numbers read as words, in Russian and English, for engines that cannot read digits (Silero).

Handles integers (up to trillions; longer digit strings and ones with a leading zero are read
digit by digit, like phone numbers), thousands separators (``1,000,000``; ``1 000 000`` in
Russian), decimals (``3.14`` → "three point one four"; ``3,5`` → "три целых пять десятых"),
negative numbers, percentages with the right Russian plural (5% → "пять процентов") and English
ordinals (21st → "twenty-first"). Russian words are in the nominative case: choosing the case from
the surrounding words is beyond a rule set this size.
"""

from __future__ import annotations

import re

_EN_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_EN_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_EN_ORDINAL = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}

_RU_ONES_M = ["ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"]
_RU_ONES_F = ["ноль", "одна", "две", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"]
_RU_TEENS = [
    "десять",
    "одиннадцать",
    "двенадцать",
    "тринадцать",
    "четырнадцать",
    "пятнадцать",
    "шестнадцать",
    "семнадцать",
    "восемнадцать",
    "девятнадцать",
]
_RU_TENS = [
    "_",
    "_",
    "двадцать",
    "тридцать",
    "сорок",
    "пятьдесят",
    "шестьдесят",
    "семьдесят",
    "восемьдесят",
    "девяносто",
]
_RU_HUNDREDS = [
    "_",
    "сто",
    "двести",
    "триста",
    "четыреста",
    "пятьсот",
    "шестьсот",
    "семьсот",
    "восемьсот",
    "девятьсот",
]
# (value, one, few, many, feminine)
_RU_SCALES = (
    (10**12, "триллион", "триллиона", "триллионов", False),
    (10**9, "миллиард", "миллиарда", "миллиардов", False),
    (10**6, "миллион", "миллиона", "миллионов", False),
    (1000, "тысяча", "тысячи", "тысяч", True),
)
_RU_FRACTIONS = (("десятая", "десятых"), ("сотая", "сотых"), ("тысячная", "тысячных"))

MAX_READ_AS_NUMBER = 10**15 - 1  # beyond this, digits are read one by one

_NUMBER = re.compile(
    r"(?P<sign>(?<![^\s(\[])[-−])?"  # a minus at the start of a word only (not "COVID-19")
    r"(?P<num>\d+(?:[.,:]\d+)*)"
    r"(?P<pct>\s?%)?"
    r"(?P<ord>(?:st|nd|rd|th)\b)?"
)
_RU_SPACED_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d]|[.,]\d)")
_EN_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")


def numbers_to_words(text: str, language: str) -> str:
    """``text`` with every number written out in ``language`` ("ru" or "en")."""
    if language == "ru":
        text = _RU_SPACED_THOUSANDS.sub(lambda m: re.sub(r"\D", "", m.group(0)), text)

    def replace(match: re.Match[str]) -> str:
        words = _read_match(match, language)
        # Keep words apart from letters glued to the digits ("mp3" → "mp three").
        before = text[match.start() - 1] if match.start() > 0 else " "
        after = text[match.end()] if match.end() < len(text) else " "
        return (" " if before.isalpha() else "") + words + (" " if after.isalpha() else "")

    return _NUMBER.sub(replace, text)


def _read_match(match: re.Match[str], language: str) -> str:
    num = match.group("num")
    minus = "minus " if language == "en" else "минус "
    sign = minus if match.group("sign") else ""
    percent = match.group("pct") is not None
    ordinal = match.group("ord") if language == "en" else None
    kept_suffix = (match.group("ord") or "") if language != "en" else ""
    if language == "en" and _EN_THOUSANDS.match(num):
        num = num.replace(",", "")
    parts = re.split(r"([.,:])", num)
    if len(parts) == 3 and parts[1] in ".," and (language == "ru" or parts[1] == "."):
        words = _decimal(parts[0], parts[2], language)
        unit = _percent_word(None, language) if percent else ""
    else:
        # Several numbers joined by separators (dates, times, lists): each read on its own.
        words = " ".join(
            _integer_words(p, language) if p.isdigit() else ("," if p == "," else "") for p in parts
        )
        words = re.sub(r"\s+,", ",", " ".join(words.split()))
        unit = _percent_word(parts[-1], language) if percent else ""
        if ordinal and len(parts) == 1:
            words = _en_ordinal(words)
        elif ordinal:
            words += " " + ordinal
    return sign + words + (" " + unit if unit else "") + kept_suffix


def _integer_words(digits: str, language: str) -> str:
    value = int(digits)
    if (len(digits) > 1 and digits[0] == "0") or value > MAX_READ_AS_NUMBER:
        ones = _EN_ONES if language == "en" else _RU_ONES_M
        return " ".join(ones[int(d)] for d in digits)
    return int_to_words(value, language)


def _decimal(whole: str, fraction: str, language: str) -> str:
    if language == "en":
        return f"{_integer_words(whole, 'en')} point {' '.join(_EN_ONES[int(d)] for d in fraction)}"
    whole_value = int(whole)
    if len(fraction) > len(_RU_FRACTIONS) or whole_value > MAX_READ_AS_NUMBER:
        return f"{_integer_words(whole, 'ru')} запятая {' '.join(_RU_ONES_M[int(d)] for d in fraction)}"
    frac_value = int(fraction)
    whole_word = "целая" if _ru_plural(whole_value) == 0 else "целых"
    one, many = _RU_FRACTIONS[len(fraction) - 1]
    frac_word = one if _ru_plural(frac_value) == 0 else many
    return (
        f"{int_to_words(whole_value, 'ru', feminine=True)} {whole_word} "
        f"{int_to_words(frac_value, 'ru', feminine=True)} {frac_word}"
    )


def _percent_word(last_integer: str | None, language: str) -> str:
    if language == "en":
        return "percent"
    if last_integer is None or not last_integer.isdigit():
        return "процента"  # after a fraction: "три целых пять десятых процента"
    return ("процент", "процента", "процентов")[_ru_plural(int(last_integer))]


def _en_ordinal(words: str) -> str:
    head, _, last = words.rpartition(" ")
    hyphen_head, dash, last_part = last.rpartition("-")
    if last_part in _EN_ORDINAL:
        last_part = _EN_ORDINAL[last_part]
    elif last_part.endswith("y"):
        last_part = last_part[:-1] + "ieth"
    else:
        last_part += "th"
    last = hyphen_head + dash + last_part
    return f"{head} {last}" if head else last


def _ru_plural(n: int) -> int:
    """0 for "one" (1, 21, 101 …), 1 for "few" (2–4, 22 …), 2 for "many" (0, 5–20, 25 …)."""
    if 11 <= n % 100 <= 14:
        return 2
    if n % 10 == 1:
        return 0
    if 2 <= n % 10 <= 4:
        return 1
    return 2


def int_to_words(n: int, language: str, *, feminine: bool = False) -> str:
    """A non-negative integer as words: 21 → "twenty-one" / "двадцать один" (or "одна")."""
    if n < 0:
        raise ValueError("int_to_words takes non-negative numbers")
    if language == "en":
        return _en_int(n)
    if n == 0:
        return "ноль"
    return _ru_int(n, feminine)


def _en_int(n: int) -> str:
    if n < 20:
        return _EN_ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _EN_TENS[tens] + (f"-{_EN_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_EN_ONES[hundreds]} hundred" + (f" {_en_int(rest)}" if rest else "")
    for value, name in _EN_SCALES:
        if n >= value:
            high, rest = divmod(n, value)
            return f"{_en_int(high)} {name}" + (f" {_en_int(rest)}" if rest else "")
    raise AssertionError("unreachable")


def _ru_int(n: int, feminine: bool) -> str:
    words: list[str] = []
    for value, one, few, many, scale_feminine in _RU_SCALES:
        if n >= value:
            high, n = divmod(n, value)
            words += _ru_below_1000(high, scale_feminine)
            words.append((one, few, many)[_ru_plural(high)])
    if n:
        words += _ru_below_1000(n, feminine)
    return " ".join(words)


def _ru_below_1000(n: int, feminine: bool) -> list[str]:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words.append(_RU_HUNDREDS[hundreds])
    if 10 <= rest < 20:
        words.append(_RU_TEENS[rest - 10])
        return words
    tens, ones = divmod(rest, 10)
    if tens:
        words.append(_RU_TENS[tens])
    if ones:
        words.append((_RU_ONES_F if feminine else _RU_ONES_M)[ones])
    return words
