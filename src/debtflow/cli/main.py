"""The ``debtflow`` command.

Each command group lives in its own module, and some import heavy libraries (scikit-learn,
LightGBM, OR-Tools, SQLAlchemy models): importing all of them costs about 4 s. The console
script (``main``) therefore imports only the group named on the command line — ``debtflow
dispatch gap …`` loads the dispatch commands and nothing else — and every group only for
``debtflow``, ``debtflow --help`` or an unknown name. ``app`` (every command) is still
there for code that drives the command line in-process, e.g. tests with Typer's runner.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import cache
from importlib import import_module

import typer

from debtflow import cli

HELP = "debtflow — O2O debt collection: intake, nightly strategy, dispatch, compliance."


def _group(module: str) -> Callable[[], typer.Typer]:
    return lambda: import_module(f"debtflow.cli.{module}").app


def _compliance() -> typer.Typer:
    from debtflow.cli import compliance, compliance_keys, compliance_report, compliance_retention

    if not any(c.name == "report" for c in compliance.app.registered_commands):
        compliance.app.command("report")(compliance_report.report)
        compliance.app.command("rotate-pii-key")(compliance_keys.rotate_pii_key)
        compliance.app.command("delete-records")(compliance_retention.delete_records)
    return compliance.app


def _dispatch() -> typer.Typer:
    from debtflow.cli import dispatch, dispatch_ops

    if not any(c in dispatch.app.registered_commands for c in dispatch_ops.app.registered_commands):
        dispatch.app.registered_commands += dispatch_ops.app.registered_commands
    return dispatch.app


#: command groups, in the order ``--help`` lists them
GROUPS: dict[str, Callable[[], typer.Typer]] = {
    "db": _group("db"),
    "creditor": _group("creditor"),
    "portfolio": _group("portfolio"),
    "case": _group("case"),
    "compliance": _compliance,
    "conversation": _group("conversation"),
    "dispatch": _dispatch,
    "evidence": _group("evidence"),
    "model": _group("model"),
    "strategy": _group("strategy"),
    "route": _group("route"),
    "user": _group("user"),
}
#: single commands: name -> (module, function)
COMMANDS: dict[str, tuple[str, str]] = {
    "nightly": ("nightly", "nightly"),
    "demo": ("demo", "demo"),
    "serve": ("serve", "serve"),
}


def _root() -> None:
    """debtflow — O2O debt collection: intake, nightly strategy, dispatch, compliance."""
    from debtflow.config import InvalidSettings, get_settings

    try:  # the settings are checked once, before any command: a bad one is one line, exit 2
        get_settings()
    except InvalidSettings as exc:
        from debtflow.cli.common import fail

        raise fail(str(exc), 2) from None


def build_app(only: str | None = None) -> typer.Typer:
    """The command line with every command, or with only the group or command ``only``."""
    app = typer.Typer(help=HELP, no_args_is_help=True, pretty_exceptions_enable=False)
    # a callback keeps the root a group of named commands even when it holds only one
    # (``debtflow serve``): without it Typer would run that command as the whole program
    app.callback()(_root)
    for name, load in GROUPS.items():
        if only is None or only == name:
            app.add_typer(load(), name=name)
    for name, (module, function) in COMMANDS.items():
        if only is None or only == name:
            app.command(name)(getattr(import_module(f"debtflow.cli.{module}"), function))
    return app


@cache
def _full_app() -> typer.Typer:
    return build_app()


def __getattr__(name: str) -> typer.Typer:
    if name == "app":
        return _full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """The console script: load the command group named first on the command line."""
    cli.console_run = True
    named = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    only = named if named in GROUPS or named in COMMANDS else None
    build_app(only)()


if __name__ == "__main__":  # pragma: no cover
    main()
