"""``python -m bench commitments``: how well ``check_commitment`` flags answers that fall short.

Scores the checker on the hand-labelled requirement/answer pairs in ``bench/commitments/``: the
precision and recall of the positive class "conflicts or falls_short" (the answers a bid team must
not call covered), per split ("tune": pairs the extractor was tuned on; "heldout": pairs written
before tuning and never tuned against), a confusion table of expected against predicted verdicts,
and with ``--show-misses`` every pair whose verdict differs from its label.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._env import ROOT
from bench._pairs import PairsError, read_pairs
from bench._sections import write_section

PAIRS = ROOT / "bench" / "commitments" / "pairs.jsonl"
VERDICTS = ("meets", "falls_short", "conflicts", "not_stated", "cannot_tell")
POSITIVE = frozenset({"conflicts", "falls_short"})
SPLITS = ("tune", "heldout")
BLOCK_START, BLOCK_END = "<!-- commitments:start -->", "<!-- commitments:end -->"
#: The issue's target, asserted in CI (tests/bench/test_commitments_score.py).
TARGET_PRECISION = 0.95
TARGET_RECALL = 0.95


@dataclass(frozen=True)
class Outcome:
    pair: dict[str, Any]
    predicted: str
    summary: str

    @property
    def expected(self) -> str:
        return str(self.pair["expected"])


def load(path: Path = PAIRS) -> list[dict[str, Any]]:
    """The labelled pairs; a malformed line is a one-line ``PairsError``."""

    def check(pair: dict[str, Any]) -> str | None:
        if pair["expected"] not in VERDICTS:
            return f"unknown verdict {pair['expected']!r}"
        if pair["split"] not in SPLITS:
            return f"split must be one of {', '.join(SPLITS)}"
        return None

    return read_pairs(path, {"split", "kind", "expected", "requirement", "answer"}, check)


def checker() -> Any:
    """The bundled ``commitments`` module, loaded the way the runtime loads bundled tools."""
    from agentorch.discovery import builtin_module

    return builtin_module("tools", "commitments")


def run(pairs: list[dict[str, Any]]) -> list[Outcome]:
    check = checker().check
    outcomes = []
    for pair in pairs:
        result = check(pair["requirement"], pair["answer"])
        outcomes.append(Outcome(pair, result.verdict, result.summary))
    return outcomes


def score(outcomes: list[Outcome]) -> dict[str, Any]:
    """Precision, recall and exact-verdict accuracy of a set of outcomes, with the confusion."""
    tp = sum(1 for o in outcomes if o.expected in POSITIVE and o.predicted in POSITIVE)
    fp = sum(1 for o in outcomes if o.expected not in POSITIVE and o.predicted in POSITIVE)
    fn = sum(1 for o in outcomes if o.expected in POSITIVE and o.predicted not in POSITIVE)
    confusion = Counter((o.expected, o.predicted) for o in outcomes)
    return {
        "pairs": len(outcomes),
        "positives": tp + fn,
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "exact": sum(1 for o in outcomes if o.expected == o.predicted) / len(outcomes)
        if outcomes
        else 1.0,
        "confusion": {e: {p: confusion[(e, p)] for p in VERDICTS} for e in VERDICTS},
    }


def report(outcomes: list[Outcome]) -> dict[str, Any]:
    by_split = {s: score([o for o in outcomes if o.pair["split"] == s]) for s in SPLITS}
    return {"all": score(outcomes), **by_split}


def _table(result: dict[str, Any]) -> str:
    rows = [
        "| split | pairs | positives | precision | recall | exact verdict |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in ("all", *SPLITS):
        r = result[name]
        rows.append(
            f"| {name} | {r['pairs']} | {r['positives']} | {r['precision']:.1%} | "
            f"{r['recall']:.1%} | {r['exact']:.1%} |"
        )
    return "\n".join(rows)


def _confusion(result: dict[str, Any]) -> str:
    short = {v: v.replace("_", " ") for v in VERDICTS}
    rows = [
        "| expected \\ predicted | " + " | ".join(short[v] for v in VERDICTS) + " |",
        "| --- |" + " ---: |" * len(VERDICTS),
    ]
    for e in VERDICTS:
        cells = result["all"]["confusion"][e]
        rows.append(f"| {short[e]} | " + " | ".join(str(cells[p]) for p in VERDICTS) + " |")
    return "\n".join(rows)


def _misses(outcomes: list[Outcome]) -> str:
    lines = []
    for o in outcomes:
        if o.expected == o.predicted:
            continue
        flag = ""
        if o.expected in POSITIVE and o.predicted not in POSITIVE:
            flag = "MISSED "
        elif o.expected not in POSITIVE and o.predicted in POSITIVE:
            flag = "FALSE ALARM "
        lines.append(
            f"{flag}{o.pair['id']} [{o.pair['kind']}] expected {o.expected}, got {o.predicted}\n"
            f"  requirement: {_clip(o.pair['requirement'])}\n"
            f"  answer:      {_clip(o.pair['answer'])}\n"
            f"  checker:     {o.summary}"
        )
    return "\n".join(lines) if lines else "no misses"


def _clip(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def markdown_block(result: dict[str, Any]) -> str:
    """The BENCHMARKS.md section: what is measured, the scores per split, the confusion."""
    return "\n".join(
        [
            BLOCK_START,
            "### Commitment checking on labelled requirement/answer pairs"
            " (`python -m bench commitments`)",
            "",
            "`check_commitment` on the hand-written pairs in `bench/commitments/pairs.jsonl`: every",
            "trap of `examples/rfp` plus realistic RFP language across all constraint kinds",
            "(paraphrases, numbers in words, meets, not stated, irrelevant answers). Positive class:",
            "the answer *conflicts* or *falls short* (what must never be called covered). `tune`",
            "pairs were used to tune the extractor; `heldout` pairs were written before tuning and",
            "never tuned against. Targets: precision and recall >= 95% on all pairs (asserted in",
            "CI). Generated by `python -m bench commitments --write BENCHMARKS.md`. The first",
            "version, before any tuning on these pairs, scored precision 96.1% / recall 73.1% on",
            "`tune` and 84.6% / 66.7% on `heldout`; a second batch of 24 `tune` pairs, written after",
            "the first round of tuning, scored 97.3% / 96.0% before it was tuned on, and a third",
            "batch of 20 (UK and Australian wording) 100% / 83.3%.",
            "",
            _table(result),
            "",
            "Confusion of verdicts, all pairs:",
            "",
            _confusion(result),
            BLOCK_END,
            "",
        ]
    )


def write_block(report: Path, block: str) -> None:
    """Replace this measure's section of a Markdown report, or add it among the standalone ones."""
    write_section(report, block, BLOCK_START, BLOCK_END)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench commitments", description=__doc__)
    parser.add_argument("--pairs", default=str(PAIRS), help="the labelled set (JSON lines)")
    parser.add_argument("--split", choices=(*SPLITS, "all"), default="all", help="pairs to show")
    parser.add_argument("--show-misses", action="store_true", help="list every wrong verdict")
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
    shown = (
        outcomes if args.split == "all" else [o for o in outcomes if o.pair["split"] == args.split]
    )
    if args.json:
        result["misses"] = [
            {"id": o.pair["id"], "expected": o.expected, "predicted": o.predicted}
            for o in shown
            if o.expected != o.predicted
        ]
        print(json.dumps(result, indent=2))
        return 0
    positive = " or ".join(sorted(POSITIVE))
    print(f"check_commitment on {len(pairs)} labelled pairs (positive class: {positive})\n")
    print(_table(result))
    print("\nConfusion (all pairs):\n")
    print(_confusion(result))
    if args.show_misses:
        print("\nMisses:\n")
        print(_misses(shown))
    if args.write:
        write_block(Path(args.write), markdown_block(result))
        print(f"\nwrote the commitments section of {args.write}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
