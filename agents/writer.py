"""``writer``: drafts the answers of one section from the approved-answer library."""

from __future__ import annotations

import json
from typing import Any

from agentorch import Agent, Model
from agentorch.agent import AgentResult, StepContext
from agentorch.models import Message, ModelResponse, ToolResultMessage
from agentorch.models.testing import FunctionModel, json_response, tool_call_response

from ._context import category_param, part_param, section_requirements, stamp_part
from ._matching import candidates, clean_text, query_for, suggestions
from ._offline import Conversation, data_block, offline_model
from ._types import NO_SOURCE_TEXT, DraftAnswer, RunOutcome, SectionDraft

#: Requirements without a source named in the draft's outcome (the draft itself lists them all).
SHOWN_UNSOURCED = 30

INSTRUCTIONS = f"""\
You are a proposal writer. You draft the answers for the requirements of ONE section of an RFP
response (the category in your step's parameters), using ONLY the bid team's approved answers.

How to work:
1. For each requirement in the "section" data (JSON), call search_answers with a short query in plain
   words (the requirement's title and key terms). You may search several requirements at once.
2. Read every answer you intend to use in full with get_answer before relying on it. Never copy
   its usage_notes into the response: they are internal guidance for the bid team. Check it with
   check_commitment(requirement, answer): an answer that is not relevant (about another subject)
   is no evidence - try the next search result, or mark the requirement no_source.
3. Write one answer per requirement, in the order given:
   - status "answered": every claim comes from approved answers; citations lists their ids
     (e.g. ["AA-006"]). Reuse the approved wording; adapt only names and grammar.
   - status "partial": an approved answer covers part of it; say plainly what is not covered.
   - status "no_source": nothing approved covers it. Then the text is exactly
     "{NO_SOURCE_TEXT}" and citations is empty.
   Never invent capabilities, numbers, prices, dates, certifications or commitments, and never
   promise more than the approved answer does (no "guarantee", "100%", "unlimited" or "never"
   unless the approved answer says so). If the requirement asks for more than the approved answer
   offers, answer with what the approved answer offers and mark it "partial".
4. When reviewers asked for changes, address every point; "[suggest R-x=AA-y]" names an approved
   answer to use for requirement R-x.
Answer with the section's JSON only: category and answers (requirement_id, text, citations,
status), one answer for every requirement listed.
"""


class ResponseWriter(Agent):
    """Drafts a section's answers from approved answers only, citing them per claim."""

    name = "writer"
    description = (
        "Drafts the RFP answers of one category (step params: category) from the approved-answer "
        "library (search_answers, get_answer), citing the answer ids for every claim."
    )
    instructions = INSTRUCTIONS
    tools = ["search_answers", "get_answer", "check_commitment"]
    output_type = SectionDraft
    max_turns = 10

    def user_prompt(self, context: StepContext) -> str:
        """Only this section's requirements: never the RFP text or other sections."""
        category = category_param(context) or "all"
        own = section_requirements(context, category)
        part = part_param(context)
        where = f", document part {part}" if part else ""
        parts = [
            f"## Task\n{context.task}",
            f"## Your step\n{context.instruction}",
            f"## Section\n{category}{where} ({len(own)} requirements)",
            data_block("section", {"category": category, "requirements": own}),
        ]
        if context.feedback:
            parts.append(
                f"## Revision {context.revision}: reviewers asked for changes\n"
                + "\n".join(f"- {line}" for line in context.feedback)
            )
            parts.append(data_block("feedback", list(context.feedback)))
        return "\n\n".join(parts)

    async def execute(self, context: StepContext, runtime: Any, model: Model) -> AgentResult:
        """The usual loop; the draft says which document part it answers."""
        result = await super().execute(context, runtime, model)
        result.output = stamp_unsourced(stamp_part(result.output, context), result.messages)
        return result

    def offline_model(self) -> FunctionModel:
        return offline_model(self.name, _play)


def stamp_unsourced(output: Any, messages: list[Message]) -> Any:
    """``output`` with its outcome: incomplete while any answer has no approved source, and why.

    Code decides it, from the answers' statuses and the library tools' errors, so a run that ends
    with this draft never reads as done (a model's own ``outcome`` is replaced).
    """
    if not isinstance(output, SectionDraft):
        return output
    unsourced = [a.requirement_id for a in output.answers if a.status == "no_source"]
    if not unsourced:
        return output.model_copy(update={"outcome": None})
    more = len(unsourced) - SHOWN_UNSOURCED
    details = [
        "Without an approved source: "
        + ", ".join(unsourced[:SHOWN_UNSOURCED])
        + (f" and {more} more (all in the draft)" if more > 0 else "")
    ]
    library = _library_error(messages)
    if library:
        details.insert(
            0,
            f"No approved-answer library was read ({library}): give one with --library PATH "
            "(or $AGENTORCH_LIBRARY, or Supervisor.run(state={'library': ...}))",
        )
    why = "no approved-answer library was found" if library else "a person must supply them"
    outcome = RunOutcome(
        kind="incomplete",
        complete=False,
        headline=f"Draft written, NOT complete: {len(unsourced)} of {len(output.answers)} "
        f"answers have no approved source ({why})",
        details=details,
    )
    return output.model_copy(update={"outcome": outcome})


def _library_error(messages: list[Message]) -> str:
    """What the library tools said when they could not read the library, if they said so."""
    for message in messages:
        if isinstance(message, ToolResultMessage) and message.is_error:
            text = str(message.content)
            if "approved-answer library" in text:
                return text.split("ConfigError: ", 1)[-1].strip()
    return ""


def _play(talk: Conversation) -> ModelResponse:
    section = talk.data("section", {"category": "other", "requirements": []})
    requirements: list[dict[str, Any]] = section["requirements"]
    suggested = suggestions(talk.data("feedback", []))
    to_search = [r for r in requirements if r["id"] not in suggested]
    if to_search and not talk.called("search_answers"):
        return tool_call_response(
            *(("search_answers", {"query": query_for(r), "limit": 3}) for r in to_search)
        )
    searched = {o.arguments.get("query"): o.json() for o in talk.of("search_answers")}
    fetched = {str(o.arguments.get("answer_id")): o.json() for o in talk.of("get_answer")}
    checked = {
        (str(o.arguments.get("requirement")), str(o.arguments.get("answer"))): o.json()
        for o in talk.of("check_commitment")
    }
    chosen: dict[str, str] = {}
    calls: list[tuple[str, dict[str, Any]]] = []
    for req in requirements:
        # The first candidate whose text is on the requirement's subject: one that is about
        # something else (check_commitment says not relevant) is no evidence, so try the next.
        for answer_id in candidates(req, searched.get(query_for(req)), suggested):
            if answer_id not in fetched:
                calls.append(("get_answer", {"answer_id": answer_id}))
                break
            answer = fetched[answer_id]
            if not answer:  # get_answer refused the id
                continue
            key = (str(req["text"]), clean_text(str(answer.get("text", ""))))
            if key not in checked:
                calls.append(("check_commitment", {"requirement": key[0], "answer": key[1]}))
                break
            verdict = checked[key]
            if isinstance(verdict, dict) and verdict.get("relevant") is False:
                continue
            chosen[req["id"]] = answer_id
            break
    if calls:
        unique = {json.dumps(call, sort_keys=True): call for call in calls}
        return tool_call_response(*unique.values())
    answers = []
    for req in requirements:
        answer = fetched.get(chosen.get(req["id"], ""))
        if not answer:  # nothing relevant approved
            answers.append(
                DraftAnswer(requirement_id=req["id"], text=NO_SOURCE_TEXT, status="no_source")
            )
            continue
        status = "partial" if req["id"] in suggested else "answered"
        answers.append(
            DraftAnswer(
                requirement_id=req["id"],
                text=clean_text(str(answer.get("text", ""))),
                citations=[str(answer["id"])],
                status=status,
            )
        )
    return json_response(SectionDraft(category=section["category"], answers=answers))
