"""Reading other steps' typed outputs out of a ``StepContext`` (by shape, not by agent name)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from agentorch.agent import StepContext

from ._types import ComplianceReport, Requirement, RequirementList, RiskReview, SectionDraft

M = TypeVar("M", bound=BaseModel)


def as_model(value: Any, model: type[M]) -> M | None:
    """``value`` as ``model`` (from a dict or an equivalent model), or ``None`` if it is not one."""
    if isinstance(value, model):
        return value
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if not isinstance(value, dict):
        return None
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def _done(context: StepContext) -> list[tuple[str, Any]]:
    return [(d.step_id, d.output) for d in context.dependencies.values() if d.status == "done"]


def requirements_of(context: StepContext) -> RequirementList | None:
    """The parser's requirement list among the step's dependencies (merged if several).

    The list is shared, not copied: every step of a large RFP reads the same one at once.
    """
    found = [r for _, out in _done(context) if (r := requirement_list(out)) is not None]
    if not found:
        return None
    if len(found) == 1:
        return found[0]
    merged = found[0].model_copy(update={"requirements": list(found[0].requirements)})
    for extra in found[1:]:
        merged.requirements.extend(extra.requirements)
    return merged


def requirement_list(value: Any) -> RequirementList | None:
    """``value`` (one step's output) as a ``RequirementList``, or ``None`` if it is not one."""
    if isinstance(value, RequirementList):
        return value
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if not isinstance(value, dict) or "requirements" not in value:
        return None
    return as_model(value, RequirementList)


def outputs_of_type(context: StepContext, model: type[M], *, key: str) -> dict[str, M]:
    """step id -> output, for finished dependencies whose output has ``key`` and fits ``model``."""
    found: dict[str, M] = {}
    for step_id, out in _done(context):
        data = out.model_dump(mode="json") if isinstance(out, BaseModel) else out
        if isinstance(data, dict) and key in data:
            typed = as_model(data, model)
            if typed is not None:
                found[step_id] = typed
    return found


def drafts_of(context: StepContext) -> dict[str, SectionDraft]:
    return outputs_of_type(context, SectionDraft, key="answers")


def compliance_of(context: StepContext) -> dict[str, ComplianceReport]:
    return outputs_of_type(context, ComplianceReport, key="matrix")


def reviews_of(context: StepContext) -> dict[str, RiskReview]:
    return outputs_of_type(context, RiskReview, key="findings")


def reviewed_draft(context: StepContext) -> SectionDraft | None:
    """For a reviewer step: the draft it reviews."""
    target = context.step.reviews
    dep = context.dependencies.get(target) if target else None
    if dep is None or dep.status != "done":
        return None
    return as_model(dep.output, SectionDraft)


def category_param(context: StepContext) -> str | None:
    """``step.params["category"]`` lower-cased, or ``None``."""
    value = context.step.params.get("category")
    return str(value).strip().lower() if value else None


def part_param(context: StepContext) -> str | None:
    """``step.params["part"]``: the document part a step works on, or ``None``."""
    value = context.step.params.get("part")
    return str(value) if value else None


def step_requirements(context: StepContext, category: str | None) -> list[Requirement]:
    """The requirements a step works on: its part's when it has one, else ``category``'s (all
    when ``None`` or "all")."""
    listing = requirements_of(context)
    if listing is None:
        return []
    part = part_param(context)
    if part is not None:
        return [r for r in listing.requirements if r.part == part]
    if category and category != "all":
        return listing.of_category(category)
    return listing.requirements


def section_requirements(context: StepContext, category: str | None) -> list[dict[str, Any]]:
    """The step's requirements (see ``step_requirements``) as compact dicts for a prompt."""
    return [
        r.model_dump(include={"id", "title", "text", "modality", "category"})
        for r in step_requirements(context, category)
    ]


def stamp_part(output: Any, context: StepContext) -> Any:
    """``output`` with the step's part set (code says which part a result is about, not a model)."""
    part = part_param(context)
    if part is None or not isinstance(output, BaseModel) or "part" not in type(output).model_fields:
        return output
    return output.model_copy(update={"part": part})


def review_prompt(context: StepContext, what: str, *, key_terms: bool = False) -> str:
    """A reviewer's prompt: its section's requirements and the draft under review, nothing else.

    With ``key_terms``, each requirement carries its distinctive words and their weights in the
    whole document (what an answer must speak to before it is "covered").
    """
    from ._offline import data_block

    draft = reviewed_draft(context)
    category = category_param(context) or (str(draft.category) if draft is not None else None)
    requirements = section_requirements(context, category)
    listing = requirements_of(context) if key_terms else None
    if listing is not None:
        from ._specific import document_terms
        from ._specific import key_terms as terms_of

        shared = listing.requirements
        document = document_terms(shared, (r.text for r in shared))
        for req in requirements:
            req["key_terms"] = terms_of(str(req["text"]), document)
    answers = [a.model_dump(mode="json") for a in draft.answers] if draft is not None else []
    parts = [
        f"## Task\n{context.task}",
        f"## Your step\n{context.instruction}",
        f"## Section under review\n{category or 'all'}: {what}",
        data_block(
            "review",
            {
                "category": category or "all",
                "requirements": requirements,
                "answers": answers,
                "revision": context.revision,
            },
        ),
    ]
    if draft is None:
        parts.append("## Note\nThe draft under review is not available.")
    return "\n\n".join(parts)
