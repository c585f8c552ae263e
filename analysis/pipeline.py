"""The whole analysis part of `processhealth build`, as an ordered list of steps.

Each step is `step(con, config)` on the new analytics database, after normalization filled the
domain tables with person_id and category still NULL:
parameters -> identities and people -> teams and person-months -> classification -> effort ->
pseudonyms -> every view in analysis/sql/*.sql (sorted) -> verdicts -> experiments.
Rules, people and team changes therefore apply by re-running `build` alone, with no collection.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from analysis import classify, effort, identity, insert_rows, privacy, teams

SQL_DIR = Path(__file__).resolve().parent / "sql"
LATER_MODULES = ("analysis.verdicts", "analysis.experiments")  # the metrics engineer's steps
Step = Callable[[duckdb.DuckDBPyConnection, Any], None]


def build_steps() -> list[Step]:
    """Every analysis step, in order, for processhealth.pipeline.build."""
    steps = core_steps()
    for name in LATER_MODULES:
        if importlib.util.find_spec(name) is not None:
            steps.append(_named(importlib.import_module(name).build, name))
    return steps


def core_steps() -> list[Step]:
    """People, teams, classification, effort, privacy and the metric views (no verdicts)."""
    from processhealth.pipeline import sql_file_step, sql_files

    steps = [
        _named(record_params, "analysis: parameters"),
        _named(identity.build, "analysis: identities and people"),
        _named(teams.build, "analysis: teams"),
        _named(classify.build, "analysis: classification"),
        _named(effort.build, "analysis: effort"),
        _named(privacy.build, "analysis: privacy"),
    ]
    return steps + [sql_file_step(path) for path in sql_files(SQL_DIR)]


def _named(fn: Step, name: str) -> Step:
    def step(con: duckdb.DuckDBPyConnection, config: Any) -> None:
        fn(con, config)

    step.step_name = name  # type: ignore[attr-defined]
    return step


def record_params(con: duckdb.DuckDBPyConnection, config: Any) -> None:
    """analysis_params: what this build used, for reproducing figures and for the views."""
    eff, priv = config.effort, config.privacy
    rows = [
        ("effort.session_gap_minutes", eff.session_gap_minutes, "A longer gap starts a session."),
        ("effort.lead_in_minutes", eff.lead_in_minutes, "Credit of a session's first act."),
        ("effort.day_cap_hours", eff.day_cap_hours, "Most hours credited to a person-day."),
        ("effort.caps", json.dumps({**eff.caps, "*": effort.UNKNOWN_KIND_CAP}, sort_keys=True),
         "Most minutes credited per event kind (* = any kind not listed)."),
        ("effort.sensitivity_gaps", json.dumps(eff.sensitivity_gaps),
         "Other session gaps the shares are recomputed with."),
        ("effort.method", effort.method_text(config), "The effort model in one line."),
        ("privacy.min_group_size", priv.min_group_size,
         "Figures resting on fewer people are flagged suppressed."),
        ("privacy.pseudonymize", str(priv.pseudonymize).lower(),
         "Whether person ids and names are salted-hash pseudonyms."),
        ("classification.rules", json.dumps([r.model_dump(exclude_defaults=True)
                                             for r in config.classification.rules]),
         "The ordered classification rules."),
    ]
    insert_rows(con, "analysis_params", ("name", "value", "description"),
                [(name, str(value), text) for name, value, text in rows])
