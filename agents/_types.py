"""The typed outputs of the built-in specialists (what each step hands to the next)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from agentorch import Verdict


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


#: "SLA" and "Security" are accepted and stored lower-case.
Category = Annotated[
    Literal["technical", "security", "sla", "pricing", "legal", "other"], BeforeValidator(_lower)
]
#: A section: one category, or "all" when a writer was given no category.
SectionCategory = Annotated[
    Literal["technical", "security", "sla", "pricing", "legal", "other", "all"],
    BeforeValidator(_lower),
]
CATEGORIES: tuple[str, ...] = ("technical", "security", "sla", "pricing", "legal", "other")
Modality = Literal["must", "should", "may"]
AnswerStatus = Literal["answered", "partial", "no_source"]
CoverageStatus = Literal["covered", "partial", "conflict", "missing"]
COVERAGE: tuple[str, ...] = ("covered", "partial", "conflict", "missing")
RiskFlag = Literal["pricing_commitment", "legal_exposure", "absolute_claim", "unsourced_claim"]

NO_SOURCE_TEXT = "No approved answer; needs input from the bid team."


class Requirement(BaseModel):
    """One requirement of the RFP, as the buyer numbered it."""

    id: str = Field(description="Stable id: 'R-' + the RFP's own clause number, e.g. 'R-3.1'.")
    number: str = Field(description="The clause number as printed in the RFP, e.g. '3.1'.")
    title: str = Field(default="", description="The clause's short title, if it has one.")
    text: str = Field(description="The clause text, verbatim.")
    modality: Modality = Field(
        description="must (shall/must/will/is required), should, or may (optional)."
    )
    category: Category = Field(
        description="technical, security, sla, pricing, legal or other (section + wording)."
    )
    section: str = Field(description="The section heading it appears under, e.g. '3. Security'.")
    source: str = Field(default="", description="The input file it came from.")
    location: str = Field(
        default="", description="Where it is in the source: 'line 120' or 'page 4, line 12'."
    )
    negative: bool = Field(
        default=False, description="A prohibition ('shall not', 'must not'): modality must."
    )
    due: str = Field(default="", description="The due date or time, for a deliverable.")
    flags: list[str] = Field(
        default_factory=list,
        description="Extraction notes a person should check, e.g. 'repeated_number'.",
    )
    part: str = Field(
        default="", description="The document part it was found in (filled in by the workflow)."
    )


class ExcludedStatement(BaseModel):
    """A requirement-like statement kept out of the matrix, and why (the buyer's own duty, ...)."""

    text: str = Field(description="The statement, verbatim.")
    section: str = Field(default="", description="The section heading it appears under.")
    location: str = Field(default="", description="Where it is in the source, e.g. 'line 88'.")
    reason: str = Field(description="Why it is not a requirement, e.g. 'obligation of the buyer'.")


class RequirementList(BaseModel):
    """Every requirement of one RFP, in document order."""

    title: str = Field(default="", description="The RFP's title.")
    issuer: str = Field(default="", description="Who issued it.")
    submit_to: str = Field(
        default="", description="Where responses are submitted (portal or address), if stated."
    )
    sources: list[str] = Field(default_factory=list, description="The input files read.")
    requirements: list[Requirement] = Field(default_factory=list)
    statements_seen: int = Field(
        default=0, description="Requirement-like statements (modal verbs) the parser saw."
    )
    excluded: list[ExcludedStatement] = Field(
        default_factory=list, description="Statements seen but kept out of the list, with why."
    )
    unaccounted: list[ExcludedStatement] = Field(
        default_factory=list,
        description="Sentences with shall/must/required that became neither a requirement nor an "
        "exclusion: likely misses, for a person to check.",
    )

    def of_category(self, category: str) -> list[Requirement]:
        wanted = category.strip().lower()
        return [r for r in self.requirements if r.category == wanted]


class DraftAnswer(BaseModel):
    """The answer to one requirement, with the approved answers it relies on."""

    requirement_id: str
    text: str = Field(
        description="The answer text; every claim comes from a cited approved answer."
    )
    citations: list[str] = Field(
        default_factory=list, description="Ids of the approved answers used, e.g. ['AA-006']."
    )
    status: AnswerStatus = Field(
        description="answered (fully sourced), partial (in part), no_source (nothing approved)."
    )


class SectionDraft(BaseModel):
    """A writer's answers for the requirements of one category."""

    category: SectionCategory
    answers: list[DraftAnswer] = Field(default_factory=list)
    part: str = Field(default="", description="The document part drafted (filled in by code).")
    #: Filled in by code, never by a model (so not in the schema a model is shown): set when
    #: answers have no approved source, so a run that ends with this draft does not read as done.
    outcome: SkipJsonSchema[RunOutcome | None] = None


class CheckedValue(BaseModel):
    """One constraint of a requirement compared with what the answer commits to."""

    kind: str = Field(description="What is compared, e.g. 'response_time', 'money', 'standard'.")
    subject: str = Field(default="", description="What the value is about, e.g. 'notification'.")
    required: str = Field(default="", description="What the requirement asks, e.g. '<= 24 hours'.")
    offered: str | None = Field(default=None, description="What the answer says, e.g. '72 hours'.")
    verdict: str = Field(
        description="meets, falls_short, conflicts, not_stated or cannot_tell for this value."
    )


class CommitmentCheck(BaseModel):
    """The ``check_commitment`` result for one requirement and its drafted answer."""

    verdict: str = Field(description="meets, falls_short, conflicts, not_stated or cannot_tell.")
    relevant: bool = Field(default=True, description="Whether the answer is on the subject.")
    relevance: float = Field(default=1.0, description="How close the subjects are (0 to 1).")
    summary: str = ""
    checks: list[CheckedValue] = Field(default_factory=list)


class MatrixRow(BaseModel):
    """One line of the compliance matrix."""

    requirement_id: str
    modality: Modality = "must"
    status: CoverageStatus = Field(description="covered, partial, conflict or missing.")
    evidence: list[str] = Field(default_factory=list, description="Approved-answer ids cited.")
    note: str = ""
    check: CommitmentCheck | None = Field(
        default=None, description="What check_commitment found: required vs offered values."
    )


class ComplianceReport(Verdict):
    """The compliance reviewer's matrix for one section, with its verdict."""

    category: SectionCategory
    matrix: list[MatrixRow] = Field(default_factory=list)
    open_issues: list[str] = Field(
        default_factory=list, description="Gaps a person must resolve (missing requirements)."
    )
    part: str = Field(default="", description="The document part reviewed (filled in by code).")


class RiskFinding(BaseModel):
    """One risk the critic found in a draft."""

    flag: RiskFlag
    requirement_id: str | None = None
    detail: str


class RiskReview(Verdict):
    """The risk critic's findings for one section, with its verdict."""

    category: SectionCategory
    findings: list[RiskFinding] = Field(default_factory=list)
    part: str = Field(default="", description="The document part reviewed (filled in by code).")


class EditedAnswer(BaseModel):
    """One answer as the editor leaves it for the buyer: same substance, better flow."""

    requirement_id: str
    text: str


class SectionEdit(BaseModel):
    """The editor's pass over one part's answers before the response is assembled.

    Extra fields are refused, so the assembling step's ``ResponseDocument`` (same agent) is
    never read back as an edit.
    """

    model_config = ConfigDict(extra="forbid")

    part: str = ""
    edits: list[EditedAnswer] = Field(default_factory=list)
    note: str = ""


class Gap(BaseModel):
    """A requirement the response does not fully meet, for the bid review and the gate."""

    requirement_id: str
    modality: Modality = "must"
    status: CoverageStatus
    title: str = ""
    detail: str = Field(default="", description="Why: the checked values, or what is missing.")


class ResponseDocument(BaseModel):
    """The two documents written: the buyer's response and the team's bid review.

    Extra fields are refused, so a part's ``SectionEdit`` (same agent) is never read back as one.
    """

    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(default=None, description="Where the response was written, if it was.")
    written: bool = False
    markdown: str = Field(default="", description="The response text (filled from the write).")
    review_path: str | None = Field(default=None, description="Where the bid review was written.")
    requirements: int = 0
    covered: int = 0
    partial: int = 0
    conflict: int = 0
    missing: int = 0
    open_issues: list[str] = Field(default_factory=list)
    gaps: list[Gap] = Field(default_factory=list)
    library: str = ""
    note: str = ""
    #: Filled in by code: set while requirements have no approved answer, so a run that ends
    #: with this document (no submit step) does not read as done.
    outcome: SkipJsonSchema[RunOutcome | None] = None

    def blocking(self) -> list[Gap]:
        """Mandatory requirements missing or in conflict: submission waits for a person."""
        return [
            g for g in self.gaps if g.modality == "must" and g.status in ("missing", "conflict")
        ]


OutcomeKind = Literal["submitted", "completed_with_gaps", "not_submitted", "incomplete", "failed"]


class RunOutcome(BaseModel):
    """What the run achieved, in words: the end-of-run summary prints it.

    ``complete`` is true only when the response went to the buyer; the command line exits with
    a distinct code otherwise.
    """

    kind: OutcomeKind
    complete: bool
    headline: str
    details: list[str] = Field(default_factory=list)


SectionDraft.model_rebuild()  # their outcome is a RunOutcome, defined above
ResponseDocument.model_rebuild()


class Submission(BaseModel):
    """What happened when the response was submitted to the buyer (the run's final output)."""

    submitted: bool
    refused: bool = Field(default=False, description="The submission gate refused it.")
    recipient: str = ""
    path: str | None = None
    review_path: str | None = None
    receipt_id: str | None = None
    accepted_gaps: list[str] = Field(default_factory=list)
    note: str = ""
    outcome: RunOutcome | None = None


__all__ = [
    "CATEGORIES",
    "COVERAGE",
    "NO_SOURCE_TEXT",
    "AnswerStatus",
    "Category",
    "CheckedValue",
    "CommitmentCheck",
    "ComplianceReport",
    "CoverageStatus",
    "DraftAnswer",
    "EditedAnswer",
    "ExcludedStatement",
    "Gap",
    "MatrixRow",
    "Modality",
    "OutcomeKind",
    "Requirement",
    "RequirementList",
    "ResponseDocument",
    "RiskFinding",
    "RiskFlag",
    "RiskReview",
    "RunOutcome",
    "SectionCategory",
    "SectionDraft",
    "SectionEdit",
    "Submission",
]
