"""``compliance``: checks a section's draft against its requirements (``ComplianceReport``)."""

from __future__ import annotations

from typing import Any

from agentorch import Agent, Model, RunError
from agentorch.agent import AgentResult, StepContext
from agentorch.models import ModelResponse, Usage
from agentorch.models.testing import FunctionModel, json_response, tool_call_response

from ._context import requirements_of, review_prompt
from ._coverage import review_extraction
from ._matching import LIBRARY_CATEGORY, query_for, related_hit, suggestion
from ._offline import Conversation, offline_model
from ._types import ComplianceReport, DraftAnswer, MatrixRow

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
   - "covered": valid evidence that meets every checked constraint;
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
    tools = ["search_answers", "get_answer"]
    output_type = ComplianceReport
    max_turns = 6

    def user_prompt(self, context: StepContext) -> str:
        return review_prompt(context, "check every requirement against its draft answer")

    async def execute(self, context: StepContext, runtime: Any, model: Model) -> AgentResult:
        """Reviewing the parser's result is arithmetic on its numbers: no model is asked."""
        if context.step.params.get("check") != "extraction":
            return await super().execute(context, runtime, model)
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
    if (cited or unanswered) and not talk.outcomes:
        library_category = LIBRARY_CATEGORY.get(category)
        calls: list[tuple[str, dict[str, Any]]] = [("get_answer", {"answer_id": c}) for c in cited]
        for req in unanswered:
            args: dict[str, Any] = {"query": query_for(req), "limit": 5}
            if library_category:
                args["category"] = library_category
            calls.append(("search_answers", args))
        return tool_call_response(*calls)
    valid = {str(o.arguments["answer_id"]) for o in talk.of("get_answer") if not o.is_error}
    searched = {o.arguments.get("query"): o.json() for o in talk.of("search_answers")}
    return json_response(_report(category, requirements, answers, valid, searched))


def _report(
    category: str,
    requirements: list[dict[str, Any]],
    answers: dict[str, DraftAnswer],
    valid: set[str],
    searched: dict[Any, Any],
) -> ComplianceReport:
    if not requirements:
        return ComplianceReport(
            verdict="escalate",
            confidence=0.2,
            reasons=[
                f"the {category} section has no requirements to check: nothing was reviewed, so "
                "a person must confirm that the RFP asks nothing of this kind"
            ],
            category=category,
        )
    matrix: list[MatrixRow] = []
    fixes: list[str] = []
    open_issues: list[str] = []
    missing_must: list[str] = []
    for req in requirements:
        rid, modality = req["id"], req["modality"]
        label = req.get("title") or str(req["text"])[:70]
        answer = answers.get(rid)
        evidence = [c for c in (answer.citations if answer else []) if c in valid]
        bad = [c for c in (answer.citations if answer else []) if c not in valid]
        if answer is None:
            fixes.append(f"{rid}: the draft has no answer for this requirement; add one")
        for cid in bad:
            fixes.append(
                f"{rid}: cites {cid}, which is not an approved answer; "
                "cite a real one or mark it no_source"
            )
        if answer is None or answer.status == "no_source" or not evidence:
            status, note = "missing", "no approved answer covers it"
            hit = related_hit(req, searched.get(query_for(req)), exclude=set())
            if hit is not None and answer is not None and answer.status == "no_source":
                fixes.append(suggestion(rid, str(hit["id"]), str(hit.get("title", ""))))
                note = f"approved answer {hit['id']} may cover it"
            elif modality == "must":
                missing_must.append(rid)
            open_issues.append(
                f"{rid} ({modality}) {label}: no approved answer; needs input from the bid team"
            )
        elif answer.status == "partial":
            status, note = "partial", "only partly covered by the approved answer"
            open_issues.append(
                f"{rid} ({modality}) {label}: only partly covered by {', '.join(evidence)}"
            )
        else:
            status, note = "covered", ""
        matrix.append(
            MatrixRow(
                requirement_id=rid,
                modality=modality,
                status=status,  # type: ignore[arg-type]
                evidence=evidence,
                note=note,
            )
        )
    counts = {
        s: sum(1 for row in matrix if row.status == s) for s in ("covered", "partial", "missing")
    }
    summary = (
        f"{counts['covered']} covered, {counts['partial']} partial, {counts['missing']} missing"
    )
    if fixes:
        return ComplianceReport(
            verdict="revise",
            confidence=0.8,
            reasons=fixes,
            category=category,
            matrix=matrix,
            open_issues=open_issues,
        )
    if missing_must and category != "other":
        reasons = [
            f"{summary}; mandatory requirement(s) {', '.join(missing_must)} have no approved "
            "answer in the library: a person must decide (bid/no-bid, new approved text or an "
            "exception)"
        ]
        return ComplianceReport(
            verdict="escalate",
            confidence=0.4,
            reasons=reasons,
            category=category,
            matrix=matrix,
            open_issues=open_issues,
        )
    # Proposal instructions and forms ("other") are the bid team's paperwork: gaps are open issues.
    confidence = 0.95 if counts["covered"] == len(matrix) else 0.75 if not missing_must else 0.6
    return ComplianceReport(
        verdict="pass",
        confidence=confidence,
        reasons=[summary],
        category=category,
        matrix=matrix,
        open_issues=open_issues,
    )
