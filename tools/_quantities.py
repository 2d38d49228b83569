"""Percentages, money, counts and frequencies read from a sentence (time is in ``_constraints``)."""

from __future__ import annotations

import re

from ._constraints import (
    _NUM,
    Constraint,
    Sentence,
    _compile,
    context_words,
    direction_marker,
    nearest,
    negated,
    past,
)
from ._numbers import to_float

# ---------------------------------------------------------------- percentages ------------------

_PERCENT = re.compile(rf"(?<![\w.])({_NUM})\s*(?:%|percent\b|per cent\b|pct\b)")
_NINES = {"2 nines": 99.0, "3 nines": 99.9, "4 nines": 99.99, "5 nines": 99.999}
_PERCENT_SUBJECTS = _compile(
    [
        (r"\bavailab\w*|\buptime|\bup-time|\bservice level|\bsla\b", "availability"),
        (
            r"\bescalat\w*|\bincrease\w*|\badjust\w*|\buplift|\bcpi\b|\binflation|\brise[sn]?\b",
            "price increase",
        ),
        (r"\bretain\w*|\bretainage|\bholdback|\bwithh\w*", "retainage"),
        (r"\bcredit\w*", "service credits"),
        (r"\bdiscount\w*", "discount"),
        (r"\bpage loads?|\brequests|\btransactions", "performance share"),
        (
            r"\bsmall business|\bdbe\b|\bmbe\b|\bwbe\b|\bsubcontract\w*|\bparticipation",
            "participation",
        ),
    ]
)
_PERCENT_DEFAULT = {
    "availability": "min",
    "price increase": "max",
    "retainage": "exact",
    "service credits": "min",
    "discount": "min",
    "performance share": "min",
    "participation": "min",
}


def percent_constraints(s: Sentence) -> list[Constraint]:
    text = s.text
    found: list[tuple[int, int, float, str]] = []
    for m in _PERCENT.finditer(text):
        found.append((m.start(), m.end(), to_float(m.group(1)), m.group(0).strip()))
    for m in re.finditer(r"\b(\d{1,2}(?:\.\d+)?)(?:th|st|nd|rd) percentile", text):
        found.append((m.start(), m.end(), to_float(m.group(1)), f"{m.group(1)}th percentile"))
    for words, value in _NINES.items():
        for m in re.finditer(rf"\b{words}\b", text):
            found.append((m.start(), m.end(), value, f"{value:g}%"))
    out = []
    for start, end, value, shown in found:
        subject = nearest(text, start, end, _PERCENT_SUBJECTS)
        if subject is None:
            continue
        direction = direction_marker(text, start, end) or _PERCENT_DEFAULT[subject]
        out.append(
            Constraint(
                kind="percentage",
                subject=subject,
                direction=direction,
                lo=value,
                hi=value,
                unit="%",
                text=shown if shown.endswith("%") else f"{value:g}%",
                term="denied" if negated(text, start, 60) else "past" if past(text, start) else "",
                context=context_words(text[max(0, start - 80) : end + 40]),
                pos=s.start + start,
            )
        )
    return out


# ---------------------------------------------------------------- money ------------------------

_CURRENCY = {
    "$": "USD",
    "us$": "USD",
    "usd": "USD",
    "dollars": "USD",
    "dollar": "USD",
    "c$": "CAD",
    "cad": "CAD",
    "a$": "AUD",
    "aud": "AUD",
    "€": "EUR",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "£": "GBP",
    "gbp": "GBP",
    "pounds": "GBP",
}
_SCALE = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mm": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "millions": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
}
_SCALE_RE = r"(?:\s*(million|millions|billion|thousand|mm|mn|bn|m|k|b)\b)?"
_MONEY_BEFORE = re.compile(
    rf"(us\$|c\$|a\$|\$|€|£|\busd\b|\bcad\b|\baud\b|\beur\b|\bgbp\b)\s*({_NUM}){_SCALE_RE}"
)
_MONEY_AFTER = re.compile(
    rf"(?<![\w.$€£])({_NUM}){_SCALE_RE}\s*(usd|cad|aud|eur|gbp|dollars?|euros?|pounds)\b"
)
_MONEY_SUBJECTS = _compile(
    [
        (
            r"commercial general liability|\bgeneral liability|\bcgl\b|\bpublic liability",
            "general liability",
        ),
        (
            r"professional liability|errors and omissions|errors & omissions|\be&o\b|\be & o\b",
            "professional liability",
        ),
        (
            r"\bcyber|network security|privacy liability|data breach|information security (?:and privacy )?liability",
            "cyber liability",
        ),
        (r"\bumbrella|excess liability", "umbrella"),
        (r"workers'? comp\w*|employer'?s'? liability", "workers' compensation"),
        (r"\bauto\w*(?: liability)?\b", "automobile liability"),
        (r"\bcrime\b|\bfidelity|\bemployee dishonesty", "crime"),
        (r"liquidated damages|\bpenalt\w*", "liquidated damages"),
        (r"performance bond|payment bond|bid bond|\bsurety|\bbond\b", "bond"),
        (
            r"liability (?:shall be )?(?:is )?(?:capped|limited)|liability cap|cap on liability",
            "liability cap",
        ),
        (r"\bbudget|not-to-exceed|contract (?:value|amount|price)|\btotal (?:cost|price)", "price"),
        (r"\bfees?\b|\bprice\w*|\bcosts?\b|\bcharge\w*|\brates?\b", "price"),
    ]
)
_MONEY_DEFAULT = {"price": "max", "liability cap": "min", "liquidated damages": "min"}


def money_constraints(s: Sentence) -> list[Constraint]:
    text = s.text
    found: list[tuple[int, int, float, str]] = []
    for m in _MONEY_BEFORE.finditer(text):
        scale = _SCALE.get((m.group(3) or "").lower(), 1.0)
        found.append((m.start(), m.end(), to_float(m.group(2)) * scale, _CURRENCY[m.group(1)]))
    for m in _MONEY_AFTER.finditer(text):
        if any(a <= m.start() < b for a, b, *_ in found):
            continue
        scale = _SCALE.get((m.group(2) or "").lower(), 1.0)
        found.append((m.start(), m.end(), to_float(m.group(1)) * scale, _CURRENCY[m.group(3)]))
    out = []
    seen: set[tuple[float, str]] = set()
    for start, end, amount, currency in sorted(found):
        subject = nearest(text, start, end, _MONEY_SUBJECTS) or "amount"
        if (amount, subject) in seen:  # "five thousand dollars ($5,000)"
            continue
        seen.add((amount, subject))
        after = text[end : end + 30]
        before = text[max(0, start - 25) : start]
        basis = ""
        if re.match(
            r"[\s,]*(?:per|each|any one|for each) (?:occurrence|claim|incident|event)", after
        ):
            basis = "per occurrence"
        elif (
            re.match(r"[\s,]*(?:in the )?(?:annual |general )?aggregate", after)
            or "aggregate" in before
        ):
            basis = "aggregate"
        elif re.match(r"[\s,]*(?:per|each|for each|an?) (?:hour|day|week|month)", after):
            basis = "per " + re.match(r"[\s,]*(?:per|each|for each|an?) (\w+)", after).group(1)  # type: ignore[union-attr]
        insurance = subject not in ("price", "amount", "liquidated damages", "liability cap")
        default = "min" if insurance else _MONEY_DEFAULT.get(subject, "exact")
        out.append(
            Constraint(
                kind="money",
                subject=subject,
                direction=direction_marker(text, start, end) or default,
                lo=amount,
                hi=amount,
                unit=currency,
                basis=basis,
                text=_money_text(amount, currency) + (f" {basis}" if basis else ""),
                term="denied" if negated(text, start, 60) else "",
                context=context_words(text[max(0, start - 80) : end + 40]),
                pos=s.start + start,
            )
        )
    return out


def _money_text(amount: float, currency: str) -> str:
    sign = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency, currency + " ")
    if amount >= 1e6 and amount % 1e5 == 0:
        return f"{sign}{amount / 1e6:g}M"
    return f"{sign}{amount:,.0f}"


# ---------------------------------------------------------------- counts -----------------------

_COUNTABLE = (
    r"(references?|referees?|reference contacts?|client references|customer references|users?|seats?|licen[cs]es?"
    r"|copies|trial migrations?|test migrations?|mock migrations?|migrations?|environments?|sites?"
    r"|locations?|trainers?|training sessions?|sessions?|key personnel|staff|engineers?|consultants?"
    r"|pages?|projects?|implementations?|deployments?|instances?|releases?|backups?|data centers?"
    r"|data centres?|regions?|availability zones?)"
)
_COUNT = re.compile(rf"(?<![\w.$,])(\d{{1,6}})\s+(?:[a-z-]+\s+){{0,3}}?{_COUNTABLE}\b")
_COUNT_DEFAULT_MAX = ("page",)
_ON_REQUEST = re.compile(
    r"\b(?:references?|referees?)\b(?: contacts?)?[^.;]{0,90}?\b(?:(?:up)?on request|if requested|upon award"
    r"|after (?:award|shortlisting|selection)|at a later stage|following (?:award|shortlisting))"
    r"|(?:on|upon) request[^.;]{0,40}\breferences?\b"
)


def _singular(noun: str) -> str:
    noun = noun.replace("reference contact", "reference").replace("client reference", "reference")
    noun = noun.replace("customer reference", "reference").replace("centre", "center")
    noun = noun.replace("referee", "reference")
    if noun.endswith("ies"):
        return noun[:-3] + "y"
    if noun.endswith("s") and not noun.endswith("ss"):
        return noun[:-1]
    return noun


def count_constraints(s: Sentence) -> list[Constraint]:
    text = s.text
    out = []
    for m in _COUNT.finditer(text):
        if re.match(
            r"[\s-]*(?:%|percent|(?:business |calendar |working )?(?:seconds?|minutes?|hours?|days?"
            r"|weeks?|years?|months?|quarters?)\b)",
            text[m.end(1) :],
        ):
            continue
        noun = _singular(m.group(2))
        for old, new in (("trial migration", "migration"), ("test migration", "migration")):
            noun = noun.replace(old, new)
        noun = noun.replace("mock migration", "migration").replace("training session", "session")
        value = float(m.group(1))
        default = "max" if noun in _COUNT_DEFAULT_MAX else "min"
        out.append(
            Constraint(
                kind="count",
                subject=noun,
                direction=direction_marker(text, m.start(), m.end(1)) or default,
                lo=value,
                hi=value,
                unit=noun,
                text=m.group(0),
                context=context_words(text[max(0, m.start() - 60) : m.end() + 60]),
                pos=s.start + m.start(),
            )
        )
    for m in _ON_REQUEST.finditer(text):
        out.append(
            Constraint(
                kind="count",
                subject="reference",
                direction="presence",
                unit="reference",
                term="on request",
                text="references only on request",
                context=context_words(m.group(0)),
                pos=s.start + m.start(),
            )
        )
    return out


# ---------------------------------------------------------------- frequencies ------------------

_PER_YEAR = {
    "hour": 8760.0,
    "day": 365.0,
    "night": 365.0,
    "week": 52.0,
    "month": 12.0,
    "quarter": 4.0,
    "year": 1.0,
}
_ADVERBS = {
    "hourly": 8760.0,
    "daily": 365.0,
    "nightly": 365.0,
    "weekly": 52.0,
    "biweekly": 26.0,
    "bi-weekly": 26.0,
    "fortnightly": 26.0,
    "monthly": 12.0,
    "bimonthly": 6.0,
    "bi-monthly": 6.0,
    "quarterly": 4.0,
    "semiannually": 2.0,
    "semi-annually": 2.0,
    "semiannual": 2.0,
    "semi-annual": 2.0,
    "biannually": 2.0,
    "bi-annually": 2.0,
    "annually": 1.0,
    "annual": 1.0,
    "yearly": 1.0,
    "continuously": 1e6,
    "continuous": 1e6,
    "real-time": 1e6,
    "real time": 1e6,
}
_FREQ = re.compile(
    r"\b(?:(?P<adverb>" + "|".join(sorted(map(re.escape, _ADVERBS), key=len, reverse=True)) + r")"
    r"|(?:every|each)\s+(?:(?P<n>\d+)\s+)?(?P<unit>hour|day|night|week|month|quarter|year)s?"
    r"|(?P<times>once|twice|(?P<k>\d+)\s+times)\s+(?:a|an|per|each|every)\s+(?P<unit2>hour|day|week|month|quarter|year)"
    r"|(?:once|twice)\s+(?:a|per)\s+(?P<unit3>calendar year|year))\b"
)
_ACTIVITY = _compile(
    [
        (r"penetration test\w*|\bpen[- ]?test\w*", "penetration test"),
        (r"vulnerability scan\w*|\bscan\w*", "vulnerability scan"),
        (r"\btest\w*|\bexercise\w*|\bdrill\w*", "test"),
        (r"\baudit report|\bsoc ?[12]\b[^.;]{0,25}\breport", "audit"),
        (r"\baudit\w*|\bexamination|\bassessment|\battestation", "audit"),
        (r"\breport\w*", "report"),
        (r"\bmeet\w*|\breview meeting|\bservice review|\bcheck-in", "meeting"),
        (r"\bback(?:ed)?[- ]?ups?\b|\bbacked up|\bsnapshot\w*", "backup"),
        (r"\brefresh\w*|\breplicat\w*|\bsynchroni[sz]\w*|\bexport\w*", "refresh"),
        (r"\brotat\w*", "key rotation"),
        (r"\bdeposit\w*|\bescrow", "escrow deposit"),
        (r"\btraining|\btrained|\bawareness", "training"),
        (r"\binvoic\w*|\bbill\w*", "invoicing"),
        (r"\brelease\w*|\bupdates?\b|\bupgrade\w*", "release"),
    ]
)


def frequency_constraints(s: Sentence) -> list[Constraint]:
    text = s.text
    out = []
    for m in _FREQ.finditer(text):
        if m.group("adverb"):
            per_year = _ADVERBS[m.group("adverb")]
        elif m.group("unit"):
            per_year = _PER_YEAR[m.group("unit")] / float(m.group("n") or 1)
        elif m.group("unit2"):
            times = (
                1.0
                if m.group("times") == "once"
                else 2.0
                if m.group("times") == "twice"
                else float(m.group("k"))
            )
            per_year = times * _PER_YEAR[m.group("unit2")]
        else:
            per_year = 1.0 if m.group(0).startswith("once") else 2.0
        if m.group("adverb") in ("annual", "continuous") and re.match(
            r"\s+(?:recurring|revenue|fee|subscription|contract|term|budget|report)",
            text[m.end() :],
        ):
            continue
        subject = nearest(text, m.start(), m.end(), _ACTIVITY)
        if re.search(r"\bescrow|\bdeposits?\b", text):
            subject = "escrow deposit"  # "deposits updated with every release and quarterly"
        if subject is None:
            continue
        out.append(
            Constraint(
                kind="frequency",
                subject=subject,
                direction=direction_marker(text, m.start(), m.end()) or "min",
                lo=per_year,
                hi=per_year,
                unit="per year",
                text=m.group(0),
                context=context_words(text[max(0, m.start() - 80) : m.end() + 40]),
                pos=s.start + m.start(),
            )
        )
    return out
