"""The review inbox's web application (Starlette): pages, decisions, live updates.

Decisions go through ``decide_pending``, the function behind ``agentorch approve``: the same
store write, the same audit record, the same first-decision-wins rule. Every page passes through
the runtime's redactor before it leaves the server.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from agentorch.approvals_store import decide_pending
from agentorch.errors import AgentOrchError, RunNotFoundError, StoreError, UserError
from agentorch.events.redact import Redactor
from agentorch.store.base import Store
from agentorch.web import pages
from agentorch.web.auth import (
    CsrfRefused,
    Forbidden,
    SecurityHeaders,
    SignInNeeded,
    SignInThrottle,
    check_csrf,
    csrf_token,
    require,
)
from agentorch.web.resume import Resumer
from agentorch.web.users import UserBook

HERE = Path(__file__).parent
#: How often live pages look at the store for news.
POLL_SECONDS = 1.0
SESSION_HOURS = 12


class InboxApp:
    """The application's state: the store, the users, the redactor, running resumes."""

    def __init__(
        self,
        store: Store,
        users: UserBook,
        *,
        resumer: Resumer | None = None,
        redactor: Redactor | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.store = store
        self.users = users
        self.resumer = resumer
        self.redactor = redactor if redactor is not None else Redactor()
        self.poll_seconds = poll_seconds
        self.throttle = SignInThrottle()
        self.markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.filters["usd"] = lambda v: f"${float(v or 0):,.2f}"
        self.templates.filters["num"] = lambda v: f"{int(v or 0):,}"
        self.templates.filters["markdown"] = lambda text: Markup(self.markdown.render(text))
        self.templates.filters["when"] = pages.when
        self.templates.filters["pretty"] = lambda v: json.dumps(v, indent=2, default=str)

    # --- rendering ---------------------------------------------------------------------------

    def html(self, request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
        user = getattr(request.state, "user", None)
        text = self.fragment(
            name,
            request=request,
            user=user,
            csrf=csrf_token(request),
            inbox_count=self._pending_count() if user else 0,
            **context,
        )
        return HTMLResponse(text, status_code=status_code)

    def fragment(self, name: str, **context: Any) -> str:
        """A template rendered and redacted (a secret never leaves the server)."""
        return self.redactor.redact_text(self.templates.get_template(name).render(**context))

    def _pending_count(self) -> int:
        return sum(
            len(self.store.approvals(r.run_id, pending_only=True))
            for s in pages.OPEN_STATUSES
            for r in self.store.list_runs(limit=pages.RUN_LIMIT, status=s)
        )

    def json(self, data: Any, status_code: int = 200) -> JSONResponse:
        return JSONResponse(self.redactor.redact_value(data), status_code=status_code)

    # --- pages -------------------------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        return self.html(request, "login.html", next=_safe_next(request.query_params.get("next")))

    async def login(self, request: Request) -> Response:
        await check_csrf(request)
        form = await request.form()
        name = str(form.get("username", "")).strip()
        password = str(form.get("password", ""))
        target = _safe_next(str(form.get("next", "")))
        if self.throttle.blocked(name):
            return self.html(
                request,
                "login.html",
                status_code=429,
                error="Too many failed sign-ins for this name: wait a few minutes.",
                next=target,
            )
        user = await asyncio.to_thread(self.users.authenticate, name, password)
        if user is None:
            self.throttle.failed(name)
            return self.html(
                request, "login.html", status_code=401, error="Wrong name or password.", next=target
            )
        self.throttle.succeeded(name)
        request.session.clear()  # a fresh session (and CSRF token) at every sign-in
        request.session.update({"user": user.name, "generation": user.generation})
        csrf_token(request)
        return RedirectResponse(target, status_code=303)

    async def logout(self, request: Request) -> Response:
        await check_csrf(request)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    async def inbox(self, request: Request) -> Response:
        request.state.user = require(request, self.users, "viewer")
        run_id = self._run_filter(request)
        items = pages.inbox_items(self.store, run_id=run_id)
        return self.html(request, "inbox.html", items=items, run_id=run_id)

    async def inbox_list(self, request: Request) -> Response:
        request.state.user = require(request, self.users, "viewer")
        items = pages.inbox_items(self.store, run_id=self._run_filter(request))
        return self.html(request, "_inbox_list.html", items=items)

    def _run_filter(self, request: Request) -> str | None:
        """``?run=ID`` (a prefix is enough): the inbox of that run only."""
        given = request.query_params.get("run")
        return self.store.get_run(given).run_id if given else None

    async def runs(self, request: Request) -> Response:
        request.state.user = require(request, self.users, "viewer")
        q = request.query_params
        status = q.get("status") or None
        if status is not None and status not in _STATUSES:
            status = None
        rows = pages.runs_page(
            self.store, status=status, query=q.get("q", ""), waiting=q.get("waiting") == "1"
        )
        return self.html(
            request,
            "runs.html",
            rows=rows,
            statuses=_STATUSES,
            status=status or "",
            query=q.get("q", ""),
            waiting=q.get("waiting") == "1",
        )

    async def run(self, request: Request) -> Response:
        request.state.user = require(request, self.users, "viewer")
        workdir = Path(self.resumer.cwd) if self.resumer else Path.cwd()
        page = pages.run_page(self.store, request.path_params["run_id"], workdir=workdir)
        resumption = self.resumer.get(page["run"].run_id) if self.resumer else None
        items = [pages.approval_item(self.store, page["run"], a) for a in page["pending"]]
        return self.html(
            request,
            "run.html",
            page=page,
            items=items,
            resumption=resumption,
            can_resume=bool(
                self.resumer
                and not page["pending"]
                and page["run"].status in _CONTINUABLE
                and "temporal" not in page["run"].spec  # a Temporal run continues by itself
            ),
        )

    # --- decisions ---------------------------------------------------------------------------

    async def decide(self, request: Request) -> Response:
        user = require(request, self.users, "viewer")
        request.state.user = user
        await check_csrf(request)
        if not user.may("reviewer"):
            raise Forbidden(f"{user.name} is a viewer: only reviewers and admins decide")
        form = await request.form()
        fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        try:
            record, message = self._decide(user.name, user.role, fields)
        except UserError as exc:
            return self._decision_refused(request, fields, str(exc))
        on_temporal = await self._notify_temporal(record)
        if request.headers.get("hx-request"):
            left = self.store.approvals(record.run_id, pending_only=True)
            can_resume = bool(self.resumer and not left and not on_temporal)
            return self.html(
                request, "_decided.html", record=record, message=message, can_resume=can_resume
            )
        return RedirectResponse(f"/runs/{record.run_id}", status_code=303)

    def _decide(self, name: str, role: str, fields: dict[str, str]) -> tuple[Any, str]:
        run_id, request_id = fields.get("run_id", ""), fields.get("request_id", "")
        decision = fields.get("decision", "")
        comment = fields.get("comment", "").strip()
        if not run_id or not request_id:
            raise UserError("which approval? (run_id and request_id are needed)")
        record = self.store.get_approval(request_id)
        if record.run_id != self.store.get_run(run_id).run_id:
            raise UserError(f"approval {request_id} is not one of run {run_id}'s")
        if record.subject == "in_doubt" and role != "admin":
            raise UserError("a call whose outcome is unknown is decided by an admin")
        arguments = None
        if decision == "edited":
            arguments = _json_object(fields.get("arguments", ""))
        if decision == "denied" and not comment:
            raise UserError("a denial needs a reason: write it in the comment")
        decided = decide_pending(
            self.store,
            run_id,
            request_id=record.request_id,
            decision=decision,
            reason=comment,
            approver=f"web:{name}",
            arguments=arguments,
            deny=decision == "denied",
        )
        return decided, f"{decided.status} by {decided.approver}"

    async def _notify_temporal(self, record: Any) -> bool:
        """Signal a run waiting on Temporal that its decision is in the store, as ``agentorch
        approve`` does (``False``: an embedded run, continued by its prompt or a resume)."""
        run = self.store.get_run(record.run_id)
        if "temporal" not in run.spec:
            return False
        from agentorch.temporal import notify_decision

        await notify_decision(run.spec, run.run_id, record.request_id)
        return True

    def _decision_refused(self, request: Request, fields: dict[str, str], error: str) -> Response:
        """The decision was not recorded: say why, and who decided first when someone did.

        With htmx, a request still pending comes back as its card with the error (fix and
        decide again); one decided first by someone else leaves the list with the refusal.
        """
        first = None
        try:
            first = self.store.get_approval(fields.get("request_id", ""))
        except (UserError, KeyError, AgentOrchError):
            first = None
        raced = False
        if first is not None and first.status != "pending":
            raced = True
            error = f"already {first.status} by {first.approver}: the first decision stands"
        if not request.headers.get("hx-request"):
            return self.html(request, "error.html", status_code=409 if raced else 400, error=error)
        if raced or first is None:
            return self.html(request, "_refused.html", error=error, record=first)
        item = pages.approval_item(self.store, self.store.get_run(first.run_id), first)
        return self.html(request, "_card.html", item=item, error=error)

    async def resume(self, request: Request) -> Response:
        user = require(request, self.users, "reviewer")
        request.state.user = user
        await check_csrf(request)
        run_id = request.path_params["run_id"]
        if self.resumer is None:
            raise UserError("this server does not resume runs (started with --no-resume)")
        run = self.store.get_run(run_id)
        self.resumer.start(self.store, run.run_id, by=user.name)
        return RedirectResponse(f"/runs/{run.run_id}", status_code=303)

    # --- JSON API ----------------------------------------------------------------------------

    async def api_inbox(self, request: Request) -> Response:
        require(request, self.users, "viewer")
        items = pages.inbox_items(self.store)
        return self.json(
            {
                "pending": [
                    {
                        **i["approval"].model_dump(mode="json"),
                        "verdicts": i["verdicts"],
                        "points": i["points"],
                    }
                    for i in items
                ]
            }
        )

    async def api_decide(self, request: Request) -> Response:
        user = require(request, self.users, "reviewer")
        await check_csrf(request)
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError
        except ValueError:
            return self.json({"error": "send one JSON object"}, 400)
        fields = {k: (json.dumps(v) if k == "arguments" else str(v)) for k, v in body.items()}
        try:
            record, _ = self._decide(user.name, user.role, fields)
            await self._notify_temporal(record)
        except UserError as exc:
            try:
                first = self.store.get_approval(fields.get("request_id", ""))
            except (UserError, KeyError, AgentOrchError):
                first = None
            if first is not None and first.status != "pending":
                return self.json(
                    {
                        "error": f"already {first.status} by {first.approver}",
                        "status": first.status,
                    },
                    409,
                )
            return self.json({"error": str(exc)}, 400)
        return self.json(record.model_dump(mode="json"))

    # --- live updates (Server-Sent Events) ---------------------------------------------------

    async def run_stream(self, request: Request) -> Response:
        require(request, self.users, "viewer")
        run_id = self.store.get_run(request.path_params["run_id"]).run_id
        try:
            after = int(request.query_params.get("after", "0"))
        except ValueError:
            after = 0

        async def stream() -> AsyncIterator[str]:
            nonlocal after
            status = None
            while not await request.is_disconnected():
                run = self.store.get_run(run_id)
                rows = [
                    pages.event_row(e) for e in pages.recent_events(self.store, run_id, after=after)
                ]
                for row in rows:
                    yield _sse("event", self.fragment("_event.html", event=row))
                    after = max(after, row["seq"])
                if run.status != status:
                    if status is not None:
                        yield _sse("status", self.fragment("_status.html", status=run.status))
                    status = run.status
                yield ": keep-alive\n\n"
                await asyncio.sleep(self.poll_seconds)

        return _event_stream(stream())

    async def inbox_stream(self, request: Request) -> Response:
        require(request, self.users, "viewer")
        run_id = self._run_filter(request)

        async def stream() -> AsyncIterator[str]:
            seen: tuple[str, ...] | None = None
            while not await request.is_disconnected():
                items = pages.inbox_items(self.store, run_id=run_id)
                now = tuple(i["approval"].request_id for i in items)
                if seen is not None and now != seen:
                    yield _sse("changed", str(len(now)))
                seen = now
                yield ": keep-alive\n\n"
                await asyncio.sleep(self.poll_seconds)

        return _event_stream(stream())

    # --- errors ------------------------------------------------------------------------------

    async def sign_in_needed(self, request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            return self.json({"error": "sign in or send Authorization: Bearer TOKEN"}, 401)
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    async def refused(self, request: Request, exc: Exception) -> Response:
        status_code = 403
        if request.url.path.startswith("/api/"):
            return self.json({"error": str(exc)}, status_code)
        return self.html(request, "error.html", status_code=status_code, error=str(exc))

    async def user_error(self, request: Request, exc: Exception) -> Response:
        status_code = 404 if isinstance(exc, RunNotFoundError | KeyError) else 400
        if isinstance(exc, StoreError):  # e.g. an audit log altered outside agentorch
            status_code = 503
        message = str(exc) if not isinstance(exc, KeyError) else "not found"
        if request.url.path.startswith("/api/"):
            return self.json({"error": message}, status_code)
        return self.html(request, "error.html", status_code=status_code, error=message)


_STATUSES = (
    "waiting_approval",
    "running",
    "succeeded",
    "failed",
    "interrupted",
    "in_doubt",
    "budget_exceeded",
    "cancelled",
    "pending",
)
_CONTINUABLE = ("waiting_approval", "interrupted", "in_doubt")


def _sse(event: str, data: str) -> str:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {event}\n{lines}\n"


def _event_stream(body: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(
        body, media_type="text/event-stream", headers={"x-accel-buffering": "no"}
    )


def _safe_next(target: str | None) -> str:
    """Only a path on this server (no open redirect to another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/inbox"
    return target


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"the edited arguments are not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UserError("the edited arguments must be one JSON object")
    return value


def create_app(
    store: Store,
    users: UserBook,
    *,
    secure_cookies: bool = False,
    resumer: Resumer | None = None,
    redactor: Redactor | None = None,
    poll_seconds: float = POLL_SECONDS,
) -> Starlette:
    """The review inbox over ``store`` for the people in ``users``.

    ``secure_cookies``: send the session cookie over HTTPS only (always, unless the server is
    reached on this machine's loopback address).
    """
    if not users.secret:
        raise UserError(
            f"no users yet in {users.path}: nobody could sign in",
            hint="add one: agentorch users add NAME --role admin",
        )
    web = InboxApp(store, users, resumer=resumer, redactor=redactor, poll_seconds=poll_seconds)
    routes = [
        Route("/", lambda request: RedirectResponse("/inbox", status_code=303)),
        Route("/login", web.login_form, methods=["GET"]),
        Route("/login", web.login, methods=["POST"]),
        Route("/logout", web.logout, methods=["POST"]),
        Route("/inbox", web.inbox),
        Route("/inbox/list", web.inbox_list),
        Route("/inbox/stream", web.inbox_stream),
        Route("/decide", web.decide, methods=["POST"]),
        Route("/runs", web.runs),
        Route("/runs/{run_id}", web.run),
        Route("/runs/{run_id}/stream", web.run_stream),
        Route("/runs/{run_id}/resume", web.resume, methods=["POST"]),
        Route("/api/inbox", web.api_inbox),
        Route("/api/decide", web.api_decide, methods=["POST"]),
        Route("/healthz", lambda request: JSONResponse({"ok": True})),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=users.secret,
                session_cookie="agentorch_session",
                max_age=SESSION_HOURS * 3600,
                same_site="strict",
                https_only=secure_cookies,
            ),
        ],
        exception_handlers={
            SignInNeeded: web.sign_in_needed,
            Forbidden: web.refused,
            CsrfRefused: web.refused,
            UserError: web.user_error,
            RunNotFoundError: web.user_error,
            KeyError: web.user_error,
            StoreError: web.user_error,
        },
    )
    app.state.inbox = web
    return app
