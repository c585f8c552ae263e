"""API oddities reach the analytics database intact, through the real clients and the CLI:
a deleted GitHub account (the "ghost"), a deactivated Slack user, null bodies, a status Jira no
longer lists, and emoji, combining marks, zero-width joiners and right-to-left text (with an
override character) in titles and names (planted by the cron run, conftest `cron`); and every
field real APIs leave null or out (deleted or anonymous people, unset fields), nulled in every
page the three emulators serve (their `mangle` fault)."""

from __future__ import annotations

import duckdb
import pytest

from simulation.github_api import GHOST_ID

from .support import SECRETS_ENV, UNKNOWN_STATUS, invoke, write_config


@pytest.fixture(scope="module")
def db(cron):
    assert cron.codes["collect"] == cron.codes["build"] == 0, cron.outputs
    con = duckdb.connect(str(cron.folder / "processhealth.duckdb"), read_only=True)
    yield con
    con.close()


def test_the_deleted_github_account_is_the_ghost_and_keeps_its_work(db, cron):
    ghost = db.execute("SELECT login FROM identities WHERE source = 'github'"
                       " AND source_user_id = ?", [str(GHOST_ID)]).fetchall()
    assert ghost == [("ghost",)]
    assert db.execute("SELECT count(*) FROM identities WHERE login = ?",
                      [cron.planted.ghost_login]).fetchone()[0] == 0
    by_ghost = db.execute("SELECT count(*) FROM events WHERE actor_account = ?",
                          [f"github:{GHOST_ID}"]).fetchone()[0]
    assert by_ghost > 0


def test_the_deactivated_slack_user_and_rtl_names_are_kept(db, cron):
    found = db.execute("SELECT display_name FROM identities WHERE source = 'slack'"
                       " AND source_user_id = ?", [cron.planted.deleted_slack_id]).fetchall()
    assert len(found) == 1 and "\u202eevil\u202c" in (found[0][0] or "")


def test_unicode_titles_round_trip_exactly(db, cron):
    titles = {r[0] for r in db.execute("SELECT title FROM work_items").fetchall()}
    assert cron.planted.pr_title in titles and cron.planted.jira_summary in titles


def test_a_status_jira_no_longer_lists_still_has_a_category(db, cron):
    found = db.execute('SELECT to_status_category FROM transitions WHERE item_id = ?'
                       ' AND to_status = ?', [f"jira:{cron.planted.jira_key}", UNKNOWN_STATUS]
                       ).fetchall()
    assert len(found) == 1 and found[0][0] in ("todo", "active", "waiting", "done")


def test_null_bodies_do_not_lose_their_items(db):
    assert db.execute("SELECT count(*) FROM work_items WHERE source = 'github'"
                      " AND title LIKE 'Crash on save%'").fetchone()[0] == 1


def items_of(body):
    """The list items of a page, whichever key the API keeps them under."""
    if isinstance(body, list):
        return body
    lists = ("issues", "messages", "members", "channels", "values", "comments", "histories")
    return next((body[k] for k in lists if isinstance(body, dict)
                 and isinstance(body.get(k), list)), [])


def without(keys, inside=None, drop=False):
    """A mangle that nulls (or drops) these keys of every listed item (or of item[inside])."""
    def mangle(endpoint, body):
        for item in items_of(body):
            targets = [item.get(inside) if inside else item]
            if inside and isinstance(item.get("changelog"), dict):
                targets += item["changelog"].get("histories") or []
            for target in (t for t in targets if isinstance(t, dict)):
                for key in keys & set(target):
                    if drop:
                        del target[key]
                    else:
                        target[key] = None
        return body
    return mangle


NULLS = {  # what real APIs leave out: deleted or anonymous people, unset fields
    "github": without({"user", "assignee", "assignees", "merged_by", "actor", "author",
                       "committer", "milestone", "body", "closed_at", "requested_reviewers"}),
    "jira": without({"reporter", "assignee", "creator", "priority", "resolution",
                     "resolutiondate", "parent", "components", "author"}, inside="fields"),
    "slack": without({"user", "thread_ts", "reply_count", "latest_reply", "reply_users",
                      "real_name", "profile", "tz"}, drop=True),
}


def test_null_and_missing_fields_everywhere_still_collect_and_build(apis, tmp_path):
    config = write_config(tmp_path, apis.urls)
    apis.reset()
    for source, mangle in NULLS.items():
        apis.apps[source].faults.mangle = mangle
    try:
        collected = invoke(config, "collect", environ=SECRETS_ENV)
    finally:
        apis.reset()
    assert collected.exit_code == 0, collected.output
    built = invoke(config, "build", environ=SECRETS_ENV)
    assert built.exit_code == 0, built.output
    con = duckdb.connect(str(tmp_path / "processhealth.duckdb"), read_only=True)
    try:
        counts = dict(con.execute("SELECT source, count(*) FROM events GROUP BY ALL").fetchall())
        unknown = con.execute("SELECT count(*) FROM work_items WHERE source = 'github'"
                              " AND author_account IS NULL").fetchone()[0]
    finally:
        con.close()
    assert set(counts) == {"github", "jira", "slack"} and unknown > 0
