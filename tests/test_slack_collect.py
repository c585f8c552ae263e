"""The Slack collector end to end through slack-sdk against the emulator: completeness, request
counts, incremental runs, resuming, retries, the limited mode, and errors that say what to do."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from shared_cache import shared_org
from test_slack_rows import TOKEN

from collectors import slack
from collectors.clock import ScaledClock
from processhealth import ui
from processhealth.config_models import SlackConfig
from processhealth.errors import SourceError, UserError
from processhealth.simload import slack as simload
from processhealth.store import RawStore
from simulation import OrgSpec
from simulation.model import SlackMessage
from simulation.server import serve
from simulation.slack_emulator import DEFAULT_SCOPES, SlackEmulator, _json, minimum_requests

FAST = ScaledClock(0.001)  # a Slack minute in 60 ms


@pytest.fixture(autouse=True)
def token(monkeypatch):
    monkeypatch.setenv("SLACK_TOKEN", TOKEN)


@pytest.fixture(scope="module")
def org():
    """Two months: the second brings the reminder bot and Slackbot reminders."""
    return shared_org(7, OrgSpec.small())


@pytest.fixture(scope="module")
def month():
    return shared_org(7, OrgSpec.small(months=1))


@pytest.fixture
def fresh_org():
    """A one-month organization a test may change: a copy of one generated once per run."""
    return shared_org(5, OrgSpec.small(months=1))


def collect(url: str, raw: Path, clock=FAST, **settings) -> slack.Summary:
    with RawStore(raw) as store:
        return slack.collect(SlackConfig(enabled=True, base_url=url, **settings), store,
                             clock=clock)


def rows(raw: Path, table: str = "raw_slack_messages") -> dict[str, tuple]:
    with RawStore(raw, read_only=True) as store:
        found = store.con.execute(
            f"SELECT natural_key, scope, updated_at, source_url, payload::VARCHAR FROM {table}"
        ).fetchall()
    return {r[0]: r[1:] for r in found}


def cursors(raw: Path) -> list[tuple]:
    with RawStore(raw, read_only=True) as store:
        return store.con.execute(
            "SELECT entity, scope, cursor FROM sync_state ORDER BY ALL").fetchall()


def public_ids(org) -> list[str]:
    return [c.id for c in org.slack.channels if not c.is_private]


def test_first_collection_reads_everything_once_with_the_fewest_requests(org, tmp_path):
    app = SlackEmulator(org, TOKEN)
    with serve(app) as s:
        summary = collect(s.url, tmp_path / "raw.duckdb")
    minimum = minimum_requests(org, public_ids(org))
    assert summary.requests == dict(minimum)
    assert app.stats.total == sum(minimum.values())  # nothing refused, nothing repeated
    expected = {f"{c.id}/{m.ts}" for c in org.slack.channels if not c.is_private
                for m in [*c.messages, *(r for p in c.messages for r in p.replies)]}
    assert set(rows(tmp_path / "raw.duckdb")) == expected  # no private channel, no DM
    assert len(rows(tmp_path / "raw.duckdb", "raw_slack_users")) == len(
        [p for p in org.people if p.slack_id]) + 1
    assert set(rows(tmp_path / "raw.duckdb", "raw_slack_bots")) == {"B0REMIND01"}
    assert len(rows(tmp_path / "raw.duckdb", "raw_slack_usergroups")) == 3


def test_fast_loader_writes_the_rows_a_collection_writes(month, tmp_path):
    with serve(SlackEmulator(month, TOKEN)) as s:
        collect(s.url, tmp_path / "api.duckdb")
        with RawStore(tmp_path / "sim.duckdb") as store:
            simload.load(month, store, base_url=s.url)
    for table in ("raw_slack_messages", "raw_slack_users", "raw_slack_channels",
                  "raw_slack_usergroups", "raw_slack_bots", "raw_slack_team"):
        assert rows(tmp_path / "api.duckdb", table) == rows(tmp_path / "sim.duckdb", table)
    assert cursors(tmp_path / "api.duckdb") == cursors(tmp_path / "sim.duckdb")


def test_next_run_reads_new_messages_and_only_threads_that_moved(fresh_org, tmp_path):
    app = SlackEmulator(fresh_org, TOKEN)
    raw = tmp_path / "raw.duckdb"
    with serve(app) as s:
        collect(s.url, raw)
        app.stats.reset()
        again = collect(s.url, raw)
        assert again.threads == 0 and "bots.info" not in again.requests
        assert again.requests["conversations.history"] == len(public_ids(fresh_org))

        ch = next(c for c in fresh_org.slack.channels if c.name == "eng-atlas")
        parent, author = ch.messages[-2], ch.messages[-2].user_pid
        later = datetime.combine(fresh_org.end + timedelta(days=1), time(10), UTC)
        reply = SlackMessage(ch.id, f"{int(later.timestamp())}.900001", author, "late reply",
                             thread_ts=parent.ts)
        parent.thread_ts = parent.ts
        parent.replies.append(reply)
        ch.messages.append(SlackMessage(ch.id, f"{int(later.timestamp())}.900002", author,
                                        "new message"))
        app.refresh()
        third = collect(s.url, raw)
    assert third.threads == 1 and third.replies == 1  # the new reply only (oldest=...)
    stored = rows(raw)
    assert {f"{ch.id}/{reply.ts}", f"{ch.id}/{ch.messages[-1].ts}"} <= set(stored)
    assert len(stored) == sum(1 + len(m.replies) for c in fresh_org.slack.channels
                              if not c.is_private for m in c.messages)


def test_interrupted_collection_resumes_without_loss_or_duplicates(fresh_org, tmp_path):
    app = SlackEmulator(fresh_org, TOKEN)
    raw = tmp_path / "raw.duckdb"
    with serve(app) as s:
        with RawStore(tmp_path / "clean.duckdb") as store:
            simload.load(fresh_org, store, base_url=s.url)
        app.fail_after = 150  # mid-way: HTTP 500 from here on, past every retry
        with pytest.raises(SourceError, match="fatal_error"):
            collect(s.url, raw)
        partial = len(rows(raw))
        app.fail_after = None
        collect(s.url, raw)
    assert 0 < partial < len(rows(tmp_path / "clean.duckdb"))
    assert rows(raw) == rows(tmp_path / "clean.duckdb")
    assert cursors(raw) == cursors(tmp_path / "clean.duckdb")


def test_server_errors_cut_bodies_and_rate_limits_are_retried(fresh_org, tmp_path):
    app = SlackEmulator(fresh_org, TOKEN, time_scale=0.001)
    app.faults.error_burst, app.faults.truncate_next = 3, 2
    app.faults.rate_limit_after, app.faults.rate_limit_reset = 40, 0.05
    with serve(app) as s:
        summary = collect(s.url, tmp_path / "raw.duckdb")
        with RawStore(tmp_path / "clean.duckdb") as store:
            simload.load(fresh_org, store, base_url=s.url)
    assert summary.waits >= 6  # 3 server errors, 2 cut bodies, at least one 429
    assert rows(tmp_path / "raw.duckdb") == rows(tmp_path / "clean.duckdb")


class Notes(ui.Step):
    """A progress line that remembers every note it showed."""

    def __init__(self) -> None:
        super().__init__(None, None)
        self.seen: list[str] = []

    def note(self, text: str) -> None:
        super().note(text)
        self.seen.append(text)


@pytest.mark.parametrize("paced", [False, True])
def test_limited_mode_completes_and_shows_the_waits(org, tmp_path, monkeypatch, capsys, paced):
    """The 2025 non-Marketplace limits (1 request a minute, 15 messages a page), time-scaled:
    reactive (Retry-After) without limited_app, paced without any refused request with it."""
    notes = Notes()
    monkeypatch.setattr(ui, "progress", lambda *a, **k: nullcontext(notes))
    app = SlackEmulator(org, TOKEN, limited=True, time_scale=0.001)
    general = next(c for c in org.slack.channels if c.name == "general")
    with serve(app) as s:
        summary = collect(s.url, tmp_path / "raw.duckdb", channels=["general"],
                          limited_app=paced)
    assert set(rows(tmp_path / "raw.duckdb")) == {
        f"{general.id}/{m.ts}" for m in [*general.messages, *(r for p in general.messages
                                                              for r in p.replies)]}
    minimum = minimum_requests(org, [general.id], limited=True)
    assert summary.requests == dict(minimum)
    waits = [n for n in notes.seen if n.startswith("waiting")]
    assert waits and summary.waits == len(waits)
    if paced:
        assert app.stats.total == sum(minimum.values())  # no request was refused
        assert all("one request a minute" in w for w in waits)
    else:
        assert any("Retry-After" in w for w in waits)
        assert app.stats.total > sum(minimum.values())
        assert capsys.readouterr().err.count("slack.limited_app = true") == 1


def test_errors_name_the_host_the_thing_and_the_variable(month, tmp_path, monkeypatch):
    with serve(SlackEmulator(month, "xoxb-another")) as s, pytest.raises(SourceError) as bad:
        collect(s.url, tmp_path / "a.duckdb")
    assert bad.value.exit_code == 2
    assert f"127.0.0.1:{s.port}" in str(bad.value) and "SLACK_TOKEN" in str(bad.value)
    assert "invalid_auth" in str(bad.value)
    with serve(SlackEmulator(month, TOKEN, scopes=DEFAULT_SCOPES - {"channels:history"})) as s:
        with pytest.raises(SourceError, match="lacks the scope channels:history"):
            collect(s.url, tmp_path / "b.duckdb")
        with pytest.raises(SourceError, match="'eng-nowhere'"):
            collect(s.url, tmp_path / "c.duckdb", channels=["eng-atlas", "eng-nowhere"])
        monkeypatch.delenv("SLACK_TOKEN")
        with pytest.raises(UserError, match="SLACK_TOKEN"):
            collect(s.url, tmp_path / "d.duckdb")


def test_a_channel_the_app_is_not_in_is_skipped_with_a_warning(month, tmp_path, capsys):
    random = next(c for c in month.slack.channels if c.name == "random")
    member_of = {c.id for c in month.slack.channels if c.id != random.id and not c.is_im}
    with serve(SlackEmulator(month, TOKEN, member_of=member_of)) as s:
        summary = collect(s.url, tmp_path / "raw.duckdb")
    assert summary.skipped == ["random"]
    assert "skipped #random" in capsys.readouterr().err
    assert not any(k.startswith(random.id) for k in rows(tmp_path / "raw.duckdb"))


class GoneAfterListing(SlackEmulator):
    """Lists every channel, then answers channel_not_found for one channel's history, as Slack
    does for a channel deleted (or converted to private) after conversations.list named it."""

    def __init__(self, *args, gone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.gone = gone

    def conversations_history(self, args: dict):
        if args.get("channel") == self.gone:
            return _json({"ok": False, "error": "channel_not_found"})
        return super().conversations_history(args)


def test_a_channel_gone_after_listing_is_a_missing_gap_not_a_membership_problem(
        month, tmp_path, capsys):
    """channel_not_found is no membership problem (inviting the app cannot help): the gap and
    the warning say what Slack answered, where both used to say "the app is not a member"."""
    random = next(c for c in month.slack.channels if c.name == "random")
    with serve(GoneAfterListing(month, TOKEN, gone=random.id)) as s:
        summary = collect(s.url, tmp_path / "raw.duckdb")
    assert summary.skipped == ["random"]
    err = capsys.readouterr().err
    assert "skipped #random: Slack answered channel_not_found" in err and "not a member" not in err
    with RawStore(tmp_path / "raw.duckdb", read_only=True) as store:
        assert store.con.execute("SELECT scope, status FROM sync_coverage").fetchall() == [
            ("#random", "missing")]


def test_collect_command_runs_the_slack_collector(month, tmp_path, run_cli):
    with serve(SlackEmulator(month, TOKEN)) as s:
        config = tmp_path / "processhealth.toml"
        config.write_text(f'[slack]\nenabled = true\nbase_url = "{s.url}/api/"\n'
                          f'channels = ["standup-*"]\n')
        result = run_cli(config, "collect", "--source", "slack", env={"SLACK_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    stored = rows(tmp_path / ".processhealth" / "raw.duckdb")
    standups = [c.id for c in month.slack.channels if c.name.startswith("standup-")]
    assert stored and all(k.split("/")[0] in standups for k in stored)


@pytest.mark.parametrize(("lookback", "seen"), [(None, True), (7, False)])
def test_a_new_reply_to_a_three_week_old_thread_is_read_by_the_next_monthly_run(
        fresh_org, tmp_path, lookback, seen):
    """A monthly cron's next run re-reads thread_lookback_days (default 30) of history before
    the newest message it holds, and reads the replies of the threads that moved. A reply to a
    thread started 20 days before that is found by default; with 7 days (the default until
    2026-12-06) it was lost until `collect --full` (README, upstream changes)."""
    settings = {} if lookback is None else {"thread_lookback_days": lookback}
    app = SlackEmulator(fresh_org, TOKEN)
    raw = tmp_path / "raw.duckdb"
    ch = next(c for c in fresh_org.slack.channels if c.name == "eng-atlas")
    newest = max(float(m.ts) for c in fresh_org.slack.channels if not c.is_private
                 for m in [*c.messages, *(r for p in c.messages for r in p.replies)])
    parent = max((m for m in ch.messages if not m.replies and float(m.ts) < newest - 20 * 86400),
                 key=lambda m: float(m.ts))
    assert float(parent.ts) > newest - 25 * 86400  # a thread 20-25 days old
    with serve(app) as s:
        collect(s.url, raw, **settings)
        later = datetime.combine(fresh_org.end + timedelta(days=30), time(10), UTC)
        reply = SlackMessage(ch.id, f"{int(later.timestamp())}.900001", parent.user_pid,
                             "a month later", thread_ts=parent.ts)
        parent.thread_ts = parent.ts
        parent.replies.append(reply)
        app.refresh()
        again = collect(s.url, raw, **settings)
    assert (f"{ch.id}/{reply.ts}" in rows(raw)) is seen
    assert (again.threads, again.replies) == ((1, 1) if seen else (0, 0))


def test_a_thread_deleted_while_its_channel_is_read_is_skipped_not_a_failed_collection(
        fresh_org, tmp_path, capsys):
    """A thread deleted between the history page that lists its parent and the replies call
    (with slack.limited_app, a page's threads take a minute each): conversations.replies answers
    thread_not_found, "when the pointed thread is no longer available" (slackapi/bolt-js#2307;
    api.slack.com/methods/conversations.replies lists the error). Its replies are skipped with a
    warning; every other message and reply is collected as without it, and the run goes on."""
    app = SlackEmulator(fresh_org, TOKEN)
    ch = next(c for c in fresh_org.slack.channels if c.name == "eng-atlas")
    parent = next(m for m in ch.messages if m.replies)
    with serve(app) as s:
        collect(s.url, tmp_path / "clean.duckdb")
        app.deleted_threads = {parent.ts}
        summary = collect(s.url, tmp_path / "raw.duckdb")
    assert "thread_not_found" in capsys.readouterr().err
    gone = {f"{ch.id}/{r.ts}" for r in parent.replies}
    want = rows(tmp_path / "clean.duckdb")
    assert rows(tmp_path / "raw.duckdb") == {k: v for k, v in want.items() if k not in gone}
    assert summary.replies == sum(len(m.replies) for c in fresh_org.slack.channels
                                  if not c.is_private for m in c.messages) - len(gone)
