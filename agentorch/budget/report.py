"""The usage report: what a run spent, by agent, model and step, against its limits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from agentorch.models.types import Usage

Group = Literal["agent", "model", "step"]


class UsageReport(BaseModel):
    """A snapshot of a budget's accounting; ``model_dump()`` gives its JSON form.

    ``total`` counts settled and charged calls (not open reservations). ``limits`` is the budget's
    configuration (``usd``, ``tokens``, ``per_agent``, ...) and ``remaining_*`` what is left for new
    calls after open reservations (``None`` when unlimited).
    """

    model_config = ConfigDict(extra="forbid")

    total: Usage = Usage()
    by_agent: dict[str, Usage] = {}
    by_model: dict[str, Usage] = {}
    by_step: dict[str, Usage] = {}
    unpriced_models: list[str] = []
    limits: dict[str, Any] = {}
    reserved_usd: float = 0.0
    reserved_tokens: int = 0
    remaining_usd: float | None = None
    remaining_tokens: int | None = None

    def table(self, groups: Sequence[Group] = ("agent", "model")) -> list[dict[str, Any]]:
        """Rows for a renderer: one per agent, then per model (and step if asked), then the total.

        Each row has ``group``, ``name``, ``requests``, ``input_tokens``, ``cached_input_tokens``,
        ``cache_write_tokens``, ``output_tokens``, ``total_tokens``, ``cost_usd``, ``share`` (of
        the total cost, or of total tokens when nothing was priced), ``limit_usd``,
        ``limit_tokens`` and ``unpriced``. Rows within a group are sorted by cost, then tokens.
        """
        sources: dict[str, dict[str, Usage]] = {
            "agent": self.by_agent,
            "model": self.by_model,
            "step": self.by_step,
        }
        caps: dict[str, Any] = self.limits.get("per_agent") or {}
        rows: list[dict[str, Any]] = []
        for group in groups:
            if group not in sources:
                raise ValueError(f"unknown group {group!r}: use 'agent', 'model' or 'step'")
            items = sorted(
                sources[group].items(), key=lambda kv: (-kv[1].cost_usd, -kv[1].total_tokens, kv[0])
            )
            for name, usage in items:
                cap = caps.get(name) if group == "agent" else None
                rows.append(
                    self._row(
                        group,
                        name,
                        usage,
                        cap.get("usd") if cap else None,
                        cap.get("tokens") if cap else None,
                    )
                )
        rows.append(
            self._row(
                "total", "total", self.total, self.limits.get("usd"), self.limits.get("tokens")
            )
        )
        return rows

    def _row(
        self,
        group: str,
        name: str,
        usage: Usage,
        limit_usd: float | None,
        limit_tokens: int | None,
    ) -> dict[str, Any]:
        if self.total.cost_usd > 0:
            share = usage.cost_usd / self.total.cost_usd
        elif self.total.total_tokens > 0:
            share = usage.total_tokens / self.total.total_tokens
        else:
            share = 0.0
        return {
            "group": group,
            "name": name,
            "requests": usage.requests,
            "input_tokens": usage.input_tokens,
            "cached_input_tokens": usage.cached_input_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
            "output_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
            "cost_usd": usage.cost_usd,
            "share": share,
            "limit_usd": limit_usd,
            "limit_tokens": limit_tokens,
            "unpriced": usage.unpriced,
        }
