"""The scenario family (issue 16): its small fixed subset collects through the real client
libraries against the emulators and matches its truth; the generator is deterministic, stays in
its stated ranges, and the subset carries the nuisances it is meant to."""

from __future__ import annotations

import importlib
import re
from contextlib import ExitStack
from dataclasses import replace
from datetime import date, timedelta

import pytest
from github import Auth, Github
from shared_cache import shared_org

from processhealth import pipeline
from processhealth.config import load_config
from processhealth.store import RawStore
from simulation import OrgSpec, generate_org
from simulation.family import generate_family, member_seed
from simulation.family import ranges as R
from simulation.family.config import TOKEN_VARS, family_config_toml
from simulation.family.draw import add_months, draw_spec
from simulation.server import serve
from simulation.truth import fingerprint

pytestmark = pytest.mark.slow  # builds whole organizations (see tests/conftest.py)

EMULATORS = {"github": ("simulation.github_emulator", "GitHubEmulator"),
             "jira": ("simulation.jira_emulator", "JiraEmulator"),
             "slack": ("simulation.slack_emulator", "SlackEmulator")}
TOKEN = "family-token-not-a-secret"


@pytest.fixture(scope="module")
def subset():
    return list(generate_family(size="small"))


# --- collection through the real clients ----------------------------------------------------


def _raw_counts(raw) -> dict[str, int]:
    with RawStore(raw, read_only=True) as store:
        counts = {t: store.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in store.raw_tables()}
        histories, comments, worklogs = store.con.execute(
            "SELECT sum(json_array_length(json_extract(payload::VARCHAR, '$.changelog.histories')))"
            ", sum(json_array_length(json_extract(payload::VARCHAR, '$.fields.comment.comments')))"
            ", sum(json_array_length(json_extract(payload::VARCHAR, '$.fields.worklog.worklogs')))"
            " FROM raw_jira_issues").fetchone()
    counts.update(jira_histories=histories, jira_comments=comments, jira_worklogs=worklogs)
    return counts


@pytest.mark.extended  # CI runs it after the suite: two whole collections, about 30 s
@pytest.mark.parametrize("index", range(2))
def test_member_collects_through_the_real_clients_and_matches_its_truth(subset, index, tmp_path,
                                                                       monkeypatch):
    member = subset[index]
    org = member.org
    counts = member.truth["truth_entity_counts"].itertuples()
    truth = {(r.source, r.entity): r.count for r in counts}
    with ExitStack() as stack:
        urls = {}
        for source, (module, cls) in EMULATORS.items():
            app = getattr(importlib.import_module(module), cls)(org, token=TOKEN)
            urls[source] = stack.enter_context(serve(app)).url
            monkeypatch.setenv(TOKEN_VARS[source], TOKEN)
        config_path = tmp_path / "processhealth.toml"
        config_path.write_text(family_config_toml(org, urls)
                               + f'\n[storage]\nraw_path = "{tmp_path / "raw.duckdb"}"\n')
        config = load_config(config_path)
        pipeline.collect(config)
        squashed = _a_squash_merged_pr(org)
        if squashed is not None:  # its own commits are served under the PR only (PyGithub)
            gh = Github(auth=Auth.Token(TOKEN), base_url=urls["github"], per_page=100,
                        seconds_between_requests=None)  # loopback: no 0.25 s throttle
            repo = gh.get_repo(f"{org.github.org}/{squashed.repo}")
            pr_shas = {c.sha for c in repo.get_pull(squashed.number).get_commits()}
            listed = {c.sha for c in repo.get_commits()}
            assert pr_shas == set(squashed.commit_shas) and not pr_shas & listed
    got = _raw_counts(config.storage.raw_path)
    expected = {
        "raw_github_repos": truth["github", "repos"],
        "raw_github_issues": truth["github", "issues"] + truth["github", "pulls"],
        "raw_github_pulls": truth["github", "pulls"],
        "raw_github_commits": truth["github", "commits"],
        "raw_github_reviews": truth["github", "reviews"],
        "raw_github_issue_comments": truth["github", "issue_comments"],
        "raw_github_review_comments": truth["github", "review_comments"],
        "raw_github_releases": truth["github", "releases"],
        "raw_github_issue_events": truth["github", "issue_events"],
        "raw_jira_issues": truth["jira", "issues"],
        "jira_histories": truth["jira", "histories"],
        "jira_comments": truth["jira", "comments"],
        "jira_worklogs": truth["jira", "worklogs"],
        "raw_slack_channels": truth["slack", "public_channels"],
        "raw_slack_messages": truth["slack", "messages"] + truth["slack", "replies"],
    }
    assert {k: got.get(k) for k in expected} == expected
    assert min(expected.values()) > 0


def _a_squash_merged_pr(org):
    styles = {r.name: r.merge_style for r in org.github.repos}
    return next((i for i in org.github.issues if i.is_pr and i.merged_at and i.commit_shas
                 and styles[i.repo] == "squash"), None)


# --- the generator ----------------------------------------------------------------------------


def test_members_are_deterministic_per_seed_and_index():
    assert draw_spec(5, 3) == draw_spec(5, 3)
    assert draw_spec(5, 3) != draw_spec(6, 3) and draw_spec(5, 3) != draw_spec(5, 4)
    spec = draw_spec(5, 3)
    short = replace(spec, months=1, teams=spec.teams[:2])
    a = generate_org(member_seed(5, 3), short)
    b = generate_org(member_seed(5, 3), short)
    assert fingerprint(a) == fingerprint(b)
    assert [p.tz_offset_min for p in a.people] == [p.tz_offset_min for p in b.people]
    assert [c.listed for c in a.github.commits] == [c.listed for c in b.github.commits]


def test_drawn_specs_stay_in_their_stated_ranges():
    specs = [draw_spec(1, i) for i in range(60)]
    teams = [t for s in specs for t in s.teams]
    assert all(R.TEAMS_PER_ORG[0] <= len(s.teams) <= R.TEAMS_PER_ORG[1] for s in specs)
    assert all(R.TEAM_SIZE[0] <= t.engineers + 1 <= R.TEAM_SIZE[1] for t in teams)
    assert min(t.engineers for t in teams) + 1 <= 5 and max(t.engineers for t in teams) + 1 >= 12
    for s in specs:
        for t in s.teams:
            k = t.knobs
            assert R.ABSENCE[0] <= k.absence <= R.ABSENCE[1]
            assert R.HOLIDAY_AWAY[0] <= k.holiday_away <= R.HOLIDAY_AWAY[1]
            weak, good = R.KEY_IN_COMMIT_WEAK, R.KEY_IN_COMMIT_GOOD
            assert weak[0] <= k.key_in_commit <= weak[1] or good[0] <= k.key_in_commit <= good[1]
            assert len(k.monthly_load) == s.months
            e = k.effect
            assert (e is None) == (t.scenario == "steady")
            if e is None:
                continue
            assert e.onset >= add_months(s.start, R.ONSET_MONTH[0])
            assert e.onset < add_months(s.start, R.ONSET_MONTH[1] + 1)
            assert e.end is None or e.onset < e.end <= s.end
            if e.kind == "process_as_product":
                assert e.slowdown == 1.0 or R.SLOWDOWN[0] <= e.slowdown <= R.SLOWDOWN[1]
                assert R.ADOPTION_FLOOR[0] <= e.adoption_floor < e.adoption_peak <= 0.95
                assert R.SCREEN_FIELDS[0] <= e.screen_fields <= R.SCREEN_FIELDS[1]
            else:
                assert R.THROUGHPUT_GAIN[0] <= e.throughput_gain <= R.THROUGHPUT_GAIN[1]
                assert e.wait_cut == 0 or R.WAIT_CUT[0] <= e.wait_cut <= R.WAIT_CUT[1]
    kinds = {t.scenario for t in teams}
    assert kinds == {"steady", "process_as_product", "amplifier"}
    effects = [t.knobs.effect for t in teams if t.knobs.effect]
    assert any(e.end for e in effects) and any(e.end is None for e in effects)
    assert {e.variant for e in effects} == {"tool", "ceremony", "experiments",
                                            "review_agreement", "both"}
    assert sum(len(s.teams) * s.months for s in specs[:40]) / 12 >= 200  # team-years


@pytest.mark.extended  # in CI after the suite (7 s): a check of the simulation family
def test_the_subset_carries_the_nuisances(subset):
    orgs = [m.org for m in subset]
    teams = [t for o in orgs for t in o.teams]
    people = [p for o in orgs for p in o.people if not p.is_bot]
    styles = {r.merge_style for o in orgs for r in o.github.repos if r.team}
    assert {"squash", "merge"} <= styles
    assert len({t.channel("eng").replace(t.name, "") for t in teams}) >= 2  # naming schemes
    assert any(not t.repo.endswith("-app") for t in teams)
    assert any(t.knobs.key_in_commit < 0.4 for t in teams)
    assert any(12 in t.knobs.planning_months or 1 in t.knobs.planning_months for t in teams)
    assert len({p.tz_offset_min for p in people}) >= 2
    assert any(p.github_deleted for p in people)
    assert any(p.joined_on > o.start for o in orgs for p in o.people)
    assert any(p.github_name or p.commit_name for p in people)  # accent differs across tools
    assert any(p.slack_real_name != p.name for p in people)  # nickname
    for o in orgs:
        bots = [p for p in o.people if p.is_bot]
        assert any(p.github_login for p in bots) and any(p.jira_account_id for p in bots)
        assert any(p.slack_id for p in bots)
        assert any(h.author_pid == "bot-jira" for i in o.jira.issues for h in i.histories) or any(
            i.user_pid == "bot-deps" for i in o.github.issues)
    # the holiday season empties the teams: fewer people at work than earlier in December
    for o in orgs:
        assert _present(o, date(2025, 12, 22), date(2026, 1, 2)) < 0.7 * _present(
            o, date(2025, 12, 1), date(2025, 12, 12))


def _present(org, lo: date, hi: date) -> float:
    """People at work per working day between `lo` and `hi`."""
    days: dict[date, set] = {}
    for a in org.activities:
        if lo <= a.start.date() <= hi and a.start.weekday() < 5:
            days.setdefault(a.start.date(), set()).add(a.pid)
    return sum(map(len, days.values())) / max(1, len(days))


def test_weakly_linked_teams_leave_keys_out_of_their_commits(subset):
    key = re.compile(r"\b[A-Z][A-Z0-9]+-\d+\b")
    shares = {}
    for m in subset:
        for t in m.org.teams:
            mine = [c for c in m.org.github.commits if c.repo == t.repo
                    and c.author_pid.startswith("p")]
            shares[t.knobs.key_in_commit] = sum(bool(key.search(c.message)) for c in mine) / len(
                mine)
    weak = [s for k, s in shares.items() if k < 0.4]
    good = [s for k, s in shares.items() if k >= 0.6]
    assert weak and good and max(weak) < min(good)


def test_truth_tables_have_one_shape_and_verdicts_honour_the_margins(subset):
    shapes = {tuple((name, tuple(frame.columns)) for name, frame in sorted(m.truth.items()))
              for m in subset}
    assert len(shapes) == 1
    for m in subset:
        v = m.truth["truth_verdict_margin"]
        steady = v[v["planted_kind"] == "steady"]
        assert (steady["expected_verdict"] == "neutral").all()
        inside = v[v["in_margin"]]
        assert inside["expected_verdict"].isna().all()
        assert inside["acceptable"].str.contains("neutral").all()
        planted = v[(v["planted_kind"] != "steady") & ~v["in_margin"]]
        assert set(planted["expected_verdict"]) <= {"process_is_product", "amplifier"}
        ids = m.truth["truth_identities"]
        assert ids["is_bot"].any() and (ids["source"] == "git").any()
        assert set(ids["source"]) == {"github", "jira", "slack", "git"}
        days = m.truth["truth_person_day"]
        assert days.groupby(["person_id", "day"])["minutes"].sum().max() <= 10 * 60


def test_the_demo_keeps_its_fixed_behaviour():
    """Knob defaults are the demo's: a team without knobs never reaches family code."""
    org = shared_org(3, OrgSpec.small(months=1))
    assert all(t.knobs is None for t in org.teams)
    assert all(p.tz_offset_min == 0 and p.commit_name is None for p in org.people)
    assert all(c.listed for c in org.github.commits)
    assert not any(p.pid in ("bot-deps", "bot-jira", "bot-deploy") for p in org.people)


# --- realism fixes after the independent review ------------------------------------------------


def test_the_subset_has_baseline_months_teams_of_five_and_placebos(subset):
    """Rate tests need months before the onset, teams at the five-people rule, and negative
    controls: a steady team whose organic change must leave its verdict neutral."""
    for m in subset:
        effects = m.truth["truth_effects"]
        margins = m.truth["truth_verdict_margin"]
        for t in m.org.teams:
            assert t.knobs.effect is None or (t.knobs.effect.onset - m.org.start).days >= 59
            starters = [p for p in map(m.org.person, t.members)
                        if p.role == "engineer" and p.joined_on <= m.org.start]
            assert len(starters) >= 5
        steady = effects[effects["kind"] == "steady"]
        assert steady["placebo"].notna().all()
        placebo_months = margins[margins["placebo"].notna()]
        assert len(placebo_months) >= 2
        assert (placebo_months["expected_verdict"] == "neutral").all()
        team = m.org.teams[[t.name for t in m.org.teams].index(steady["team"].iloc[0])]
        pl = team.knobs.placebo
        if pl.variant == "tool":  # the digest bot posts, and nobody is reminded or nagged
            posts = [x for c in m.org.slack.channels if c.name == team.channel("tool")
                     for x in c.messages]
            assert any(x.text.startswith("Weekly digest") for x in posts)
            ids = {m.org.person(p).slack_id for p in team.members}  # the channel is shared
            assert not any(x.text.startswith("Reminder") and any(i in x.text for i in ids)
                           for x in posts)
        else:
            mine = [i for i in m.org.jira.issues if i.project == team.jira_project]
            assert any(i.issue_type == "Experiment" and i.created.date() >= pl.onset
                       for i in mine)


def test_new_hires_ramp_up_with_onboarding_time(subset):
    from simulation.choice import _ramp

    hires = [(m.org, p) for m in subset for p in m.org.people if p.ramp_days]
    assert hires
    for org, p in hires:
        assert R.RAMP_DAYS[0] <= p.ramp_days <= R.RAMP_DAYS[1]
        fake = type("E", (), {"day": p.joined_on})()
        assert _ramp(fake, p) == pytest.approx(R.RAMP_START)
        fake.day = p.joined_on + timedelta(days=p.ramp_days)
        assert _ramp(fake, p) == 1.0
        learning = [a for a in org.activities if a.pid == p.pid and a.kind == "meeting"
                    and a.category == "enabling" and not a.visible]
        assert learning and all((a.start.date() - p.joined_on).days < p.ramp_days + 1
                                for a in learning)


def test_monthly_workload_is_autocorrelated_and_deterministic():
    """AR(1) on the log of the monthly load: neighbouring months resemble each other (the
    review found independent draws), and the same seed draws the same loads."""
    import math

    first = draw_spec(4, 2).teams[0].knobs.monthly_load
    assert first == draw_spec(4, 2).teams[0].knobs.monthly_load
    lag1 = []
    for i in range(40):
        for t in draw_spec(3, i).teams:
            x = [math.log(v) for _, v in t.knobs.monthly_load]
            mean = sum(x) / len(x)
            den = sum((v - mean) ** 2 for v in x)
            if den > 0:
                pairs = zip(x, x[1:], strict=False)
                lag1.append(sum((a - mean) * (b - mean) for a, b in pairs) / den)
    # independent draws give about -1/12 (sd of the mean about 0.02); the AR(1) about 0.25
    assert sum(lag1) / len(lag1) > 0.15


def test_footprints_vary_and_the_config_does_not_mark_effect_teams(subset):
    specs = [draw_spec(1, i) for i in range(30)]
    for key, pool in R.FOOTPRINT.items():
        seen = {dict(s.footprint)[key] for s in specs}
        assert seen <= set(pool) and len(seen) >= 2
    m = subset[0]
    toml = family_config_toml(m.org, {"github": "g", "jira": "j", "slack": "s"})
    tool = m.org.teams[0].channel("tool")
    assert toml.count(f'"{tool}"') == len(m.org.teams)  # listed for every team, or for none
    names = {f.name for f in m.org.jira.fields} | {s.name for s in m.org.jira.statuses}
    fp = dict(m.spec.footprint)
    assert {fp["customfield_10100"], fp["Awaiting PM Review"]} <= names
    assert fp["bot"] in {b.name for b in m.org.slack.bots}


@pytest.mark.extended  # in CI after the suite (4 s): a check of the simulation family
def test_a_daily_remind_names_nobody_asks_no_work_and_is_drawn_on_its_own_stream(
        monkeypatch) -> None:
    """The /remind negative control (Knobs.reminder_bot): only steady teams of full members get
    it, about R.REMINDER_BOT_SHARE of them, from a random stream of its own (without it every
    other draw is the same); from its first day Slackbot posts in the team's standup channel
    every weekday, naming nobody; the truth names its months."""
    import pandas as pd

    from simulation.family import SMALL_SEED
    from simulation.truth_family import verdict_margins

    specs = [draw_spec(2, index, "full") for index in range(24)]
    steady = sum(t.scenario == "steady" for s in specs for t in s.teams)
    with_bot = [t for s in specs for t in s.teams if t.knobs.reminder_bot is not None]
    assert all(t.scenario == "steady" for t in with_bot)
    assert 0.15 <= len(with_bot) / steady <= 0.45, (len(with_bot), steady)
    monkeypatch.setattr(R, "REMINDER_BOT_SHARE", 0.0)
    for index, spec in enumerate(specs):
        assert draw_spec(2, index, "full") == replace(spec, teams=tuple(
            replace(t, knobs=replace(t.knobs, reminder_bot=None)) for t in spec.teams))
    monkeypatch.undo()
    assert all(t.knobs.reminder_bot is None for t in draw_spec(SMALL_SEED, 0, "small").teams)
    spec = draw_spec(1, 0, "small")
    i = next(n for n, t in enumerate(spec.teams) if t.scenario == "steady")
    since = date(2025, 11, 3)  # a Monday inside the subset's window (Sep-Jan)
    teams = list(spec.teams)
    teams[i] = replace(teams[i], knobs=replace(teams[i].knobs, reminder_bot=since))
    org = generate_org(member_seed(1, 0), replace(spec, teams=tuple(teams)))
    team = org.teams[i]
    posts = [x for c in org.slack.channels if c.name == team.channel("standup")
             for x in c.messages if x.text.startswith("Reminder: standup")]
    days = [since + timedelta(days=k) for k in range((org.end - since).days + 1)]
    assert len(posts) == sum(d.weekday() < 5 for d in days) > 0
    assert all(x.slackbot and "<@" not in x.text for x in posts)
    months = verdict_margins(org)
    mine = months[months.team == team.name].set_index("month").reminder_bot
    assert pd.isna(mine["2025-10"]) and mine["2025-11"] == "new" and mine["2026-01"] == "new"
    assert months[months.team != team.name].reminder_bot.isna().all()
