"""The report's first page (the team x month verdict grid) and `report --out DIR` (index.html plus
a self-contained page per team), on the hand-made organization and on 200 teams."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from report_org import TEAMS, many_teams_database, report_database

from processhealth.cli import cli
from processhealth.temp_names import owner_tag
from reports import overview, pages
from reports.render import write_atomically

HOSTILE_TEAMS = ["<script>alert(1)</script>", "A/B", "a b", "../../etc/passwd", "Zahlungsverkehr",
                 "支付", "结算", "CON", "."]


def write_config(folder: Path, db: Path) -> Path:
    config = folder / "processhealth.toml"
    config.write_text(f'[storage]\nanalytics_path = "{db}"\n', encoding="utf-8")
    return config


def run_report(config: Path, *args: str):  # noqa: ANN201 - click's Result
    return CliRunner().invoke(cli, ["--config", str(config), "report", *args])


def grid_cells(page: str) -> dict[tuple[str, str], str]:
    """(team, month header) -> data-verdict of each grid cell in the page."""
    table = page.split('<table class="grid">')[1].split("</table>")[0]
    months = re.findall(r'<th scope="col" class="month">([^<]+)</th>', table)
    cells = {}
    for team, row in re.findall(r'<tr data-row-team="([^"]*)">(.*?)</tr>', table, flags=re.S):
        codes = re.findall(r'data-verdict="([^"]+)"', row)
        assert len(codes) == len(months)
        cells.update({(team, m): c for m, c in zip(months, codes, strict=True)})
    return cells


def expected_cells(db: Path, min_group: int = 5) -> dict[tuple[str, str], str]:
    """The grid worked out from health_verdicts directly: the verdict, or insufficient data
    where fewer than min_group people stand behind it."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT team, month, verdict, people_count FROM health_verdicts"
                           " WHERE month >= DATE '2025-11-01'").fetchall()
    finally:
        con.close()
    return {(team, f"{month:%b %Y}"): "insufficient_data" if people < min_group else verdict
            for team, month, verdict, people in rows}


def test_slugs_are_safe_and_unique() -> None:
    slugs = overview.slugs(HOSTILE_TEAMS)
    assert len(set(slugs.values())) == len(HOSTILE_TEAMS)
    for slug in slugs.values():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug) and len(slug) <= 63
    assert slugs["A/B"] == "a-b" and slugs["a b"] == "a-b-2"
    assert slugs["../../etc/passwd"] == "etc-passwd"
    assert slugs["支付"] == "team" and slugs["结算"] == "team-2" and slugs["."] == "team-3"


def test_grid_shows_every_team_month_verdict(tmp_path: Path) -> None:
    db = report_database(tmp_path / "analytics.duckdb", stored_blocks=True)
    out = tmp_path / "report.html"
    result = run_report(write_config(tmp_path, db), "--out", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    cells = grid_cells(page)
    assert len(cells) == len(TEAMS) * 12  # November 2025 to October 2026
    assert cells == expected_cells(db)
    assert set(cells.values()) >= {"insufficient_data"}  # tiny: 3 people, every month
    assert cells[("tiny", "Oct 2026")] == "insufficient_data"
    # readable without colour: each cell names its verdict, and the legend spells it out
    assert '<abbr title="Insufficient data">n/a</abbr>' in page
    assert '<span class="v process_is_product">PROC</span> The process has become' in page
    assert '<th scope="row"><a href="#team-atlas">atlas</a></th>' in page


def test_changed_verdicts_name_from_and_to(tmp_path: Path) -> None:
    db = report_database(tmp_path / "analytics.duckdb", stored_blocks=True)
    con = duckdb.connect(str(db))  # atlas: neutral in September, amplifier in October
    con.execute("UPDATE health_verdicts SET verdict = 'neutral' WHERE team = 'atlas'"
                " AND month = DATE '2026-09-01'")
    con.execute("UPDATE health_verdicts SET verdict = 'amplifier' WHERE team = 'atlas'"
                " AND month = DATE '2026-10-01'")
    con.close()
    out = tmp_path / "report.html"
    assert run_report(write_config(tmp_path, db), "--out", str(out)).exit_code == 0
    changed = out.read_text(encoding="utf-8").split('<ul class="changed">')[1].split("</ul>")[0]
    assert "Team atlas</a>: from neutral (Sep 2026) to <strong>amplifier</strong>" in changed
    assert "tiny" not in changed  # insufficient data both months


def test_out_path_without_html_suffix_writes_pages(tmp_path: Path) -> None:
    db = report_database(tmp_path / "analytics.duckdb", stored_blocks=True)
    out = tmp_path / "monthly"
    result = run_report(write_config(tmp_path, db), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [".processhealth-pages.json", "index.html",
                                                      "team-atlas.html", "team-tiny.html"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert grid_cells(index) == expected_cells(db)
    assert '<a href="team-atlas.html">atlas</a>' in index and 'id="coverage"' in index
    atlas = (out / "team-atlas.html").read_text(encoding="utf-8")
    assert 'data-team="atlas"' in atlas and 'data-team="tiny"' not in atlas
    assert 'href="index.html#method"' in atlas and "<script" not in atlas.lower()
    assert set(grid_cells(atlas)) == {k for k in expected_cells(db) if k[0] == "atlas"}


def test_a_failure_while_rendering_leaves_last_months_pages_as_they_were(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every page is rendered before any is written, the index last: a failure on the second
    team's page leaves the folder as the last report wrote it (a new index beside last month's
    team pages, before)."""
    db = report_database(tmp_path / "analytics.duckdb", stored_blocks=True)
    config = write_config(tmp_path, db)
    out = tmp_path / "monthly"
    assert run_report(config, "--out", str(out), "--month", "2026-09").exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    class FailingSecondPage:
        def __init__(self, env) -> None:  # noqa: ANN001 - jinja2's Environment
            self.env, self.pages = env, 0

        def get_template(self, name: str):  # noqa: ANN201
            template = self.env.get_template(name)
            if name != "report.html.j2":
                return template
            outer = self

            class Template:
                def render(self, **context) -> str:  # noqa: ANN003
                    outer.pages += 1
                    if outer.pages == 2:
                        raise RuntimeError("rendering failed")
                    return template.render(**context)

            return Template()

    real = pages.environment
    monkeypatch.setattr(pages, "environment", lambda: FailingSecondPage(real()))
    result = run_report(config, "--out", str(out))  # the latest month, October
    assert result.exit_code != 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_the_temporary_file_of_a_killed_report_is_removed_by_the_next(tmp_path: Path) -> None:
    """A report is written to a temporary file beside it, then renamed: one killed before the
    rename leaves that file (12 MB for 186 teams in one file); the next write removes it, not
    one a running report is writing."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    killed = tmp_path / f".report.html.writing-{owner_tag(dead.pid)}-abc"
    running = tmp_path / f".report.html.writing-{owner_tag()}-def"
    for path in (killed, running):
        path.write_text("half a report", encoding="utf-8")
    write_atomically(tmp_path / "report.html", "<html></html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["report.html", running.name])


def test_the_page_of_a_team_gone_since_the_last_report_goes_too(tmp_path: Path) -> None:
    """A team removed from the config keeps no page in the folder (which is mailed around):
    the report removes the pages the last report there listed and this one did not write, and
    only those (not a file of someone else's, nor anything with --team)."""
    db = report_database(tmp_path / "analytics.duckdb", stored_blocks=True)
    config = write_config(tmp_path, db)
    out = tmp_path / "monthly"
    assert run_report(config, "--out", str(out), "--month", "2026-09").exit_code == 0
    listed = out / ".processhealth-pages.json"
    # last month's report also had a team "gone"; someone put their own page beside them
    listed.write_text(json.dumps({"pages": [*json.loads(listed.read_text())["pages"],
                                            "team-gone.html", "../analytics.duckdb"]}))
    for name in ("team-gone.html", "team-mine.html"):
        (out / name).write_text("<html></html>", encoding="utf-8")
    assert run_report(config, "--out", str(out), "--team", "atlas").exit_code == 0
    assert (out / "team-gone.html").exists()  # one team's page: the others are not judged
    assert run_report(config, "--out", str(out)).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        ".processhealth-pages.json", "index.html", "team-atlas.html", "team-mine.html",
        "team-tiny.html"]
    assert db.exists()
    assert json.loads(listed.read_text())["pages"] == ["index.html", "team-atlas.html",
                                                       "team-tiny.html"]


def test_refuses_to_write_over_a_symlink(tmp_path: Path) -> None:
    db = report_database(tmp_path / "analytics.duckdb", stored_blocks=True)
    config = write_config(tmp_path, db)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    (tmp_path / "report.html").symlink_to(victim)
    result = run_report(config, "--out", str(tmp_path / "report.html"))
    assert result.exit_code == 1 and "symbolic link" in result.output
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "team-tiny.html").symlink_to(victim)
    result = run_report(config, "--out", str(pages))
    assert result.exit_code == 1 and "team-tiny.html is a symbolic link" in result.output
    assert victim.read_text(encoding="utf-8") == "keep me"
    assert (tmp_path / "report.html").is_symlink() and (pages / "team-tiny.html").is_symlink()
    assert sorted(p.name for p in pages.iterdir()) == ["team-tiny.html"]  # none written
    (pages / "team-atlas.html").mkdir()
    (pages / "team-tiny.html").unlink()
    result = run_report(config, "--out", str(pages))
    assert result.exit_code == 1 and "not a regular file" in result.output


def test_reports_are_readable_as_any_new_file_and_keep_a_replaced_files_mode(
        tmp_path: Path) -> None:
    """A report is for a file share: written as any new file is (0666 less the umask), not
    owner-only as a temporary file is, and a report written over keeps that file's mode
    (new-user review: a 0644 report became 0600)."""
    db = report_database(tmp_path / "analytics.duckdb", stored_blocks=True)
    config = write_config(tmp_path, db)
    old = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.html"
        assert run_report(config, "--out", str(fresh)).exit_code == 0
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
        shared = tmp_path / "shared.html"
        shared.write_text("last month", encoding="utf-8")
        shared.chmod(0o664)
        assert run_report(config, "--out", str(shared)).exit_code == 0
        assert stat.S_IMODE(shared.stat().st_mode) == 0o664
        assert "last month" not in shared.read_text(encoding="utf-8")
        pages = tmp_path / "pages"
        assert run_report(config, "--out", str(pages)).exit_code == 0
        assert {stat.S_IMODE(p.stat().st_mode) for p in pages.iterdir()} == {0o644}
    finally:
        os.umask(old)
    assert not [p for p in tmp_path.rglob(".*.html.*")]  # no temporary file left


def test_hostile_team_names_each_get_a_page_and_a_cell_of_text(tmp_path: Path) -> None:
    """The hand-made two teams plus SQL copies named as an attacker or a careless admin would:
    index.html lists each in the grid as text and links a page per team, each with its own
    charts."""
    check_many_teams(tmp_path, HOSTILE_TEAMS)


# A size check at scale (about 9 s): in the extended tier (CI runs it after the suite); the
# suite checks the same with the hostile names alone (above).
@pytest.mark.slow
@pytest.mark.extended
def test_200_teams_write_200_pages_under_2_mb(tmp_path: Path) -> None:
    """200 teams (the hand-made two plus 198 SQL copies): about 1,000 charts, drawn for real."""
    check_many_teams(tmp_path, [f"Team {i:03d}" for i in range(189)] + HOSTILE_TEAMS)


def check_many_teams(tmp_path: Path, names: list[str]) -> None:
    """A report of the hand-made teams and copies of atlas named `names`: a page per team under
    2 MB, every team-month in the grid, names escaped."""
    db = many_teams_database(tmp_path / "analytics.duckdb", names)
    out = tmp_path / "pages/"
    result = run_report(write_config(tmp_path, db), "--out", str(out))
    assert result.exit_code == 0, result.output
    files = sorted(p for p in out.iterdir() if p.name != ".processhealth-pages.json")
    assert len(files) == len(TEAMS) + len(names) + 1 and (out / "index.html") in files
    slugs = overview.slugs(sorted([*TEAMS, *names]))
    assert {p.name for p in files} == {"index.html"} | {f"team-{s}.html" for s in slugs.values()}
    assert all(p.is_file() and p.stat().st_size < 2_000_000 for p in files)
    index = (out / "index.html").read_text(encoding="utf-8")
    cells = grid_cells(index)
    assert {team for team, _ in cells} == {*TEAMS, *(n.replace("<", "&lt;").replace(">", "&gt;")
                                                   for n in names)}
    assert len(cells) == (len(TEAMS) + len(names)) * 12
    assert "<script>alert(1)</script>" not in index
    page = (out / f"team-{slugs['A/B']}.html").read_text(encoding="utf-8")
    assert 'data-team="A/B"' in page and page.count('class="team"') == 1
    # a copy of atlas without its process change: allocation, overhead, flow, PR, signals
    assert page.count("<svg") == 5
    assert "<title>A/B: process overhead against its own baseline</title>" in page
    assert date(2026, 10, 1).strftime("%b %Y") in page


@pytest.mark.parametrize("listed", [
    {"pages": ["./index.html", "sub/team-atlas.html", "../team-tiny.html", "TEAM-ATLAS.html",
               "Index.html"]},
    {"pages": None}, {"pages": [1, None, ["a"], {"b": 2}]}, {"pages": "team-atlas.html"}, [1]])
def test_a_hand_edited_or_corrupt_list_removes_no_page_of_this_report(tmp_path: Path,
                                                                      listed: object) -> None:
    """Names in another spelling of a page just written (a path to it, another case on a
    case-insensitive file system) leave it; a list of another shape is no list, and neither
    stops the report (nor every later one into the folder)."""
    db = report_database(tmp_path / "analytics.duckdb", stored_blocks=True)
    config = write_config(tmp_path, db)
    out = tmp_path / "monthly"
    assert run_report(config, "--out", str(out)).exit_code == 0
    (out / pages.PAGES_LIST).write_text(json.dumps(listed), encoding="utf-8")
    result = run_report(config, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        ".processhealth-pages.json", "index.html", "team-atlas.html", "team-tiny.html"]


def test_a_page_written_only_with_team_goes_once_the_team_is_gone(tmp_path: Path) -> None:
    db = report_database(tmp_path / "analytics.duckdb", stored_blocks=True)
    config = write_config(tmp_path, db)
    out = tmp_path / "monthly"
    assert run_report(config, "--out", str(out), "--team", "atlas").exit_code == 0
    (out / "team-gone.html").write_text("<html></html>", encoding="utf-8")
    listed = out / pages.PAGES_LIST
    listed.write_text(json.dumps({"pages": ["team-gone.html"]}), encoding="utf-8")
    assert run_report(config, "--out", str(out), "--team", "tiny").exit_code == 0
    assert json.loads(listed.read_text())["pages"] == ["index.html", "team-gone.html",
                                                       "team-tiny.html"]
    assert run_report(config, "--out", str(out)).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        ".processhealth-pages.json", "index.html", "team-atlas.html", "team-tiny.html"]
