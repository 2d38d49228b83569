"""Who owns what (data, work product) and where data may be kept, read from a sentence."""

from __future__ import annotations

import re

from ._constraints import Constraint, Sentence, context_words, negated
from ._terms import _trim

_BUYER = (
    r"(?:the )?(?:city|county|state|agency|customer|client|buyer|purchaser|department|authority"
    r"|district|university|government|commission|board|owner|province|municipality|council|you|your)"
    r"(?:'s)?"
)
_DATA = re.compile(r"\bdata\b|\brecords?\b|\bcontent\b|\binformation\b|\bfiles\b")
_WORK = re.compile(
    r"\bwork product|\bdeliverables?\b|\bintellectual property|\b(?:ip|ipr)\b|\bconfigurations?\b"
    r"|\bcustomi[sz]ations?\b|\bmodifications?\b|\bdocumentation\b|\breports?\b|\bintegrations?\b"
    r"|\bsource code\b|\bsoftware\b|\bworks? (?:made )?for hire|\bcopyright|\binventions?\b"
    r"|\bdevelopments?\b|\bimprovements?\b|\bconnectors?\b|\bmaterials?\b|\bderivative"
)
_BUYER_OWNS = re.compile(
    rf"\b(?:owned|property) (?:solely |exclusively |entirely )?(?:by|of) {_BUYER}\b"
    rf"|\b{_BUYER} (?:shall |will |does |must )?(?:own|owns|retains?|holds?|keeps?)\b(?! a licen)"
    rf"|\b{_BUYER} (?:shall |will )?(?:have|retain|hold|be vested with) (?:all |sole |exclusive |full )*(?:right,? title|ownership|title)"
    rf"|\bbelongs? (?:solely |exclusively )?to {_BUYER}\b|\bvests? in {_BUYER}\b"
    r"|\bworks? (?:made )?for hire\b|\bremains? (?:the )?(?:sole |exclusive )?property of (?:the )?(?:city|county|state|agency|customer|client|buyer)"
    r"|\b(?:assign|transfer)s? (?:all )?(?:right,? title|ownership)[^.;]{0,40}\bto " + _BUYER
)
_SUPPLIER_OWNS = re.compile(
    r"\b(?!(?:the )?(?:city|county|state|agency|customer|client|buyer|purchaser|department|authority|district|you)\b)"
    r"([a-z][\w&.-]*(?: [a-z][\w&.-]*)?) (?:shall |will |does |would )?(?:retains?|keeps?|owns?|holds?|reserves?)"
    r" (?:all |sole |exclusive |full )*(?:ownership|title|right,? title|intellectual property|all rights|rights)"
    r"|\b(?:retains?|keeps?) ownership\b"
    r"|\bremains? (?:the )?(?:sole |exclusive )?property of (?!(?:the )?(?:city|county|state|agency|customer|client|buyer))"
    r"|\bowned by (?:us|the (?:supplier|vendor|contractor|provider|licensor|proposer|company))\b"
    r"|\b(?:we|the (?:supplier|vendor|contractor|provider|licensor|proposer|company))"
    r" (?:shall |will |also )?owns?\b"
    r"|\bremains? (?:our|the (?:supplier|vendor|contractor|provider)'s) (?:sole |exclusive )?property"
    r"|\bbelongs? (?:solely |exclusively )?to (?:us|the (?:supplier|vendor|contractor|provider))\b"
)
_LICENCE = re.compile(
    rf"\b{_BUYER} (?:receives?|is granted|will receive|shall receive|gets) an? [^.;]{{0,40}}licen[cs]e"
)


def _subjects(clause: str) -> list[str]:
    found = []
    if _DATA.search(clause):
        found.append("data")
    if _WORK.search(clause):
        found.append("work product")
    return found


def ownership_terms(s: Sentence, requirement: bool) -> list[Constraint]:
    text = s.text
    if not re.search(
        r"\bown|\bproperty\b|\btitle\b|\bfor hire\b|\blicen[cs]e|\bassign|\bbelong|\bvest", text
    ):
        return []
    out = []
    for m in _BUYER_OWNS.finditer(text):
        if negated(text, m.start(), 25):
            continue
        clause = text[max(0, m.start() - 120) : m.end() + 160]
        for subject in _subjects(clause) or ["work product"]:
            out.append(_c(subject, "customer", s, m.start(), "customer owns " + subject))
    if requirement:
        return _dedupe(out)
    for m in _SUPPLIER_OWNS.finditer(text):
        if negated(text, m.start(), 20):
            continue
        clause = text[m.end() : m.end() + 200]
        for subject in _subjects(clause) or ["work product"]:
            out.append(
                _c(
                    subject,
                    "supplier",
                    s,
                    m.start(),
                    "supplier retains: " + _trim(text[m.start() : m.end() + 90]),
                )
            )
    for m in _LICENCE.finditer(text):
        out.append(
            _c(
                "work product",
                "licence",
                s,
                m.start(),
                "licence only: " + _trim(text[m.start() : m.end() + 40]),
            )
        )
    return _dedupe(out)


def _c(subject: str, term: str, s: Sentence, start: int, shown: str) -> Constraint:
    return Constraint(
        kind="ownership",
        subject=subject,
        direction="presence",
        term=term,
        text=shown,
        context=context_words(s.text),
        pos=s.start + start,
    )


def _dedupe(items: list[Constraint]) -> list[Constraint]:
    seen: set[tuple[str, str]] = set()
    out = []
    for c in items:
        if (c.subject, c.term) not in seen:
            seen.add((c.subject, c.term))
            out.append(c)
    return out


# ---------------------------------------------------------------- data location ----------------

_US_STATES = (
    "alabama|arizona|arkansas|california|colorado|connecticut|delaware|florida|idaho|illinois"
    "|indiana|iowa|kansas|kentucky|louisiana|maine|maryland|massachusetts|michigan|minnesota"
    "|mississippi|missouri|montana|nebraska|nevada|new hampshire|new jersey|new mexico|new york"
    "|north carolina|north dakota|ohio|oklahoma|oregon|pennsylvania|rhode island|south carolina"
    "|south dakota|tennessee|texas|utah|vermont|virginia|wisconsin|wyoming"
)
_REGIONS = [
    (
        r"\bcontinental united states|\bcontinental u\.?s\.?\b|\bconus\b|\blower 48|\bcontiguous united states",
        "US-continental",
    ),
    (r"\bhawaii|\balaska|\bpuerto rico|\bguam\b|\bu\.?s\.? territor\w*", "US-noncontinental"),
    (
        rf"\bus[- ](?:east|west|central|gov)\w*(?:-\d)?|\b(?:{_US_STATES})\b|\bgovcloud\b",
        "US-continental",
    ),
    (
        r"\bunited states\b|\bu\.s\.a?\.?(?![a-z])|\b(?:in|within|the|only|to) us\b"
        r"|\bus (?:regions?|data cent\w*|soil|only|territory|locations?)\b|\busa\b|\bamerican?\b"
        r"|\bdomestic\b|\bonshore\b|\bus-based",
        "US",
    ),
    (
        r"\beuropean union\b|\beu\b|\beea\b|\beu[- ](?:west|central|north|south)\w*(?:-\d)?|\bireland\b|\bdublin\b|\bgermany\b|\bfrankfurt\b|\bnetherlands\b|\bamsterdam\b|\bfrance\b|\bparis\b|\bsweden\b|\bstockholm\b|\bbelgium\b|\bfinland\b|\bitaly\b|\bmilan\b|\bspain\b|\bmadrid\b|\bpoland\b|\bwarsaw\b|\bdenmark\b|\baustria\b",
        "EU",
    ),
    (
        r"\bunited kingdom\b|\bu\.?k\.?\b|\bgreat britain\b|\bengland\b|\blondon\b|\bwales\b|\bscotland\b",
        "UK",
    ),
    (r"\bcanad\w*|\btoronto\b|\bmontreal\b|\bquebec\b|\bca-central|\bvancouver\b", "Canada"),
    (r"\baustralia\w*|\bsydney\b|\bmelbourne\b", "Australia"),
    (
        r"\bindia\b|\bphilippines\b|\bmanila\b|\bbangalore\b|\bbengaluru\b|\bpakistan\b|\bukraine\b|\bcosta rica\b|\bmexico\b|\bsingapore\b|\bjapan\b|\bchina\b|\bbrazil\b|\bap-\w+|\boffshore\b|\boverseas\b|\bforeign\b|\boutside (?:of )?the country",
        "elsewhere",
    ),
    (r"\bnorth america\b", "North America"),
    (r"\beurope\b", "Europe"),
    (r"\bswitzerland\b|\bzurich\b|\bnorway\b", "Europe-non-EU"),
]
REGION_NAMES = {
    "US": "United States",
    "US-continental": "continental United States",
    "US-noncontinental": "United States outside the continent",
    "elsewhere": "outside the region",
    "Europe-non-EU": "Europe outside the EU",
}
_REGIONS_RE = [(re.compile(p), r) for p, r in _REGIONS]
_LOCATION_CONTEXT = re.compile(
    r"\bdata\b|\bhost\w*|\bstor\w*|\bprocess\w*|\bdata cent\w*|\bregions?\b|\bresid\w*|\breplicat\w*"
    r"|\bbackups?\b|\bcloud\b|\bserver\w*|\bfacilit\w*|\bsupport personnel|\bsupport staff|\baccess\w*"
)


def _regions(text: str) -> list[tuple[int, str]]:
    found: list[tuple[int, int, str]] = []
    for pattern, region in _REGIONS_RE:
        for m in pattern.finditer(text):
            if any(a <= m.start() < b for a, b, _ in found):
                continue
            found.append((m.start(), m.end(), region))
    return [(a, r) for a, _, r in sorted(found)]


def location_terms(s: Sentence, requirement: bool) -> list[Constraint]:
    text = s.text
    if not _LOCATION_CONTEXT.search(text):
        return []
    if requirement and not re.search(
        r"\b(?:within|in|inside|only|solely|exclusively|reside|located|outside)\b", text
    ):
        return []
    regions = _regions(text)
    if not regions:
        return []
    allowed: list[str] = []
    denied: list[str] = []
    for start, region in regions:
        before = text[max(0, start - 40) : start]
        outside = re.search(r"\b(?:outside|beyond)(?: of)?(?: the)?\s*$", before)
        if outside and region != "elsewhere":
            # "never ... outside the United States": the place named after "outside" is allowed
            at = start - len(before) + outside.start()
            if negated(text, at, 50) or re.search(r"\bonly\b|\bsolely\b", before):
                allowed.append(region)
            else:
                denied.append(region)
                allowed.append("elsewhere")
            continue
        if region == "elsewhere" and negated(text, start, 40):
            continue
        if re.search(
            r"\b(?:never|not|n't)\s+(?:leaves?|exit\w*|be (?:moved|transferred) out of)\b\D{0,15}$",
            before,
        ):
            allowed.append(region)
            continue
        if negated(text, start, 40) and not re.search(r"\bonly\b", before):
            denied.append(region)
            continue
        allowed.append(region)
    if requirement and not allowed:
        return []
    return [
        Constraint(
            kind="data_location",
            subject="data location",
            direction="presence",
            term="within",
            options=tuple(dict.fromkeys(allowed)),
            negated=tuple(dict.fromkeys(denied)),
            text=("only within " if requirement else "")
            + (" / ".join(REGION_NAMES.get(r, r) for r in dict.fromkeys(allowed)) or "none"),
            context=context_words(text),
            pos=s.start,
        )
    ]


# ---------------------------------------------------------------- indemnity scope --------------

_BUYER_NEGLIGENCE_REQ = re.compile(
    r"\b(?:including|even if|regardless of|notwithstanding|whether or not)\b[^.;]{0,80}"
    r"\bnegligence of (?:the )?(?:city|county|state|agency|customer|client|buyer|authority|owner)"
    r"|\bcaused (?:in (?:whole or in )?part|partly|partially) by (?:the )?(?:\w+ )?negligence"
    r"|\bregardless of (?:the )?(?:cause|fault)"
)
_BUYER_NEGLIGENCE_EXCLUDED = re.compile(
    r"\b(?:not|never)\b[^.;]{0,40}\b(?:extend|apply|cover|include)\w*\b[^.;]{0,60}"
    r"\b(?:customer|agency|city|county|client|state|buyer)(?:'s)? (?:own )?(?:negligence|fault)"
    r"|\bexcept (?:to the extent )?(?:caused by|arising from|resulting from) (?:the )?"
    r"(?:customer|agency|city|county|client|state|buyer)(?:'s)? (?:own )?negligence"
    r"|\bto the extent caused by (?:the )?(?:negligence|fault|acts)"
    r"|\baccording to the cause\b|\bproportion\w* to (?:its|their) (?:fault|negligence)"
)


def indemnity_terms(s: Sentence, requirement: bool) -> list[Constraint]:
    """An indemnity (or cost) that must hold whatever the cause, against one limited to fault."""
    text = s.text
    pattern = _BUYER_NEGLIGENCE_REQ if requirement else _BUYER_NEGLIGENCE_EXCLUDED
    m = pattern.search(text)
    if not m or not re.search(r"\bindemn|\bhold harmless|\bdefend|\bcosts?\b|\bliab", text):
        return []
    if requirement:
        shown = "covers claims whatever their cause, the buyer's negligence included"
        term = "any cause"
    else:
        shown = "limited to fault: " + _trim(m.group(0), 80)
        term = "fault only"
    return [
        Constraint(
            kind="indemnity",
            subject="indemnity scope",
            direction="presence",
            term=term,
            text=shown,
            context=context_words(text),
            pos=s.start + m.start(),
        )
    ]
