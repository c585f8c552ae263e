"""The Slack emulator speaks the Web API as slack-sdk sees it: paging, errors, rate limits."""

from __future__ import annotations

import json

import pytest
from realdata import needs
from shared_cache import shared_org
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from test_slack_rows import PERCEVAL, TOKEN

from simulation import OrgSpec
from simulation.server import serve
from simulation.slack_api import ts_key
from simulation.slack_emulator import DEFAULT_SCOPES, SlackEmulator


@pytest.fixture(scope="module")
def org():
    return shared_org(7, OrgSpec.small(months=1))


@pytest.fixture(scope="module")
def served(org):
    with serve(SlackEmulator(org, TOKEN)) as s:
        yield s


def client(url: str, token: str = TOKEN) -> WebClient:
    return WebClient(token=token, base_url=url + "/api/", retry_handlers=[])


def channel(org, name):
    return next(c for c in org.slack.channels if c.name == name)


def test_history_pages_newest_first_within_oldest_and_latest(org, served):
    ch = channel(org, "support-atlas")
    everything = [m for page in client(served.url).conversations_history(channel=ch.id, limit=40)
                  for m in page["messages"]]
    assert [m["ts"] for m in everything] == sorted((m.ts for m in ch.messages), key=ts_key,
                                                   reverse=True)
    oldest, latest = everything[-10]["ts"], everything[9]["ts"]
    window = client(served.url).conversations_history(channel=ch.id, oldest=oldest,
                                                      latest=latest, limit=999)
    assert len(window["messages"]) == len(everything) - 20 and not window["has_more"]
    inclusive = client(served.url).conversations_history(channel=ch.id, oldest=oldest,
                                                         latest=latest, inclusive=True,
                                                         limit=999)
    assert len(inclusive["messages"]) == len(everything) - 18
    parent = next(m for m in everything if m.get("reply_count"))
    assert parent["thread_ts"] == parent["ts"] and parent["latest_reply"] and parent["reply_users"]
    assert all(m.get("thread_ts") in (None, m["ts"]) for m in everything)  # no replies in history


def test_replies_parent_first_then_replies_in_order(org, served):
    ch = channel(org, "support-atlas")
    m = max(ch.messages, key=lambda m: len(m.replies))
    # slack-sdk's iteration hands out one response object, refilled page by page
    pages = [p.data for p in client(served.url).conversations_replies(channel=ch.id, ts=m.ts,
                                                                       limit=7)]
    got = [x["ts"] for page in pages for x in page["messages"]]
    assert got == [m.ts] + sorted((r.ts for r in m.replies), key=ts_key)
    assert len(pages) == -(-(len(m.replies) + 1) // 7)
    newer = client(served.url).conversations_replies(channel=ch.id, ts=m.ts, oldest=got[-2])
    assert [x["ts"] for x in newer["messages"]] == [m.ts, got[-1]]


def test_users_and_channels_page_with_cursors(org, served):
    users = [u for page in client(served.url).users_list(limit=7) for u in page["members"]]
    assert len(users) == sum(1 for p in org.people if p.slack_id) + 1  # + Slackbot
    assert {"USLACKBOT", "U0BOTREM01"} <= {u["id"] for u in users}
    left = [u for u in users if u["deleted"]]
    assert {u["id"] for u in left} == {p.slack_id for p in org.people
                                      if p.left_on and p.left_on <= org.end and p.slack_id}
    public = [c for page in client(served.url).conversations_list(limit=4)
              for c in page["channels"]]
    assert all(not c["is_private"] for c in public) and len(public) == 12
    every = client(served.url).conversations_list(types="public_channel,private_channel,im")
    assert {c["id"] for c in every["channels"]} == {c.id for c in org.slack.channels}
    groups = client(served.url).usergroups_list(include_users=True)["usergroups"]
    assert len(groups) == 3 and all(g["users"] for g in groups)


def test_errors_are_slacks(org):
    private = channel(org, "leadership")
    app = SlackEmulator(org, TOKEN, member_of={channel(org, "general").id},
                        scopes=DEFAULT_SCOPES - {"groups:read", "users:read"})
    with serve(app) as s:
        def error(call, **kw):
            with pytest.raises(SlackApiError) as info:
                call(**kw)
            return info.value.response.data

        assert error(client(s.url, "").auth_test)["error"] == "not_authed"
        assert error(client(s.url, "xoxb-wrong").auth_test)["error"] == "invalid_auth"
        missing = error(client(s.url).conversations_history, channel="C9999NONE")
        assert missing["ok"] is False and missing["error"] == "channel_not_found"
        assert error(client(s.url).conversations_history,
                     channel=private.id)["error"] == "channel_not_found"
        assert error(client(s.url).conversations_history,
                     channel=channel(org, "random").id)["error"] == "not_in_channel"
        scope = error(client(s.url).conversations_list, types="private_channel")
        assert scope["error"] == "missing_scope" and scope["needed"] == "groups:read"
        assert "channels:read" in scope["provided"]
        assert error(client(s.url).bots_info, bot="B0REMIND01")["needed"] == "users:read"
        assert error(client(s.url).api_call, api_method="chat.unknown")["error"] == "unknown_method"


@needs(PERCEVAL)
def test_an_unknown_channel_answers_the_body_slack_sent(served):
    with pytest.raises(SlackApiError) as info:
        client(served.url).conversations_history(channel="C9999NONE")
    assert info.value.response.data == json.loads((PERCEVAL / "slack_error.json").read_text())


def test_rate_limit_answers_429_with_integer_retry_after(org):
    app = SlackEmulator(org, TOKEN)
    app.faults.rate_limit_after, app.faults.rate_limit_reset = 1, 2.5
    with serve(app) as s:
        client(s.url).auth_test()
        with pytest.raises(SlackApiError) as info:
            client(s.url).auth_test()
    response = info.value.response
    assert response.status_code == 429 and response.data["error"] == "ratelimited"
    assert response.headers["Retry-After"] == "3"


def test_limited_mode_pages_15_and_answers_once_a_minute(org):
    ch = channel(org, "support-atlas")
    # a minute lasts 6 s: the second request must come within 1 s of the first for a Retry-After
    # of 50 or more (at 0.6 s a minute a loaded CI machine took 0.18 s between them: 42)
    app = SlackEmulator(org, TOKEN, limited=True, time_scale=0.1)
    with serve(app) as s:
        first = client(s.url).conversations_history(channel=ch.id, limit=999)
        assert len(first["messages"]) == 15 and first["has_more"]
        with pytest.raises(SlackApiError) as info:
            client(s.url).conversations_history(channel=ch.id, limit=999)
        retry = int(info.value.response.headers["Retry-After"])
        assert 50 <= retry <= 60
        replies = client(s.url).conversations_replies(channel=ch.id, ts=ch.messages[0].ts)
        assert replies["ok"]  # the limit is per method
        assert client(s.url).users_list()["ok"]  # other methods keep their usual tier
