"""The monthly report on a small hand-made organization run through the real views and verdicts
(tests/report_org.py), with figures worked out by hand from its rows."""

from __future__ import annotations

import html as html_lib
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from report_org import HOSTILE_IMG, HOSTILE_TITLE, report_database

from processhealth.cli import cli
from processhealth.config import Config, load_config
from processhealth.errors import UserError
from reports import charts, svg
from reports.db import AnalyticsDB
from reports.render import render_report, report_context


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return report_database(tmp_path_factory.mktemp("sample") / "analytics.duckdb",
                           stored_blocks=True)


def sample_config(folder: Path, db: Path, extra: str = "") -> Config:
    config = folder / "processhealth.toml"
    config.write_text(f'[storage]\nanalytics_path = "{db}"\n{extra}', encoding="utf-8")
    return load_config(config)


@pytest.fixture(scope="module")
def html(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("report")
    out = render_report(sample_config(folder, sample_db), folder / "report.html")
    return out.read_text(encoding="utf-8")


def text_of(page: str) -> str:
    """The visible words: tags and the stylesheet dropped, entities decoded, spaces collapsed."""
    page = re.sub(r"<style>.*?</style>|<svg.*?</svg>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_report_defaults_to_latest_month_and_every_team(html: str) -> None:
    assert "<h1>Process health: October 2026</h1>" in html
    assert 'data-team="atlas"' in html and 'data-team="tiny"' in html
    for section in ("verdict", "allocation", "overhead", "flow", "signals", "experiments",
                    "coverage", "method"):
        assert f'data-section="{section}"' in html


def test_figures_carry_units_and_periods(html: str) -> None:
    text = text_of(html)
    # atlas, October 2026: 22 weekdays x 6 people x (60 customer + 40 process minutes), and
    # 30 unclassified minutes each: 132 h + 88 h + 3 h. FTE: 6 x 60 / 111.5 per person-day.
    assert "customer 132 h 3.6 FTE 59%" in text
    assert "process 88 h 2.4 FTE 39%" in text
    assert "unclassified 3.0 h 0.1 FTE 1%" in text
    # overhead 40 / 100; the verdict's baseline, the 6 months before the PM tool, 10 / 70 each:
    # the overhead section shows that baseline, not another one (issue 17 (f))
    assert "Overhead ratio in October 2026: 40% of credited effort" in text
    assert "compared with: 14%; change: +25.7 pp" in text
    assert "Paperwork ratio, October 2026 100%" in text  # the edited items never see code
    assert "Process coupling, October 2026 0%" in text
    assert "Nag load, October 2026 2 per item" in text  # 2 reminders, 1 story done
    # The verdict pools June-October (4 x 25 / 85 and 40 / 100) against the 6 months before
    # the PM tool (10 / 70 each, no spread of their own): +17.2 pp; the prior spread 1.6 worth
    # 3 months, df 8: half-width 2.306 x sqrt(3 x 1.6^2 / 8) x sqrt(1/5 + 1/6) = 1.37
    assert "Overhead ratio rise over the baseline +17.2 pp +15.9 pp to +18.6 pp" in text
    assert "5 months running since June 2026 against the baseline before the recorded change" \
        in text
    # The change's criterion: weekly 25 / 85 after against 10 / 70 before. tiny, the only team
    # without the change, has too few people in every month: no control (its figures would
    # carry the estimate; privacy review), so it is after minus before
    assert ("overhead_ratio <= +3pp +15.1 pp +15.1 pp to +15.1 pp after minus before (no team "
            "without the change to compare with) 12 before, 12 after not met") in text
    assert "paperwork_ratio <= +5pp +0.0 pp +0.0 pp to +0.0 pp" in text
    # atlas's 6 people cannot make two groups of 5: no figure about its best performers alone
    assert "best-performer engagement too few people" in text
    # and so in the signal tables (cron review: they said "no data")
    assert "Best-performer engagement (ratio of adoption rates) too few people" in text
    assert "Best-performer engagement (ratio of adoption rates) no data" not in text
    # Story: created Oct 1, started Oct 2, blocked Oct 5-6, done Oct 8: 5 of 6 days active
    assert "Flow efficiency of the median item resolved in October 2026: 83%" in text
    assert "Lead time (median), October 2026 7.0 days" in text
    # PR: first commit Oct 1 10:00, opened Oct 13 10:00, reviewed 14:00, merged Oct 14 10:00,
    # released Oct 15 10:00
    assert "Coding 12.0 days 12.0 days Pickup 4.0 h 4.0 h Review 20.0 h 20.0 h Deploy 24.0 h" \
        in text
    assert "G = 30 min G = 45 min G = 60 min atlas 63% customer / 37% process 60% customer " \
        "/ 40% process 57% customer / 43% process" in text


def test_small_team_shows_too_few_people_and_no_verdict(html: str) -> None:
    tiny = text_of(html.split('data-team="tiny"')[1].split('id="coverage"')[0])
    assert "Insufficient data" in tiny
    assert "Fewer than 5 people were active." in tiny
    assert "too few people" in tiny
    assert not re.search(r"\d(%| h\b| FTE| pp| per item)", tiny)
    assert "Team tiny: Nov 2025, Dec 2025" in text_of(html)  # listed under suppressed figures


def test_a_small_teams_own_report_shows_no_figure_of_its_few_people(
        sample_db: Path, tmp_path: Path) -> None:
    """`report --team tiny`: the coverage section's unclassified share rested on tiny's people
    alone (privacy review); it says "too few people" like every other figure of the team."""
    out = render_report(sample_config(tmp_path, sample_db), tmp_path / "tiny.html",
                        team="tiny")
    coverage = text_of(out.read_text(encoding="utf-8").split('id="coverage"')[1])
    assert "Unclassified share of credited effort: too few people in" in coverage
    assert "too few people over" in coverage


def test_a_small_team_with_no_merged_pull_request_says_too_few_people(
        sample_db: Path, tmp_path: Path) -> None:
    """"No pull request was merged" is a count of a small team's few people too (privacy
    review): the suppression is checked first."""
    db = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_db, db)
    with duckdb.connect(str(db)) as con:
        con.execute("DELETE FROM metric_pr_items WHERE team = 'tiny'")
    out = render_report(sample_config(tmp_path, db), tmp_path / "r.html", team="tiny")
    tiny = text_of(out.read_text(encoding="utf-8").split('id="coverage"')[0])
    assert "too few people" in tiny and "No pull request was merged" not in tiny


def test_a_month_a_source_was_not_collected_after_says_so(sample_db: Path, tmp_path: Path,
                                                           html: str) -> None:
    """health_verdicts.month_complete false for the report's month (a source's last finished
    collect began before the month ended): the report says its figures rest on part of the
    month (cron review: it said nothing)."""
    assert 'data-section="incomplete"' not in html  # unknown (no collect): nothing said
    db = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_db, db)
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE health_verdicts SET month_complete = month < '2026-10-01'")
    out = render_report(sample_config(tmp_path, db), tmp_path / "r.html").read_text()
    assert 'data-section="incomplete"' in out
    assert "October 2026 is not complete" in text_of(out)
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE health_verdicts SET month_complete = true")
    out = render_report(sample_config(tmp_path, db), tmp_path / "r.html").read_text()
    assert 'data-section="incomplete"' not in out


def test_hostile_titles_stay_text(html: str) -> None:
    assert "<script>" not in html and "<img" not in html
    assert "onerror=" not in html.replace("onerror=&#34;", "")
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; fix login" in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; export" in html
    assert HOSTILE_TITLE in text_of(html) and HOSTILE_IMG in text_of(html)


def test_report_is_self_contained(html: str) -> None:
    assert "Content-Security-Policy" in html
    assert not re.search(r"""<[^>]*\bsrc=|<link|url\((?!#)""", html)  # nothing is fetched
    # Item keys link to their tool only over http(s); a javascript: URL stays plain text.
    assert '<a href="https://x.example/ATL-1">ATL-1</a>' in html
    assert "<td>ATL-2</td>" in html and "javascript:" not in html
    assert "<script" not in html.lower()
    assert "built-in method" not in html and "Undefined" not in html  # template slips
    assert len(html.encode()) < 2_000_000
    assert html.count("<svg") == 7  # allocation, overhead, flow, PR, signals, criteria, adoption


def test_people_table_only_with_show_people(sample_db: Path, tmp_path: Path, html: str) -> None:
    assert 'data-section="people"' not in html and "Atlas1" not in html
    config = sample_config(tmp_path, sample_db, "[privacy]\nshow_people = true\n")
    out = render_report(config, tmp_path / "people.html", team="atlas")
    shown = text_of(out.read_text(encoding="utf-8"))
    assert 'data-section="people"' in out.read_text(encoding="utf-8")
    assert "Atlas1 22 h 0.0 h 15 h 0.5 h" in shown  # 22 x 60, 22 x 40 and 30 minutes


def test_month_and_team_are_checked(sample_db: Path, tmp_path: Path) -> None:
    config = sample_config(tmp_path, sample_db)
    with AnalyticsDB.open(sample_db) as db:
        context = report_context(db, config, "2026-03", "atlas")
        assert context["month_label"] == "March 2026"
        assert [t["name"] for t in context["teams"]] == ["atlas"]
        assert context["window_label"] == "November 2025 to March 2026"  # from the first data
        for month, team, message in (("2026-3x", None, "not a month"),
                                     ("2019-01", None, "from 2025-11 to 2026-10"),
                                     (None, "nobody", "not a team")):
            with pytest.raises(UserError, match=message):
                report_context(db, config, month, team)


def run_report(tmp_path: Path, db: Path, *args: str) -> tuple[int, str]:
    sample_config(tmp_path, db)
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "processhealth.toml"), "report",
                                      "--out", str(tmp_path / "r.html"), *args])
    return result.exit_code, result.output


def test_a_missing_view_fails_the_report_naming_it(tmp_path: Path) -> None:
    path = report_database(tmp_path / "partial.duckdb", stored_blocks=True)
    con = duckdb.connect(str(path))
    con.execute("DROP VIEW metric_overhead")
    con.close()
    code, output = run_report(tmp_path, path)
    assert code == 1 and "metric_overhead" in output and "processhealth build" in output
    assert not (tmp_path / "r.html").exists()  # no report with a section quietly left out


def test_a_missing_column_fails_the_report_naming_it(tmp_path: Path) -> None:
    path = report_database(tmp_path / "renamed.duckdb", stored_blocks=True)
    con = duckdb.connect(str(path))
    con.execute("CREATE OR REPLACE VIEW metric_paperwork AS SELECT team, month, people_count,"
                " suppressed, paperwork_ratio AS paper_ratio FROM metric_team_months"
                " CROSS JOIN (SELECT 0.5 AS paperwork_ratio)")
    con.close()
    code, output = run_report(tmp_path, path)
    assert code == 1 and "metric_paperwork" in output and "paperwork_ratio" in output


def test_no_database_is_a_user_error(tmp_path: Path) -> None:
    config = sample_config(tmp_path, tmp_path / "absent.duckdb")
    with pytest.raises(UserError, match="processhealth build"):
        render_report(config, tmp_path / "r.html")


def test_cli_report_writes_the_file(sample_db: Path, tmp_path: Path) -> None:
    sample_config(tmp_path, sample_db)
    out = tmp_path / "out" / "report.html"
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "processhealth.toml"), "report",
                                      "--month", "2026-05", "--team", "atlas", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "May 2026" in out.read_text(encoding="utf-8")
    bad = CliRunner().invoke(cli, ["--config", str(tmp_path / "processhealth.toml"), "report",
                                   "--team", "nobody", "--out", str(out)])
    assert bad.exit_code == 1 and "not a team" in bad.output


@pytest.mark.parametrize("svg_text", [
    '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>x</p></foreignObject></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
    '<a xlink:href="https://evil.example/"><text>x</text></a></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(https://evil.example/x)"/></svg>',
])
def test_safe_svg_rejects_anything_that_runs_or_fetches(svg_text: str) -> None:
    with pytest.raises(svg.UnsafeSvg):
        svg.safe_svg(svg_text)


def test_chart_titles_from_data_are_escaped_in_svg() -> None:
    drawn = str(charts.line_chart(
        [{"month": "Jan 2026", "order": 0, "series": "<img src=x onerror=alert(1)>", "value": 1}],
        "<script>alert('x')</script>", "sub", "y"))
    assert "<script>" not in drawn and "<img" not in drawn
    assert "&lt;script&gt;" in drawn and "&lt;img src=x onerror=alert(1)&gt;" in drawn
    assert svg.safe_svg(drawn) == drawn  # passes the check it was drawn through
