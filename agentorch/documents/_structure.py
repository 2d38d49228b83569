"""Document structure: sections, clause numbering, list items and tables, from read blocks.

Turns the reader's blocks into units that know where they sit: the section heading above them,
the numbering path a requirement id is built from ("5.5.1" + item "b" -> "5.5.1.b"), and for a
table row its table's header. Headings come in many forms: Markdown ``#``, a numbered title in
capitals ("4.0 REQUIREMENTS"), "SECTION C", "Article 5", "C.3.2 Title".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from agentorch.documents._blocks import Block

#: "3.5", "5.5.1", "1.0", "C.3.2", "C.1" (a UCF section's clause), "SR-4"; a trailing dot and no space before the text allowed.
_DECIMAL = re.compile(
    r"^(?P<num>(?:[A-Z]{1,2}\.)?\d{1,4}(?:\.\d{1,4})+|[A-Z]\.\d{1,4}|[A-Z]{1,4}-\d{1,4}(?:\.\d{1,4})*)"
    r"\.?(?:\s+|(?=[A-Z\"'(]))(?P<rest>\S.*)$"
)
_SINGLE = re.compile(r"^(?P<num>\d{1,3})[.)](?:\s+|(?=[A-Z\"'(]))(?P<rest>\S.*)$")
_PART = re.compile(
    r"^(?P<word>section|article|part|attachment|exhibit|appendix)\s+(?P<num>[A-Z0-9]{1,4}"
    r"(?:\.\d{1,4})*)\b(?:\s*[-:.\u2013\u2014]\s*|\s+|$)(?P<rest>.*)$",
    re.I,
)
#: "7 Deliverables" in a marked heading: a bare number is the section's number.
_BARE = re.compile(r"^(?P<num>\d{1,3})\s+(?P<rest>[A-Z].*)$")
_ROMAN = re.compile(r"^(?:i{1,3}|iv|vi{0,3}|ix|xi{0,3})$")
_ITEM = re.compile(
    r"^(?:(?P<bullet>-)\s+"
    r"|\((?P<p1>[a-z]{1,4}|[A-Z]|\d{1,2})\)(?:\s*\((?P<p2>[a-z]{1,4}|\d{1,2})\))?\s*"
    r"|(?P<d>[a-z]{1,4}|[A-Z])[.)]\s+)(?P<rest>\S.*)$"
)
_CUE_WORD = re.compile(r"\b(?:shall|must|will|should|may|required|responsible)\b", re.I)
#: "A. Baseline Security Requirements": a lettered part of a document, titled in Title Case.
_LETTER_PART = re.compile(r"^(?P<num>[A-Z])\.\s+(?P<rest>[A-Z].*)$")
_SMALL_WORDS_LIST = "a an and as at by for in of on or the to upon with"
_SMALL_WORDS = frozenset(_SMALL_WORDS_LIST.split())


@dataclass(slots=True)
class Unit:
    """A block placed in the document's structure."""

    kind: str  # "heading" | "clause" | "item" | "text" | "row"
    text: str  # the block's text without its number or list marker
    where: str
    section: str
    #: The numbering path ids are built from ("5.5.1.b"); "" when the text has none.
    number: str
    #: The clause number printed on this block ("" when none) and which printing of it it is.
    clause: str = ""
    printing: int = 0
    title: str = ""
    depth: int = 0
    section_index: int = 0
    cells: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    table: int = 0
    #: For a heading: its level (Markdown 1-6; 7+ for a title found in the text).
    level: int = 0
    #: For a list item: its marker's style ("bullet", "1", "a.", "(i)", ...).
    style: str = ""


def units(blocks: Iterable[Block]) -> Iterator[Unit]:
    """Walk the blocks once, keeping the numbering context; yields one unit per block."""
    headings: list[tuple[int, str]] = []  # (level, number) of the open numbered headings
    clause = ""
    items: list[tuple[str, str]] = []  # (style, label) of the open list levels
    section = ""
    section_index = 0
    printings: dict[str, int] = {}
    header: list[str] = []
    table = 0
    previous_colon = False
    previous_kind = ""
    title_clause = False  # the open clause is only a title: "5. Special Instructions."
    part = ""  # the open lettered part ("A. Baseline Security Requirements"), if any

    def base() -> str:
        if clause:
            return clause
        return next((num for _, num in reversed(headings) if num), "")

    for block in blocks:
        text = block.text
        if block.heading or _looks_like_title(text):
            level = block.heading
            body = text.lstrip("#").strip() if block.heading else text
            number, _ = _heading_number(body)
            bare = _BARE.match(body) if block.heading and not number else None
            number = bare.group("num") if bare else number
            part = number if _lettered_part(body) else ""
            if not level:
                level = 7 + number.count(".")
            while headings and headings[-1][0] >= level:
                headings.pop()
            headings.append((level, number))
            clause, items, title_clause = "", [], False
            section, section_index = body, section_index + 1
            previous_colon, previous_kind = False, "heading"
            yield Unit(
                "heading",
                body,
                block.where,
                section,
                number,
                level=level,
                section_index=section_index,
            )
            continue
        if " | " in text:
            if block.table_start or not header:
                table += 1
                header = [c.strip() for c in text.split(" | ")]
            cells = [c.strip() for c in text.split(" | ")]
            previous_colon, previous_kind = False, "row"
            yield Unit(
                "row",
                text,
                block.where,
                section,
                base(),
                cells=cells,
                header=header,
                table=table,
                section_index=section_index,
            )
            continue
        header = []
        letter = _LETTER_PART.match(text) if part else None
        if letter and ord(letter.group("num")) == ord(part) + 1:
            # "E. Position Sensitivity Designations All Contractor ... must": the part after
            # part D, its title run into its first sentence
            part = clause = letter.group("num")
            items, title_clause = [], False
            printings[part] = printings.get(part, 0) + 1
            previous_colon, previous_kind = False, "clause"
            yield Unit(
                "clause",
                letter.group("rest"),
                block.where,
                section,
                part,
                clause=part,
                printing=printings[part],
                section_index=section_index,
            )
            continue
        # "1. ..." right under the heading "7 Security" (or a clause that is only a title,
        # "5. Special Instructions.") is item 7.1 of it, not clause 1
        if title_clause and _next_number(text, clause):
            # "6. ..." after the items of "5. Special Instructions." is the next clause
            kind, number, rest, style, labels = _classify(text, False, "", [])
        else:
            under_heading = title_clause or (
                not clause and bool(headings) and bool(headings[-1][1])
            )
            kind, number, rest, style, labels = _classify(
                text, previous_colon or under_heading, previous_kind, items
            )
        if kind == "clause":
            clause, items = number, []
            title_clause = "." not in number and _bare_title(rest)
            printings[number] = printings.get(number, 0) + 1
            title, _ = split_title(rest)
            unit = Unit(
                "clause",
                rest,
                block.where,
                section,
                number,
                clause=number,
                printing=printings[number],
                title=title,
                section_index=section_index,
            )
        elif kind == "item":
            for index, (open_style, _) in enumerate(items):
                if open_style == style:
                    del items[index:]
                    break
            items.append((style, ".".join(labels)))
            path = [base(), *(label for _, label in items if label)]
            unit = Unit(
                "item",
                rest,
                block.where,
                section,
                ".".join(p for p in path if p),
                depth=block.depth,
                section_index=section_index,
                style=style,
            )
        else:
            # a paragraph after a lettered or numbered item continues that item ("6.e")
            path = [base(), *(label for _, label in items if label)]
            number = ".".join(p for p in path if p)
            unit = Unit(
                "text",
                text,
                block.where,
                section,
                number,
                depth=block.depth,
                section_index=section_index,
            )
        previous_colon = rest.rstrip().endswith(":")
        previous_kind = unit.kind
        yield unit


def _classify(
    text: str, after_colon: bool, previous_kind: str, items: list[tuple[str, str]]
) -> tuple[str, str, str, str, list[str]]:
    """(kind, number, text without marker, item style, item labels) of one text block."""
    match = _DECIMAL.match(text)
    if match:
        return "clause", match.group("num"), match.group("rest"), "", []
    match = _SINGLE.match(text)
    if match:
        in_list = after_colon or (previous_kind == "item" and any(s == "num" for s, _ in items))
        if in_list:
            return "item", "", match.group("rest"), "num", [match.group("num")]
        return "clause", match.group("num"), match.group("rest"), "", []
    match = _ITEM.match(text)
    if match:
        rest = match.group("rest")
        if match.group("bullet"):
            return "item", "", rest, "bullet", []
        if match.group("p1"):
            labels = [match.group("p1")] + ([match.group("p2")] if match.group("p2") else [])
            return (
                "item",
                "",
                rest,
                "(" + _style(labels[0], items) + ")",
                [x.lower() for x in labels],
            )
        label = match.group("d")
        return "item", "", rest, _style(label, items) + ".", [label.lower()]
    return "text", "", text, "", []


def _style(label: str, items: list[tuple[str, str]]) -> str:
    """A list level's style: "a" (letters), "A", "i" (roman), "1"; ``(i)`` after ``(h)`` is a letter."""
    if label.isdigit():
        return "1"
    if _ROMAN.match(label.lower()):
        # "i" after "h" and "V" after "U" go on a lettered list
        before = chr(ord(label.lower()) - 1) if len(label) == 1 else ""
        after_letter = any(lab.endswith(before) for _, lab in items) if before else False
        if len(label) > 1 or not after_letter:
            return "i"
    return "A" if label.isupper() else "a"


def _next_number(text: str, clause: str) -> bool:
    """Whether ``text`` opens with the number after ``clause`` ("6. ..." after clause 5)."""
    match = _SINGLE.match(text)
    return match is not None and clause.isdigit() and int(match.group("num")) == int(clause) + 1


def _bare_title(text: str) -> bool:
    """A clause's text that is only its title ("Special Instructions.")."""
    words = text.split()
    return 0 < len(words) <= 8 and not _CUE_WORD.search(text) and not re.search(r"[.:]\s+\S", text)


def _looks_like_title(text: str) -> bool:
    """A line that is a heading although the format did not mark it: "4.0 REQUIREMENTS", "SECTION C"."""
    if len(text) > 120 or " | " in text or text.startswith("- ") or re.search(r"\.{4,}", text):
        return False
    if re.match(r"^(?:\([a-z0-9]{1,4}\)|[a-z]{1,4}[.)])\s", text):
        return False
    number, rest = _heading_number(text)
    rest = rest.strip()
    if not number and _LETTER_PART.match(text):
        return _lettered_part(text)
    if number and not rest:
        return bool(_PART.match(text))
    words = rest.split()
    if not words or len(words) > 12 or _CUE_WORD.search(rest) or rest[-1:] in ",;:":
        return False
    letters = [c for c in rest if c.isalpha()]
    capitals = letters and sum(c.isupper() for c in letters) / len(letters) > 0.8
    if capitals and len(letters) > 3:
        return True  # a title in capitals, numbered or not
    if number and not _SINGLE.match(text):
        # "1.0 Scope." / "2.1 Definitions." / "C.3.2 Task Areas": a short title and nothing else
        return len(words) <= 6 and not re.search(r"[.!?]\S*\s+\S", rest) and rest[:1].isupper()
    return bool(number) and bool(_PART.match(text))


def _lettered_part(text: str) -> bool:
    """ "B. Training", "C. Rules of Behavior": a capital letter, then a short title in Title Case."""
    match = _LETTER_PART.match(text)
    words = match.group("rest").split() if match else []
    if not words or len(words) > 8 or _CUE_WORD.search(text) or re.search(r"[.:;,!?]$", text):
        return False
    return all(w[:1].isupper() or w[:1] in "(0123456789" or w in _SMALL_WORDS for w in words)


def _heading_number(text: str) -> tuple[str, str]:
    """The number a heading (or title line) carries, and the rest of it."""
    if _lettered_part(text):
        match = _LETTER_PART.match(text)
        assert match is not None
        return match.group("num"), match.group("rest")
    for pattern in (_DECIMAL, _PART, _SINGLE):
        match = pattern.match(text)
        if match:
            return match.group("num"), match.group("rest")
    return "", text


_TITLE = re.compile(r"^(?P<title>[A-Z][^.:]{1,60})[.:]\s+(?P<rest>\S.*)$")


def split_title(body: str) -> tuple[str, str]:
    """``"Encryption. All data shall ..."`` -> ("Encryption", "All data shall ...")."""
    match = _TITLE.match(body)
    if (
        match
        and not _CUE_WORD.search(match.group("title"))
        and len(match.group("title").split()) <= 8
    ):
        return match.group("title").strip(), match.group("rest")
    return "", body


def is_child(number: str, parent: str) -> bool:
    """Whether clause ``number`` is under clause ``parent`` ("3.1" under "3" or "3.0")."""
    stem = re.sub(r"(?:\.0)+$", "", parent)
    return number != parent and number.startswith(stem + ".")
