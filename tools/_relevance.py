"""Whether an answer is about what a requirement asks: shared subjects and shared words.

An answer on another subject is not evidence, whatever values it states; the commitment check
treats such an answer as stating nothing.
"""

from __future__ import annotations

import re

from ._constraints import context_words

_TOPICS = [
    ("incident", r"\bincident|\bbreach|\bnotif\w*|\bcompromis"),
    (
        "recovery",
        r"\bbackup|\bback up|\bdisaster|\brecover\w*|\brto\b|\brpo\b|\bfailover|\bcontinuity|\brestor",
    ),
    ("availability", r"\bavailab\w*|\buptime|\bdowntime|\bservice level|\bsla\b|\boutage"),
    (
        "support",
        r"\bhelp ?desk|\bseverity|\bsev ?[1-4]\b|\bpriority (?:[1-4]|one|two)\b|\btickets?\b"
        r"|\bservice desk|\bsupport (?:hours|team|desk|portal|line|staff|requests?|tickets?|model|calls?)"
        r"|\b24x7|\backnowledg",
    ),
    ("maintenance", r"\bmaintenance|\bmaintenance window|\bpatch window"),
    ("release", r"\brelease\w*|\bupgrade\w*|\bnew versions?\b|\bsandbox|\bnon-production"),
    (
        "pricing",
        r"\bpric\w*|\bescalat\w*|\bcpi\b|\binflation|\brate card|\bsubscription fee|\bfees?\b|\bcost"
        r"|\brates?\b|\bbill(?:ed|ing)\b|\btime[- ]and[- ]materials|\bquot(?:e|ed|ation)\b",
    ),
    ("payment", r"\binvoic\w*|\bpayment|\bpays?\b|\barrears|\bnet \d+"),
    ("liability", r"\bliabilit\w*|\bdamages\b|\bindemn\w*|\bhold harmless"),
    (
        "insurance",
        r"\binsur\w*|\bcoverage|\bumbrella|\berrors and omissions|\bcertificate of insurance",
    ),
    (
        "ownership",
        r"\bown\w*|\bproperty\b|\btitle\b|\bwork product|\bintellectual property|\bfor hire"
        r"|\blicen[cs]e|\bbelongs?\b|\bvests?\b",
    ),
    (
        "location",
        r"\bdata cent\w*|\bhost(?:ed|ing)\b|\bregions?\b|\bstored\b|\boffshore|\bsovereign"
        r"|\bresiden\w*|\breside\b|\bonshore|\boutside (?:of )?the\b|\btransferred"
        r"|\beea\b|\beu\b|\beuropean union|\bcanada|\bcross-border",
    ),
    (
        "certification",
        r"\bsoc ?[12]\b|\biso\b|\biso/iec|\bfedramp|\bstateramp|\bcertif\w*|\battestation|\bauthori[sz]ation to operate|\bhitrust|\bpci\b|\bcjis\b",
    ),
    ("accessibility", r"\bwcag|\baccessib\w*|\bsection 508|\bvpat|\bscreen reader|\bada\b"),
    ("language", r"\blanguages?\b|\bspanish|\benglish|\btranslat\w*|\bmultilingual|\bbilingual"),
    (
        "references",
        r"\breferences?\b|\bcomparable (?:agencies|implementations|clients)|\bcase stud",
    ),
    ("vulnerability", r"\bvulnerab\w*|\bpenetration|\bpen test|\bscan\w*"),
    ("encryption", r"\bencrypt\w*|\btls\b|\baes\b|\bkey management|\bkms\b"),
    (
        "access",
        r"\baccess control|\brole-based|\baudit (?:log|trail)|\bmfa\b|\bmulti-factor|\bsingle sign|\bsso\b|\bsaml|\bopenid",
    ),
    ("retention", r"\bretain\w*|\bretention|\barchiv\w*|\brecords? (?:retention|management)"),
    ("termination", r"\bterminat\w*|\btransition|\bexit\b|\bconvenience|\bnon-appropriation"),
    ("training", r"\btrain(?:ing|ed|er)"),
    ("migration", r"\bmigrat\w*|\bconversion|\blegacy"),
    ("personnel", r"\bpersonnel|\bbackground check|\bemployees|\bstaff(?:ing)?\b|\bkey personnel"),
    ("escrow", r"\bescrow"),
    ("implementation", r"\bimplement\w*|\bgo-live|\bgo live|\bproject (?:plan|schedule|manager)"),
    ("reporting", r"\breport(?:s|ing)?\b|\bdashboards?|\banalytics"),
    ("performance", r"\bpage loads?|\bresponse times? of the|\blatency|\bperformance|\bthroughput"),
    ("integration", r"\bintegrat\w*|\bapis?\b|\bwebhook|\binterface"),
    ("mobile", r"\bmobile|\bios\b|\bandroid|\btablets?|\boffline"),
    ("gis", r"\bgis\b|\besri|\barcgis|\bparcel|\bmap\b"),
    ("warranty", r"\bwarrant\w*|\bdefects?\b"),
    ("forms", r"\bsigned\b|\bsignature|\baffidavit|\bforms?\b|\baddend\w*"),
    ("validity", r"\bvalid for\b|\bremains? valid|\bvalidity\b|\birrevocable"),
]
_TOPICS_RE = [(name, re.compile(p)) for name, p in _TOPICS]
# Words that appear in almost every requirement and answer and so say nothing about the subject.
_COMMON = frozenset(
    w[:6]
    for w in [
        "contractor",
        "supplier",
        "vendor",
        "proposer",
        "city",
        "customer",
        "agency",
        "county",
        "state",
        "solution",
        "service",
        "services",
        "provide",
        "provides",
        "provided",
        "shall",
        "must",
        "will",
        "system",
        "platform",
        "require",
        "required",
        "requirement",
        "describe",
        "proposal",
        "offer",
        "offered",
        "ensure",
        "maintain",
        "maintains",
        "also",
        "standard",
        "current",
        "currently",
        "available",
        "based",
        "agreement",
        "contract",
        "within",
        "following",
        "company",
        "cedarline",
        "civic",
        "support",
        "data",
    ]
)


def topics(text: str) -> set[str]:
    low = text.lower()
    return {name for name, pattern in _TOPICS_RE if pattern.search(low)}


def relevance(requirement: str, answer: str, shared_values: int = 0) -> float:
    """How strongly the answer is about the requirement's subject, 0..1."""
    req_topics, ans_topics = topics(requirement), topics(answer)
    req_words = context_words(requirement) - _COMMON
    ans_words = context_words(answer) - _COMMON
    word_share = len(req_words & ans_words) / len(req_words) if req_words else 0.0
    topic_share = len(req_topics & ans_topics) / len(req_topics) if req_topics else 0.0
    score = 0.45 * topic_share + 0.55 * min(1.0, 2 * word_share)
    score += 0.3 * min(shared_values, 2)
    return round(min(1.0, score), 2)


RELEVANT_AT = 0.25
