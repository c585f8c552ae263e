"""Identity resolution: email, name and login evidence, people.csv and config mappings, bots."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from test_effort_fixtures import at, domain_db, event, identity, item, make_config, rows

from analysis import identity as ident
from analysis.identity_match import Account, Resolved, resolve
from analysis.identity_names import clean_email, login_keys, name_key
from processhealth.config import load_config
from processhealth.pipeline import analysis_steps
from processhealth.temp_names import owner_tag
from simulation import OrgSpec, generate_people


def people_of(resolved):
    groups = {}
    for key, r in resolved.items():
        groups.setdefault(r.person_id, set()).add(key)
    return sorted(sorted(g) for g in groups.values())


def test_normalizers():
    assert clean_email(" Ana@Acme.Example ") == "ana@acme.example"
    assert clean_email("123+ana@users.noreply.github.com") is None
    assert name_key("Zoë  O'Brien") == name_key("obrien zoe")
    assert name_key("李雷") == "李雷"
    assert login_keys("Ana-Lima-105") == {"analima105", "analima"}


def test_email_name_and_login_evidence():
    accounts = [
        Account("jira", "j1", None, "ana.lima@acme.example", "Ana Lima"),
        Account("slack", "s1", "ana", None, "Ana Lima"),  # no email: the same name
        Account("github", "1", "alima", None),  # login = first initial + last name
        Account("jira", "j2", None, None, "Bo Berg"),
        Account("github", "2", "bo-berg-7", "bo@gmail.com"),  # login, numbered
        Account("slack", "s2", "carl", "carl@acme.example", "Carl Diaz"),
        Account("github", "3", "x9z", "carl@acme.example"),  # email
        Account("github", "4", "ghost"),  # deleted users: never matched
    ]
    resolved, people, _ = resolve(accounts)
    assert people_of(resolved) == [
        ["github:1", "jira:j1", "slack:s1"], ["github:2", "jira:j2"], ["github:3", "slack:s2"],
        ["github:4"],
    ]
    how = {k: r.matched_by for k, r in resolved.items()}
    assert how["github:1"] == "login" and how["slack:s1"] == "name"
    assert how["github:3"] == "email" and how["github:4"] == "deleted"  # non-human, no team
    assert {p.person_id for p in people} >= {"ana-lima", "bo-berg", "carl-diaz"}


def test_never_merges_two_accounts_of_one_tool_or_on_ambiguous_evidence():
    accounts = [
        Account("jira", "j1", None, "team@acme.example", "Ana Smith"),
        Account("jira", "j2", None, "team@acme.example", "Adam Smith"),
        Account("slack", "s1", None, "team@acme.example", "Someone"),  # shared mailbox
        Account("github", "1", "asmith"),  # Ana or Adam: ambiguous
    ]
    resolved, _, _ = resolve(accounts)
    assert all(len(group) == 1 for group in people_of(resolved))


def test_login_eliminates_people_who_already_have_an_account_in_that_tool():
    accounts = [
        Account("jira", "j1", None, "eitan.tanaka@acme.example", "Eitan Tanaka"),
        Account("github", "1", "eitan-tanaka", "eitan.tanaka@acme.example"),
        Account("jira", "j2", None, None, "Emeka Tanaka"),
        Account("github", "2", "etanaka"),  # both are "etanaka"; only Emeka lacks GitHub
    ]
    resolved, _, _ = resolve(accounts)
    assert resolved["github:2"].person_id == resolved["jira:j2"].person_id


def test_bots_stay_apart():
    accounts = [
        Account("github", "41898282", "ci-bot[bot]"),
        Account("slack", "B0REMIND01", "pmtool-reminders", None, "PMTool Reminders", True),
        Account("slack", "U2", "deploybot", None, "Deploy Bot"),
        Account("slack", "U3", "ana", "ana@acme.example", "Ana Lima"),
    ]
    resolved, people, _ = resolve(accounts, bot_names=["deploybot"])
    assert {k for k, r in resolved.items() if r.matched_by == "bot"} == {
        "github:41898282", "slack:B0REMIND01", "slack:U2"}
    assert sum(p.is_bot for p in people) == 3


def test_people_csv_wins_then_config_mappings():
    accounts = [
        Account("jira", "j1", None, "ana@acme.example", "Ana Lima"),
        Account("slack", "s1", "ana", "ana@acme.example", "Ana Lima"),
        Account("github", "1", "analima"),
        Account("github", "2", "ana-alt"),
    ]
    csv_rows = [{"person": "ana", "display_name": "Ana L.", "jira": "j1"},
                {"person": "ana", "github": "ana-alt"},
                {"person": "ana", "github": "analima"},  # two GitHub accounts: the file says so
                {"person": "nobody", "slack": "U404"}]
    mappings = [{"person": "someone-else", "github": "ana-alt"}]  # the CSV came first
    resolved, people, unused = resolve(accounts, csv_rows, mappings)
    assert {k: r.person_id for k, r in resolved.items()} == {
        "jira:j1": "ana", "slack:s1": "ana", "github:1": "ana", "github:2": "ana"}
    assert resolved["github:2"].matched_by == "csv" and resolved["slack:s1"].matched_by == "email"
    assert [p.display_name for p in people] == ["Ana L."]
    assert unused == ["nobody: slack U404"]
    resolved, _, _ = resolve(accounts, mappings=[{"person": "ana2", "email": "ana@acme.example"}])
    assert resolved["jira:j1"] == Resolved("ana2", "config")


def test_recovers_the_simulated_accounts_without_false_merges():
    """Acceptance on the demo organization's accounts, as the tools show them (its people as
    generate_org makes them, without simulating their days: tests/test_simulation.py)."""
    org = generate_people(7, OrgSpec.demo())
    accounts, truth = [], {}
    for p in org.people:
        seen = []
        if p.github_login:
            seen.append(Account("github", str(p.github_id),
                                "ghost" if p.github_deleted else p.github_login,
                                None if p.github_deleted else p.github_email, None, p.is_bot))
        if p.jira_account_id:
            seen.append(Account("jira", p.jira_account_id, None, p.jira_email, p.jira_name,
                                p.is_bot))
        if p.slack_id:
            seen.append(Account("slack", p.slack_id, p.slack_name, p.slack_email,
                                p.slack_real_name, p.is_bot))
        accounts += seen
        truth.update({a.key: p.pid for a in seen})
    resolved, _, _ = resolve(accounts)
    same = {(a, b) for a, b in itertools.combinations(sorted(truth), 2)
            if resolved[a].person_id == resolved[b].person_id}
    assert all(truth[a] == truth[b] for a, b in same), "false merge"
    main = {}  # each true person's largest cluster
    for pid in set(truth.values()):
        keys = [k for k in truth if truth[k] == pid]
        clusters = [resolved[k].person_id for k in keys]
        main[pid] = max(set(clusters), key=clusters.count)
    linked = sum(resolved[k].person_id == main[truth[k]] for k in truth)
    assert linked / len(truth) >= 0.98


def test_build_step_fills_people_and_person_ids(tmp_path):
    con = domain_db()
    jira = identity(con, "jira", "j1", None, "ana@acme.example", "Ana Lima")
    item(con, "jira:ATL-1", "jira", "ATL-1", "ATL", type="Story")
    con.execute("UPDATE work_items SET author_account = ?", [jira])
    event(con, "e1", "jira", at(0), jira, "jira_created", item_id="jira:ATL-1")
    event(con, "e2", "slack", at(1), "slack:U9", "slack_message")  # no identities row yet
    config = make_config(tmp_path)
    for step in analysis_steps()[:3]:
        step(con, config)
    assert rows(con, "SELECT person_id, matched_by FROM identities ORDER BY source") == [
        ("ana-lima", "unmatched"), ("slack:U9", "unmatched")]
    assert rows(con, "SELECT author_id FROM work_items") == [("ana-lima",)]
    assert rows(con, "SELECT event_id, person_id FROM events ORDER BY 1") == [
        ("e1", "ana-lima"), ("e2", "slack:U9")]


def built_with_accounts(tmp_path, write_config, *accounts: tuple) -> Path:
    """A config whose analytics database holds these accounts, their identities resolved."""
    path = write_config('[storage]\nanalytics_path = "a.duckdb"\n')
    config = make_config(tmp_path, storage={"analytics_path": "a.duckdb"})
    con = domain_db()
    for account in accounts:
        identity(con, *account)
    for step in analysis_steps()[:3]:
        step(con, config)
    con.execute(f"ATTACH '{config.storage.analytics_path}' AS out")
    con.execute("COPY FROM DATABASE memory TO out")
    con.close()
    return path


def test_people_cli_lists_and_writes_the_map(tmp_path, write_config, run_cli):
    path = built_with_accounts(
        tmp_path, write_config, ("jira", "j1", None, "ana@acme.example", "Ana Lima"),
        ("slack", "U1", "ana", "ana@acme.example", "Ana Lima"), ("github", "5", "zz-top"))
    result = run_cli(path, "people")
    assert result.exit_code == 0, result.output
    assert "ana-lima" in result.output and "3 accounts, 1 unmatched" in result.output
    result = run_cli(path, "people", "--unmatched")
    assert "zz-top" in result.output and "Ana Lima" not in result.output
    out = tmp_path / "people.csv"
    assert run_cli(path, "people", "--write", str(out)).exit_code == 0
    written = out.read_text()
    out.write_text(written + "edited,by,hand,,\n")
    again = run_cli(path, "people", "--write", str(out))  # the map someone edited stays
    assert again.exit_code == 1 and "--force" in again.output
    assert out.read_text().endswith("edited,by,hand,,\n")
    assert run_cli(path, "people", "--write", str(out), "--force").exit_code == 0
    assert out.read_text() == written and [p.name for p in tmp_path.glob(".people*")] == []
    rows_ = ident.read_people_csv(out)
    assert {r["person"] for r in rows_} == {"ana-lima", "zz-top"}
    edited = out.read_text().replace("zz-top,zz-top", "ana-lima,zz-top")
    out.write_text(edited)
    resolved, _, _ = resolve([Account("github", "5", "zz-top"),
                              Account("jira", "j1", None, None, "Ana Lima")],
                             ident.read_people_csv(out))
    assert resolved["github:5"] == Resolved("ana-lima", "csv")


def test_unreadable_people_csv_is_a_user_error(tmp_path):
    from processhealth.errors import UserError

    with pytest.raises(UserError, match="people.csv"):
        ident.read_people_csv(tmp_path / "people.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,login\nx,y\n")
    with pytest.raises(UserError, match="header with person"):
        ident.read_people_csv(bad)


def test_generated_ids_never_collide_with_mapped_ones():
    accounts = [Account("jira", "j1", None, None, "Ana Lima"),
                Account("slack", "s9", "other", None, "Someone Else")]
    resolved, people, _ = resolve(accounts, [{"person": "ana-lima", "slack": "s9"}])
    assert resolved["slack:s9"].person_id == "ana-lima"
    assert resolved["jira:j1"].person_id == "ana-lima-2"
    assert len({p.person_id for p in people}) == 2


def test_build_reads_people_csv_from_config(tmp_path):
    con = domain_db()
    identity(con, "jira", "j1", None, None, "Ana Lima")
    identity(con, "github", "5", "zz-top")
    (tmp_path / "people.csv").write_text("person,github,jira\nana,zz-top,j1\n")
    config = make_config(tmp_path, people={"csv": "people.csv"})
    for step in analysis_steps()[:3]:
        step(con, config)
    assert rows(con, "SELECT source, person_id, matched_by FROM identities ORDER BY 1") == [
        ("github", "ana", "csv"), ("jira", "ana", "csv")]


@pytest.mark.parametrize("section", ["people", "slack"])  # [slack] bots: the older, warned place
def test_listed_bots_are_non_humans_in_every_source(section, write_config, capsys):
    def build(text: str) -> list[tuple]:
        con = domain_db()
        # names that do not look automated (those are non-humans without a list: see below)
        identity(con, "github", "77", "relmgr")
        identity(con, "jira", "557058:f00d", None, None, "Grumpy Cat")
        identity(con, "slack", "U0DEPLOY", "shipit", None, "Ship It")
        identity(con, "jira", "j1", None, "ana@acme.example", "Ana Lima")
        ident.build(con, load_config(write_config(text)))
        return rows(con, "SELECT i.source, i.is_bot, i.matched_by, p.is_bot FROM identities i "
                         "JOIN people p USING (person_id) ORDER BY i.source, i.source_user_id")

    assert [r[1:] for r in build("")] == [(False, "unmatched", False)] * 4
    listed = build(f'[{section}]\nbots = ["RelMgr", "557058:F00D", "ship it"]\n')
    assert listed == [("github", True, "bot", True), ("jira", True, "bot", True),
                      ("jira", False, "unmatched", False), ("slack", True, "bot", True)]
    warned = "[slack] bots is deprecated" in capsys.readouterr().err
    assert warned == (section == "slack")


def test_accented_name_nickname_and_private_commit_address_are_one_person():
    accounts = [
        Account("jira", "j1", "jnunez", "jose.nunez@acme.example", "José Núñez"),
        Account("github", "11", "jnunez-acme", None, "Jose Nunez"),  # accents dropped
        # his commits: accents kept, a private address GitHub ties to no account
        Account("github", "email:jose.nunez.42@gmail.com", None, "jose.nunez.42@gmail.com",
                "José Núñez"),
        Account("slack", "U1", "pepe", None, "Pepe Núñez"),  # a well-known diminutive
        Account("jira", "j2", "tomoko", None, "Tomoko Sato"),
        Account("slack", "U2", "tomo", None, "Tomo Sato"),  # a prefix nickname
        Account("jira", "j3", "ana", None, "Ana Talbot"),  # "bot" only inside a word: a person
        Account("slack", "U3", "ana.t", None, "Ana Talbot"),
        Account("jira", "j4", "julia", None, "Julia Kim"),
        Account("jira", "j5", "julian", None, "Julian Kim"),
        Account("slack", "U4", "jules", None, "Jules Kim"),  # could be either: left apart
    ]
    resolved, people, _ = resolve(accounts)
    assert people_of(resolved) == [
        ["github:11", "github:email:jose.nunez.42@gmail.com", "jira:j1", "slack:U1"],
        ["jira:j2", "slack:U2"], ["jira:j3", "slack:U3"], ["jira:j4"], ["jira:j5"], ["slack:U4"]]
    assert resolved["slack:U1"].matched_by == "nickname"
    assert not any(p.is_bot for p in people)


def test_deleted_users_and_service_accounts_are_non_humans_with_no_team(tmp_path):
    accounts = [
        Account("github", "10137", "ghost", None, "Deleted user"),
        Account("jira", "svc1", None, None, "Automation for Jira"),
        Account("jira", "c1", None, "someone@customer.example", "Pat Buyer", is_bot=True),
        Account("slack", "U9", "deploy-bot", None, "Deploy Bot"),
        Account("github", "77", "svc-release", None, None),
        Account("jira", "j1", None, None, "Ana Lima"),
    ]
    resolved, people, _ = resolve(accounts, bot_names=["svc-release"])
    humans = [p.display_name for p in people if not p.is_bot]
    assert humans == ["Ana Lima"]
    assert resolved["github:10137"].matched_by == "deleted"
    con = domain_db()
    ghost = identity(con, "github", "10137", "ghost", None, "Deleted user")
    ana = identity(con, "jira", "a1", None, "ana@acme.example", "Ana Lima")
    item(con, "github:acme/atlas-app#1", "github", "acme/atlas-app#1", "acme/atlas-app",
         kind="pr")
    item(con, "jira:ATL-1", "jira", "ATL-1", "ATL", type="Story")
    event(con, "g1", "github", at(0), ghost, "pr_review", item_id="github:acme/atlas-app#1")
    event(con, "j1", "jira", at(5), ana, "jira_comment", item_id="jira:ATL-1")
    config = make_config(tmp_path, teams=[{"name": "atlas", "jira_projects": ["ATL"],
                                           "repos": ["atlas-*"]}])
    for step in analysis_steps():
        step(con, config)
    teams = rows(con, "SELECT p.is_bot, pm.team FROM people p LEFT JOIN person_months pm "
                      "USING (person_id) ORDER BY p.is_bot")
    assert teams == [(False, "atlas"), (True, None)]  # the deleted user is in no team


def test_people_write_refuses_a_link_a_missing_folder_and_a_stray_force(tmp_path, write_config,
                                                                       run_cli):
    import os

    path = built_with_accounts(tmp_path, write_config, ("github", "5", "zz-top"))
    kept = tmp_path / "repo.csv"
    kept.write_text("mine\n")
    link = tmp_path / "link.csv"
    link.symlink_to(kept)
    result = run_cli(path, "people", "--write", str(link), "--force")
    assert result.exit_code == 1 and "symbolic link" in result.output
    assert link.is_symlink() and kept.read_text() == "mine\n"
    result = run_cli(path, "people", "--write", str(tmp_path / "nope" / "people.csv"))
    assert result.exit_code == 1 and "does not exist" in result.output
    assert run_cli(path, "people", "--force").exit_code == 1
    os.chmod(kept, 0o664)
    dead = tmp_path / f".repo.csv.writing-{owner_tag(999999999)}-abc"  # a killed run's
    dead.write_text("half")
    assert run_cli(path, "people", "--write", str(kept), "--force").exit_code == 0
    assert kept.read_text().startswith("person,") and oct(kept.stat().st_mode & 0o777) == "0o664"
    assert not dead.exists()
