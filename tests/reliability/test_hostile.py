"""Hostile content stays inert: HTML, JavaScript and SQL-looking strings in titles, labels,
channel names, and in config and command-line values (team name, report title, rule name and
labels, bot names, process change and tool names) are stored verbatim, never executed as SQL,
and shown as text in the HTML report and audit.

The cron run (conftest `cron`) plants them in the organization and the config.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser

import duckdb
import pytest

from .support import (
    HOSTILE_CHANGE,
    HOSTILE_CHANNEL,
    HOSTILE_LABEL,
    HOSTILE_RULE,
    HOSTILE_TEAM,
    HOSTILE_TITLE,
    HOSTILE_TOOL,
)

ACTIVE_TAGS = {"script", "iframe", "object", "embed", "img", "link", "base", "form", "frame"}


class Page(HTMLParser):
    """Tags, attributes and the text a browser would show."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(k, v or "") for k, v in attrs]

    def handle_data(self, data):
        self.text.append(data)


def parse(path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.mark.parametrize("name", ["report.html", "audit.html"])
def test_hostile_strings_are_text_in_the_html(cron, name):
    assert cron.codes["report"] == cron.codes["audit"] == 0, cron.outputs
    page = parse(cron.folder / name)
    assert not ACTIVE_TAGS & set(page.tags)
    assert not [k for k, _ in page.attributes if k.lower().startswith("on")]
    assert not [v for _, v in page.attributes if "javascript:" in v.lower()]
    assert not [v for k, v in page.attributes if k == "http-equiv" and "refresh" in v.lower()]
    text = " ".join(page.text)
    expected = [HOSTILE_TEAM] + ([HOSTILE_TITLE] if name == "report.html" else [HOSTILE_TOOL])
    missing = [s for s in expected if s not in text]
    assert missing == [], "shown as text, whole"


def test_hostile_strings_are_stored_verbatim_and_nothing_was_dropped(cron):
    con = duckdb.connect(str(cron.folder / "processhealth.duckdb"), read_only=True)
    try:
        def one(query, *params):
            return con.execute(query, list(params)).fetchall()

        assert one("SELECT team FROM teams") == [(HOSTILE_TEAM,)]
        titles = {r[0] for r in one("SELECT title FROM work_items")}
        planted = cron.planted
        assert {planted.pr_title, planted.issue_title, planted.jira_summary} <= titles
        labelled = one("SELECT source, category, category_rule FROM work_items"
                       " WHERE list_contains(labels, ?) ORDER BY source", HOSTILE_LABEL)
        assert labelled == [(source, "customer", HOSTILE_RULE) for source in ("github", "jira")]
        assert one("SELECT count(*) FROM channels WHERE name = ?", HOSTILE_CHANNEL) == [(1,)]
        assert one("SELECT count(*) FROM process_changes WHERE name = ? AND tool = ?",
                   HOSTILE_CHANGE, HOSTILE_TOOL) == [(1,)]
        for table in ("events", "work_items", "channels", "teams", "process_changes"):
            assert one(f"SELECT count(*) > 0 FROM {table}") == [(True,)], table
    finally:
        con.close()


def test_sql_command_prints_hostile_titles_as_data(cron):
    assert cron.codes["sql"] == 0
    rows = json.loads(cron.outputs["sql"])
    assert cron.planted.issue_title in {r["title"] for r in rows}
