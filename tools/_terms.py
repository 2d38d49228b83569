"""Named terms read from a sentence: unlimited vs capped (and caps as multiples of fees), fixed vs
escalating prices, and when fees are billed."""

from __future__ import annotations

import re

from ._constraints import Constraint, Sentence, context_words, direction_marker, negated
from ._numbers import to_float


def _c(
    kind: str, subject: str, term: str, s: Sentence, start: int, text: str, **kw: object
) -> Constraint:
    return Constraint(
        kind=kind,
        subject=subject,
        direction="presence",
        term=term,
        text=text,
        context=context_words(s.text),
        pos=s.start + start,
        **kw,  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------- unlimited vs capped ----------

_LIMIT_SUBJECT = [
    (re.compile(r"liquidated damages|\bpenalt"), "liquidated damages"),
    (re.compile(r"\bliabilit|\bdamages\b"), "liability"),
    (re.compile(r"\busers?\b|\bseats?\b|\bstaff\b|\blogins?\b"), "users"),
    (re.compile(r"\bstorage\b|\bdocuments?\b|\bdisk\b"), "storage"),
    (re.compile(r"\bapi\b|\bcalls?\b|\brequests?\b|\btransactions?\b"), "API use"),
    (re.compile(r"\bcredits?\b"), "service credits"),
    (re.compile(r"\bsupport\b|\btickets?\b|\bincidents?\b"), "support"),
    (re.compile(r"\btraining\b"), "training"),
]
_UNLIMITED = re.compile(
    r"\bunlimited\b|\buncapped\b|\bwithout (?:any )?(?:limit|cap|ceiling|limitation)\b"
    r"|\bno (?:limit|cap|ceiling|limitation)s?\b(?! (?:of|to) (?:the|\$|\d))"
    r"|\bnot (?:be )?(?:subject to any )?(?:limited|capped)\b"
    r"|\b(?:will not|shall not|does not|do not|won't) (?:accept|agree to|permit) any (?:limitation|cap)"
    r"|\bnot (?:be )?subject to (?:any |a )?(?:cap|limit|limitation|ceiling)s?\b"
    r"|\b(?:excluded|exempt\w*|carved? out) from (?:the |any )?(?:cap|limitation|limit)s?\b"
    r"|\boutside (?:of )?the (?:cap|limitation)\b"
)
_CAPPED = re.compile(
    r"\blimit(?:s|ed)?\b[^.;]{0,80}?\b(?:to|at)\b|\bcap(?:s|ped)?\b(?: at| to| of|\b)|\bceiling\b"
    r"|\bmaximum (?:aggregate )?liability\b|\bliability cap\b|\bnot to exceed\b|\bshall not exceed\b"
    r"|\bup to \d+ (?:named |concurrent |staff )?users|\bup to \d+ (?:hours|tickets|incidents|calls)\b|\blimitation of liability\b"
)


def _limit_subject(text: str, start: int, end: int) -> str | None:
    best: tuple[int, str] | None = None
    for pattern, subject in _LIMIT_SUBJECT:
        for m in pattern.finditer(text):
            distance = start - m.end() if m.end() <= start else m.start() - end + 10
            if distance < 0:
                distance = 0
            if distance <= 90 and (best is None or distance < best[0]):
                best = (distance, subject)
    return best[1] if best else None


def unlimited_terms(s: Sentence) -> list[Constraint]:
    text = s.text
    out = []
    for m in _UNLIMITED.finditer(text):
        subject = _limit_subject(text, m.start(), m.end())
        if subject is None:
            continue
        refused = negated(text, m.start(), 30) and not m.group(0).startswith(
            ("without", "no ", "not")
        )
        if m.group(0).startswith(("will not", "shall not", "does not", "do not", "won't")):
            refused = False  # "will not accept any limitation" asks for no cap
        term = "capped" if refused else "unlimited"
        shown = "not unlimited" if refused else "unlimited"
        out.append(_c("unlimited", subject, term, s, m.start(), shown))
    for m in _CAPPED.finditer(text):
        if any(c.pos == s.start + m.start() for c in out):
            continue
        subject = _limit_subject(text, m.start(), m.end())
        if subject is None or negated(text, m.start(), 25):
            continue
        if re.search(
            r"(?:excluded|exempt\w*|carved? out|carve-outs?|outside(?: of)?|subject to(?: any| a)?)"
            r"(?: from)?(?: the| any)?\s*$",
            text[max(0, m.start() - 30) : m.start()],
        ):
            continue  # "excluded from the cap": the opposite of a cap
        if "limitation of liability" in m.group(0) and not re.search(
            r"\blimit(?:s|ed)\b|\bcap", text
        ):
            continue
        clause = text[m.start() : m.start() + 110].split(";")[0]
        out.append(_c("unlimited", subject, "capped", s, m.start(), "capped: " + _trim(clause)))
    for m in re.finditer(
        r"\b(?:does|do|will|shall|can|is|are)\s+not\s+(?:accept|agree to|offer|pay)\b|\b(?:cannot|can't|unable to|not able to)\s+(?:accept|agree to|offer|pay)\b",
        text,
    ):
        following = text[m.end() : m.end() + 60]
        if re.match(r"\s+(?:any )?(?:liquidated damages|penalt)", following):
            out.append(
                _c(
                    "unlimited",
                    "liquidated damages",
                    "refused",
                    s,
                    m.start(),
                    "refused: " + _trim(text[m.start() : m.end() + 40]),
                )
            )
    return out


def _trim(clause: str, limit: int = 90) -> str:
    clause = " ".join(clause.split()).strip(" ,.;")
    return clause if len(clause) <= limit else clause[: limit - 1].rsplit(" ", 1)[0] + "…"


# ---------------------------------------------------------------- firm prices vs escalation ----

_FIXED_REQ = re.compile(
    r"\bfirm(?: and| ,)? fixed\b|\bfixed(?: and firm)?\s+(?:unit )?(?:price|pricing|prices|fee|fees|rates?)\b"
    r"|\bprices?\s+(?:and rates )?(?:shall|will|must)\s+(?:be|remain)\s+(?:firm|fixed|unchanged)"
    r"|\bno (?:price )?(?:escalation|increases?|adjustments?)\b|\bheld (?:firm|constant)\b"
    r"|\bnot (?:be )?(?:subject to )?(?:any )?(?:escalation|increase|price adjustment|indexation|inflation)"
    r"|\b(?:prices?|rates?|fees?|charges?)\b[^.;]{0,40}?\b(?:are|is|shall be|will be|must be|remain|shall remain"
    r"|are to be)\s+(?:firm|fixed)\b"
    r"|\bfirm (?:for|through(?:out)?|during)\b|\bfixed (?:for|through(?:out)?|during)\b|\blocked\b"
)
_ESCALATE = re.compile(
    r"\bcpi(?:-u|-w)?\b|consumer price index|\bescalat\w*|\bprice (?:increase|adjustment|uplift)s?"
    r"|\bannual (?:increase|adjustment|uplift|escalation)s?\b|\bincrease[sd]?\b[^.;]{0,30}\b(?:annually|each year|every year|per year|by \d)"
    r"|\bindex(?:ed|ation)\b|\binflation\w*|\buplift\w*|\badjust\w* (?:annually|each year|every year)"
    r"|\breserve[sd]? the right to (?:increase|adjust|change)"
    r"|\b(?:then-current|then current|prevailing|current list) (?:rates?|prices?|pricing|list prices)"
    r"|\bthereafter\b[^.;]{0,80}\b(?:rate card|list price)|\bsubject to change\b"
    r"|\b(?:prices?|fees?|rates?|charges?|renewals?)\b[^.;]{0,30}\b(?:rise|rises|go up|goes up)\b"
)
SERVICES = "services price"
_VARIABLE = re.compile(
    r"\btime[- ]and[- ]materials?\b|\bt&m\b|\bhourly rates? (?:basis|billing)|\bcost[- ]plus\b"
)


def price_terms(s: Sentence, requirement: bool) -> list[Constraint]:
    text = s.text
    if not re.search(r"\bpric|\bfee|\brate|\bcost|\bcharge|\bescalat|\bcpi\b|\bsubscription", text):
        return []
    out = []
    if requirement:
        m = _FIXED_REQ.search(text)
        capped_rise = re.search(r"\d(?:\.\d+)?\s*(?:%|percent)", text) and re.search(
            r"\bincrease|\bescalat|\badjust|\buplift", text
        )
        if (
            m
            and not capped_rise
            and not re.search(
                r"\bmay\b[^.;]{0,40}\bescalat|\bescalation (?:is|shall be) (?:permitted|allowed)",
                text,
            )
        ):
            subject = (
                SERVICES
                if re.search(
                    r"\bimplement|\bprofessional services|\bservices? (?:shall|will|must) be"
                    r" (?:priced|quoted)|\bfixed fee|\bdeliverables?\b|\bmilestones?\b",
                    text,
                )
                and "subscription" not in text
                else "prices"
            )
            initial_only = bool(
                re.search(r"\binitial\b|\bfirst \d+ years?|\bfirst (?:contract )?years?", text)
            ) and not re.search(r"\brenewal|\bextension|\boption (?:years?|periods?)|\bany\b", text)
            out.append(
                _c(
                    "price_basis",
                    subject,
                    "fixed for the initial term" if initial_only else "fixed",
                    s,
                    m.start(),
                    "firm fixed prices" if subject == "prices" else "fixed fee",
                )
            )
        return out
    escalations = [m for m in _ESCALATE.finditer(text) if not negated(text, m.start(), 30)]
    later = re.compile(
        r"\brenewal|\bthereafter\b|\bafter (?:that|the (?:initial|first))|\bsubsequent|\boption years?"
        r"|\bbeyond\b|\bextension"
    )
    variable = [m for m in _VARIABLE.finditer(text) if not negated(text, m.start(), 30)]
    fixed = [m for m in _FIXED_REQ.finditer(text) if not negated(text, m.start(), 20)]
    if escalations:
        m = escalations[0]
        starts_later = bool(later.search(text[max(0, m.start() - 60) : m.end() + 20]))
        out.append(
            _c(
                "price_basis",
                "prices",
                "escalating later" if starts_later else "escalating",
                s,
                m.start(),
                "escalation: " + _trim(text[max(0, m.start() - 40) : m.end() + 50], 100),
            )
        )
    elif fixed:
        out.append(
            _c(
                "price_basis",
                "prices",
                "fixed",
                s,
                fixed[0].start(),
                _trim(text[fixed[0].start() : fixed[0].end() + 40]),
            )
        )
    if variable:
        term = "fixed or variable" if fixed else "variable"
        out.append(
            _c(
                "price_basis",
                SERVICES,
                term,
                s,
                variable[0].start(),
                "fixed fee or time and materials" if fixed else "time and materials",
            )
        )
    elif fixed and re.search(r"\bfixed fee|\bimplement", text):
        out.append(_c("price_basis", SERVICES, "fixed", s, fixed[0].start(), "fixed fee"))
    return out


# ---------------------------------------------------------------- billing: arrears vs advance ---

_BILLING = [
    (re.compile(r"\bin arrears\b"), "arrears"),
    (re.compile(r"\bin advance\b|\bup-?front\b|\bprepa(?:id|y)\w*"), "advance"),
    (
        re.compile(
            r"\b(?:no|not pay any|not be invoiced any) (?:fees?|payments?|charges?)[^.;]{0,20}"
            r"\b(?:before|prior to|until) (?:go-live|go live|acceptance|final acceptance)"
            r"|\b(?:begin|begins|beginning|start|starts|starting|commenc\w*) (?:at|upon|on|with|after)"
            r" (?:go-live|go live|acceptance|final acceptance)"
            r"|\b(?:from|after|upon|following) (?:go-live|go live|final acceptance)"
        ),
        "after go-live",
    ),
    (
        re.compile(
            r"\b(?:(?:begin\w*|start\w*|commenc\w*)\s+(?:at |upon |on |with |from |after )?"
            r"|from |upon |at |on )(?:the )?(?:contract )?(?:signature|signing|execution|award)\b"
        ),
        "from signature",
    ),
]
_CLASHES = {"arrears": "advance", "after go-live": "from signature"}


def billing_terms(s: Sentence, requirement: bool) -> list[Constraint]:
    """When fees are invoiced: in arrears or in advance, from go-live or from signature."""
    text = s.text
    if not re.search(r"\binvoic|\bbill|\bpa(?:y|id)|\bfees?\b|\bsubscription", text):
        return []
    out = []
    for pattern, term in _BILLING:
        if requirement and term not in _CLASHES:
            continue
        for m in pattern.finditer(text):
            if term in ("advance", "from signature") and negated(text, m.start(), 25):
                continue
            shown = {"arrears": "invoiced in arrears", "advance": "invoiced in advance"}.get(
                term, "fees " + term
            )
            out.append(_c("payment_terms", "billing", term, s, m.start(), shown))
            break
    return out


def billing_clash(required: str) -> str:
    """The answer term that contradicts a required billing term."""
    return _CLASHES[required]


# ---------------------------------------------------------------- liability caps as multiples --

_CAP_MULTIPLE = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?)\s*(?:x|\u00d7|times)\s*(?:\(\s*\d+(?:\.\d+)?\s*x\s*\)\s*)?"
    r"(?:the\s+|its\s+|our\s+)?(?P<what>[a-z' -]{0,40}?"
    r"(?:contract value|contract price|contract amount|value of the contract|fees|charges|price))\b"
)
_TWELVE_MONTHS = re.compile(
    r"\b(?:fees|charges|amounts?)\b[^.;]{0,50}?\b(?:paid|payable)\b[^.;]{0,60}?\b(\d+)\s*months?\b"
)


def _cap_unit(what: str) -> str:
    if re.search(r"\bannual|\byearly|\bper year|\b12[- ]month|\bsubscription", what):
        return "annual fees"
    return "contract value"


def cap_constraints(s: Sentence) -> list[Constraint]:
    """A liability cap stated as a multiple: "2x the contract value", "12 months' fees"."""
    text = s.text
    if not re.search(r"\bliabilit|\bcap\b|\bcapped\b", text):
        return []
    found: list[tuple[int, int, float, str]] = []
    for m in _CAP_MULTIPLE.finditer(text):
        found.append((m.start(), m.end(), to_float(m.group(1)), _cap_unit(m.group("what"))))
    for m in _TWELVE_MONTHS.finditer(text):
        months = to_float(m.group(1))
        found.append((m.start(), m.end(), months / 12, "annual fees"))
    out = []
    for start, end, multiple, unit in found:
        out.append(
            Constraint(
                kind="money",
                subject="liability cap",
                direction=direction_marker(text, start, end) or "min",
                lo=multiple,
                hi=multiple,
                unit=unit,
                text=f"{multiple:g}x {unit}",
                context=context_words(text),
                pos=s.start + start,
            )
        )
    return out
