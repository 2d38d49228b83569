"""Obligation statements: sentences, their modal verbs, who they bind, and their modality.

A sentence is a requirement when a modal cue (shall, must, will, is required to, ...) binds the
contractor or a thing the contractor delivers ("All data shall be encrypted"). A cue whose subject
is the buyer ("The Government will ...", "the COR shall inspect") or a passive evaluation verb
("will be evaluated") makes the sentence the buyer's: kept out of the requirements, with why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Modality = Literal["must", "should", "may"]
Actor = Literal["contractor", "buyer", "thing", "others"]

_RANK = {"must": 3, "should": 2, "may": 1}

#: Modal cues, longest first; the group names say the modality (``neg`` = a prohibition).
_CUE = re.compile(
    r"""\b(?:
      (?P<notreq>(?:will|shall|is|are)\s+not\s+(?:be\s+)?required\s+to)
    | (?P<option>may\s+(?:be\s+)?(?:required|asked|called\s+upon|requested)\s+to)
    | (?P<mustneg>(?:shall|must|will|may)\s+not|cannot|can\s*not)
    | (?P<must>(?:is|are|will\s+be|shall\s+be)\s+(?:required|responsible|obligated|instructed
        |expected)\s+(?:to|for)|(?:is|are)\s+(?:also\s+)?required
        |(?:is|are)\s+the\s+\w+(?:'s)?\s+responsibility|responsibility\s+to|shall|must)
    | (?P<should>(?:is|are)\s+encouraged\s+to|should)
    | (?P<will>will)
    | (?P<may>may|can)
    )\b""",
    re.I | re.X,
)
#: A sentence that is an instruction to the contractor: "Please ensure ...", "Submit ...".
_IMPERATIVE = re.compile(
    r"^[\"'(]?(?:[A-Z][\w ]{0,30},\s+)?(?:please\s+(?!note|refer|see|subscribe)\w+|(?:provide|submit|include|prepare|deliver|ensure|describe|identify"
    r"|maintain|perform|report|sign|leave|use|attend|complete|develop|conduct|furnish|state"
    r"|explain|demonstrate|respond|notify|coordinate|work|support|assist|create|establish"
    r"|implement|comply|obtain|repair|replace|relocate|render|do|make|keep|send|update|document"
    r"|test|install|train|supply|upload|register|verify|contact|follow|address|attach|indicate"
    r"|specify|list|propose|manage|monitor|track|design|build|deploy|operate|analy[sz]e"
    r"|participate|present|return|protect|secure|store|retain|remove|dispose|schedule|plan"
    r"|define|evaluate|collect|produce|recommend|review|clean|inspect|verify|migrate|convert)\b)",
    re.I,
)
#: The buyer's own estimate or intent: "The Government estimates ...", "The City anticipates ...".
_BUYER_INTENT = re.compile(
    r"(?i)^(?:the\s+)?(?:government|city|county|state|agency|department|owner|\w+\s+officer)\s+"
    r"(?:estimates|anticipates|intends|expects|believes|plans|reserves|will\s+not)\b"
)
#: "will be given ... by the COR": what the buyer will do, told in the passive.
_BY_BUYER = re.compile(
    r"(?i)^[^.;]*?\bby\s+the\s+(?:government|contracting\s+officer|cor|co|city"
    r"|county|agency|department)\b"
)
#: "will be <done>": a passive whose doer is left out (work the contractor does, as a rule).
_PASSIVE = re.compile(
    r"(?i)^\s*(?:also\s+|then\s+)?be\s+(?:\w+ly\s+)?(\w+(?:ed|en)|made|done|"
    r"kept|held|set|sent|built|met|paid|given|shown|taken|brought)\b"
)
_CONTRACTOR = re.compile(
    r"\b(?:contractors?|offerors?|vendors?|quoters?|proposers?|bidders?|respondents?|suppliers?"
    r"|subcontractors?|awardees?|consultants?|you|your|personnel|staff|employees?|team"
    r"|project\s+manager|technical\s+lead|key\s+personnel)\b|contractor's",
    re.I,
)
_BUYER_HEAD = re.compile(
    r"(?:\b(?i:government|contracting\s+officer|contracting\s+officer's\s+representative|cor|acor"
    r"|cotr|co|agency|department|city|county|state|owner|purchaser|buyer|we|us|ordering\s+activity"
    r"|project\s+officer|product\s+owner|product\s+lead|evaluators?|committee|board|council"
    r"|treasurer)"
    r"|\b[A-Z][A-Z0-9&]{1,6}(?:/[A-Z]{2,6})?)$",
)
#: Passive verbs of the buyer's own acts: "will be evaluated", "shall be considered".
_BUYER_PASSIVE = re.compile(
    r"^\s*(?:not\s+)?be\s+(?:evaluated|considered|scored|rated|rejected|accepted|deemed|awarded"
    r"|paid|reimbursed|returned|reviewed|inspected|determined|judged|disqualified|eliminated"
    r"|found|answered|posted|issued|administered|published|given"
    r"|communicated|notified|announced|assessed|introduced|provided\s+by\s+the\s+government)\b"
    r"|^\s*be\s+made\s+to\s+the\b"
    r"|^\s*be\s+(?:provided|furnished|given|sent|delivered|made\s+available)\s+to\s+the\s+"
    r"(?:contractor|offeror|vendor|quoter|awardee)",
    re.I,
)
#: Where a cue's subject starts: after the last clause boundary before the cue.
_BOUNDARY = re.compile(
    r"[,;:(]|\b(?:that|which|who|and|or|but|if|when|where|unless|until|while|so|because|after"
    r"|before|once|then)\b",
    re.I,
)
_EVALUATORS = re.compile(
    r"(?i)\b(?:evaluation|selection|technical\s+evaluation)\s+(?:team|panel|board|committee)\b"
)
_OTHERS = re.compile(
    r"(?i)^(?:the\s+|its\s+|all\s+)?(?:customers?|users?|public|applicants?|citizens?)"
    r"(?:\s+(?:of|who|that)\b|\s*$)"
)
_MODAL = re.compile(r"(?i)\b(?:shall|must|will|should|may)\b")
_PREPOSITION = re.compile(
    r"(?i)(?<=\w)\s+(?:of|to|for|from|with|in|on|under|at|within|made|created|including|such"
    r"|regarding|concerning|about|per)\b"
)
_ABBREVIATION_WORDS = (
    "e.g i.e etc no nos sec secs vs inc co corp ltd mr mrs ms dr st approx art para paras fig ref "
    "rev vol ch pt dept jan feb mar apr jun jul aug sep sept oct nov dec p pp u.s u.s.c c.f.r cf "
    "al"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_WORD_BEFORE = re.compile(r"(\S+)$")
#: A lead-in: ends with a colon, or announces what follows ("shall provide the following").
_LEAD_IN = re.compile(
    r"(?::\s*$|\b(?:the\s+following|as\s+follows)\b(?![^:]*:\s*\S)|\bbelow\W*$)", re.I
)


@dataclass(slots=True)
class Statement:
    """What one sentence says: its strongest cue binding the contractor, or why it is not one."""

    modality: Modality | None = None
    negative: bool = False
    #: Why the sentence is not a requirement although it has a modal cue; "" when it is one.
    excluded: str = ""
    has_cue: bool = False
    #: The modality comes from an instruction's form ("Submit ..."), not from a modal verb.
    imperative: bool = False


def sentences(text: str) -> list[str]:
    """Split a block's text into sentences (abbreviations and initials do not end one)."""
    out: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start() + 1
        word = _WORD_BEFORE.search(text, start, end)
        token = word.group(1).rstrip(".").lower() if word else ""
        if token in _ABBREVIATIONS or re.fullmatch(r"(?:[a-z]\.)*[a-z]", token):
            continue  # "e.g.", "U.S.", "No. 5", an initial
        out.append(text[start : match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def split_obligations(sentence: str) -> list[str]:
    """A sentence split at semicolons where each side states an obligation with its own subject."""
    parts = [p for p in re.split(r"(?<=;)\s+", sentence) if p]
    if len(parts) == 1:
        return parts
    keep: list[str] = []
    for part in parts:
        cue = _CUE.search(part)
        own_subject = (
            cue is not None and cue.start() > 0 and not re.match(r"(?i)(?:and|or)\b", part)
        )
        if keep and not (own_subject and _CUE.search(keep[-1])):
            keep[-1] = f"{keep[-1]} {part}"
        else:
            keep.append(part)
    return keep


def classify(sentence: str) -> Statement:
    """The sentence's modality for the contractor, or why it binds someone else."""
    result = Statement()
    best: Modality | None = None
    buyer_reason = ""
    previous_actor: Actor | None = None
    if _BUYER_INTENT.match(sentence):
        return Statement(excluded="the buyer's estimate or intent", has_cue=True)
    for match in _CUE.finditer(sentence):
        kind = match.lastgroup or ""
        start = match.start()
        if (
            kind == "should"
            and not sentence[:start].strip()
            and re.match(r"(?i)should\s+(?:the|a|an|any|it|there)\b", sentence[start:])
        ):
            continue  # "Should the Contractor be terminated, ..." is a condition
        result.has_cue = True
        actor = _actor(sentence[:start], previous_actor)
        previous_actor = actor
        if kind == "notreq":
            buyer_reason = buyer_reason or "states what is not required"
            continue
        after = sentence[match.end() :]
        if actor == "others":
            if not _PASSIVE.match(after):
                buyer_reason = buyer_reason or "obligation of a third party"
                continue
            actor = "thing"  # "All users shall be authenticated": done to them, by the system
        by_buyer = kind == "will" and _BY_BUYER.match(after)
        if actor == "buyer" or _BUYER_PASSIVE.search(after) or (actor == "thing" and by_buyer):
            buyer_reason = buyer_reason or (
                "obligation or right of the buyer"
                if actor == "buyer"
                else "evaluation by the buyer"
            )
            continue
        if actor == "thing" and (kind == "may" or (kind == "will" and not _PASSIVE.match(after))):
            continue  # a statement of fact or possibility ("will take place"): not requirement-like
        modality: Modality
        if kind == "mustneg":
            modality = "must"
            result.negative = result.negative or best is None
        elif kind in ("must", "will"):
            modality = "must"
        elif kind == "should":
            modality = "should"
        else:
            modality = "may"
        if best is None or _RANK[modality] > _RANK[best]:
            best = modality
    if best is None and not buyer_reason and _IMPERATIVE.match(sentence):
        best = "must"  # an instruction: "Submit the plan ...", "Please ensure ..."
        result.has_cue = result.imperative = True
    if best is not None and re.match(r"(?i)\s*(?:no|neither|none)\b", sentence):
        result.negative = True  # "No substitutions shall be made ..."
    result.modality = best
    if best is None:
        result.excluded = buyer_reason
    return result


def _actor(before: str, previous: Actor | None) -> Actor:
    """Who the cue binds, from the words before it (back to the last clause boundary)."""
    window = re.sub(r"\([^()]*\)", "", before[-200:])  # "The Contracting Officer (CO)"
    if _MODAL.search(window):
        # "The COR will have the responsibility to": the earlier cue's subject carries on
        last_modal = list(_MODAL.finditer(window))[-1]
        if not _BOUNDARY.search(window, last_modal.end()):
            return previous or "thing"
    cuts = [0, *(m.start() for m in _BOUNDARY.finditer(window))]
    ends = [m.end() for m in _BOUNDARY.finditer(window)]
    subject = window[ends[-1] :].strip(" \"'") if ends else window.strip(" \"'")
    if not subject and previous is not None:
        return previous
    for start, end in zip(reversed([0, *ends]), reversed([*cuts[1:], len(window)]), strict=True):
        # "The Contracting Officer, or duly designated COR, will": the subject before an aside
        if subject:
            break
        subject = window[start:end].strip(" \"'")
    if not subject:
        return "thing"
    if _EVALUATORS.search(subject):
        return "buyer"
    if _OTHERS.match(window.strip()):
        return "others"  # customers, users, the public: not the contractor either
    if _CONTRACTOR.search(subject):
        return "contractor"
    # the head of "all modifications made for the City" is "modifications", not "City"
    subject = re.split(_PREPOSITION, subject, maxsplit=1)[0] or subject
    words = re.sub(r"'s\b", "", subject).split()
    head = " ".join(words[-4:])
    if _BUYER_HEAD.search(head) and not re.search(r"(?i)\b(?:data|information)\s*$", head):
        return "buyer"
    return "thing"


def is_lead_in(sentence: str) -> bool:
    """Whether a sentence introduces a list of items that carry its subject and modality."""
    return bool(_LEAD_IN.search(sentence))


def stronger(a: Modality | None, b: Modality | None) -> Modality | None:
    """The stronger of two modalities (must > should > may)."""
    if a is None or b is None:
        return a or b
    return a if _RANK[a] >= _RANK[b] else b


_NOT_IMPERATIVE = frozenset(
    [
        "the",
        "a",
        "an",
        "this",
        "these",
        "that",
        "those",
        "all",
        "each",
        "any",
        "every",
        "it",
        "its",
        "they",
        "their",
        "there",
        "he",
        "she",
        "we",
        "our",
        "in",
        "on",
        "at",
        "for",
        "of",
        "to",
        "from",
        "by",
        "with",
        "if",
        "when",
        "where",
        "while",
        "as",
        "after",
        "before",
        "during",
        "upon",
        "under",
        "within",
        "per",
        "such",
        "no",
        "not",
        "note",
        "i",
        "ii",
        "iii",
        "iv",
        "v",
    ]
)


def is_imperative(sentence: str) -> bool:
    """A sentence that starts with a verb ("Prepare the report ..."), in a list of tasks."""
    match = re.match(r"[\"'(]?([A-Za-z][a-z]+)\b", sentence)
    if not match:
        return False
    word = match.group(1)
    return word[0].isupper() and word.lower() not in _NOT_IMPERATIVE and not word.endswith("s")
