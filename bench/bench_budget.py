"""Micro-benchmark of the budget: the cost of a reserve+settle pair, and token-counting speed.

Run it as ``python bench/bench_budget.py [--quick]``; a harness imports ``run(quick) -> dict``.
Offline: prices come from litellm's bundled map, encodings from its bundled tiktoken files.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

from agentorch.budget import Budget
from agentorch.budget.tokens import count_request, count_text, get_encoding
from agentorch.models.types import ModelRequest, ModelSettings, SystemMessage, Usage, UserMessage

MODEL_ID, PRICE_KEY, ENCODING = "openai:gpt-4.1-mini", "gpt-4.1-mini", "o200k_base"
PROMPT_TOKENS = 10_000

_VOCABULARY = (
    "the supervisor plans each step and delegates it to a specialist agent that drafts reviews "
    "prices checks compliance with policy clause section requirement vendor shall provide "
    "support uptime 99.9% invoice net-30 SKU-1042 data residency EU GDPR audit log approval "
    "budget tokens dollars résumé naïve café 東京 🚀 def main(): return {'ok': True}"
)
_WORDS = _VOCABULARY.split()


def make_prompt(n_tokens: int = PROMPT_TOKENS, seed: int = 7) -> str:
    """A varied English/code/Unicode text of exactly ``n_tokens`` o200k tokens."""
    rng = random.Random(seed)
    enc = get_encoding(ENCODING)
    assert enc is not None, "o200k_base is not available offline"
    words = [rng.choice(_WORDS) for _ in range(n_tokens)]
    tokens = enc.encode(" ".join(words), disallowed_special=())
    return enc.decode(tokens[:n_tokens])


def _median_us(samples_ns: list[int]) -> float:
    return statistics.median(samples_ns) / 1000


def bench_reserve_settle(iterations: int, *, count: bool = False) -> dict[str, float]:
    """Time reserve+settle pairs; with ``count`` the reserve also counts a short prompt."""
    budget = Budget(usd=1e9, tokens=10**15, per_agent={"writer": 1e8})
    request = ModelRequest(
        messages=(
            SystemMessage(content="You are a writer."),
            UserMessage(content="Draft the executive summary for the RFP response."),
        ),
        settings=ModelSettings(max_tokens=1024),
    )
    # what a provider bills stays within the reservation (a counted prompt here is ~30 tokens)
    usage = (
        Usage(input_tokens=25, output_tokens=300, requests=1)
        if count
        else Usage(input_tokens=1200, cached_input_tokens=200, output_tokens=300, requests=1)
    )
    precounted = None if count else 1200
    samples: list[int] = []
    perf = time.perf_counter_ns
    for i in range(iterations + iterations // 10):  # the first tenth warms up
        t0 = perf()
        res = budget.reserve(
            agent="writer",
            model_id=MODEL_ID,
            price_key=PRICE_KEY,
            encoding=ENCODING,
            request=request,
            step_id="s1",
            prompt_tokens=precounted,
        )
        budget.settle(res, usage)
        t1 = perf()
        if i >= iterations // 10:
            samples.append(t1 - t0)
    samples.sort()
    return {
        "median_us": _median_us(samples),
        "p90_us": samples[int(len(samples) * 0.9)] / 1000,
        "iterations": float(iterations),
    }


def bench_counting(repeats: int) -> dict[str, float]:
    """tiktoken throughput on a 10,000-token prompt (text alone, and as a whole request)."""
    text = make_prompt()
    request = ModelRequest(messages=(UserMessage(content=text),))
    assert count_text(text, ENCODING) == PROMPT_TOKENS
    text_ns: list[int] = []
    request_ns: list[int] = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        count_text(text, ENCODING)
        t1 = time.perf_counter_ns()
        count_request(request, ENCODING)
        t2 = time.perf_counter_ns()
        text_ns.append(t1 - t0)
        request_ns.append(t2 - t1)
    text_s = statistics.median(text_ns) / 1e9
    request_s = statistics.median(request_ns) / 1e9
    return {
        "prompt_tokens": float(PROMPT_TOKENS),
        "count_text_ms": text_s * 1000,
        "count_text_tokens_per_s": PROMPT_TOKENS / text_s,
        "count_request_ms": request_s * 1000,
        "count_request_tokens_per_s": PROMPT_TOKENS / request_s,
    }


def run(quick: bool = False) -> dict[str, Any]:
    """Run every measurement and return the results (times in µs/ms, rates per second)."""
    iterations = 2_000 if quick else 20_000
    repeats = 5 if quick else 30
    precounted = bench_reserve_settle(iterations)
    counted = bench_reserve_settle(iterations // 4, count=True)
    counting = bench_counting(repeats)
    return {
        "reserve_settle_us": precounted["median_us"],
        "reserve_settle_p90_us": precounted["p90_us"],
        "reserve_settle_with_counting_us": counted["median_us"],
        "count_text_tokens_per_s": counting["count_text_tokens_per_s"],
        "count_text_ms_10k": counting["count_text_ms"],
        "count_request_tokens_per_s": counting["count_request_tokens_per_s"],
        "count_request_ms_10k": counting["count_request_ms"],
        "iterations": iterations,
        "quick": quick,
    }


def _print_table(results: dict[str, Any]) -> None:
    rows = [
        ("reserve + settle (precounted), median", f"{results['reserve_settle_us']:.1f} µs"),
        ("reserve + settle (precounted), p90", f"{results['reserve_settle_p90_us']:.1f} µs"),
        (
            "reserve + settle, counting a short prompt",
            (f"{results['reserve_settle_with_counting_us']:.1f} µs"),
        ),
        (
            "count_text, 10k-token prompt",
            (
                f"{results['count_text_ms_10k']:.2f} ms  "
                f"({results['count_text_tokens_per_s']:,.0f} tokens/s)"
            ),
        ),
        (
            "count_request, 10k-token prompt",
            (
                f"{results['count_request_ms_10k']:.2f} ms  "
                f"({results['count_request_tokens_per_s']:,.0f} tokens/s)"
            ),
        ),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"agentorch budget micro-benchmark ({'quick' if results['quick'] else 'full'})")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    _print_table(run(quick=parser.parse_args().quick))
