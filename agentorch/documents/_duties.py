"""Duties stated without a subject: instructions ("Submit the plan") and the tasks of a task list.

Statements of work list the contractor's tasks as bare verbs ("Assist in conducting market
research. Prepare pre-award notices.") or in the present tense with the contractor left out
("Presents and interprets data"). A sentence that opens with a verb of a contractor's work is an
instruction anywhere; a sentence that merely opens with a word that may be a verb is a duty only
where the text is already a list of the contractor's tasks (an item under "The Contractor shall:",
the sentences after a duty in the same paragraph).
"""

from __future__ import annotations

import re

#: Verbs that open an instruction to the contractor, wherever the sentence stands.
_VERB_LIST = (
    "provide submit include prepare deliver ensure describe identify maintain perform report sign"
    " leave use attend complete develop conduct furnish state explain demonstrate respond notify"
    " coordinate work support assist create establish implement comply obtain repair replace"
    " relocate render do make keep send update document test install train supply upload"
    " register verify contact follow address attach indicate specify list propose manage monitor"
    " track design build deploy operate analyse analyze participate present return protect secure"
    " store retain remove dispose schedule plan define evaluate collect produce recommend review"
    " clean inspect migrate convert acquire arrange help act offer acknowledge assure distribute"
    " advise certify communicate compile configure confirm consult escalate execute facilitate"
    " gather generate inform investigate modify negotiate organise organize oversee prioritise"
    " prioritize procure publish reconcile resolve summarise summarize transfer translate"
    " troubleshoot validate write interpret clarify collaborate adhere conform answer archive"
    " calculate examine determine enter upgrade integrate assess administer consider foster"
)
VERBS = frozenset(_VERB_LIST.split())
#: Verbs of task lists that also read as nouns at a sentence's start ("Process improvements are
#: ..."): duties only inside a task list.
_TASK_VERB_LIST = (
    "process record lead host post file change estimate survey research staff log brief draft"
    " edit release approve audit forecast draft route catalog catalogue index scan map model"
    " benchmark budget contract market screen package label"
)
_TASK_VERBS = VERBS | frozenset(_TASK_VERB_LIST.split())

#: An instruction: "Please ensure ...", "Submit ...", also after an opening phrase ("In
#: collaboration with program staff, provide ...", "Prior to release, verify ..."); not a title
#: of a verb and capitalised words alone ("Work Statement", "Test Plan").
IMPERATIVE = re.compile(
    r"^[\"'(]?(?:[A-Z][\w ]{0,30},\s+|(?:in|upon|prior\s+to|at|as|with|for|during|after|before"
    r"|when|where|if|within|under|through|on|once|until|unless|by|using|following|independently"
    r"|additionally|also|further|furthermore|finally|then)\b[^,;:.!?]{0,100},\s+)?"
    r"(?:please\s+(?!note|refer|see|subscribe)\w+|(?:" + "|".join(sorted(VERBS)) + r")\b"
    r"(?!\s+of\b)(?-i:(?!(?:\s+[A-Z][\w/&-]*){1,3}\s*$)))",
    re.I,
)
_OPENING_PHRASE = re.compile(
    r"^[\"'(]?(?:(?:in|upon|prior\s+to|at|as|with|for|during|after|before|when|where|if|within"
    r"|under|through|on|once|until|unless|by|using|following)\b[^,;:.!?]{0,100},\s+)?",
    re.I,
)
_FIRST_WORDS = re.compile(r"([A-Za-z][a-z]+)\b[\s,]*([A-Za-z']*)")
#: A word after the first that shows the first is a subject: "Reports are due", "Examples of".
_AFTER_SUBJECT_WORDS = (
    "is are was were has have had will shall can may must should would could does do of to"
)
_AFTER_SUBJECT = frozenset(_AFTER_SUBJECT_WORDS.split())
#: Endings of nouns, adjectives and adverbs ("Failure", "Typically", "Additional").
_NOT_A_VERB = re.compile(
    r"(?:tion|sion|ment|ness|ity|ance|ence|ure|ship|ism|ist|ics|ery|ory|ary|al|ive|ous|ful"
    r"|less|able|ible|ic|ant|ent|ly|ing|ed|or|er|s)$"
)
_NOT_IMPERATIVE_WORDS = (
    "the a an this these that those all each any every it its they their there he she we our in"
    " on at for of to from by with if when where while as after before during upon under within"
    " per such no not note i ii iii iv v due see however also typically generally currently"
    " example examples other only both either neither most some many several you your please"
    " my his her"
)
_NOT_IMPERATIVE = frozenset(_NOT_IMPERATIVE_WORDS.split())


def is_imperative(sentence: str) -> bool:
    """A sentence that reads as a task in a list of tasks: it opens (after an opening phrase)
    with a verb in its base form ("Assure the solicitation ...", "Release solicitation by
    electronic posting."), or in the present tense with the subject left out ("Presents and
    interprets data ..."). Not "Failure to ...", "Typically, ...", "Reports are due ..."."""
    opening = _OPENING_PHRASE.match(sentence)
    start = opening.end() if opening else 0
    match = _FIRST_WORDS.match(sentence, start)
    if not match:
        return False
    word, lowered, after = match.group(1), match.group(1).lower(), match.group(2).lower()
    if not word[0].isupper() and not start:
        return False
    if lowered in _NOT_IMPERATIVE or after in _AFTER_SUBJECT:
        return False
    if lowered in _TASK_VERBS:
        return True
    stem = _present_stem(lowered)
    if stem and stem in _TASK_VERBS:
        return True  # "Presents and interprets ...": a duty with its subject left out
    return not _NOT_A_VERB.search(lowered) and not _titled(sentence)


def _titled(sentence: str) -> bool:
    """A title in Title Case ("Contractor Non-Disclosure Agreement (NDA)."), not a task."""
    words = [w.strip("()[]\"',.:;") for w in sentence.split() if len(w) > 3]
    capitals = sum(1 for w in words if w[:1].isupper())
    return len(words) >= 2 and capitals >= 0.6 * len(words)


def _present_stem(word: str) -> str:
    """ "presents" -> "present", "analyzes" -> "analyze", "supplies" -> "supply"; "" otherwise."""
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("ses") or word.endswith("zes") or word.endswith("ches"):
        return word[:-1] if word[:-1] in _TASK_VERBS else word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return ""


#: A section that schedules deliverables: "MILESTONES, ADMINISTRATION AND REPORTING".
_SCHEDULE_SECTION = re.compile(r"(?i)\b(?:deliverables?|milestones?|reporting|schedule)\b")
#: A name, a dash, and when it is due: "Hardware Documentation - January 5, 2001", "IPB -2/1/2001",
#: "Project Status Reports - Weekly", "Test Plans - 30 Days prior to beginning of test".
_SCHEDULE_LINE = re.compile(
    r"(?i)^(?P<name>[A-Z][\w&/,()' ]{1,80}?)(?:\s+-\s*|-\s+)(?P<due>(?:"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:,?\s+\d{4})?"
    r"|\d{1,2}/\d{1,2}/\d{2,4}"
    r"|(?:bi-?)?(?:daily|weekly|monthly|quarterly|annually|yearly|semi-?annually)"
    r"|\d+\s+(?:calendar\s+|business\s+|work(?:ing)?\s+)?(?:days?|weeks?|months?)\b"
    r"|within\b|upon\b|prior\s+to\b|no\s+later\s+than\b|as\s+(?:required|needed|requested)\b"
    r")[^.;:]{0,80})$"
)


def scheduled_deliverable(text: str, section: str) -> bool:
    """A line of a deliverables schedule written as a list, not a table: a name and its due date
    under a heading about deliverables, milestones or reporting (a deliverable, like a table's)."""
    return bool(_SCHEDULE_SECTION.search(section)) and bool(_SCHEDULE_LINE.match(text.strip()))
