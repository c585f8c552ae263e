"""The audit before a new tool, on the hand-built analytics database."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from processhealth import state
from processhealth.cli import cli
from processhealth.config import Config, load_config
from processhealth.store import RawStore
from reports.audit import PROPOSED_CRITERIA, render_audit
from reports.sample import HOSTILE_FIELD, sample_database


@pytest.fixture
def config(tmp_path: Path) -> Config:
    db = tmp_path / "analytics.duckdb"
    sample_database(db)
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
    assert "atlas 50% 30% 20%" in text  # GitHub, Jira, Slack shares
    assert "tiny too few people too few people too few people" in text
    # process: 0.2 + 0.01 * i of 600 h a month, i = 9..11 -> 0.30 * 600 = 180 h on average
    assert "atlas 180 h per month 1.8 FTE 30% 30% 0.50 per item done" in text
    assert "Story Points (customfield_10016) 50% 2 items 0 edits" in text
    assert f"{HOSTILE_FIELD} (customfield_666) 0% 2 items 0 edits dead weight" in text
    assert "overhead_ratio <= +3pp" in text and "atlas: 25%; tiny: too few people" in text
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


@pytest.mark.parametrize("criterion", [c[0] for c in PROPOSED_CRITERIA])
def test_proposed_criteria_parse(criterion: str) -> None:
    assert state.parse_criterion(criterion).text == criterion
