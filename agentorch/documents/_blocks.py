"""Blocks: the normalised shape every document reader produces (see ``_documents``)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

#: A line that starts a block of its own even without a blank line or gap before it: a bullet, a
#: numbered clause followed by a capitalised word ("3.1 The", "2. Scope", "(1) The"), or a
#: lettered item ("(a) ...", "b. The"). "2.4 million" or "(5) years" at the start of a wrapped line
#: are not markers: the word after them is lower-case.
MARKER = re.compile(
    r"""^(?:[-*+]\s+\S"""
    r"""|\d+(?:\.\d+)+\.?\s+[A-Z"'(]"""
    r"""|\d{1,3}[.)]\s+[A-Z"'(]"""
    r"""|\([a-z]{1,4}\)\s+\S"""
    r"""|\(\d{1,2}\)\s*[A-Z]"""
    r"""|[A-Za-z][.)]\s+[A-Z])"""
)
_HYPHENATED = re.compile(r"[A-Za-z]-$")
_BULLET_CHARS = "\u2022\u25e6\u25aa\u2023\u2043\u25cf\u25a0\u25cb\uf0b7\uf0a7"
_TRANSLATE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u00a0": " ",
        "\u00ad": None,  # soft hyphen
        "\u200b": None,  # zero-width space
        "\t": " ",
    }
)


@dataclass(slots=True)
class RawLine:
    """One line as a reader found it, before blocks are assembled."""

    text: str
    heading: int = 0
    #: The reader knows this line begins a new block (blank line before, new paragraph, gap).
    new_block: bool = False
    #: Where the line is in the source, for a person to find it: "line 12", "page 3, line 7".
    where: str = ""
    #: Nesting depth of a list item (0 = top level), when the source format shows it.
    depth: int = 0


@dataclass(slots=True)
class Block:
    """One block of the normalised document: a heading, paragraph, list item or table row."""

    text: str
    #: Markdown heading level (1-6), 0 for text.
    heading: int = 0
    #: Where its first line is in the source ("line 12", "page 3, line 7", "paragraph 40").
    where: str = ""
    depth: int = 0
    #: This table row starts a new table (its first row: usually the header).
    table_start: bool = False


def clean(text: str) -> str:
    """Normalise one line: Unicode form, plain quotes and bullets, collapsed whitespace."""
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
    text = " ".join(text.split())
    if text[:1] in _BULLET_CHARS:
        text = "- " + text[1:].lstrip()
    return text


def assemble(lines: Iterable[RawLine]) -> list[Block]:
    """Join wrapped lines into blocks (a heading, paragraph, list item or table row each).

    Linear in the input: a block is kept as a list of its pieces and joined once, and only its
    last piece is ever inspected.
    """
    blocks: list[Block] = []
    pieces: list[str] = []

    def close() -> None:
        if blocks:
            blocks[-1].text = "".join(pieces)

    for line in lines:
        text = clean(line.text)
        if not text:
            continue
        previous = blocks[-1] if blocks else None
        if line.heading:
            if not line.new_block and previous is not None and previous.heading == line.heading:
                pieces.append(" " + text)  # a heading wrapped over two lines
            else:
                close()
                blocks.append(Block("", heading=line.heading, where=line.where))
                pieces = ["#" * line.heading + " " + text]
            continue
        if line.new_block or previous is None or previous.heading or MARKER.match(text):
            close()
            row = _item_kind(text) == "row"
            starts_table = row and (previous is None or _item_kind(previous.text) != "row")
            blocks.append(Block("", where=line.where, depth=line.depth, table_start=starts_table))
            pieces = [text]
        elif _HYPHENATED.search(pieces[-1]) and text[:1].isalpha():
            pieces.append(text)  # a compound word broken at its hyphen
        else:
            pieces.append(" " + text)
    close()
    return blocks


def render(blocks: Iterable[Block]) -> str:
    """The normalised text: one block per line, a blank line between blocks.

    Consecutive list items and table rows are kept on adjacent lines.
    """
    out: list[str] = []
    previous_kind: str | None = None
    for block in blocks:
        kind = _item_kind(block.text)
        if out:
            out.append("\n" if kind is not None and kind == previous_kind else "\n\n")
        out.append(block.text)
        previous_kind = kind
    return "".join(out) + ("\n" if out else "")


def _item_kind(block: str) -> str | None:
    if block.startswith("- "):
        return "bullet"
    if " | " in block and not block.startswith("#"):
        return "row"
    return None
