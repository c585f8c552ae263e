"""Teams and person-months (analysis/teams.py): explicit members, activity, people.team."""

from __future__ import annotations

from test_effort_fixtures import at, domain_db, event, identity, make_config, rows

from processhealth.pipeline import analysis_steps


def test_listed_members_without_activity_get_their_first_listed_team(tmp_path) -> None:
    con = domain_db()
    identity(con, "jira", "j1", None, "ana@acme.example", "Ana Lima")
    identity(con, "jira", "j2", None, "bo@acme.example", "Bo Berg")
    identity(con, "jira", "j3", None, "cy@acme.example", "Cy Diaz")
    bo = "jira:j2"
    event(con, "e1", "jira", at(0), bo, "jira_comment")
    config = make_config(tmp_path, teams=[
        {"name": "web", "members": ["ana@acme.example", "cy@acme.example"]},
        {"name": "api", "members": ["bo@acme.example", "ana@acme.example"]},
    ])
    for step in analysis_steps()[:3]:  # parameters, identities and people, teams
        step(con, config)
    assert rows(con, "SELECT person_id, team FROM people ORDER BY person_id") == [
        ("ana-lima", "web"), ("bo-berg", "api"), ("cy-diaz", "web")]
    assert rows(con, "SELECT person_id, team, active FROM person_months") == [
        ("bo-berg", "api", True)]
    assert rows(con, "SELECT team, member_count FROM teams ORDER BY team") == [
        ("api", 1), ("web", 2)]


def test_a_group_of_a_tool_with_no_groups_collected_says_why(tmp_path, capsys) -> None:
    """A Slack export carries no user groups: a team named by its Slack group then has no
    members, and the warning says why and what to do (cron review: it said only "has no known
    members", once per team, after every import)."""
    config = make_config(tmp_path, teams=[{"name": "web", "slack_usergroup": "web-team"}])

    def warnings(groups: list[tuple[str, str]]) -> str:
        con = domain_db()
        identity(con, "slack", "U1", "ana", "ana@acme.example", "Ana Lima")
        event(con, "e1", "slack", at(0), "slack:U1", "slack_message")
        for group, user in groups:
            con.execute("INSERT INTO group_members VALUES ('slack', ?, ?)", [group, user])
        for step in analysis_steps()[:3]:
            step(con, config)
        return " ".join(capsys.readouterr().err.split())

    err = warnings([])
    assert "slack group 'web-team' has no known members: no Slack user group was collected" in err
    assert "[[teams]] members" in err
    # with groups collected, a group that is not among them is only named
    err = warnings([("other", "U1")])
    assert "slack group 'web-team' has no known members." in err and "collected" not in err
