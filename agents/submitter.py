"""``submitter``: submits the written response to the buyer, once a person approves.

The facts of the submission (whether it went, what the gate refused, which gaps a person
accepted) come from code: the open mandatory requirements are handed to ``submit_response``
through the tool context, and the outcome is read from the tool's result, not from the model.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from agentorch import Agent, Model, RunError
from agentorch.agent import AgentResult, StepContext
from agentorch.models import ModelResponse, ToolResultMessage, Usage
from agentorch.models.testing import FunctionModel, json_response, tool_call_response

from ._context import outputs_of_type, requirements_of
from ._offline import Conversation, data_block, offline_model
from ._outcome import outcome_of
from ._types import ResponseDocument, Submission

#: The tool-context key ``submit_response`` reads the open mandatory requirements from.
GATE_KEY = "submission_gate"
#: More open mandatory requirements than a person can accept by name in one submission: the
#: response is not submitted (and the submitter's prompt, which names them, stays small).
MAX_NAMED_GAPS = 50

INSTRUCTIONS = """\
You submit a finished RFP response document to the buyer. Submission cannot be undone, and a
person must approve it: the runtime asks them when you call submit_response.

How to work:
1. If the response document was not written (see "Document"), do not call any tool: answer with
   submitted false and say why in note.
2. Otherwise call submit_response once, with the document's path exactly as given, the recipient
   given under "Recipient", and accept_gaps listing the ids under "Open mandatory requirements"
   (empty when there are none): the person approving sees exactly which gaps they accept. The
   tool refuses a submission with open mandatory gaps unless a person approved it; do not retry
   a refusal or a denial.
3. Answer with the Submission JSON only: submitted (true only if submit_response returned a
   receipt), recipient, path, receipt_id (from the receipt) and note (what happened - e.g. that
   the person denied the submission, with their reason).
"""


class Submitter(Agent):
    """Submits the written response document with submit_response (always needs approval)."""

    name = "submitter"
    description = (
        "Submits the finished response document to the buyer with submit_response; a person "
        "must approve every submission, and open mandatory gaps only a person can accept."
    )
    instructions = INSTRUCTIONS
    tools = ["submit_response"]
    output_type = Submission
    max_turns = 4

    @staticmethod
    def document(context: StepContext) -> ResponseDocument | None:
        return next(iter(outputs_of_type(context, ResponseDocument, key="written").values()), None)

    def user_prompt(self, context: StepContext) -> str:
        document = self.document(context)
        listing = requirements_of(context)
        recipient = str(
            context.step.params.get("recipient")
            or context.state.get("recipient")
            or (listing.submit_to if listing is not None else "")
            or "the buyer's submission portal"
        )
        blocking = document.blocking() if document else []
        info = {
            "written": bool(document and document.written and document.path),
            "path": document.path if document else None,
            "note": document.note if document else "the editor's step did not finish",
            "recipient": recipient,
            "open_mandatory": [g.requirement_id for g in blocking],
        }
        gaps = "\n".join(
            f"- {g.requirement_id} ({g.status}) {g.title}: {g.detail}" for g in blocking
        )
        return "\n\n".join(
            [
                f"## Task\n{context.task}",
                f"## Your step\n{context.instruction}",
                f"## Document\nwritten: {info['written']}; path: {info['path']}; {info['note']}",
                f"## Recipient\n{recipient}",
                f"## Open mandatory requirements\n{gaps or 'None.'}",
                data_block("submission", info),
            ]
        )

    async def execute(self, context: StepContext, runtime: Any, model: Model) -> AgentResult:
        """Hand the gate to the tool; then state the outcome from the tool's result."""
        document = self.document(context)
        if document is None:
            failed = [
                f"{d.step_id}: {d.error or d.status}"
                for d in context.dependencies.values()
                if d.status != "done"
            ]
            raise RunError(
                "nothing submitted: the response was not assembled"
                + (f" ({'; '.join(failed)})" if failed else "")
            )
        blocking = document.blocking()
        if len(blocking) > MAX_NAMED_GAPS:
            where = f" ({document.review_path})" if document.review_path else ""
            held = Submission(
                submitted=False,
                refused=True,
                path=document.path,
                review_path=document.review_path,
                note=f"not submitted: {len(blocking)} mandatory requirements are missing or in "
                f"conflict, more than a person can accept by name in one submission "
                f"({MAX_NAMED_GAPS}); resolve them in the bid review{where} first",
            )
            held.outcome = outcome_of(held, document, tried=False)
            return AgentResult(output=held, usage=Usage(), messages=[], turns=0)
        gate = {"open_mandatory": [g.requirement_id for g in blocking]}
        scoped = dataclasses.replace(context, state={**context.state, GATE_KEY: gate})
        result = await super().execute(scoped, runtime, model)
        if isinstance(result.output, Submission):
            result.output = settle(result.output, document, _last_submit(result.messages))
        return result

    def offline_model(self) -> FunctionModel:
        return offline_model(self.name, _play)


def _last_submit(messages: list[Any]) -> ToolResultMessage | None:
    found = None
    for message in messages:
        if isinstance(message, ToolResultMessage) and message.name == "submit_response":
            found = message
    return found


def settle(
    claimed: Submission, document: ResponseDocument, tool_result: ToolResultMessage | None
) -> Submission:
    """The submission as it happened (the tool's result), with the run's outcome in words."""
    import json

    receipt: dict[str, Any] | None = None
    error = ""
    if tool_result is not None and not tool_result.is_error:
        try:
            value = json.loads(tool_result.content)
        except ValueError:
            value = None
        receipt = value if isinstance(value, dict) else None
    elif tool_result is not None:
        error = tool_result.content.removeprefix("Error: ")
    refused = "refused:" in error
    submission = claimed.model_copy(
        update={
            "submitted": receipt is not None,
            "refused": refused,
            "path": document.path,
            "review_path": document.review_path,
            "receipt_id": str(receipt.get("receipt_id")) if receipt else None,
            "accepted_gaps": list(receipt.get("accepted_gaps") or []) if receipt else [],
            "recipient": str(receipt.get("recipient", claimed.recipient))
            if receipt
            else claimed.recipient,
            "note": (
                f"submitted; receipt {receipt.get('receipt_id')}"
                if receipt
                else f"not submitted: {error}"
                if error
                else claimed.note or "not submitted"
            ),
        }
    )
    return submission.model_copy(
        update={"outcome": outcome_of(submission, document, tried=tool_result is not None)}
    )


def _play(talk: Conversation) -> ModelResponse:
    info = talk.data("submission")
    if not info["written"]:
        return json_response(
            Submission(
                submitted=False,
                recipient=info["recipient"],
                path=info["path"],
                note=f"nothing submitted: the response was not written ({info['note']})",
            )
        )
    if not talk.called("submit_response"):
        args = {"path": info["path"], "recipient": info["recipient"]}
        if info.get("open_mandatory"):
            args["accept_gaps"] = list(info["open_mandatory"])
        return tool_call_response(("submit_response", args))
    outcome = talk.of("submit_response")[-1]
    receipt = outcome.json()
    if outcome.is_error or not isinstance(receipt, dict):
        return json_response(
            Submission(
                submitted=False,
                recipient=info["recipient"],
                path=info["path"],
                note=f"not submitted: {outcome.content}",
            )
        )
    return json_response(
        Submission(
            submitted=True,
            recipient=str(receipt.get("recipient", info["recipient"])),
            path=info["path"],
            receipt_id=receipt.get("receipt_id"),
            note=f"submitted; receipt {receipt.get('receipt_id')}",
        )
    )
