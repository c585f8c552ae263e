"""Shared by the family benchmarks: each scenario-family member collected through the real clients
(PyGithub, jira, slack-sdk over HTTP against the emulators) and built with the member's own
generated config (simulation/family/config.py: only where the tools are and the teams' scopes;
classification, effort and people keep the product's defaults). Nothing is tuned by hand.

Databases are cached under /tmp/processhealth-family-cache-eff/: the raw store per
<seed>-<index>-<size>-<hash of collectors/*.py and simulation/>, the analytics database under it
per the hash of collectors/ (its SQL included), analysis/ and processhealth/, so a rerun after a
normalization or analysis change only rebuilds. `--collect-only` fills the raw stores.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import sys
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from processhealth import pipeline  # noqa: E402
from processhealth.config import load_config  # noqa: E402
from simulation.family import SMALL_ORGS, SMALL_SEED, generate_member  # noqa: E402
from simulation.family.config import TOKEN_VARS, family_config_toml  # noqa: E402
from simulation.server import serve  # noqa: E402

CACHE = Path(os.environ.get("PROCESSHEALTH_FAMILY_CACHE", "/tmp/processhealth-family-cache-eff"))
TOKEN = "family-token-not-a-secret"
EMULATORS = {"github": ("simulation.github_emulator", "GitHubEmulator"),
             "jira": ("simulation.jira_emulator", "JiraEmulator"),
             "slack": ("simulation.slack_emulator", "SlackEmulator")}


def code_hash(*folders: str, suffixes: tuple[str, ...] = (".py", ".sql", ".toml")) -> str:
    h = hashlib.sha256()
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in suffixes and "__pycache__" not in path.parts:
                h.update(str(path.relative_to(ROOT)).encode())
                h.update(path.read_bytes())
    return h.hexdigest()[:12]


def jobs(args) -> list[tuple[int, int, str]]:
    """(family seed, index, size) for --small / --orgs N / --seed S."""
    if args.small:
        return [(SMALL_SEED, i, "small") for i in range(SMALL_ORGS)]
    return [(args.seed, i, "full") for i in range(args.orgs)]


def add_arguments(parser) -> None:
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--orgs", type=int, default=8)
    parser.add_argument("--small", action="store_true", help="the test suite's two members")


def _config_text(org, urls: dict[str, str], raw: Path, analytics: Path) -> str:
    return (family_config_toml(org, urls)
            + f'\n[storage]\nraw_path = "{raw}"\nanalytics_path = "{analytics}"\n')


FAST = os.environ.get("PROCESSHEALTH_FAMILY_FAST") == "1"


def _fast_load(org, raw: Path) -> None:
    """The raw rows through the collectors' own row code without HTTP (processhealth/simload;
    tests check they equal a collection's): for quick iterations, never for reported figures."""
    from processhealth.store import RawStore

    with RawStore(raw) as store:
        for source in EMULATORS:
            importlib.import_module(f"processhealth.simload.{source}").load(org, store)


def built_member(seed: int, index: int, size: str, build: bool = True):
    """(member with truth, path of its analytics database), collecting and building when the
    cache has neither (only collecting when not `build`). PROCESSHEALTH_FAMILY_FAST=1 loads the
    raw rows without HTTP (a separate cache)."""
    member = generate_member(seed, index, size)
    # collection: the collectors' Python and the simulation; the build: everything else
    raw_key = (("fast-" if FAST else "")
               + f"{seed}-{index}-{size}-{code_hash('collectors', suffixes=('.py',))}"
               + code_hash("simulation"))
    built_key = f"{raw_key[-24:]}-{code_hash('collectors', 'analysis', 'processhealth')}"
    raw = CACHE / raw_key / "raw.duckdb"
    analytics = CACHE / raw_key / built_key / "processhealth.duckdb"
    if analytics.exists():
        return member, analytics
    analytics.parent.mkdir(parents=True, exist_ok=True)
    for source in TOKEN_VARS.values():
        os.environ[source] = TOKEN
    if not raw.exists() and FAST:
        partial = raw.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        _fast_load(member.org, partial)
        shutil.move(partial, raw)
    if not raw.exists():
        partial = raw.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        with ExitStack() as stack:
            urls = {}
            for source, (module, cls) in EMULATORS.items():
                app = getattr(importlib.import_module(module), cls)(member.org, token=TOKEN)
                urls[source] = stack.enter_context(serve(app)).url
            path = raw.parent / "collect.toml"
            path.write_text(_config_text(member.org, urls, partial, analytics))
            pipeline.collect(load_config(path))
        shutil.move(partial, raw)
    if not build:
        return member, raw
    path = analytics.parent / "build.toml"
    dead = {s: "http://127.0.0.1:1" for s in EMULATORS}
    path.write_text(_config_text(member.org, dead, raw, analytics.with_suffix(".partial")))
    pipeline.build(load_config(path))
    shutil.move(analytics.with_suffix(".partial"), analytics)
    return member, analytics


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Collect (and build) family members into the "
                                                 "cache.")
    add_arguments(parser)
    parser.add_argument("--collect-only", action="store_true")
    args = parser.parse_args()
    for job in jobs(args):
        print(built_member(*job, build=not args.collect_only)[1], flush=True)
