"""``akte serve`` and ``akte user add|list|disable|token``: the web archive and its users.

Two Typer sub-apps joined by ``cli.py``: :data:`app` without a name (``akte serve`` stands
at the top level), :data:`user_app` as the ``user`` group. Errors are raised as
``AkteError`` subclasses; the root group (``_errors.AkteGroup``) maps them to exit codes.
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated, Optional

import typer
from rich.markup import escape

from ..errors import ConfigError
from ._common import emit_json, err, out, settings_of

app = typer.Typer()
user_app = typer.Typer(help="Users of the web archive: roles, document types, API tokens.", no_args_is_help=True)


def _types(value: str | None, taxonomy: tuple[str, ...]) -> tuple[str, ...] | None:
    if value is None:
        return None
    types = tuple(t.strip() for t in value.split(",") if t.strip())
    unknown = [t for t in types if t not in taxonomy]
    if unknown or not types:
        raise ConfigError(f"--types {value!r}: use types of the taxonomy: {', '.join(taxonomy)}")
    return types


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Passwort: ")
        if password != getpass.getpass("Passwort wiederholen: "):
            raise ConfigError("the passwords differ")
    if len(password) < 10:
        raise ConfigError("the password needs at least 10 characters")
    return password


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name (lower case, e.g. m.mueller).")],
    role: Annotated[str, typer.Option("--role", help="clerk, records or admin.")] = "clerk",
    types: Annotated[Optional[str], typer.Option("--types", help="Document types they may see, e.g. antrag,bescheid "
                                                 "(default: the role's scope; 'personal' only if named here).")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Create a user of the web archive (asks for a password)."""
    from ..web.users import Role, UserStore

    settings = settings_of(ctx)
    try:
        chosen = Role(role)
    except ValueError:
        raise ConfigError(f"--role {role!r}: use clerk, records or admin") from None
    scope = _types(types, settings.classify.taxonomy)
    users = UserStore(settings.archive_dir)
    try:
        user = users.add(name, chosen, scope, _password(password_stdin))
    finally:
        users.close()
    err.print(f"user {escape(user.name)} ({user.role.value}) created")


@user_app.command("list")
def user_list(ctx: typer.Context, json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The users, their roles, scopes and state."""
    from ..web.access import scope_for
    from ..web.users import UserStore

    settings = settings_of(ctx)
    users = UserStore(settings.archive_dir)
    try:
        listed = users.list()
    finally:
        users.close()
    rows = [{"name": u.name, "role": u.role.value, "types": list(u.types) if u.types is not None else None,
             "sees": None if (s := scope_for(u, settings)) is None else [t or "unclassified" for t in s],
             "disabled": u.disabled, "created_at": u.created_at} for u in listed]
    if json_out:
        emit_json(rows)
        return
    for row in rows:
        sees = "everything" if row["sees"] is None else ", ".join(row["sees"])
        state = "  [red]disabled[/red]" if row["disabled"] else ""
        out.print(f"{escape(row['name']):<20} {row['role']:<8} {escape(sees)}{state}")
    err.print(f"{len(rows)} user(s)")


@user_app.command("disable")
def user_disable(ctx: typer.Context, name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Lock a user out at once (sessions and API tokens end)."""
    from ..web.users import UserStore

    users = UserStore(settings_of(ctx).archive_dir)
    try:
        users.disable(name)
    finally:
        users.close()
    err.print(f"user {escape(name)} disabled")


@user_app.command("token")
def user_token(ctx: typer.Context, name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Make a new API token (printed once, alone on the last line; only its hash is kept)."""
    from ..web.users import UserStore

    users = UserStore(settings_of(ctx).archive_dir)
    try:
        token = users.new_token(name)
    finally:
        users.close()
    err.print(f"API token for {escape(name)} (send as 'Authorization: Bearer …'; it is not shown again):")
    print(token)


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8080,
) -> None:
    """Run the web archive (German pages for clerks, JSON API under /api/)."""
    import uvicorn

    from ..web.app import create_app

    settings = settings_of(ctx)
    web_app = create_app(settings)
    err.print(f"web archive for {settings.archive_dir} ({settings.backend}) on http://{host}:{port}/")
    uvicorn.run(web_app, host=host, port=port, log_level="warning", server_header=False)
