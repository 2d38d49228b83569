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
    r"""|\(\d{1,2}\)\s+[A-Z]"""
    r"""|[A-Za-z][.)]\s+[A-Z])"""
)
_HYPHENATED = re.compile(r"[A-Za-z]-$")
_BULLET_CHARS = "\u2022\u25e6\u25aa\u2023\u2043\u25cf\u25a0"
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


def clean(text: str) -> str:
    """Normalise one line: Unicode form, plain quotes and bullets, collapsed whitespace."""
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
    text = " ".join(text.split())
    if text[:1] in _BULLET_CHARS:
        text = "- " + text[1:].lstrip()
    return text


def assemble(lines: Iterable[RawLine]) -> str:
    """Join wrapped lines into blocks: one block per line, a blank line between blocks.

    Consecutive list items and table rows are kept on adjacent lines. Linear in the input: a block
    is kept as a list of its pieces and joined once, and only its last piece is ever inspected.
    """
    blocks: list[list[str]] = []
    levels: list[int] = []  # heading level of each block, 0 for text
    for line in lines:
        text = clean(line.text)
        if not text:
            continue
        previous_level = levels[-1] if levels else -1
        if line.heading:
            if not line.new_block and previous_level == line.heading:
                blocks[-1].append(" " + text)  # a heading wrapped over two lines
            else:
                blocks.append(["#" * line.heading + " " + text])
                levels.append(line.heading)
            continue
        if line.new_block or previous_level != 0 or MARKER.match(text):
            blocks.append([text])
            levels.append(0)
        elif _HYPHENATED.search(blocks[-1][-1]) and text[:1].isalpha():
            blocks[-1].append(text)  # a compound word broken at its hyphen
        else:
            blocks[-1].append(" " + text)
    out: list[str] = []
    previous_kind: str | None = None
    for index, pieces in enumerate(blocks):
        block = "".join(pieces)
        kind = _item_kind(block)
        if index:
            out.append("\n" if kind is not None and kind == previous_kind else "\n\n")
        out.append(block)
        previous_kind = kind
    return "".join(out) + ("\n" if blocks else "")


def _item_kind(block: str) -> str | None:
    if block.startswith("- "):
        return "bullet"
    if " | " in block and not block.startswith("#"):
        return "row"
    return None
