"""Certifications and standards (SOC 2, ISO 27001, FedRAMP, WCAG, PCI DSS...) and languages."""

from __future__ import annotations

import re

from ._constraints import Constraint, Sentence, context_words, negated

# family -> (pattern, display name, level words -> rank)
_LEVELS_RAMP = {"li-saas": 0.5, "tailored": 0.5, "low": 1.0, "moderate": 2.0, "high": 3.0}
_FAMILIES: list[tuple[str, str, str]] = [
    ("soc2", r"\bsoc[\s-]?2\b|\bsoc[\s-]?ii\b", "SOC 2"),
    ("soc1", r"\bsoc[\s-]?1\b|\bssae[\s-]?18\b|\bssae[\s-]?16\b", "SOC 1"),
    ("iso27001", r"\biso(?:/iec)?[\s-]*27001\b", "ISO 27001"),
    ("iso27017", r"\biso(?:/iec)?[\s-]*27017\b", "ISO 27017"),
    ("iso27018", r"\biso(?:/iec)?[\s-]*27018\b", "ISO 27018"),
    ("iso27701", r"\biso(?:/iec)?[\s-]*27701\b", "ISO 27701"),
    ("iso9001", r"\biso[\s-]*9001\b", "ISO 9001"),
    ("iso22301", r"\biso[\s-]*22301\b", "ISO 22301"),
    ("fedramp", r"\bfedramp\b|\bfederal risk and authorization management program\b", "FedRAMP"),
    ("stateramp", r"\bstateramp\b|\bstate ramp\b|\bgovramp\b", "StateRAMP"),
    ("txramp", r"\btx-?ramp\b", "TX-RAMP"),
    ("wcag", r"\bwcag\b|\bweb content accessibility guidelines\b", "WCAG"),
    ("section508", r"\bsection 508\b", "Section 508"),
    (
        "pcidss",
        r"\bpci(?:[\s-]?dss)?\b|\bpayment card industry data security standard\b",
        "PCI DSS",
    ),
    ("hipaa", r"\bhipaa\b", "HIPAA"),
    ("cjis", r"\bcjis\b", "CJIS"),
    ("hitrust", r"\bhitrust\b", "HITRUST"),
    ("nist80053", r"\bnist\s*(?:sp\s*)?800-53\b", "NIST SP 800-53"),
    ("nist800171", r"\bnist\s*(?:sp\s*)?800-171\b", "NIST SP 800-171"),
    ("cmmc", r"\bcmmc\b", "CMMC"),
    ("csastar", r"\bcsa star\b", "CSA STAR"),
]
_FAMILY_RE = [(key, re.compile(p), name) for key, p, name in _FAMILIES]
_PENDING = re.compile(
    r"\bin process\b|\bin progress\b|\bpursu\w*|\bworking toward|\bplan(?:s|ned)? to\b|\bplanned\b"
    r"|\bexpect\w*|\banticipat\w*|\broadmap\b|\bready\b|\bunderway\b|\bseeking\b|\bintend\w*"
    r"|\bin the process\b|\bcandidate\b|\bprepar\w* for\b|\bwill (?:obtain|achieve|complete)\b"
)
_WCAG_LEVEL = {"a": 1.0, "aa": 2.0, "aaa": 3.0}


def _level(key: str, text: str, start: int, end: int) -> tuple[float, float]:
    """(version, level) of a mention; 0 when the text does not say."""
    window = text[end : end + 40]
    before = text[max(0, start - 30) : start]
    if key in ("soc2", "soc1"):
        m = re.search(r"\btype[\s-]*(ii|2|i|1)\b", window[:25]) or re.search(
            r"\btype[\s-]*(ii|2|i|1)\s*$", before
        )
        return 0.0, (2.0 if m and m.group(1) in ("ii", "2") else 1.0 if m else 0.0)
    if key in ("fedramp", "stateramp", "txramp"):
        m = re.search(r"\b(li-saas|tailored|low|moderate|high)\b", window[:35])
        m = m or re.search(
            r"\b(li-saas|tailored|low|moderate|high)\b[\s-]*(?:impact )?(?:level )?$", before
        )
        if key == "txramp":
            m2 = re.search(r"\blevel\s*([12])\b", window)
            return 0.0, float(m2.group(1)) if m2 else 0.0
        return 0.0, _LEVELS_RAMP[m.group(1)] if m else 0.0
    if key == "wcag":
        near = before[-25:] + " " + window[:30]
        version = re.search(r"\b([23])\.(\d)\b", window[:12]) or re.search(
            r"\b([23])\.(\d)\b", near
        )
        level = re.search(
            r"\blevel[\s-]*(aaa|aa|a)\b|\b(aaa|aa)\b|\b(a)\s+(?:level|conformance)", near
        )
        v = float(f"{version.group(1)}.{version.group(2)}") if version else 0.0
        lv = next((g for g in level.groups() if g), "") if level else ""
        return v, _WCAG_LEVEL.get(lv, 0.0)
    if key == "pcidss":
        m = re.search(r"\blevel\s*([1-4])\b", window[:25])
        return 0.0, 5.0 - float(m.group(1)) if m else 0.0
    if key == "cmmc":
        m = re.search(r"\blevel\s*([1-5])\b", window[:20])
        return 0.0, float(m.group(1)) if m else 0.0
    return 0.0, 0.0


def cert_key(key: str, version: float, level: float) -> str:
    return f"{key}/{version:g}/{level:g}"


def cert_label(option: str) -> str:
    """ "wcag/2.1/2" -> "WCAG 2.1 AA"."""
    key, version, level = option.split("/")
    name = next(n for k, _, n in _FAMILIES if k == key)
    lv = float(level)
    if key in ("soc2", "soc1") and lv:
        return f"{name} Type {'II' if lv == 2 else 'I'}"
    if key in ("fedramp", "stateramp") and lv:
        return f"{name} {next(w for w, r in _LEVELS_RAMP.items() if r == lv).title().replace('Li-Saas', 'LI-SaaS')}"
    if key == "wcag":
        parts = (
            [name]
            + ([version] if float(version) else [])
            + ([{1.0: "A", 2.0: "AA", 3.0: "AAA"}[lv]] if lv else [])
        )
        return " ".join(parts)
    if key == "pcidss" and lv:
        return f"{name} Level {int(5 - lv)}"
    if key in ("cmmc", "txramp") and lv:
        return f"{name} Level {int(lv)}"
    return name


def _mentions(text: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    for key, pattern, _ in _FAMILY_RE:
        for m in pattern.finditer(text):
            if any(a <= m.start() < b for a, b, _ in found):
                continue
            version, level = _level(key, text, m.start(), m.end())
            found.append((m.start(), m.end(), cert_key(key, version, level)))
    return sorted(found)


def certification_terms(s: Sentence, requirement: bool) -> list[Constraint]:
    text = s.text
    mentions = _mentions(text)
    if not mentions:
        return []
    out = []
    if requirement:
        groups: list[list[tuple[int, int, str]]] = []
        for mention in mentions:
            if groups:
                gap = text[groups[-1][-1][1] : mention[0]]
                if re.search(r"\bor\b|\bsuch as\b|\be\.g\.|/", gap) and len(gap) < 90:
                    groups[-1].append(mention)
                    continue
            groups.append([mention])
        for group in groups:
            tail = text[group[-1][1] : group[-1][1] + 80]
            equivalent = bool(re.search(r"\bequivalent\b|\bcomparable\b|\bsimilar\b", tail))
            opts = tuple(dict.fromkeys(k for _, _, k in group))
            out.append(
                Constraint(
                    kind="certification",
                    subject="certification",
                    direction="presence",
                    term="or equivalent" if equivalent else "required",
                    options=opts,
                    text=" or ".join(cert_label(o) for o in opts),
                    context=context_words(text),
                    pos=s.start + group[0][0],
                )
            )
        return out
    for start, end, key in mentions:
        window = text[max(0, start - 60) : end + 40]
        if negated(text, start, 45):
            status = "denied"
        elif re.search(r"\bpartial\w*|\bsubstantial(?:ly)?\b|\bmost (?:of the )?criteria", window):
            status = "partial"
        elif _PENDING.search(window):
            status = "pending"
        else:
            status = "held"
        out.append(
            Constraint(
                kind="certification",
                subject="certification",
                direction="presence",
                term=status,
                options=(key,),
                text=cert_label(key) + ("" if status == "held" else f" ({status})"),
                context=context_words(text),
                pos=s.start + start,
            )
        )
    return out


# ---------------------------------------------------------------- languages --------------------

_LANGUAGES = (
    "english|spanish|french|german|italian|portuguese|vietnamese|chinese|mandarin|cantonese|korean"
    "|japanese|tagalog|filipino|arabic|russian|ukrainian|polish|haitian creole|creole|hmong|somali"
    "|hindi|urdu|punjabi|bengali|farsi|persian|amharic|navajo|samoan|thai|lao|khmer|greek|hebrew"
    "|turkish|dutch|swedish|norwegian|danish|finnish|welsh|irish|gaelic|maori|inuktitut|cree"
)
_LANGUAGE_RE = re.compile(rf"\b({_LANGUAGES})\b")
_PREFERRED = re.compile(
    r"\bprefer\w*|\bdesir\w*|\boptional\w*|\bnice to have|\bwould like|\bideally|\bbonus|\bplus\b|\badvantage"
)
_MACHINE = re.compile(
    r"\bmachine[- ]translat\w*|\bautomatic translat\w*|\bgoogle translate|\btranslation widget"
)
_LANG_CONTEXT = re.compile(
    r"\blanguage|\bavailable in\b|\btranslat\w*|\bmultilingual|\blocali[sz]|\bbilingual"
    r"|\b(?:"
    + _LANGUAGES
    + r")\b(?:,| and| or|/)\s*(?:"
    + _LANGUAGES
    + r")\b|\bin (?:both )?(?:"
    + _LANGUAGES
    + r")\b|\b(?:"
    + _LANGUAGES
    + r")\b[^.;]{0,30}\b(?:support|availab|offer|provid|deliver)"
)


def language_terms(s: Sentence, requirement: bool) -> list[Constraint]:
    text = s.text
    if not _LANG_CONTEXT.search(text):
        return []
    wanted: list[str] = []
    denied: list[str] = []
    for m in _LANGUAGE_RE.finditer(text):
        name = m.group(1).replace("mandarin", "chinese").replace("filipino", "tagalog")
        clause = re.split(r"[;:]|,\s(?:and|but)\b|\.\s", text[: m.start()])[-1]
        if requirement and _PREFERRED.search(clause):
            continue
        if not requirement and _MACHINE.search(clause):
            continue
        after = text[m.end() : m.end() + 40]
        if (
            re.match(r"\s*(?:is|are)?\s*(?:not\b|unavailable|unsupported)", after)
            or negated(text, m.start(), 40)
            or re.search(
                r"\b(?:other|additional) languages? (?:is|are) not\b", text[m.end() : m.end() + 40]
            )
        ):
            denied.append(name)
        else:
            wanted.append(name)
    if requirement:
        if not wanted:
            return []
    elif not (wanted or denied):
        return []
    term = "required" if requirement else "offered"
    return [
        Constraint(
            kind="language",
            subject="languages",
            direction="presence",
            term=term,
            options=tuple(dict.fromkeys(wanted)),
            negated=tuple(dict.fromkeys(denied)),
            text=", ".join(w.title() for w in dict.fromkeys(wanted)) or "none named",
            context=context_words(text),
            pos=s.start,
        )
    ]
