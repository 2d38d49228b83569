"""The run's outcome in plain words: submitted, completed with gaps, not submitted, or failed."""

from __future__ import annotations

from ._types import ResponseDocument, RunOutcome, SectionDraft, Submission

#: Open mandatory requirements named in the outcome's details; the bid review lists them all.
SHOWN_GAPS = 30


def _counts(document: ResponseDocument) -> str:
    return (
        f"{document.requirements} requirements: {document.covered} covered, "
        f"{document.partial} partial, {document.conflict} conflict, {document.missing} missing"
    )


def outcome_of(submission: Submission, document: ResponseDocument, *, tried: bool) -> RunOutcome:
    """What the person reads at the end of the run (the command line prints it)."""
    details = []
    if document.path:
        details.append(f"Response (for the buyer): {document.path}")
    if document.review_path:
        details.append(f"Bid review (internal): {document.review_path}")
    if document.library:
        details.append(f"Answer library: {document.library}")
    details.append(_counts(document))
    blocking = document.blocking()
    if blocking:
        more = len(blocking) - SHOWN_GAPS
        details.append(
            "Open mandatory requirements: "
            + ", ".join(f"{g.requirement_id} ({g.status})" for g in blocking[:SHOWN_GAPS])
            + (f" and {more} more (all in the bid review)" if more > 0 else "")
        )
    if submission.submitted:
        where = f"to {submission.recipient}" if submission.recipient else ""
        receipt = f" (receipt {submission.receipt_id})" if submission.receipt_id else ""
        if submission.accepted_gaps or document.gaps:
            accepted = (
                f"; a person accepted {', '.join(submission.accepted_gaps)} as exceptions"
                if submission.accepted_gaps
                else ""
            )
            return RunOutcome(
                kind="completed_with_gaps",
                complete=True,
                headline=f"Response submitted {where}{receipt} with gaps{accepted}".replace(
                    "  ", " "
                ),
                details=details,
            )
        return RunOutcome(
            kind="submitted",
            complete=True,
            headline=f"Response submitted {where}{receipt}".replace("  ", " "),
            details=details,
        )
    if not document.written:
        why = document.note or "the response was not written"
        return RunOutcome(
            kind="not_submitted",
            complete=False,
            headline=f"Nothing submitted: the response was not written ({why})",
            details=details,
        )
    if submission.refused:
        reason = (
            f"{len(blocking)} mandatory requirement(s) are missing or in conflict and no person "
            "accepted them by name"
            if blocking
            else submission.note.removeprefix("not submitted: ")
        )
        return RunOutcome(
            kind="not_submitted",
            complete=False,
            headline=f"Response written, NOT submitted: refused - {reason}",
            details=details,
        )
    why = submission.note.removeprefix("not submitted: ") if tried else "not attempted"
    return RunOutcome(
        kind="not_submitted",
        complete=False,
        headline=f"Response written, NOT submitted: {why}",
        details=details,
    )


def unanswered_outcome(document: ResponseDocument, drafts: list[SectionDraft]) -> RunOutcome | None:
    """The outcome of a run that ends with the assembled documents (no submit step): not
    complete while requirements have no approved answer, with why (no library, if none was read)."""
    if not document.missing:
        return None
    details = [d for draft in drafts if draft.outcome for d in draft.outcome.details[:1]]
    library = sorted({d for d in details if d.startswith("No approved-answer library")})
    return RunOutcome(
        kind="incomplete",
        complete=False,
        headline=f"Response written, NOT complete: {document.missing} of "
        f"{document.requirements} requirements have no approved answer",
        details=[
            *library,
            *([f"Response (for the buyer): {document.path}"] if document.path else []),
            _counts(document),
        ],
    )
