"""Who is asking, and may they: session cookies, API tokens, roles, CSRF, security headers.

A browser signs in with a name and password and gets a signed, HttpOnly, SameSite=Strict session
cookie; a script sends ``Authorization: Bearer <token>``. Every state-changing request made with
the cookie must carry the session's CSRF token (a form field or the ``X-CSRF-Token`` header) and,
when the browser sends one, an ``Origin`` of this server.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import deque

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentorch.web.users import Role, User, UserBook

#: Failed sign-ins allowed per name within ``_FAIL_WINDOW`` seconds before further tries wait.
_FAIL_LIMIT = 5
_FAIL_WINDOW = 300.0


class Forbidden(Exception):
    """The signed-in user lacks the role (403)."""


class SignInNeeded(Exception):
    """No user: pages redirect to the sign-in form, the API answers 401."""


class CsrfRefused(Exception):
    """A cookie-authenticated change without this session's CSRF token, or from another origin."""


def csrf_token(request: Request) -> str:
    """This session's CSRF token (created on first use)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def current_user(request: Request, book: UserBook) -> User | None:
    """The user of a bearer token, else of the session cookie (``None``: nobody signed in)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = book.by_token(header[7:].strip())
        request.state.via_token = user is not None
        return user
    request.state.via_token = False
    name = request.session.get("user")
    if not name:
        return None
    user = book.get(str(name))
    if user is None or user.generation != request.session.get("generation"):
        request.session.clear()  # removed, or password changed: the session ends
        return None
    return user


def require(request: Request, book: UserBook, role: Role) -> User:
    user = current_user(request, book)
    if user is None:
        raise SignInNeeded
    if not user.may(role):
        raise Forbidden(f"{user.name} is a {user.role}; this needs a {role}")
    return user


async def check_csrf(request: Request) -> None:
    """Refuse a cookie-authenticated change without the session's token or from another site."""
    if getattr(request.state, "via_token", False):
        return  # a bearer token is not sent by a browser on its own: no cross-site forgery
    origin = request.headers.get("origin")
    if origin and origin != _own_origin(request):
        raise CsrfRefused(f"request from another origin ({origin})")
    expected = request.session.get("csrf")
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf")
        given = value if isinstance(value, str) else None
    if not expected or not given or not hmac.compare_digest(str(expected), given):
        raise CsrfRefused("missing or wrong CSRF token: reload the page and try again")


def _own_origin(request: Request) -> str:
    host = request.headers.get("host", "")
    return f"{request.url.scheme}://{host}"


class SignInThrottle:
    """Slows guessing: after ``_FAIL_LIMIT`` failures for a name within ``_FAIL_WINDOW`` seconds,
    further tries for that name are refused until the window has passed."""

    def __init__(self) -> None:
        self._fails: dict[str, deque[float]] = {}

    def blocked(self, name: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        fails = self._fails.get(name)
        if not fails:
            return False
        while fails and now - fails[0] > _FAIL_WINDOW:
            fails.popleft()
        return len(fails) >= _FAIL_LIMIT

    def failed(self, name: str) -> None:
        self._fails.setdefault(name, deque()).append(time.monotonic())

    def succeeded(self, name: str) -> None:
        self._fails.pop(name, None)


#: Pages may load scripts, styles and images from this server only; never be framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


class SecurityHeaders:
    """Adds the security headers to every response (ASGI middleware, streaming-safe)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = Headers(raw=message.get("headers", []))
                extra = {
                    "content-security-policy": CONTENT_SECURITY_POLICY,
                    "x-content-type-options": "nosniff",
                    "x-frame-options": "DENY",
                    "referrer-policy": "same-origin",
                }
                if not str(scope.get("path", "")).startswith("/static/"):
                    extra["cache-control"] = "no-store"
                raw = list(message.get("headers", []))
                for name, value in extra.items():
                    if name not in headers:
                        raw.append((name.encode(), value.encode()))
                message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, receive, send_with_headers)
