"""The audit before a new tool, on the hand-made organization of tests/report_org.py."""

from __future__ import annotations

import html
import re
from datetime import date
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from report_org import HOSTILE_FIELD, report_database

from analysis.criteria import check, check_units
from processhealth import state
from processhealth.cli import cli
from processhealth.config import Config, load_config
from processhealth.errors import UserError
from processhealth.store import RawStore
from reports.audit import PROPOSED_CRITERIA, render_audit


@pytest.fixture
def config(tmp_path: Path) -> Config:
    db = report_database(tmp_path / "analytics.duckdb", stored_blocks=True)
    path = tmp_path / "processhealth.toml"
    path.write_text(f'[storage]\nanalytics_path = "{db}"\nraw_path = "raw.duckdb"\n',
                    encoding="utf-8")
    return load_config(path)


def words(page: str) -> str:
    page = re.sub(r"<style>.*?</style>|<svg.*?</svg>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_audit_sections_and_figures(config: Config, tmp_path: Path) -> None:
    path, recorded = render_audit(config, tmp_path / "audit.html", tool="PM tool")
    page = path.read_text(encoding="utf-8")
    assert recorded == []
    for section in ("where", "load", "fields", "channels", "shadow", "criteria"):
        assert f'data-section="{section}"' in page
    text = words(page)
    assert "Period: August 2026 to October 2026" in text
    # atlas, per person over the 65 weekdays of Aug-Oct: 60 commit minutes a day (3,900), field
    # edits of 25, 25 and 40 minutes (21 x 25 + 22 x 25 + 22 x 40 = 1,955), 3 x 30 chat minutes
    assert "atlas 66% 33% 2%" in text  # GitHub, Jira, Slack shares of 5,945 minutes
    assert "tiny too few people too few people too few people" in text
    # 6 x 1,955 min / 3 months = 65 h; FTE: 6 x mean(525/1815, 550/1900, 880/2230) = 1.9;
    # nag load: 0, 0 and 2 reminders per story done
    assert "atlas 65 h per month 1.9 FTE 33% 100% 0.67 per item done" in text
    # atlas's three stories created Aug-Oct (tiny's three are left out: its months have too few
    # people, and a field's figures would rest on them): Story Points filled but in October,
    # each story's points edited once; the hostile field never filled
    assert "Story Points (customfield_10016) 67% 3 items 3 edits" in text
    assert f"{HOSTILE_FIELD} (customfield_666) 0% 3 items 0 edits dead weight" in text
    # #pm-nags: 2 reminders, a stranger and atlas1 (92 days = 13.1 weeks: 0.2 per week, 50%
    # reminders): two people write there, so neither its rates nor a dead-weight call derived
    # from them are shown (no figure rests on fewer than 5 people); #random: 9 people once a
    # month
    assert "#pm-nags unclassified too few people too few people fewer than 5 #" in text
    assert "0.2 per week" not in text
    assert "#random unclassified 2.1 per week 0% 9 people" in text
    # the 12 weeks from Aug 10: 7 at 25/85, Sep 28 (3 days of 25, 2 of 40), 4 at 40/100
    assert "overhead_ratio <= +3pp" in text and "atlas: 33%; tiny: too few people" in text
    assert "<svg onload" not in page and "<script" not in page
    assert "built-in method" not in page


def test_record_stores_the_criteria_as_a_process_change(config: Config, tmp_path: Path) -> None:
    from datetime import date

    _, recorded = render_audit(config, tmp_path / "audit.html", tool="PM tool",
                               teams=["atlas"], record=True, started_on=date(2026, 11, 2),
                               scope={"channel": ["pmtool-*"]})
    assert recorded == ["pm-tool"]
    with RawStore(config.storage.raw_path, read_only=True) as store:
        (change,) = state.list_process_changes(store)
    assert change["team"] == "atlas" and change["started_on"] == date(2026, 11, 2)
    assert change["scope"] == {"channel": ["pmtool-*"]}
    assert [c.text for c in change["criteria"]] == [c[0] for c in PROPOSED_CRITERIA]


def test_cli_audit_record_per_team(config: Config, tmp_path: Path) -> None:
    out = tmp_path / "a.html"
    result = CliRunner().invoke(cli, [
        "--config", str(config.path), "audit", "--tool", "Roadmap tool", "--team", "atlas",
        "--team", "tiny", "--out", str(out), "--record", "--start", "2026-11-02",
        "--scope", "jira_project=ATL"])
    assert result.exit_code == 0, result.output
    assert "recorded process change 'roadmap-tool-atlas'" in result.output
    assert out.exists()
    listed = CliRunner().invoke(cli, ["--config", str(config.path), "experiment", "list",
                                      "--format", "json"])
    assert '"roadmap-tool-tiny"' in listed.output
    # the same again: refused before anything is written, the page included (new-user review)
    again = tmp_path / "again.html"
    result = CliRunner().invoke(cli, [
        "--config", str(config.path), "audit", "--tool", "Roadmap tool", "--team", "atlas",
        "--team", "tiny", "--out", str(again), "--record", "--start", "2026-11-02"])
    assert result.exit_code == 1 and "'roadmap-tool-atlas' already exists" in result.output
    assert not again.exists()


@pytest.mark.parametrize("criterion", [c[0] for c in PROPOSED_CRITERIA])
def test_proposed_criteria_parse(criterion: str) -> None:
    parsed = state.parse_criterion(criterion)
    assert parsed.text == criterion
    check([], [parsed.metric])  # what `experiment add` accepts, the audit proposes
    check_units([parsed])


@pytest.mark.parametrize("view", ["metric_audit_channel_noise", "metric_audit_field_edits",
                                  "metric_field_fill"])
def test_a_missing_view_fails_the_audit_naming_it(config: Config, tmp_path: Path,
                                                  view: str) -> None:
    con = duckdb.connect(str(config.storage.analytics_path))
    con.execute(f"DROP VIEW {view}")
    con.close()
    with pytest.raises(UserError, match=view):
        render_audit(config, tmp_path / "audit.html", tool="PM tool")


@pytest.mark.parametrize(("as_of", "said"), [
    ("2099-01-01", "is in the future"),
    ("2025-11-20", "is before the data"),  # report_org starts in November 2025
])
def test_as_of_out_of_range_is_refused_and_writes_nothing(config: Config, tmp_path: Path,
                                                          as_of: str, said: str) -> None:
    out = tmp_path / "a.html"
    result = CliRunner().invoke(cli, ["--config", str(config.path), "audit", "--tool", "X",
                                      "--out", str(out), "--as-of", as_of, "--record"])
    assert result.exit_code == 1, result.output
    assert said in result.output and "\n\n" not in result.output.strip()
    assert not out.exists()
    assert not config.storage.raw_path.exists() or not _changes(config)


def _changes(config: Config) -> list:
    with RawStore(config.storage.raw_path, read_only=True) as store:
        return state.list_process_changes(store)


def test_as_of_audits_the_whole_months_before_it(config: Config, tmp_path: Path) -> None:
    out = tmp_path / "a.html"
    result = CliRunner().invoke(cli, ["--config", str(config.path), "audit", "--tool", "PM tool",
                                      "--team", "atlas", "--out", str(out),
                                      "--as-of", "2026-06-01", "--record"])
    assert result.exit_code == 0, result.output
    text = words(out.read_text(encoding="utf-8"))
    # before the change (June 1), per person over the 65 weekdays of Mar-May: 60 commit minutes
    # a day (3,900), a 10-minute Priority edit a day (650), 3 x 30 chat minutes (90)
    assert "Period: March 2026 to May 2026 (the whole months before 1 June 2026;" in text
    assert "atlas 84% 14% 2%" in text
    assert "atlas 22 h per month" in text  # 6 people x 650 minutes / 3 months
    # the criteria's values are those of the window too: 10 / 70 minutes before the change
    assert "Then (the 12 weeks to 31 May 2026, weekly mean)" in text
    assert "atlas: 14%" in text
    # the recorded change starts on the as-of date, so its baseline is the audited window
    (change,) = _changes(config)
    assert change["started_on"] == date(2026, 6, 1)
    # a day inside a month: that month is not whole before the date, so it is left out
    _, _ = render_audit(config, out, tool="PM tool", as_of=date(2026, 6, 15))
    assert "Period: March 2026 to May 2026" in words(out.read_text(encoding="utf-8"))
    # the first whole month of data is the earliest window, trimmed to the data
    _, _ = render_audit(config, out, tool="PM tool", as_of=date(2026, 1, 1))
    assert "Period: November 2025 to December 2025" in words(out.read_text(encoding="utf-8"))
    # and the last: a month after the data is not averaged in as if audited (new-user review:
    # "September 2026 to November 2026" over two months of data)
    _, _ = render_audit(config, out, tool="PM tool", as_of=date(2026, 12, 1))
    assert ("Period: September 2026 to October 2026 (the whole months before 1 December 2026;"
            " the data ends with October 2026") in words(out.read_text(encoding="utf-8"))


def test_audit_help_documents_as_of() -> None:
    result = CliRunner().invoke(cli, ["audit", "--help"])
    assert result.exit_code == 0
    assert "--as-of YYYY-MM-DD" in result.output and "whole months before" in result.output
