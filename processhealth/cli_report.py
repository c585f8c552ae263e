"""The `report`, `audit` and `export` commands: what leaves the analytics database.

All three open the analytics database read-only, so they can run while `collect` writes the raw
store or a BI tool has the database open. `report` also records, for a month that is over, what
the month's first report counted in the raw store (reports.late); while a collect holds the raw
store it cannot, and the report says in one line that late data could not be checked.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import click

from processhealth import ui
from processhealth.cli_config import parse_scope, pass_config
from processhealth.config import Config
from processhealth.errors import UserError


@click.command()
@click.option("--month", metavar="YYYY-MM",
              help="Month to report on (default: the latest month of data that is over).")
@click.option("--team", "teams", multiple=True, help="Only this team (default: every team).")
@click.option("--out", type=click.Path(path_type=Path),
              help="A path ending in .html: one HTML file. Anything else (a folder, existing "
                   "or not): index.html plus one team-<name>.html per team. Default: [report] "
                   "out in config, report.html.")
@pass_config
def report(config: Config, month: str | None, teams: tuple[str, ...], out: Path | None) -> None:
    """Write the monthly process-health report: self-contained HTML.

    It opens with the organization at a glance: a team x month grid of verdicts, the teams
    whose verdict changed this month, and links to each team. `--out report.html` writes one
    file; `--out report/` (any path not ending in .html) writes report/index.html and one page
    per team, for organizations too large for one file.

    Per team: the verdict and the signals behind it, where effort went over the last
    [report] months months, overhead against baseline, flow and pull-request cycle,
    paperwork, coupling, nag load, shadow tools, process experiments and adoption; then
    coverage and caveats. It opens offline (no script, no network) and can be mailed as is.
    """
    from reports.pages import is_folder_target, render_pages
    from reports.render import render_report

    if len(teams) > 1:  # click would keep the last one without a word
        raise UserError(f"report --team takes one team, not {len(teams)} ({', '.join(teams)}): "
                        f"leave --team out for every team, or write one report per team.")
    team = teams[0] if teams else None
    started = time.perf_counter()
    target = Path(out or config.report.out)
    if is_folder_target(target):
        paths = render_pages(config, target, month=month, team=team)
        largest = max(p.stat().st_size for p in paths) / 1e6
        ui.say(f"wrote {paths[0]} and {len(paths) - 1} team pages in {target} (largest "
               f"{largest:.1f} MB) in {time.perf_counter() - started:.1f} s")
        return
    path = render_report(config, target, month=month, team=team)
    size = path.stat().st_size / 1e6
    ui.say(f"wrote {path} ({size:.1f} MB) in {time.perf_counter() - started:.1f} s")


@click.command()
@click.option("--tool", required=True, help="The tool (or process) about to be introduced.")
@click.option("--team", "teams", multiple=True, help="Only this team (repeatable; default: all).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("audit.html"),
              show_default=True, help="HTML file to write.")
@click.option("--record", is_flag=True,
              help="Also record the proposed criteria as a process experiment, so monthly "
                   "reports track them (run `processhealth build` afterwards).")
@click.option("--name", help="Name of the recorded process change (default: the tool's name).")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Audit the 3 whole months before this date instead of the last 3 months of "
                   "data, e.g. the quarter before a tool that is already in.")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]),
              help="Date the tool starts, for --record (default: --as-of, else today).")
@click.option("--scope", "scopes", multiple=True, metavar="KEY=VALUE",
              help="Footprint for --record, e.g. jira_project=PAY, channel=pmtool-*.")
@pass_config
def audit(config: Config, tool: str, teams: tuple[str, ...], out: Path, record: bool,
          name: str | None, start: datetime | None, scopes: tuple[str, ...],
          as_of: datetime | None) -> None:
    """Audit before introducing a new tool: one self-contained HTML file.

    Per team: where work happens now (share of effort per source), today's process load,
    dead-weight Jira fields and Slack channels, shadow tools, and proposed measurable success
    criteria for the tool. With --record, the criteria are stored as a process experiment.

    It covers the last 3 months of data; with --as-of DATE, the 3 whole months before DATE
    (--as-of 2025-03-10 audits December to February), and --record then records the criteria
    with a start of DATE, so their baseline is the window audited. A date in the future or
    before the data is refused and nothing is written.
    """
    from reports.audit import render_audit

    given = [flag for flag, value in (("--name", name), ("--start", start), ("--scope", scopes))
             if value]
    if given and not record:
        raise UserError(f"{', '.join(given)} describe the process change that --record stores; "
                        f"add --record, or leave them out for an audit only.")
    path, recorded = render_audit(
        config, out, tool=tool, teams=list(teams) or None, record=record, name=name,
        started_on=start.date() if start else None, scope=parse_scope(scopes),
        as_of=as_of.date() if as_of else None)
    ui.say(f"wrote {path}")
    for change in recorded:
        ui.say(f"recorded process change {change!r}; run `processhealth build` so monthly "
               f"reports track it")


@click.command()
@click.option("--parquet", "parquet_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write (new, empty, or written by an earlier export).")
@pass_config
def export(config: Config, parquet_dir: Path) -> None:
    """Export every table and view as Parquet, Hive-partitioned by month.

    For engines past one machine (Spark SQL, Trino) or plain files: DIR/<table>/month=YYYY-MM-01/
    for anything with a month (events, work items, effort and metric views), one file otherwise.
    """
    from reports.db import AnalyticsDB
    from reports.export import export_parquet

    with AnalyticsDB.open(config.storage.analytics_path,
                          config.storage.memory_limit) as db:
        written = export_parquet(db, parquet_dir)
    rows = sum(int(w["rows"]) for w in written.values())  # type: ignore[call-overload]
    ui.say(f"exported {len(written)} tables and views ({rows:,} rows) to {parquet_dir}")


COMMANDS = [report, audit, export]
