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

INSTRUCTIONS = """\
You are the bid editor. You turn the reviewed sections of an RFP response into the final response
document and write it to the output folder.

How to work:
1. Start from the draft document you are given: a cover, one section per category with each
   requirement quoted and answered (with its sources), the compliance matrix (every requirement)
   and the open issues (gaps, partial answers, failed sections, pricing and legal points a person
   escalated) and the review decisions.
2. You may improve the cover paragraph and the flow of the text, but never change an answer's
   substance, never drop or add a citation, never remove a requirement from the matrix and never
   remove an open issue. Never add claims of your own.
3. Write the document with write_file, to the file name given under "Output file" (a path inside
   the output folder). If a person denies the write, do not retry: report it.
4. Answer with the ResponseDocument JSON only: path (what write_file returned, or null), written
   (true only if write_file succeeded), requirements, covered, partial, missing, open_issues, and
   note (what happened, e.g. that the write was denied). Leave markdown empty: it is filled in
   from your write_file call.
"""


class Editor(Agent):
    """Assembles cover, cited answers, compliance matrix and open issues; writes the file."""

    name = "editor"
    description = (
        "Assembles the final RFP response document (Markdown): cover, per-section answers with "
        "citations, the full compliance matrix and the open issues, and writes it with write_file."
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
        if requirements is None:
            raise RunError(
                "the editor has no requirements to assemble: the parser's step did not finish"
            )
        failed = [
            {"step_id": d.step_id, "agent": d.agent, "error": d.error or d.status}
            for d in context.dependencies.values()
            if d.status != "done"
        ]
        return Assembly(
            requirements=requirements,
            drafts=list(drafts_of(context).values()),
            compliance=list(compliance_of(context).values()),
            reviews=list(reviews_of(context).values()),
            failed=failed,
            decisions=list(context.decisions),
        )

    def user_prompt(self, context: StepContext) -> str:
        rendered = render(self.assembly(context))
        counts = {
            s: sum(1 for _, r in rendered.matrix if r.status == s)
            for s in ("covered", "partial", "missing")
        }
        file = str(
            context.step.params.get("file") or context.state.get("response_file") or DEFAULT_FILE
        )
        summary = {
            "requirements": len(rendered.matrix),
            **counts,
            "open_issues": rendered.open_issues,
        }
        return "\n\n".join(
            [
                f"## Task\n{context.task}",
                f"## Your step\n{context.instruction}",
                f"## Output file\n{file}",
                data_block(
                    "draft", {"file": file, "summary": summary, "markdown": rendered.markdown}
                ),
            ]
        )

    async def execute(self, context: StepContext, runtime: Any, model: Model) -> AgentResult:
        """The usual loop, then the facts of the write (path, success, text) from the tool call."""
        result = await super().execute(context, runtime, model)
        document = result.output
        if isinstance(document, ResponseDocument):
            written = _last_write(result.messages)
            if written is not None:
                content, path, ok = written
                update: dict[str, Any] = {"written": ok, "path": path if ok else None}
                if not document.markdown:
                    update["markdown"] = content
                result.output = document.model_copy(update=update)
            else:
                result.output = document.model_copy(update={"written": False, "path": None})
        return result

    def offline_model(self) -> FunctionModel:
        return offline_model(self.name, _play)


def _last_write(messages: list[Any]) -> tuple[str, str, bool] | None:
    """(content, path written, succeeded) of the last write_file call, if there was one."""
    calls = {c.id: c for m in messages if isinstance(m, AssistantMessage) for c in m.tool_calls}
    found = None
    for message in messages:
        if isinstance(message, ToolResultMessage) and message.name == "write_file":
            call = calls.get(message.tool_call_id)
            content = str(call.arguments.get("content", "")) if call else ""
            path = str(Path(message.content).resolve()) if not message.is_error else ""
            found = (content, path, not message.is_error)
    return found


def _play(talk: Conversation) -> ModelResponse:
    draft = talk.data("draft")
    if not talk.called("write_file"):
        return tool_call_response(
            ("write_file", {"path": draft["file"], "content": draft["markdown"]})
        )
    outcome = talk.of("write_file")[-1]
    summary = draft["summary"]
    note = (
        "written to the output folder"
        if not outcome.is_error
        else f"not written: {outcome.content}"
    )
    return json_response(
        ResponseDocument(
            path=None if outcome.is_error else outcome.content,
            written=not outcome.is_error,
            markdown="",
            requirements=summary["requirements"],
            covered=summary["covered"],
            partial=summary["partial"],
            missing=summary["missing"],
            open_issues=summary["open_issues"],
            note=note,
        )
    )
