"""Collection: requests and wall time per source, processhealth against Perceval, one table.

    .venv/bin/python benchmarks/collection.py            # the 12-month demo organization
    .venv/bin/python benchmarks/collection.py --small    # the test organization

Both tools read the same simulated organization from the same loopback emulators (a fresh
emulator per tool, so each count starts at zero); requests are what the emulator counted
(`emulator.stats.total`). processhealth runs in this process (benchmarks/_common.py); Perceval
runs as a subprocess from its own virtual environment (never the project's dependencies):

    python3 -m venv /work/scratch/perceval-venv
    /work/scratch/perceval-venv/bin/pip install perceval      # or set PERCEVAL_VENV

Perceval is pointed at the emulators with its own options: `perceval github OWNER REPO
--enterprise-url URL` (the emulator serves GitHub Enterprise's /api/v3 prefix) per repository
and category (issue, pull_request); `perceval jira URL --project KEY -t TOKEN` per project
(Data Center flavour: Perceval reads /rest/api/2/search, which Jira Cloud has removed; the
Cloud attempt is reported too); `perceval slack -t TOKEN CHANNEL` per public channel. Slack's
base URL is hard-coded in Perceval (SLACK_URL = https://slack.com/), so for Slack only it runs
through a benchmark-only shim (SLACK_SHIM below) that sets that constant to the emulator before
calling Perceval's own command-line entry point; nothing else changes.

The two tools do not fetch the same data; the note column says what each fetched. Items:
raw rows processhealth wrote, or JSON lines Perceval printed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import OURS, TOKEN, Run, print_table  # noqa: E402

from simulation import OrgSpec, generate_org  # noqa: E402
from simulation.model import Org  # noqa: E402
from simulation.server import serve  # noqa: E402

PERCEVAL_VENV = Path(os.environ.get("PERCEVAL_VENV", "/work/scratch/perceval-venv"))
SLACK_SHIM = """
import os, sys
import perceval.backends.core.slack as slack
url = os.environ["BENCH_SLACK_URL"].rstrip("/") + "/"
slack.SLACK_URL = url
slack.SlackClient.URL = url + "api/%(resource)s"
from perceval.perceval import main
sys.argv[0] = "perceval"
sys.exit(main())
"""
TIMEOUT = 1800


def perceval(args: list[str], folder: Path, env: dict[str, str] | None = None,
             shim: str | None = None) -> tuple[int, bool]:
    """Run one Perceval command; (JSON items printed, whether it exited 0)."""
    out = folder / "perceval.jsonl"
    python = PERCEVAL_VENV / "bin" / "python"
    head = [str(python), "-c", shim] if shim else [str(PERCEVAL_VENV / "bin" / "perceval")]
    done = subprocess.run([*head, *args, "--json-line", "--no-archive", "-o", str(out)],
                          env={**os.environ, "HOME": str(folder), **(env or {})},
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          timeout=TIMEOUT, check=False)
    # Perceval exits 0 after an HTTP error; its log line "Error!: ..." says it stopped.
    errors = [line for line in done.stderr.splitlines() if "Error!" in line]
    if done.returncode != 0 or errors:
        last = (errors or done.stderr.strip().splitlines() or ["(no output)"])[-1]
        print(f"  perceval {' '.join(args[:2])}... failed ({done.returncode}): {last[:200]}",
              file=sys.stderr)
    items = sum(1 for _ in out.open()) if out.exists() else 0
    out.unlink(missing_ok=True)
    return items, done.returncode == 0 and not errors


def perceval_github_emulator(org: Org):
    """The GitHub emulator plus the per-item routes Perceval asks for and processhealth never
    does (per-issue comments, per-PR review comments, requested reviewers, reactions, a user's
    orgs), served from the same simulated records; a benchmark-only subclass."""
    from werkzeug.routing import Map, Rule

    from simulation import github_api as api
    from simulation.github_emulator import GitHubEmulator

    class PercevalGitHub(GitHubEmulator):
        def __init__(self) -> None:
            # Perceval needs more than the emulator's default 15,000 requests an hour for the
            # demo organization; lifted so that it finishes (see the note in the table).
            super().__init__(org, token=TOKEN, prefix="/api/v3", rate_limit=10**7)
            repo = "/api/v3/repos/<owner>/<name>"
            extra = [(f"{repo}/issues/<int:number>/comments", "item_comments"),
                     (f"{repo}/pulls/<int:number>/comments", "pr_review_comments"),
                     (f"{repo}/pulls/<int:number>/requested_reviewers", "requested_reviewers"),
                     (f"{repo}/issues/<int:number>/reactions", "no_reactions"),
                     (f"{repo}/issues/comments/<int:cid>/reactions", "no_reactions"),
                     (f"{repo}/pulls/comments/<int:cid>/reactions", "no_reactions"),
                     ("/api/v3/users/<login>/orgs", "user_orgs")]
            self.url_map = Map([Rule(r.rule, endpoint=r.endpoint)
                                for r in self.url_map.iter_rules()]
                               + [Rule(path, endpoint=name) for path, name in extra])

        def on_item_comments(self, request, number, **where):
            r = self._repo(**where)
            items = [c for c in self.comments[r.name] if c.number == number]
            base = self.api
            return self._page(request, f"/repos/{org.github.org}/{r.name}/issues/{number}/"
                              "comments", items, lambda c: api.issue_comment(org, c, base))

        def on_pr_review_comments(self, request, number, **where):
            r = self._repo(**where)
            items = [c for c in self.rcomments[r.name] if c.number == number]
            reviews, base = self.reviews.get((r.name, number), []), self.api
            return self._page(request, f"/repos/{org.github.org}/{r.name}/pulls/{number}/"
                              "comments", items,
                              lambda c: api.review_comment(org, c, api.review_of(c, reviews),
                                                           base))

        def on_requested_reviewers(self, request, number, **where):
            return self._json({"users": [], "teams": []})

        def on_no_reactions(self, request, **where):
            return self._json([])

        def on_user_orgs(self, request, login):
            return self._json([api.org_account(org, self.api)])

    return PercevalGitHub()


def perceval_github(org: Org, folder: Path) -> Run:
    app = perceval_github_emulator(org)
    items, failed = 0, 0
    with serve(app) as served:
        t0 = time.perf_counter()
        for repo in sorted(r.name for r in org.github.repos):
            for category in ("issue", "pull_request"):
                n, ok = perceval(["github", org.github.org, repo, "--category", category,
                                  "--enterprise-url", served.url, "-t", TOKEN,
                                  "--max-retries", "1", "--sleep-time", "0"], folder)
                items, failed = items + n, failed + (not ok)
        wall = time.perf_counter() - t0
    note = ("per repo: issues, PRs; per issue comments + reactions, per PR reviews, review "
            "comments, commits, reviewers; users")
    hours = app.stats.total / 5000
    note += f"; {hours:.1f} h of a 5,000/h token" if hours > 1 else ""
    return Run("github", "Perceval", app.stats.total, None, wall, items,
               note + (f"; {failed} runs FAILED" if failed else ""))


def perceval_jira_emulator(org: Org, flavour: str):
    """The Jira emulator, reading Perceval's `updated > <epoch ms>` JQL clause: the emulator
    parses date strings only, and Perceval's first run asks `updated > 0`, which filters
    nothing, so that clause is dropped; a benchmark-only subclass."""
    from simulation.jira_emulator import JiraEmulator

    class PercevalJira(JiraEmulator):
        def __call__(self, environ, start_response):
            query = environ.get("QUERY_STRING", "")
            environ["QUERY_STRING"] = query.replace("+AND+updated+%3E+0+", "+")
            return super().__call__(environ, start_response)

    return PercevalJira(org, TOKEN, flavour=flavour)


def perceval_jira(org: Org, folder: Path, flavour: str = "datacenter") -> Run:
    app = perceval_jira_emulator(org, flavour)
    items, failed = 0, 0
    with serve(app) as served:
        t0 = time.perf_counter()
        for project in org.jira.projects:
            n, ok = perceval(["jira", served.url, "--project", project, "-t", TOKEN], folder)
            items, failed = items + n, failed + (not ok)
        wall = time.perf_counter() - t0
    note = f"{flavour}: issues with changelog; per issue comments pages; fields per page"
    return Run("jira", "Perceval", app.stats.total, None, wall, items,
               note + (f"; {failed} of {len(org.jira.projects)} projects FAILED "
                       "(/rest/api/2/search is gone on Cloud)" if failed else ""))


def perceval_slack_emulator(org: Org):
    """The Slack emulator plus the three methods Perceval calls and processhealth does not
    (conversations.info, conversations.members, users.info), from the same simulated records;
    a benchmark-only subclass."""
    from simulation.slack_emulator import SlackEmulator, _error, _json

    class PercevalSlack(SlackEmulator):
        def __init__(self) -> None:
            super().__init__(org, TOKEN)
            self.methods.update({"conversations.info": (None, self.conversations_info),
                                 "conversations.members": (None, self.conversations_members),
                                 "users.info": ("users:read", self.users_info)})
            self.by_channel = {c["id"]: c for c in self.ws.channels}
            self.by_user = {u["id"]: u for u in self.ws.users}
            slack_ids = {p.pid: p.slack_id for p in org.people}
            self.members = {c.id: [slack_ids[p] for p in c.members if slack_ids.get(p)]
                            for c in org.slack.channels}

        def conversations_info(self, args: dict):
            found = self.by_channel.get(args.get("channel", ""))
            return _json({"ok": True, "channel": found}) if found else \
                _error("channel_not_found")

        def conversations_members(self, args: dict):
            return _json({"ok": True, "members": self.members.get(args.get("channel", ""), []),
                          "response_metadata": {"next_cursor": ""}})

        def users_info(self, args: dict):
            found = self.by_user.get(args.get("user", ""))
            return _json({"ok": True, "user": found}) if found else _error("user_not_found")

    return PercevalSlack()


def perceval_slack(org: Org, folder: Path) -> Run:
    app = perceval_slack_emulator(org)
    public = [c.id for c in org.slack.channels if not c.is_private]
    items, failed = 0, 0
    with serve(app) as served:
        t0 = time.perf_counter()
        for channel in public:
            n, ok = perceval(["slack", "-t", TOKEN, channel], folder,
                             env={"BENCH_SLACK_URL": served.url}, shim=SLACK_SHIM)
            items, failed = items + n, failed + (not ok)
        wall = time.perf_counter() - t0
    note = ("per channel: info, members, history (no thread replies); users.info per "
            "author (base URL shimmed)")
    return Run("slack", "Perceval", app.stats.total, None, wall, items,
               note + (f"; {failed} channels FAILED" if failed else ""))


PERCEVAL = {"github": perceval_github, "jira": perceval_jira, "slack": perceval_slack}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="OrgSpec.small() instead of demo")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--source", choices=list(OURS), action="append")
    parser.add_argument("--no-perceval", action="store_true")
    args = parser.parse_args()
    t0 = time.perf_counter()
    org = generate_org(args.seed, OrgSpec.small() if args.small else OrgSpec.demo())
    print(f"organization: {'small' if args.small else 'demo'}, seed {args.seed}, "
          f"{sum(not p.is_bot for p in org.people)} people, {org.start} to {org.end} "
          f"(generated in {time.perf_counter() - t0:.1f} s)", flush=True)
    with_perceval = not args.no_perceval
    if with_perceval and not (PERCEVAL_VENV / "bin" / "perceval").exists():
        print(f"Perceval is not installed in {PERCEVAL_VENV} (see this file's docstring); "
              "showing processhealth only", file=sys.stderr)
        with_perceval = False
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="collection-bench-") as tmp:
        folder = Path(tmp)
        for source in args.source or list(OURS):
            runs.append(OURS[source](org, folder))
            print(f"  {source}: processhealth {runs[-1].requests} requests", flush=True)
            if with_perceval:
                runs.append(PERCEVAL[source](org, folder))
                print(f"  {source}: Perceval {runs[-1].requests} requests", flush=True)
        if with_perceval and (not args.source or "jira" in args.source):
            runs.append(perceval_jira(org, folder, "cloud"))
    print()
    print_table(runs)
    print("\ngoals: requests at most 1.1x the minimum and at most 1/3 of Perceval's")
    for ours in (r for r in runs if r.tool == "processhealth"):
        theirs = next((r for r in runs if r.source == ours.source and r.tool == "Perceval"), None)
        versus = (f", Perceval made {theirs.requests / ours.requests:.2f}x as many"
                  if theirs else "")
        print(f"  {ours.source}: {ours.requests / ours.minimum:.2f}x the minimum{versus}")


if __name__ == "__main__":
    main()
