"""``python -m bench document-scaling``: the RFP workflow on 1x, 10x and 100x the example RFP.

The example RFP is enlarged by repeating its numbered sections with new numbers (section 2 of the
second copy is section 9, its clause 2.4 is 9.4), so every requirement keeps a unique id. Each
size runs the whole workflow in a fresh process on the real-model path (``engine="models"``), each
specialist's model being its deterministic offline model behind a recorder that counts every
request's input and every response's output with tiktoken: what a real model would be sent.
Reported: the largest single call (target: at most the 32,000-token context budget at 100x), the
output of the largest answer, the largest tool call's arguments (bytes, against the 1 MB limit),
CPU per requirement and wall time. A run is measured only when it is healthy: requirements found,
each one in the matrix, answers covered, the response and the bid review written whole.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench._env import ROOT

SIZES = (1, 10, 100)
TARGET_TOKENS = 32_000
START, END = "<!-- document-scaling:start -->", "<!-- document-scaling:end -->"
RFP = ROOT / "examples" / "rfp" / "rfp.md"
_SECTION = re.compile(r"^## (\d+)\. ", re.M)


def enlarge(text: str, times: int) -> str:
    """``text`` (an RFP whose sections are ``## N. Title`` with clauses ``N.M``) with its
    numbered sections repeated ``times`` times, renumbered so that every clause stays unique."""
    starts = [m.start() for m in _SECTION.finditer(text)]
    if not starts or times < 1:
        raise ValueError("enlarge needs an RFP with '## N. Title' sections and times >= 1")
    preamble, body = text[: starts[0]], text[starts[0] :]
    sections = [
        body[a - starts[0] : b - starts[0]]
        for a, b in zip(starts, [*starts[1:], len(text)], strict=True)
    ]
    count = len(sections)
    out = [preamble]
    for copy in range(times):
        for section in sections:
            number = int(_SECTION.match(section).group(1))  # type: ignore[union-attr]
            new = number + copy * count
            renumbered = re.sub(rf"(?m)^## {number}\. ", f"## {new}. ", section)
            out.append(re.sub(rf"(?m)^{number}\.(\d)", rf"{new}.\1", renumbered))
    return "".join(out)


def recording_agents(
    records: list[dict[str, Any]], flight: list[int] | None = None, latency: float = 0.0
) -> list[Any]:
    """The built-in specialists on their offline models, each behind a token-counting recorder;
    ``flight`` gets the model calls in flight now and the most there were at once. ``latency``
    (seconds) makes each call wait as a provider's would (the offline models answer at once, so
    without it no two calls are ever in flight together)."""
    import asyncio

    from agentorch.budget.tokens import count_request, count_text, output_text
    from agentorch.discovery import builtin_agents
    from agentorch.documents.chunks import ENCODING
    from agentorch.models.wrappers import WrapperModel

    gauge = flight if flight is not None else [0, 0]

    class Recorder(WrapperModel):
        async def request(self, request: Any) -> Any:
            gauge[0] += 1
            gauge[1] = max(gauge[1], gauge[0])
            try:
                if latency:
                    await asyncio.sleep(latency)
                response = await self.wrapped.request(request)
            finally:
                gauge[0] -= 1
            records.append(
                {
                    "model": self.name,
                    "input": count_request(request, ENCODING),
                    "output": count_text(output_text(response.text, response.tool_calls), ENCODING),
                }
            )
            return response

    agents = builtin_agents()
    for agent in agents:
        offline = agent.offline_model()
        if offline is not None:
            agent.model = Recorder(offline)
    return agents


def run_size(
    times: int,
    context_tokens: int = TARGET_TOKENS,
    concurrency: int | None = 16,
    latency: float = 0.0,
) -> dict[str, Any]:
    """Run the workflow once on the RFP enlarged ``times`` times, at most ``concurrency`` steps
    at once (``None``: no limit), each model call taking ``latency`` s; its calls, CPU, health."""
    import asyncio
    import time

    from agentorch import Budget
    from agentorch.approvals import ApproveAll
    from agentorch.events.types import StepFinished, StepStarted, ToolCallStarted
    from agentorch.limits import Limits
    from agentorch.workflow import load_workflow

    workflow = load_workflow(ROOT / "examples" / "rfp")
    workflow.limits = Limits(max_concurrent_steps=concurrency)
    records: list[dict[str, Any]] = []
    flight = [0, 0]
    tool_bytes = [0]

    steps: set[str] = set()
    peak_steps = [0]

    def tool_call(event: Any) -> None:
        if isinstance(event, StepStarted):
            steps.add(event.step_id)
            peak_steps[0] = max(peak_steps[0], len(steps))
        elif isinstance(event, StepFinished):
            steps.discard(event.step_id)
        if isinstance(event, ToolCallStarted):
            size = len(json.dumps(event.arguments, ensure_ascii=False).encode("utf-8"))
            tool_bytes[0] = max(tool_bytes[0], size)

    with tempfile.TemporaryDirectory() as tmp:
        rfp = Path(tmp) / "rfp.md"
        rfp.write_text(enlarge(RFP.read_text(encoding="utf-8"), times), encoding="utf-8")
        workflow.agents = recording_agents(records, flight, latency)
        state = {
            "output_dir": str(Path(tmp) / "out"),
            "outbox_dir": str(Path(tmp) / "outbox"),
            "cache_dir": str(Path(tmp) / "cache"),
            "context_tokens": context_tokens,
        }
        wall, cpu = time.perf_counter(), time.process_time()
        result = asyncio.run(
            workflow.run(
                files=[rfp],
                state=state,
                engine="models",
                approver=ApproveAll(),
                budget=Budget(tokens=10_000_000_000),
                on_event=tool_call,
            )
        )
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        document = result.steps["edit"].output if "edit" in result.steps else None
        health = _health(result, document)
    requirements = int(getattr(document, "requirements", 0) or 0)
    return {
        "times": times,
        "requirements": requirements,
        "steps": len(result.steps),
        "calls": len(records),
        "largest_input": max((r["input"] for r in records), default=0),
        "largest_output": max((r["output"] for r in records), default=0),
        "largest_by": max(records, key=lambda r: r["input"])["model"] if records else "",
        "largest_tool_bytes": tool_bytes[0],
        "largest_per_model": {
            m: max(r["input"] for r in records if r["model"] == m)
            for m in sorted({r["model"] for r in records})
        },
        "cpu_s": cpu,
        "wall_s": wall,
        "concurrency": concurrency,
        "latency": latency,
        "peak_calls": flight[1],
        "peak_steps": peak_steps[0],
        "cpu_ms_per_requirement": 1000 * cpu / max(requirements, 1),
        **health,
    }


def _health(result: Any, document: Any) -> dict[str, Any]:
    """Refuse to report a broken run: requirements found, all in the matrix, answers covered,
    the response and the bid review on disk (the response as the editor rendered it)."""
    if document is None or not getattr(document, "written", False):
        causes = Counter(
            re.sub(r"\d+", "N", (step.error or "")[:300])
            for step in result.steps.values()
            if step.error
        )
        raise AssertionError(
            f"the response was not written: {result.status} {result.error}; step errors: "
            + "; ".join(f"{n} x {why}" for why, n in causes.most_common(5))
        )
    found = int(document.requirements)
    covered = int(document.covered) + int(document.partial)
    in_matrix = found == sum(
        int(getattr(document, s)) for s in ("covered", "partial", "conflict", "missing")
    )
    if found == 0 or not in_matrix or covered == 0:
        raise AssertionError(f"unhealthy run: {found} requirements, {covered} answered")
    if not document.review_path:
        raise AssertionError(f"the bid review was not written: {document.note}")
    response = Path(document.path).read_text(encoding="utf-8")
    review = Path(document.review_path).read_text(encoding="utf-8")
    matrix = review.split("## Compliance matrix", 1)[-1].split("## Open issues", 1)[0]
    rows = len(re.findall(r"^\| R-", matrix, re.M))
    if response != document.markdown or response.count("\n### R-") != covered or rows != found:
        raise AssertionError(
            f"documents not whole: {response.count(chr(10) + '### R-')} of {covered} answers in "
            f"the response, {rows} of {found} matrix rows in the bid review"
        )
    return {"covered": int(document.covered), "answered": covered, "status": result.status}


def _child(times: int, context_tokens: int, concurrency: str, latency: float) -> dict[str, Any]:
    import os

    load = os.getloadavg()[0]
    out = subprocess.run(
        [sys.executable, "-m", "bench.document_scaling", "--one", str(times),
         "--context-tokens", str(context_tokens), "--max-concurrent-steps", concurrency,
         "--latency", str(latency)],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"{times}x failed:\n{out.stderr[-3000:]}")
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "load": load}


def section(rows: list[dict[str, Any]], load: str, context_tokens: int) -> str:
    """The BENCHMARKS.md section for these results."""
    top = rows[-1]
    verdict = "met" if top["largest_input"] <= context_tokens else "NOT met"
    top_tool = max(r["largest_tool_bytes"] for r in rows)
    tool_verdict = "met" if top_tool <= 1_000_000 else "NOT met"
    lines = [
        START,
        "### Document size: bounded model calls (`python -m bench document-scaling`)",
        "",
        f"The example RFP enlarged {', '.join(str(r['times']) + 'x' for r in rows)} (sections repeated and renumbered), run on the "
        'real-model path (`engine="models"`) with each specialist\'s deterministic model behind a '
        "recorder that counts every request and answer with tiktoken (o200k), one fresh process "
        "per size. Every run is checked healthy before it is reported (requirements found, each "
        "in the matrix, answers covered, the response and bid review written whole). Before the work was split per "
        "document part, the editor's one call read 198k tokens at 10x and 1.94M at 100x, and the "
        f"parser's answer hit its 16,384-token cap at 10x. Generated by `python -m bench "
        f"document-scaling --write BENCHMARKS.md`. {load}",
        "",
        "| Size | Requirements | Steps | Model calls | Largest call in (tokens) | Largest answer "
        "out | Largest tool call | Steps at once (peak) | CPU per requirement | Wall | Load at "
        "start |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['times']}x | {r['requirements']:,} | {r['steps']:,} | {r['calls']:,} | "
        f"{r['largest_input']:,} ({r['largest_by']}) | {r['largest_output']:,} | "
        f"{r['largest_tool_bytes'] / 1000:,.0f} KB | {r['peak_steps']:,} | "
        f"{r['cpu_ms_per_requirement']:.1f} ms | {r['wall_s']:.1f} s | {r['load']:.1f} |"
        for r in rows
    ]
    lines += [
        "",
        f"Target: no call reads more than the {context_tokens:,}-token context budget at "
        f"{top['times']}x: **{verdict}** (largest {top['largest_input']:,}). No tool call carries "
        f"more than the 1 MB tool-argument limit: **{tool_verdict}** (largest "
        f"{top_tool / 1000:,.0f} KB: the response and the bid review are written in parts). CPU "
        "is the whole run's in one process (the offline specialists' own work included: answer "
        "search, commitment checks); wall time grows with the machine's load (1-minute load "
        "average of the 2-core machine at each size's start). Steps at once is the most steps "
        f"running at any moment, {_limit(rows)} (`Limits.max_concurrent_steps`; a step has at "
        "most one model call in flight).",
        END,
    ]
    return "\n".join(lines) + "\n"


def _limit(rows: list[dict[str, Any]]) -> str:
    limits = sorted({str(r.get("concurrency")) for r in rows})
    if limits == ["None"]:
        return "with no limit on the steps running at once"
    return f"against the run's limit of {' / '.join(limits)} steps at once"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench document-scaling", description=__doc__)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="e.g. 1,10,100")
    parser.add_argument("--context-tokens", type=int, default=TARGET_TOKENS)
    parser.add_argument("--write", metavar="FILE", help="replace the section in FILE")
    parser.add_argument(
        "--max-concurrent-steps",
        default="16",
        metavar="N",
        help="steps at once (the runtime's default, 16); 'none': every ready step at once",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="S",
        help="seconds each model call takes, as a provider's would (default 0: the offline "
        "models answer at once); prints the most calls in flight",
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    limit = args.max_concurrent_steps
    if args.one is not None:
        concurrency = None if limit == "none" else int(limit)
        print(json.dumps(run_size(args.one, args.context_tokens, concurrency, args.latency)))
        return 0
    import os

    start = os.getloadavg()[0]
    rows = [_child(int(x), args.context_tokens, limit, args.latency) for x in args.sizes.split(",")]
    if args.latency:
        for r in rows:
            print(f"{r['times']}x: at most {r['peak_calls']} model calls in flight at once")
    load = f"Load average (1 min) at the start: {start:.2f}, at the end: {os.getloadavg()[0]:.2f}."
    text = section(rows, load, args.context_tokens)
    print(text)
    if args.write:
        from bench._sections import write_section

        write_section(Path(args.write), text, START, END)
    return 0 if rows[-1]["largest_input"] <= args.context_tokens else 1


if __name__ == "__main__":
    raise SystemExit(main())
