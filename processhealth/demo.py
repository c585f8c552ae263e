"""The demo: a simulated organization served by loopback emulators, collected, built, reported.

Everything runs on this machine: the emulators listen on 127.0.0.1, the real client libraries
(PyGithub, jira, slack-sdk) talk to them over HTTP, and no token or network is needed.
"""

from __future__ import annotations

import importlib
import os
import time
from contextlib import ExitStack
from pathlib import Path

from processhealth import ui
from processhealth.config import load_config

# source -> (emulator module, class, environment variable of the token the demo config names)
EMULATORS = {
    "github": ("simulation.github_emulator", "GitHubEmulator", "PROCESSHEALTH_DEMO_GITHUB_TOKEN"),
    "jira": ("simulation.jira_emulator", "JiraEmulator", "PROCESSHEALTH_DEMO_JIRA_TOKEN"),
    "slack": ("simulation.slack_emulator", "SlackEmulator", "PROCESSHEALTH_DEMO_SLACK_TOKEN"),
}
DEMO_TOKEN = "demo-token-not-a-secret"


def run_demo(out: Path, seed: int = 7, spec=None) -> Path:
    """Run the whole pipeline on the simulated organization; returns the report's path."""
    from processhealth import pipeline
    from processhealth.demo_config import demo_config_toml
    from reports.render import render_report
    from simulation import OrgSpec, generate_org
    from simulation.server import serve
    from simulation.truth import write_truth

    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with ui.progress("simulate", unit="steps") as bar:
        bar.note(f"generating the organization for seed {seed}")
        org = generate_org(seed, spec or OrgSpec.demo())
    people = sum(not p.is_bot for p in org.people)
    ui.say(f"simulated {people} people in {len(org.teams)} teams, {org.start} to {org.end}")
    with ExitStack() as stack:
        urls = {}
        for source, (module, cls, env) in EMULATORS.items():
            emulator = getattr(importlib.import_module(module), cls)(org, token=DEMO_TOKEN)
            served = stack.enter_context(serve(emulator))
            urls[source] = served.url
            os.environ[env] = DEMO_TOKEN
            ui.say(f"{source} emulator listening on {served.url}")
        config_path = out / "processhealth.toml"
        config_path.write_text(demo_config_toml(org, urls), encoding="utf-8")
        config = load_config(config_path)
        pipeline.collect(config)
    record_process_changes(config, org)
    pipeline.build(config)
    write_truth(org, out / "truth.duckdb")
    report = render_report(config, out / "report.html")
    ui.say(f"demo finished in {time.perf_counter() - started:.0f} s")
    return report


def record_process_changes(config, org) -> None:
    """Record the simulated teams' process changes as their ops lead would have, with
    `processhealth experiment add`, so the report tracks them against their success criteria."""
    from processhealth import state
    from processhealth.store import RawStore

    criteria = [state.parse_criterion(c)
                for c in ("overhead_ratio <= +3pp", "customer_throughput >= -10%")]
    with RawStore.of(config) as store:
        for team in org.teams:
            if team.scenario == "tool_nobody_wanted":
                state.add_process_change(
                    store, f"pm-tool-{team.name}", started_on=team.change_on, team=team.name,
                    tool="PMTool", criteria=criteria, scope={
                        "field": ["Business Value", "Initiative", "Confidence", "Progress"],
                        "status": ["Needs Business Value", "Ready for Estimation",
                                   "Awaiting PM Review"],
                        "channel": ["pmtool-*"], "kind": ["jira_worklog"]})
            elif team.scenario == "experiments_that_work":
                state.add_process_change(
                    store, f"tech-experiments-{team.name}", started_on=team.change_on,
                    team=team.name, tool=None, criteria=criteria, scope={
                        "issue_type": ["Experiment"], "field": ["Hypothesis"],
                        "label": ["experiment"]})
