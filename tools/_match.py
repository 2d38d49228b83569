"""One requirement constraint against what the answer states: find the answer's value for the
same subject, compare with units normalised, and say why."""

from __future__ import annotations

import math

from ._constraints import BUSINESS_RATIO, Constraint
from ._rights import REGION_NAMES
from ._standards import cert_label
from ._terms import billing_clash
from ._verdict import ConstraintCheck, Verdict, required_text

_TIME = ("duration", "response_time", "recovery_time")
_NUMERIC = (*_TIME, "percentage", "money", "count", "frequency")


def compare_one(rc: Constraint, offered: list[Constraint]) -> ConstraintCheck:
    """The check of one requirement constraint against all the answer's constraints."""
    if rc.kind in _NUMERIC:
        return _numeric(rc, offered)
    handler = {
        "unlimited": _unlimited,
        "price_basis": _price,
        "ownership": _ownership,
        "data_location": _location,
        "certification": _certification,
        "language": _language,
        "payment_terms": _billing,
        "indemnity": _indemnity,
    }[rc.kind]
    return handler(rc, offered)


def _result(rc: Constraint, offered: str | None, verdict: Verdict, detail: str) -> ConstraintCheck:
    return ConstraintCheck(
        kind=rc.kind,
        subject=rc.subject,
        direction=rc.direction,  # type: ignore[arg-type]
        required=required_text(rc),
        offered=offered,
        verdict=verdict,
        detail=detail,
    )


def _not_stated(rc: Constraint) -> ConstraintCheck:
    return _result(rc, None, "not_stated", f"the answer gives no {rc.subject} value")


def _family(kind: str) -> tuple[str, ...]:
    return _TIME if kind in _TIME else (kind,)


def _overlap(a: Constraint, b: Constraint) -> float:
    if not a.context or not b.context:
        return 0.0
    return len(a.context & b.context) / len(a.context | b.context)


def _candidates(rc: Constraint, offered: list[Constraint]) -> list[Constraint]:
    family = _family(rc.kind)
    same = [c for c in offered if c.kind in family and c.subject == rc.subject]
    if not same and rc.subject in ("time", "amount"):
        same = [c for c in offered if c.kind in family and c.subject in ("time", "amount")]
    if rc.qualifier:
        tagged = [c for c in same if c.qualifier]
        matching = [c for c in tagged if c.qualifier == rc.qualifier]
        if matching:
            same = matching
        elif tagged and len(tagged) == len(same):
            return []
    elif len({c.qualifier for c in same}) > 1:
        untagged = [c for c in same if not c.qualifier]
        same = untagged or same
    if rc.kind == "money" and rc.basis:
        same_basis = [c for c in same if c.basis == rc.basis]
        same = same_basis or same
    return same


def _numeric(rc: Constraint, offered: list[Constraint]) -> ConstraintCheck:
    candidates = _candidates(rc, offered)
    if rc.kind == "count" and rc.subject == "reference":
        on_request = [c for c in offered if c.kind == "count" and c.term == "on request"]
        if on_request and not [c for c in candidates if c.lo is not None]:
            return _result(
                rc,
                "on request",
                "falls_short",
                "the answer offers references only on request, not with the proposal",
            )
    refused = [c for c in offered if c.term == "refused" and c.subject == rc.subject]
    if refused:
        return _result(rc, refused[0].text, "conflicts", f"the answer refuses {rc.subject}")
    vague = [c for c in candidates if c.lo is None]
    candidates = [c for c in candidates if c.lo is not None]
    stated = [c for c in candidates if c.term not in ("denied", "past")]
    record = [c for c in candidates if c.term == "past"]
    if not stated and record:
        return _result(
            rc, f"{record[0].text} achieved", "cannot_tell", "a past record, not a commitment"
        )
    if stated:
        return _compare_values(rc, _best(rc, stated))
    if candidates:
        denied = max(candidates, key=lambda c: _overlap(rc, c))
        if (
            denied.lo is not None
            and rc.lo is not None
            and math.isclose(denied.lo, rc.lo, rel_tol=0.02)
        ):
            return _result(
                rc, f"not {denied.text}", "conflicts", f"the answer declines {denied.text}"
            )
        return _result(
            rc, f"not {denied.text}", "cannot_tell", f"the answer only rules out {denied.text}"
        )
    if vague:
        return _result(
            rc, vague[0].text, "cannot_tell", f"the answer gives no figure, only {vague[0].text!r}"
        )
    return _not_stated(rc)


def _best(rc: Constraint, stated: list[Constraint]) -> Constraint:
    """The answer's value for the requirement: the closest in wording; among values about as
    close, the one most in the answer's favour ("weekly full backups and nightly incrementals")."""
    top = max(_overlap(rc, c) for c in stated)
    close = [c for c in stated if _overlap(rc, c) >= top - 0.1]
    if rc.direction == "max":
        return min(close, key=lambda c: c.hi if c.hi is not None else math.inf)
    if rc.direction == "min":
        return max(close, key=lambda c: c.lo if c.lo is not None else -math.inf)
    return max(close, key=lambda c: _overlap(rc, c))


def _compare_values(rc: Constraint, oc: Constraint) -> ConstraintCheck:
    assert rc.lo is not None and rc.hi is not None and oc.lo is not None and oc.hi is not None
    detail_bits = []
    if rc.kind in _TIME and "business" in (rc.basis, oc.basis) and rc.basis != oc.basis:
        detail_bits.append(
            f"business time converted at 5 business days per 7 calendar days "
            f"(ratio {BUSINESS_RATIO:.1f}), give or take two days for weekends and holidays"
        )
    if rc.subject == "liability cap" and {rc.unit, oc.unit} == {"annual fees", "contract value"}:
        return _cap_bases(rc, oc)
    if rc.kind == "money" and rc.unit != oc.unit:
        return _result(rc, oc.text, "cannot_tell", f"different currencies ({rc.unit} vs {oc.unit})")
    if rc.kind == "money" and rc.basis and oc.basis and rc.basis != oc.basis:
        detail_bits.append(f"required {rc.basis}, the answer states {oc.basis}")
    r_lo, r_hi, o_lo, o_hi = rc.lo, rc.hi, oc.lo, oc.hi
    if rc.nominal and oc.nominal:  # both in business time: compare as stated
        (r_lo, r_hi), (o_lo, o_hi) = rc.nominal, oc.nominal
        detail_bits.clear()
    # a month (30.44 days) and 30 days, a year and 365 days: the same in a contract
    tol = 0.015 if rc.kind in _TIME else 0.0001
    verdict: Verdict
    if rc.direction == "max":
        verdict = (
            "meets"
            if o_hi <= r_lo * (1 + tol)
            else "falls_short"
            if o_lo > r_hi * (1 + tol)
            else "cannot_tell"
        )
    elif rc.direction == "min":
        verdict = (
            "meets"
            if o_lo >= r_hi * (1 - tol)
            else "falls_short"
            if o_hi < r_lo * (1 - tol)
            else "cannot_tell"
        )
    else:
        if math.isclose(o_lo, r_lo, rel_tol=0.02) and math.isclose(o_hi, r_hi, rel_tol=0.02):
            verdict = "meets"
        elif o_hi < r_lo or o_lo > r_hi:
            verdict = "conflicts"
        else:
            verdict = "cannot_tell"
    if verdict == "meets" and rc.kind == "money" and rc.basis and oc.basis and rc.basis != oc.basis:
        verdict = "cannot_tell"
    if verdict == "cannot_tell" and not detail_bits:
        detail_bits.append("the values overlap once units are converted")
    word = {"max": "at most", "min": "at least", "exact": "exactly"}[rc.direction]
    detail = f"required {word} {rc.text}; the answer states {oc.text}"
    if detail_bits:
        detail += " (" + "; ".join(detail_bits) + ")"
    return _result(rc, oc.text, verdict, detail)


def _cap_bases(rc: Constraint, oc: Constraint) -> ConstraintCheck:
    """A cap in annual fees against one in contract value: a contract runs a year or more."""
    assert rc.lo is not None and oc.lo is not None
    why = "a contract's value is at least one year's fees"
    if rc.direction == "min" and rc.unit == "contract value" and oc.lo <= rc.lo:
        return _result(rc, oc.text, "falls_short", f"{oc.text} is below {rc.text}: {why}")
    if rc.direction == "min" and rc.unit == "annual fees" and oc.lo >= rc.lo:
        return _result(rc, oc.text, "meets", f"{oc.text} is at least {rc.text}: {why}")
    return _result(rc, oc.text, "cannot_tell", f"depends on the contract's length ({why})")


def _same_subject(rc: Constraint, offered: list[Constraint]) -> list[Constraint]:
    return [c for c in offered if c.kind == rc.kind and c.subject == rc.subject]


def _unlimited(rc: Constraint, offered: list[Constraint]) -> ConstraintCheck:
    found = _same_subject(rc, offered)
    if rc.subject == "users":
        found += [c for c in offered if c.kind == "count" and c.subject == "user"]
    limits = [c for c in found if c.term in ("capped", "refused") or c.kind == "count"]
    if limits:
        return _result(
            rc,
            limits[0].text,
            "conflicts",
            f"required unlimited {rc.subject}; the answer limits it",
        )
    if any(c.term == "unlimited" for c in found):
        return _result(rc, "unlimited", "meets", f"the answer accepts unlimited {rc.subject}")
    return _not_stated(rc)


def _price(rc: Constraint, offered: list[Constraint]) -> ConstraintCheck:
    found = _same_subject(rc, offered)
    if rc.subject == "prices":
        initial_only = rc.term == "fixed for the initial term"
        fixed_now = any(c.term == "fixed" for c in found)
        rises = [c for c in offered if c.kind == "percentage" and c.subject == "price increase"]
        escalating = [c for c in found if c.term == "escalating"]
        if not (initial_only and fixed_now):
            escalating += [c for c in found if c.term == "escalating later"]
        elif not escalating:
            rises = []  # increases only after the initial term, which is all that is required
        if escalating or rises:
            shown = escalating[0].text if escalating else f"increases of {rises[0].text}"
            return _result(
                rc, shown, "conflicts", "required firm fixed prices; the answer lets prices rise"
            )
    else:
        variable = [c for c in found if c.term == "variable"]
        if variable:
            return _result(
                rc, variable[0].text, "conflicts", "required a fixed fee; the answer prices by time"
            )
        either = [c for c in found if c.term == "fixed or variable"]
        if either:
            return _result(
                rc, either[0].text, "falls_short", "a fixed fee is only one of the options offered"
            )
    if any(c.term == "fixed" for c in found):
        return _result(
            rc,
            next(c.text for c in found if c.term == "fixed"),
            "meets",
            "the answer fixes the price",
        )
    return _not_stated(rc)


def _ownership(rc: Constraint, offered: list[Constraint]) -> ConstraintCheck:
    found = _same_subject(rc, offered)
    against = [c for c in found if c.term in ("supplier", "licence")]
    if against:
        return _result(
            rc, against[0].text, "conflicts", f"required the customer to own the {rc.subject}"
        )
    if any(c.term == "customer" for c in found):
        return _result(
            rc, f"customer owns {rc.subject}", "meets", "the answer gives the customer ownership"
        )
    return _not_stated(rc)


_INSIDE = {
    "US": {"US", "US-continental", "US-noncontinental"},
    "US-continental": {"US-continental"},
    "EU": {"EU"},
    "UK": {"UK"},
    "Canada": {"Canada"},
    "Australia": {"Australia"},
    "Europe": {"EU", "UK", "Europe", "Europe-non-EU"},
    "North America": {"US", "US-continental", "US-noncontinental", "Canada", "North America"},
}
_VAGUE = {"US": {"North America"}, "US-continental": {"US", "North America"}, "EU": {"Europe"}}


def _location(rc: Constraint, offered: list[Constraint]) -> ConstraintCheck:
    places = [o for c in offered if c.kind == "data_location" for o in c.options]
    allowed: set[str] = set()
    for region in rc.options:
        allowed |= _INSIDE.get(region, {region})
    vague: set[str] = set()
    for region in rc.options:
        vague |= _VAGUE.get(region, set())
    if not places:
        return _not_stated(rc)
    if "US-continental" in rc.options and "US-continental" in places:
        places = [p for p in places if p != "US"]  # "US regions (Ohio, Oregon)": named, continental
    shown = ", ".join(REGION_NAMES.get(p, p) for p in dict.fromkeys(places))
    outside = [p for p in places if p not in allowed and p not in vague]
    if outside:
        return _result(rc, shown, "conflicts", f"the answer puts data in {', '.join(outside)}")
    if any(p in vague for p in places):
        return _result(rc, shown, "cannot_tell", "the answer names a wider region than required")
    return _result(rc, shown, "meets", "every place the answer names is inside the required region")


def _cert_parts(option: str) -> tuple[str, float, float]:
    key, version, level = option.split("/")
    return key, float(version), float(level)


def _certification(rc: Constraint, offered: list[Constraint]) -> ConstraintCheck:
    mentions = [c for c in offered if c.kind == "certification"]
    wanted = [_cert_parts(o) for o in rc.options]
    lower: list[Constraint] = []
    denied: list[Constraint] = []
    for c in mentions:
        key, version, level = _cert_parts(c.options[0])
        for w_key, w_version, w_level in wanted:
            if key != w_key:
                continue
            if c.term != "held":
                denied.append(c)
            elif version >= w_version and level >= w_level:
                return _result(rc, c.text, "meets", f"the answer holds {cert_label(c.options[0])}")
            elif (version and version < w_version) or (level and level < w_level):
                lower.append(c)
            else:
                return _result(
                    rc, c.text, "cannot_tell", "the answer names the standard without its level"
                )
    if lower:
        return _result(
            rc, lower[0].text, "falls_short", "the answer holds a lower level or version"
        )
    if denied:
        c = denied[0]
        verdict: Verdict = "conflicts" if c.term == "denied" else "falls_short"
        return _result(rc, c.text, verdict, f"the answer says it is {c.term}")
    held = [c for c in mentions if c.term == "held"]
    if rc.term == "or equivalent" and held:
        shown = ", ".join(c.text for c in held)
        return _result(rc, shown, "cannot_tell", "whether what the answer holds is equivalent")
    return _not_stated(rc)


def _language(rc: Constraint, offered: list[Constraint]) -> ConstraintCheck:
    found = [c for c in offered if c.kind == "language"]
    have = {o for c in found for o in c.options}
    denied = {o for c in found for o in c.negated}
    if not found:
        return _not_stated(rc)
    missing = [lang for lang in rc.options if lang not in have]
    shown = (
        ", ".join(lang.title() for lang in dict.fromkeys(o for c in found for o in c.options))
        or "none"
    )
    if not missing:
        return _result(rc, shown, "meets", "every required language is offered")
    names = ", ".join(m.title() for m in missing)
    if any(m in denied for m in missing):
        return _result(rc, shown, "conflicts", f"the answer excludes {names}")
    return _result(rc, shown, "falls_short", f"the answer does not offer {names}")


def _billing(rc: Constraint, offered: list[Constraint]) -> ConstraintCheck:
    found = _same_subject(rc, offered)
    clash = [c for c in found if c.term == billing_clash(rc.term)]
    if clash:
        return _result(rc, clash[0].text, "conflicts", f"required {rc.text}; the answer differs")
    same = [c for c in found if c.term == rc.term]
    if same:
        return _result(rc, same[0].text, "meets", "the answer bills as required")
    return _not_stated(rc)


def _indemnity(rc: Constraint, offered: list[Constraint]) -> ConstraintCheck:
    found = _same_subject(rc, offered)
    if found:
        return _result(
            rc, found[0].text, "conflicts", "the answer limits the indemnity to its own fault"
        )
    return _not_stated(rc)
