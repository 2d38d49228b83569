"""``submitter``: submits the written response to the buyer, once a person approves."""

from __future__ import annotations

from agentorch import Agent
from agentorch.agent import StepContext
from agentorch.models import ModelResponse
from agentorch.models.testing import FunctionModel, json_response, tool_call_response

from ._context import outputs_of_type, requirements_of
from ._offline import Conversation, data_block, offline_model
from ._types import ResponseDocument, Submission

INSTRUCTIONS = """\
You submit a finished RFP response document to the buyer. Submission cannot be undone, and a
person must approve it: the runtime asks them when you call submit_response.

How to work:
1. If the response document was not written (see "Document"), do not call any tool: answer with
   submitted false and say why in note.
2. Otherwise call submit_response once, with the document's path exactly as given and the
   recipient given under "Recipient".
3. Answer with the Submission JSON only: submitted (true only if submit_response returned a
   receipt), recipient, path, receipt_id (from the receipt) and note (what happened - e.g. that
   the person denied the submission, with their reason).
"""


class Submitter(Agent):
    """Submits the written response document with submit_response (always needs approval)."""

    name = "submitter"
    description = (
        "Submits the finished response document to the buyer with submit_response; a person "
        "must approve every submission."
    )
    instructions = INSTRUCTIONS
    tools = ["submit_response"]
    output_type = Submission
    max_turns = 4

    def user_prompt(self, context: StepContext) -> str:
        document = next(
            iter(outputs_of_type(context, ResponseDocument, key="written").values()), None
        )
        listing = requirements_of(context)
        recipient = str(
            context.step.params.get("recipient")
            or context.state.get("recipient")
            or (listing.submit_to if listing is not None else "")
            or "the buyer's submission portal"
        )
        info = {
            "written": bool(document and document.written and document.path),
            "path": document.path if document else None,
            "note": document.note if document else "the editor's step did not finish",
            "recipient": recipient,
        }
        return "\n\n".join(
            [
                f"## Task\n{context.task}",
                f"## Your step\n{context.instruction}",
                f"## Document\nwritten: {info['written']}; path: {info['path']}; {info['note']}",
                f"## Recipient\n{recipient}",
                data_block("submission", info),
            ]
        )

    def offline_model(self) -> FunctionModel:
        return offline_model(self.name, _play)


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
        return tool_call_response(
            ("submit_response", {"path": info["path"], "recipient": info["recipient"]})
        )
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
