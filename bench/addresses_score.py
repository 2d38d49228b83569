"""``python -m bench addresses``: does the compliance matrix call only real answers "covered"?

Scores the matrix status of hand-labelled requirement/answer pairs (``bench/commitments/
addresses.jsonl``): an answer that is generic (on the topic, not on the specific ask) or about
another subject must not be "covered"; one that addresses the ask, in the requirement's words or
paraphrased, must be. Each pair's status is computed as the offline compliance reviewer computes
it: ``check_commitment``, then the matrix's status rule, then the distinctive-terms check with the
term counts of the pair's own document (its hand-labelled requirements). "before" is the status
without the distinctive-terms check, so the table shows what the check changes.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from bench._env import ROOT
from bench._pairs import PairsError, read_pairs
from bench._sections import write_section

PAIRS = ROOT / "bench" / "commitments" / "addresses.jsonl"
KINDS = ("specific", "generic", "off_topic")
SPLITS = ("tune", "heldout")
BLOCK_START, BLOCK_END = "<!-- addresses:start -->", "<!-- addresses:end -->"
#: Asserted in CI (tests/bench/test_addresses_score.py), on all pairs.
TARGET_RECALL = 0.9  # of the answers that do not address the ask, the share not called covered
TARGET_PRECISION = 0.9  # of the rows not called covered, the share that truly do not address it


@dataclass(frozen=True)
class Outcome:
    pair: dict[str, Any]
    before: str
    after: str
    note: str

    @property
    def expected_covered(self) -> bool:
        return self.pair["expected"] == "covered"


def load(path: Path = PAIRS) -> list[dict[str, Any]]:
    """The labelled pairs; a malformed line is a one-line ``PairsError``."""

    def check(pair: dict[str, Any]) -> str | None:
        if pair["kind"] not in KINDS or pair["split"] not in SPLITS:
            return "unknown kind or split"
        if pair["expected"] != ("covered" if pair["kind"] == "specific" else "not_covered"):
            return f"a {pair['kind']} answer cannot be that"
        return None

    required = {"split", "kind", "expected", "document", "requirement", "answer"}
    return read_pairs(path, required, check)


@cache
def document_texts(document: str) -> tuple[str, ...]:
    """The requirement texts of a corpus document (its labels), or of the example RFP's clauses."""
    if document == "examples/rfp":
        clause = re.compile(r"^\d+\.\d+ (.+)$")
        lines = (ROOT / "examples" / "rfp" / "rfp.md").read_text(encoding="utf-8").splitlines()
        return tuple(m.group(1) for line in lines if (m := clause.match(line)))
    labels = json.loads((ROOT / "bench" / "corpus" / document / "labels.json").read_text())
    return tuple(str(r["text"]) for r in labels["requirements"])


def run(pairs: list[dict[str, Any]]) -> list[Outcome]:
    from agentorch.discovery import builtin_module

    check = builtin_module("tools", "commitments").check
    matrix = builtin_module("agents", "_matrix")
    specific = builtin_module("agents", "_specific")
    types = builtin_module("agents", "_types")
    documents = {
        d: specific.DocumentTerms(document_texts(d)) for d in {p["document"] for p in pairs}
    }
    outcomes = []
    for pair in pairs:
        result = types.CommitmentCheck.model_validate(
            check(pair["requirement"], pair["answer"]).model_dump()
        )
        answer = types.DraftAnswer(
            requirement_id="R-1", text=pair["answer"], citations=["AA-001"], status="answered"
        )
        before, note = matrix.status_for("must", answer, result)
        weights = specific.key_terms(pair["requirement"], documents[pair["document"]])
        after, note = matrix.status_for("must", answer, result, pair["requirement"], weights)
        outcomes.append(Outcome(pair, before, after, note))
    return outcomes


def score(outcomes: list[Outcome], field: str) -> dict[str, Any]:
    """Recall and precision of "not covered" (the positive class), and accuracy per kind."""

    def flagged(o: Outcome) -> bool:
        return getattr(o, field) != "covered"

    tp = sum(1 for o in outcomes if not o.expected_covered and flagged(o))
    fp = sum(1 for o in outcomes if o.expected_covered and flagged(o))
    fn = sum(1 for o in outcomes if not o.expected_covered and not flagged(o))
    kinds = {}
    for kind in KINDS:
        of_kind = [o for o in outcomes if o.pair["kind"] == kind]
        right = sum(1 for o in of_kind if flagged(o) != o.expected_covered)
        kinds[kind] = {"pairs": len(of_kind), "right": right}
    return {
        "pairs": len(outcomes),
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "false_covered": fn,
        "false_alarms": fp,
        "kinds": kinds,
    }


def report(outcomes: list[Outcome]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name in ("all", *SPLITS):
        chosen = outcomes if name == "all" else [o for o in outcomes if o.pair["split"] == name]
        result[name] = {"before": score(chosen, "before"), "after": score(chosen, "after")}
    return result


def _table(result: dict[str, Any]) -> str:
    rows = [
        "| split | pairs | | not covered: recall | precision | generic right | off-topic right "
        "| specific kept covered |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in ("all", *SPLITS):
        for when in ("before", "after"):
            r = result[name][when]
            k = r["kinds"]
            rows.append(
                f"| {name} | {r['pairs']} | {when} | {r['recall']:.1%} | {r['precision']:.1%} | "
                + " | ".join(f"{k[x]['right']}/{k[x]['pairs']}" for x in ("generic", "off_topic"))
                + f" | {k['specific']['right']}/{k['specific']['pairs']} |"
            )
    return "\n".join(rows)


def _misses(outcomes: list[Outcome]) -> str:
    lines = []
    for o in outcomes:
        if (o.after != "covered") != o.expected_covered:
            continue
        lines.append(
            f"{o.pair['id']} [{o.pair['kind']}, {o.pair['split']}] expected {o.pair['expected']}, "
            f"got {o.after} ({o.pair['source']})\n  note: {o.note}"
        )
    return "\n".join(lines) if lines else "no misses"


def _verdict(result: dict[str, Any]) -> str:
    """Met or not, per split, against the targets (which CI asserts on all pairs only)."""
    lines = []
    for name in ("all", *SPLITS):
        r = result[name]["after"]
        short = [
            f"{what} {value:.1%} < {target:.0%}"
            for what, value, target in (
                ("recall", r["recall"], TARGET_RECALL),
                ("precision", r["precision"], TARGET_PRECISION),
            )
            if value < target
        ]
        lines.append(
            f"{name}: "
            + ("target met" if not short else "target missed (" + ", ".join(short) + ")")
        )
    return "Verdict: " + "; ".join(lines) + "."


def markdown_block(result: dict[str, Any]) -> str:
    return "\n".join(
        [
            BLOCK_START,
            '### Does "covered" mean the answer addresses the ask? (`python -m bench addresses`)',
            "",
            "The compliance matrix's status for hand-labelled requirement/answer pairs in",
            "`bench/commitments/addresses.jsonl`: requirements from the tune corpus and the example",
            "RFP (never the held-out document), answers from the example library that are *generic*",
            "(on the topic, not the specific ask: AES-256 in AWS KMS for a PIV-card key recovery",
            "requirement) or *off-topic*, and *specific* answers written to address the ask (some",
            "paraphrased). Positive class: *not covered*. `before` is the matrix without the",
            "distinctive-terms check (values and relevance only), `after` with it. `heldout` pairs",
            "were written with the rest, before the check existed, and never tuned against. Targets",
            f"(CI): recall and precision >= {TARGET_RECALL:.0%} on all pairs. Generated by",
            "`python -m bench addresses --write BENCHMARKS.md`. The first version of the check,",
            "before any tuning, scored recall 94.9% / precision 82.2% on all pairs (heldout 92.3% /",
            "92.3%). One heldout pair (now A046, generic training answer for CDC's SAT and records",
            "management training) was seen missed in that first score while the capitalised-name",
            "weight was written, so it moved to `tune`. A second batch of 25 pairs (B001-B025, all",
            "`heldout`: a new tune document of the extraction corpus and four others) was written",
            "after the check was tuned and scored once: generic and off-topic 12/12 not covered,",
            "specific 10/13 kept covered; its 3 false alarms are acronyms the requirement uses",
            "without defining them (GFP, MD) answered in full words, and a paraphrase of a",
            "meeting-minutes duty; they were read and fixed with general rules (acronyms either",
            "text uses undefined and the other spells out, US state codes, definitions written",
            '"AASBS (Assisted ...)", clause formulas), so that batch no longer counts as unseen.',
            "A third batch of 32 pairs (C001-C032, `heldout`, 16 requirements of six tune",
            "documents) was written before those rules and scored once after them: recall 100% /",
            "precision 88.9% (84.2% on the code before); its 2 false alarms, COR and COTR spelled",
            'out with "Officer\'s", showed the word splitter cut the possessive, which was then',
            "fixed. Known misses on `tune`: a generic answer that shares",
            'every word but not the phrase ("customer service training" vs security training that',
            "mentions the customer), and a value pairing the checker misses (24 hours to respond).",
            "",
            _table(result),
            "",
            _verdict(result),
            BLOCK_END,
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench addresses", description=__doc__)
    parser.add_argument("--pairs", default=str(PAIRS), help="the labelled set (JSON lines)")
    parser.add_argument("--show-misses", action="store_true", help="list every wrong status")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    parser.add_argument("--write", metavar="REPORT", help="update this Markdown report's section")
    args = parser.parse_args(argv)
    try:
        pairs = load(Path(args.pairs))
    except PairsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    outcomes = run(pairs)
    result = report(outcomes)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"compliance matrix status on {len(pairs)} labelled pairs (positive: not covered)\n")
    print(_table(result))
    if args.show_misses:
        print("\nMisses (after):\n")
        print(_misses(outcomes))
    if args.write:
        write_section(Path(args.write), markdown_block(result), BLOCK_START, BLOCK_END)
        print(f"\nwrote the addresses section of {args.write}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
