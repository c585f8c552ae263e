"""The `processhealth` command line. Each command's docstring is its --help.

Domain errors become a one-paragraph message and an exit code here and only here:
0 ok, 1 user error (config, input), 2 source or API failure.

The commands of cli_import (import ...), cli_report (report, audit, export) and cli_analysis
(people, ...) are added at the end of this file; commands receive the loaded Config through
`cli_config.pass_config`.
"""

from __future__ import annotations

import csv
import errno
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
import duckdb
from rich.console import Console
from rich.table import Table
from rich.text import Text

from processhealth import __version__, cli_analysis, cli_import, cli_report, pipeline, state, ui
from processhealth.cli_config import current_config, parse_scope, pass_config
from processhealth.config import (
    CONFIG_ENV_VAR,
    DEFAULT_CONFIG_NAME,
    SOURCES,
    Config,
    example_config_text,
)
from processhealth.doctor import checks as doctor_checks
from processhealth.duckdb_files import open_duckdb
from processhealth.errors import SourceError, UserError
from processhealth.store import RawStore

READ_ONLY_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


_FILE_SYSTEM_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


class _InputError(click.ClickException):
    """A command line click refused (unknown option, bad value): one paragraph, exit code 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        ui.error(self.message)


def _usage(exc: click.UsageError) -> click.ClickException:
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        return exc  # a bare group prints its help
    hint = f" See `{exc.ctx.command_path} --help`." if exc.ctx else ""
    return _InputError(" ".join(exc.format_message().split()) + hint)


class _Group(click.Group):
    """A click group that turns UserError / SourceError into a message and an exit code, and
    click's usage errors and file-system errors into one paragraph and exit code 1."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            raise _usage(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _usage(exc) from None
        except (UserError, SourceError) as exc:
            ui.error(str(exc))
            ctx.exit(exc.exit_code)
        except OSError as exc:  # a path that is a file, a full disk, a denied permission
            if exc.filename is None and exc.errno not in _FILE_SYSTEM_ERRORS:
                raise
            ui.error(f"Cannot use {exc.filename or 'a file'}: {exc.strerror or exc}. Check the "
                     f"paths in the config ([storage], [report] out, --out) and that the folder "
                     f"is writable.")
            ctx.exit(1)
        except duckdb.Error as exc:  # a damaged database file, found while reading it
            if not _damaged(exc):
                raise
            ui.error(damaged_message(exc))
            ctx.exit(1)


DAMAGE_SIGNS = ("corrupt database file", "could not read enough bytes", "checksum",
                "not a valid duckdb database", "failed to read", "unexpected end of file")


def _damaged(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(sign in text for sign in DAMAGE_SIGNS)


def damaged_message(exc: Exception) -> str:
    said = " ".join(str(exc).split())[:300]
    return (f"A database file is damaged (DuckDB says: {said}). The analytics database is "
            f"rebuilt by `processhealth build`; if the build says the same, the raw store "
            f"([storage] raw_path) is damaged: restore it from a backup, or point raw_path at a "
            f"new file and run `processhealth collect --full`.")


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="processhealth")
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
    envvar=CONFIG_ENV_VAR, default=DEFAULT_CONFIG_NAME, show_default=True,
    help=f"Config file (also ${CONFIG_ENV_VAR}).",
)
@click.pass_context
def cli(ctx: click.Context, config_path: Path) -> None:
    """Does your process amplify the product, or has it become the product?

    Collects GitHub, Jira and Slack activity into DuckDB, measures the effort that goes to
    customer-facing work versus process overhead, and writes HTML reports per team and month.
    Start with `processhealth init`, then `doctor`, `collect`, `build`.
    """
    ctx.obj = {"config_path": config_path}


@cli.command()
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_context
def init(ctx: click.Context, force: bool) -> None:
    """Write a commented example config (processhealth.toml, or the --config path)."""
    path: Path = ctx.find_root().obj["config_path"]
    if path.exists() and not force:
        raise UserError(f"{path} already exists; use `processhealth init --force` to overwrite it.")
    path.write_text(example_config_text(), encoding="utf-8")
    ui.say(f"wrote {path}; edit it, export the tokens it names, then run `processhealth doctor`.")


@cli.command()
@click.option("--source", "sources", multiple=True, type=click.Choice(SOURCES),
              help="Only this source (repeatable). Default: every enabled source.")
@click.option("--full", is_flag=True, help="Forget checkpoints and re-read everything.")
@pass_config
def collect(config: Config, sources: tuple[str, ...], full: bool) -> None:
    """Fetch new activity from the enabled sources into the raw store (incremental)."""
    pipeline.collect(config, sources or None, full=full)


@cli.command()
@click.option("--full", is_flag=True,
              help="Rebuild everything, even when the previous database could be reused.")
@pass_config
def build(config: Config, full: bool) -> None:
    """Build the analytics database from the raw store: incremental when the previous database
    is a valid base, else full (docs/build.md); atomic swap, readers keep working."""
    target = pipeline.build(config, full=full)
    plan = pipeline.last_plan
    if plan is not None and plan.mode == "current":
        ui.say(f"{target} is {plan.summary()}")
        return
    ui.say(f"built {target} ({plan.summary() if plan else 'full'})")


@cli.command()
@click.option("--online", is_flag=True, help="Also call each enabled source's API once.")
@click.pass_context
def doctor(ctx: click.Context, online: bool) -> None:
    """Check config, environment variables and database files; print a short table."""
    rows = doctor_checks(ctx.find_root().obj["config_path"], online=online)
    table = Table("check", "status", "detail", title="processhealth doctor")
    styles = {"ok": "green", "off": "dim", "warn": "yellow", "FAIL": "bold red"}
    for check, status, detail in rows:
        table.add_row(Text(check), Text(status, style=styles[status]), Text(detail))
    Console(soft_wrap=True).print(table)
    if any(status == "FAIL" for _, status, _ in rows):
        ctx.exit(1)


@cli.command()
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--db", "db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="An analytics database file to query (a copy someone sent); no config needed.")
def sql(query: str, fmt: str, db: Path | None) -> None:
    """Run one read-only SQL query (SELECT, EXPLAIN) on the analytics database."""
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise UserError(f"The query is not valid SQL: {exc}") from None
    if len(statements) != 1 or statements[0].type not in READ_ONLY_STATEMENTS:
        raise UserError(
            "`processhealth sql` runs exactly one read-only statement (SELECT, WITH ... SELECT, "
            "DESCRIBE, SHOW, EXPLAIN). To change data, change config and run `processhealth build`."
        )
    path = db if db is not None else current_config().storage.analytics_path
    if not path.exists():
        raise UserError(f"There is no analytics database at {path}" + (
            "." if db is not None else " yet; run `processhealth build`."))
    con = open_duckdb(path, read_only=True)
    # A query reads the database only: no local files, no URLs (read_csv, httpfs, ATTACH).
    con.execute("SET enable_external_access = false")
    try:
        result = con.execute(query)
        columns = [d[0] for d in result.description or []]
        rows = result.fetchall()
    except duckdb.Error as exc:
        raise UserError(f"The query failed: {exc}") from None
    finally:
        con.close()
    _print_rows(columns, rows, fmt)


def _print_rows(columns: list[str], rows: list[tuple[Any, ...]], fmt: str) -> None:
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    elif fmt == "json":
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        click.echo(json.dumps(records, default=_json_default, ensure_ascii=False, indent=1))
    else:
        table = Table(*columns)
        for row in rows:
            table.add_row(*(Text("" if v is None else str(v)) for v in row))
        Console(soft_wrap=True).print(table)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


@cli.group()
def experiment() -> None:
    """Process changes under evaluation and their measurable success criteria."""


@experiment.command("add")
@click.argument("name")
@click.option("--start", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="Date the change started (YYYY-MM-DD).")
@click.option("--team", help="Team it applies to (default: every team).")
@click.option("--tool", help="The tool introduced, if any.")
@click.option("--scope", "scopes", multiple=True, metavar="KEY=VALUE",
              help="Footprint, e.g. jira_project=PAY, channel=pmtool-*, field=Story Points.")
@click.option("--criterion", "criteria", multiple=True, metavar='"METRIC OP NUMBER[pp|%]"',
              help='Success criterion, e.g. "overhead_ratio_change <= +3pp" (repeatable).')
@pass_config
def experiment_add(config: Config, name: str, start: datetime, team: str | None,
                   tool: str | None, scopes: tuple[str, ...], criteria: tuple[str, ...]) -> None:
    """Record a process change: name, start date, team, scope and success criteria."""
    known = [t.name for t in config.teams]
    if team and known and team not in known:
        raise UserError(f"--team {team!r} is not a team in config; expected one of: "
                        f"{', '.join(known)}.")
    state.check_start(start.date())
    parsed = [state.parse_criterion(text) for text in criteria]
    scope = parse_scope(scopes)
    from analysis.criteria import check, check_units  # what the evaluation understands

    check(scope, [c.metric for c in parsed])
    check_units(parsed)
    with RawStore.of(config) as store:
        state.add_process_change(store, name, started_on=start.date(), team=team, tool=tool,
                                 scope=scope, criteria=parsed)
    ui.say(f"recorded process change {name!r} with {len(parsed)} criteria")


@experiment.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@pass_config
def experiment_list(config: Config, fmt: str) -> None:
    """List recorded process changes and their criteria."""
    if not config.storage.raw_path.exists():
        changes: list[dict[str, Any]] = []
    else:
        with RawStore.of(config, read_only=True) as store:
            changes = state.list_process_changes(store)
    columns = ["name", "started_on", "team", "tool", "scope", "criteria"]
    rows = [
        (c["name"], c["started_on"], c["team"], c["tool"], json.dumps(c["scope"]),
         "; ".join(k.text for k in c["criteria"]))
        for c in changes
    ]
    _print_rows(columns, rows, fmt)


@experiment.command("remove")
@click.argument("name")
@pass_config
def experiment_remove(config: Config, name: str) -> None:
    """Delete a recorded process change and its criteria."""
    with RawStore.of(config) as store:
        state.remove_process_change(store, name)
    ui.say(f"removed process change {name!r}")


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("demo-out"), show_default=True, help="Folder for databases and report.")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the organization.")
def demo(out_dir: Path, seed: int) -> None:
    """Simulate an organization, serve it through local API emulators, collect, build, report.

    No tokens and no network: the emulators listen on 127.0.0.1 and the real client libraries
    talk to them. The folder gets the config, both databases, truth.duckdb and report.html."""
    from processhealth.demo import run_demo

    report = run_demo(out_dir, seed=seed)
    click.echo(f"Report: {report}")


cli.add_command(cli_import.import_group)
for _command in (*cli_report.COMMANDS, *cli_analysis.COMMANDS):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="processhealth")
