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

from simulation import OrgSpec, TeamSpec, generate_org
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
VOLATILE_IN = {"sync_state": {"updated_at"}}


def make_org() -> Org:
    return generate_org(SEED, SPEC)


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
                extra: str = "") -> str:
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

[jira]
enabled = true
base_url = "{urls['jira']}"

[slack]
enabled = true
base_url = "{urls['slack']}"

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
    """Floats to 12 significant digits (parallel sums may differ in the last bit)."""
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    return value


def digest(path: Path) -> dict[str, tuple[int, str]]:
    """{table: (row count, sha256 of its sorted rows)} for every table of a DuckDB file, without
    the columns that only say when a row was written."""
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
            listed = ", ".join(f'"{c}"' for c in columns)
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


def _child(args: list[str], environ: dict[str, str], cwd: str) -> None:
    os.environ.clear()
    os.environ.update(environ)
    os.chdir(cwd)
    devnull = os.open(os.devnull, os.O_WRONLY)  # the child's chatter is not the test's output
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    from processhealth.cli import cli

    cli.main(args=args, prog_name="processhealth")


def fork_cli(config: Path, *args: str, environ: dict[str, str]) -> multiprocessing.Process:
    """`processhealth --config CONFIG ARGS` in a forked child: a real process to SIGKILL, without
    paying for the imports again."""
    proc = multiprocessing.get_context("fork").Process(
        target=_child, args=(["--config", str(config), *args], environ, str(config.parent)),
        daemon=True)
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
