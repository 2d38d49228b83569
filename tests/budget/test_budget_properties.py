"""Property tests: whatever the agent tree, prompt sizes and interleaving, spending stays in budget.

A test-side shadow ledger (built only from public ``Reservation`` and ``Usage`` values) checks each
granted reservation really fitted when it was granted, and each refusal really did not.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction

from _budget_helpers import request
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from agentorch.budget import AgentCap, Budget, Price, PriceTable
from agentorch.errors import BudgetExceeded
from agentorch.events.types import BudgetWarning
from agentorch.models.types import Usage

PRICES = {
    "openai:cheap": Price(1.5e-7, 6e-7, cached_input=7.5e-8),
    "openai:mid": Price(2.5e-6, 1e-5, cached_input=1.25e-6),
    "anthropic:dear": Price(3e-6, 1.5e-5, cached_input=3e-7, cache_write=3.75e-6),
    "scripted:free": Price(0.0, 0.0),
}
MODELS = sorted(PRICES)
TABLE = PriceTable(PRICES, use_litellm=False)
AGENTS = ["supervisor", "parser", "writer", "compliance", "critic", "editor", "researcher"]
TOL = Fraction(1, 10**12)  # dollars: float noise in the test's own sums, far below a real cost

PROP = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass
class Call:
    prompt: int
    max_tokens: int
    model: str
    candidates: tuple[str, ...]
    input_frac: float
    output_frac: float
    cached_frac: float
    write_frac: float
    shape: str
    release: bool
    yields: int


@dataclass
class Node:
    name: str
    calls: list[Call]
    children: list[Node] = field(default_factory=list)


fractions = st.floats(0, 1)
calls = st.builds(
    Call,
    prompt=st.integers(0, 6000),
    max_tokens=st.integers(1, 8000),
    model=st.sampled_from(MODELS),
    candidates=st.lists(st.sampled_from(MODELS), max_size=2).map(tuple),
    input_frac=fractions,
    output_frac=fractions,
    cached_frac=fractions,
    write_frac=fractions,
    shape=st.sampled_from(["all_write", "all_cached", "all_plain", "random"]),
    release=st.integers(0, 3).map(lambda n: n == 0),
    yields=st.integers(0, 3),
)
leaves = st.builds(Node, name=st.sampled_from(AGENTS[1:]), calls=st.lists(calls, max_size=4))
trees = st.recursive(
    leaves,
    lambda kids: st.builds(
        Node,
        name=st.sampled_from(AGENTS[1:]),
        calls=st.lists(calls, max_size=4),
        children=st.lists(kids, max_size=3),
    ),
    max_leaves=10,
).map(lambda root: Node("supervisor", root.calls, [*root.children, root]))
caps = st.one_of(
    st.floats(0, 0.05),
    st.builds(
        AgentCap,
        usd=st.one_of(st.none(), st.floats(0, 0.05)),
        tokens=st.one_of(st.none(), st.integers(0, 30_000)),
    ),
)
budgets = st.fixed_dictionaries(
    {
        "usd": st.one_of(st.none(), st.floats(0, 0.15)),
        "tokens": st.one_of(st.none(), st.integers(0, 80_000)),
        "per_agent": st.dictionaries(st.sampled_from(AGENTS), caps, max_size=3),
        "min_output_tokens": st.integers(1, 600),
        "warn_at": st.floats(0.05, 1.0),
    }
)


class Shadow:
    """The test's own ledger of what is committed (open reservations + settled spend)."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.usd: Counter[str] = Counter()  # scope -> Fraction dollars committed
        self.tokens: Counter[str] = Counter()
        self.granted = 0
        self.refused = 0
        self.lowered = 0

    def scopes(self, agent: str) -> list[tuple[str, float | None, int | None]]:
        out = [("run", self.budget.limit_usd, self.budget.limit_tokens)]
        cap = self.budget.per_agent.get(agent)
        if cap is not None:
            out.append((f"agent:{agent}", cap.usd, cap.tokens))
        return out

    def left(self, scope: str, usd: float | None, tokens: int | None):
        left_usd = None if usd is None else Fraction(usd) - self.usd[scope]
        left_tokens = None if tokens is None else tokens - self.tokens[scope]
        return left_usd, left_tokens

    def commit(self, agent: str, usd: float, tokens: int, sign: int = 1) -> None:
        for scope, _, _ in self.scopes(agent):
            self.usd[scope] += sign * Fraction(usd)
            self.tokens[scope] += sign * tokens


def worst_cost(call: Call, output: int) -> Fraction:
    costs = []
    for model in (call.model, *call.candidates):
        p = PRICES[model]
        worst_in = max(p.input, p.cached_input or 0, p.cache_write or 0)
        costs.append(Fraction(worst_in) * call.prompt + Fraction(p.output) * output)
    return max(costs)


def attempt(budget: Budget, shadow: Shadow, agent: str, call: Call, step: str):
    """Reserve one call and check the grant or refusal against the shadow ledger."""
    before = {s: shadow.left(s, u, t) for s, u, t in shadow.scopes(agent)}
    try:
        res = budget.reserve(
            agent=agent,
            model_id=call.model,
            price_key=call.model.partition(":")[2],
            encoding="o200k_base",
            request=request(call.max_tokens),
            step_id=step,
            candidates=[(m, m.partition(":")[2]) for m in call.candidates],
            prompt_tokens=call.prompt,
        )
    except BudgetExceeded as exc:
        shadow.refused += 1
        smallest = min(call.max_tokens, budget.min_output_tokens)
        left_usd, left_tokens = before[exc.scope]
        too_many_tokens = left_tokens is not None and call.prompt + smallest > left_tokens
        too_dear = left_usd is not None and worst_cost(call, smallest) > left_usd - TOL
        assert too_many_tokens or too_dear, f"refused a call that fitted in {exc.scope}"
        return None
    shadow.granted += 1
    if res.lowered:
        shadow.lowered += 1
    assert res.max_tokens <= call.max_tokens
    assert res.max_tokens >= min(call.max_tokens, budget.min_output_tokens)
    assert res.tokens == call.prompt + res.max_tokens
    for scope, (left_usd, left_tokens) in before.items():
        assert left_tokens is None or res.tokens <= left_tokens, f"{scope}: tokens did not fit"
        assert left_usd is None or Fraction(res.usd) <= left_usd + TOL, f"{scope}: $ did not fit"
    shadow.commit(agent, res.usd, res.tokens)
    return res


def finish(budget: Budget, shadow: Shadow, res, call: Call, rng: random.Random) -> None:
    shadow.commit(res.agent, res.usd, res.tokens, -1)
    if call.release:
        budget.release(res)
        return
    answered = rng.choice((call.model, *call.candidates))
    if call.shape == "random":
        inp = int(call.prompt * call.input_frac)
        cached = int(inp * call.cached_frac)
        write = int((inp - cached) * call.write_frac)
        out = int(res.max_tokens * call.output_frac)
    else:  # the worst cases: the whole reservation used, input all plain, cached or written
        inp, out = call.prompt, res.max_tokens
        cached = inp if call.shape == "all_cached" else 0
        write = inp if call.shape == "all_write" else 0
    usage = Usage(
        input_tokens=inp,
        output_tokens=out,
        cached_input_tokens=cached,
        cache_write_tokens=write,
        requests=1,
    )
    settled = budget.settle(res, usage, model_id=answered, price_key=answered.partition(":")[2])
    assert settled.cost_usd <= res.usd
    shadow.commit(res.agent, settled.cost_usd, settled.total_tokens)


def check_final(budget: Budget, limits: dict, events: list) -> None:
    assert budget.open_reservations == 0
    assert budget.reserved_tokens == 0 and budget.reserved_usd == 0
    if limits["usd"] is not None:
        assert budget.spent_usd <= limits["usd"]
    if limits["tokens"] is not None:
        assert budget.spent_tokens <= limits["tokens"]
    report = budget.report()
    for agent, cap in budget.per_agent.items():
        spent = report.by_agent.get(agent)
        if spent is None:
            continue
        assert cap.usd is None or spent.cost_usd <= cap.usd
        assert cap.tokens is None or spent.total_tokens <= cap.tokens
    assert report.total.total_tokens == budget.spent_tokens
    assert sum(u.total_tokens for u in report.by_agent.values()) == budget.spent_tokens
    warned = [e.scope for e in events if isinstance(e, BudgetWarning)]
    assert len(warned) == len(set(warned)), "a scope warned twice"


def make_budget(limits: dict, events: list) -> Budget:
    budget = Budget(**limits, prices=TABLE)
    budget.on_event = events.append
    return budget


@PROP
@given(tree=trees, limits=budgets, seed=st.integers(0, 2**16))
def test_asyncio_tree_never_exceeds_budget(tree: Node, limits: dict, seed: int) -> None:
    rng = random.Random(seed)
    events: list = []
    budget = make_budget(limits, events)
    shadow = Shadow(budget)

    async def run(node: Node, path: str) -> None:
        async def own_calls() -> None:
            for i, call in enumerate(node.calls):
                res = attempt(budget, shadow, node.name, call, f"{path}.{i}")
                for _ in range(call.yields):
                    await asyncio.sleep(0)
                if res is not None:
                    finish(budget, shadow, res, call, rng)

        children = [run(kid, f"{path}/{k}") for k, kid in enumerate(node.children)]
        await asyncio.gather(own_calls(), *children)

    asyncio.run(run(tree, "root"))
    event(f"some refused: {shadow.refused > 0}")
    event(f"some lowered: {shadow.lowered > 0}")
    event(f"some granted: {shadow.granted > 0}")
    check_final(budget, limits, events)
    assert budget.spent_tokens == shadow.tokens["run"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    limits=budgets,
    n_threads=st.integers(2, 8),
    calls_per_thread=st.integers(5, 40),
    seed=st.integers(0, 2**16),
)
def test_threads_never_exceed_budget(
    limits: dict, n_threads: int, calls_per_thread: int, seed: int
) -> None:
    events: list = []
    budget = make_budget(limits, events)
    barrier = threading.Barrier(n_threads)
    settled_tokens: list[int] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        rng = random.Random(seed * 100 + index)
        agent = AGENTS[index % len(AGENTS)]
        barrier.wait()
        for _ in range(calls_per_thread):
            model = rng.choice(MODELS)
            try:
                res = budget.reserve(
                    agent=agent,
                    model_id=model,
                    price_key=model.partition(":")[2],
                    encoding=None,
                    request=request(rng.randint(1, 8000)),
                    prompt_tokens=rng.randint(0, 6000),
                )
            except BudgetExceeded:
                continue
            snapshot = budget.report()  # taken under the budget's lock: a consistent view
            if limits["tokens"] is not None:
                assert snapshot.total.total_tokens + snapshot.reserved_tokens <= limits["tokens"]
            if limits["usd"] is not None:
                committed = Fraction(snapshot.total.cost_usd) + Fraction(snapshot.reserved_usd)
                assert committed <= Fraction(limits["usd"]) + TOL
            if rng.random() < 0.2:
                budget.release(res)
                continue
            usage = Usage(
                input_tokens=rng.randint(0, res.prompt_tokens),
                output_tokens=rng.randint(0, res.max_tokens),
            )
            settled = budget.settle(res, usage)
            with lock:
                settled_tokens.append(settled.total_tokens)

    with ThreadPoolExecutor(n_threads) as pool:
        for future in [pool.submit(worker, i) for i in range(n_threads)]:
            future.result()
    check_final(budget, limits, events)
    assert budget.spent_tokens == sum(settled_tokens)
