"""``parser``: reads the RFP and lists its requirements (``RequirementList``)."""

from __future__ import annotations

from pathlib import Path

from agentorch import Agent, UserError
from agentorch.agent import StepContext
from agentorch.models import ModelResponse, ModelSettings
from agentorch.models.testing import FunctionModel, json_response, tool_call_response

from ._extract import extract, merge
from ._offline import Conversation, data_block, offline_model
from ._types import RequirementList

INSTRUCTIONS = """\
You are a bid analyst. Your job is to turn a Request for Proposals (RFP) into a complete, exact list
of its requirements, so that every one of them gets answered.

How to work:
1. Call read_document once for each input file listed under "Input files" (pass the path exactly as
   given). The tool returns the document as text: headings as Markdown headings, every numbered
   clause on its own line. Do not guess the content of a file you have not read.
2. A requirement is a numbered clause (for example "3.1", "2.10" or "SR-4") that states an
   obligation or an option with a modal verb. Skip numbered clauses without one (background,
   purpose statements).
3. For each requirement give:
   - id: "R-" followed by the RFP's own clause number (e.g. "R-3.1"); if the RFP numbers its
     requirements with letters (e.g. "SR-4"), use that number as the id unchanged;
   - number: the clause number as printed; title: the clause's short title if it has one
     ("Encryption"), else "";
   - text: the clause text verbatim, including its title - never paraphrase or shorten it;
   - modality: "must" for shall / must / will / is required to, "should" for should, "may" for
     may; when a clause has several, the strongest wins (must > should > may);
   - category: technical, security, sla, pricing, legal or other - decided by the section heading
     it sits under (e.g. "3. Security and Privacy" -> security, "Service Levels" -> sla,
     "Instructions to Proposers" or "Required Forms" -> other), and by the clause's own wording
     only when the heading says nothing;
   - section: the heading it sits under, as printed; source: the file name it came from.
4. Also fill title (the RFP's title), issuer (who issued it) and submit_to (the portal or address
   proposals are submitted to, exactly as written, or "" if the RFP does not say).
Never invent, merge or drop a requirement: the compliance matrix is built from your list.
"""


class RequirementParser(Agent):
    """Extracts every numbered requirement of an RFP, with modality and category."""

    name = "parser"
    description = (
        "Reads an RFP (Markdown, PDF or DOCX) with read_document and extracts every numbered "
        "requirement: id, verbatim text, modality (must/should/may) and category (technical, "
        "security, sla, pricing, legal, other)."
    )
    instructions = INSTRUCTIONS
    tools = ["read_document"]
    output_type = RequirementList
    max_turns = 6
    # long structured outputs (every requirement, the whole document): room to finish
    settings = ModelSettings(max_tokens=16384)

    def input_files(self, context: StepContext) -> dict[str, str]:
        """The files this step reads: the run's input files, narrowed to ``step.inputs`` if set."""
        files: dict[str, str] = dict(context.state.get("files") or {})
        if context.step.inputs:
            files = {name: path for name, path in files.items() if name in context.step.inputs}
        return files

    def user_prompt(self, context: StepContext) -> str:
        files = self.input_files(context)
        parts = [f"## Task\n{context.task}", f"## Your step\n{context.instruction}"]
        if files:
            listing = "\n".join(f"- {name}: {path}" for name, path in files.items())
            parts.append(f"## Input files\n{listing}")
            parts.append(data_block("files", files))
        else:  # inputs given as text (Supervisor.run(inputs=...)): no file to read
            parts.extend(f"## Input: {name}\n{text}" for name, text in context.inputs.items())
            parts.append(data_block("documents", context.inputs))
        if context.feedback:
            parts.append(
                "## Reviewers asked for changes\n" + "\n".join(f"- {f}" for f in context.feedback)
            )
        return "\n\n".join(parts)

    def offline_model(self) -> FunctionModel:
        return offline_model(self.name, _play)


def _play(talk: Conversation) -> ModelResponse:
    files: dict[str, str] = talk.data("files", {})
    if files and not talk.called("read_document"):
        return tool_call_response(*(("read_document", {"path": path}) for path in files.values()))
    lists = []
    for outcome in talk.of("read_document"):
        if outcome.is_error or outcome.content is None:
            # No LLM to work around it: fail the step with the tool's own explanation.
            raise UserError(
                f"the parser could not read {outcome.arguments.get('path')}: {outcome.content}"
            )
        lists.append(extract(outcome.content, source=Path(str(outcome.arguments["path"])).name))
    for name, text in talk.data("documents", {}).items():
        lists.append(extract(text, source=name))
    if not lists:
        return json_response(RequirementList())
    return json_response(merge(lists))
