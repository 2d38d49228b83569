"""``editor``: assembles the response document and writes it (``ResponseDocument``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentorch import Agent, Model, RunError
from agentorch.agent import AgentResult, StepContext
from agentorch.models import AssistantMessage, ModelResponse, ModelSettings, ToolResultMessage
from agentorch.models.testing import FunctionModel, json_response, tool_call_response

from ._context import compliance_of, drafts_of, requirements_of, reviews_of
from ._document import Assembly, render
from ._offline import Conversation, data_block, offline_model
from ._types import ResponseDocument

DEFAULT_FILE = "response.md"
DEFAULT_REVIEW_FILE = "bid-review.md"

INSTRUCTIONS = """\
You are the bid editor. You turn the reviewed sections of an RFP response into two documents and
write both to the output folder:
- the response (file under "Output file"): ONLY text meant for the buyer - a cover line and, per
  section, each requirement quoted with its approved answer. Never put in it answer ids (e.g.
  AA-006), usage notes or other internal guidance, matrix statuses, open issues, placeholders
  ("no approved answer", "needs input") or review decisions. Requirements without compliant
  evidence are left out of it.
- the bid review (file under "Review file"): everything internal - the compliance matrix with
  evidence and checked values, the mandatory requirements that block submission, open issues,
  escalations and decisions, the drafted answers with their sources, what was excluded.

How to work:
1. Start from the two drafts you are given ("response" and "review" in the draft data). You may
   improve the flow of the response's cover text, but never change an answer's substance, never
   add claims of your own and never move anything internal into the response. Write the bid
   review as given.
2. Write the bid review first, then the response, each with write_file. If a person denies a
   write, do not retry: report it.
3. Answer with the ResponseDocument JSON only: path (what write_file returned for the response, or
   null), written (true only if the response was written), and note (what happened, e.g. that
   the write was denied). The counts, gaps and open issues are filled in from the review.
"""


class Editor(Agent):
    """Assembles the buyer's response and the team's bid review; writes both files."""

    name = "editor"
    description = (
        "Assembles the final RFP response (buyer-facing text only) and the internal bid review "
        "(compliance matrix, checked values, open issues, decisions) and writes both with "
        "write_file."
    )
    instructions = INSTRUCTIONS
    tools = ["write_file"]
    output_type = ResponseDocument
    # long structured outputs (every requirement, the whole document): room to finish
    settings = ModelSettings(max_tokens=16384)
    max_turns = 5

    def assembly(self, context: StepContext) -> Assembly:
        """The run's typed outputs this step depends on, as one ``Assembly``."""
        requirements = requirements_of(context)
        failed = [
            {"step_id": d.step_id, "agent": d.agent, "error": d.error or d.status}
            for d in context.dependencies.values()
            if d.status != "done"
        ]
        if requirements is None:
            parse = next((f for f in failed if f["agent"] == "parser"), None)
            raise RunError(
                "nothing to assemble: the requirements were not extracted"
                + (f" ({parse['error']})" if parse else "")
            )
        drafts = list(drafts_of(context).values())
        drafted = {d.category for d in drafts}
        return Assembly(
            requirements=requirements,
            drafts=drafts,
            # a review of a section whose draft did not finish describes a draft that is gone
            compliance=[
                c for c in compliance_of(context).values() if c.matrix and c.category in drafted
            ],
            reviews=list(reviews_of(context).values()),
            failed=failed,
            decisions=list(context.decisions),
            library=str(context.state.get("library") or ""),
        )

    @staticmethod
    def files(context: StepContext) -> tuple[str, str]:
        """(response file, bid-review file) inside the output folder."""
        params = context.step.params
        response = str(params.get("file") or context.state.get("response_file") or DEFAULT_FILE)
        review = str(params.get("review_file") or DEFAULT_REVIEW_FILE)
        return response, review

    def user_prompt(self, context: StepContext) -> str:
        rendered = render(self.assembly(context))
        file, review_file = self.files(context)
        summary = {"requirements": len(rendered.matrix), **rendered.counts()}
        return "\n\n".join(
            [
                f"## Task\n{context.task}",
                f"## Your step\n{context.instruction}",
                f"## Output file\n{file}",
                f"## Review file\n{review_file}",
                data_block(
                    "draft",
                    {
                        "file": file,
                        "review_file": review_file,
                        "summary": summary,
                        "response": rendered.response,
                        "review": rendered.review,
                    },
                ),
            ]
        )

    async def execute(self, context: StepContext, runtime: Any, model: Model) -> AgentResult:
        """The usual loop; then the facts (what was written, counts, gaps) from code, not words."""
        result = await super().execute(context, runtime, model)
        document = result.output
        if not isinstance(document, ResponseDocument):
            return result
        rendered = render(self.assembly(context))
        file, review_file = self.files(context)
        writes = _writes(result.messages)
        response = writes.get(Path(file).name)
        review = writes.get(Path(review_file).name)
        counts = rendered.counts()
        update: dict[str, Any] = {
            "written": bool(response and response[2]),
            "path": response[1] if response and response[2] else None,
            "markdown": response[0] if response and response[2] else "",
            "review_path": review[1] if review and review[2] else None,
            "requirements": len(rendered.matrix),
            "covered": counts["covered"],
            "partial": counts["partial"],
            "conflict": counts["conflict"],
            "missing": counts["missing"],
            "open_issues": rendered.open_issues,
            "gaps": rendered.gaps,
            "library": str(context.state.get("library") or ""),
        }
        result.output = document.model_copy(update=update)
        return result

    def offline_model(self) -> FunctionModel:
        return offline_model(self.name, _play)


def _writes(messages: list[Any]) -> dict[str, tuple[str, str, bool]]:
    """file name -> (content, path written, succeeded) of the last write_file call for it."""
    calls = {c.id: c for m in messages if isinstance(m, AssistantMessage) for c in m.tool_calls}
    found: dict[str, tuple[str, str, bool]] = {}
    for message in messages:
        if isinstance(message, ToolResultMessage) and message.name == "write_file":
            call = calls.get(message.tool_call_id)
            if call is None:
                continue
            content = str(call.arguments.get("content", ""))
            path = str(Path(message.content).resolve()) if not message.is_error else ""
            found[Path(str(call.arguments.get("path", ""))).name] = (
                content,
                path,
                not message.is_error,
            )
    return found


def _play(talk: Conversation) -> ModelResponse:
    draft = talk.data("draft")
    if not talk.called("write_file"):
        return tool_call_response(
            ("write_file", {"path": draft["review_file"], "content": draft["review"]}),
            ("write_file", {"path": draft["file"], "content": draft["response"]}),
        )
    outcomes = {str(o.arguments.get("path")): o for o in talk.of("write_file")}
    response, review = outcomes.get(draft["file"]), outcomes.get(draft["review_file"])
    notes = []
    for what, outcome in (("response", response), ("bid review", review)):
        if outcome is None:
            notes.append(f"{what} not written")
        elif outcome.is_error:
            notes.append(f"{what} not written: {outcome.content}")
        else:
            notes.append(f"{what} written")
    ok = response is not None and not response.is_error
    return json_response(
        ResponseDocument(
            path=response.content if ok and response is not None else None,
            written=ok,
            note="; ".join(notes),
        )
    )
