"""Numbers as contracts write them: "thirty (30) days", "twenty-four hours", "ninety-nine point nine".

``normalise`` rewrites a text so every quantity is in digits and the comparison signs read as words;
the constraint extractors then only ever see digits. The need is narrow (cardinal numbers in
English, up to billions, with an optional decimal part), so a small parser does it without a
dependency.
"""

from __future__ import annotations

import re

_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_WORD = "|".join(sorted([*_UNITS, *_TENS, "hundred", *_SCALES], key=len, reverse=True))
_SEP = r"(?:[\s-]+(?:and[\s-]+)?)"
# A run of number words, optionally with a spoken decimal part ("ninety-nine point nine five").
_RUN = re.compile(
    rf"\b(?:{_WORD})(?:{_SEP}(?:{_WORD}))*(?:\s+point(?:\s+(?:{'|'.join(_UNITS)}))+)?\b",
    re.I,
)
# "thirty (30)", "ten (10)", "twenty-four (24)": keep the digits, drop the words.
_WORDS_THEN_DIGITS = re.compile(rf"{_RUN.pattern}\s*\(\s*(\d[\d,]*(?:\.\d+)?)\s*\)", re.I)
# "30 (thirty)": the same written the other way round.
_DIGITS_THEN_WORDS = re.compile(rf"\b(\d[\d,]*(?:\.\d+)?)\s*\(\s*(?:{_RUN.pattern})\s*\)", re.I)
# "a/an hour", "a day" after a time preposition reads as one unit.
_ARTICLE_UNIT = re.compile(
    r"\b(within|in|after|for|every|once|than)\s+(?:a|an|one)\s+"
    r"(hour|day|week|month|year|business day|calendar day|business hour|quarter)\b",
    re.I,
)
_SIGNS = [
    (re.compile(r"≤|=<|<="), " no more than "),
    (re.compile(r"≥|>="), " at least "),
    (re.compile(r"(?<![\w$])<\s*(?=\d)"), " less than "),
    (re.compile(r"(?<![\w$])>\s*(?=\d)"), " more than "),
    (re.compile(r"[\u2010-\u2015]"), "-"),
    (re.compile(r"[\u2018\u2019]"), "'"),
    (re.compile(r"[\u201c\u201d]"), '"'),
    (re.compile(r"[\u00a0\u2009\u202f]"), " "),
]


def words_value(phrase: str) -> float | None:
    """The value of a run of English number words ("two hundred and fifty" -> 250)."""
    text = phrase.lower().replace("-", " ")
    whole, _, decimals = text.partition(" point ")
    total = 0
    current = 0
    seen = False
    for word in whole.split():
        if word == "and":
            continue
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = (current or 1) * 100
        elif word in _SCALES:
            total += (current or 1) * _SCALES[word]
            current = 0
        else:
            return None
        seen = True
    if not seen:
        return None
    value: float = total + current
    if decimals:
        digits = "".join(str(_UNITS[w]) for w in decimals.split() if w in _UNITS and _UNITS[w] < 10)
        if digits:
            value = float(f"{int(value)}.{digits}")
    return value


def _format(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _replace_run(match: re.Match[str]) -> str:
    text = match.group(0)
    # A lone "one" is mostly a pronoun ("one of the", "no one"); only numbers count.
    if text.lower() == "one":
        after = match.string[match.end() : match.end() + 45].lower()
        if not re.match(
            r"\s*\(?\s*(?:\(|business|calendar|hour|day|week|month|year|minute|second|"
            r"reference|time|copy|site|percent|%|full|additional|occurrence|instance|"
            r"trained|named|dedicated|renewal|optional|(?:[a-z-]+\s+){0,2}(?:environment|user|"
            r"trainer|session|licen[cs]e|seat|region|data cent|copy|copies|reference))",
            after,
        ):
            return text
    if text.lower().split()[0].split("-")[0] in ("hundred", *_SCALES):
        return text  # "10 million" is already a number; "a million" is a figure of speech
    value = words_value(text)
    return text if value is None else _format(value)


def normalise(text: str) -> str:
    """The text with number words in digits, signs as words, dashes and quotes made plain."""
    for pattern, replacement in _SIGNS:
        text = pattern.sub(replacement, text)
    text = _WORDS_THEN_DIGITS.sub(lambda m: m.group(1), text)
    text = _DIGITS_THEN_WORDS.sub(lambda m: m.group(1), text)
    text = _ARTICLE_UNIT.sub(lambda m: f"{m.group(1)} 1 {m.group(2)}", text)
    return _RUN.sub(_replace_run, text)


def to_float(digits: str) -> float:
    """``"1,000,000"`` -> 1000000.0."""
    return float(digits.replace(",", ""))
