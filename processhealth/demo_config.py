"""The config `processhealth demo` writes for the simulated organization.

It holds only what an ops lead would know without looking at anyone's data: where the three
tools are, and per team its name, Jira project, product repository, channels, Slack user group
and GitHub team. Classification, effort and privacy keep their defaults, so the demo shows what
the default config does; the simulation's ground truth is never read here.
"""

from __future__ import annotations

import json

from simulation.model import Org

TOKEN_VARS = {
    "github": "PROCESSHEALTH_DEMO_GITHUB_TOKEN",
    "jira": "PROCESSHEALTH_DEMO_JIRA_TOKEN",
    "slack": "PROCESSHEALTH_DEMO_SLACK_TOKEN",
}


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a TOML basic string


def _list(values: list[str]) -> str:
    return "[" + ", ".join(_q(v) for v in values) + "]"


def demo_config_toml(org: Org, urls: dict[str, str]) -> str:
    """TOML text for the demo: the three emulators at `urls` and one [[teams]] per team."""
    lines = [
        "# Written by `processhealth demo`: the simulated organization behind local emulators.",
        "",
        "[github]",
        "enabled = true",
        f"base_url = {_q(urls['github'])}",
        f'token = "${{{TOKEN_VARS["github"]}}}"',
        f"org = {_q(org.github.org)}",
        "",
        "[jira]",
        "enabled = true",
        f"base_url = {_q(urls['jira'])}",
        'auth = "pat"',
        f'token = "${{{TOKEN_VARS["jira"]}}}"',
        "",
        "[slack]",
        "enabled = true",
        f"base_url = {_q(urls['slack'])}",
        f'token = "${{{TOKEN_VARS["slack"]}}}"',
    ]
    groups = {g.handle for g in org.slack.usergroups}
    for team in org.teams:
        channels = sorted(c.name for c in org.slack.channels
                          if not c.is_private and c.name.endswith(f"-{team.name}"))
        lines += ["", "[[teams]]", f"name = {_q(team.name)}",
                  f"jira_projects = {_list([team.jira_project])}",
                  f"repos = {_list([team.repo])}",
                  f"channels = {_list(channels)}"]
        if f"{team.name}-team" in groups:
            lines.append(f"slack_usergroup = {_q(team.name + '-team')}")
        if team.name in org.github.teams:
            lines.append(f"github_team = {_q(team.name)}")
    return "\n".join(lines) + "\n"
