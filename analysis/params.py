"""build_params: every setting and threshold one build used, written once, before any analysis.

One table so that a figure can be reproduced from the database alone and SQL views need no
session state: the effort model's settings, the privacy settings, the classification rules and
the thresholds the metric views and verdicts compare figures with. The old names
analysis_params and health_thresholds are views over it (processhealth/schema/analytics).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from pathlib import Path
from typing import Any

import duckdb

from analysis import effort, insert_rows
from processhealth.build_inputs import what_counts

METRIC_SQL = Path(__file__).resolve().parent / "sql"  # the metric views (docs/metrics.md)

# What each [verdict] threshold decides (docs/metrics.md section 9; analysis/verdicts.py).
VERDICT_TEXT = {
    "overhead_rise_pp": "Rise of the overhead ratio over its baseline, in points, that "
                        "process_is_product needs (on its estimate), unless reminded_rise_pp "
                        "stands in for it.",
    "reminded_rise_pp": "Rise, in points, of the share of process events that followed a "
                        "reminder asking the actor by name for an update (interval above 0 when "
                        "pooled) that stands in for overhead_rise_pp on team-months: "
                        "process_is_product then needs only an overhead that did not fall.",
    "amplifier_max_rise_pp": "Rise of the overhead ratio, in points, an amplifier stays under.",
    "throughput_drop": "Fall of customer items per person (a share, interval below 0) that "
                       "argues for process_is_product.",
    "prompted_rise_pp": "Rise, in points, of the share of process events that followed a "
                        "reminder (team-months: one asking the actor by name for an update; "
                        "interval above 0) that argues for process_is_product.",
    "uncoupled_rise_pp": "Rise, in points of all credited minutes, of process minutes on items "
                         "not delivered within 30 days (interval above 0) that argues for "
                         "process_is_product.",
    "coupling_drop_pp": "Fall of process coupling, in points (interval below 0), that argues "
                        "for process_is_product.",
    "best_performer_engagement": "Best-performer engagement below which it argues for "
                                 "process_is_product.",
    "improvement": "Rise of customer items per person, or fall of customer lead time or "
                   "pull-request pickup (a share, interval excluding 0), that argues for "
                   "amplifier.",
    "baseline_months": "How many earlier months a team-month is compared with.",
    "persistence_months": "Months in a row a verdict needs, their pooled change sure.",
    "restate_months": "Months process_is_product lasts before its level becomes the team's new "
                      "normal.",
    "amplifier_restate_months": "Months amplifier lasts before its level becomes the team's "
                                "new normal.",
    "amplifier_gain_z": "Standard errors from no change that customer items per person up and "
                        "pull-request pickup down, pooled, need to argue for amplifier.",
    "amplifier_pool_months": "Months of an amplifier run pooled (the onset month and the two "
                             "after).",
    "declared_experiment_credit": "Standard errors taken off amplifier_gain_z when the team "
                                  "closed declared experiments with a result in the months "
                                  "judged.",
}


def rows(config: Any) -> list[tuple[str, str, bool, str]]:
    """(name, value as text, is_threshold, description), one per setting."""
    eff, priv = config.effort, config.privacy
    found = [
        ("effort.session_gap_minutes", eff.session_gap_minutes, False,
         "A longer gap starts a session."),
        ("effort.lead_in_minutes", eff.lead_in_minutes, False, "Credit of a session's first act."),
        ("effort.day_cap_hours", eff.day_cap_hours, False, "Most hours credited to a person-day."),
        ("effort.history_item_minutes", eff.history_item_minutes, False,
         "Cap added per item after the first of a Jira history (one screen save)."),
        ("effort.caps", json.dumps({**eff.caps, "*": effort.UNKNOWN_KIND_CAP}, sort_keys=True),
         False, "Most minutes credited per event kind (* = any kind not listed)."),
        ("effort.sensitivity_gaps", json.dumps(eff.sensitivity_gaps), False,
         "Other session gaps the shares are recomputed with."),
        ("effort.method", effort.method_text(config), False, "The effort model in one line."),
        ("privacy.min_group_size", priv.min_group_size, True,
         "Figures resting on fewer people are flagged suppressed."),
        ("privacy.pseudonymize", str(priv.pseudonymize).lower(), False,
         "Whether person ids and names are salted-hash pseudonyms."),
        ("classification.rules", json.dumps([r.model_dump(exclude_defaults=True)
                                             for r in config.classification.rules]), False,
         "The ordered classification rules."),
    ]
    found += [(f"verdict.{name}", value, True, VERDICT_TEXT[name])
              for name, value in config.verdict.model_dump().items()]
    found += [
        ("config", settings_json(config), False,
         "Every setting of this build as JSON (the patterns, channel and repository rules, "
         "teams' tools and the rest), for reproducing a figure. Left out: [storage], how each "
         "source is reached (URLs, credentials, paging) and who is who ([people] and team "
         "members)."),
        ("processhealth.version", _version(), False,
         "The processhealth version that built this database (the schema's version: "
         "docs/schema.md of that version describes it)."),
        ("processhealth.metric_sql", metric_sql_digest(), False,
         "SHA-256 of the SQL of the metric views (analysis/sql) this database was built with: "
         "two databases with the same value define every metric view alike."),
    ]
    return [(name, str(value), threshold, text) for name, value, threshold, text in found]


def settings_json(config: Any) -> str:
    """The config as JSON without where files are ([storage], [report] out), how each source
    is reached (CONNECTION) and who is who: [people] (mappings, the people file, bots: logins,
    names and e-mails) and team member lists, which pseudonyms hide."""
    data = what_counts(config)
    data.pop("people", None)  # mappings, the people file and bots: logins, names, e-mails
    data.get("report", {}).pop("out", None)  # a path: where, not what
    for team in data.get("teams", []):
        team.pop("members", None)
    return json.dumps(data, sort_keys=True)


def metric_sql_digest() -> str:
    """SHA-256 of every file of analysis/sql (each name and its bytes), the metric views'
    definitions: the report's as-of copy reuses a database's views only when it matches."""
    digest = hashlib.sha256()
    for path in sorted(METRIC_SQL.rglob("*.sql")):
        digest.update(f"\0{path.relative_to(METRIC_SQL).as_posix()}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _version() -> str:
    try:
        return importlib.metadata.version("processhealth")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def write(con: duckdb.DuckDBPyConnection, config: Any) -> None:
    """Fill build_params from the config of this build."""
    insert_rows(con, "build_params", ("name", "value", "is_threshold", "description"),
                rows(config))
