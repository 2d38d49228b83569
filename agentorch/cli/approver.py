"""``TerminalApprover``: a person answers approval requests at a terminal prompt (rich)."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.json import JSON
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from agentorch.approvals import ApprovalDecision, ApprovalRequest, Approver

MASK = "***"
_RISK_STYLES = {
    "read": "green",
    "write": "yellow",
    "external": "magenta",
    "destructive": "bold red",
}
_TITLES = {
    "tool": "Approval needed: tool call",
    "escalation": "Review needed: escalated result",
    "plan": "Approval needed: plan",
    "in_doubt": "Decision needed: tool call with unknown outcome",
}
_SHOWN_DETAILS = {"secret_args", "reasons", "preview", "result_preview", "verdicts", "points"}
#: An escalation's body fits a 50-line terminal with the panel, the facts and the prompt.
_BODY_LINES = 34

#: Per subject: (answer words -> action, the prompt line).
_CHOICES: dict[str, tuple[dict[str, str], str]] = {
    "tool": (
        {"a": "approve", "approve": "approve", "y": "approve", "yes": "approve",
         "d": "deny", "deny": "deny", "n": "deny", "no": "deny",
         "e": "edit", "edit": "edit"},
        "[a]pprove / [d]eny / [e]dit arguments",
    ),
    "escalation": (
        {"a": "approve", "approve": "approve", "y": "approve", "yes": "approve",
         "d": "deny", "deny": "deny", "n": "deny", "no": "deny"},
        "[a]pprove / [d]eny",
    ),
    "plan": (
        {"a": "approve", "approve": "approve", "y": "approve", "yes": "approve",
         "c": "cancel", "cancel": "cancel", "n": "cancel", "no": "cancel"},
        "[a]pprove / [c]ancel",
    ),
    "in_doubt": (
        {"r": "run_again", "run": "run_again", "run again": "run_again",
         "s": "skip", "skip": "skip", "m": "mark_done", "mark": "mark_done",
         "mark done": "mark_done", "done": "mark_done"},
        "[r]un again / [s]kip / [m]ark done",
    ),
}  # fmt: skip


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "user"


def mask_arguments(arguments: Mapping[str, Any], secret_args: Any) -> dict[str, Any]:
    """A copy of ``arguments`` with the secret ones replaced by ``***``."""
    secrets = set(secret_args or ())
    return {k: (MASK if k in secrets and v not in (None, "") else v) for k, v in arguments.items()}


class TerminalApprover(Approver):
    """Asks at the terminal: shows the exact arguments, the risk and the reason, then asks.

    Args:
        console: where to draw (inject a ``Console(file=StringIO())`` in tests).
        input: reads one answer given a prompt (defaults to ``console.input``); runs in a thread
            so the event loop keeps going while the person thinks.
        name: recorded as the approver (default ``terminal:<login name>``).

    End of input (EOF) defers the decision: the run waits in the store for ``agentorch approve``.
    """

    def __init__(
        self,
        console: Console | None = None,
        input: Callable[[str], str] | None = None,
        *,
        name: str | None = None,
    ) -> None:
        self.console = console if console is not None else Console()
        self._input = input if input is not None else self._console_input
        self.name = name or f"terminal:{_user()}"
        self._lock = asyncio.Lock()  # one prompt at a time when steps run concurrently
        #: Requests decided elsewhere while asked: their conversation ends at the next answer.
        self._withdrawn: set[str] = set()
        self._asking = threading.local()

    def _console_input(self, prompt: str) -> str:
        return self.console.input(prompt, markup=False)

    async def decide(self, request: ApprovalRequest) -> ApprovalDecision | None:
        # The conversation runs in a daemon thread: a prompt withdrawn because someone decided
        # elsewhere must not keep the process alive at exit. The next prompt waits for the
        # withdrawn one's answer (Enter), so two prompts never read the terminal at once.
        await self._lock.acquire()
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[ApprovalDecision | None] = loop.create_future()

        def deliver(result: ApprovalDecision | None, error: BaseException | None) -> None:
            self._lock.release()
            if answer.done():
                return
            if error is not None:
                answer.set_exception(error)
            else:
                answer.set_result(result)

        def converse() -> None:
            result: ApprovalDecision | None = None
            error: BaseException | None = None
            try:
                result = self._decide(request)
            except BaseException as exc:  # handed to the awaiting run, never lost in the thread
                error = exc
            with contextlib.suppress(RuntimeError):  # the run's loop has ended
                loop.call_soon_threadsafe(deliver, result, error)

        threading.Thread(target=converse, name="agentorch-approval-prompt", daemon=True).start()
        return await answer

    def withdraw(self, request: ApprovalRequest) -> None:
        self._withdrawn.add(request.request_id)
        self.console.print(
            Text(
                f"\n{request.subject.replace('_', ' ')} request {request.request_id} was decided "
                "elsewhere (agentorch approve or the review inbox): the run continues with that "
                "decision. This prompt is withdrawn; press Enter.",
                style="yellow",
            )
        )

    # --- the conversation (runs in a worker thread) ----------------------------------------------

    def _decide(self, request: ApprovalRequest) -> ApprovalDecision | None:
        self._asking.request_id = request.request_id
        try:
            return self._converse(request)
        except _Withdrawn:
            return None
        finally:
            self._withdrawn.discard(request.request_id)

    def _converse(self, request: ApprovalRequest) -> ApprovalDecision | None:
        self.console.print(self._render(request))
        words, menu = _CHOICES[request.subject]
        try:
            while True:
                action = self._choose(words, menu)
                if action == "approve":
                    return self._decision("approved")
                if action in ("deny", "cancel"):
                    default = "plan cancelled" if action == "cancel" else "denied"
                    reason = self._ask("Reason (the agent sees it): ").strip()
                    return self._decision("denied", comment=reason or f"{default} at the terminal")
                if action == "edit":
                    edited = self._edit(request)
                    if edited is not None:
                        return edited
                    continue
                decision = {"run_again": "run_again", "skip": "skipped", "mark_done": "mark_done"}
                return self._decision(decision[action])
        except EOFError:
            self.console.print(Text("No answer: the decision is deferred.", style="dim"))
            return None

    def _ask(self, prompt: str) -> str:
        answer = self._input(prompt)
        if getattr(self._asking, "request_id", None) in self._withdrawn:
            raise _Withdrawn
        return answer

    def _choose(self, words: Mapping[str, str], menu: str) -> str:
        while True:
            answer = self._ask(f"{menu}: ").strip().lower()
            if answer in words:
                return words[answer]
            self.console.print(Text(f"Please answer one of: {menu}", style="yellow"))

    def _edit(self, request: ApprovalRequest) -> ApprovalDecision | None:
        """Ask for new arguments as a JSON object; ``None`` (empty answer) goes back to the menu."""
        secrets = set(request.details.get("secret_args") or ())
        while True:
            text = self._ask("New arguments as one JSON object (empty: back): ").strip()
            if not text:
                return None
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                self.console.print(Text(f"That is not valid JSON: {exc}", style="red"))
                continue
            if not isinstance(value, dict):
                self.console.print(
                    Text(f"Expected a JSON object, got {type(value).__name__}", style="red")
                )
                continue
            for key in secrets:  # "***" left in place keeps the original secret
                if value.get(key) == MASK and key in request.arguments:
                    value[key] = request.arguments[key]
            if value == request.arguments:
                return self._decision("approved", comment="arguments unchanged")
            self.console.print(Text("Approved with edited arguments:", style="bold"))
            self.console.print(
                JSON.from_data(mask_arguments(value, secrets), indent=2, default=str)
            )
            return self._decision("edited", arguments=value)

    def _decision(
        self, decision: Any, *, comment: str = "", arguments: dict[str, Any] | None = None
    ) -> ApprovalDecision:
        return ApprovalDecision(
            decision=decision, approver=self.name, comment=comment, arguments=arguments
        )

    # --- rendering ------------------------------------------------------------------------------

    def _render(self, request: ApprovalRequest) -> RenderableType:
        facts = Table.grid(padding=(0, 2))
        facts.add_column(style="bold")
        facts.add_column()
        rows: list[tuple[str, Text | None]] = [
            ("Run", Text(request.run_id)),
            ("Step", Text(request.step_id) if request.step_id else None),
            ("Agent", Text(request.agent) if request.agent else None),
            ("Tool", Text(request.tool) if request.tool else None),
            ("Risk", self._risk(request.risk) if request.risk else None),
            ("Reason", Text(self._reason(request)) if request.reason else None),
        ]
        for label, value in rows:
            if value is not None:
                facts.add_row(label, value)
        parts: list[RenderableType] = [facts]
        details = request.details
        if request.subject in ("tool", "in_doubt") or request.arguments:
            masked = mask_arguments(request.arguments, details.get("secret_args"))
            parts += [
                Text("\nArguments", style="bold"),
                JSON.from_data(masked, indent=2, default=str),
            ]
        if request.subject == "in_doubt":
            parts.append(Text(
                "\nThis call started before the run stopped and its outcome was not recorded: it "
                "may or may not have happened.", style="yellow",
            ))  # fmt: skip
        if request.subject == "escalation":
            parts += self._escalation(details)
        rest = {k: v for k, v in details.items() if k not in _SHOWN_DETAILS}
        if rest:
            parts += [Text("\nDetails", style="bold"), JSON.from_data(rest, indent=2, default=str)]
        return Panel(Group(*parts), title=_TITLES[request.subject], title_align="left")

    def _reason(self, request: ApprovalRequest) -> str:
        """The reason; for an escalation with points, its first lines (the points follow)."""
        if request.subject == "escalation" and request.details.get("points"):
            width = max(40, min(self.console.width, 120) - 14)
            return "\n".join(_clip(request.reason, width, 2))
        return request.reason

    @staticmethod
    def _risk(risk: str) -> Text:
        return Text(risk, style=_RISK_STYLES.get(risk, ""))

    def _escalation(self, details: Mapping[str, Any]) -> list[RenderableType]:
        width = max(40, min(self.console.width, 120) - 6)
        points = details.get("points") or []
        if points:
            return escalation_points(points, details, width)
        parts: list[RenderableType] = []
        reasons = details.get("reasons")
        if reasons:
            items = [reasons] if isinstance(reasons, str) else list(reasons)
            parts.append(Text("\nWhy it was escalated", style="bold"))
            parts += [Text(f"  - {item}") for item in items]
        verdicts = details.get("verdicts")
        if verdicts:
            parts += [Text("\nReviewers' verdicts", style="bold"), _as_renderable(verdicts)]
        preview = details.get("preview", details.get("result_preview"))
        if preview is not None:
            parts += [Text("\nResult (preview)", style="bold"), _as_renderable(preview)]
        return parts


def _clip(text: str, width: int, lines: int) -> list[str]:
    """``text`` wrapped to ``width`` in at most ``lines`` lines (the last one ends with '…')."""
    import textwrap

    wrapped = textwrap.wrap(" ".join(str(text).split()), width) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: max(0, width - 1)].rstrip() + "…"
    return wrapped


def escalation_points(
    points: Sequence[Mapping[str, Any]], details: Mapping[str, Any], width: int
) -> list[RenderableType]:
    """The points a reviewer put to a person, in words: asked, proposed, values side by side.

    At most ``_BODY_LINES`` lines, so the whole request fits a 50-line terminal; what does not fit
    is counted, not dropped silently.
    """
    lines: list[Text] = []
    verdicts = details.get("verdicts") or []
    who = "; ".join(
        f"{v.get('reviewer')}: {v.get('verdict')} ({float(v.get('confidence', 0)):.2f})"
        for v in verdicts
        if isinstance(v, Mapping)
    )
    if who:
        lines.append(Text(f"Reviewers  {who}", style="dim"))
    shown = 0
    for point in points:
        block = [Text(f"\n{point.get('item', '')}", style="bold")]
        for label, key in (("Asked", "asked"), ("Proposed", "proposed")):
            if point.get(key):
                for i, line in enumerate(_clip(point[key], width - 11, 2)):
                    block.append(Text(f"  {label if i == 0 else '':<9}{line}"))
        values = point.get("values") or []
        if values:
            size = max(len(str(v.get("label", ""))) for v in values[:3])
            for v in values[:3]:
                row = Text(f"  {v.get('label', '')!s:<{size}}  required {v.get('required')}")
                row.append(f"  ·  offered {v.get('offered')}")
                style = "green" if v.get("verdict") == "meets" else "red"
                row.append(f"  → {v.get('verdict')}", style=style)
                block.append(row)
        if point.get("reason"):
            block.append(Text(f"  Why      {_clip(point['reason'], width - 11, 1)[0]}"))
        if len(lines) + len(block) > _BODY_LINES:
            break
        lines += block
        shown += 1
    if shown < len(points):
        lines.append(
            Text(
                f"\n… and {len(points) - shown} more point(s): see the bid review or "
                "`agentorch show RUN_ID`",
                style="yellow",
            )
        )
    return list(lines)


class _Withdrawn(Exception):
    """The request was decided elsewhere while its prompt waited: the answer is not used."""


def _as_renderable(value: Any) -> RenderableType:
    if isinstance(value, str):
        return Text(value)
    return JSON.from_data(value, indent=2, default=str)


__all__ = ["MASK", "TerminalApprover", "mask_arguments"]
