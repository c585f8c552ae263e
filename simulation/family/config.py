"""A processhealth config for a family member: what its ops lead would write down.

Only where the tools are and, per team, its name, Jira project, product repository, its own
channels, Slack user group and GitHub team: names an ops lead knows without reading anyone's
data. Classification, effort and privacy keep the product's defaults. The truth is never read.
"""

from __future__ import annotations

import json

from ..model import Org

TOKEN_VARS = {"github": "PROCESSHEALTH_FAMILY_GITHUB_TOKEN",
              "jira": "PROCESSHEALTH_FAMILY_JIRA_TOKEN",
              "slack": "PROCESSHEALTH_FAMILY_SLACK_TOKEN"}


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a TOML basic string


def _list(values: list[str]) -> str:
    return "[" + ", ".join(_q(v) for v in values) + "]"


def team_channels(org: Org, team) -> list[str]:
    """The team's public channels by the org's naming scheme: its own three and, when the org
    has one, the shared channel of the org's tool, listed for every team whatever it planted (an
    ops lead lists the org's tool channel everywhere; listing it only for the teams inside it
    handed the planted kind to the product)."""
    wanted = {team.channel(r) for r in ("eng", "support", "standup", "tool")}
    return sorted(c.name for c in org.slack.channels if not c.is_private and c.name in wanted)


def family_config_toml(org: Org, urls: dict[str, str], tokens: dict[str, str] | None = None
                       ) -> str:
    """TOML for collecting the member from the emulators at `urls`; tokens come from the
    environment variables in `tokens` (default TOKEN_VARS)."""
    env = tokens or TOKEN_VARS
    lines = [
        "# A scenario-family member behind local emulators (simulation/family).",
        "", "[github]", "enabled = true", f"base_url = {_q(urls['github'])}",
        f'token = "${{{env["github"]}}}"', f"org = {_q(org.github.org)}",
        "", "[jira]", "enabled = true", f"base_url = {_q(urls['jira'])}", 'auth = "pat"',
        f'token = "${{{env["jira"]}}}"',
        "", "[slack]", "enabled = true", f"base_url = {_q(urls['slack'])}",
        f'token = "${{{env["slack"]}}}"',
    ]
    groups = {g.handle for g in org.slack.usergroups}
    for team in org.teams:
        lines += ["", "[[teams]]", f"name = {_q(team.name)}",
                  f"jira_projects = {_list([team.jira_project])}",
                  f"repos = {_list([team.repo])}",
                  f"channels = {_list(team_channels(org, team))}"]
        if f"{team.name}-team" in groups:
            lines.append(f"slack_usergroup = {_q(team.name + '-team')}")
        if team.name in org.github.teams:
            lines.append(f"github_team = {_q(team.name)}")
    return "\n".join(lines) + "\n"
