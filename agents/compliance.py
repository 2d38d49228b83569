"""``compliance``: checks a section's draft against its requirements (``ComplianceReport``)."""

from __future__ import annotations

import json
from typing import Any

from agentorch import Agent, Model, RunError
from agentorch.agent import AgentResult, StepContext
from agentorch.models import ModelResponse, Usage
from agentorch.models.testing import FunctionModel, json_response, tool_call_response

from ._context import requirements_of, review_prompt, stamp_part
from ._coverage import review_extraction
from ._matching import LIBRARY_CATEGORY, clean_text, query_for, related_hit
from ._matrix import build_report
from ._offline import Conversation, offline_model
from ._types import CommitmentCheck, ComplianceReport, DraftAnswer

INSTRUCTIONS = """\
You are a bid compliance reviewer. You check one section of a draft RFP response against the RFP's
requirements and build its compliance matrix. You do not rewrite answers.

How to work:
1. For every requirement in the "review" data (JSON), find its draft answer. Verify each cited
   approved answer with get_answer (an id that does not exist is not evidence).
2. For every requirement with an answer, call check_commitment(requirement, answer) with the
   requirement's text and the answer's text: it compares what is required (hours, days, uptime,
   money, standards, ownership, ...) with what the answer commits to, and says whether the answer
   is about the requirement at all. Never judge numbers yourself; use its result.
3. For a requirement with no answer or status "no_source", search the library once with
   search_answers (the requirement's key terms, in its category) to see whether the writer missed
   an approved answer.
4. Build the matrix, one row per requirement, in order, with check = the check_commitment result:
   - "covered": valid evidence that meets every checked constraint and speaks to what the
     requirement specifically asks: its "key_terms" (its distinctive words in this document,
     with weights) must be addressed, in the same or equivalent words; a generic answer on the
     topic (security in general for a PIV-card key recovery ask) is "partial", with a note naming
     the key terms it leaves out;
   - "partial": valid evidence that leaves a constraint unstated or unclear, falls short of a
     should/may requirement, or that the writer marked partial;
   - "conflict": the evidence contradicts the requirement, or falls short of a must requirement;
   - "missing": no answer, no valid evidence, or an answer about another subject.
   evidence lists the valid answer ids; note says briefly what is missing or wrong, with the
   required and offered values.
5. Decide:
   - "revise" when the writer can fix it: a requirement has no answer at all, cites an id that
     does not exist, or is "no_source" although the library has a relevant approved answer. Give
     one reason per fix, naming the requirement; to point at an answer, end the reason with
     "[suggest <requirement id>=<answer id>]".
   - "escalate" with low confidence (below 0.5) when a "must" requirement is in conflict, partial
     or missing with nothing in the library: one reason per requirement, with the required and
     offered values side by side. A person decides (exception, new approved text, no-bid).
   - Never "pass" a section with no requirements: escalate it.
   - "pass" otherwise; lower your confidence when "should"/"may" requirements are open.
   List every open requirement (missing, partial, conflict) in open_issues.
Answer with the ComplianceReport JSON only.
"""


class ComplianceReviewer(Agent):
    """Builds a section's compliance matrix and decides pass / revise / escalate."""

    name = "compliance"
    description = (
        "Reviews one drafted section against its RFP requirements: builds the compliance matrix "
        "(covered/partial/missing with evidence), sends fixable gaps back for revision and "
        "escalates missing mandatory requirements to a person."
    )
    instructions = INSTRUCTIONS
    tools = ["search_answers", "get_answer", "check_commitment"]
    output_type = ComplianceReport
    max_turns = 6

    def user_prompt(self, context: StepContext) -> str:
        return review_prompt(
            context, "check every requirement against its draft answer", key_terms=True
        )

    async def execute(self, context: StepContext, runtime: Any, model: Model) -> AgentResult:
        """Reviewing the parser's result is arithmetic on its numbers: no model is asked."""
        if context.step.params.get("check") != "extraction":
            result = await super().execute(context, runtime, model)
            result.output = stamp_part(result.output, context)
            return result
        listing = requirements_of(context)
        if listing is None:
            raise RunError("the parser's result is not available to review")
        return AgentResult(output=review_extraction(listing), usage=Usage(), messages=[], turns=0)

    def offline_model(self) -> FunctionModel:
        return offline_model(self.name, _play)


def _play(talk: Conversation) -> ModelResponse:
    review = talk.data("review", {"category": "all", "requirements": [], "answers": []})
    category = str(review["category"])
    requirements: list[dict[str, Any]] = review["requirements"]
    answers = {a["requirement_id"]: DraftAnswer.model_validate(a) for a in review["answers"]}
    cited = sorted({c for a in answers.values() for c in a.citations})
    unanswered = [
        r for r in requirements if r["id"] not in answers or answers[r["id"]].status == "no_source"
    ]
    drafted = [r for r in requirements if r not in unanswered]
    if (cited or unanswered) and not talk.outcomes:
        calls: list[tuple[str, dict[str, Any]]] = [("get_answer", {"answer_id": c}) for c in cited]
        for req in unanswered:
            # a part's requirements may span categories: search each in its own
            library_category = LIBRARY_CATEGORY.get(str(req.get("category") or category))
            args: dict[str, Any] = {"query": query_for(req), "limit": 5}
            if library_category:
                args["category"] = library_category
            calls.append(("search_answers", args))
        for req in drafted:
            calls.append(
                (
                    "check_commitment",
                    {"requirement": str(req["text"]), "answer": answers[req["id"]].text},
                )
            )
        return tool_call_response(*calls)
    valid = {str(o.arguments["answer_id"]) for o in talk.of("get_answer") if not o.is_error}
    searched = {o.arguments.get("query"): o.json() for o in talk.of("search_answers")}
    pending = _verify_suggestions(talk, unanswered, searched)
    if pending:
        return tool_call_response(*pending)
    checks: dict[str, CommitmentCheck] = {}
    by_text = {str(r["text"]): r["id"] for r in drafted}
    for outcome in talk.of("check_commitment"):
        rid = by_text.get(str(outcome.arguments.get("requirement")))
        value = outcome.json()
        if rid is not None and isinstance(value, dict):
            checks[rid] = CommitmentCheck.model_validate(value)
    return json_response(
        build_report(
            category,
            requirements,
            answers,
            valid,
            searched,
            checks,
            suggestable=lambda req, hit: _relevant(talk, req, hit),
        )
    )


def _pair_check(talk: Conversation, requirement: str, answer: str) -> Any:
    for outcome in talk.of("check_commitment"):
        args = outcome.arguments
        if args.get("requirement") == requirement and args.get("answer") == answer:
            return outcome.json()
    return None


def _fetched(talk: Conversation, answer_id: str) -> dict[str, Any] | None:
    for outcome in talk.of("get_answer"):
        if str(outcome.arguments.get("answer_id")) == answer_id:
            value = outcome.json()
            return value if isinstance(value, dict) else {}
    return None


def _verify_suggestions(
    talk: Conversation, unanswered: list[dict[str, Any]], searched: dict[Any, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """Before pointing the writer at an approved answer it did not use, read it and check it is
    on the requirement's subject: the writer rejects an off-subject one, and a revision request
    it cannot act on would come back unchanged (and fail the whole section)."""
    calls: list[tuple[str, dict[str, Any]]] = []
    for req in unanswered:
        hit = related_hit(req, searched.get(query_for(req)), exclude=set())
        if hit is None:
            continue
        answer = _fetched(talk, str(hit["id"]))
        if answer is None:
            calls.append(("get_answer", {"answer_id": str(hit["id"])}))
        elif answer and _pair_check(talk, str(req["text"]), _answer_text(answer)) is None:
            calls.append(
                (
                    "check_commitment",
                    {"requirement": str(req["text"]), "answer": _answer_text(answer)},
                )
            )
    unique = {json.dumps(call, sort_keys=True): call for call in calls}
    return list(unique.values())


def _answer_text(answer: dict[str, Any]) -> str:
    return clean_text(str(answer.get("text", "")))


def _relevant(talk: Conversation, req: dict[str, Any], hit: dict[str, Any]) -> bool:
    """Whether the suggested answer was checked and found on the requirement's subject."""
    answer = _fetched(talk, str(hit["id"]))
    if not answer:
        return False
    result = _pair_check(talk, str(req["text"]), _answer_text(answer))
    return isinstance(result, dict) and result.get("relevant") is not False
