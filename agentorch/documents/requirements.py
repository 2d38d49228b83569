"""Requirement candidates of a procurement document: one per obligation, with id and location.

``find_requirements`` shreds a document the way a bid manager does: every obligation of the
contractor (a sentence with shall / must / will / is required to / should / may, a list item
under a lead-in such as "The Contractor shall:", a requirement in a table cell, a deliverable with
its due date) becomes one candidate, with an id from the document's own numbering and where it is.
The buyer's own obligations and background are listed apart, with the reason. One pass over the
blocks; the work per block is bounded by the block's length.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from agentorch.documents._blocks import Block
from agentorch.documents._duties import is_imperative, scheduled_deliverable
from agentorch.documents._findings import (
    Candidate,
    ExcludedCandidate,
    Findings,
    Row,
    UnaccountedStatement,
    identify,
)
from agentorch.documents._statements import (
    Actor,
    Modality,
    classify,
    defined_things,
    is_lead_in,
    list_apart,
    refers_back,
    sentences,
    split_obligations,
    states_more_than_a_pointer,
)
from agentorch.documents._structure import Unit, is_child, split_title, units

#: Words that oblige whoever is the subject: a sentence with one that yields no row is a likely
#: miss ("will", "may" and "should" state facts and options too often to count).
OBLIGATION_WORD = re.compile(r"(?i)\b(?:shall|must|required|responsible|obligated)\b")
_DUTIES = re.compile(r"(?i)\bwould\b(?:\s+include\b)?")
_SUBJECT_OF_BUYER = re.compile(r"(?i)\b(?:government|agency|department|contracting\s+officer)\b")
_ALTERNATIVE = re.compile(r"(?i)[,;]?\s+(?:or|and)\s*$")
#: A lead-in whose items only complete it: the aims of one obligation ("Protect the information
#: in order to ensure:"), or cases it applies in ("includes either or both of the following:").
_COMPLETED_BY_ITEMS = re.compile(
    r"(?i)\b(?:to\s+ensure|either\s+or\s+both\s+of\s+the\s+following|either\s+of\s+the"
    r"\s+following)\s*:\s*$"
)
_POINTER = re.compile(r"(?i)\b(?:the\s+following|as\s+follows|below)\b")
_RANK = {"must": 3, "should": 2, "may": 1}
_ISSUER = re.compile(r"(?i)^issued\s+by:?\s*([^,.;]+)")
_DELIVERABLE = re.compile(r"(?i)deliverable|report|item|title|description|product|document")
_DUE = re.compile(r"(?i)due|date|frequency|when|schedule|deadline|timeline|time\s*frame|timing")
_REQUIREMENT_COLUMN = re.compile(r"(?i)^(?:requirement|requirements|specification|task)s?\b")
_ID_CELL = re.compile(r"^(?:[A-Z]{1,4}-)?\d{1,4}(?:\.\d{1,4})*[a-z]?$|^[A-Z]{1,4}-\d{1,4}$")


@dataclass(slots=True)
class _Lead:
    text: str
    modality: Modality | None
    negative: bool
    excluded: str  # why the list it introduces is not required, or ""
    depth: int  # the depth of the item that introduced it; -1 for a paragraph or clause
    clause: str  # the clause it sits in (its sub-clauses are its items)
    used: bool = False
    unit: Unit | None = None
    #: The items only complete the lead-in's sentence ("with respect to: 1. ..., or 2. ...").
    alternatives: bool = False
    #: The lead-in states an obligation of its own and is a requirement itself.
    stated: bool = False


ProgressCallback = Callable[[int, int], None]


def find_requirements(
    blocks: Iterable[Block], *, total: int = 0, progress: ProgressCallback | None = None
) -> Findings:
    """Every obligation of the contractor in ``blocks``, in document order.

    ``progress(done, total)`` is called every few thousand blocks when given.
    """
    shredder = _Shredder()
    for index, unit in enumerate(units(blocks), start=1):
        shredder.take(unit)
        if progress is not None and index % 2000 == 0:
            progress(index, total)
    shredder.finish()
    return Findings(
        title=shredder.title,
        issuer=shredder.issuer,
        statements_seen=len(shredder.rows) + len(shredder.excluded) + len(shredder.unaccounted),
        requirements=identify(shredder.rows),
        excluded=shredder.excluded,
        unaccounted=shredder.unaccounted,
    )


class _Shredder:
    """The one pass: units in, rows and excluded statements out."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.excluded: list[ExcludedCandidate] = []
        self.unaccounted: list[UnaccountedStatement] = []
        self.leads: list[_Lead] = []
        self.title = ""
        self.issuer = ""
        self.last_item_depth = -1
        self.last_item_leads = False
        #: The depth of a list whose last item opened with a task ("- Develop the plan."): the
        #: next item at that depth may open with any verb ("- Tabulate the results.").
        self.task_items = -1
        #: Acronyms the document defines as things ("Quality Control Plan (QCP)").
        self.things: set[str] = set()
        #: An indented paragraph interrupted the open list; the next unit says whether it goes on.
        self.paused_list = False

    def take(self, unit: Unit) -> None:
        if "(" in unit.text:
            self.things.update(defined_things(unit.text))
        if self.paused_list:
            self.paused_list = False
            same_list = unit.kind == "item" and unit.depth == self.last_item_depth
            if not same_list:
                self._close_leads()
        if not self.title and unit.kind in ("heading", "text"):
            self.title = unit.text.lstrip("#").strip()
        if not self.issuer and unit.kind == "text":
            issuer = _ISSUER.match(unit.text)
            self.issuer = issuer.group(1).strip() if issuer else ""
        if unit.kind != "item":
            self.task_items = -1  # a list of tasks ends with it
        if unit.kind == "heading":
            self._close_leads()
            return
        if unit.kind == "row":
            self._close_leads()
            self._row(unit)
            return
        scheduled = unit.kind in ("item", "text") and not self.leads
        if scheduled and scheduled_deliverable(unit.text, unit.section):
            self._add(unit, unit.text, "must", False)  # like a deliverables table's row
            return
        if unit.kind == "item":
            self._item(unit)
            return
        scoped = unit.kind == "clause" and any(
            lead.clause and is_child(unit.clause, lead.clause) for lead in self.leads
        )
        if self._indented_in_list(unit):
            # a paragraph indented like the list's items: the list goes on if an item follows
            self.paused_list = True
            self._sentences(unit, unit.text, None, depth=-1)
            return
        if not scoped:
            self._close_leads()
        self.last_item_depth = -1
        lead = self.leads[-1] if scoped else None
        # under a lead-in a sub-clause is a task ("3.1 Repair equipment. Do it ..."); only a
        # title in Title Case ("4.1 Service Incident Report.") is a run-in title there
        titled = unit.kind == "clause" and (not scoped or _title_case(unit.title))
        body = split_title(unit.text)[1] if titled else unit.text
        if not titled:
            unit.title = ""
        first, leads = len(self.rows), len(self.leads)
        self._sentences(unit, body, lead, depth=-1)
        whole = _names_one_requirement(unit) and len(self.leads) == leads
        if whole and len(self.rows) - first > 1:
            self._whole_clause(unit, first)

    def _indented_in_list(self, unit: Unit) -> bool:
        """A text paragraph indented as deep as the open list's items (only plain-text formats
        show indentation), as in "- item / <indented paragraph> / - item"."""
        return (
            unit.kind == "text"
            and bool(self.leads)
            and unit.depth > 0
            and 0 <= self.last_item_depth <= unit.depth
        )

    def finish(self) -> None:
        self._close_leads()

    # --- prose -----------------------------------------------------------------------------

    def _sentences(self, unit: Unit, body: str, lead: _Lead | None, depth: int) -> None:
        """Rows from the sentences of a paragraph, clause or item; a closing lead-in opens a list."""
        parts = [p for s in sentences(body) for p in split_obligations(s)]
        context: Actor | None = None
        paragraph: Actor | None = None
        # a list of the contractor's tasks: a clause or item under "The Contractor shall:"
        tasks = (
            lead is not None
            and lead.modality is not None
            and not lead.excluded
            and unit.kind in ("clause", "item")
        )
        # the sentence before (or the item before, in a list of tasks) stated a duty
        duty = unit.kind == "item" and unit.depth == self.task_items
        self.task_items = -1
        for index, sentence in enumerate(parts):
            statement = classify(sentence, context, paragraph, self.things)
            context = statement.actor or context
            paragraph = paragraph or statement.actor
            last = index == len(parts) - 1
            if (
                last
                and is_lead_in(sentence)
                and (
                    statement.modality
                    or statement.excluded
                    or (lead is not None and unit.kind == "item" and index == 0)
                    or sentence.rstrip().endswith(":")
                )
            ):
                apart = statement.modality is not None and list_apart(sentence)
                if apart:
                    # the list is a clause's without obligation wording; the obligation stands
                    modality, excluded = None, "a list without obligation wording"
                elif statement.modality:
                    modality, excluded = statement.modality, ""
                elif statement.excluded:
                    modality, excluded = None, statement.excluded
                elif _DUTIES.search(sentence) and not _SUBJECT_OF_BUYER.search(sentence):
                    # "Additionally, the co-coordinator would:": the duties of a role, each item
                    # a task (a list that only may happen says "may include")
                    modality, excluded = "must", ""
                elif lead is not None and unit.kind == "item" and index == 0:
                    # "Using any of the approved languages, including:" inside a list
                    modality, excluded = lead.modality, lead.excluded
                else:
                    # "Desired skills include:": a list without obligation wording
                    modality, excluded = None, "a list without obligation wording"
                self.leads.append(
                    _Lead(
                        sentence,
                        modality,
                        statement.negative,
                        excluded,
                        depth,
                        unit.clause,
                        unit=unit,
                    )
                )
                if unit.kind == "item":
                    self.last_item_leads = True
                if statement.excluded:
                    self._exclude(unit, sentence, statement.excluded)
                elif statement.modality and (
                    apart or states_more_than_a_pointer(sentence, list_came=True)
                ):
                    # "All employees must be able to speak English, and shall also receive
                    # training as follows:": an obligation of its own besides its list
                    self.leads[-1].stated = True
                    self._add(unit, sentence, statement.modality, statement.negative)
                continue
            if lead is not None and unit.kind != "text":
                lead.used = True
            was_duty, duty = duty, False
            if (
                unit.kind == "item"
                and index == 0
                and lead is not None
                and lead.modality
                and not lead.excluded
                and not statement.excluded
            ):
                modality = statement.modality or lead.modality
                negative = statement.negative if statement.modality else lead.negative
                self._add(unit, sentence, modality, negative, lead.text)
                duty = True
            elif statement.modality:
                self._add(unit, sentence, statement.modality, statement.negative)
                duty = statement.actor == "contractor"
            elif statement.excluded:
                self._exclude(unit, sentence, statement.excluded)
            elif (tasks or was_duty) and is_imperative(sentence):
                # "Assist in conducting market research. Assure the solicitation includes ...":
                # a bare verb among the contractor's tasks is one more task
                if tasks and lead is not None and lead.modality is not None:
                    self._add(unit, sentence, lead.modality, lead.negative, lead.text)
                else:
                    self._add(unit, sentence, "must", False)
                duty = True
            elif OBLIGATION_WORD.search(sentence):
                self._unaccounted(unit, sentence)
            if index == 0 and duty and unit.kind == "item":
                self.task_items = unit.depth

    def _whole_clause(self, unit: Unit, first: int) -> None:
        """A titled sub-clause ("2.3 Workflows. The Solution shall ...") is one requirement.

        The buyer numbered and titled it as one requirement to answer as a whole, so its
        obligation sentences stay together, at the strongest modality among them.
        """
        rows = self.rows[first:]
        del self.rows[first:]
        modality = max((r.modality for r in rows), key=lambda m: _RANK[m])
        negative = all(r.negative for r in rows)
        self._add(unit, unit.text, modality, negative)

    # --- lists -----------------------------------------------------------------------------

    def _item(self, unit: Unit) -> None:
        while self.leads and self._ends(self.leads[-1], unit):
            self._pop_lead()
        nested = self.last_item_depth >= 0 and unit.depth > self.last_item_depth
        if nested and not self.last_item_leads:
            # a sub-item of an item that is not a lead-in is part of that item, unless it is a
            # full sentence with its own subject and modal verb
            if _own_statement(unit.text):
                self._sentences(unit, unit.text, None, depth=unit.depth)
            return
        self.last_item_depth = unit.depth
        self.last_item_leads = False
        lead = self.leads[-1] if self.leads else None
        first = lead is not None and not lead.used and not lead.alternatives
        completes = first and (
            _ALTERNATIVE.search(unit.text) or _COMPLETED_BY_ITEMS.search(lead.text if lead else "")
        )
        if lead is not None and (lead.alternatives or completes):
            lead.alternatives = True  # part of the lead-in's one obligation, not a row
            return
        if lead is not None and lead.excluded:
            lead.used = True
            statement = classify(unit.text)
            if not statement.modality or statement.imperative:
                if lead.excluded == "states what is not required":
                    self._exclude(unit, unit.text, "listed as not required")
                return
            # an item that is a full sentence with its own subject and modal verb
            self._sentences(unit, unit.text, None, depth=unit.depth)
            return
        title, body = split_title(unit.text)
        if title and not _title_case(title) and not _own_statement(body):
            # "Repair equipment on request." is a task, not a run-in title; "Key personnel. The
            # offeror shall ..." is one: a statement with its own subject and cue follows it
            body = unit.text
        self._sentences(unit, body, lead, depth=unit.depth)

    @staticmethod
    def _ends(lead: _Lead, unit: Unit) -> bool:
        """Whether an item ends the list a list item's lead-in opened (a sibling or shallower)."""
        if lead.depth < 0 or lead.unit is None:
            return False
        if unit.depth != lead.depth:
            return unit.depth < lead.depth
        return unit.style == lead.unit.style  # a flat list: a new marker style nests

    def _pop_lead(self) -> None:
        lead = self.leads.pop()
        # a lead-in whose list never came: a bare pointer ("shall comply with the following:")
        # stays a pointer; one with substance of its own is a requirement
        if (
            not lead.used
            and not lead.stated
            and lead.modality
            and lead.unit is not None
            and (
                lead.alternatives
                or not _POINTER.search(lead.text)
                or states_more_than_a_pointer(lead.text)
            )
        ):
            self._add(lead.unit, lead.text, lead.modality, lead.negative)
            lead.used = True  # an item of the list above that became a row of it
        if lead.used and self.leads:
            self.leads[-1].used = True

    def _close_leads(self) -> None:
        while self.leads:
            self._pop_lead()
        self.last_item_depth = -1

    # --- tables ----------------------------------------------------------------------------

    def _row(self, unit: Unit) -> None:
        if unit.cells == unit.header:
            return
        header = unit.header
        due_column = next((i for i, h in enumerate(header) if _DUE.search(h)), None)
        item_column = next(
            (i for i, h in enumerate(header) if _DELIVERABLE.search(h) and i != due_column), None
        )
        cells = unit.cells
        if due_column is not None and item_column is not None:
            if max(due_column, item_column) < len(cells) and cells[item_column]:
                due = cells[due_column]
                text = f"{cells[item_column]} - {due}" if due else cells[item_column]
                self._add(unit, text, "must", False, due=due)
            return
        ident = cells[0] if cells and _ID_CELL.match(cells[0]) else ""
        base = f"{unit.number}.{ident}" if ident and unit.number and "." not in ident else ident
        requirement = next((i for i, h in enumerate(header) if _REQUIREMENT_COLUMN.match(h)), None)
        for index, cell in enumerate(cells):
            if not cell or (ident and index == 0):
                continue
            found = False
            for sentence in (p for s in sentences(cell) for p in split_obligations(s)):
                statement = classify(sentence)
                if statement.modality:
                    self._add(unit, sentence, statement.modality, statement.negative, base=base)
                    found = True
                elif statement.excluded:
                    self._exclude(unit, sentence, statement.excluded)
                elif OBLIGATION_WORD.search(sentence) and index != requirement:
                    self._unaccounted(unit, sentence)
            if not found and index == requirement:
                self._add(unit, cell, "must", False, base=base)

    # --- output ----------------------------------------------------------------------------

    def _add(
        self,
        unit: Unit,
        text: str,
        modality: Modality,
        negative: bool,
        lead_in: str = "",
        *,
        due: str = "",
        base: str = "",
    ) -> None:
        self.rows.append(
            Row(base or unit.number, unit, text.strip(), modality, negative, lead_in, due)
        )

    def _unaccounted(self, unit: Unit, text: str) -> None:
        self.unaccounted.append(
            UnaccountedStatement(text=text.strip(), section=unit.section, location=unit.where)
        )

    def _exclude(self, unit: Unit, text: str, reason: str) -> None:
        self.excluded.append(
            ExcludedCandidate(
                text=text.strip(), section=unit.section, location=unit.where, reason=reason
            )
        )


def _names_one_requirement(unit: Unit) -> bool:
    """A numbered sub-clause with a run-in title in sentence case closed by a full stop
    ("2.3 Configurable workflows. The Solution shall ... Proposers should ..."): the buyer
    titled it as one requirement to answer. A title written like a heading, in capitals or
    closed by a colon ("C.4 CONTRACTOR FURNISHED ITEMS: ..."), heads a group of obligations."""
    title = unit.title
    return (
        bool(title)
        and "." in unit.clause
        and not title.isupper()
        and unit.text[len(title) : len(title) + 1] == "."
    )


def _own_statement(text: str) -> bool:
    """Whether ``text`` opens with a sentence that has its own subject and modal cue."""
    first = sentences(text)[:1]
    if not first:
        return False
    if refers_back(first[0]):
        return False  # "Technician name. It should be legible.": the item's own words
    statement = classify(first[0])
    return statement.modality is not None and not statement.imperative


def _title_case(title: str) -> bool:
    """ "Service Incident Report", "Staffing Plan": every longer word capitalised."""
    words = [w.strip("()[]\"'") for w in title.split() if len(w) > 3]
    return bool(title) and all(w[:1].isupper() for w in words)


__all__ = [
    "OBLIGATION_WORD",
    "Candidate",
    "ExcludedCandidate",
    "Findings",
    "UnaccountedStatement",
    "find_requirements",
]
