"""What every command module shares: the loaded Config and `--scope KEY=VALUE` options.

It lives apart from cli.py so that cli.py can import the command modules (cli_import,
cli_report, cli_analysis) at its top, and they can import this, without a cycle.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from processhealth.config import Config, load_config
from processhealth.errors import UserError


def pass_config(command: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: call the command with the loaded Config as its first argument."""
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return command(current_config(), *args, **kwargs)
    return wrapper


def current_config() -> Config:
    """The Config of the running command, loaded once from the root's --config path."""
    ctx = click.get_current_context()
    root = ctx.find_root()
    if "config" not in root.obj:
        root.obj["config"] = load_config(root.obj["config_path"])
    return root.obj["config"]


def parse_scope(pairs: tuple[str, ...]) -> dict[str, list[str]]:
    """`--scope` options (KEY=VALUE, repeatable) as {key: [values]}."""
    scope: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise UserError(f"--scope {pair!r} should look like KEY=VALUE, e.g. jira_project=PAY.")
        scope.setdefault(key.strip(), []).append(value.strip())
    return scope
