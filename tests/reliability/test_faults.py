"""Faults during collection, per source: a run either completes or stops with exit code 2 and a
one-paragraph message (no traceback); after the fault clears, the next run has the full data set
and no duplicates (every raw table and checkpoint equals an uninterrupted collection's).

Each fault strikes once, half-way through the source's requests, through the real client library
and `processhealth collect --source S`. Rate limits, 5xx bursts and cut-off bodies are proven by
the per-source suites (see README.md in this folder); this adds timeouts, connections reset
mid-body, answers that are not JSON at all, and 5xx outages that outlast the retries.
"""

from __future__ import annotations

import pytest

from collectors import github_client, jira_client, slack_client

from .support import SECRETS_ENV, differences, digest, invoke, write_config

STALL = 1.5  # seconds a stalled answer takes: longer than every client's timeout below


def stall(f):
    f.stall_next, f.stall_seconds = 1, STALL


def reset(f):
    f.reset_next = 1


def not_json(f):
    f.garble_next = 1


def outage(f):
    f.error_burst = 100  # 502s that outlast every retry


def long_rate_limit(f):
    f.rate_limit_after, f.rate_limit_reset = f.after, 60.0  # resets after max_rate_limit_wait


SETTINGS = {long_rate_limit: {"github": "max_rate_limit_wait = 2",
                              "jira": "max_rate_limit_wait = 2"}}


# (source, fault, what the run does). "completes": the client retries and the first run has it
# all; "stops": exit code 2 and one paragraph, and the next run completes the data set.
CASES = [
    ("github", stall, "completes"),  # urllib3 read retries
    ("github", reset, "completes"),  # asked again; PyGithub's list keeps its place
    ("github", not_json, "stops"),  # a proxy's HTML page is never saved as data
    ("github", outage, "stops"),  # after [github] retries
    ("github", long_rate_limit, "stops"),  # a reset later than [github] max_rate_limit_wait
    ("jira", stall, "completes"),  # the jira library retries a connection error after a wait
    ("jira", reset, "stops"),
    ("jira", not_json, "stops"),
    ("jira", outage, "stops"),  # after the gateway retries
    ("jira", long_rate_limit, "stops"),  # a Retry-After longer than [jira] max_rate_limit_wait
    ("slack", stall, "completes"),  # slack-sdk retry handlers
    ("slack", reset, "completes"),
    ("slack", not_json, "stops"),
]


@pytest.fixture
def short_timeouts(monkeypatch):
    """Client timeouts and retry waits in tenths of seconds (the defaults are tens)."""
    monkeypatch.setattr(github_client, "TIMEOUT", 1)  # PyGithub wants whole seconds
    monkeypatch.setattr(jira_client, "TIMEOUT", 0.5)
    monkeypatch.setattr(jira_client, "MAX_RETRY_DELAY", 0.2)
    monkeypatch.setattr(jira_client, "GATEWAY_RETRY",
                        jira_client.GATEWAY_RETRY.new(backoff_factor=0))
    monkeypatch.setattr(slack_client, "TIMEOUT", 0.5)


def one_paragraph_error(output: str) -> str:
    """The error message, checked to be a single paragraph after everything else."""
    assert "Traceback" not in output
    start = output.index("error: ")
    message = output[start:].strip()
    assert "\n" not in message, message
    return message


@pytest.mark.parametrize(("source", "fault", "outcome"), CASES,
                         ids=[f"{s}-{f.__name__}" for s, f, _ in CASES])
def test_fault_mid_collection_then_a_rerun_has_everything_once(
        source, fault, outcome, apis, clean_collections, short_timeouts, tmp_path):
    want, requests = clean_collections[source]
    config = write_config(tmp_path, apis.urls, **SETTINGS.get(fault, {}))
    apis.reset()
    app = apis.apps[source]
    app.faults.after = requests // 2
    fault(app.faults)
    first = invoke(config, "collect", "--source", source, environ=SECRETS_ENV)
    assert first.exception is None or isinstance(first.exception, SystemExit), first.output
    assert first.exit_code in (0, 2), first.output
    assert ("completes" if first.exit_code == 0 else "stops") == outcome, first.output
    if first.exit_code:
        message = one_paragraph_error(first.output)
        assert app.base_url.split("//")[1] in message  # names the host
        assert "collect" in message  # and says to run it again
        apis.reset()
        second = invoke(config, "collect", "--source", source, environ=SECRETS_ENV)
        assert second.exit_code == 0, second.output
    assert differences(digest(tmp_path / "raw.duckdb"), want) == []


def test_every_fault_mode_strikes_once_and_only_after_its_start(apis):
    """The emulator side of the catalogue: `after` delays a fault, each *_next fires once."""
    import requests

    apis.reset()
    app = apis.apps["slack"]
    app.faults.after, app.faults.garble_next = 2, 1
    url = apis.urls["slack"] + "/api/auth.test"
    headers = {"Authorization": f"Bearer {SECRETS_ENV['SLACK_TOKEN']}"}
    bodies = [requests.post(url, headers=headers, timeout=5).text for _ in range(4)]
    assert [b.startswith("<!DOCTYPE html>") for b in bodies] == [False, False, True, False]
    app.faults.reset_next = 1
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.post(url, headers=headers, timeout=5).json()
    app.faults.stall_next, app.faults.stall_seconds = 1, 0.6
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(url, headers=headers, timeout=0.2)
    assert requests.post(url, headers=headers, timeout=5).json()["ok"] is True
    apis.reset()
