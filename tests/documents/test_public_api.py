"""Every type ``find_requirements`` hands back can be imported from ``agentorch.documents``."""

from __future__ import annotations

import typing

from pydantic import BaseModel

import agentorch.documents as documents


def _models_in(annotation: object) -> set[type[BaseModel]]:
    """The pydantic models an annotation mentions (``list[X]``, ``X | None``, ...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {annotation}
    found: set[type[BaseModel]] = set()
    for arg in typing.get_args(annotation):
        found |= _models_in(arg)
    return found


def test_every_model_reachable_from_the_exports_is_exported() -> None:
    objects = [getattr(documents, name) for name in documents.__all__]
    exported = {obj for obj in objects if isinstance(obj, type) and issubclass(obj, BaseModel)}
    pending = list(exported)
    reachable: set[type[BaseModel]] = set()
    while pending:
        model = pending.pop()
        if model in reachable:
            continue
        reachable.add(model)
        for field in model.model_fields.values():
            pending.extend(_models_in(field.annotation))
    missing = sorted(m.__name__ for m in reachable - exported)
    assert not missing, f"not exported from agentorch.documents: {missing}"


def test_unaccounted_statement_is_exported() -> None:
    from agentorch.documents import Findings, UnaccountedStatement

    findings = Findings(unaccounted=[{"text": "Reports shall be monthly.", "section": "5"}])
    assert isinstance(findings.unaccounted[0], UnaccountedStatement)
