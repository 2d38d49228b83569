"""agentorch: a supervisor-agent runtime for business workflows.

A supervisor plans a task, delegates steps to specialist agents, reviews their work and escalates
to a person when a result is risky, with hard budgets, runtime-enforced tool permissions,
crash-safe resume and a tamper-evident audit log.

The public names below are imported lazily, so ``import agentorch`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # agents and orchestration
    "Agent": "agentorch.agent",
    "AgentResult": "agentorch.agent",
    "StepContext": "agentorch.agent",
    "Workflow": "agentorch.workflow",
    "EscalationPolicy": "agentorch.review",
    "Limits": "agentorch.limits",
    "Supervisor": "agentorch.supervisor",
    "RunResult": "agentorch.result",
    "Plan": "agentorch.plan",
    "Step": "agentorch.plan",
    "Verdict": "agentorch.plan",
    "ReviewPoint": "agentorch.plan",
    "ComparedValue": "agentorch.plan",
    # tools, policy, approvals
    "tool": "agentorch.tools.base",
    "Tool": "agentorch.tools.base",
    "ToolContext": "agentorch.tools.base",
    "ToolRegistry": "agentorch.tools.registry",
    "Policy": "agentorch.policy",
    "Approver": "agentorch.approvals",
    "ApprovalRequest": "agentorch.approvals",
    "ApprovalDecision": "agentorch.approvals",
    "CallbackApprover": "agentorch.approvals",
    "AutoApprover": "agentorch.approvals",
    "DeferredApprover": "agentorch.approvals",
    "ApproveAll": "agentorch.approvals",
    # budget
    "Budget": "agentorch.budget",
    "UsageReport": "agentorch.budget",
    "AgentCap": "agentorch.budget",
    # models
    "Model": "agentorch.models.base",
    "infer_model": "agentorch.models",
    "ScriptedModel": "agentorch.models.testing",
    "FunctionModel": "agentorch.models.testing",
    "Usage": "agentorch.models.types",
    # store and events
    "open_store": "agentorch.store",
    "EventBus": "agentorch.events.bus",
    # process settings
    "tune_gc": "agentorch.tuning",
    # errors
    "AgentOrchError": "agentorch.errors",
    "UserError": "agentorch.errors",
    "ConfigError": "agentorch.errors",
    "RunError": "agentorch.errors",
    "BudgetExceeded": "agentorch.errors",
    "ModelBehaviorError": "agentorch.errors",
    "ModelRetry": "agentorch.errors",
    "ProviderError": "agentorch.errors",
    "MaxTurnsExceeded": "agentorch.errors",
    "MaxStepsExceeded": "agentorch.errors",
    "PlanError": "agentorch.errors",
    "UnknownAgentError": "agentorch.errors",
    "UnknownToolError": "agentorch.errors",
    "PolicyError": "agentorch.errors",
    "ApprovalPending": "agentorch.errors",
    "LeaseLostError": "agentorch.errors",
}

__all__ = [
    "Agent",
    "AgentCap",
    "AgentOrchError",
    "AgentResult",
    "ApprovalDecision",
    "ApprovalPending",
    "ApprovalRequest",
    "ApproveAll",
    "Approver",
    "AutoApprover",
    "Budget",
    "BudgetExceeded",
    "CallbackApprover",
    "ComparedValue",
    "ConfigError",
    "DeferredApprover",
    "EscalationPolicy",
    "EventBus",
    "FunctionModel",
    "LeaseLostError",
    "Limits",
    "MaxStepsExceeded",
    "MaxTurnsExceeded",
    "Model",
    "ModelBehaviorError",
    "ModelRetry",
    "Plan",
    "PlanError",
    "Policy",
    "PolicyError",
    "ProviderError",
    "ReviewPoint",
    "RunError",
    "RunResult",
    "ScriptedModel",
    "Step",
    "StepContext",
    "Supervisor",
    "Tool",
    "ToolContext",
    "ToolRegistry",
    "UnknownAgentError",
    "UnknownToolError",
    "Usage",
    "UsageReport",
    "UserError",
    "Verdict",
    "Workflow",
    "__version__",
    "infer_model",
    "open_store",
    "tool",
    "tune_gc",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentorch' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from agentorch.agent import Agent, AgentResult, StepContext
    from agentorch.approvals import (
        ApprovalDecision,
        ApprovalRequest,
        ApproveAll,
        Approver,
        AutoApprover,
        CallbackApprover,
        DeferredApprover,
    )
    from agentorch.budget import AgentCap, Budget, UsageReport
    from agentorch.errors import (
        AgentOrchError,
        ApprovalPending,
        BudgetExceeded,
        ConfigError,
        LeaseLostError,
        MaxStepsExceeded,
        MaxTurnsExceeded,
        ModelBehaviorError,
        ModelRetry,
        PlanError,
        PolicyError,
        ProviderError,
        RunError,
        UnknownAgentError,
        UnknownToolError,
        UserError,
    )
    from agentorch.events.bus import EventBus
    from agentorch.limits import Limits
    from agentorch.models import infer_model
    from agentorch.models.base import Model
    from agentorch.models.testing import FunctionModel, ScriptedModel
    from agentorch.models.types import Usage
    from agentorch.plan import ComparedValue, Plan, ReviewPoint, Step, Verdict
    from agentorch.policy import Policy
    from agentorch.result import RunResult
    from agentorch.review import EscalationPolicy
    from agentorch.store import open_store
    from agentorch.supervisor import Supervisor
    from agentorch.tools.base import Tool, ToolContext, tool
    from agentorch.tools.registry import ToolRegistry
    from agentorch.tuning import tune_gc
    from agentorch.workflow import Workflow
