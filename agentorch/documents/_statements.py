"""Obligation statements: sentences, their modal verbs, who they bind, and their modality.

A sentence is a requirement when a modal cue (shall, must, will, is required to, ...) binds the
contractor or a thing the contractor delivers ("All data shall be encrypted"). A cue whose subject
is the buyer ("The Government will ...", "the COR shall inspect") or a passive evaluation verb
("will be evaluated") makes the sentence the buyer's: kept out of the requirements, with why.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Literal

from agentorch.documents._duties import IMPERATIVE

Modality = Literal["must", "should", "may"]
Actor = Literal["contractor", "buyer", "thing", "others"]

_RANK = {"must": 3, "should": 2, "may": 1}

#: Modal cues, longest first; the group names say the modality (``neg`` = a prohibition).
_CUE = re.compile(
    r"""\b(?:
      (?P<notreq>(?:will|shall|is|are)\s+not\s+(?:be\s+)?required\s+to)
    | (?P<option>may\s+(?:be\s+)?(?:\w+\s+(?:and/or|and|or)\s+)?(?:required|asked|called\s+upon
        |requested)\s+to|may\s+be\s+required(?!\s+to)|may\s+(?:also\s+)?need\s+to)
    | (?P<mustneg>(?:shall|must|will|may)\s+not|cannot|can\s*not)
    | (?P<must>(?:requires?|(?:is\s+the\s+(?:\w+\s+)?)?responsibility\s+of)\s+the
        \s+(?:contractor|offeror|vendor|quoter)s?\s+to
        |(?:is|are|will\s+be|shall\s+be)\s+(?:required|responsible|obligated|instructed
        |expected)\s+(?:to|for)|(?:is|are)\s+(?:also\s+)?required
        |(?:is|are)\s+the\s+\w+(?:'s)?\s+responsibility|responsibility\s+to|shall|must
        |it\s+is\s+(?:imperative|essential|mandatory)\s+that|(?:will\s+)?(?:also\s+)?needs?\s+to
        |requires?\s+that)
    | (?P<should>(?:is|are)\s+encouraged\s+to|should
        |(?:is|are)\s+(?:(?:highly|strongly)\s+)?recommended)
    | (?P<will>will)
    | (?P<may>may|can)
    )\b""",
    re.I | re.X,
)
#: The buyer's own estimate or intent: "The Government estimates ...", "The City anticipates ...".
_BUYER_INTENT = re.compile(
    r"(?i)^(?:(?:the\s+)?(?:government|city|county|state|agency|department|owner|\w+\s+officer)\s+"
    r"(?:estimates|anticipates|intends|expects|believes|plans|reserves|will\s+not)\b"
    r"|it\s+is\s+(?:estimated|anticipated)\s+that\b)"
)
#: A statement that nothing is needed or promised, with no "shall"/"must": "No Government
#: Furnished Materials will be needed", "No travel is anticipated or will be required", "There is
#: no guarantee that any Additional Services will be ordered".
_NOTHING_NEEDED = re.compile(
    r"(?i)^(?:there\s+(?:is|are|will\s+be)\s+no\b"
    r"|no\s+[^,;:]*?\b(?:will\s+be|is|are)\s+(?:\w+ly\s+)?"
    r"(?:needed|required|necessary|anticipated|expected|envisioned)\b(?!\s+to\b))"
)
_BINDING = re.compile(r"(?i)\b(?:shall|must)\b")
#: "will be given ... by the COR": what the buyer will do, told in the passive.
_BY_BUYER = re.compile(
    r"(?i)^[^.;]*?\bby\s+the\s+(?:authorized\s+|designated\s+)?"
    r"(?:government|contracting\s+officer|cor|co|city"
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
    r"(?:\b(?i:government|(?:contracting|grants?|program|procurement|ordering)\s+officer"
    r"|contracting\s+officer's\s+representative|cor|acor"
    r"|cotr|co|agency|department|city|county|state|owner|purchaser|buyer|we|us|ordering\s+activity"
    r"|project\s+officer|product\s+owner|product\s+lead|evaluators?|committee|board|council"
    r"|treasurer|solicitation)"
    r"|\b[A-Z][A-Z0-9&]{1,6}(?:/[A-Z]{2,6})?|\b(?:The|the)\s+Office)$",
)
#: "Activities are expected to continue ...": a forecast of how things go, not anyone's duty.
_FORECAST = re.compile(
    r"(?i)(?:is|are|will\s+be)\s+expected\s+to\s+(?:continue|begin|start|end|occur|last|take"
    r"|remain|proceed|increase|decrease|grow|exceed|be\s+(?:completed|finished|available))\b"
)
#: A sentence about paying the contractor: "Payment of laborers will be based on ...".
_PAYMENT = re.compile(r"(?i)^(?:the\s+)?(?:compensation|payments?|reimbursements?)\b")
_CONDITION = re.compile(r"(?i)\b(?:if|when|unless|until|where|while|because)\s*$")
#: Passive verbs of the buyer's own acts: "will be evaluated", "shall be considered".
_BUYER_PASSIVE = re.compile(
    r"^\s*(?:not\s+)?be\s+(?:evaluated|considered|scored|rated|rejected|accepted|deemed|awarded"
    r"|paid|compensated|reimbursed|returned|reviewed|inspected|determined|judged|disqualified"
    r"|eliminated"
    r"|found|answered|posted|issued|administered|published|given"
    r"|communicated|notified|announced|assessed|introduced|offered"
    r"|provided\s+by\s+the\s+government)\b"
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
#: The contractor's own output as a subject ("The work performed shall ..."): not the buyer's,
#: even in a paragraph about the buyer's acceptance.
_CONTRACTORS_WORK = re.compile(
    r"(?i)\b(?:work|services|deliverables?)(?:\s+(?:performed|provided|delivered|furnished))?\s*$"
)
_MODAL = re.compile(r"(?i)\b(?:shall|must|will|should|may)\b")
#: An instruction whose object is a clause: "Acknowledge that X will ...", "Ensure that ...".
_THAT_CLAUSE = re.compile(r"(?i)^\W*\w+\s+that\b")
#: A cue right after a relative pronoun belongs to a clause describing a noun, not a statement.
_RELATIVE = re.compile(r"(?i)\b(?:which|who|whom)\s+(?:\w+ly\s+)?$")
_BY_CONTRACTOR = re.compile(
    r"(?i)^\s*(?:also\s+)?be\s+(?:\w+ly\s+)?\w+(?:ed|en|used)\s+by\s+(?:the\s+)?(?:contractor|offeror"
    r"|vendor|quoter)s?\b"
)
_DEFINITION = re.compile(r"((?:\b[A-Z][\w'-]*\s+(?:(?:of|and|for|the)\s+)?){1,8})\(([A-Z]{2,6})\)")
_ORGANISATION = re.compile(
    r"(?i)\b(?:government|officer|representative|agency|department|administration|service"
    r"|bureau|office|division|committee|board|council|team|lead|owner|manager|inspector"
    r"|institute|library|libraries|commission)s?\b"
)
#: A passive whose doer, named right after the verb, is the buyer.
_DONE_BY_BUYER = re.compile(
    r"(?i)^\s*(?:also\s+)?be\s+(?:\w+ly\s+)?\w+(?:ed|en)(?:\s+and\s+\w+(?:ed|en))?,?\s+by\s+the"
    r"\s+(?:government|contracting\s+officer|cor|co|cotr|city|county|agency|department)\b"
)
#: A compound subject that names the contractor: "The contractor and government may ...".
_WITH_CONTRACTOR = re.compile(
    r"(?i)^\s*(?:the\s+)?contractor\s+(?:and|or)\s+(?:the\s+)?\w+(?:\s+\w+)?\s*$"
)
_PRONOUN = re.compile(r"(?i)(?:they|it|this|he|she|he\s+or\s+she|these|those)")
#: "The 18F technical lead", "Government staff": a role of the buyer's organisation.
_BUYER_ROLE = re.compile(
    r"(?:\b(?i:government|agency|department|federal)|\b(?=[A-Z0-9]*[A-Z])[A-Z0-9]{2,7}\b)(?:'s)?\s+"
    r"(?i:(?:\w+\s+)?(?:lead|manager|staff|personnel|team|employees?|representatives?))\b"
)
#: The verb after a sentence's subject when it states a fact: "The Product Owner is ...".
_COPULA = re.compile(r"(?i)\s(?:is|are|has|have|does|do)\b")
_PREPOSITION = re.compile(
    r"(?i)(?<=\w)\s+(?:of|to|for|from|with|in|on|under|at|within|made|created|including|such"
    r"|regarding|concerning|about|per)\b"
)
_ABBREVIATION_WORDS = (
    "e.g i.e no nos sec secs vs inc co corp ltd mr mrs ms dr st approx art para paras fig ref "
    "rev vol ch pt dept jan feb mar apr jun jul aug sep sept oct nov dec p pp u.s u.s.c c.f.r cf "
    "al"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
#: A full stop, with any closing quote or emphasis, before the capital of the next sentence
#: (which may open with emphasis: "... quotation. **If the offeror ...").
_SENTENCE_END = re.compile(r"[.!?][\"')\]*_]*\s+(?=[\"'(\[*_]{0,3}[A-Z0-9])")
_WORD_BEFORE = re.compile(r"(\S+)$")
#: A lower-case content word, then a capitalised sentence opener: where a full stop went missing.
_RUN_ON = re.compile(
    r"(?<=[a-z])\s+(?=(?:The|This|These|Those|All|Each|Every|Any|They|It|If|Please)\s)"
)
_LAST_WORD = re.compile(r"([a-z]+)$")
#: Words after which a capitalised word goes on the phrase ("by The Contractor").
_FUNCTION_WORD_LIST = "by to of for with in on at from and or that than as is are be the per under"
_FUNCTION_WORDS = frozenset(_FUNCTION_WORD_LIST.split())
_POINTER = re.compile(
    r"(?i)\b(?:the\s+following|as\s+follows|below)\b"
    r"|\b(?:including|includes?|such\s+as)(?:,?\s+but\s+not\s+limited\s+to)?\W*$"
)
#: A list that details a duty the lead-in names ("shall assist in performing acquisition
#: planning services to include the following:"), not the object of its verb ("shall provide
#: the following:").
_INCLUSION = re.compile(
    r"(?i)\b(?:to\s+include|including|regarding|that\s+(?:will|shall)\s+include)"
    r"(?:,?\s+but\s+not\s+(?:be\s+)?limited\s+to)?,?\s+(?:the\s+following|as\s+follows)\b"
)
_CLAUSE_JOINT = re.compile(r"(?i),?\s+(?:and|but|while|whereas)\s+|;\s*")
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
    #: Who the sentence is about (its deciding cue's subject, or its grammatical subject when it
    #: has no cue): the next sentence's "they" / "this" refers to it.
    actor: Actor | None = None


def sentences(text: str) -> list[str]:
    """Split a block's text into sentences (abbreviations and initials do not end one)."""
    out: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start() + 1
        word = _WORD_BEFORE.search(text, start, end)
        token = word.group(1).rstrip(".").lower() if word else ""
        acronym = word is not None and re.fullmatch(r"[A-Z]{2,}\.?", word.group(1)) is not None
        if (token in _ABBREVIATIONS and not acronym) or re.fullmatch(r"(?:[a-z]\.)*[a-z]", token):
            continue  # "e.g.", "U.S.", "No. 5", an initial
        out.append(text[start : match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return [part for sentence in out for part in _lost_full_stop(sentence)]


def _lost_full_stop(sentence: str) -> list[str]:
    """Two obligations run together where a full stop was lost ("... for previous clients The
    summaries shall ..."): split before the capitalised opener when both sides have a cue.
    Linear: the cues are found once."""
    runs = list(_RUN_ON.finditer(sentence))
    if not runs:
        return [sentence]
    cues = [m.start() for m in _CUE.finditer(sentence)]
    if len(cues) < 2:
        return [sentence]
    out: list[str] = []
    start = 0
    for match in runs:
        cut = match.start()
        before = _LAST_WORD.search(sentence, max(0, cut - 20), cut)
        if before is None or len(before.group(1)) < 2 or before.group(1) in _FUNCTION_WORDS:
            continue
        first_after_start = bisect_left(cues, start)
        if first_after_start < len(cues) and cues[first_after_start] < cut and cues[-1] >= cut:
            out.append(sentence[start:cut].strip())
            start = match.end()
    out.append(sentence[start:].strip())
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


def defined_things(text: str) -> Iterator[str]:
    """Acronyms ``text`` defines as things, not organisations: "Quality Control Plan (QCP)"."""
    for match in _DEFINITION.finditer(text):
        words, acronym = match.group(1).split(), match.group(2)
        expansion = " ".join(words[-len(acronym) :])
        if not _ORGANISATION.search(expansion):
            yield acronym


def classify(
    sentence: str,
    context: Actor | None = None,
    paragraph: Actor | None = None,
    things: AbstractSet[str] = frozenset(),
) -> Statement:
    """The sentence's modality for the contractor, or why it binds someone else.

    ``things`` are acronyms the document defines as things ("QCP"), which an acronym subject
    otherwise is not (an acronym names the buyer: "the COR", "DOL"). ``context`` is who the
    previous sentence of the paragraph was about (a pronoun subject,
    "They will ...", refers to it); ``paragraph`` who its first sentence was about: in a paragraph
    about the buyer's own activity ("The Government will hold a kick-off meeting ... Discussion
    topics shall include:"), a statement whose subject is neither party is about that activity.
    """
    result = Statement()
    best: Modality | None = None
    best_actor: Actor | None = None
    buyer_reason = ""
    previous_actor: Actor | None = context
    if _BUYER_INTENT.match(sentence):
        return Statement(excluded="the buyer's estimate or intent", has_cue=True, actor="buyer")
    if _NOTHING_NEEDED.match(sentence) and not _BINDING.search(sentence):
        return Statement(excluded="states that nothing is needed", has_cue=True)
    for match in _CUE.finditer(sentence):
        kind = match.lastgroup or ""
        start = match.start()
        if (
            kind == "should"
            and not sentence[:start].strip()
            and re.match(r"(?i)should\s+(?:the|a|an|any|it|there)\b", sentence[start:])
        ):
            continue  # "Should the Contractor be terminated, ..." is a condition
        if _RELATIVE.search(sentence, max(0, start - 40), start):
            continue  # "space ... which will be used": a relative clause inside a noun phrase
        result.has_cue = True
        actor = _actor(sentence[:start], previous_actor, things)
        after = sentence[match.end() :]
        passive = _PASSIVE.match(after)
        if passive and _BY_CONTRACTOR.match(after):
            actor = "contractor"  # "may be used by the Contractor"
        elif _DONE_BY_BUYER.match(after):
            actor = "buyer"  # "must be identified and designated by the CO"
        if actor == "thing" and _FORECAST.match(match.group() + after):
            continue  # "Development activities are expected to continue ...": a forecast
        if kind == "must" and _CONTRACTOR.search(match.group()):
            actor = "contractor"  # "It is the responsibility of the contractor to ..."
        inherited = (
            actor == "thing"
            and paragraph == "buyer"
            and not _CONTRACTORS_WORK.search(sentence[:start])
        )
        if inherited:
            actor = "buyer"  # "Discussion topics shall include" in the buyer's meeting
        previous_actor = actor
        if kind == "notreq":
            buyer_reason = buyer_reason or "states what is not required"
            continue
        if actor == "others":
            if not _PASSIVE.match(after):
                buyer_reason = buyer_reason or "obligation of a third party"
                continue
            actor = "thing"  # "All users shall be authenticated": done to them, by the system
        by_buyer = kind == "will" and _BY_BUYER.match(after)
        if actor == "buyer" or _BUYER_PASSIVE.search(after) or (actor == "thing" and by_buyer):
            buyer_reason = buyer_reason or (
                "evaluation by the buyer"
                if actor != "buyer" or (inherited and _BUYER_PASSIVE.search(after))
                else "obligation or right of the buyer"
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
            best, best_actor = modality, actor
    if IMPERATIVE.match(sentence) and (
        (best is None and not buyer_reason) or _THAT_CLAUSE.match(sentence)
    ):
        # an instruction ("Submit the plan ...", "Please ensure ..."), also when its object is a
        # clause with a cue of its own ("Acknowledge that CDC will not ...": that cue is the clause's)
        best, buyer_reason = "must", ""
        result.has_cue = result.imperative = True
        best_actor = "contractor"
    if best is not None and re.match(r"(?i)\s*(?:no|neither|none)\b", sentence):
        result.negative = True  # "No substitutions shall be made ..."
    result.modality = best
    if best is None:
        result.excluded = buyer_reason
    if best_actor is not None:
        result.actor = best_actor
    elif buyer_reason:
        result.actor = "buyer"
    elif not result.has_cue:
        verb = _COPULA.search(sentence)  # "The Product Owner is the key stakeholder."
        result.actor = _actor(sentence[: verb.start()], context, things) if verb else None
    return result


def _actor(before: str, previous: Actor | None, things: AbstractSet[str] = frozenset()) -> Actor:
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
    if _PRONOUN.fullmatch(subject):
        return previous or "thing"  # "They will ...": whoever the sentence before was about
    if _WITH_CONTRACTOR.search(window):
        return "contractor"  # "The contractor and government may mutually agree ..."
    for start, end in zip(reversed([0, *ends]), reversed([*cuts[1:], len(window)]), strict=True):
        # "The Contracting Officer, or duly designated COR, will": the subject before an aside
        if subject:
            break
        subject = window[start:end].strip(" \"'")
    if not subject:
        return "thing"
    if _EVALUATORS.search(subject):
        return "buyer"
    if _PAYMENT.match(subject) and not _CONDITION.search(window[: ends[-1]] if ends else ""):
        return "buyer"  # "Payment of laborers will be based on ...": the buyer pays
    if _OTHERS.match(window.strip()):
        return "others"  # customers, users, the public: not the contractor either
    if _BUYER_ROLE.search(subject) and not re.search(r"(?i)\bcontractor", subject):
        return "buyer"  # "the 18F technical lead", "Government staff": the buyer's people
    if _CONTRACTOR.search(subject):
        return "contractor"
    # the head of "all modifications made for the City" is "modifications", not "City"
    subject = re.split(_PREPOSITION, subject, maxsplit=1)[0] or subject
    words = re.sub(r"'s\b", "", subject).split()
    head = " ".join(words[-4:])
    if words and words[-1] in things:
        return "thing"
    if _BUYER_HEAD.search(head) and not re.search(r"(?i)\b(?:data|information)\s*$", head):
        return "buyer"
    return "thing"


def list_apart(lead_in: str) -> bool:
    """Whether a lead-in's list belongs to a clause without obligation wording and its obligation
    to another clause with a subject of its own: "The following legal holidays are observed by
    the Federal government and the contractor shall not report for work on these holidays."."""
    pointer = _POINTER.search(lead_in)
    cue = _CUE.search(lead_in)
    if pointer is None or cue is None or cue.start() < pointer.end():
        return False
    joint = _CLAUSE_JOINT.search(lead_in, pointer.end(), cue.start())
    return joint is not None and bool(lead_in[joint.end() : cue.start()].strip())


def is_lead_in(sentence: str) -> bool:
    """Whether a sentence introduces a list of items that carry its subject and modality."""
    return bool(_LEAD_IN.search(sentence))


def refers_back(sentence: str) -> bool:
    """Whether a sentence's subject is a pronoun ("It should be legible.")."""
    return bool(re.match(r"(?:It|They|This|These|Those|He|She)\b", sentence))


def states_more_than_a_pointer(lead_in: str, *, list_came: bool = False) -> bool:
    """Whether a lead-in states an obligation of its own beyond pointing at its list.

    Without its list, when its cue is followed by six words or more before the pointer ("the
    following", "as follows", "below", or the closing colon): "The projects should be recent
    and similar to the size ... are defined below", not "shall provide the following:". With
    its list, when it states it in a clause of its own ("All employees must be able to speak
    English, and shall also receive training as follows:") or has no pointer at all ("the
    Contractor shall assign the personnel named in its quotation to perform this order:")."""
    cue = _CUE.search(lead_in)
    if cue is not None and _POINTER.search(lead_in, 0, cue.start()):
        return False  # "The following tasks are required to ...": the list is its subject
    if cue is None and not (list_came and IMPERATIVE.match(lead_in)):
        return False
    start = cue.end() if cue is not None else 0
    pointer = _POINTER.search(lead_in, start)
    end = pointer.start() if pointer else len(lead_in)
    if list_came and pointer is not None:
        inclusion = _INCLUSION.search(lead_in, start)
        if inclusion and len(re.findall(r"[A-Za-z]{2,}", lead_in[start : inclusion.start()])) >= 4:
            return True  # a duty named in its own words, which the list only details
        return cue is not None and _CUE.search(lead_in, cue.end(), end) is not None
    if cue is None:
        return False  # an instruction's lead-in is a row only when it names the duty (above)
    return len(re.findall(r"[A-Za-z]{2,}", lead_in[start:end])) >= 6


def stronger(a: Modality | None, b: Modality | None) -> Modality | None:
    """The stronger of two modalities (must > should > may)."""
    if a is None or b is None:
        return a or b
    return a if _RANK[a] >= _RANK[b] else b
