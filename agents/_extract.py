"""Rule-based requirement extraction: numbered clauses with modal verbs, categorised.

Works on the normalised text ``read_document`` returns (one block per line, Markdown headings),
so a Markdown, PDF or DOCX copy of one RFP yields the same requirements.
"""

from __future__ import annotations

import re
from pathlib import Path

from ._types import Requirement, RequirementList

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_CLAUSE = re.compile(r"^(?P<num>\d+(?:\.\d+)+|[A-Z]{1,4}-\d+(?:\.\d+)*)\.?\s+(?P<body>\S.*)$")
_ITEM = re.compile(r"^(?:-|\([a-z0-9]{1,3}\)|[a-z][.)])\s+\S")
_SECTION_NUMBER = re.compile(r"^(?:section\s+)?(\d+)\.?\s+", re.I)
_MUST = re.compile(r"\b(shall|must|will|is required to|are required to)\b", re.I)
_SHOULD = re.compile(r"\bshould\b", re.I)
_MAY = re.compile(r"\bmay\b", re.I)
_ISSUER = re.compile(r"^issued by:?\s*([^,.;]+)", re.I)
_TITLE = re.compile(r"^(?P<title>[A-Z][^.:]{1,60})[.:]\s+(?P<rest>\S.*)$")
_SUBMIT_TARGET = re.compile(
    r"\b(?:[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?:https?://)?(?:[\w-]+\.)+(?:gov|com|org|net|edu|us)"
    r"(?:/[\w./-]*)?)\b"
)

#: Section-heading keywords per category, checked in this order (first match wins).
_HEADING_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("other", ("instruction", "introduction", "background", "general information", "form",
               "submission", "administrative", "evaluation", "schedule", "reference")),
    ("security", ("secur", "privacy", "data protection", "cyber")),
    ("sla", ("service level", "sla", "support", "availability", "maintenance", "performance")),
    ("pricing", ("pric", "cost", "fee", "commercial", "payment", "financial proposal")),
    ("legal", ("legal", "contract", "terms and conditions", "liabilit", "insurance",
               "compliance with law")),
    ("technical", ("technical", "functional", "scope", "specification", "solution",
                   "service requirements")),
)  # fmt: skip

#: Clause keywords per category, for sections whose heading says nothing.
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "security": ("secur", "encrypt", "password", "access control", "audit log", "vulnerab",
                 "incident", "background check", "soc 2", "iso 27001", "privacy", "breach"),
    "sla": ("availability", "uptime", "response time", "support", "service level", "maintenance",
            "service credit", "resolution"),
    "pricing": ("price", "pricing", "fee", "invoice", "payment", "cost", "discount", "rate"),
    "legal": ("indemn", "liabilit", "insurance", "warrant", "governing law", "terminat",
              "intellectual property", "escrow", "contract", "agreement"),
    "technical": ("integrat", "interface", "api", "system", "platform", "software", "mobile",
                  "portal", "migration", "report"),
}  # fmt: skip


def modality_of(text: str) -> str | None:
    """must / should / may from the clause's modal verbs (the strongest wins); ``None`` if none."""
    if _MUST.search(text):
        return "must"
    if _SHOULD.search(text):
        return "should"
    if _MAY.search(text):
        return "may"
    return None


def category_of(heading: str, text: str) -> str:
    """The category from the section heading, else from the clause's own keywords."""
    lowered = heading.lower()
    for category, words in _HEADING_RULES:
        if any(re.search(r"\b" + re.escape(word), lowered) for word in words):
            return category
    clause = text.lower()
    scores = {cat: sum(clause.count(w) for w in words) for cat, words in _KEYWORDS.items()}
    best = max(scores, key=lambda cat: scores[cat])
    return best if scores[best] else "other"


def split_title(body: str) -> tuple[str, str]:
    """``"Encryption. All data shall ..."`` -> ("Encryption", whole body)."""
    match = _TITLE.match(body)
    if (
        match
        and modality_of(match.group("title")) is None
        and len(match.group("title").split()) <= 8
    ):
        return match.group("title").strip(), body
    return "", body


def extract(text: str, source: str = "") -> RequirementList:
    """Every numbered clause that states a requirement (has a modal verb), in document order."""
    title = issuer = submit_to = ""
    section = ""
    clauses: list[tuple[str, str, str]] = []  # (number, body, section)
    for line in (ln.strip() for ln in text.splitlines()):
        if not line:
            continue
        heading = _HEADING.match(line)
        if heading:
            if not title:
                title = heading.group(2).strip()
            section = heading.group(2).strip()
            continue
        clause = _CLAUSE.match(line)
        if clause:
            clauses.append((clause.group("num"), clause.group("body").strip(), section))
        elif _ITEM.match(line) and clauses and clauses[-1][2] == section:
            number, body, sec = clauses[-1]
            clauses[-1] = (number, f"{body} {line}", sec)
        elif not clauses and not issuer and _ISSUER.match(line):
            issuer = _ISSUER.match(line).group(1).strip()  # type: ignore[union-attr]
    requirements: list[Requirement] = []
    seen: set[str] = set()
    for number, body, sec in clauses:
        modality = modality_of(body)
        if modality is None:
            continue
        if not submit_to and re.search(r"\bsubmi", body, re.I):
            target = _SUBMIT_TARGET.search(body)
            submit_to = target.group(0) if target else ""
        rid = number if re.match(r"^[A-Z]", number) else f"R-{number}"
        if rid in seen:  # a clause number printed twice (e.g. in a table of contents)
            continue
        seen.add(rid)
        clause_title, full = split_title(body)
        requirements.append(
            Requirement(
                id=rid,
                number=number,
                title=clause_title,
                text=full,
                modality=modality,  # type: ignore[arg-type]
                category=category_of(sec, full),
                section=sec,
                source=source,
            )
        )
    return RequirementList(
        title=title,
        issuer=issuer,
        submit_to=submit_to,
        sources=[source] if source else [],
        requirements=requirements,
    )


def merge(lists: list[RequirementList]) -> RequirementList:
    """Several input documents' requirements as one list (ids made unique per document)."""
    if len(lists) == 1:
        return lists[0]
    merged = RequirementList(
        title=next((x.title for x in lists if x.title), ""),
        issuer=next((x.issuer for x in lists if x.issuer), ""),
        submit_to=next((x.submit_to for x in lists if x.submit_to), ""),
    )
    seen: set[str] = set()
    for item in lists:
        merged.sources.extend(item.sources)
        for req in item.requirements:
            if req.id in seen:
                req = req.model_copy(update={"id": f"{Path(req.source).stem}:{req.id}"})
            seen.add(req.id)
            merged.requirements.append(req)
    return merged
