"""The configuration schema: one pydantic model per TOML section, unknown keys rejected.

Loading, path resolution and error messages live in `processhealth.config`; import from there.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError, core_schema

from processhealth.duckdb_files import DEFAULT_MEMORY_LIMIT
from processhealth.errors import UserError

Category = Literal["customer", "enabling", "process", "unclassified"]
StatusCategory = Literal["todo", "active", "waiting", "done"]
SourceName = Literal["github", "jira", "slack"]

_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
# Settings of [github], [jira] and [slack] that say how a source is reached (or how far back a
# collection reads again), which changes no row a build makes from the raw store: left out of
# build_params' config row and of the build's fingerprint.
CONNECTION = ("base_url", "auth", "token", "email", "app_id", "installation_id", "private_key",
              "private_key_file", "per_page", "seconds_between_requests", "retries",
              "retry_backoff", "max_rate_limit_wait", "limited_app", "commits_lookback_days",
              "thread_lookback_days")


class SecretRef:
    """A reference to an environment variable holding a secret, written `${NAME}` in config.

    Only the variable's name is kept; the value is read by `resolve()` at the moment of use, so it
    never sits on the config object, in a repr, a log line or the database.
    """

    __slots__ = ("var",)

    def __init__(self, var: str) -> None:
        self.var = var

    def __repr__(self) -> str:
        return f"SecretRef('${{{self.var}}}')"

    def __str__(self) -> str:
        return f"${{{self.var}}}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretRef) and other.var == self.var

    def __hash__(self) -> int:
        return hash(self.var)

    def is_set(self) -> bool:
        return bool(os.environ.get(self.var))

    def resolve(self, key: str) -> str:
        """Return the variable's value; UserError naming `key` and the variable if unset."""
        value = os.environ.get(self.var)
        if not value:
            raise UserError(
                f"Configuration key {key} = \"${{{self.var}}}\" needs the environment variable "
                f"{self.var}, which is not set (or is empty). Set it in the environment of this "
                f"command, for example `export {self.var}=...`, or disable that source in config."
            )
        return value

    @classmethod
    def _validate(cls, value: Any) -> SecretRef:
        if isinstance(value, SecretRef):
            return value
        if not isinstance(value, str):
            raise PydanticCustomError("secret_type", 'expected a string like "${ENV_VAR}"')
        found = _ENV_REF.match(value.strip())
        if not found:
            raise PydanticCustomError("literal_secret", "a literal secret is not accepted")
        return cls(found.group(1))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )


def _check_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"expected a valid regular expression; Python says: {exc}") from None
    return pattern


Regex = Annotated[str, AfterValidator(_check_regex)]
_SQL_REGEX: list[Any] = []  # one in-memory DuckDB, opened on first use


def _check_sql_regex(pattern: str) -> str:
    """Also valid for DuckDB (RE2), which runs it in the build: no lookaround, no backreference."""
    _check_regex(pattern)
    import duckdb

    if not _SQL_REGEX:
        _SQL_REGEX.append(duckdb.connect(":memory:"))
    try:
        _SQL_REGEX[0].execute("SELECT regexp_matches('', ?)", [pattern]).fetchall()
    except duckdb.Error as exc:
        said = str(exc).removeprefix("Invalid Input Error: ")
        raise ValueError(f"expected a regular expression DuckDB (RE2) understands too, as the "
                         f"build matches it in SQL (no lookaround, no backreferences); DuckDB "
                         f"says: {said}") from None
    return pattern


SqlRegex = Annotated[str, AfterValidator(_check_sql_regex)]


def _check_base_url(url: str | None) -> str | None:
    """An http(s) URL with a host and no credentials (secrets come from the environment; a
    token in the URL would be printed and stored). The message never repeats the credentials."""
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        shown = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()
        raise ValueError(f"expected an address without a user name or token in it (found one "
                         f"before the host of {shown}); tokens are read from environment "
                         f"variables, e.g. token = \"${{GITHUB_TOKEN}}\"")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an http:// or https:// address with a host, e.g. "
                         f"https://api.github.com; found {url[:60]!r}")
    return url


BaseUrl = Annotated[str, AfterValidator(_check_base_url)]
Minutes = Annotated[float, Field(ge=0, le=24 * 60)]


def _check_memory_limit(value: str) -> str:
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?) ?([KMGT]i?B)", value).groups()  # type: ignore
    size = float(number) * {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}[unit[0]]
    if not 64 * 2**20 <= size <= 64 * 2**40:
        raise ValueError(f"expected a memory cap between 64MB and 64TB; found {value!r}")
    return value


class Section(BaseModel):
    # nan and inf are no thresholds: every comparison with them is false
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class StorageConfig(Section):
    raw_path: Path = Path(".processhealth/raw.duckdb")
    analytics_path: Path = Path("processhealth.duckdb")
    # DuckDB's memory cap for the raw store, build and reports; past it, DuckDB spills to disk.
    # Memory it frees is kept for reuse up to the cap until the connection closes
    # (duckdb_files.py).
    memory_limit: Annotated[str, AfterValidator(_check_memory_limit)] = Field(
        DEFAULT_MEMORY_LIMIT, pattern=r"^\d+(\.\d+)? ?(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")


class GitHubConfig(Section):
    enabled: bool = False
    base_url: BaseUrl = "https://api.github.com"
    # "token": a personal access token; "app": a GitHub App installation (app_id,
    # installation_id and its private key, from private_key = "${VAR}" or private_key_file).
    token: SecretRef = SecretRef("GITHUB_TOKEN")
    auth: Literal["token", "app"] = "token"
    app_id: int | None = Field(None, ge=1)
    installation_id: int | None = Field(None, ge=1)
    private_key: SecretRef | None = None
    private_key_file: Path | None = None
    org: str | None = None
    repos: list[str] = []
    jira_key_pattern: SqlRegex = r"\b[A-Z][A-Z0-9]+-\d+\b"
    per_page: int = Field(100, ge=1, le=100)
    since: date | None = None
    # Incremental runs read commits committed up to this many days before the newest one held
    # (GitHub's `since` filters on the committer date; a commit pushed later is older).
    commits_lookback_days: int = Field(30, ge=0)
    # Pause between requests; None = PyGithub's 0.25 s, except none for a loopback base_url.
    seconds_between_requests: float | None = Field(None, ge=0)
    # Retries of 5xx and rate-limited requests, with exponential backoff from retry_backoff s.
    retries: int = Field(10, ge=0)
    retry_backoff: float = Field(1.0, ge=0)
    # Longest wait for a rate limit to reset before giving up (GitHub resets hourly).
    max_rate_limit_wait: float = Field(3600, gt=0)

    @model_validator(mode="after")
    def _needs_org_or_repos(self) -> GitHubConfig:
        if self.enabled and not self.org and not self.repos:
            raise ValueError("expected org or repos to be set when enabled = true; found neither")
        if self.enabled and self.auth == "app":
            missing = [k for k in ("app_id", "installation_id") if getattr(self, k) is None]
            if self.private_key is None and self.private_key_file is None:
                missing.append('private_key = "${GITHUB_APP_PRIVATE_KEY}" or private_key_file')
            if missing:
                raise ValueError(
                    'expected app_id, installation_id and the App\'s private key with auth = '
                    '"app" (the numbers are on the App\'s settings page and in the installation\'s '
                    f"URL); missing: {', '.join(missing)}")
            if self.private_key is not None and self.private_key_file is not None:
                raise ValueError("expected one of private_key and private_key_file; found both")
        return self


DEFAULT_WAITING_PATTERNS = [
    "blocked", "waiting", "on hold", "pending", "awaiting", "ready for", "in queue", "approval",
]
DEFAULT_CUSTOM_FIELDS = {
    "story_points": "Story Points", "epic_link": "Epic Link", "sprint": "Sprint",
}


class JiraConfig(Section):
    enabled: bool = False
    base_url: BaseUrl | None = None
    flavour: Literal["cloud", "datacenter", "auto"] = "auto"
    auth: Literal["basic", "pat"] = "basic"
    email: SecretRef = SecretRef("JIRA_EMAIL")
    token: SecretRef = SecretRef("JIRA_TOKEN")
    projects: list[str] = []
    # Merged over the defaults: naming one field keeps the others.
    custom_fields: dict[str, str] = dict(DEFAULT_CUSTOM_FIELDS)
    status_map: dict[str, StatusCategory] = {}
    waiting_patterns: list[str] = list(DEFAULT_WAITING_PATTERNS)
    since: date | None = None
    sprints: bool = True  # false on sites without the agile API (Jira Work Management)
    # Longest Retry-After (429, or 503) waited out before the run stops, resumable.
    max_rate_limit_wait: float = Field(3600, gt=0)

    @field_validator("custom_fields", mode="before")
    @classmethod
    def _merge_custom_fields(cls, value: Any) -> Any:
        return {**DEFAULT_CUSTOM_FIELDS, **value} if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _needs_base_url(self) -> JiraConfig:
        if self.enabled and not self.base_url:
            raise ValueError("expected base_url to be set when enabled = true; found none")
        return self


DEFAULT_REMINDER_PATTERNS = [
    r"please update", r"any update on", r"^reminder:", r"friendly reminder", r"don't forget to",
]
DEFAULT_STATUS_REQUEST_PATTERNS = [
    r"what'?s the status", r"status update", r"where are we (on|with)", r"any news on", r"\beta\?",
]
DEFAULT_SHADOW_TOOL_DOMAINS = [
    "docs.google.com/spreadsheets", "sheets.google.com", "airtable.com", "notion.so",
    "notion.site", "dropbox.com", "onedrive.live.com", "sharepoint.com", "trello.com", "monday.com",
]
DEFAULT_SHADOW_TOOL_EXTENSIONS = [".xlsx", ".xls", ".csv", ".numbers"]


class SlackConfig(Section):
    enabled: bool = False
    base_url: BaseUrl = "https://slack.com/api/"
    token: SecretRef = SecretRef("SLACK_TOKEN")
    channels: list[str] = ["*"]
    private_channels: list[str] = []
    include_dms: bool = False
    bots: list[str] = []  # deprecated: merged into [people] bots, with a warning (config.py)
    reminder_patterns: list[Regex] = list(DEFAULT_REMINDER_PATTERNS)
    status_request_patterns: list[Regex] = list(DEFAULT_STATUS_REQUEST_PATTERNS)
    shadow_tool_domains: list[str] = list(DEFAULT_SHADOW_TOOL_DOMAINS)
    shadow_tool_extensions: list[str] = list(DEFAULT_SHADOW_TOOL_EXTENSIONS)
    jira_key_pattern: Regex = r"\b[A-Z][A-Z0-9]+-\d+\b"
    # Incremental runs re-read this much history, to notice new replies in recent threads.
    thread_lookback_days: int = Field(30, ge=0)
    # A commercially distributed app not approved for the Slack Marketplace gets one
    # conversations.history / replies request a minute (since 2025); pace instead of hitting 429s.
    limited_app: bool = False
    since: date | None = None


DEFAULT_HYPOTHESIS_PATTERNS = [
    r"\bhypothes[ie]s\b", r"\bwe (believe|expect|predict)\b",
    r"^\s*if we\b[^.]*\b(then|will|drops?|falls?|rises?|improves?|reduces?|increases?)\b",
]
DEFAULT_SUCCESS_CRITERIA_PATTERNS = [
    r"\bsuccess (criteri(a|on)|metrics?|measures?)\b", r"\bwe('ll| will) know\b",
]
DEFAULT_RESULT_PATTERNS = [
    r"^\s*results?\s*:", r"\bhypothesis (was )?(confirmed|rejected|refuted|validated|disproved)\b",
    r"\bcriteri(on|a) (was |were )?(met|not met|missed)\b",
]


class DeclaredExperimentsConfig(Section):
    """Declared experiments (docs/metrics.md section 9): issues or pull requests whose text
    carries a hypothesis and success criteria, and which close with a result. Flags derived at
    ingest from the words (collectors/privacy.py), which are then dropped unless [privacy]
    store_text_fields; patterns are case-insensitive and must also be valid for DuckDB (RE2)."""

    hypothesis_patterns: list[SqlRegex] = list(DEFAULT_HYPOTHESIS_PATTERNS)
    success_criteria_patterns: list[SqlRegex] = list(DEFAULT_SUCCESS_CRITERIA_PATTERNS)
    result_patterns: list[SqlRegex] = list(DEFAULT_RESULT_PATTERNS)
    # Jira fields (by name, any case) that declare one when filled, whatever their words.
    hypothesis_fields: list[str] = ["Hypothesis"]
    success_criteria_fields: list[str] = ["Success Criteria", "Success Metric"]


class TeamConfig(Section):
    name: str = Field(min_length=1)
    members: list[str] = []
    github_team: str | None = None
    slack_usergroup: str | None = None
    jira_projects: list[str] = []
    repos: list[str] = []
    channels: list[str] = []


class PrivacyConfig(Section):
    store_message_text: bool = False
    # Jira free-text fields and GitHub/Jira bodies kept verbatim (default: length only).
    store_text_fields: bool = False
    min_group_size: int = Field(5, ge=1)
    pseudonymize: bool = False
    pseudonym_salt: SecretRef = SecretRef("PROCESSHEALTH_SALT")
    show_people: bool = False


class PersonMapping(Section):
    person: str = Field(min_length=1)
    github: str | None = None
    jira: str | None = None
    slack: str | None = None
    email: str | None = None


class PeopleConfig(Section):
    csv: Path | None = None
    mappings: list[PersonMapping] = []
    # Bots and service accounts in any tool (login, display name or account id): people of
    # their own, left out of effort; their Slack messages count as reminders.
    bots: list[str] = []


class ReportConfig(Section):
    title: str = "Process health"
    months: int = Field(12, ge=1, le=120)
    out: Path = Path("report.html")


def reject_duplicates(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"expected each {what} once; found {name!r} twice")
        seen.add(name)
