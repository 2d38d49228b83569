"""``agentorch serve`` (the review inbox in a browser) and ``agentorch users`` (who may sign in)."""

from __future__ import annotations

import ipaddress
import sys
from typing import Annotated

import typer

from agentorch.cli.errors import handle_errors
from agentorch.cli.run import DebugOpt, StoreOpt

UsersOpt = Annotated[
    str | None,
    typer.Option(
        "--users",
        metavar="FILE",
        help="The users file (default: $AGENTORCH_USERS, else agentorch-users.json).",
        show_default=False,
    ),
]

users_app = typer.Typer(
    help="Manage who may sign in to the review inbox (agentorch serve), and their roles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _web_modules() -> None:
    """A clear error, with the install command, when the ``web`` extra is missing."""
    from agentorch.errors import MissingDependencyError

    try:
        import jinja2  # noqa: F401
        import python_multipart  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(
            f"the review inbox needs the web extra ({exc.name} is missing)",
            hint="pip install 'agentorch[web]'",
        ) from None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    store: StoreOpt = None,
    host: Annotated[
        str,
        typer.Option(
            metavar="HOST",
            help="Address to listen on. Only this machine by default; 0.0.0.0 opens it to the network.",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="PORT", help="Port to listen on.")] = 8765,
    users: UsersOpt = None,
    secure_cookies: Annotated[
        bool | None,
        typer.Option(
            "--secure-cookies/--no-secure-cookies",
            help="Send the session cookie over HTTPS only (default: on unless bound to loopback).",
            show_default=False,
        ),
    ] = None,
    resume_runs: Annotated[
        bool,
        typer.Option(
            "--resume/--no-resume",
            help="Offer 'Continue the run' once a run's decisions are made (runs agentorch resume "
            "in this folder).",
        ),
    ] = True,
    debug: DebugOpt = False,
) -> None:
    """Serve the review inbox: runs, what each waits for, and decisions in a browser."""
    with handle_errors(debug):
        _web_modules()
        import uvicorn

        from agentorch.cli.prepare import open_cli_store, resolve_store
        from agentorch.errors import UserError
        from agentorch.store.postgres import redact_url
        from agentorch.web import Resumer, UserBook, create_app, resolve_users_file

        if not 0 < port < 65536:
            raise UserError(f"--port {port} is not a port number", hint="use 1..65535, e.g. 8765")
        url = resolve_store(store)
        db = open_cli_store(url)
        book = UserBook(resolve_users_file(users))
        local = is_loopback(host)
        app = create_app(
            db,
            book,
            secure_cookies=(not local) if secure_cookies is None else secure_cookies,
            resumer=Resumer(url) if resume_runs else None,
        )
        shown = f"[{host}]" if ":" in host else host
        sys.stderr.write(
            f"Review inbox on http://{shown}:{port}/ (store {redact_url(url)}, "
            f"users {book.path}){'' if local else '; reachable from the network'}. Ctrl+C stops.\n"
        )
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=3,
            proxy_headers=False,
            server_header=False,
        )
        uvicorn.Server(config).run()


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The sign-in name.")],
    role: Annotated[
        str, typer.Option(metavar="ROLE", help="viewer (reads), reviewer (decides), admin (all).")
    ] = "reviewer",
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from stdin (for scripts)."),
    ] = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="Token-only user (see: agentorch users token).")
    ] = False,
    users: UsersOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Add a user (or change one's role and password); the password is asked twice."""
    with handle_errors(debug):
        from agentorch.errors import UserError
        from agentorch.web.users import UserBook, resolve_users_file

        password: str | None = None
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        elif not no_password:
            if not sys.stdin.isatty():
                raise UserError(
                    "no terminal to ask the password at",
                    hint="pass --password-stdin and pipe it in, or --no-password",
                )
            import getpass

            password = getpass.getpass(f"Password for {name}: ")
            if getpass.getpass("Again: ") != password:
                raise UserError("the two passwords differ; nothing was changed")
        book = UserBook(resolve_users_file(users))
        user = book.add(name, role, password)
        typer.echo(f"{user.name}: {user.role} (in {book.path})")


@users_app.command("list")
def users_list(users: UsersOpt = None, debug: DebugOpt = False) -> None:
    """List users, their roles, and how many API tokens each has."""
    with handle_errors(debug):
        from agentorch.web.users import UserBook, resolve_users_file

        book = UserBook(resolve_users_file(users))
        listed = book.users()
        if not listed:
            typer.echo(f"No users in {book.path}: agentorch users add NAME --role admin")
            return
        for user in listed:
            how = "password" if user.password else "no password"
            typer.echo(f"{user.name}\t{user.role}\t{how}, {len(user.tokens)} token(s)")


@users_app.command("remove")
def users_remove(
    name: Annotated[str, typer.Argument(metavar="NAME")],
    users: UsersOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Remove a user: their sessions and tokens stop working at once."""
    with handle_errors(debug):
        from agentorch.web.users import UserBook, resolve_users_file

        UserBook(resolve_users_file(users)).remove(name)
        typer.echo(f"removed {name}")


@users_app.command("token")
def users_token(
    name: Annotated[str, typer.Argument(metavar="NAME")],
    revoke: Annotated[bool, typer.Option("--revoke", help="Revoke all of NAME's tokens.")] = False,
    users: UsersOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Create an API token for NAME (printed once; only its hash is kept), or revoke them all."""
    with handle_errors(debug):
        from agentorch.web.users import UserBook, resolve_users_file

        book = UserBook(resolve_users_file(users))
        if revoke:
            typer.echo(f"revoked {book.revoke_tokens(name)} token(s) of {name}")
            return
        typer.echo(book.new_token(name))
