"""Typed constraints read from requirement or answer text: the quantities (time, money, counts...).

Each quantity comes back as a ``Constraint``: what kind of value it is, what it is about (its
subject: "notification", "RTO", "cyber liability"...), whether a requirement states it as a maximum
or a minimum, and the value normalised to one unit per kind (hours, percent, currency amount, a
count, events per year), as an interval so that business days can be compared with calendar days.
The named terms (unlimited, fixed prices, ownership, location, certifications, languages) are read
by ``_terms``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ._numbers import normalise, to_float

# Calendar hours per unit; a month is 30.44 days and a year 365.25 (values within 1.5% are equal).
_HOURS = {
    "second": (1 / 3600, 1 / 3600),
    "minute": (1 / 60, 1 / 60),
    "hour": (1.0, 1.0),
    "day": (24.0, 24.0),
    "week": (168.0, 168.0),
    "month": (730.5, 730.5),
    "quarter": (2191.5, 2191.5),
    "year": (8766.0, 8766.0),
}
#: Business time counts 5 days in 7; a figure within two days of the converted value (weekends,
#: public holidays) cannot be told apart.
BUSINESS_RATIO = 7 / 5
BUSINESS_SLACK_DAYS = 2.0


@dataclass(frozen=True)
class Constraint:
    """One value or term found in a text, normalised for comparison."""

    kind: str
    subject: str
    direction: str  # "max" | "min" | "exact" | "presence"
    lo: float | None = None
    hi: float | None = None
    unit: str = ""
    basis: str = ""  # "business" / "calendar"; "per occurrence" / "aggregate"
    qualifier: str = ""  # a severity level ("sev1"...) the value applies to
    text: str = ""  # the words as written, for people
    term: str = ""  # a categorical value: "unlimited", "capped", "fixed", "escalating", ...
    options: tuple[str, ...] = ()  # regions, certifications, languages
    negated: tuple[str, ...] = ()  # options the text explicitly denies
    nominal: tuple[float, float] | None = None  # business time in business hours, unconverted
    context: frozenset[str] = field(default_factory=frozenset)
    pos: int = 0


@dataclass(frozen=True)
class Sentence:
    text: str  # normalised, lower case
    start: int


def sentences(raw: str) -> list[Sentence]:
    """The text normalised (numbers in digits), lower-cased, and cut into sentences."""
    text = normalise(raw).lower()
    out: list[Sentence] = []
    start = 0
    for m in re.finditer(
        r"(?<=[.;!?])\s+(?=[a-z0-9(\"'$])|\n\s*\n|\n(?=\s*(?:[-*•]|\d+\.)\s)", text
    ):
        chunk = text[start : m.start()]
        if chunk.strip():
            out.append(Sentence(" ".join(chunk.split()), start))
        start = m.end()
    if text[start:].strip():
        out.append(Sentence(" ".join(text[start:].split()), start))
    return out


_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "by",
        "with",
        "at",
        "as",
        "be",
        "is",
        "are",
        "was",
        "were",
        "shall",
        "will",
        "must",
        "should",
        "may",
        "can",
        "any",
        "all",
        "each",
        "its",
        "it",
        "this",
        "that",
        "these",
        "those",
        "our",
        "we",
        "us",
        "their",
        "they",
        "from",
        "than",
        "not",
        "no",
        "into",
        "under",
        "per",
        "such",
        "other",
        "including",
        "include",
        "includes",
        "within",
        "least",
        "most",
        "more",
        "less",
    ]
)


def context_words(text: str) -> frozenset[str]:
    """Content words of a stretch of text, crudely stemmed, for matching two mentions."""
    words = re.findall(r"[a-z][a-z0-9]+", text.lower())
    return frozenset(w[:6] for w in words if w not in _STOP and len(w) > 2)


_PARENS = re.compile(r"\([^()]*\)")


def nearest(
    sentence: str, start: int, end: int, table: list[tuple[re.Pattern[str], str]]
) -> str | None:
    """The subject of the value at ``start:end``: the closest keyword, preferring one before it."""
    best: tuple[float, str] | None = None
    for pattern, subject in table:
        for m in pattern.finditer(sentence):
            if m.end() <= start:
                gap = _PARENS.sub("", sentence[m.end() : start])
                distance = len(gap) + 12 * gap.count(",") + 40 * gap.count(";")
            elif m.start() >= end:
                gap = _PARENS.sub("", sentence[end : m.start()])
                distance = 35 + len(gap) + 25 * gap.count(",") + 40 * gap.count(";")
            else:
                distance = 0
            if best is None or distance < best[0]:
                best = (distance, subject)
    if best is None or best[0] > 160:
        return None
    return best[1]


def _compile(pairs: list[tuple[str, str]]) -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(p), s) for p, s in pairs]


_MAX_WORDS = (
    r"within|no later than|not later than|no more than|not more than|not to exceed|not exceed"
    r"|not exceeding|shall not exceed|at most|a maximum of|maximum of|maximum|max\.?|up to|under"
    r"|less than|fewer than|no longer than|not longer than|in no event later than|by no later than"
    r"|in under|no greater than|inside of|inside|capped at|limited to|no slower than"
)
_MIN_WORDS = (
    r"at least|a minimum of|minimum of|minimum|min\.?|no less than|not less than|no fewer than"
    r"|not fewer than|more than|in excess of|greater than|exceeding|upwards of|not below|no lower than"
    r"|not lower than|no shorter than|not shorter than|or more frequently than"
)
# The leftmost match wins, so "not less than" is read before its tail "less than".
_MARKER = re.compile(
    rf"(?:(?P<max>{_MAX_WORDS})|(?P<min>{_MIN_WORDS}))\s+(?:of\s+|a\s+|an\s+|the\s+|by\s+)*\$?\s*$"
)
_AFTER_MAX = re.compile(
    r"^[\s',]*(?:or (?:less|fewer|sooner|shorter|faster|earlier|lower)|maximum|max\b)"
)
_AFTER_MIN = re.compile(
    r"^[\s',]*(?:or (?:more|longer|greater|higher|better|above)|minimum|min\b|at a minimum|\+)"
)
_FLIP = re.compile(r"\b(?:not|never)\b[^,;]{0,30}$")


def direction_marker(sentence: str, start: int, end: int) -> str | None:
    """ "max" / "min" when words right around the value say so ("within", "at least", "or more")."""
    before = sentence[max(0, start - 45) : start]
    m = _MARKER.search(before)
    if m:
        found = "max" if m.group("max") else "min"
        # "shall not increase by more than 2%": a negated minimum marker is a maximum
        if _FLIP.search(before[: m.start()]) and not re.match(r"no|not", m.group(0)):
            found = "min" if found == "max" else "max"
        return found
    after = sentence[end : end + 20]
    if _AFTER_MAX.search(after):
        return "max"
    if _AFTER_MIN.search(after):
        return "min"
    return None


_SEVERITY = [
    (r"\b(?:severity|sev|priority|level|p)[\s-]*1\b|\bcritical\b|\burgent\b|\bemergenc", "sev1"),
    (r"\b(?:severity|sev|priority|level|p)[\s-]*2\b|\bhigh\b|\bmajor\b", "sev2"),
    (r"\b(?:severity|sev|priority|level|p)[\s-]*3\b|\bmedium\b|\bmoderate\b|\bminor\b", "sev3"),
    (r"\b(?:severity|sev|priority|level|p)[\s-]*4\b|\blow\b", "sev4"),
]
_SEVERITY_RE = _compile(_SEVERITY)


def severity(sentence: str, start: int, end: int) -> str:
    """The severity a time applies to ("15 days for critical", "Severity 2 ... 4 hours")."""
    after = re.match(r"[\s,]*(?:for|on|of|to)\s+(?:a\s+|the\s+)?([a-z0-9 -]{1,24})", sentence[end:])
    if after:
        for pattern, level in _SEVERITY_RE:
            if pattern.match(after.group(1)):
                return level
    window = sentence[max(0, start - 140) : start]
    best: tuple[int, str] | None = None
    for pattern, level in _SEVERITY_RE:
        for m in pattern.finditer(window):
            if best is None or m.end() > best[0]:
                best = (m.end(), level)
    return best[1] if best else ""


_NEGATION = re.compile(
    r"\b(?:not|no|never|without|cannot|unable|neither|nor|decline\w*|refuse\w*)\b|n't\b"
)
_PAST = re.compile(
    r"\bhistor\w*|\bhas (?:been|delivered|achieved|averaged)|\bhave (?:delivered|achieved|averaged)"
    r"|\bachieved\b|\bdelivered\b|\baverag\w*|\btrack record|\bover the (?:last|past)\b|\bto date\b"
)


def past(text: str, start: int) -> bool:
    """Whether the value is a record of the past ("has delivered 99.98%"), not a commitment."""
    before = re.split(r"[;:]\s|\bbut\b|\bwhile\b|\band our\b", text[max(0, start - 60) : start])[-1]
    return bool(_PAST.search(before))


_NOT_NEGATION = re.compile(
    r"\bno?t? (?:more|later|less|fewer|longer|greater|sooner) than\b|\bnot to exceed\b"
    r"|\bnot exceed\w*|\bnot below\b|\bin no event\b|\bno event\b|\bwithout (?:additional|extra) cost"
)


def negated(text: str, start: int, window: int = 45) -> bool:
    """Whether a negation word stands shortly before ``start`` in the same clause."""
    before = text[max(0, start - window) : start]
    before = re.split(r"[,;:]\s|\bbut\b|\bhowever\b|\bwhile\b|\bwhereas\b", before)[-1]
    return bool(_NEGATION.search(_NOT_NEGATION.sub(" ", before)))


# ---------------------------------------------------------------- time --------------------------

_NUM = r"\d[\d,]*(?:\.\d+)?"
_TIME = re.compile(
    rf"(?<![\w.$/:])({_NUM})(?:\s*(?:-|to|or)\s*({_NUM}))?[\s-]*"
    r"(business|working|calendar|consecutive|clock|full)?[\s-]*"
    r"(seconds?|secs?|minutes?|mins?|hours?|hrs?|h|days?|weeks?|months?|quarters?|years?|yrs?)"
    r"(?![\w])('s|s'|')?"
)
_NOT_A_DURATION = re.compile(
    r"^(?:[\s-]*(?:a|per|each|every|/)\s*(?:day|week|year|month)|\s*x\s*\d|[\s,]*(?:preceding|prior to the)"
    r"|[\s-]*(?:old|ago|of age|of experience|in business))"
)
_UNIT_NAMES = {
    "s": "second",
    "sec": "second",
    "min": "minute",
    "h": "hour",
    "hr": "hour",
    "yr": "year",
}
_TIME_SUBJECTS = _compile(
    [
        (
            r"recovery time objective|\brto\b|\brestor\w*|\brecover (?:the )?(?:service|system)"
            r"|\b(?:following|after) a (?:declared )?disaster"
            r"|\bfail ?over|\boperational\b|\bback online",
            "RTO",
        ),
        (r"recovery point objective|\brpo\b|data loss", "RPO"),
        (
            r"\bnotif\w*|\binform\w*|\balert\w*|\bcommunicat\w*"
            r"|\breport\w*\b[^.;]{0,40}\b(?:breach|incident|disclosure)"
            r"|\b(?:breach|incident|disclosure)\w*\b[^.;]{0,40}\breport\w*",
            "notification",
        ),
        (r"\brespon\w*|\backnowledg\w*|\breply|\banswer(?:s|ed)?\b", "response"),
        (r"\bresol\w*|\bfix(?:es|ing)?\b|\bworkaround", "resolution"),
        (
            r"\bremediat\w*|\bpatch\w*|\bcorrect\w*",
            "remediation",
        ),
        (r"\bnotice\b|\bannounc\w*", "notice"),
        (r"\bretain\w*|\bretention|\bkept\b|\bpreserv\w*|\barchiv\w*", "retention"),
        (r"\btransition\w*|\bread-only", "transition"),
        (r"\bwarrant\w*", "warranty"),
        (r"\bvalid for\b|\bremains? valid|\bvalidity|\birrevocable|\bfirm offer", "validity"),
        (r"\bpay\b|\bpays\b|\bpaid\b|\bpayment|\bpayable|\binvoice\w*|\bnet\b", "payment"),
        (r"\binitial term|\bcontract term\b|\bterm of\b|\brenewal|\bterm\b", "term"),
        (
            r"\bpage loads?|\bload time|\blatency|\bpage response|\bpages?\b[^.;]{0,20}\bload"
            r"|\bloads? in\b|\bpercentile|\bsystem response times?|\btransactions? complete",
            "page load",
        ),
        (r"\bhypercare|\bpost-go-live support|\bstabili[sz]ation", "hypercare"),
        (r"\btraining\b", "training"),
        (r"\bhistory|\bhistorical|\byears of (?:data|records)", "history"),
        (
            r"return\w* (?:all |the )?(?:\w+ )?data|data (?:return|export)|\bexport\w*"
            r"|\b(?:provides?|deliver\w*) (?:the |all |a copy of )?(?:\w+'s |\w+ )?data\b"
            r"|\bdata\b[^.;]{0,25}\b(?:returned|provided back|handed back)",
            "data return",
        ),
        (
            r"\bimplement\w*|\bgo-live|\bgo live|\bcomplet\w* (?:the )?project|\bbe live\b",
            "implementation",
        ),
        (r"\bmaintenance window|\bdowntime|\boutage", "downtime"),
        (
            r"\b(?:fixed|firm|held|guaranteed|locked|frozen)\b[^.;]{0,25}\b(?:for|through|during)\b"
            r"|\bprice (?:hold|guarantee|protection)",
            "price hold",
        ),
    ]
)
_TIME_DEFAULT = {
    "RTO": "max",
    "RPO": "max",
    "notification": "max",
    "response": "max",
    "resolution": "max",
    "remediation": "max",
    "page load": "max",
    "data return": "max",
    "implementation": "max",
    "downtime": "max",
    "notice": "min",
    "retention": "min",
    "transition": "min",
    "warranty": "min",
    "validity": "min",
    "payment": "min",
    "hypercare": "min",
    "price hold": "min",
    "training": "min",
    "history": "min",
    "term": "exact",
}
#: Subjects whose times differ by severity ("Severity 1: 1 hour; Severity 2: 4 hours").
_GRADED = frozenset({"response", "resolution", "remediation", "notification"})
_TIME_KIND = {
    "RTO": "recovery_time",
    "RPO": "recovery_time",
    "notification": "response_time",
    "response": "response_time",
    "resolution": "response_time",
}


_VAGUE_TIME = re.compile(
    r"\bwithout undue delay\b|\bpromptly\b|\bas soon as (?:reasonably )?(?:practicable|possible|feasible)"
    r"|\bin a timely (?:manner|fashion)|\breasonable (?:prior |advance |written )*notice|\bshort notice"
    r"|\bfor the (?:life|lifetime|duration|term) of (?:the |its |their |our |your )?(?:\w+ )?"
    r"(?:subscription|contract|agreement|engagement|relationship)|\buntil (?:termination|expiry|expiration)"
    r"|\bindefinitely\b|\bpermanently\b|\bin perpetuity\b|\bcommercially reasonable (?:time|period)"
)


def hours_interval(lo: float, hi: float, unit: str, basis: str) -> tuple[float, float]:
    """Calendar hours for a time value; business time becomes a range (``BUSINESS_RATIO``)."""
    unit_lo, unit_hi = _HOURS[unit]
    if basis != "business":
        return lo * unit_lo, hi * unit_hi
    if unit in ("second", "minute", "hour"):
        # Business hours stop at night and at weekends: never shorter, possibly much longer.
        return lo * unit_lo, math.inf
    days_lo, days_hi = lo * unit_lo / 24, hi * unit_hi / 24
    low = max(days_lo, days_lo * BUSINESS_RATIO - BUSINESS_SLACK_DAYS)
    high = days_hi * BUSINESS_RATIO + BUSINESS_SLACK_DAYS
    return low * 24, high * 24


def time_constraints(s: Sentence) -> list[Constraint]:
    out = []
    text = s.text
    for m in _TIME.finditer(text):
        if _NOT_A_DURATION.match(text[m.end() :]):
            continue
        if re.search(r"\b(?:last|past|previous|prior|preceding)\s*$", text[: m.start()]):
            continue
        raw_unit = m.group(4).rstrip("s") if m.group(4) not in ("s",) else "s"
        unit = _UNIT_NAMES.get(raw_unit, raw_unit)
        if unit not in _HOURS:
            continue
        qualifier = m.group(3) or ""
        basis = "business" if qualifier in ("business", "working") else "calendar"
        lo = to_float(m.group(1))
        hi = to_float(m.group(2)) if m.group(2) else lo
        after = text[m.end() : m.end() + 30]
        if re.match(r"[\s,]*(?:before|prior to|in advance|ahead of|preceding the)", after):
            subject: str | None = "notice"
        elif m.group(5) or re.match(r"[\s,]*(?:advance |prior |written |of )*notice", after):
            subject = "notice"
        else:
            subject = nearest(text, m.start(), m.end(), _TIME_SUBJECTS)
        if subject is None:
            subject = "time"
        default = _TIME_DEFAULT.get(subject, "max")
        direction = direction_marker(text, m.start(), m.end()) or default
        if default == "min" and re.search(r"\bup to\s*$", text[max(0, m.start() - 8) : m.start()]):
            direction = "min"  # "provide up to 90 days of assistance": the buyer may use all 90
        if subject == "payment":
            direction = "min"  # the buyer's time to pay: the supplier must allow at least this
        low, high = hours_interval(lo, hi, unit, basis)
        plural = "s" if hi != 1 else ""
        shown = f"{m.group(1)}{'-' + m.group(2) if m.group(2) else ''} "
        shown += f"{qualifier + ' ' if qualifier in ('business', 'calendar', 'working') else ''}"
        shown += f"{unit}{plural}"
        out.append(
            Constraint(
                kind=_TIME_KIND.get(subject, "duration"),
                subject=subject,
                direction=direction,
                lo=low,
                hi=high,
                unit="hours",
                basis=basis,
                qualifier=severity(text, m.start(), m.end()) if subject in _GRADED else "",
                text=shown,
                term="denied" if negated(text, m.start(), 60) else "",
                nominal=(lo * _HOURS[unit][0], hi * _HOURS[unit][1])
                if basis == "business"
                else None,
                context=context_words(text[max(0, m.start() - 80) : m.end() + 40]),
                pos=s.start + m.start(),
            )
        )
    for m in _VAGUE_TIME.finditer(text):
        endless = m.group(0) in ("indefinitely", "permanently", "in perpetuity")
        subject = nearest(text, m.start(), m.end(), _TIME_SUBJECTS) or "time"
        if "notice" in m.group(0):
            subject = "notice"
        out.append(
            Constraint(
                kind=_TIME_KIND.get(subject, "duration"),
                subject=subject,
                direction=_TIME_DEFAULT.get(subject, "max"),
                lo=math.inf if endless else None,
                hi=math.inf if endless else None,
                unit="hours",
                term="" if endless else "vague",
                text=m.group(0),
                context=context_words(text[max(0, m.start() - 80) : m.end() + 40]),
                pos=s.start + m.start(),
            )
        )
    for m in re.finditer(r"\bnet[\s-]*(\d{1,3})\b", text):
        days = to_float(m.group(1))
        out.append(
            Constraint(
                kind="duration",
                subject="payment",
                direction="min",
                lo=days * 24,
                hi=days * 24,
                unit="hours",
                basis="calendar",
                text=f"net {m.group(1)} days",
                context=context_words(text),
                pos=s.start + m.start(),
            )
        )
    return out
