"""`ml-connector user …`: the console's users, from the command line only.

Passwords come from a hidden prompt (asked twice) or the first line of ``--password-file``;
they are never an option's value, so they stay out of shell history and ``ps``. Read commands
take ``--json`` and print one document, like every other read command.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from ml_connector.cli.console import EXIT_OK, emit, emit_json, run, say, table
from ml_connector.errors import ConfigError
from ml_connector.masking import keep_secret
from ml_connector.passwords import Passwords
from ml_connector.store.users import ConsoleEvent, SqlUsers
from ml_connector.usecases import users as uc
from ml_connector.usecases.opening import open_store, os_user

__all__ = ["user_app"]

user_app = typer.Typer(
    no_args_is_help=True,
    help="People who may sign in to the operator console (`ml-connector serve`).",
)

UserName = Annotated[str, typer.Argument(help="The user's sign-in name.", show_default=False)]
PasswordFile = Annotated[
    Path | None,
    typer.Option(
        "--password-file",
        help="Read the password from the first line of this file instead of a hidden prompt.",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]


def read_password(path: Path | None) -> str:
    """The password from ``path``'s first line, or typed twice at a hidden prompt."""
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path} is not UTF-8 text") from None
        password = text.splitlines()[0] if text else ""
    else:
        try:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        except typer.Abort:
            raise ConfigError(
                "the password is missing: type it when asked, or pass --password-file"
            ) from None
    keep_secret(password)
    return password


def _actor() -> str:
    return f"cli:{os_user()}"


def _user_doc(view: uc.UserView) -> dict[str, object]:
    return {"name": view.name, "role": view.role, "created_at": view.created_at}


def _event_doc(event: ConsoleEvent) -> dict[str, object]:
    return {
        "at": event.at,
        "event": event.event,
        "user": event.username,
        "actor": event.actor,
        "remote": event.remote,
        "detail": event.detail,
    }


@user_app.command("add")
def user_add(
    name: UserName,
    role: Annotated[
        str, typer.Option(metavar="viewer|operator|admin", help="What the user may do.")
    ],
    password_file: PasswordFile = None,
) -> None:
    """Add a user. Viewers read; operators also replay and fix; admins also edit connections."""

    async def body() -> int:
        checked = uc.check_role(role)
        uc.check_name(name)
        password = read_password(password_file)
        async with open_store() as store:
            await uc.add_user(
                SqlUsers(store.engine), Passwords(), name, checked, password, actor=_actor()
            )
        say(f"Added user {name} ({checked}).")
        return EXIT_OK

    run(body)


@user_app.command("list")
def user_list(as_json: Json = False) -> None:
    """List the users and their roles."""

    async def body() -> int:
        async with open_store() as store:
            views = await uc.list_users(SqlUsers(store.engine))
        docs = [_user_doc(v) for v in views]
        if as_json:
            emit_json({"users": docs})
        else:
            emit(
                table(
                    "Users",
                    ["name", "role", "added"],
                    [(v.name, v.role, f"{v.created_at:%Y-%m-%d %H:%M}") for v in views],
                    caption=None if views else "no users yet: ml-connector user add NAME --role R",
                )
            )
        return EXIT_OK

    run(body)


@user_app.command("remove")
def user_remove(
    name: UserName,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove a user; their open sessions end at once."""
    if not yes:
        try:
            sure = typer.confirm(f"Remove user {name}?", default=False)
        except typer.Abort:
            sure = False
        if not sure:
            typer.echo("Not removed (confirm, or pass --yes).", err=True)
            raise typer.Exit(2)

    async def body() -> int:
        async with open_store() as store:
            await uc.remove_user(SqlUsers(store.engine), name, actor=_actor())
        say(f"Removed user {name}.")
        return EXIT_OK

    run(body)


@user_app.command("passwd")
def user_passwd(name: UserName, password_file: PasswordFile = None) -> None:
    """Set a user's password; the user is signed out everywhere."""

    async def body() -> int:
        async with open_store() as store:
            users = SqlUsers(store.engine)
            if await users.get_user(name) is None:
                raise ConfigError(f"no user named {name!r}")
            password = await asyncio.to_thread(read_password, password_file)
            await uc.change_password(users, Passwords(), name, password, actor=_actor())
        say(f"Changed the password of {name}; their sessions were ended.")
        return EXIT_OK

    run(body)


@user_app.command("log")
def user_log(
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    user: Annotated[str | None, typer.Option(help="Only this user.")] = None,
    as_json: Json = False,
) -> None:
    """The access log: sign-ins (accepted, refused, throttled), sign-outs and user changes."""

    async def body() -> int:
        async with open_store() as store:
            events = await uc.access_log(SqlUsers(store.engine), limit=limit, username=user)
        if as_json:
            emit_json({"events": [_event_doc(e) for e in events]})
        else:
            emit(
                table(
                    "Access log",
                    ["at", "event", "user", "actor", "from", "detail"],
                    [
                        (
                            f"{e.at:%Y-%m-%d %H:%M:%S}",
                            e.event,
                            e.username,
                            e.actor,
                            e.remote,
                            e.detail,
                        )
                        for e in events
                    ],
                )
            )
        return EXIT_OK

    run(body)
