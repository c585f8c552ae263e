"""The configuration sections of the analysis: [classification], [effort] and [verdict]
(docs/metrics.md sections 1, 2 and 9). Part of the schema in `processhealth.config_models`,
which re-exports them; import from `processhealth.config`."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from processhealth.config_models import (
    Category,
    Minutes,
    Section,
    SourceName,
    SqlRegex,
    reject_duplicates,
)


class RuleMatch(Section):
    """Conditions of one classification rule; all given conditions must hold (lists: any of)."""

    source: SourceName | None = None
    project: list[str] = []
    issue_type: list[str] = []
    labels: list[str] = []
    components: list[str] = []
    parent: list[str] = []
    repo: list[str] = []
    title_regex: SqlRegex | None = None
    channel: list[str] = []


class ClassificationRule(Section):
    name: str = Field(min_length=1)
    category: Category
    match: RuleMatch = RuleMatch()


def _rule(name: str, category: str, **match: Any) -> ClassificationRule:
    return ClassificationRule(name=name, category=category, match=RuleMatch(**match))


# Kept identical to [classification] in config.example.toml (a test checks it).
DEFAULT_RULES = [
    _rule("process-issue-types", "process", source="jira",
          issue_type=["Initiative", "Status Report"]),
    _rule("customer-labels", "customer",
          labels=["customer", "customer-facing", "customer-request", "customer-reported", "cust",
                  "support", "escalation", "bug"]),
    _rule("enabling-labels", "enabling",
          labels=["tech-debt", "techdebt", "tech_debt", "technical-debt", "debt", "refactor",
                  "refactoring", "infra", "infrastructure", "ops", "devops", "experiment",
                  "dependencies", "security", "tooling"]),
    _rule("dependency-updates", "enabling", source="github",
          title_regex=r"(?i)^(\w+\(deps[^)]*\):\s*)?(bump|update) (dependency )?\S+ "
                      r"(from \S+ )?to v?\S+"),
    _rule("customer-issue-types", "customer", source="jira",
          issue_type=["Story", "Bug", "Epic", "Customer Request"]),
    _rule("enabling-issue-types", "enabling", source="jira",
          issue_type=["Task", "Tech Debt", "Spike", "Experiment"]),
    _rule("enabling-repos", "enabling", repo=["*-infra", "platform-*"]),
    _rule("customer-channels", "customer", source="slack",
          channel=["support-*", "*-support", "customer-*", "*-customers", "help-*", "*-help",
                   "escalations-*", "*-escalations"]),
    _rule("process-channels", "process", source="slack",
          channel=["standup*", "*-standup", "*-standups", "daily-*", "*-daily", "*-sync",
                   "status*", "*-status", "*-updates", "pmtool*", "process-*", "retro-*",
                   "*-retro", "planning-*", "*-planning"]),
]
DEFAULT_REPO_CATEGORIES: dict[str, Category] = {
    "*-infra": "enabling", "infra-*": "enabling", "platform-*": "enabling", "*-docs": "enabling",
    "*-app": "customer",
}
DEFAULT_CHANNEL_CATEGORIES: dict[str, Category] = {
    "support-*": "customer", "*-support": "customer", "customer-*": "customer",
    "*-customers": "customer", "help-*": "customer", "*-help": "customer",
    "eng-*": "enabling", "*-eng": "enabling", "dev-*": "enabling", "*-dev": "enabling",
    "*-devs": "enabling", "engineering-*": "enabling", "*-engineering": "enabling",
    "standup*": "process", "*-standup": "process", "*-daily": "process", "*-sync": "process",
    "status*": "process", "*-status": "process", "*-updates": "process", "pmtool*": "process",
    "process-*": "process",
}


class ClassificationConfig(Section):
    rules: list[ClassificationRule] = Field(default_factory=lambda: list(DEFAULT_RULES))
    repos: dict[str, Category] = dict(DEFAULT_REPO_CATEGORIES)
    channels: dict[str, Category] = dict(DEFAULT_CHANNEL_CATEGORIES)
    # A repository or channel in a team's scope ([[teams]] repos, channels) that no rule or glob
    # above classifies: a team's own repositories are its product, its own channels its working
    # chat. "unclassified" turns the fallback off.
    team_repos: Category = "customer"
    team_channels: Category = "enabling"

    @field_validator("rules")
    @classmethod
    def _unique_rule_names(cls, rules: list[ClassificationRule]) -> list[ClassificationRule]:
        reject_duplicates([r.name for r in rules], "rule name")
        return rules


DEFAULT_CAPS = {
    "commit": 120, "pr_opened": 60, "pr_review": 60, "pr_comment": 15, "issue_comment": 15,
    "jira_comment": 15, "issue_opened": 15, "jira_created": 15, "release": 15, "pr_merged": 15,
    "pr_ready": 5, "slack_message": 5, "slack_reply": 5, "jira_transition": 3,
    "jira_field_edit": 3, "jira_worklog": 3,
}


class EffortConfig(Section):
    session_gap_minutes: float = Field(45, gt=0)
    lead_in_minutes: float = Field(30, ge=0)
    day_cap_hours: float = Field(10, gt=0, le=24)
    # A Jira history (one screen save) with N items is one act capped at cap(kind) plus this
    # for each item after the first.
    history_item_minutes: float = Field(1.5, ge=0)
    # Merged over the defaults: naming one kind keeps the others.
    caps: dict[str, Minutes] = dict(DEFAULT_CAPS)
    # Session gaps of 60 minutes or less cannot change a credit with the default caps and
    # lead-in (docs/metrics.md section 2): these show how far shares move where one can.
    sensitivity_gaps: list[Annotated[float, Field(gt=0, le=24 * 60)]] = [30, 90, 180]

    @field_validator("caps", mode="before")
    @classmethod
    def _merge_caps(cls, value: Any) -> Any:
        return {**DEFAULT_CAPS, **value} if isinstance(value, dict) else value


class VerdictConfig(Section):
    """Team-month and process-change verdicts (docs/metrics.md section 9); the defaults were
    chosen on scenario family seed 1 (benchmarks/verdict_calibration.py)."""

    overhead_rise_pp: float = 3.5
    amplifier_max_rise_pp: float = 3.5
    throughput_drop: float = 0.10
    prompted_rise_pp: float = 5
    # adoption that follows reminders stands in for the overhead bar: with the share of process
    # events that followed a reminder up this many points (sure, when pooled), process_is_product
    # needs only an overhead that did not fall (above 100: never)
    reminded_rise_pp: float = Field(20, ge=0)
    uncoupled_rise_pp: float = 5
    coupling_drop_pp: float = 10
    best_performer_engagement: float = 0.5
    # "improved" for amplifier: customer items per person up, or customer lead time or
    # pull-request pickup down, by this share
    improvement: float = Field(0.10, ge=0)
    # months a team-month is compared with (those before the team's latest recorded change, else
    # the trailing ones that were not themselves candidates)
    baseline_months: int = Field(6, ge=1, le=12)
    # months in a row a verdict needs, their pooled change sure (a guard against repeated
    # monthly looks)
    persistence_months: int = Field(2, ge=1, le=6)
    # months a verdict lasts before its level is restated as the team's new normal:
    # process_is_product, amplifier (a rise in throughput is as often slow drift)
    restate_months: int = Field(12, ge=2)
    amplifier_restate_months: int = Field(2, ge=1)
    # amplifier: customer items per person up and pull-request pickup down, pooled (their
    # z-scores summed over sqrt(2)), at least this many standard errors from no change ...
    amplifier_gain_z: float = Field(2.2, gt=0)
    # ... over up to this many months of a run (the onset month and the two after)
    amplifier_pool_months: int = Field(3, ge=1, le=6)
    # standard errors taken off amplifier_gain_z when the team closed declared experiments with
    # a result in the months judged (support only: placebo teams declare experiments too)
    declared_experiment_credit: float = Field(0.0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _drop_retired(cls, data: Any) -> Any:
        """Absolute paperwork and coupling levels measured linking hygiene, not process
        (issue 17); configs that still set them are read without them."""
        if isinstance(data, dict):
            data = {k: v for k, v in data.items()
                    if k not in ("paperwork_ratio", "coupling_low", "coupling_high")}
        return data
