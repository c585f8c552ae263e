"""GitHub App sign-in: real PyGithub AppInstallationAuth over HTTP against the GitHub emulator.

The App's RSA key is generated at test time (never committed); the emulator holds its public key,
as GitHub does, and checks every JWT with it before issuing an installation token.
"""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from github import Auth
from test_github_support import TOKEN, TOKEN_VAR, github_config, raw_rows, reset, tiny_org

from collectors import github
from processhealth.config import example_config_text, parse_config
from processhealth.errors import SourceError, UserError
from processhealth.github_app_key import read_private_key
from processhealth.store import RawStore
from simulation.github_app import InstalledApp
from simulation.github_emulator import GitHubEmulator
from simulation.server import serve

APP_ID, INSTALLATION = 4711, 99
KEY_VAR = "PH_TEST_GITHUB_APP_KEY"


def pem(key, public: bool = False) -> str:
    if public:
        return key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def gh(key):
    """The tiny organization with the App installed (and the personal token still accepted)."""
    app = GitHubEmulator(tiny_org(), token=TOKEN)
    app.install_app(InstalledApp(APP_ID, pem(key, public=True), INSTALLATION))
    with serve(app) as s:
        yield s


@pytest.fixture(autouse=True)
def _env(gh, key, monkeypatch):
    reset(gh.app)
    monkeypatch.setenv(TOKEN_VAR, TOKEN)
    monkeypatch.setenv(KEY_VAR, pem(key))


def app_config(url: str, **overrides):
    values = {"auth": "app", "app_id": APP_ID, "installation_id": INSTALLATION,
              "private_key": f"${{{KEY_VAR}}}", **overrides}
    return github_config(url, **values)


def collect(path: Path, config) -> dict:
    with RawStore(path) as store:
        github.collect(config, store)
    return raw_rows(path)


@pytest.fixture(scope="module")
def with_token(gh, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(TOKEN_VAR, TOKEN)
        return collect(tmp_path_factory.mktemp("token") / "raw.duckdb", github_config(gh.url))


def test_an_app_collects_the_same_rows_as_a_token(gh, with_token, tmp_path):
    rows = collect(tmp_path / "raw.duckdb", app_config(gh.url))
    assert rows == with_token and len(rows["raw_github_issues"]) > 10
    log = gh.app.stats.log
    assert log[0] == f"POST /app/installations/{INSTALLATION}/access_tokens"
    assert sum("access_tokens" in line for line in log) == 1  # one token for the whole run
    assert len(gh.app.app_tokens) == 1


@pytest.mark.extended  # in CI after the suite (4 s): the suite collects with an app once
def test_short_lived_installation_tokens_are_renewed_during_a_collection(key, tmp_path):
    """Tokens of 20.5 s: PyGithub renews one when less than 20 s are left, so a collection of
    two seconds goes through several tokens; each request must carry an unexpired one (the
    emulator answers 401 to an expired token, tested below)."""
    app = GitHubEmulator(tiny_org(), token=TOKEN)
    app.install_app(InstalledApp(APP_ID, pem(key, public=True), INSTALLATION,
                                 token_seconds=20.5))
    app.faults.delay = 0.04  # one repository, ~40 requests: at least 1.6 s
    with serve(app) as s:
        started = time.monotonic()
        rows = collect(tmp_path / "raw.duckdb",
                       app_config(s.url, org=None, repos=["acme/atlas-app"]))
        took = time.monotonic() - started
    exchanges = sum("access_tokens" in line for line in app.stats.log)
    assert rows["raw_github_issues"] and exchanges == len(app.app_tokens)
    assert took > 1.5 and exchanges >= 2
    # renewed when due (each token is good for 0.5 to 1.5 s more), not before every request
    assert exchanges <= 2 * took + 2 and exchanges < app.stats.total / 4


def test_an_expired_installation_token_is_refused(key):
    app = GitHubEmulator(tiny_org(), token=TOKEN)
    app.install_app(InstalledApp(APP_ID, pem(key, public=True), INSTALLATION, token_seconds=1))
    with serve(app) as s:
        jwt = Auth.AppAuth(APP_ID, pem(key)).create_jwt()
        issued = requests.post(f"{s.url}/app/installations/{INSTALLATION}/access_tokens",
                               headers={"Authorization": f"Bearer {jwt}"}, timeout=5)
        assert issued.status_code == 201 and issued.json()["token"].startswith("ghs_")
        auth = {"Authorization": f"token {issued.json()['token']}"}
        assert requests.get(f"{s.url}/rate_limit", headers=auth, timeout=5).status_code == 200
        time.sleep(max(0.0, app.app_tokens[issued.json()["token"]] - time.time()) + 0.05)
        late = requests.get(f"{s.url}/rate_limit", headers=auth, timeout=5)
        assert late.status_code == 401 and late.json()["message"] == "Bad credentials"
        other = Auth.AppAuth(APP_ID + 1, pem(key)).create_jwt()
        refused = requests.post(f"{s.url}/app/installations/{INSTALLATION}/access_tokens",
                                headers={"Authorization": f"Bearer {other}"}, timeout=5)
        assert refused.status_code == 401


def test_an_app_works_against_a_github_enterprise_base_url(key, with_token, tmp_path):
    app = GitHubEmulator(tiny_org(), token=TOKEN, prefix="/api/v3")
    app.install_app(InstalledApp(APP_ID, pem(key, public=True), INSTALLATION))
    with serve(app) as s:
        rows = collect(tmp_path / "raw.duckdb", app_config(s.url + "/api/v3"))
    assert app.stats.log[0] == f"POST /api/v3/app/installations/{INSTALLATION}/access_tokens"
    assert all(" /api/v3/" in line for line in app.stats.log)
    assert {t: len(r) for t, r in rows.items()} == {t: len(r) for t, r in with_token.items()}


@pytest.mark.parametrize("change, says", [
    ({"app_id": APP_ID + 1}, "refused the GitHub App sign-in (401"),
    ({"private_key": "${PH_TEST_OTHER_KEY}"}, "refused the GitHub App sign-in (401"),
    ({"installation_id": INSTALLATION + 1}, "knows no installation 100"),
])
def test_a_refused_sign_in_is_one_paragraph_naming_the_host(gh, tmp_path, monkeypatch,
                                                            change, says):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    monkeypatch.setenv("PH_TEST_OTHER_KEY", pem(other))
    path = tmp_path / "raw.duckdb"
    with pytest.raises(SourceError) as caught:
        collect(path, app_config(gh.url, **change))
    message = str(caught.value)
    assert says in message and gh.url.split("//")[1] in message and "\n" not in message
    assert caught.value.exit_code == 2
    assert raw_rows(path) == {"sync_state": []}
    assert [line.split()[0] for line in gh.app.stats.log] == ["POST"]  # nothing else asked


def test_doctor_online_names_the_identity(gh):
    assert github.check(github_config(gh.url)).startswith(
        "reads as token of processhealth-reader, accepted by 127.0.0.1")
    said = github.check(app_config(gh.url))
    assert said.startswith(f"reads as GitHub App processhealth-reader (id {APP_ID}), "
                           f"installation {INSTALLATION}, accepted by 127.0.0.1")


def app_toml(url: str, key_line: str) -> str:
    return f"""[github]
enabled = true
base_url = "{url}"
org = "acme"
seconds_between_requests = 0
auth = "app"
app_id = {APP_ID}
installation_id = {INSTALLATION}
{key_line}
"""


def test_cli_collects_and_doctor_reports_with_a_key_file_next_to_the_config(
        gh, key, write_config, run_cli, tmp_path):
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "app.pem").write_text(pem(key))
    path = write_config(app_toml(gh.url, 'private_key_file = "keys/app.pem"'))
    result = run_cli(path, "collect", "--source", "github")
    assert result.exit_code == 0, result.output
    doctor = run_cli(path, "doctor", "--online")
    # the table wraps its detail column: read the cells back as one text
    cells = " ".join(line.split("│")[3].strip() for line in doctor.output.splitlines()
                     if line.count("│") == 4)
    assert f"GitHub App processhealth-reader (id {APP_ID}), installation {INSTALLATION}" in cells
    assert "BEGIN RSA PRIVATE KEY" not in result.output + doctor.output


@pytest.mark.parametrize("key_line, says", [
    ("", "missing: private_key"),
    ('private_key = "-----BEGIN RSA PRIVATE KEY-----"', "a literal secret is not accepted"),
    ('private_key_file = "missing.pem"', "cannot be read"),
    ('private_key_file = "public.pem"', "is a certificate or public key"),
    ('private_key_file = "ec.pem"', "not an RSA key"),
    ('private_key_file = "garbage.pem"', "is not a PEM private key"),
    ('private_key = "${PH_TEST_UNSET_KEY}"', "PH_TEST_UNSET_KEY"),
    ('private_key = "${PH_TEST_GITHUB_APP_KEY}"\nprivate_key_file = "k.pem"', "found both"),
])
def test_config_errors_exit_1_with_one_paragraph(gh, key, write_config, run_cli, tmp_path,
                                                 key_line, says):
    (tmp_path / "public.pem").write_text(pem(key, public=True))
    (tmp_path / "garbage.pem").write_text("not a key at all\n")
    (tmp_path / "ec.pem").write_text(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode())
    result = run_cli(write_config(app_toml(gh.url, key_line)), "collect", "--source", "github",
                     env={KEY_VAR: pem(key)})
    assert result.exit_code == 1, result.output
    assert says in result.output
    assert "\n\n" not in result.output.strip() and "MII" not in result.output
    assert gh.app.stats.total == 0  # refused before any request


def test_missing_ids_are_named(write_config, run_cli):
    result = run_cli(write_config(app_toml("http://127.0.0.1:1", 'private_key_file = "k.pem"')
                                  .replace(f"app_id = {APP_ID}\n", "")), "doctor")
    assert "missing: app_id" in result.output and result.exit_code == 1


def test_a_key_with_escaped_newlines_is_accepted(key, monkeypatch):
    """CI secret stores often keep a PEM on one line with literal \\n."""
    monkeypatch.setenv(KEY_VAR, pem(key).replace("\n", "\\n"))
    assert read_private_key(app_config("http://127.0.0.1:1")) == pem(key)
    monkeypatch.setenv(KEY_VAR, "\\n".join(["x", "y"]))
    with pytest.raises(UserError, match="not a PEM private key"):
        read_private_key(app_config("http://127.0.0.1:1"))


def test_the_example_configs_app_keys_parse_when_uncommented(tmp_path):
    """config.example.toml documents the App keys commented out; uncommented they are valid."""
    text = example_config_text()
    for name in ("app_id", "installation_id", "private_key"):
        assert f"\n# {name} = " in text, name
        text = text.replace(f"\n# {name} = ", f"\n{name} = ")
    text = text.replace('auth = "token"', 'auth = "app"').replace(
        "[github]\nenabled = false", '[github]\nenabled = true\norg = "acme"')
    config = parse_config(tomllib.loads(text), origin="example", base_dir=tmp_path)
    assert config.github.auth == "app" and config.github.app_id and config.github.installation_id
    assert config.github.private_key is not None and config.github.private_key_file is None
    assert [k for k, _ in config.required_secrets(["github"])] == ["github.private_key"]


def test_a_list_the_app_cannot_see_names_the_app_not_a_token(gh, tmp_path):
    with pytest.raises(SourceError) as caught:
        collect(tmp_path / "raw.duckdb", app_config(gh.url, org="nobody"))
    message = str(caught.value)
    assert "answered 404" in message and "nobody" in message
    assert f"the GitHub App {APP_ID} (installation {INSTALLATION}) cannot see it" in message
    assert TOKEN_VAR not in message
