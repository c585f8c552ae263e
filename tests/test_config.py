from pathlib import Path

import pytest

from processhealth.config import Config, example_config_text, load_config, parse_config
from processhealth.config_models import SecretRef
from processhealth.errors import UserError

REPO = Path(__file__).resolve().parent.parent


def test_unknown_key_names_section_and_expected_keys(write_config, run_cli):
    path = write_config('[github]\ntokn = "${GITHUB_TOKEN}"\n')
    result = run_cli(path, "collect")
    assert result.exit_code == 1
    assert "unknown key 'tokn' in [github]" in result.output
    assert "expected one of: enabled, base_url, token" in result.output
    assert "Traceback" not in result.output


def test_wrong_type_names_key_expected_and_found(write_config, run_cli):
    result = run_cli(write_config("[github]\nper_page = \"lots\"\n"), "build")
    assert result.exit_code == 1
    assert "github.per_page" in result.output
    assert "valid integer" in result.output and "'lots'" in result.output


def test_invalid_regex_names_the_rule(write_config, run_cli):
    text = """
[[classification.rules]]
name = "a"
category = "customer"
[[classification.rules]]
name = "b"
category = "process"
match = { title_regex = "status (report" }
"""
    result = run_cli(write_config(text), "build")
    assert result.exit_code == 1
    assert "classification.rules[1].match.title_regex" in result.output
    assert "regular expression" in result.output


def test_missing_env_var_for_enabled_source_names_key_and_variable(write_config, run_cli):
    path = write_config('[github]\nenabled = true\norg = "acme"\n')
    result = run_cli(path, "collect")
    assert result.exit_code == 1
    assert "github.token" in result.output and "GITHUB_TOKEN" in result.output


def test_literal_token_is_rejected_without_echoing_it(write_config, run_cli):
    result = run_cli(write_config('[slack]\ntoken = "xoxb-1234-secret"\n'), "build")
    assert result.exit_code == 1
    assert "slack.token" in result.output and "environment variable" in result.output
    assert '"${SLACK_TOKEN}"' in result.output
    assert "xoxb-1234-secret" not in result.output


def test_invalid_toml_reports_the_line(write_config):
    path = write_config("[github]\nenabled = tru\n")
    with pytest.raises(UserError, match=r"not valid TOML.*line 2"):
        load_config(path)


def test_missing_file_suggests_init(tmp_path):
    with pytest.raises(UserError, match="processhealth init"):
        load_config(tmp_path / "nope.toml")


def test_duplicate_team_names_rejected(write_config):
    path = write_config('[[teams]]\nname = "a"\n[[teams]]\nname = "a"\n')
    with pytest.raises(UserError, match="teams: expected each team name once"):
        load_config(path)


def test_enabled_source_needs_its_location(write_config):
    with pytest.raises(UserError, match="jira: expected base_url"):
        load_config(write_config("[jira]\nenabled = true\n"))


def test_example_config_loads_and_matches_defaults():
    cfg = load_config(REPO / "config.example.toml")
    defaults = Config()
    for section in ("github", "jira", "slack", "classification", "effort", "privacy", "people",
                    "verdict", "declared_experiments"):
        assert getattr(cfg, section) == getattr(defaults, section), section
    assert example_config_text() == (REPO / "config.example.toml").read_text()


def test_partial_dict_sections_merge_over_defaults(write_config):
    cfg = load_config(write_config("[effort.caps]\ncommit = 90\n"))
    assert cfg.effort.caps["commit"] == 90 and cfg.effort.caps["pr_review"] == 60


def test_secret_resolved_only_on_use_and_never_shown(write_config, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_value_123")
    cfg = load_config(write_config('[github]\nenabled = true\norg = "acme"\n'))
    assert "ghp_value_123" not in repr(cfg) + str(cfg) + cfg.model_dump_json()
    assert cfg.github.token.resolve(key="github.token") == "ghp_value_123"
    cfg.validate_secrets(["github"])
    monkeypatch.delenv("GITHUB_TOKEN")
    with pytest.raises(UserError, match=r"github\.token.*GITHUB_TOKEN"):
        cfg.github.token.resolve(key="github.token")


def test_jira_pat_auth_needs_no_email(write_config, monkeypatch, no_secrets):
    text = '[jira]\nenabled = true\nbase_url = "https://j"\nauth = "pat"\n'
    cfg = load_config(write_config(text))
    assert [key for key, _ in cfg.required_secrets(["jira"])] == ["jira.token"]
    monkeypatch.setenv("JIRA_TOKEN", "t")
    cfg.validate_secrets(["jira"])


def test_relative_paths_resolve_against_config_folder(tmp_path):
    cfg = parse_config({"storage": {"raw_path": "data/raw.duckdb"}}, origin="x",
                       base_dir=tmp_path)
    assert cfg.storage.raw_path == tmp_path / "data" / "raw.duckdb"
    assert cfg.storage.analytics_path == tmp_path / "processhealth.duckdb"


def test_secret_ref_syntax():
    assert SecretRef._validate("${A_B1}") == SecretRef("A_B1")
    for bad in ("$A", "${1A}", "token", "${A}x"):
        with pytest.raises(ValueError):
            SecretRef._validate(bad)


def test_people_bots_are_read_without_warning(write_config, capsys):
    cfg = load_config(write_config('[people]\nbots = ["deploybot", "Jira Automation"]\n'))
    assert cfg.people.bots == ["deploybot", "Jira Automation"] and cfg.slack.bots == []
    assert "deprecated" not in capsys.readouterr().err


def test_slack_bots_still_work_merged_into_people_bots_with_one_warning(write_config, capsys):
    path = write_config('[slack]\nbots = ["deploybot", "B0REMIND01"]\n'
                        '[people]\nbots = ["renovate", "deploybot"]\n')
    cfg = load_config(path)
    assert cfg.people.bots == ["renovate", "deploybot", "B0REMIND01"]
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and err.count("deprecated") == 1, err
    assert "[slack] bots" in err and "move its names to [people] bots" in err
    assert str(path) in err
    assert Config().people.bots == []  # the default section was not changed in place
