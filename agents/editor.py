"""``editor``: edits each part's answers, then assembles and writes the two documents.

No model call sees the whole response: a step per document part edits that part's answers, and
the step without a part renders the buyer's response and the bid review from the run's typed
outputs and writes them (``write_file``, journaled and approved like any tool call).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from agentorch import Agent, Model, RunError
from agentorch.agent import AgentResult, StepContext, run_loop
from agentorch.models import (
    AssistantMessage,
    ModelResponse,
    ModelSettings,
    ToolCall,
    ToolResultMessage,
    Usage,
)
from agentorch.models.testing import FunctionModel, json_response
from agentorch.runtime import ToolInvocation
from agentorch.tools.registry import is_denial

from ._context import (
    compliance_of,
    drafts_of,
    outputs_of_type,
    part_param,
    requirements_of,
    reviews_of,
    stamp_part,
    step_requirements,
)
from ._document import Assembly, render
from ._offline import Conversation, data_block, offline_model
from ._outcome import unanswered_outcome
from ._types import NO_SOURCE_TEXT, EditedAnswer, ResponseDocument, SectionEdit

DEFAULT_FILE = "response.md"
DEFAULT_REVIEW_FILE = "bid-review.md"
#: Largest piece of a document one write_file call carries (as JSON): a quarter of the default
#: tool-argument limit (1 MB), so a document of any size is written in calls of bounded size.
WRITE_PART_BYTES = 256_000

INSTRUCTIONS = """\
You are the bid editor. You edit the answers of ONE part of an RFP response before the response
is assembled: each requirement of the part (in the "edit" data) with the answer that goes to the
buyer.

How to work:
1. For each answer, improve its flow and grammar so that it reads as an answer to its
   requirement. Never change its substance: no new claims, numbers, prices, dates,
   certifications or commitments, nothing removed that the buyer asked for.
2. The text goes to the buyer: never put in it answer ids (e.g. AA-006), usage notes or other
   internal guidance, statuses, open issues, placeholders or review decisions. An edit that does
   is not used (the drafted answer is).
3. Answer with the SectionEdit JSON only: part (as given) and edits (requirement_id, text), one
   edit per answer given, in the order given.

The response (the buyer's answers only) and the bid review (compliance matrix, checked values,
open issues, decisions) are then assembled from every part and written in code.
"""


class Editor(Agent):
    """Edits each part's answers; assembles the buyer's response and the bid review, in code."""

    name = "editor"
    description = (
        "Edits one part's answers for the buyer (step params: part); the step without a part "
        "assembles the final RFP response (buyer-facing text only) and the internal bid review "
        "(compliance matrix, checked values, open issues, decisions) and writes both with "
        "write_file."
    )
    instructions = INSTRUCTIONS
    tools = ["write_file"]
    output_type = ResponseDocument  # a part's step answers with a SectionEdit
    # a part's answers come back whole: room to finish
    settings = ModelSettings(max_tokens=16384)
    max_turns = 3

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
        drafted = {d.part or d.category for d in drafts}
        edits, rejected = accepted_edits(
            list(outputs_of_type(context, SectionEdit, key="edits").values())
        )
        return Assembly(
            requirements=requirements,
            drafts=drafts,
            # a review of a section whose draft did not finish describes a draft that is gone
            compliance=[
                c
                for c in compliance_of(context).values()
                if c.matrix and (c.part or c.category) in drafted
            ],
            reviews=list(reviews_of(context).values()),
            failed=failed,
            decisions=list(context.decisions),
            library=str(context.state.get("library") or ""),
            edits=edits,
            edit_notes=rejected,
        )

    @staticmethod
    def files(context: StepContext) -> tuple[str, str]:
        """(response file, bid-review file) inside the output folder."""
        params = context.step.params
        response = str(params.get("file") or context.state.get("response_file") or DEFAULT_FILE)
        review = str(params.get("review_file") or DEFAULT_REVIEW_FILE)
        return response, review

    def user_prompt(self, context: StepContext) -> str:
        """A part's answers that go to the buyer, each with its requirement: nothing else."""
        part = part_param(context) or "all"
        answers = sent_answers(context)
        return "\n\n".join(
            [
                f"## Task\n{context.task}",
                f"## Your step\n{context.instruction}",
                f"## Part\n{part} ({len(answers)} answers)",
                data_block("edit", {"part": part, "answers": answers}),
            ]
        )

    async def execute(self, context: StepContext, runtime: Any, model: Model) -> AgentResult:
        """A part: the model edits its answers. The whole: assembled and written by code."""
        part = part_param(context)
        if part is not None:
            if not sent_answers(context):  # nothing goes to the buyer from this part
                edit = SectionEdit(part=part, note="no answer to edit")
                return AgentResult(output=edit, usage=Usage(), messages=[], turns=0)
            editor = copy.copy(self)
            editor.tools = []  # editing a part writes nothing
            editor.output_type = SectionEdit
            result = await run_loop(editor, context, runtime, model)
            result.output = stamp_part(result.output, context)
            return result
        return await self.assemble(context, runtime)

    async def assemble(self, context: StepContext, runtime: Any) -> AgentResult:
        """Render both documents from the typed outputs and write them (bid review first).

        Each document goes out in parts of at most ``WRITE_PART_BYTES`` (``write_file`` puts
        them together), so no call grows with the RFP. A document a reviewer denied is not
        written, and the step says so (a person's decision); a write that failed fails the step,
        so the run never ends as if its documents were there.
        """
        rendered = render(self.assembly(context))
        file, review_file = self.files(context)
        messages: list[Any] = []
        results: list[ToolResultMessage] = []
        for i, (what, path, content) in enumerate(
            (("bid review", review_file, rendered.review), ("response", file, rendered.response))
        ):
            result = await self._write(context, runtime, i, path, content, messages)
            if result.is_error and not is_denial(result):
                raise RunError(
                    f"the {what} ({path}) was not written: {result.content.removeprefix('Error: ')}"
                )
            results.append(result)
        review, response = results
        notes = [
            f"{what} written" if not r.is_error else f"{what} not written: {r.content}"
            for what, r in (("response", response), ("bid review", review))
        ]
        counts = rendered.counts()
        written = not response.is_error
        document = ResponseDocument(
            path=str(Path(response.content).resolve()) if written else None,
            written=written,
            markdown=rendered.response if written else "",
            review_path=str(Path(review.content).resolve()) if not review.is_error else None,
            requirements=len(rendered.matrix),
            covered=counts["covered"],
            partial=counts["partial"],
            conflict=counts["conflict"],
            missing=counts["missing"],
            open_issues=rendered.open_issues,
            gaps=rendered.gaps,
            library=str(context.state.get("library") or ""),
            note="; ".join(notes),
        )
        outcome = unanswered_outcome(document, list(drafts_of(context).values()))
        document = document.model_copy(update={"outcome": outcome})
        return AgentResult(output=document, usage=Usage(), messages=messages, turns=0)

    async def _write(
        self,
        context: StepContext,
        runtime: Any,
        index: int,
        path: str,
        content: str,
        messages: list[Any],
    ) -> ToolResultMessage:
        """Write one document with ``write_file``, in parts when it is large; the last result,
        or the first that failed (the parts after it are not sent)."""
        pieces = split_text(content, WRITE_PART_BYTES)
        prefix = f"{context.step.id}/r{context.revision}"
        result: ToolResultMessage | None = None
        for k, piece in enumerate(pieces, 1):
            arguments: dict[str, Any] = {"path": path, "content": piece}
            if len(pieces) > 1:
                arguments.update(part=k, parts=len(pieces))
            tail = f"{index}" if len(pieces) == 1 else f"{index}.{k}"
            call = ToolCall(id=f"{prefix}/w{tail}", name="write_file", arguments=arguments)
            result = await runtime.call_tool(
                ToolInvocation(
                    key=f"{prefix}/t0.{tail}",
                    agent=self.name,
                    step_id=context.step.id,
                    call=call,
                    allowed=tuple(self.tools or ()),
                    state=context.state,
                )
            )
            messages += [AssistantMessage(tool_calls=(call,)), result]
            if result.is_error:
                break
        assert result is not None  # split_text returns at least one piece
        return result

    def offline_model(self) -> FunctionModel:
        return offline_model(self.name, _play)


def sent_answers(context: StepContext) -> list[dict[str, str]]:
    """The part's drafted answers that may go to the buyer (sourced, not placeholders)."""
    requirements = {r.id: r for r in step_requirements(context, None)}
    out = []
    for draft in drafts_of(context).values():
        for answer in draft.answers:
            req = requirements.get(answer.requirement_id)
            if req is None or answer.status == "no_source" or not answer.citations:
                continue
            out.append({"requirement_id": req.id, "requirement": req.text, "text": answer.text})
    return out


#: Text an edit must not bring into the response: an approved-answer id, the no-source placeholder.
_INTERNAL = re.compile(r"\bAA-\d+\b|" + re.escape(NO_SOURCE_TEXT))


def accepted_edits(edits: list[SectionEdit]) -> tuple[dict[str, str], list[str]]:
    """requirement id -> edited text, and why any edit was not used."""
    accepted: dict[str, str] = {}
    rejected: list[str] = []
    for edit in edits:
        for item in edit.edits:
            if not item.text.strip():
                rejected.append(f"{item.requirement_id}: the edited answer was empty")
            elif _INTERNAL.search(item.text):
                rejected.append(f"{item.requirement_id}: the edited answer had internal text")
            else:
                accepted[item.requirement_id] = item.text.strip()
    return accepted, rejected


def _play(talk: Conversation) -> ModelResponse:
    """Offline there is no language model to improve the wording: the answers stay as drafted."""
    edit = talk.data("edit", {"part": "", "answers": []})
    return json_response(
        SectionEdit(
            part=str(edit["part"]),
            edits=[
                EditedAnswer(requirement_id=a["requirement_id"], text=a["text"])
                for a in edit["answers"]
            ],
            note="kept as drafted",
        )
    )


def split_text(text: str, max_bytes: int) -> list[str]:
    """``text`` in consecutive pieces (cut after a newline where one fits) whose JSON encoding
    is at most ``max_bytes``; joined, they give ``text`` back. Always at least one piece."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.splitlines(keepends=True):
        cost = _json_bytes(line)
        if cost > max_bytes:  # one line too long for a call: cut it where any character fits
            step = max(1, max_bytes // 6)  # a character takes at most 6 bytes as JSON
            cuts = [line[i : i + step] for i in range(0, len(line), step)]
            pieces += ["".join(current), *cuts[:-1]] if current else cuts[:-1]
            current, size = [cuts[-1]], _json_bytes(cuts[-1])
            continue
        if current and size + cost > max_bytes:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(line)
        size += cost
    pieces.append("".join(current))
    return pieces


def _json_bytes(text: str) -> int:
    """Bytes ``text`` takes inside a JSON string (without its quotes)."""
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8")) - 2
