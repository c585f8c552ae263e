"""An analytics database built from the simulated organization, the way a user would get one.

    config = simulated_config(seed=7, spec="small")   # built once per run, copied per process

For the tests that check the report and the documented queries against a realistic database
(test_queries, test_report_headlines, test_browser); the report's own figures are tested on the
hand-made organization in report_org.py.
"""

from __future__ import annotations

import atexit
import importlib
import importlib.util
import shutil
import tempfile
import warnings
from pathlib import Path

from shared_cache import shared, shared_org

from processhealth.config import Config, load_config
from processhealth.store import RawStore

# Process changes recorded the way a user would (`processhealth experiment add`), for the two
# scenario teams whose story has one. Names, scopes and criteria only; nothing measured.
SCENARIO_CHANGES = {
    "tool_nobody_wanted": {
        "name": "pm-tool", "tool": "PM tool",
        "scope": {"field": ["Business Value", "Initiative", "Confidence", "Progress"],
                  "status": ["Needs Business Value", "Ready for Estimation",
                             "Awaiting PM Review"],
                  "channel": ["pmtool-*"]},
        "criteria": ["overhead_ratio <= +3pp", "customer_throughput >= -10%"],
    },
    "experiments_that_work": {
        "name": "tech-experiments", "tool": None,
        "scope": {"issue_type": ["Experiment"]},
        "criteria": ["overhead_ratio <= +3pp", "customer_throughput >= -10%"],
    },
}
_BUILT: dict[tuple[int, str], Path] = {}


def simulated_config(seed: int = 7, spec: str = "small") -> Config:
    """Config of an analytics database built from `generate_org(seed, OrgSpec.<spec>())` through
    the fast loaders and `processhealth build`, with the scenario teams' process changes recorded.
    Built once per test run (tests/shared_cache.py: the xdist workers share it), and copied to a
    temporary folder of this process (removed at exit), whose files its tests may change."""
    key = (seed, spec)
    if key not in _BUILT:
        built = shared(f"simulated-{spec}-{seed}", lambda f: _build_simulated(f, seed, spec))
        folder = Path(tempfile.mkdtemp(prefix=f"processhealth-sim-{spec}-{seed}-"))
        atexit.register(shutil.rmtree, folder, True)
        shutil.copytree(built, folder, dirs_exist_ok=True)
        _BUILT[key] = folder / "processhealth.toml"
    return load_config(_BUILT[key])


def _build_simulated(folder: Path, seed: int, spec: str) -> Path:
    from processhealth import pipeline, state
    from processhealth.demo_config import demo_config_toml
    from simulation import OrgSpec

    org = shared_org(seed, getattr(OrgSpec, spec)())
    urls = {s: f"http://127.0.0.1:1/{s}" for s in ("github", "jira", "slack")}
    (folder / "processhealth.toml").write_text(demo_config_toml(org, urls), encoding="utf-8")
    config = load_config(folder / "processhealth.toml")
    with RawStore(config.storage.raw_path) as store:
        with store.bulk():  # the loaders' rows in few commits (tests/test_store_bulk.py)
            for source in ("github", "jira", "slack"):
                name = f"processhealth.simload.{source}"
                if importlib.util.find_spec(name) is None:  # a loader not written yet
                    warnings.warn(f"{name} is missing: the database has no {source} data",
                                  stacklevel=2)
                    continue
                importlib.import_module(name).load(org, store)
        for team in org.teams:
            change = SCENARIO_CHANGES.get(team.scenario)
            if change is None or team.change_on is None:
                continue
            state.add_process_change(
                store, f"{change['name']}-{team.name}", started_on=team.change_on,
                team=team.name, tool=change["tool"], scope=change["scope"],
                criteria=[state.parse_criterion(c) for c in change["criteria"]])
    pipeline.build(config)
    return folder
