"""Bad input: config, command line and import files. Every case ends with exit code 1 (or 2 for a
source that answered wrongly), one paragraph starting "error: ", no traceback, and not one file
created or changed anywhere under the test's folder (databases included).

Each case is a function `setup(folder, built, monkeypatch) -> CLI arguments`, registered with
@case(expected exit code). `built` is a raw store and its analytics database (conftest), copied
in by the cases that need them. The command runs in-process (click's runner) from `folder`.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from collectors import jira_import, slack_export
from simulation.slack_export import write_export

from .support import SECRETS_ENV, copy_db, invoke, make_org, run_cli, snapshot


@dataclass
class Case:
    name: str
    setup: Callable[..., list[str]]
    code: int
    env: dict[str, str | None]


CASES: list[Case] = []
TOKEN_IN_URL = "ATATT3xTOKENinTHEurl0042"  # must never be shown
NO_SECRETS: dict[str, str | None] = {k: None for k in SECRETS_ENV} | {"PROCESSHEALTH_CONFIG": None}


def case(code: int = 1, env: dict[str, str] | None = None):
    def register(setup: Callable[..., list[str]]) -> Callable[..., list[str]]:
        CASES.append(Case(setup.__name__.replace("_", "-"), setup, code,
                          {**NO_SECRETS, **(env or {})}))
        return setup
    return register


def config(folder: Path, text: str | bytes = "") -> list[str]:
    path = folder / "processhealth.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return ["--config", str(path)]


def with_databases(folder: Path, built) -> list[str]:
    """A config whose databases are copies of the built ones."""
    raw, analytics, _ = built
    copy_db(raw, folder / "raw.duckdb")
    copy_db(analytics, folder / "processhealth.duckdb")
    return config(folder, '[storage]\nraw_path = "raw.duckdb"\n'
                          'analytics_path = "processhealth.duckdb"\n'
                          '[[teams]]\nname = "atlas"\n')


# --- configuration ----------------------------------------------------------------------------

@case()
def config_unknown_top_level_key(folder, built, mp):
    return [*config(folder, "colour = 'blue'\n"), "build"]


@case()
def config_unknown_key_in_a_section(folder, built, mp):
    return [*config(folder, '[github]\ntokn = "${GITHUB_TOKEN}"\n'), "build"]


@case()
def config_wrong_type(folder, built, mp):
    return [*config(folder, '[github]\nper_page = "many"\n'), "build"]


@case()
def config_number_out_of_range(folder, built, mp):
    return [*config(folder, "[github]\nper_page = 1000\n"), "build"]


@case()
def config_bad_regex_in_a_list(folder, built, mp):
    return [*config(folder, '[slack]\nreminder_patterns = ["(unclosed"]\n'), "build"]


@case()
def config_bad_regex_in_a_rule(folder, built, mp):
    return [*config(folder, '[[classification.rules]]\nname = "r"\ncategory = "customer"\n'
                            'match = { title_regex = "[z-a]" }\n'), "build"]


@case()
def config_regex_python_knows_but_the_build_does_not(folder, built, mp):
    return [*config(folder, "[github]\njira_key_pattern = '(?<=#)[A-Z]+-\\d+'\n"), "build"]


@case()
def config_unknown_category(folder, built, mp):
    return [*config(folder, '[classification.repos]\n"*-app" = "important"\n'), "build"]


@case()
def config_bad_date_string(folder, built, mp):
    return [*config(folder, '[jira]\nsince = "last tuesday"\n'), "build"]


@case()
def config_impossible_date(folder, built, mp):
    return [*config(folder, "[github]\nsince = 2026-02-30\n"), "build"]


@case()
def config_not_toml(folder, built, mp):
    return [*config(folder, "[github\nenabled = true\n"), "build"]


@case()
def config_not_utf8(folder, built, mp):
    return [*config(folder, "[report]\ntitle = 'Qualité'\n".encode("latin-1")), "build"]


@case()
def config_missing_file(folder, built, mp):
    return ["--config", str(folder / "nowhere.toml"), "build"]


@case()
def config_unreadable_a_folder_instead_of_a_file(folder, built, mp):
    (folder / "processhealth.toml").mkdir()
    return ["--config", str(folder / "processhealth.toml"), "build"]


@case()
def config_missing_environment_variable(folder, built, mp):
    return [*config(folder, '[github]\nenabled = true\norg = "acme"\n'), "collect"]


@case()
def config_literal_token(folder, built, mp):
    return [*config(folder, '[slack]\ntoken = "xoxb-1234-literal"\n'), "build"]


@case()
def config_duplicate_team(folder, built, mp):
    return [*config(folder, '[[teams]]\nname = "atlas"\n[[teams]]\nname = "atlas"\n'), "build"]


@case()
def config_enabled_source_without_its_address(folder, built, mp):
    return [*config(folder, "[jira]\nenabled = true\n"), "collect"]


@case()
def config_negative_duration(folder, built, mp):
    return [*config(folder, "[effort]\nsession_gap_minutes = -5\n"), "build"]


@case()
def config_storage_path_under_a_file(folder, built, mp):
    (folder / "data").write_text("a file, not a folder")
    return [*config(folder, '[storage]\nraw_path = "data/raw.duckdb"\n'), "build"]


@case()
def config_storage_file_not_a_database(folder, built, mp):
    (folder / "raw.duckdb").write_bytes(b"SQLite format 3\x00" + bytes(4000))
    return [*config(folder, '[storage]\nraw_path = "raw.duckdb"\n'), "build"]


@case()
def config_storage_file_of_garbage(folder, built, mp):
    (folder / "processhealth.duckdb").write_bytes(b"not a database " * 300)
    return [*config(folder), "sql", "SELECT 1"]


@case()
def config_nested_too_deep(folder, built, mp):
    return [*config(folder, "a = " + "[" * 3000 + "]" * 3000 + "\n"), "build"]


@case()
def config_report_months_past_the_range(folder, built, mp):
    return [*config(folder, "[report]\nmonths = 30000\n"), "build"]


@case()
def config_absurd_memory_limit(folder, built, mp):
    return [*config(folder, '[storage]\nmemory_limit = "99999TB"\n'), "build"]


@case()
def config_tiny_memory_limit(folder, built, mp):
    return [*config(folder, '[storage]\nmemory_limit = "1KB"\n'), "build"]


@case()
def config_people_csv_that_is_binary(folder, built, mp):
    args = with_databases(folder, built)
    (folder / "people.csv").write_bytes(bytes(range(256)) * 4)
    path = folder / "processhealth.toml"
    path.write_text(path.read_text() + '[people]\ncsv = "people.csv"\n')
    return [*args, "build"]


@case()
def config_empty_base_url(folder, built, mp):
    return [*config(folder, '[github]\nbase_url = ""\n'), "build"]


@case()
def config_ftp_base_url(folder, built, mp):
    return [*config(folder, '[slack]\nbase_url = "ftp://slack.example/api/"\n'), "build"]


@case()
def config_token_in_base_url(folder, built, mp):
    return [*config(folder, f'[jira]\nbase_url = "https://ops:{TOKEN_IN_URL}@acme.example"\n'),
            "build"]


@case()
def config_negative_cap(folder, built, mp):
    return [*config(folder, "[effort.caps]\ncommit = -5\n"), "build"]


@case()
def config_nan_threshold(folder, built, mp):
    return [*config(folder, "[verdicts]\noverhead_rise_pp = nan\n"), "build"]


@case()
def config_inf_threshold(folder, built, mp):
    return [*config(folder, "[verdicts]\nthroughput_drop = inf\n"), "build"]


def damaged(path: Path, truncate: bool) -> None:
    import random

    data = bytearray(path.read_bytes())
    if truncate:
        del data[len(data) // 3:]
    else:  # scribble over the middle of the file, where the table data lives
        rng = random.Random(7)
        start = len(data) // 5
        data[start:start + len(data) // 2] = rng.randbytes(len(data) // 2)
    path.write_bytes(bytes(data))


@case()
def damaged_analytics_database_cut_short(folder, built, mp):
    args = with_databases(folder, built)
    damaged(folder / "processhealth.duckdb", truncate=True)
    return [*args, "sql", "SELECT count(*) FROM events"]


@case()
def damaged_analytics_database_scribbled_over_report(folder, built, mp):
    args = with_databases(folder, built)
    damaged(folder / "processhealth.duckdb", truncate=False)
    return [*args, "report", "--out", str(folder / "out")]


@case()
def damaged_raw_store_build(folder, built, mp):
    args = with_databases(folder, built)
    damaged(folder / "raw.duckdb", truncate=False)
    return [*args, "build"]


@case()
def config_from_environment_variable_missing(folder, built, mp):
    mp.setenv("PROCESSHEALTH_CONFIG", str(folder / "gone.toml"))
    return ["build"]


# --- command line -----------------------------------------------------------------------------

@case()
def cli_month_out_of_the_calendar(folder, built, mp):
    return [*with_databases(folder, built), "report", "--month", "2026-13", "--out", "r.html"]


@case()
def cli_month_in_words(folder, built, mp):
    return [*with_databases(folder, built), "report", "--month", "last", "--out", "r.html"]


@case()
def cli_unknown_team_in_report(folder, built, mp):
    return [*with_databases(folder, built), "report", "--team", "nosuch", "--out", "r.html"]


@case()
def cli_two_teams_in_report(folder, built, mp):  # click kept the last one, silently
    return [*with_databases(folder, built), "report", "--team", "a", "--team", "b", "--out",
            "r.html"]


@case()
def cli_unknown_team_in_audit(folder, built, mp):
    return [*with_databases(folder, built), "audit", "--tool", "X", "--team", "nosuch"]


@case()
def cli_unknown_team_in_experiment(folder, built, mp):
    return [*with_databases(folder, built), "experiment", "add", "x", "--start", "2026-02-01",
            "--team", "nosuch"]


@case()
def cli_bad_criterion(folder, built, mp):
    return [*with_databases(folder, built), "experiment", "add", "x", "--start", "2026-02-01",
            "--criterion", "overhead goes up"]


@case()
def cli_criterion_in_points_of_a_count(folder, built, mp):
    return [*with_databases(folder, built), "experiment", "add", "x", "--start", "2026-02-01",
            "--criterion", "customer_throughput >= -5pp"]


@case()
def cli_impossible_start_date(folder, built, mp):
    return [*with_databases(folder, built), "experiment", "add", "x", "--start", "2026-02-30"]


@case()
def cli_start_at_the_end_of_the_calendar(folder, built, mp):
    return [*with_databases(folder, built), "experiment", "add", "x", "--start", "9999-12-31"]


@case()
def cli_start_at_the_beginning_of_the_calendar(folder, built, mp):
    return [*with_databases(folder, built), "experiment", "add", "x", "--start", "0001-01-01"]


@case()
def cli_start_out_of_range_without_a_raw_store(folder, built, mp):
    return [*config(folder, '[storage]\nraw_path = "raw.duckdb"\n'), "experiment", "add", "x",
            "--start", "9999-12-31"]


@case()
def cli_unknown_source(folder, built, mp):
    return [*config(folder), "collect", "--source", "gitlab"]


@case()
def cli_unknown_option(folder, built, mp):
    return [*config(folder), "collect", "--fulll"]


@case()
def cli_unknown_command(folder, built, mp):
    return [*config(folder), "colect"]


@case()
def cli_disabled_source(folder, built, mp):
    return [*config(folder), "collect", "--source", "jira"]


@case()
def cli_conflicting_flags_people(folder, built, mp):
    return [*with_databases(folder, built), "people", "--unmatched", "--write", "people.csv"]


@case()
def cli_conflicting_flags_audit(folder, built, mp):
    return [*with_databases(folder, built), "audit", "--tool", "X", "--start", "2026-03-01",
            "--out", "a.html"]


@case()
def cli_sql_that_writes(folder, built, mp):
    return [*with_databases(folder, built), "sql", "DROP TABLE events"]


@case()
def cli_sql_two_statements(folder, built, mp):
    return [*with_databases(folder, built), "sql", "SELECT 1; SELECT 2"]


# --- imports ----------------------------------------------------------------------------------

def export_zip(folder: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    """A small valid Slack export zip, with `change` applied to its {name: bytes}."""
    files: dict[str, bytes] = {
        "channels.json": json.dumps([{"id": "C1", "name": "general", "created": 1}]).encode(),
        "users.json": json.dumps([{"id": "U1", "name": "ana", "team_id": "T1"}]).encode(),
        "general/2026-02-02.json": json.dumps([{"ts": "1770000000.000100", "user": "U1",
                                                 "text": "hi"}]).encode(),
    }
    change(files)
    path = folder / "export.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return path


def slack_import(folder: Path, target: Path) -> list[str]:
    return [*config(folder, '[storage]\nraw_path = "raw.duckdb"\n'), "import", "slack-export",
            str(target)]


@case()
def import_path_that_does_not_exist(folder, built, mp):
    return slack_import(folder, folder / "export-2026.zip")


@case()
def import_corrupt_zip(folder, built, mp):
    good = export_zip(folder, lambda f: None).read_bytes()
    bad = folder / "corrupt.zip"
    bad.write_bytes(good[:40] + b"\x00" * 64 + good[104:])
    (folder / "export.zip").unlink()
    return slack_import(folder, bad)


@case()
def import_not_a_zip(folder, built, mp):
    (folder / "export.zip").write_text("this is not a zip")
    return slack_import(folder, folder / "export.zip")


@case()
def import_zip_entry_escaping_the_folder(folder, built, mp):
    return slack_import(folder, export_zip(
        folder, lambda f: f.update({"../../etc/cron.d/evil.json": b"[]"})))


@case()
def import_zip_absolute_entry(folder, built, mp):
    return slack_import(folder, export_zip(folder, lambda f: f.update({"/tmp/evil.json": b"[]"})))


@case()
def import_folder_with_a_link_outside(folder, built, mp):
    export = folder / "export"
    with zipfile.ZipFile(export_zip(folder, lambda f: None)) as z:
        z.extractall(export)
    (folder / "export.zip").unlink()
    (export / "general" / "2026-02-03.json").symlink_to("/etc/hostname")
    return slack_import(folder, export)


@case()
def import_channels_json_wrong_shape(folder, built, mp):
    return slack_import(folder, export_zip(
        folder, lambda f: f.update({"channels.json": b'{"C1": "general"}'})))


@case()
def import_message_without_ts(folder, built, mp):
    return slack_import(folder, export_zip(
        folder, lambda f: f.update({"general/2026-02-02.json": b'[{"text": "no ts"}]'})))


@case()
def import_message_with_a_non_numeric_ts(folder, built, mp):
    return slack_import(folder, export_zip(folder, lambda f: f.update({
        "general/2026-02-02.json": b'[{"ts": "yesterday", "user": "U1", "text": "hi"}]'})))


@case()
def import_numeric_channel_id(folder, built, mp):
    return slack_import(folder, export_zip(folder, lambda f: f.update({
        "channels.json": b'[{"id": 42, "name": "general", "created": 1}]'})))


@case()
def import_user_without_id(folder, built, mp):
    return slack_import(folder, export_zip(folder, lambda f: f.update({
        "users.json": b'[{"name": "ana", "team_id": "T1"}]'})))


@case()
def import_users_json_not_utf8(folder, built, mp):
    return slack_import(folder, export_zip(folder, lambda f: f.update(
        {"users.json": '[{"id": "U1", "name": "Zoë"}]'.encode("latin-1")})))


@case()
def import_day_file_not_json(folder, built, mp):
    return slack_import(folder, export_zip(
        folder, lambda f: f.update({"general/2026-02-02.json": b"<html>oops</html>"})))


@case()
def import_export_without_channels_json(folder, built, mp):
    return slack_import(folder, export_zip(folder, lambda f: f.pop("channels.json")))


@case()
def import_very_large_day_file(folder, built, mp):
    mp.setattr(slack_export, "MAX_FILE_BYTES", 10_000)
    big = json.dumps([{"ts": f"1770000000.{n:06d}", "text": "x" * 80} for n in range(200)])
    return slack_import(folder, export_zip(
        folder, lambda f: f.update({"general/2026-02-02.json": big.encode()})))


def jira_import_args(folder: Path, *paths: Path) -> list[str]:
    return [*config(folder, '[storage]\nraw_path = "raw.duckdb"\n'), "import", "jira-json",
            *map(str, paths)]


@case()
def import_jira_not_json(folder, built, mp):
    (folder / "search.json").write_text("{'issues': []")
    return jira_import_args(folder, folder / "search.json")


@case()
def import_jira_wrong_shape(folder, built, mp):
    (folder / "search.json").write_text('["PAY-1", "PAY-2"]')
    return jira_import_args(folder, folder / "search.json")


@case()
def import_jira_issue_without_fields(folder, built, mp):
    (folder / "search.json").write_text('{"issues": [{"key": "PAY-1"}]}')
    return jira_import_args(folder, folder / "search.json")


@case()
def import_jira_not_utf8(folder, built, mp):
    (folder / "search.json").write_bytes('{"issues": [], "names": {"x": "Größe"}}'
                                         .encode("latin-1"))
    return jira_import_args(folder, folder / "search.json")


@case()
def import_jira_second_file_bad_first_good(folder, built, mp):
    (folder / "a.json").write_text(json.dumps({"issues": [JIRA_ISSUE]}))
    (folder / "b.json").write_text(json.dumps({"issues": [{**JIRA_ISSUE, "fields": {
        **JIRA_ISSUE["fields"], "updated": "yesterday"}}]}))
    return jira_import_args(folder, folder / "a.json", folder / "b.json")


JIRA_ISSUE = {"id": "10001", "key": "PAY-1", "fields": {
    "created": "2026-02-02T09:15:00.000+0000", "updated": "2026-02-03T09:15:00.000+0000",
    "project": {"key": "PAY"}}}


def jira_issue(**fields) -> dict:
    return {**JIRA_ISSUE, "fields": {k: v for k, v in {**JIRA_ISSUE["fields"], **fields}.items()
                                     if v is not None}}


@case()
def import_jira_issue_without_created(folder, built, mp):
    (folder / "search.json").write_text(json.dumps({"issues": [jira_issue(created=None)]}))
    return jira_import_args(folder, folder / "search.json")


@case()
def import_jira_two_keys_sharing_one_id(folder, built, mp):
    (folder / "a.json").write_text(json.dumps({"issues": [JIRA_ISSUE]}))
    (folder / "b.json").write_text(json.dumps({"issues": [{**JIRA_ISSUE, "key": "OPS-7"}]}))
    return jira_import_args(folder, folder / "a.json", folder / "b.json")


@case()
def import_jira_project_as_a_string(folder, built, mp):
    (folder / "search.json").write_text(json.dumps({"issues": [jira_issue(project="PAY")]}))
    return jira_import_args(folder, folder / "search.json")


@case()
def import_jira_numeric_updated(folder, built, mp):
    (folder / "search.json").write_text(json.dumps({"issues": [jira_issue(updated=1770000000)]}))
    return jira_import_args(folder, folder / "search.json")


@case()
def import_jira_deep_nesting(folder, built, mp):
    text = json.dumps({"issues": [jira_issue(customfield_10099="DEEP")]})
    (folder / "search.json").write_text(text.replace('"DEEP"', "[" * 5000 + "]" * 5000))
    return jira_import_args(folder, folder / "search.json")


@case()
def import_jira_moderate_nesting_past_the_limit(folder, built, mp):
    deep: object = {"type": "text"}
    for _ in range(100):
        deep = {"content": [deep]}
    (folder / "search.json").write_text(json.dumps(
        {"issues": [jira_issue(description=deep)]}))
    return jira_import_args(folder, folder / "search.json")


@case()
def import_jira_empty_folder(folder, built, mp):
    (folder / "saved").mkdir()
    return jira_import_args(folder, folder / "saved")


@case()
def import_jira_very_large_file(folder, built, mp):
    mp.setattr(jira_import, "MAX_FILE_BYTES", 10_000)
    (folder / "search.json").write_text(json.dumps({"issues": [], "padding": "x" * 20_000}))
    return jira_import_args(folder, folder / "search.json")


# --- the test ---------------------------------------------------------------------------------

def check_one_paragraph(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: "), output
    assert not [line for line in lines[:-1] if not line.startswith("warning: ")], output
    assert "Traceback" not in output
    return lines[-1]


def test_there_are_at_least_thirty_cases():
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("bad", CASES, ids=[c.name for c in CASES])
def test_bad_input_ends_with_one_paragraph_and_changes_nothing(bad, built, tmp_path,
                                                               monkeypatch):
    folder = tmp_path / "project"
    folder.mkdir()
    args = bad.setup(folder, built, monkeypatch)
    monkeypatch.chdir(folder)
    before = snapshot(tmp_path)
    result = invoke(None, *args, environ=bad.env)
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert result.exit_code == bad.code, result.output
    check_one_paragraph(result.output)
    assert TOKEN_IN_URL not in result.output
    assert snapshot(tmp_path) == before, "a file was created or changed"


@pytest.mark.parametrize("name", ["config-unknown-key-in-a-section", "import-corrupt-zip",
                                  "cli-unknown-option"])
def test_the_installed_command_says_the_same_on_stderr(name, built, tmp_path):
    """The same cases through the real executable: the paragraph is on stderr, stdout is empty."""
    bad = next(c for c in CASES if c.name == name)
    folder = tmp_path / "project"
    folder.mkdir()
    args = bad.setup(folder, built, pytest.MonkeyPatch())
    before = snapshot(tmp_path)
    environ = {k: v for k, v in os.environ.items() if k not in bad.env}
    code, out, err = run_cli(Path(args[1]), *args[2:], environ=environ)
    assert code == bad.code and out == ""
    check_one_paragraph(err)
    assert snapshot(tmp_path) == before


def test_a_real_slack_export_still_imports(tmp_path):
    """The checks refuse bad exports, not good ones: the simulated workspace's export imports."""
    archive = write_export(make_org(), tmp_path / "export.zip")
    args = slack_import(tmp_path, archive)
    result = invoke(None, *args, environ=NO_SECRETS)
    assert result.exit_code == 0, result.output
