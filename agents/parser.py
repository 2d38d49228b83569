"""``parser``: reads the RFP and lists its requirements (``RequirementList``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from agentorch import Agent, Model, RunError, UserError
from agentorch.agent import AgentResult, StepContext
from agentorch.models import ModelResponse, ModelSettings, Usage
from agentorch.models.testing import FunctionModel, json_response, tool_call_response

from ._context import part_param, requirement_list, stamp_part
from ._extract import extract, from_findings, merge
from ._offline import Conversation, data_block, offline_model
from ._parts import merge_parts, part_range
from ._types import RequirementList

#: The tool-context key the document tools read a step's part from (see tools/documents.py).
PART_KEY = "document_part"

INSTRUCTIONS = """\
You are a bid analyst. Your job is to shred a solicitation (RFP, RFQ, SOW, PWS) into a complete,
exact list of the contractor's requirements, one per obligation, so that every one gets answered.

How to work:
1. For each input file listed under "Input files", call find_requirements (pass the path exactly
   as given). It returns the candidate requirements the document states - each with an id from
   the document's own numbering, its verbatim text, modality, section and location - and the
   statements it kept out (the buyer's own obligations, what is stated as not required) with the
   reason. Call read_document too when you need the full text (headings as Markdown headings,
   one paragraph, list item or table row per line) to check or complete the candidates.
2. Verify the candidates against the document and complete them. A requirement is one
   obligation or permission of the contractor / offeror / vendor / quoter:
   - a sentence with shall, must, will, will be required to, is required to, is responsible
     for, or a prohibition (shall not, must not): modality "must" (negative true for a
     prohibition); should, is encouraged to, is expected to: "should"; may, when it is an
     option of the contractor: "may";
   - one row per obligation sentence: a clause with several becomes R-3.5.a, R-3.5.b, ...;
     except a decimal-numbered clause with a sentence-case run-in title closed by a full stop
     ("2.3 Configurable workflows. The Solution shall ..."): one requirement, its whole text, at
     its strongest modality (a title in capitals or closed by a colon heads one row per sentence);
   - a list under a lead-in ("The Contractor shall:", "shall provide the following",
     "the following are required"): each item is one requirement with the lead-in's modality;
     the lead-in itself is not one, unless it states an obligation of its own beyond pointing at
     the list ("shall assign the personnel named in its quotation to this task order:");
   - a requirement stated in a table cell; a deliverables table: one requirement per
     deliverable, text "<deliverable> - <due date>" and due set to the due date.
   Not requirements: what the buyer does or may do ("The Government will ...", "the COR shall
   inspect", "the Contracting Officer may"), how proposals are evaluated, background and
   definitions. Keep a candidate you drop in excluded with the reason; never drop one silently.
3. For each requirement give: id (keep the candidate's; for one you add, "R-" + the clause number
   it sits under plus a letter, or the section and an ordinal); number (the clause number as
   printed); title (the clause's short title, or ""); text (verbatim - never paraphrase or
   shorten it); modality; negative; category: technical, security, sla, pricing, legal or other,
   decided by the section heading (e.g. "3. Security and Privacy" -> security, "Service Levels"
   -> sla, "Instructions to Proposers" or "Required Forms" -> other), and by the requirement's
   own wording only when the heading says nothing; section (the heading, as printed); location
   (as the candidate gives it); due; flags (keep the candidate's, e.g. "repeated_number");
   source (the file name).
4. Also fill title (the document's title), issuer (who issued it), submit_to (the portal or
   address responses are submitted to, exactly as written, or ""), statements_seen (how many
   requirement-like statements you saw: requirements plus excluded) and excluded.
Never invent, merge or drop a requirement: the compliance matrix is built from your list.
When your step works on one part of a document ("Document part": its start and end blocks),
pass start and end to find_requirements and read_document: list that part's requirements only;
the other parts have steps of their own and the lists are merged in code.
"""


class RequirementParser(Agent):
    """Extracts every requirement of a solicitation, one per obligation, with id and location."""

    name = "parser"
    description = (
        "Shreds a solicitation (RFP, RFQ, SOW, PWS as Markdown, text, PDF or DOCX) into its "
        "requirements, one per obligation of the contractor: id, verbatim text, location, "
        "modality (must/should/may) and category (technical, security, sla, pricing, legal, "
        "other); the buyer's own obligations are listed apart."
    )
    instructions = INSTRUCTIONS
    tools = ["find_requirements", "read_document"]
    output_type = RequirementList
    max_turns = 6
    # long structured outputs (every requirement, the whole document): room to finish
    settings = ModelSettings(max_tokens=16384)

    def input_files(self, context: StepContext) -> dict[str, str]:
        """The files this step reads: the run's input files, narrowed to ``step.inputs`` (or to
        its part's file) if set."""
        files: dict[str, str] = dict(context.state.get("files") or {})
        wanted = list(context.step.inputs)
        if part_range(context.step.params) is not None:
            wanted = [str(context.step.params.get("file"))]
        if wanted:
            files = {name: path for name, path in files.items() if name in wanted}
        return files

    async def execute(self, context: StepContext, runtime: Any, model: Model) -> AgentResult:
        """A part's requirements say which part they are in; merging the parts' lists is code."""
        if not context.step.params.get("merge"):
            span = part_range(context.step.params)
            if span is not None:  # the tools read this part unless asked for other blocks
                part = {"file": context.step.params.get("file"), "start": span[0], "end": span[1]}
                context = dataclasses.replace(context, state={**context.state, PART_KEY: part})
            result = await super().execute(context, runtime, model)
            if isinstance(result.output, RequirementList) and part_param(context):
                result.output = result.output.model_copy(
                    update={
                        "requirements": [stamp_part(r, context) for r in result.output.requirements]
                    }
                )
            return result
        lists = []
        for step_id in context.step.depends_on:
            dep = context.dependencies.get(step_id)
            if dep is None or dep.status != "done":
                error = dep.error if dep is not None else "not run"
                raise RunError(f"the requirements of {step_id} are missing: {error}")
            single = requirement_list(dep.output)
            if single is None:
                raise RunError(f"{step_id} gave no requirement list")
            lists.append(single)
        return AgentResult(output=merge_parts(lists), usage=Usage(), messages=[], turns=0)

    def user_prompt(self, context: StepContext) -> str:
        files = self.input_files(context)
        parts = [f"## Task\n{context.task}", f"## Your step\n{context.instruction}"]
        if files:
            listing = "\n".join(f"- {name}: {path}" for name, path in files.items())
            parts.append(f"## Input files\n{listing}")
            parts.append(data_block("files", files))
            span = part_range(context.step.params)
            if span is not None:
                heading = context.step.params.get("heading") or "its first section"
                parts.append(
                    f"## Document part\nBlocks {span[0]} to {span[1]} (start={span[0]}, "
                    f"end={span[1]}), from {heading}."
                )
                parts.append(data_block("part", {"start": span[0], "end": span[1]}))
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
    span: dict[str, int] = talk.data("part", {})
    if files and not talk.called("find_requirements"):
        return tool_call_response(
            *(("find_requirements", {"path": path, **span}) for path in files.values())
        )
    lists = []
    for outcome in talk.of("find_requirements"):
        findings = outcome.json()
        if outcome.is_error or not isinstance(findings, dict):
            # No LLM to work around it: fail the step with the tool's own explanation.
            raise UserError(
                f"the parser could not read {outcome.arguments.get('path')}: {outcome.content}"
            )
        lists.append(from_findings(findings, source=Path(str(outcome.arguments["path"])).name))
    for name, text in talk.data("documents", {}).items():
        lists.append(extract(text, source=name))
    if not lists:
        return json_response(RequirementList())
    return json_response(merge(lists))
