"""Does an answer address what its requirement specifically asks? Distinctive terms, matched.

A value check cannot see a generic answer: "we encrypt with AES-256 in AWS KMS" states nothing
that contradicts "use the key management system on the HHS PIV card or a key recovery
mechanism", yet it does not answer it. So a row is "covered" only if the answer also mentions the
requirement's *distinctive* terms: its content words, acronyms and standard numbers, each weighted
by how rare it is among the document's requirements (a word in every clause, like the buyer's name,
says nothing about this one) and matched with crude stemming, acronym expansions the requirement
defines and a few synonyms. The document's term counts are built once per requirement list, so the
whole check is linear in the document.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from ._acronyms import acronyms, spelled_out, states

#: The answer must match at least this share of the requirement's distinctive weight.
ADDRESSED_AT = 0.55
#: A named term (acronym, standard number) this distinctive in the document must be matched.
NAMED_IDF = 0.6
#: Missing words this close (characters) are shown as one phrase: "key recovery mechanism".
PHRASE_GAP = 8
#: Below this many requirements, document frequencies say little: every term counts fully.
MIN_DOCUMENT = 8
#: A term in this share of the document's requirements or more carries no weight.
COMMON_SHARE = 0.5

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:['\u2019][sS])?|\d+(?:[.-]\d+)+|\d{3,}")
_PHONE = re.compile(r"\d{3}-\d{4}")
_DEFINITION = re.compile(r"\(([A-Z][A-Za-z]*[A-Z]s?)\)")
_DEFINED_AFTER = re.compile(r"\b([A-Z][A-Za-z]*[A-Z])s?\s*\(([^()]{3,160})\)")
# Words of any procurement clause: who does it, how firmly, and connectives. They never make a
# requirement specific (the document frequency catches the rest, e.g. the buyer's name).
_BOILERPLATE = frozenset(
    """
    a an and any all also are as at be been being both but by can could do does each either etc
    for from has have having he her his how i ie eg if in into is it its may might more most must
    no nor not of on or other our per shall she should so such than that the their them then there
    these they this those through to under upon us via was we were what when where whether which
    while who whom why will with within without would you your
    contractor contractors subcontractor subcontractors offeror offerors vendor vendors proposer
    proposers quoter quoters bidder bidders supplier suppliers firm
    provide provides provided providing ensure ensures ensuring comply complies compliance
    accordance applicable required require requires requirement requirements responsible
    responsibility perform performed performing work contract contracts agreement
    include includes including included use used using able ability necessary appropriate prior
    following follow follows during term life time basis least minimum maximum approximately
    also well make made need needed needs order part addition additional additionally
    before after thereafter initially beginning begin done going ongoing establish
    assigned properly promptly immediately regularly timely effective effectively
    appropriately relevant specific specifically general generally new existing current currently
    certain various overall available possible applicable unless except solution solutions
    explain describe discuss state states demonstrate indicate specify major type types cover
    covering example examples kind kinds manner way ways means related associated regarding
    clause clauses warrant warrants represent represents steps otherwise directed
    """.split()  # noqa: SIM905 (a word list reads better as words)
)
# Equivalent words a paraphrase uses (stems), mapped to one canonical stem.
_SYNONYMS = {
    "recognis": "identif",
    "recogniz": "identif",
    "detect": "identif",
    "personnel": "staff",
    "employ": "staff",
    "worker": "staff",
    "people": "staff",
    "tell": "notif",
    "inform": "notif",
    "destroy": "destruct",
    "sanitis": "sanitiz",
    "purg": "sanitiz",
    "retak": "complet",
    "tak": "complet",
    "publish": "post",
    "deliver": "submit",
    "send": "submit",
    "sent": "submit",
    "escrow": "recover",
    "restor": "recover",
}
_SUFFIXES = ("ations", "ation", "ments", "ment", "ions", "ion", "ings", "ing", "ies", "ied")
_SUFFIXES += ("ers", "er", "ed", "es", "ly", "s", "e", "y")
_STEM_CHARS = 7


def stem(word: str) -> str:
    """A crude stem: lower case, up to two suffixes stripped, at most 7 characters, synonyms."""
    w = word.lower().replace("\u2019", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if not w.isalpha():
        return w
    for _ in range(2):
        for suffix in _SUFFIXES:
            if w.endswith(suffix) and len(w) - len(suffix) >= 3:
                w = w[: -len(suffix)]
                break
        else:
            break
    w = w[:_STEM_CHARS]
    for prefix, canonical in _SYNONYMS.items():
        if w.startswith(prefix):
            return canonical
    return w


@dataclass(frozen=True)
class Term:
    """One distinctive word of a requirement, as written and as matched."""

    word: str
    stem: str
    named: bool
    start: int = 0
    end: int = 0


def _is_named(word: str) -> bool:
    return (sum(1 for c in word if c.isupper()) >= 2 and len(word) >= 2) or any(
        c.isdigit() for c in word
    )


def _title_inside(text: str, start: int, word: str) -> bool:
    """A capitalised word inside a sentence names something ("Records Management training")."""
    if not word[:1].isupper() or not word[1:].islower():
        return False
    before = text[:start].rstrip(" \t\"'(\u201c")
    return bool(before) and before[-1] not in ".:;!?-\u2013\u2014\n" and not before[-1].isdigit()


_EXAMPLES = re.compile(r"\((?:for example|for instance|e\.g\.|such as)[^()]*\)", re.I)


def terms(text: str) -> list[Term]:
    """The requirement's content words in order (boilerplate and examples left out), one per
    stem. Examples ("(for example, named users, ...)") illustrate the ask; they are not asked."""
    out: list[Term] = []
    seen: set[str] = set()
    text = _EXAMPLES.sub(lambda m: " " * len(m.group(0)), text)
    for match in _TOKEN.finditer(text):
        word = match.group(0)
        if word.lower() in _BOILERPLATE or (len(word) < 3 and not _is_named(word)):
            continue
        s = stem(word)
        if s in seen or s in _BOILERPLATE:
            continue
        seen.add(s)
        named = _is_named(word) or _title_inside(text, match.start(), word)
        out.append(Term(word, s, named, match.start(), match.end()))
    return out


def _stems(text: str) -> set[str]:
    return {stem(m.group(0)) for m in _TOKEN.finditer(text)}


def definitions(text: str) -> dict[str, set[str]]:
    """Acronyms a text defines, "personal identity verification (PIV)": acronym stem -> words."""
    found: dict[str, set[str]] = {}
    for match in _DEFINITION.finditer(text):
        acronym = match.group(1).rstrip("s")
        letters = acronym.upper()
        before = re.findall(r"[A-Za-z]+", text[max(0, match.start() - 160) : match.start()])
        words = [w for w in before if w.lower() not in {"of", "and", "for", "the", "on", "in"}]
        for size in range(1, min(len(words), len(letters)) + 1):
            tail = words[-size:]
            if "".join(w[0] for w in tail).upper() == letters:
                found[stem(acronym)] = {stem(w) for w in tail}
                break
    for match in _DEFINED_AFTER.finditer(text):  # "AASBS (Assisted Acquisition ... System)"
        runs = spelled_out(match.group(1), match.group(2))
        if runs and len(runs[0]) == len(match.group(2).split()):
            found.setdefault(stem(match.group(1)), {stem(w) for w in runs[0]})
    return found


def undefined_aliases(requirement: str, answer: str) -> dict[str, list[set[str]]]:
    """Acronyms one text uses and the other spells out, and US states by postal code: acronym
    stem -> the stems of each spelling ("GFP" in the requirement, "Government-furnished
    property" in the answer; "the CO" in the answer, "the Contracting Officer" in the
    requirement; "Bethesda, MD" and "Maryland")."""
    found: dict[str, list[set[str]]] = {}
    for one, other in ((requirement, answer), (answer, requirement)):
        for acronym in acronyms(one):
            for run in spelled_out(acronym, other):
                found.setdefault(stem(acronym), []).append({stem(w) for w in run})
        for code, name in states(one).items():
            found.setdefault(stem(code), []).append({stem(w) for w in name.split()})
    return found


class DocumentTerms:
    """How many of a document's requirements use each stem, to weight a term's distinctiveness."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.counts: Counter[str] = Counter()
        self.size = 0
        for text in texts:
            self.size += 1
            self.counts.update(_stems(text))

    def idf(self, stem_: str) -> float:
        """1 for a stem used once in a large document, falling to 0 at ``COMMON_SHARE``."""
        if self.size < MIN_DOCUMENT:
            return 1.0
        df = self.counts.get(stem_, 0)
        if df >= COMMON_SHARE * self.size:
            return 0.0
        return min(1.0, math.log((self.size + 1) / (df + 1)) / math.log(self.size + 1) * 1.2)


NO_DOCUMENT = DocumentTerms(())


def key_terms(requirement: str, document: DocumentTerms = NO_DOCUMENT) -> dict[str, float]:
    """The requirement's distinctive words, as written, with their weights (named terms count
    1.5, every term scaled by its rarity in the document); words of no weight are left out."""
    out: dict[str, float] = {}
    for term in terms(requirement):
        weight = round((1.5 if term.named else 1.0) * document.idf(term.stem), 2)
        if weight > 0:
            out[term.word] = weight
    return out


@dataclass(frozen=True)
class Addressed:
    """The outcome: the share of distinctive weight the answer matches and what it leaves out."""

    share: float
    missing: list[str]
    named_missing: list[str]

    @property
    def ok(self) -> bool:
        return self.share >= ADDRESSED_AT and not self.named_missing

    def reason(self) -> str:
        return (
            f"the answer does not address what the requirement specifically asks: nothing on "
            f"{'; '.join(self.missing[:5])} (it matches {self.share:.0%} of the requirement's "
            "distinctive terms)"
        )


def addressed(requirement: str, answer: str, weights: dict[str, float] | None = None) -> Addressed:
    """Whether ``answer`` speaks to the distinctive terms of ``requirement``.

    ``weights`` are the requirement's ``key_terms`` (from its document); without them every
    content word counts, named terms 1.5. ``missing`` lists the unmatched words as phrases (runs
    of neighbouring terms), the most distinctive first.
    """
    if weights is None:
        weights = key_terms(requirement)
    have = _stems(answer)
    aliases = definitions(requirement)
    aliases.update(definitions(answer))
    spellings = undefined_aliases(requirement, answer)
    for acronym, words in aliases.items():
        spellings.setdefault(acronym, []).append(words)
    for acronym, runs in spellings.items():
        for words in runs:
            if acronym in have:
                have |= words
            elif words <= have:
                have.add(acronym)
    have_prefix = {h[:5] for h in have if len(h) >= 5}
    total = matched = 0.0
    named_missing: list[str] = []
    phrases: list[tuple[float, str]] = []
    run: list[str] = []
    run_weight = 0.0
    run_end = 0
    for term in terms(requirement):
        weight = weights.get(term.word, 0.0)
        total += weight
        hit = term.stem in have or (len(term.stem) >= 5 and term.stem[:5] in have_prefix)
        if run and (hit or weight == 0.0 or term.start - run_end > PHRASE_GAP or len(run) == 4):
            phrases.append((run_weight, " ".join(run)))
            run, run_weight = [], 0.0
        if hit or weight == 0.0:
            matched += weight
            continue
        run.append(term.word)
        run_end = term.end
        run_weight = max(run_weight, weight)
        if _is_named(term.word) and not _PHONE.fullmatch(term.word) and weight >= 1.5 * NAMED_IDF:
            named_missing.append(term.word)
    if run:
        phrases.append((run_weight, " ".join(run)))
    if total == 0.0:
        return Addressed(1.0, [], [])
    phrases.sort(key=lambda p: -p[0])  # a stable sort: equal weights keep the text's order
    return Addressed(round(matched / total, 2), [p for _, p in phrases], named_missing)


_last: tuple[object, DocumentTerms] | None = None


def document_terms(requirements: object, texts: Iterable[str]) -> DocumentTerms:
    """The term counts of a requirement list, built once per list object: every review step of a
    run reads the same shared list, so a 5,000-requirement document is counted once, not per part.
    """
    global _last
    cached = _last
    if cached is not None and cached[0] is requirements:
        return cached[1]
    counted = DocumentTerms(texts)
    _last = (requirements, counted)
    return counted
