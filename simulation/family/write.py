"""Write a family member to a folder: its tools' data in the formats the demo uses, its truth.

    member-07/
      spec.json                the drawn parameters (every knob, every effect)
      truth.duckdb             truth_* tables (simulation/truth.py, truth_family.py)
      jira/<KEY>-001.json      saved Data Center search responses (`processhealth import jira-json`)
      slack-export.zip         a standard Slack workspace export (`processhealth import slack`)
      github/<repo>.json       per repository the REST payloads the emulator serves
      processhealth.toml       an ops lead's config for serving it with the emulators

GitHub has no export format of its own; its file holds the very dicts the emulator serves
(simulation/github_api.py) for the org's base URL, list by list.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

from .. import github_api as api
from .. import github_events
from ..jira_export import write_search_json
from ..slack_export import write_export
from ..truth import write_truth
from . import Member
from .config import family_config_toml

BASE = "https://api.github.com"


def _plain(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def spec_json(member: Member) -> dict:
    return {"index": member.index, "org_seed": member.seed,
            "spec": _plain(dataclasses.asdict(member.spec))}


def github_payloads(org) -> dict[str, dict[str, list]]:
    """repo -> list name -> payloads, as the emulator serves them (commits: default branch)."""
    out: dict[str, dict[str, list]] = {}
    repos = {r.name: r for r in org.github.repos}
    events = github_events.event_records(org)
    for name, r in repos.items():
        issues = [i for i in org.github.issues if i.repo == name]
        listed = sorted((c for c in org.github.commits if c.repo == name and c.listed),
                        key=lambda c: (c.date, c.sha))
        parents = api.commit_parents(listed)
        reviews = sorted((rv for rv in org.github.reviews if rv.repo == name), key=lambda x: x.id)
        out[name] = {
            "repo": [api.repo(org, r, BASE)],
            "issues": [api.issue(org, i, BASE) for i in issues],
            "pulls": [api.pull(org, r, i, BASE) for i in issues if i.is_pr],
            "reviews": [api.review(org, rv, BASE) for rv in reviews],
            "issue_comments": [api.issue_comment(org, c, BASE)
                               for c in org.github.issue_comments if c.repo == name],
            "review_comments": [api.review_comment(org, c, api.review_of(c, [
                rv for rv in reviews if rv.pr_number == c.number]), BASE)
                for c in org.github.review_comments if c.repo == name],
            "commits": [api.commit(org, c, parents[c.sha], BASE) for c in listed],
            "releases": [api.release(org, rl, BASE) for rl in org.github.releases
                         if rl.repo == name],
            "issue_events": [github_events.issue_event(org, api.EVENT_ID_BASE + n, e, BASE)
                             for n, e in enumerate(events) if e[2].repo == name],
        }
    return out


def write_member(member: Member, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    org = member.org
    (folder / "spec.json").write_text(json.dumps(spec_json(member), indent=1))
    write_truth(org, folder / "truth.duckdb", family=True)
    write_search_json(org, folder / "jira")
    write_export(org, folder / "slack-export.zip")
    gh = folder / "github"
    gh.mkdir(exist_ok=True)
    for repo, lists in github_payloads(org).items():
        (gh / f"{repo}.json").write_text(json.dumps(lists, ensure_ascii=False))
    urls = {"github": "http://127.0.0.1:8001", "jira": "http://127.0.0.1:8002",
            "slack": "http://127.0.0.1:8003"}
    (folder / "processhealth.toml").write_text(family_config_toml(org, urls))
    return folder
