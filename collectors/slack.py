"""Collect Slack through the Web API (slack-sdk) into the raw store.

    collect(cfg.slack, store)                       # what `processhealth collect` runs

One pass: team, users and user groups (a page each per 1,000), the conversations the config
chooses, then per conversation its history since the checkpoint (oldest=...) and, for each parent
whose `latest_reply` moved, one conversations.replies call for the new replies only; finally one
bots.info per bot not seen before. Messages are stored after privacy (slack_rows.py).

Checkpoint per channel (sync_state slack/messages/<channel>), JSON: {"high": newest ts fully read}
and, while a pass is under way, "pass": {oldest, latest, top}. History pages come newest first, so a
pass that is cut off resumes below the last page it saved. A page is saved with its threads' new
replies and its checkpoint in one transaction, so a cut-off run neither loses nor repeats a reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from collectors.slack_client import Clock, SlackApi, SlackCallError
from collectors.slack_rows import (
    Rules,
    channel_row,
    checkpoint,
    conversation_types,
    history_url,
    is_reply,
    message_row,
    plain_row,
    read_checkpoint,
    replies_url,
    select_channels,
    ts_key,
    user_row,
)
from processhealth import ui
from processhealth.config_models import SlackConfig
from processhealth.errors import SourceError
from processhealth.store import RawStore

SOURCE = "slack"
HISTORY_LIMIT = 999  # Slack's maximum page sizes
REPLIES_LIMIT = 1000
LIST_LIMIT = 1000
SKIPPABLE = {"not_in_channel", "channel_not_found"}


@dataclass
class Summary:
    """What one collection did (the benchmark prints it)."""

    channels: int = 0
    messages: int = 0
    replies: int = 0
    threads: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    waits: int = 0
    wait_seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)
    # the Slack error a skipped channel's history answered; listed but not joined: absent
    skip_reasons: dict[str, str] = field(default_factory=dict)


def collect(cfg: SlackConfig, store: RawStore, full: bool = False, *,
            store_message_text: bool = False, clock: Clock | None = None) -> Summary:
    """Collect the configured workspace into `store`; incremental unless `full`."""
    api = SlackApi(cfg, cfg.token.resolve(key="slack.token"), clock)
    rules = Rules.from_config(cfg, store_message_text)
    summary = Summary()
    with ui.progress("slack", unit="messages") as bar:
        api.waiter.bar = bar
        bar.note("workspace, users, user groups")
        team_id = collect_workspace(api, store)
        channels = choose_channels(api, cfg, store, team_id, summary)
        known = set() if full else stored_keys(store, "bots")
        bots: set[str] = set()
        for ch in channels:
            bar.note(f"#{ch.get('name') or ch['id']}")
            bots |= collect_channel(api, store, ch, cfg, rules, full, bar, summary)
        for bot_id in sorted(bots - known):
            bar.note(f"bot {bot_id}")
            collect_bot(api, store, bot_id, team_id)
        summary.requests = dict(api.calls)
        summary.waits, summary.wait_seconds = api.waiter.count, api.waiter.seconds
        bar.note(f"{len(channels)} channels, {summary.threads} threads, "
                 f"{sum(api.calls.values())} requests, {api.waiter.count} waits "
                 f"({api.waiter.seconds:.0f}s)")
    for name in summary.skipped:
        if summary.skip_reasons.get(name) == "channel_not_found":
            store.note_gap(SOURCE, "messages", f"#{name}", "missing",
                           "channel_not_found: deleted since it was listed, or not visible")
            ui.warn(f"slack: skipped #{name}: Slack answered channel_not_found for its history "
                    f"(deleted or converted since it was listed, or a private channel the app "
                    f"cannot see).")
            continue
        store.note_gap(SOURCE, "messages", f"#{name}", "forbidden", "the app is not a member")
        ui.warn(f"slack: skipped #{name}: the app is not a member. Invite it in Slack with "
                f"`/invite @<app>` to collect that channel (an archived channel's history comes "
                f"only from an export: `processhealth import slack-export`).")
    return summary


def check(cfg: SlackConfig) -> str:
    """`doctor --online`: one auth.test call."""
    api = SlackApi(cfg, cfg.token.resolve(key="slack.token"))
    found = api.call("auth.test")
    return f"token accepted for workspace {found.get('team')} ({found.get('team_id')})"


def collect_workspace(api: SlackApi, store: RawStore) -> str:
    """team.info, users.list and usergroups.list (with members); returns the team id."""
    team = api.call("team.info")["team"]
    team_id = team["id"]
    store.save(SOURCE, "team", [plain_row(team_id, team, api.base_url + "team.info")],
               scope=team_id)
    url = api.base_url + "users.list"
    for page in api.pages("users.list", limit=LIST_LIMIT):
        store.save(SOURCE, "users", [user_row(u, url) for u in page.get("members") or []],
                   scope=team_id)
    try:
        groups = api.call("usergroups.list", include_users=True, include_disabled=True)
    except SlackCallError as exc:
        if exc.code != "missing_scope":
            raise
        ui.warn(f"slack: user groups not collected. {exc}")
        return team_id
    url = api.base_url + "usergroups.list"
    store.save(SOURCE, "usergroups",
               [plain_row(g["id"], g, url, g.get("date_update")) for g in groups["usergroups"]],
               scope=team_id)
    return team_id


def choose_channels(api: SlackApi, cfg: SlackConfig, store: RawStore, team_id: str,
                    summary: Summary) -> list[dict]:
    found = [c for page in api.pages("conversations.list", types=conversation_types(cfg),
                                     exclude_archived=False, limit=LIST_LIMIT)
             for c in page.get("channels") or []]
    chosen, missing = select_channels(found, cfg)
    if missing:
        raise SourceError(
            f"Slack at {api.host} has no conversation the app can see named "
            f"{', '.join(map(repr, missing))} (from slack.channels / slack.private_channels). "
            f"Check the names; a private channel is visible only after the app is invited to it.")
    readable = [c for c in chosen if c.get("is_member", True) or c.get("is_im")]
    summary.skipped += [c.get("name") or c["id"] for c in chosen if c not in readable]
    url = api.base_url + "conversations.list"
    store.save(SOURCE, "channels", [channel_row(c, url) for c in readable], scope=team_id)
    summary.channels = len(readable)
    return readable


def collect_channel(api: SlackApi, store: RawStore, ch: dict, cfg: SlackConfig, rules: Rules,
                    full: bool, bar: ui.Step, summary: Summary) -> set[str]:
    """History since the checkpoint and the replies of threads that moved; returns bot ids."""
    cid = ch["id"]
    state = read_checkpoint(store.get_cursor(SOURCE, "messages", cid))
    high = state.get("high")
    run = state.get("pass") or {"oldest": _oldest(high, cfg), "latest": None, "top": None}
    params: dict[str, Any] = {"channel": cid, "limit": HISTORY_LIMIT}
    params.update({k: run[k] for k in ("oldest", "latest") if run[k]})
    url = history_url(api.base_url, cid)
    bots: set[str] = set()
    seen: set[str] = set()
    try:
        for page in api.pages("conversations.history", **params):
            messages = page.get("messages") or []
            if messages:
                run["top"] = run["top"] or messages[0]["ts"]
                run["latest"] = messages[-1]["ts"]
            moved = threads_to_read(store, cid, messages, full)
            rows = [row for parent, since in moved
                    for row in fetch_replies(api, cid, parent, since, rules, bots, summary)]
            bar.note(f"#{ch.get('name') or cid}: {len(moved)} threads")
            bots |= {m["bot_id"] for m in messages if m.get("bot_id")}
            done = not page.get("has_more")
            cursor = checkpoint(_newest(high, run["top"])) if done else checkpoint(high, run)
            # Replies and their parents (which carry latest_reply) land in one transaction.
            rows += [message_row(cid, m, rules, url) for m in messages]
            store.save(SOURCE, "messages", rows, scope=cid, cursor=cursor)
            seen.update(row["natural_key"] for row in rows)
            summary.messages += sum(not is_reply(m) for m in messages)
            bar.advance(len(rows))
    except SlackCallError as exc:
        if exc.code not in SKIPPABLE:
            raise
        summary.skipped.append(ch.get("name") or cid)
        summary.skip_reasons[ch.get("name") or cid] = exc.code
        return bots
    if full and not state:  # one whole pass read every message and reply the channel has
        since = _oldest(None, cfg)
        gone = store.mark_deleted(SOURCE, "messages", cid, seen, since=datetime.fromtimestamp(
            float(since), UTC).isoformat() if since else None)
        if gone:
            ui.warn(f"slack: #{ch.get('name') or cid}: {gone} stored message(s) no longer "
                    f"found (deleted); they are left out of analytics.")
    return bots


def threads_to_read(store: RawStore, cid: str, messages: list[dict],
                    full: bool) -> list[tuple[dict, str | None]]:
    """(parent, oldest reply to ask for) of each thread whose latest_reply moved since stored."""
    parents = [m for m in messages if m.get("reply_count") and not is_reply(m)]
    if not parents:
        return []
    stored = {} if full else stored_latest_replies(store, [f"{cid}/{m['ts']}" for m in parents])
    out = []
    for m in parents:
        before = stored.get(f"{cid}/{m['ts']}")
        if before is None or ts_key(m.get("latest_reply")) > ts_key(before):
            out.append((m, before))
    return out


def fetch_replies(api: SlackApi, cid: str, parent: dict, since: str | None, rules: Rules,
                  bots: set[str], summary: Summary) -> list[dict]:
    """Rows of a thread's replies newer than `since` (all of them when None)."""
    params: dict[str, Any] = {"channel": cid, "ts": parent["ts"], "limit": REPLIES_LIMIT}
    if since:
        params["oldest"] = since
    url = replies_url(api.base_url, cid, parent["ts"])
    summary.threads += 1
    rows = []
    try:
        for page in api.pages("conversations.replies", **params):
            replies = [m for m in page.get("messages") or [] if is_reply(m)]
            bots |= {m["bot_id"] for m in replies if m.get("bot_id")}
            rows += [message_row(cid, m, rules, url) for m in replies]
    except SlackCallError as exc:
        # deleted since the history page listed its parent (slackapi/bolt-js#2307)
        if exc.code != "thread_not_found":
            raise
        ui.warn(f"slack: the thread {parent['ts']} in channel {cid} is gone (thread_not_found; "
                f"deleted since its channel's history was read); its replies are skipped.")
    summary.replies += len(rows)
    return rows


def collect_bot(api: SlackApi, store: RawStore, bot_id: str, team_id: str) -> None:
    try:
        bot = api.call("bots.info", bot=bot_id)["bot"]
    except SlackCallError as exc:
        if exc.code != "bot_not_found":
            raise
        ui.warn(f"slack: bots.info does not know bot {bot_id} (deleted app?); its messages stay.")
        return
    store.save(SOURCE, "bots", [plain_row(bot_id, bot, api.base_url + "bots.info",
                                          bot.get("updated"))], scope=team_id)


def stored_keys(store: RawStore, entity: str) -> set[str]:
    table = store.ensure_raw_table(SOURCE, entity)
    return {r[0] for r in store.con.execute(f"SELECT natural_key FROM {table}").fetchall()}


def stored_latest_replies(store: RawStore, keys: list[str]) -> dict[str, str | None]:
    table = store.ensure_raw_table(SOURCE, "messages")
    rows = store.con.execute(
        f"SELECT natural_key, payload->>'latest_reply' FROM {table} "
        f"WHERE natural_key IN (SELECT unnest(?::VARCHAR[]))", [keys]).fetchall()
    return dict(rows)


def _oldest(high: str | None, cfg: SlackConfig) -> str | None:
    """Where a new pass starts: thread_lookback_days before the high-water mark, or `since`."""
    if high:
        back = float(high.split(".")[0]) - timedelta(days=cfg.thread_lookback_days).total_seconds()
        return f"{int(back)}.000000"
    if cfg.since:
        return f"{int(datetime.combine(cfg.since, time(), UTC).timestamp())}.000000"
    return None


def _newest(a: str | None, b: str | None) -> str | None:
    return max((t for t in (a, b) if t), key=ts_key, default=None)
