"""``debtflow user``: sign-in accounts for staff, collectors, partners and debtors."""

from __future__ import annotations

import typer
from rich.table import Table

from debtflow.auth import service
from debtflow.cli.common import console, domain_errors, fail, transaction
from debtflow.models import Role

app = typer.Typer(help="Manage users who sign in to the web platform.", no_args_is_help=True)

ROLES = ", ".join(r.value for r in Role)


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise fail(f"unknown role {value!r}; one of: {ROLES}", 2) from None


def _ask_password() -> str:
    password: str = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    return password


@app.command("add")
@domain_errors
def add(
    username: str = typer.Argument(..., help="sign-in name (lower case)"),
    role: str = typer.Option(..., "--role", help=f"one of: {ROLES}"),
    name: str | None = typer.Option(None, "--name", help="display name"),
    collector: str | None = typer.Option(
        None, "--collector", help="collector code (agents, field agents, part-time, partners)"
    ),
    debtor_id: int | None = typer.Option(None, "--debtor-id", help="debtor id (debtors)"),
    phone: str | None = typer.Option(None, "--phone", help="phone for one-time codes (debtors)"),
    password: str | None = typer.Option(
        None, "--password", help="staff password (asked for when left out)"
    ),
) -> None:
    """Create a user. Staff get a password; debtors sign in with phone + one-time code."""
    user_role = _role(role)
    if user_role != Role.DEBTOR and password is None:
        with transaction() as session:  # an existing name is refused before the prompt
            service.check_new_user(
                session,
                username=username,
                role=user_role,
                collector_code=collector,
                debtor_id=debtor_id,
                phone=phone,
            )
        password = _ask_password()
    with transaction() as session:
        user = service.create_user(
            session,
            username=username,
            role=user_role,
            password=password,
            display_name=name,
            collector_code=collector,
            debtor_id=debtor_id,
            phone=phone,
        )
        console.print(f"created user {user.username} ({user.role.value}), id {user.id}")


@app.command("list")
@domain_errors
def list_users() -> None:
    """Every user with role, link and lock state."""
    table = Table(title="users")
    for column in ("username", "name", "role", "collector", "debtor", "locked until"):
        table.add_column(column)
    with transaction() as session:
        for user in service.list_users(session):
            table.add_row(
                user.username,
                user.display_name,
                user.role.value,
                str(user.collector_id or ""),
                str(user.debtor_id or ""),
                user.locked_until.isoformat(timespec="minutes") if user.locked_until else "",
            )
    console.print(table)


@app.command("reset-password")
@domain_errors
def reset_password(
    username: str = typer.Argument(..., help="whose password"),
    password: str | None = typer.Option(None, "--password", help="new password (else asked)"),
) -> None:
    """Set a new password; also lifts a lockout."""
    with transaction() as session:
        service.get_user(session, username=username)
        new = password if password is not None else _ask_password()
        user = service.reset_password(session, username=username, password=new)
        console.print(f"password of {user.username} changed; lockout lifted")
