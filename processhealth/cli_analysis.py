"""The `people` and `classify` commands: review who is who and how effort was classified.

Both read the analytics database (read-only) that `build` wrote; changes go into config or
people.csv and take effect at the next `processhealth build`, with no new collection.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import click
import duckdb
from rich.console import Console
from rich.table import Table
from rich.text import Text

from analysis.identity import write_people_csv
from processhealth import ui
from processhealth.cli_config import pass_config
from processhealth.config import Config
from processhealth.duckdb_files import open_duckdb
from processhealth.errors import UserError

SOURCES = ("github", "jira", "slack")
# Words in a bucket's name that hint at its category, for suggested rules (a hint, not a rule).
HINTS = {
    "customer": r"support|customer|client|incident|escalat|bug|feature|story|sales|app\b",
    "enabling": r"\beng|dev|infra|platform|tech|debt|ops\b|\bci\b|build|tool|spike|refactor|"
                r"experiment|arch",
    "process": r"standup|status|sync|planning|retro|pmtool|process|report|timesheet|initiative|"
               r"okr|roadmap",
    "social": r"random|general|social|fun|watercooler|lunch|offtopic|off-topic|kudos",
}


def _open(config: Config) -> duckdb.DuckDBPyConnection:
    path = config.storage.analytics_path
    if not path.exists():
        raise UserError(f"There is no analytics database at {path} yet; run `processhealth "
                        f"collect` and `processhealth build` first.")
    return open_duckdb(path, read_only=True)


@click.command()
@click.option("--write", "write_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the map to this CSV (one row per account) to review and keep in "
                   "version control; point [people] csv at it and it wins over the heuristics.")
@click.option("--unmatched", is_flag=True,
              help="Only list accounts that matched no other account.")
@click.option("--force", is_flag=True, help="With --write: replace an existing file.")
@pass_config
def people(config: Config, write_path: Path | None, unmatched: bool, force: bool) -> None:
    """Print who is who: each person's GitHub, Jira and Slack accounts and how they were matched.

    Matches come from people.csv, [[people.mappings]], then the same email, the same name, or a
    login that is a usual form of the name. Fix a wrong or missing match by editing the CSV
    written with --write (change the person cell), set [people] csv, and run
    `processhealth build` again.
    """
    if write_path is not None and unmatched:
        raise UserError("--write writes every account and --unmatched lists only the unmatched "
                        "ones; use one or the other.")
    if force and write_path is None:
        raise UserError("--force replaces the file --write names; without --write it does "
                        "nothing.")
    if write_path is not None and not write_path.parent.is_dir():
        raise UserError(f"The folder of {write_path} does not exist; create it first.")
    if write_path is not None and write_path.exists() and not force:
        raise UserError(f"{write_path} already exists (perhaps the map you edited, which [people] "
                        f"csv names); write to another file and compare, or use --force to "
                        f"replace it.")
    con = _open(config)
    try:
        if write_path is not None:
            n = write_people_csv(con, write_path)
            ui.say(f"wrote {n} accounts to {write_path}; set [people] csv = \"{write_path}\" "
                   f"in config to make it the map, then run `processhealth build`.")
            return
        found = con.execute("""
            SELECT i.person_id, p.display_name, p.team, i.source, i.source_user_id, i.login,
                   i.email, i.display_name, i.matched_by, p.is_bot
            FROM identities i JOIN people p USING (person_id)
            ORDER BY p.is_bot, p.display_name, i.person_id, i.source
        """).fetchall()
        pseudonymized = con.execute("SELECT value FROM build_params WHERE name = "
                                    "'privacy.pseudonymize'").fetchone()
    finally:
        con.close()
    if pseudonymized and pseudonymized[0] == "true":
        ui.warn("privacy.pseudonymize is on: names and logins are pseudonyms in this database.")
    console = Console(soft_wrap=True)
    if unmatched:
        table = Table("source", "account", "login", "name", "email", title="unmatched accounts")
        for _, _, _, source, uid, login, email, name, how, is_bot in found:
            if how == "unmatched" and not is_bot:
                table.add_row(*(Text(v or "") for v in (source, uid, login, name, email)))
        console.print(table)
        ui.say(f"{table.row_count} unmatched accounts; tie them to people in a people.csv "
               f"(`processhealth people --write people.csv`).")
        return
    by_person: dict[str, dict] = {}
    accounts: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for person, display, team, source, uid, login, _, _, how, is_bot in found:
        by_person.setdefault(person, {"name": display, "team": team, "bot": is_bot})
        accounts[person][source].append(f"{login or uid} ({how})")
    table = Table("person", "name", "team", *SOURCES, title="people")
    for person, info in by_person.items():
        cells = [person, info["name"] or "", info["team"] or ("bot" if info["bot"] else "")]
        cells += ["\n".join(accounts[person].get(s, [])) for s in SOURCES]
        table.add_row(*(Text(c) for c in cells))
    console.print(table)
    lone = sum(1 for row in found if row[8] == "unmatched")
    ui.say(f"{len(by_person)} people, {len(found)} accounts, {lone} unmatched "
           f"(`processhealth people --unmatched`).")


def suggest(bucket_kind: str, bucket: str) -> str | None:
    """A [[classification.rules]] entry for an unclassified bucket (category guessed from its
    name, or a placeholder); None for buckets no rule condition can name."""
    match = {
        "channel": f'{{ source = "slack", channel = [{_toml(bucket)}] }}',
        "repo": f"{{ repo = [{_toml(bucket.rsplit('/', 1)[-1])}] }}",
        "project": f'{{ source = "jira", project = [{_toml(bucket)}] }}',
        "issue_type": f'{{ source = "jira", issue_type = [{_toml(bucket)}] }}',
        "label": f"{{ labels = [{_toml(bucket)}] }}",
    }.get(bucket_kind)
    if match is None:
        return None
    guess = next((c for c, pattern in HINTS.items() if re.search(pattern, bucket.lower())), None)
    if guess == "social":
        return f"# {bucket_kind} {bucket!r} looks social: leaving it unclassified is fine."
    name = re.sub(r"[^a-z0-9]+", "-", f"{bucket_kind}-{bucket}".lower()).strip("-")
    category = guess or "customer | enabling | process"
    note = "" if guess else "   # choose one"
    return (f'[[classification.rules]]\nname = "{name}"\ncategory = "{category}"{note}\n'
            f"match = {match}")


def _toml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@click.command()
@click.option("--explain", is_flag=True,
              help="List the largest unclassified buckets by effort and suggest rules to add.")
@click.option("--limit", default=12, show_default=True, help="Buckets to list with --explain.")
@pass_config
def classify(config: Config, explain: bool, limit: int) -> None:
    """Show how effort was classified: hours and share per category and per rule.

    Every event's category comes from one rule (category_rule); with --explain, the largest
    unclassified buckets (channels, repositories, Jira projects, issue types, labels) are listed
    with a suggested [[classification.rules]] entry for each. Add the rules you agree with to
    config and run `processhealth build`; nothing is collected again.
    """
    con = _open(config)
    try:
        if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name ="
                           " 'effort_credit' AND database_name = current_database()"
                           ).fetchone()[0]:
            raise UserError(
                f"The analytics database {config.storage.analytics_path} was built by an older "
                f"processhealth (it has no effort_credit table). Rebuild it with this version "
                f"(`processhealth build`).")
        by_rule = con.execute("""
            SELECT coalesce(e.category, 'unclassified') AS category, e.category_rule,
                   count(*) AS events, sum(f.minutes) / 60 AS hours,
                   sum(f.minutes) / sum(sum(f.minutes)) OVER () AS share
            FROM effort_credit f JOIN events e USING (event_seq)
            GROUP BY ALL ORDER BY category, hours DESC
        """).fetchall()
        buckets = con.execute("""
            SELECT bucket_kind, bucket, hours, events, share_of_effort
            FROM metric_effort_unclassified WHERE bucket_kind <> 'event_kind' LIMIT ?
        """, [limit]).fetchall() if explain else []
    finally:
        con.close()
    console = Console(soft_wrap=True)
    unclassified = sum(r[4] or 0 for r in by_rule if r[0] == "unclassified")
    if not explain:
        table = Table("category", "rule", "events", "hours", "share", title="effort by rule")
        for category, rule, events, hours, share in by_rule:
            table.add_row(category, Text(rule or ""), str(events), f"{hours:,.1f}",
                          f"{100 * (share or 0):.1f}%")
        console.print(table)
        ui.say(f"unclassified: {100 * unclassified:.1f}% of credited effort "
               f"(`processhealth classify --explain` shows where).")
        return
    ui.say(f"unclassified: {100 * unclassified:.1f}% of credited effort. Largest buckets "
           f"(an event can be in several):")
    table = Table("kind", "bucket", "hours", "events", "share of all effort")
    for kind, bucket, hours, events, share in buckets:
        table.add_row(kind, Text(bucket or ""), f"{hours:,.1f}", str(events),
                      f"{100 * (share or 0):.1f}%")
    console.print(table)
    rules = [s for s in (suggest(k, b or "") for k, b, *_ in buckets) if s]
    if rules:
        click.echo("\n# Suggested rules; add to config after checking the category:\n")
        click.echo("\n\n".join(rules))


COMMANDS = [people, classify]
