"""agentorch's errors: one root, three families.

- ``UserError``: the user's mistakes (bad config, unknown agent, missing file). The CLI prints them
  as one line with a hint, never a traceback.
- ``RunError``: how a run ended when it did not succeed (budget exceeded, max steps, a model that
  misbehaved, a provider that kept failing).
- ``ModelRetry``: a signal to the model, never to the user: "try again with this feedback".

Constructors only store their arguments; they never do I/O.
"""

from __future__ import annotations

from typing import Any


class AgentOrchError(Exception):
    """Root of every error agentorch raises on purpose."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return self.message


# --- the user's mistakes -------------------------------------------------------------------------


class UserError(AgentOrchError):
    """Something the user wrote or passed is wrong; fixing the input fixes it."""


class ConfigError(UserError):
    """A bad configuration value, policy file, model string or store URL."""


class UnknownModelError(ConfigError):
    """A model string names a provider agentorch does not know."""


class MissingDependencyError(ConfigError):
    """An optional extra is needed for what was asked (e.g. ``pip install 'agentorch[postgres]'``)."""


class MissingCredentialsError(ConfigError):
    """A provider was chosen but no API key is configured for it."""


class UnknownAgentError(UserError):
    """A plan, policy or workflow names a specialist that is not registered."""


class UnknownToolError(UserError):
    """A policy or agent names a tool that is not registered."""


class DuplicateNameError(UserError):
    """Two specialists or two tools share a name."""


class InputFileError(UserError):
    """An input file is missing, empty, encrypted or unreadable."""


class PolicyError(ConfigError):
    """A policy file is malformed; the message names the line or key."""


class PriceError(ConfigError):
    """A model has no known price and unpriced calls were not allowed."""


class StoreError(AgentOrchError):
    """The store cannot be opened or used (corrupt file, newer schema, unreachable server)."""


class AuditError(StoreError):
    """The run's audit log disagrees with the store: rows or records changed outside agentorch.

    Nothing is acted on: a decision, result or output the log does not vouch for is refused.
    """


class RunNotFoundError(UserError):
    """No run with that id in the store."""


class RunLockedError(UserError):
    """Another process holds this run's lease."""


class SyncInAsyncError(UserError):
    """``run_sync`` was called inside a running event loop."""


# --- run outcomes --------------------------------------------------------------------------------


class RunError(AgentOrchError):
    """A run (or a step of it) ended without success."""


class BudgetExceeded(RunError):
    """A model call's reservation did not fit in what remains of the budget; it was not sent."""

    def __init__(self, message: str, *, scope: str = "run", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.scope = scope


class MaxTurnsExceeded(RunError):
    """An agent loop did not reach a final answer within ``max_turns``."""


class MaxStepsExceeded(RunError):
    """The supervisor hit its cap on total steps or revisions."""


class DelegationCycleError(RunError):
    """The same request kept bouncing between agents."""


class PlanError(RunError):
    """The router could not produce a valid plan within its attempts."""


class ModelBehaviorError(RunError):
    """The model kept answering in a shape that does not validate."""


class ProviderError(RunError):
    """A provider call failed. ``retryable`` tells the retry wrapper whether trying again can help."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        model: str,
        status_code: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(f"{provider}:{model}: {message}", hint=hint)
        self.provider = provider
        self.model = model
        self.status_code = status_code
        self.retryable = retryable
        self.retry_after = retry_after


class ApprovalDenied(RunError):
    """A person denied an action; the reason goes back to the model or ends the step."""

    def __init__(self, message: str, *, reason: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.reason = reason


class ApprovalPending(RunError):
    """A run is waiting for a person's decision in the store (deferred approval)."""

    def __init__(self, message: str, *, request_id: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.request_id = request_id


class InDoubtError(RunError):
    """A side-effecting tool call started before a crash and has no recorded outcome."""

    def __init__(self, message: str, *, key: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.key = key


class NonDeterminismError(RunError):
    """On resume, the run asked for something different from what its journal recorded."""


class RunCancelled(UserError):
    """A person cancelled the run before it started its steps (e.g. at plan review)."""


class RunInterrupted(RunError):
    """The run was interrupted (Ctrl-C or cancellation) after checkpointing; it can be resumed."""


class LeaseLostError(RunError):
    """This process lost the run's lease (e.g. it was paused past its lease and another process
    resumed the run): it stopped before its next model or tool call and wrote nothing more."""

    def __init__(self, message: str, *, run_id: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.run_id = run_id


# --- signals to the model ------------------------------------------------------------------------


class ModelRetry(AgentOrchError):
    """Raised by a tool or output validator: the message goes back to the model as feedback."""


class ToolError(AgentOrchError):
    """A tool call that failed in a way the model should see (bad arguments, refused, raised)."""

    def __init__(
        self, message: str, *, tool: str, kind: str = "error", details: Any = None
    ) -> None:
        super().__init__(message)
        self.tool = tool
        self.kind = kind
        self.details = details
