"""Silent short collections: a list page that comes back empty or without its list where the API
promised more (GitHub's Link header, Jira's nextPageToken, Slack's has_more) is asked for again;
if it stays short the run stops with exit code 2, and no checkpoint moves past the rows it
lacks: the next run has everything, once. A pagination chain that loops stops the run too.
Through the real clients against the emulators (their `mangle` fault rewrites the bodies)."""

from __future__ import annotations

import pytest

from .support import SECRETS_ENV, differences, digest, invoke, write_config

# Which body to cut short: (endpoint, body) -> bool, and what the short body is.
SHORT = {
    "github": (lambda endpoint, body: endpoint == "issues" and isinstance(body, list)
               and len(body) > 0, lambda body: []),
    "jira": (lambda endpoint, body: endpoint == "search_jql" and bool(body.get("issues")),
             lambda body: {}),
    "slack": (lambda endpoint, body: bool(body.get("messages")) and "has_more" in body,
              lambda body: {"ok": True}),
}


def shortening(source: str, strikes: int, skip: int = 1):
    """A mangle cutting `strikes` matching bodies short, after letting `skip` through."""
    match, short = SHORT[source]
    seen = {"n": 0}

    def mangle(endpoint, body):
        if not match(endpoint, body):
            return body
        seen["n"] += 1
        return short(body) if skip < seen["n"] <= skip + strikes else body
    return mangle


def _collect(tmp_path, apis, source):
    """`collect --source <source>` with GitHub pages of 5 against the emulators."""
    config = write_config(tmp_path, apis.urls, github="per_page = 5")
    return invoke(config, "collect", "--source", source, environ=SECRETS_ENV)


@pytest.mark.parametrize("source", ["github", "jira", "slack"])
def test_a_short_page_is_asked_for_again_and_nothing_is_missing(source, fresh_apis, tmp_path,
                                                                clean_collections):
    fresh_apis.apps[source].faults.mangle = shortening(source, strikes=1)
    result = _collect(tmp_path, fresh_apis, source)
    assert result.exit_code == 0, result.output
    assert "asking again" in result.output
    want, _ = clean_collections[source]
    assert differences(digest(tmp_path / "raw.duckdb"), want) == []


@pytest.mark.parametrize("source", ["github", "jira", "slack"])
def test_a_page_that_stays_short_stops_the_run_and_the_next_run_has_everything(
        source, fresh_apis, tmp_path, clean_collections):
    fresh_apis.apps[source].faults.mangle = shortening(source, strikes=100)
    result = _collect(tmp_path, fresh_apis, source)
    assert result.exit_code == 2, result.output
    last = [line for line in result.output.splitlines() if line.strip()][-1]
    assert last.startswith("error: ") and "run `processhealth collect` again" in last, last
    fresh_apis.apps[source].faults.mangle = None
    again = _collect(tmp_path, fresh_apis, source)
    assert again.exit_code == 0, again.output
    want, _ = clean_collections[source]
    assert differences(digest(tmp_path / "raw.duckdb"), want) == []


def test_a_jira_pagination_loop_stops_the_run(fresh_apis, tmp_path):
    """Cloud hands back its first nextPageToken again on the second page."""
    first: dict[str, str] = {}

    def loop(endpoint, body):
        if endpoint == "search_jql" and body.get("nextPageToken"):
            first.setdefault("token", body["nextPageToken"])
            body["nextPageToken"] = first["token"]
        return body
    fresh_apis.apps["jira"].faults.mangle = loop
    result = _collect(tmp_path, fresh_apis, "jira")
    assert result.exit_code == 2, result.output
    assert "loops" in result.output


def test_a_slack_cursor_sent_twice_stops_the_run(fresh_apis, tmp_path):
    """conversations.history keeps handing out the same cursor: the chain loops."""
    from simulation.slack_emulator import encode_cursor

    def loop(endpoint, body):
        messages = body.get("messages") or []
        if "has_more" in body and any(m.get("thread_ts") is None for m in messages):
            body["has_more"] = True
            body["response_metadata"] = {"next_cursor": encode_cursor("next_ts",
                                                                      "9999999999.000000")}
        return body
    fresh_apis.apps["slack"].faults.mangle = loop
    result = _collect(tmp_path, fresh_apis, "slack")
    assert result.exit_code == 2, result.output
    assert "loops" in result.output


def test_a_github_link_back_to_a_page_already_read_stops_the_run(fresh_apis, tmp_path):
    """Every issues page's next link leads to page 2: the second time round, the list loops."""
    import re

    def loop(endpoint, headers):
        link = headers.get("link") or ""
        if endpoint == "issues" and 'rel="next"' in link:
            headers["link"] = re.sub(r'([?&]page=)\d+(>; rel="next")', r"\g<1>2\g<2>", link)
    fresh_apis.apps["github"].faults.headers = loop
    result = _collect(tmp_path, fresh_apis, "github")
    assert result.exit_code == 2, result.output
    assert "loops" in result.output
