"""The parser's requirement list from ``find_requirements`` findings: categories and RFP facts.

The shredding itself (structure, obligation sentences, lists, tables, ids) is the
``find_requirements`` tool's, shared by the offline engine and an LLM parser. Here each candidate
gets its category (from its section heading, else its own words), and the list gets the RFP's
title, issuer and where responses go.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from agentorch.documents import find_requirements, read_blocks, text_blocks

from ._types import ExcludedStatement, Requirement, RequirementList

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


#: Why an unaccounted statement is listed (see ``RequirementList.unaccounted``).
UNACCOUNTED = "has an obligation word but became no requirement"


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


def extract(text: str, source: str = "") -> RequirementList:
    """Every requirement of a document given as text (Markdown or plain), in document order."""
    findings = find_requirements(text_blocks(text)).model_dump()
    return from_findings(findings, source)


def extract_file(path: str | Path) -> RequirementList:
    """Every requirement of a document file, exactly as the ``find_requirements`` tool finds them."""
    findings = find_requirements(read_blocks(path)).model_dump()
    return from_findings(findings, Path(path).name)


def from_findings(findings: dict[str, Any], source: str = "") -> RequirementList:
    """A ``RequirementList`` from ``find_requirements``'s result (as the tool returns it)."""
    requirements = [
        Requirement(
            id=item["id"],
            number=item.get("number", ""),
            title=item.get("title", ""),
            text=item["text"],
            modality=item["modality"],
            category=category_of(item.get("section", ""), item["text"]),
            section=item.get("section", ""),
            source=source,
            location=item.get("location", ""),
            negative=item.get("negative", False),
            due=item.get("due", ""),
            flags=list(item.get("flags", [])),
        )
        for item in findings.get("requirements", [])
    ]
    excluded = [ExcludedStatement(**item) for item in findings.get("excluded", [])]
    unaccounted = [
        ExcludedStatement(**item, reason=UNACCOUNTED) for item in findings.get("unaccounted", [])
    ]
    return RequirementList(
        title=findings.get("title", ""),
        issuer=findings.get("issuer", ""),
        submit_to=submit_target(requirements),
        sources=[source] if source else [],
        requirements=requirements,
        statements_seen=findings.get("statements_seen", 0),
        excluded=excluded,
        unaccounted=unaccounted,
    )


def submit_target(requirements: list[Requirement]) -> str:
    """The portal or address responses are submitted to, from the first submission requirement."""
    for req in requirements:
        if re.search(r"\bsubmi", req.text, re.I):
            target = _SUBMIT_TARGET.search(req.text)
            if target:
                return target.group(0)
    return ""


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
        merged.statements_seen += item.statements_seen
        merged.excluded.extend(item.excluded)
        merged.unaccounted.extend(item.unaccounted)
        for req in item.requirements:
            if req.id in seen:
                req = req.model_copy(update={"id": f"{Path(req.source).stem}:{req.id}"})
            seen.add(req.id)
            merged.requirements.append(req)
    return merged
