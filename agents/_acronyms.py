"""Acronyms and their words, wherever a text says them: "GFP" answered as "Government-furnished
property", "the CO" for "the Contracting Officer", "MD" for "Maryland".

Buyers use acronyms they never define (everyone in the agency knows them) and writers answer in
full words, or the other way round; both speak of the same thing. An acronym is taken to stand
for neighbouring words whose initials spell it (small linking words such as "of" may give a letter
or be skipped), and a US state's postal code for its name.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z]+(?:['\u2019]s\b)?")
_ACRONYM = re.compile(r"\b[A-Z][A-Za-z]*[A-Z]s?\b|\b[A-Z]{2}\b")
#: Words that may give their letter to an acronym or be skipped ("DOD": Department of Defense).
_LINKS = frozenset({"of", "and", "for", "the", "on", "in", "to", "a", "an", "at", "by"})
#: Longer acronyms are names, not initials to look for.
MAX_LETTERS = 6

US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}  # fmt: skip
_STATE = re.compile(r",\s*(" + "|".join(US_STATES) + r")\b")


def acronyms(text: str) -> set[str]:
    """The acronyms a text uses ("GFP", "IOCs" as "IOC"), up to ``MAX_LETTERS`` letters."""
    found = set()
    for match in _ACRONYM.finditer(text):
        word = match.group(0)
        if word.endswith("s") and not word.isupper():
            word = word[:-1]
        if 2 <= len(word) <= MAX_LETTERS and word.isupper():
            found.add(word)
    return found


def _spell(letters: str, words: list[str], at: int, capitals: bool) -> int | None:
    """The end of a run of ``words`` from ``at`` whose initials spell ``letters``, or None;
    ``capitals``: only capitalised words (or linking words) give a letter."""
    if not letters:
        return at
    if at >= len(words):
        return None
    word = words[at]
    linking = word.lower() in _LINKS
    if word[0].upper() == letters[0] and (not capitals or word[0].isupper() or linking):
        end = _spell(letters[1:], words, at + 1, capitals)
        if end is not None:
            return end
    if linking:
        return _spell(letters, words, at + 1, capitals)
    return None


def spelled_out(acronym: str, text: str) -> list[list[str]]:
    """Runs of words in ``text`` whose initials spell ``acronym``. A two-letter acronym needs
    capitalised words ("Contracting Officer"), so that ordinary prose does not spell it."""
    words = _WORD.findall(text)
    runs = []
    for start, word in enumerate(words):
        if word[0].upper() != acronym[0] or word.lower() in _LINKS:
            continue
        end = _spell(acronym, words, start, len(acronym) <= 2)
        if end is not None:
            runs.append(words[start:end])
    return runs


def states(text: str) -> dict[str, str]:
    """US states a text names by postal code after a place ("Bethesda, MD"): code -> name."""
    return {m.group(1): US_STATES[m.group(1)] for m in _STATE.finditer(text)}
