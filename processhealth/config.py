"""Load and validate the one TOML config file.

    cfg = load_config(Path("processhealth.toml"))   # UserError with a one-paragraph message
    cfg.validate_secrets(["github"])                # before any network call
    token = cfg.github.token.resolve(key="github.token")

Relative paths ([storage], [people] csv, [report] out, [github] private_key_file) resolve
against the config file's folder, so a cron job gives the same result from any working directory.
"""

from __future__ import annotations

import os
import tomllib
import types
import typing
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from processhealth import ui
from processhealth.config_analysis import ClassificationConfig, EffortConfig, VerdictConfig
from processhealth.config_models import (
    DeclaredExperimentsConfig,
    GitHubConfig,
    JiraConfig,
    PeopleConfig,
    PrivacyConfig,
    ReportConfig,
    SecretRef,
    Section,
    SlackConfig,
    StorageConfig,
    TeamConfig,
    reject_duplicates,
)
from processhealth.errors import UserError
from processhealth.github_app_key import read_private_key

__all__ = ["Config", "SecretRef", "load_config", "parse_config", "example_config_text"]

DEFAULT_CONFIG_NAME = "processhealth.toml"
CONFIG_ENV_VAR = "PROCESSHEALTH_CONFIG"
SOURCES = ("github", "jira", "slack")


class Config(Section):
    storage: StorageConfig = StorageConfig()
    github: GitHubConfig = GitHubConfig()
    jira: JiraConfig = JiraConfig()
    slack: SlackConfig = SlackConfig()
    teams: list[TeamConfig] = []
    classification: ClassificationConfig = Field(default_factory=ClassificationConfig)
    effort: EffortConfig = EffortConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    people: PeopleConfig = PeopleConfig()
    report: ReportConfig = ReportConfig()
    verdict: VerdictConfig = VerdictConfig()
    declared_experiments: DeclaredExperimentsConfig = DeclaredExperimentsConfig()

    _path: Path | None = PrivateAttr(default=None)

    @field_validator("teams")
    @classmethod
    def _unique_team_names(cls, teams: list[TeamConfig]) -> list[TeamConfig]:
        reject_duplicates([t.name for t in teams], "team name")
        return teams

    @model_validator(mode="after")
    def _merge_slack_bots(self) -> Config:
        """[people] bots is the one list every source reads; names still given in the older
        [slack] bots join it (parse_config warns about that)."""
        more = [b for b in self.slack.bots if b not in self.people.bots]
        if more:
            self.people = self.people.model_copy(update={"bots": [*self.people.bots, *more]})
        return self

    @property
    def path(self) -> Path | None:
        """The file this config was loaded from (None when built in code)."""
        return self._path

    def enabled_sources(self) -> list[str]:
        return [name for name in SOURCES if getattr(self, name).enabled]

    def required_secrets(self, sources: Iterable[str]) -> list[tuple[str, SecretRef]]:
        """(dotted key, ref) of every secret the given enabled sources need."""
        wanted = set(sources)
        needed: list[tuple[str, SecretRef]] = []
        if "github" in wanted and self.github.enabled:
            if self.github.auth == "token":
                needed.append(("github.token", self.github.token))
            elif self.github.private_key is not None:
                needed.append(("github.private_key", self.github.private_key))
        if "jira" in wanted and self.jira.enabled:
            if self.jira.auth == "basic":
                needed.append(("jira.email", self.jira.email))
            needed.append(("jira.token", self.jira.token))
        if "slack" in wanted and self.slack.enabled:
            needed.append(("slack.token", self.slack.token))
        if "privacy" in wanted and self.privacy.pseudonymize:
            needed.append(("privacy.pseudonym_salt", self.privacy.pseudonym_salt))
        return needed

    def validate_secrets(self, sources: Iterable[str]) -> None:
        """UserError naming every key whose environment variable is unset, or a GitHub App key
        that cannot be used (unreadable file, not a PEM private key)."""
        sources = list(sources)
        missing = [(key, ref) for key, ref in self.required_secrets(sources) if not ref.is_set()]
        if not missing:
            if "github" in sources and self.github.enabled and self.github.auth == "app":
                read_private_key(self.github)  # read and checked here, then dropped
            return
        listed = ", ".join(f"{key} needs ${ref.var}" for key, ref in missing)
        raise UserError(
            f"Missing environment variables for enabled sources: {listed}. "
            f"Set them before running (e.g. `export {missing[0][1].var}=...`) "
            f"or set enabled = false for that source in {self._path or 'the config'}."
        )

    def resolve_paths(self, base_dir: Path) -> None:
        """Make relative paths absolute against `base_dir` (the config file's folder)."""
        def absolute(p: Path) -> Path:
            p = p.expanduser()
            return p if p.is_absolute() else (base_dir / p).resolve()

        self.storage.raw_path = absolute(self.storage.raw_path)
        self.storage.analytics_path = absolute(self.storage.analytics_path)
        self.report.out = absolute(self.report.out)
        if self.people.csv is not None:
            self.people.csv = absolute(self.people.csv)
        if self.github.private_key_file is not None:
            self.github.private_key_file = absolute(self.github.private_key_file)


def config_path(cli_value: str | Path | None, env: dict[str, str] | None = None) -> Path:
    """Which file to load: --config, else $PROCESSHEALTH_CONFIG, else ./processhealth.toml."""
    env = os.environ if env is None else env
    return Path(cli_value or env.get(CONFIG_ENV_VAR) or DEFAULT_CONFIG_NAME)


def load_config(path: str | Path) -> Config:
    """Read, parse and validate one TOML file; UserError (one paragraph) on any problem."""
    path = Path(path)
    if not path.exists():
        raise UserError(
            f"Config file {path} does not exist. Create one with `processhealth init` "
            f"(writes {DEFAULT_CONFIG_NAME}), or point to it with --config PATH or "
            f"the {CONFIG_ENV_VAR} environment variable."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"Config file {path} cannot be read: {exc}.") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"Config file {path} is not valid TOML: {exc}.") from None
    except RecursionError:
        raise UserError(f"Config file {path} nests arrays or tables deeper than a config can "
                        f"(Python's TOML reader gave up); check the file.") from None
    cfg = parse_config(data, origin=str(path), base_dir=path.resolve().parent)
    cfg._path = path.resolve()
    return cfg


def parse_config(data: dict[str, Any], *, origin: str, base_dir: Path) -> Config:
    """Validate an already-parsed mapping (e.g. built by `demo`); `origin` names it in errors."""
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        raise UserError(describe_errors(exc, origin)) from None
    cfg.resolve_paths(base_dir)
    if cfg.slack.bots:
        ui.warn(f"{origin}: [slack] bots is deprecated; move its names to [people] bots, which "
                f"GitHub, Jira and Slack all read (until then the two lists are merged).")
    return cfg


def example_config_text() -> str:
    """The commented example config (installed inside the package, or at the repo root)."""
    packaged = resources.files("processhealth") / "config.example.toml"
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parent.parent / "config.example.toml").read_text("utf-8")


# --- turning pydantic errors into one paragraph ----------------------------------------------

def describe_errors(exc: ValidationError, origin: str) -> str:
    errors = exc.errors(include_url=False)
    parts = [_describe_one(err) for err in errors[:5]]
    more = f" (and {len(errors) - 5} more problems)" if len(errors) > 5 else ""
    return f"Invalid configuration in {origin}: " + "; ".join(parts) + more + "."


def _describe_one(err: dict[str, Any]) -> str:
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        section = _dotted(loc[:-1])
        where = f"[{section}]" if section else "the top level"
        expected = ", ".join(_field_names(loc[:-1])) or "(no keys)"
        return f"unknown key '{loc[-1]}' in {where}; expected one of: {expected}"
    key = _dotted(loc) or "the top level"
    if kind == "literal_secret":
        var = key.upper().replace(".", "_").replace("[", "_").replace("]", "")
        return (f"{key}: a literal secret is not accepted; put it in an environment variable "
                f"and write {key.split('.')[-1]} = \"${{{var}}}\"")
    if kind == "missing":
        return f"{key}: a value is required but none was given"
    message = err["msg"].removeprefix("Value error, ")
    message = message.replace("Input should be", "expected", 1)
    if kind.startswith("value_error") or "found" in message:
        return f"{key}: {message}"
    return f"{key}: {message}; found {_short(err.get('input'))}"


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _field_names(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found by walking `loc` down from Config."""
    model: Any = Config
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        model = _model_in(field.annotation) if field else None
    return list(model.model_fields) if model else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (list, dict, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found:
                return found
    return None
