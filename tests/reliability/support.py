"""What the reliability catalogue shares: one tiny organization, the three emulators with known
tokens, a config for them, table digests (row counts and content checksums), file snapshots, and
running the CLI in-process, in a forked child (for SIGKILL) or as a real subprocess."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
from click.testing import CliRunner, Result
from shared_cache import shared_org

from simulation import OrgSpec, TeamSpec
from simulation.github_emulator import GitHubEmulator
from simulation.jira_emulator import JiraEmulator
from simulation.model import Org
from simulation.server import Emulator, Faults, serve
from simulation.slack_emulator import SlackEmulator

# One team of three for one month: every list of every source has a few pages (Jira pages of 10)
# and a collection of all three takes a second or two.
SPEC = OrgSpec(teams=(TeamSpec("atlas", "steady", 3),), start=date(2026, 2, 1), months=1)
SEED = 3
# Distinctive values, so a scan of every written file can look for them.
TOKENS = {
    "GITHUB_TOKEN": "ghp_RELIABILITYgithubTOKEN0f00d1234567",
    "JIRA_TOKEN": "ATATT3xRELIABILITYjiraTOKENc0ffee99",
    "SLACK_TOKEN": "xoxb-4711-RELIABILITY-slackTOKEN-beefcafe",
    "PROCESSHEALTH_SALT": "RELIABILITYsaltVALUE5a17",
}
JIRA_EMAIL = "ops@acme.example"
SOURCES = ("github", "jira", "slack")
JIRA_PAGE = 10
PROCESSHEALTH = Path(sys.executable).with_name("processhealth")
# Columns that record when something was written, not what: left out of every checksum.
VOLATILE = {"fetched_at", "applied_at", "created_at"}
VOLATILE_IN = {"sync_state": {"updated_at"}, "sync_coverage": {"noted_at"},
               "sync_runs": {"started_at", "finished_at"}}


def make_org() -> Org:
    return shared_org(SEED, SPEC)


SECRETS_ENV = {**TOKENS, "JIRA_EMAIL": JIRA_EMAIL}


def env(**extra: str) -> dict[str, str]:
    """This process's environment with every token the config names (for child processes)."""
    base = {k: v for k, v in os.environ.items() if k not in SECRETS_ENV}
    base.pop("PROCESSHEALTH_CONFIG", None)
    return {**base, **SECRETS_ENV, **extra}


def emulator(source: str, org: Org, slack_time_scale: float = 1.0) -> Emulator:
    """The emulator of one source, accepting the token in TOKENS. A Slack time scale below 1
    goes with a collector on a ScaledClock (in-process runs)."""
    if source == "github":
        return GitHubEmulator(org, token=TOKENS["GITHUB_TOKEN"])
    if source == "jira":
        return JiraEmulator(org, TOKENS["JIRA_TOKEN"], email=JIRA_EMAIL, page_cap=JIRA_PAGE)
    return SlackEmulator(org, TOKENS["SLACK_TOKEN"], time_scale=slack_time_scale)


@dataclass
class Apis:
    urls: dict[str, str]
    apps: dict[str, Emulator]

    def requests(self) -> int:
        return sum(app.stats.total for app in self.apps.values())

    def reset(self) -> None:
        for app in self.apps.values():
            app.stats.reset()
            app.faults = Faults()


@contextmanager
def served(org: Org) -> Iterator[Apis]:
    """The three emulators of `org`, each on its own free port."""
    with ExitStack() as stack:
        apps = {s: emulator(s, org) for s in SOURCES}
        urls = {s: stack.enter_context(serve(app)).url for s, app in apps.items()}
        yield Apis(urls, apps)


def config_text(urls: dict[str, str], *, raw: str = "raw.duckdb",
                analytics: str = "processhealth.duckdb", team: str = "atlas",
                github: str = "", jira: str = "", slack: str = "", extra: str = "") -> str:
    """A config with all three sources on the emulators, and the team the org has."""
    return f"""[storage]
raw_path = "{raw}"
analytics_path = "{analytics}"

[github]
enabled = true
base_url = "{urls['github']}"
org = "acme"
seconds_between_requests = 0
retry_backoff = 0
{github}

[jira]
enabled = true
base_url = "{urls['jira']}"
{jira}

[slack]
enabled = true
base_url = "{urls['slack']}"
{slack}

[[teams]]
name = {toml_string(team)}
jira_projects = ["ATL"]
repos = ["atlas-app"]
channels = ["*-atlas"]
{extra}"""


def toml_string(value: str) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def write_config(folder: Path, urls: dict[str, str], **kw: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "processhealth.toml"
    path.write_text(config_text(urls, **kw), encoding="utf-8")
    return path


# --- table digests ----------------------------------------------------------------------------

def _canonical(value: Any) -> Any:
    """Floats to 9 significant digits: DuckDB's parallel sums add in any order, so two builds of
    the same data differ by up to about 1e-15 relatively (measured: effort_sensitivity,
    metric_effort_allocation, health_verdict_signals); at 12 digits such a value now and then fell
    on a rounding boundary and the digests differed."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    return value


def digest(path: Path) -> dict[str, tuple[int, str]]:
    """{table: (row count, sha256 of its sorted rows)} for every table of a DuckDB file, without
    the columns that only say when a row was written (a raw table's seq by its rank)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
            " ORDER BY 1").fetchall()]
        out = {}
        for table in tables:
            skip = VOLATILE | VOLATILE_IN.get(table, set())
            columns = [r[0] for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name ="
                " current_database() AND table_name = ? ORDER BY column_index",
                [table]).fetchall() if r[0] not in skip]
            # a raw table's seq by its rank: the order rows were written in is what must
            # match; the numbers start at the clock (raw_rows.clock_seq)
            listed = ", ".join('rank() OVER (ORDER BY seq)' if c == "seq" and
                               table.startswith("raw_") else f'"{c}"' for c in columns)
            rows = con.execute(f'SELECT {listed} FROM "{table}"').fetchall()
            out[table] = _checksum(rows)
        return out
    finally:
        con.close()


def _checksum(rows: list[tuple]) -> tuple[int, str]:
    lines = sorted(repr(_canonical(row)) for row in rows)
    return len(rows), hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def differences(got: dict[str, tuple[int, str]], want: dict[str, tuple[int, str]]) -> list[str]:
    """Readable list of the tables that differ (empty when equal)."""
    names = sorted(set(got) | set(want))
    return [f"{t}: {got.get(t)} != {want.get(t)}" for t in names if got.get(t) != want.get(t)]


# --- files --------------------------------------------------------------------------------------

def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """{relative path: (size, sha256)} of every file under `folder`."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            out[path.relative_to(folder).as_posix()] = (len(data), hashlib.sha256(data)
                                                        .hexdigest()[:16])
    return out


def copy_db(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


# --- running the CLI ----------------------------------------------------------------------------

def invoke(config: Path | None, *args: str, environ: dict[str, str] | None = None) -> Result:
    """The CLI in this process (click's runner), output = stdout and stderr."""
    from processhealth.cli import cli

    head = ["--config", str(config)] if config is not None else []
    return CliRunner().invoke(cli, [*head, *args], env=environ)


def _child(args: list[str], environ: dict[str, str], cwd: str, log: str) -> None:
    os.environ.clear()
    os.environ.update(environ)
    os.chdir(cwd)
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)  # stdout and stderr, as cron's mail
    os.dup2(out, 1)
    os.dup2(out, 2)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    from processhealth.cli import cli

    cli.main(args=args, prog_name="processhealth")


def fork_cli(config: Path, *args: str, environ: dict[str, str], log: Path | None = None
             ) -> multiprocessing.Process:
    """`processhealth --config CONFIG ARGS` in a forked child: a real process to SIGKILL, without
    paying for the imports again. Its output goes to `log` (default: nowhere)."""
    proc = multiprocessing.get_context("fork").Process(
        target=_child, args=(["--config", str(config), *args], environ, str(config.parent),
                             str(log or os.devnull)), daemon=True)
    proc.start()
    return proc


def run_cli(config: Path, *args: str, environ: dict[str, str], timeout: float = 120
            ) -> tuple[int, str, str]:
    """The installed `processhealth` command in a subprocess: (exit code, stdout, stderr)."""
    import subprocess

    command = [str(PROCESSHEALTH), "--config", str(config), *args]
    if not PROCESSHEALTH.exists():
        command = [sys.executable, "-c", "from processhealth.cli import main; main()",
                   *command[1:]]
    done = subprocess.run(command, env=environ, capture_output=True, text=True,
                          timeout=timeout, cwd=config.parent)
    return done.returncode, done.stdout, done.stderr


def wait_until(predicate, timeout: float, step: float = 0.001) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


# --- a whole cron run on a hostile, odd organization ------------------------------------------

HOSTILE_HTML = "<script>alert('x')</script>"
HOSTILE_IMG = "<img src=x onerror=\"alert('img')\">"
HOSTILE_SQL = "'; DROP TABLE events; --"
RTL_EMOJI = "\u202eevil\u202c مرحبا שלום 🚀 e\u0301 \u200d👩\u200d💻"
HOSTILE_LABEL = "x'); DROP TABLE work_items; --<b>"
HOSTILE_CHANNEL = "random<svg onload=alert(1)>'\""
HOSTILE_TEAM = "atlas<script>alert('team')</script>'; DROP TABLE teams; --"
HOSTILE_TITLE = "<img src=x onerror=alert('title')> Process health"
HOSTILE_RULE = "rule'); DROP TABLE events; --<i>"
HOSTILE_CHANGE = "pm'); DROP TABLE process_changes; --<script>"
HOSTILE_TOOL = "<script>alert('tool')</script>"
HOSTILE_BOT = "x'); DROP TABLE channels; --"
UNKNOWN_STATUS = "Legacy ⚙ Review"
HOSTILE_CONFIG = f"""
[report]
title = {toml_string(HOSTILE_TITLE)}

[people]
bots = [{toml_string(HOSTILE_BOT)}]

[[classification.rules]]
name = {toml_string(HOSTILE_RULE)}
category = "customer"
match = {{ labels = [{toml_string(HOSTILE_LABEL)}] }}
"""


@dataclass
class Planted:
    pr_title: str
    issue_title: str
    jira_key: str
    jira_summary: str
    ghost_login: str
    deleted_slack_id: str


def plant(org: Org) -> Planted:
    """Hostile strings, emoji and right-to-left text, a deleted GitHub account, a deleted Slack
    user, null bodies and a status Jira no longer lists, in a generated organization."""
    from simulation.model import JiraChangeItem, JiraHistory

    prs = [i for i in org.github.issues if i.is_pr]
    issues = [i for i in org.github.issues if not i.is_pr]
    prs[0].title += f" {HOSTILE_HTML} {RTL_EMOJI}"
    prs[0].labels = [*prs[0].labels, HOSTILE_LABEL]
    issues[0].title = f"Crash on save{HOSTILE_SQL}"
    for issue in issues[1:4]:
        issue.body = None
    jira = org.jira.issues[0]
    jira.summary += f" {HOSTILE_IMG} {RTL_EMOJI}"
    jira.labels = [*jira.labels, HOSTILE_LABEL]
    first = min(jira.histories, key=lambda h: h.created) if jira.histories else None
    at = first.created if first else jira.created
    next_id = max(h.id for i in org.jira.issues for h in i.histories) + 1
    jira.histories.append(JiraHistory(next_id, jira.reporter_pid, at, [JiraChangeItem(
        "status", "status", "jira", "10001", "To Do", "99999", UNKNOWN_STATUS)]))
    channel = next(c for c in org.slack.channels if c.name == "random")
    channel.name, channel.purpose = HOSTILE_CHANNEL, HOSTILE_HTML
    team = org.teams[0]
    ghost = org.person(team.members[1])
    ghost.github_deleted = True
    leaver = org.person(team.members[2])
    leaver.slack_real_name = f"Tomoko {RTL_EMOJI}"
    leaver.left_on = org.start
    return Planted(prs[0].title, issues[0].title, jira.key, jira.summary, ghost.github_login,
                   leaver.slack_id)


READER = """
import duckdb, pathlib, sys, time
path, stop = sys.argv[1], pathlib.Path(sys.argv[2])
held = duckdb.connect(path, read_only=True)
queries = fresh_opens = 0
while not stop.exists():
    held.execute("SELECT count(*) FROM work_items JOIN events USING (item_id)").fetchall()
    if queries % 20 == 0:  # a fresh reader always finds a complete file, old or new
        fresh = duckdb.connect(path, read_only=True)
        fresh.execute("SELECT count(*) FROM events").fetchall()
        fresh.close()
        fresh_opens += 1
    queries += 1
    if queries == 1:
        print("ready", flush=True)
    time.sleep(0.005)
print(queries, fresh_opens, flush=True)
"""


@dataclass
class CronRun:
    folder: Path
    config: Path
    codes: dict[str, int]
    outputs: dict[str, str]  # command -> everything it printed (stdout and stderr)
    reader: tuple[int, str, str]  # exit code, stdout, stderr of the process holding the DB
    planted: Planted


def cron_run(folder: Path, previous_analytics: Path) -> CronRun:
    """What cron does, with tokens set, on a planted organization: `experiment add`, `collect`
    and `build` (forked processes logging to files, as cron would mail them) while another
    process holds the analytics database open, then `report`, `audit`, `sql`, `people` and
    `doctor --online`."""
    import subprocess

    org = make_org()
    planted = plant(org)
    logs = folder / "logs"
    logs.mkdir(parents=True)
    codes, outputs = {}, {}
    copy_db(previous_analytics, folder / "processhealth.duckdb")  # last month's database
    stop = folder / "stop-reader"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(folder / "processhealth.duckdb"),
                               str(stop)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "ready"
        with served(org) as apis:
            config = write_config(folder, apis.urls, team=HOSTILE_TEAM, extra=HOSTILE_CONFIG)
            steps = [("experiment", ["experiment", "add", HOSTILE_CHANGE, "--start",
                                     "2026-02-10", "--tool", HOSTILE_TOOL]),
                     ("collect", ["collect"]), ("build", ["build"])]
            for name, args in steps:
                proc = fork_cli(config, *args, environ=env(), log=logs / f"{name}.log")
                proc.join(300)
                codes[name] = proc.exitcode
                outputs[name] = (logs / f"{name}.log").read_text(encoding="utf-8")
            result = invoke(config, "doctor", "--online", environ=SECRETS_ENV)
            codes["doctor"], outputs["doctor"] = result.exit_code, result.output
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=60)
    for name, args in [("report", ["report", "--out", str(folder / "report.html")]),
                       ("audit", ["audit", "--tool", HOSTILE_TOOL, "--out",
                                  str(folder / "audit.html")]),
                       ("sql", ["sql", "SELECT title, labels FROM work_items", "--format",
                                "json"]),
                       ("people", ["people"])]:
        result = invoke(config, *args, environ=SECRETS_ENV)
        codes[name], outputs[name] = result.exit_code, result.output
    return CronRun(folder, config, codes, outputs, (reader.returncode, out, err), planted)
