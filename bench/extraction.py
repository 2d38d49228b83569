"""``python -m bench extraction``: score the requirement extractor on the hand-labelled corpus.

Each document in ``bench/corpus/<slug>/`` is read with ``agentorch.documents.read_blocks`` and
shredded by the bundled parser's extractor; its rows are matched to the hand-made labels by the
rule in ``bench/corpus/LABELLING.md`` (implemented exactly here). Per document it prints labels,
rows, recall, precision, duplicates, wrong ids, modality errors and PASS/FAIL against the targets
(recall >= 95%, precision >= 90%), and exits non-zero when a document misses a target. A document
whose labels say ``"held_out": true`` was never tuned on: it is scored and reported (its verdict
marked "held out"), but it does not decide the exit status, so it keeps measuring the extractor on
an input nobody fitted it to.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench._sections import write_section

CORPUS = Path(__file__).resolve().parent / "corpus"
RECALL_TARGET = 0.95
PRECISION_TARGET = 0.90
COVERAGE = 0.80  # share of a label's tokens a row must contain
MODALITIES = ("must", "should", "may")
BLOCK_START, BLOCK_END = "<!-- extraction:start -->", "<!-- extraction:end -->"

_FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                       "\u2013": "-", "\u2014": "-", "\u2022": "-", "\u25aa": "-", "\u25cf": "-",
                       "\u00b7": "-", "\u200b": ""})  # fmt: skip
_MARKER = re.compile(
    r"^\s*(?:[-*+>]+|r-[\w.()-]+|\(?[a-z]{1,3}\)|[a-z]\.(?=\s)|[ivx]{1,5}\.(?=\s)"
    r"|\(?\d+(?:\.\d+)*\)|\d+(?:\.\d+)*\.?(?=\s|$)|[a-z]{1,2}\.\d+(?:\.\d+)*\.?(?=\s|$))\s*"
)
_TOKEN = re.compile(r"[a-z0-9]+")


class CorpusError(Exception):
    """A corpus document or its labels file is missing or malformed (one line for the user)."""


def tokens(text: str) -> list[str]:
    """Normalised word tokens: NFKC, lowercase, quotes/dashes folded, leading list markers gone."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_FOLD)
    while True:
        stripped = _MARKER.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return _TOKEN.findall(text)


def norm_id(value: str | None) -> str:
    """``R-4.0(2)`` -> ``4.0.2``: lowercase, no ``R-``, separators as single dots."""
    text = (value or "").strip().lower()
    text = re.sub(r"^r-", "", text)
    return re.sub(r"[^a-z0-9]+", ".", text).strip(".")


def id_carries(row_id: str | None, label_id: str) -> bool:
    """Whether the row's id carries the label's (equal, or the label's followed by ``.``/letter)."""
    row, label = norm_id(row_id), norm_id(label_id)
    if not row.startswith(label) or not label:
        return False
    rest = row[len(label) :]
    return rest == "" or rest[0] == "." or (label[-1].isdigit() and rest[0].isalpha())


@dataclass
class Label:
    """One hand-labelled requirement."""

    id: str | None
    section: str
    text: str
    modality: str
    lead_in: str = ""


@dataclass
class Row:
    """One requirement row the extractor produced."""

    id: str
    text: str
    modality: str


@dataclass
class Score:
    """The score of one document, with what was missed (for ``--show-misses``)."""

    document: str
    labels: int
    rows: int
    matched: int
    matching_rows: int
    duplicates: int
    wrong_ids: int
    modality_errors: int
    held_out: bool = False
    missed: list[dict[str, Any]] = field(default_factory=list)
    unmatched_rows: list[dict[str, Any]] = field(default_factory=list)
    wrong_id_pairs: list[dict[str, Any]] = field(default_factory=list)
    modality_pairs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.matched / self.labels if self.labels else 1.0

    @property
    def precision(self) -> float:
        return self.matching_rows / self.rows if self.rows else 0.0

    @property
    def passed(self) -> bool:
        return self.recall >= RECALL_TARGET and self.precision >= PRECISION_TARGET


def matches(label_tokens: Counter[str], lead: int, row_tokens: Counter[str]) -> float | None:
    """The coverage of the label by the row when the row matches it, else ``None``."""
    size = sum(label_tokens.values())
    if not size:
        return None
    common = sum((label_tokens & row_tokens).values())
    coverage = common / size
    if coverage < COVERAGE or sum(row_tokens.values()) > 2 * size + 12 + lead:
        return None
    return coverage


def score(document: str, labels: Sequence[Label], rows: Sequence[Row]) -> Score:
    """Match rows to labels one-to-one (greedy, best coverage first) and count the outcome."""
    label_tokens = [Counter(tokens(label.text)) for label in labels]
    lead_sizes = [len(tokens(label.lead_in)) for label in labels]
    row_tokens = [Counter(tokens(row.text)) for row in rows]
    pairs: list[tuple[float, int, int, int]] = []
    for li, lt in enumerate(label_tokens):
        for ri, rt in enumerate(row_tokens):
            coverage = matches(lt, lead_sizes[li], rt)
            if coverage is not None:
                gap = abs(sum(rt.values()) - sum(lt.values()))
                pairs.append((-coverage, gap, li, ri))
    pairs.sort()
    label_to_row: dict[int, int] = {}
    taken: set[int] = set()
    matching = {ri for _, _, _, ri in pairs}
    for _, _, li, ri in pairs:
        if li not in label_to_row and ri not in taken:
            label_to_row[li] = ri
            taken.add(ri)
    result = Score(
        document=document,
        labels=len(labels),
        rows=len(rows),
        matched=len(label_to_row),
        matching_rows=len(matching),
        duplicates=len(matching - taken),
        wrong_ids=0,
        modality_errors=0,
    )
    for li, label in enumerate(labels):
        found = label_to_row.get(li)
        if found is None:
            result.missed.append({"id": label.id, "modality": label.modality, "text": label.text})
            continue
        row = rows[found]
        if label.id and not id_carries(row.id, label.id):
            result.wrong_ids += 1
            result.wrong_id_pairs.append({"label": label.id, "row": row.id, "text": label.text})
        if row.modality != label.modality:
            result.modality_errors += 1
            result.modality_pairs.append(
                {"label": label.modality, "row": row.modality, "id": row.id, "text": label.text}
            )
    for ri, row in enumerate(rows):
        if ri not in matching:
            result.unmatched_rows.append({"id": row.id, "modality": row.modality, "text": row.text})
    return result


# --- the corpus ----------------------------------------------------------------------------------


@dataclass
class Document:
    """One corpus document: its file and its labels."""

    slug: str
    path: Path
    labels: list[Label]
    held_out: bool = False


def load_document(folder: Path) -> Document:
    """Read ``labels.json`` of one corpus folder; ``CorpusError`` when it is malformed."""
    labels_file = folder / "labels.json"
    try:
        data = json.loads(labels_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CorpusError(f"{labels_file}: cannot read the labels ({exc})") from exc
    path = folder / str(data.get("document", ""))
    if not data.get("document") or not path.is_file():
        raise CorpusError(f"{labels_file}: 'document' names no file in {folder}")
    labels: list[Label] = []
    for n, item in enumerate(data.get("requirements") or [], 1):
        if not isinstance(item, dict) or not str(item.get("text", "")).strip():
            raise CorpusError(f"{labels_file}: requirement {n} has no text")
        if item.get("modality") not in MODALITIES:
            raise CorpusError(
                f"{labels_file}: requirement {n} has modality {item.get('modality')!r}"
            )
        if not tokens(item["text"]):
            raise CorpusError(f"{labels_file}: requirement {n} has no words: {item['text']!r}")
        labels.append(
            Label(
                id=item.get("id") or None,
                section=str(item.get("section", "")),
                text=item["text"],
                modality=item["modality"],
                lead_in=str(item.get("lead_in", "")),
            )
        )
    if not labels:
        raise CorpusError(f"{labels_file}: no requirements")
    held_out = data.get("held_out", False)
    if not isinstance(held_out, bool):
        raise CorpusError(f"{labels_file}: 'held_out' must be true or false, not {held_out!r}")
    return Document(slug=folder.name, path=path, labels=labels, held_out=held_out)


def load_corpus(root: Path = CORPUS, only: Sequence[str] = ()) -> list[Document]:
    """Every labelled document under ``root`` (or the ``only`` slugs), sorted by slug."""
    folders = sorted(p.parent for p in root.glob("*/labels.json"))
    if only:
        unknown = sorted(set(only) - {f.name for f in folders})
        if unknown:
            raise CorpusError(f"no such corpus document: {', '.join(unknown)}")
        folders = [f for f in folders if f.name in only]
    if not folders:
        raise CorpusError(f"no labelled documents under {root}")
    return [load_document(f) for f in folders]


def unfound_labels(document: Document, text: str) -> list[Label]:
    """Labels whose words do not occur, in order and together, in the document's text.

    Link targets the reader keeps after a link's text (``text (https://...)``) are skipped. A
    deliverables-table label joins its name and due-date cells with `` - `` (LABELLING.md rule 3),
    and other cells (a format column) may stand between them: each joined part must occur.
    """
    text = re.sub(r"\(\s*https?://[^)\s]*\s*\)", " ", text)
    found = " " + " ".join(tokens(text)) + " "

    def occurs(part: str) -> bool:
        return f" {' '.join(tokens(part))} " in found

    return [
        lab
        for lab in document.labels
        if not occurs(lab.text) and not all(occurs(part) for part in lab.text.split(" - "))
    ]


def bundled_extractor() -> Callable[[Path], list[Row]]:
    """Read a document and extract its rows the way the bundled parser does."""
    from agentorch.discovery import builtin_module

    module = builtin_module("agents", "_extract")

    def run(path: Path) -> list[Row]:
        # the parser's find_requirements tool reads the file itself (tables, list levels, pages)
        found = module.extract_file(path)
        return [Row(id=r.id, text=r.text, modality=str(r.modality)) for r in found.requirements]

    return run


def evaluate(documents: Sequence[Document], extract: Callable[[Path], list[Row]]) -> list[Score]:
    """Score every document with the given extractor."""
    scores = []
    for doc in documents:
        result = score(doc.slug, doc.labels, extract(doc.path))
        result.held_out = doc.held_out
        scores.append(result)
    return scores


# --- reporting -----------------------------------------------------------------------------------


def table(scores: Sequence[Score]) -> list[str]:
    """The per-document results as a Markdown table."""
    lines = [
        "| document | labels | rows | recall | precision | duplicates | wrong ids | modality errors | verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]  # fmt: skip
    for s in scores:
        lines.append(
            f"| {s.document} | {s.labels} | {s.rows} | {s.recall:.1%} | {s.precision:.1%} |"
            f" {s.duplicates} | {s.wrong_ids} | {s.modality_errors} |"
            f" {'PASS' if s.passed else 'FAIL'}{' (held out)' if s.held_out else ''} |"
        )
    return lines


def misses(s: Score) -> list[str]:
    """What a developer of the extractor needs to see for one document."""
    out = [f"## {s.document}: {len(s.missed)} missed labels, {len(s.unmatched_rows)} stray rows"]
    out += [f"  missed [{m['id'] or '-'}] ({m['modality']}) {_clip(m['text'])}" for m in s.missed]
    out += [f"  stray  [{r['id']}] ({r['modality']}) {_clip(r['text'])}" for r in s.unmatched_rows]
    out += [f"  wrong id {w['row']} for {w['label']}: {_clip(w['text'])}" for w in s.wrong_id_pairs]
    out += [
        f"  modality {m['row']} for {m['label']} [{m['id']}]: {_clip(m['text'])}"
        for m in s.modality_pairs
    ]
    return out


def _clip(text: str, width: int = 110) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def markdown_block(scores: Sequence[Score]) -> str:
    """The BENCHMARKS.md section, between markers so the report generator keeps it."""
    lines = [
        BLOCK_START,
        "### Requirement extraction on real procurement documents (`python -m bench extraction`)",
        "",
        "Hand-labelled public-domain documents in `bench/corpus/` (guide and scoring rule in",
        "`bench/corpus/LABELLING.md`), shredded by the bundled parser's extractor. Targets per",
        f"document: recall >= {RECALL_TARGET:.0%}, precision >= {PRECISION_TARGET:.0%}. A document marked",
        "*held out* was never tuned on: it measures the extractor on an input nobody fitted it to and",
        "is reported, not held to the targets. Generated by",
        "`python -m bench extraction --write BENCHMARKS.md`.",
        "",
        *table(scores),
        BLOCK_END,
    ]
    return "\n".join(lines) + "\n"


def write_block(report: Path, block: str) -> None:
    """Replace the extraction section of a Markdown report, or add it among the standalone ones."""
    write_section(report, block, BLOCK_START, BLOCK_END)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench extraction",
        description="Score the bundled requirement extractor on the hand-labelled corpus.",
    )
    parser.add_argument("--corpus", default=str(CORPUS), help="the corpus folder")
    parser.add_argument("--only", action="append", default=[], metavar="SLUG", help="one document")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    parser.add_argument(
        "--show-misses", action="store_true", help="list missed labels and stray rows"
    )
    parser.add_argument("--write", metavar="REPORT", help="update this Markdown report's section")
    args = parser.parse_args(argv)
    try:
        documents = load_corpus(Path(args.corpus), args.only)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    scores = evaluate(documents, bundled_extractor())
    if args.json:
        payload = [
            {**asdict(s), "recall": s.recall, "precision": s.precision, "passed": s.passed}
            for s in scores
        ]
        if not args.show_misses:
            for item in payload:
                for key in ("missed", "unmatched_rows", "wrong_id_pairs", "modality_pairs"):
                    del item[key]
        print(json.dumps({"targets": {"recall": RECALL_TARGET, "precision": PRECISION_TARGET},
                          "documents": payload}, indent=2))  # fmt: skip
    else:
        print("\n".join(table(scores)))
        if args.show_misses:
            for s in scores:
                print("\n" + "\n".join(misses(s)))
    if args.write:
        write_block(Path(args.write), markdown_block(scores))
    tuned = [s for s in scores if not s.held_out]
    failed = [s.document for s in tuned if not s.passed]
    if not args.json:
        for s in scores:
            if s.held_out:
                print(
                    f"held out (never tuned on, reported only): {s.document} recall"
                    f" {s.recall:.1%}, precision {s.precision:.1%}",
                    file=sys.stderr,
                )
        if failed:
            print(f"\nFAIL: {len(failed)} of {len(tuned)} documents miss a target", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
