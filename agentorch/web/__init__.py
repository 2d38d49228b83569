"""The review inbox: a small web application over the store (``agentorch serve``).

Runs, what each waits for, and decisions in a browser, for the people who decide escalations
without a terminal. Needs the ``web`` extra (Starlette, Jinja2, uvicorn); the core never imports
this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentorch.web.resume import Resumer
from agentorch.web.users import ROLES, User, UserBook, resolve_users_file

if TYPE_CHECKING:
    from starlette.applications import Starlette


def create_app(*args: Any, **kwargs: Any) -> Starlette:
    """The Starlette application (see ``agentorch.web.app.create_app``)."""
    from agentorch.web.app import create_app as make

    return make(*args, **kwargs)


__all__ = ["ROLES", "Resumer", "User", "UserBook", "create_app", "resolve_users_file"]
