"""``critic``: flags risky commitments in a section's draft (``RiskReview``)."""

from __future__ import annotations

from typing import Any

from agentorch import Agent, Model, ReviewPoint
from agentorch.agent import AgentResult, StepContext
from agentorch.models import ModelResponse
from agentorch.models.testing import FunctionModel, json_response, tool_call_response

from ._context import review_prompt, stamp_part
from ._offline import Conversation, offline_model
from ._risk import assess
from ._types import DraftAnswer, RiskFinding, RiskReview

INSTRUCTIONS = """\
You are the risk critic of a bid team. You read one drafted section of an RFP response and flag
what could hurt the company if it were submitted as written. You do not rewrite answers.

How to work:
1. Read every approved answer the draft cites with get_answer: its text is what the company has
   approved; its usage_notes say what needs a person's sign-off (never quote them to the buyer).
2. Flag, per requirement, with exactly these flag names:
   - pricing_commitment: any price, fee, discount, payment term, fixed or "no escalation" pricing,
     or a usage note that requires Finance/CFO approval;
   - legal_exposure: liability, indemnity, warranties, liquidated damages, IP ownership, governing
     law, or a usage note that requires Legal/General Counsel;
   - absolute_claim: "guarantee", "100%", "unlimited", "never", "always" and the like - in the
     draft when no cited answer says it, or demanded by the requirement (the answer must not
     accept it as written);
   - unsourced_claim: an answered requirement without citations, or citing an id that does not
     exist.
3. Decide: "revise" (with one reason per fix) when the writer can fix it - unsourced claims and
   absolute claims the sources do not make; "escalate" when the section commits the company on
   price or legal terms (a person must approve); "escalate" when the draft has no answers (never
   pass an empty draft); otherwise "pass". Set confidence honestly.
Answer with the RiskReview JSON only: verdict, confidence, reasons, flags (the distinct flag
names), category and findings (flag, requirement_id, detail).
"""


class RiskCritic(Agent):
    """Flags pricing commitments, legal exposure, absolute and unsourced claims in a draft."""

    name = "critic"
    description = (
        "Reviews one drafted section for risk: pricing commitments, legal exposure, absolute "
        "claims ('guarantee', '100%', 'unlimited', 'never') and claims without an approved source."
    )
    instructions = INSTRUCTIONS
    tools = ["get_answer"]
    output_type = RiskReview
    max_turns = 6

    def user_prompt(self, context: StepContext) -> str:
        return review_prompt(context, "flag risky commitments and unsourced claims")

    async def execute(self, context: StepContext, runtime: Any, model: Model) -> AgentResult:
        """The usual loop; the review says which document part it covers."""
        result = await super().execute(context, runtime, model)
        result.output = stamp_part(result.output, context)
        return result

    def offline_model(self) -> FunctionModel:
        return offline_model(self.name, _play)


def _play(talk: Conversation) -> ModelResponse:
    review = talk.data("review", {"category": "all", "requirements": [], "answers": []})
    answers = [DraftAnswer.model_validate(a) for a in review["answers"]]
    cited = sorted({c for a in answers for c in a.citations})
    if cited and not talk.called("get_answer"):
        return tool_call_response(*(("get_answer", {"answer_id": c}) for c in cited))
    sources: dict[str, dict[str, Any] | None] = {c: None for c in cited}
    for outcome in talk.of("get_answer"):
        sources[str(outcome.arguments["answer_id"])] = outcome.json()
    requirements = {r["id"]: r for r in review["requirements"]}
    if not answers:
        return json_response(
            RiskReview(
                verdict="escalate",
                confidence=0.2,
                reasons=[
                    f"the {review['category']} draft has no answers: nothing was reviewed, so a "
                    "person must confirm that nothing was expected"
                ],
                category=str(review["category"]),
            )
        )
    findings = assess(str(review["category"]), requirements, answers, sources)
    verdict = verdict_for(str(review["category"]), findings)
    if verdict.verdict == "escalate":
        verdict.points = points_for(findings, requirements, {a.requirement_id: a for a in answers})
    return json_response(verdict)


def points_for(
    findings: list[RiskFinding],
    requirements: dict[str, dict[str, Any]],
    answers: dict[str, DraftAnswer],
) -> list[ReviewPoint]:
    """One point per requirement that commits us on price or legal terms, for the person."""
    points: dict[str, ReviewPoint] = {}
    for finding in findings:
        rid = finding.requirement_id
        if finding.flag not in ("pricing_commitment", "legal_exposure") or rid is None:
            continue
        if rid in points:
            continue
        req = requirements.get(rid, {})
        answer = answers.get(rid)
        label = req.get("title") or str(req.get("text", ""))[:60]
        points[rid] = ReviewPoint(
            item=f"{rid} {label} ({req.get('modality', 'must')}): "
            + finding.flag.replace("_", " "),
            asked=str(req.get("text", "")),
            proposed=(f"[{', '.join(answer.citations)}] {answer.text}" if answer else ""),
            reason=finding.detail,
        )
    return list(points.values())


def verdict_for(category: str, findings: list[RiskFinding]) -> RiskReview:
    """pass / revise / escalate from the findings (see the instructions for the rule)."""
    flags = sorted({f.flag for f in findings})
    fixable = [
        f.detail
        for f in findings
        if f.flag == "unsourced_claim" or (f.flag == "absolute_claim" and "no cited" in f.detail)
    ]
    if fixable:
        return RiskReview(
            verdict="revise",
            confidence=0.8,
            reasons=fixable,
            flags=flags,
            category=category,
            findings=findings,
        )
    committing = [f.detail for f in findings if f.flag in ("pricing_commitment", "legal_exposure")]
    if committing:
        return RiskReview(
            verdict="escalate",
            confidence=0.6,
            reasons=committing,
            flags=flags,
            category=category,
            findings=findings,
        )
    notes = [f.detail for f in findings] or [
        "no pricing, legal, absolute or unsourced claims found"
    ]
    return RiskReview(
        verdict="pass",
        confidence=0.8 if findings else 0.9,
        reasons=notes,
        flags=flags,
        category=category,
        findings=findings,
    )
