"""Slack payloads to raw rows: privacy at ingest, derived message features, channel selection.

Pure functions shared by the API collector (slack.py), the export importer (slack_export.py) and
the simulation's fast loader, so the three write identical raw rows for the same workspace.

Privacy: unless `store_message_text`, a message is stored as a whitelist of structural keys (who,
when, thread, reactions, file types) plus `features` derived from its text, attachments, blocks and
files: length, link domains, mentions, Jira keys, reminder / status-request matches, shadow tools.
Text, attachments, blocks, file names and previews never reach the raw store.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit

from processhealth.config_models import DeclaredExperimentsConfig, SlackConfig

SLACKBOT_ID = "USLACKBOT"
# Keys of a message that hold no text anyone typed; everything else is dropped by default.
MESSAGE_KEYS = frozenset({
    "type", "subtype", "ts", "user", "bot_id", "app_id", "username", "thread_ts",
    "parent_user_id", "reply_count", "reply_users_count", "latest_reply", "reply_users",
    "is_locked", "team", "hidden", "display_as_bot", "inviter", "is_intro",
})
FILE_KEYS = ("id", "filetype", "mimetype", "size", "mode", "is_external", "user", "created")
USER_DROP = re.compile(r"^(image_\d+|image_original|phone|skype|status_.*|fields)$")

_TOKEN = re.compile(r"<([^<>|]+)(?:\|[^<>]*)?>")
_BARE_URL = re.compile(r"\bhttps?://[^\s<>|]+", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


@dataclass(frozen=True)
class Rules:
    """The [slack] settings that shape what is stored, compiled once."""

    reminder: tuple[re.Pattern, ...]
    status_request: tuple[re.Pattern, ...]
    shadow_domains: tuple[tuple[str, str], ...]  # (host, path prefix)
    shadow_extensions: tuple[str, ...]
    jira_key: re.Pattern
    store_text: bool
    # declared experiments ([declared_experiments]): hypothesis, success criteria, result
    declared: tuple[tuple[re.Pattern, ...], ...] = ()

    @classmethod
    def from_config(cls, cfg: SlackConfig, store_text: bool = False,
                    declared: DeclaredExperimentsConfig | None = None) -> Rules:
        def domain(entry: str) -> tuple[str, str]:
            host, _, path = entry.lower().removeprefix("www.").partition("/")
            return host, "/" + path if path else ""

        return cls(
            tuple(re.compile(p, re.IGNORECASE) for p in cfg.reminder_patterns),
            tuple(re.compile(p, re.IGNORECASE) for p in cfg.status_request_patterns),
            tuple(domain(d) for d in cfg.shadow_tool_domains),
            tuple(e.lower() for e in cfg.shadow_tool_extensions),
            re.compile(cfg.jira_key_pattern),
            store_text,
            declared_patterns(declared or DeclaredExperimentsConfig()),
        )


def declared_patterns(cfg: DeclaredExperimentsConfig) -> tuple[tuple[re.Pattern, ...], ...]:
    """(hypothesis, success criteria, result) patterns, compiled case-insensitive."""
    return tuple(tuple(re.compile(p, re.IGNORECASE) for p in patterns) for patterns in (
        cfg.hypothesis_patterns, cfg.success_criteria_patterns, cfg.result_patterns))


# --- messages -------------------------------------------------------------------------------


def is_reply(msg: dict) -> bool:
    """A thread reply (also a reply broadcast to the channel); parents carry thread_ts == ts."""
    thread = msg.get("thread_ts")
    return bool(thread) and thread != msg.get("ts")


def message_row(channel_id: str, msg: dict, rules: Rules, source_url: str) -> dict:
    """The raw row of one message or reply: key "<channel>/<ts>", payload after privacy."""
    ts = str(msg["ts"])
    if rules.store_text:
        payload = dict(msg)
    else:
        payload = {k: v for k, v in msg.items() if k in MESSAGE_KEYS}
        if "edited" in msg:
            payload["edited"] = _pick(msg["edited"], ("user", "ts"))
        if "reactions" in msg:
            payload["reactions"] = [_pick(r, ("name", "count", "users")) for r in msg["reactions"]]
        if "bot_profile" in msg:
            payload["bot_profile"] = _pick(msg["bot_profile"], ("id", "name", "app_id", "deleted"))
        files = _files(msg)
        if files:
            payload["files"] = [_pick(f, FILE_KEYS) for f in files]
    comment = msg.get("comment")
    if not msg.get("user") and isinstance(comment, dict) and comment.get("user"):
        payload["user"] = comment["user"]  # file_comment (older workspaces): the commenter
    payload["channel"] = channel_id
    payload["features"] = message_features(msg, rules)
    moments = [ts, msg.get("latest_reply"), (msg.get("edited") or {}).get("ts")]
    return {"natural_key": f"{channel_id}/{ts}", "updated_at": ts_iso(max(moments, key=ts_key)),
            "source_url": source_url, "payload": payload}


def message_features(msg: dict, rules: Rules) -> dict:
    """What analysis needs from a message's words, without the words."""
    text = msg.get("text") or ""
    texts = [text]
    links: list[str] = []  # from the words first, then attachments and blocks
    more_links: list[str] = []
    mentions: list[str] = []
    groups: list[str] = []
    broadcast: list[str] = []
    for att in msg.get("attachments") or []:
        texts += [str(att.get(k) or "") for k in ("pretext", "title", "text", "fallback")]
        more_links += [att[k] for k in ("title_link", "from_url", "original_url") if att.get(k)]
    for element in _block_elements(msg.get("blocks") or []):
        kind = element.get("type")
        if kind == "link" and element.get("url"):
            more_links.append(element["url"])
        elif kind == "user" and element.get("user_id"):
            mentions.append(element["user_id"])
        elif kind == "text" and not text:
            texts.append(str(element.get("text") or ""))
    joined = "\n".join(t for t in texts if t)
    for token in _TOKEN.findall(joined):
        if token.startswith("@"):
            mentions.append(token[1:])
        elif token.startswith("!subteam^"):
            groups.append(token[len("!subteam^"):])
        elif token.startswith("!"):
            broadcast.append(token[1:])
        elif _SCHEME.match(token):
            links.append(token)
    links += _BARE_URL.findall(_TOKEN.sub(" ", joined)) + more_links
    names = [str(f.get("name") or f.get("title") or "") for f in _files(msg)]
    plain = _TOKEN.sub(lambda m: m.group(0)[1:-1].split("|")[-1], joined)
    return {
        "length": len(text),
        "link_domains": sorted({h for h in map(_host, links) if h}),
        "mentions": sorted(set(mentions)),
        "group_mentions": sorted(set(groups)),
        "broadcast": sorted(set(broadcast)),
        "linked_keys": sorted(set(rules.jira_key.findall(plain))),
        "file_types": sorted({_extension(n) for n in names if _extension(n)}),
        "is_reminder": any(p.search(plain) for p in rules.reminder),
        "is_status_request": any(p.search(plain) for p in rules.status_request),
        "shadow_tool": _shadow_tool(links, names + plain.split(), rules),
    }


def _shadow_tool(links: list[str], words: list[str], rules: Rules) -> str | None:
    """The configured domain (or file extension) of the first shadow-tool link, else None."""
    for link in links:
        parts = urlsplit(link if _SCHEME.match(link) else "https://" + link)
        host = (parts.hostname or "").removeprefix("www.")
        for domain, path in rules.shadow_domains:
            if (host == domain or host.endswith("." + domain)) and parts.path.startswith(path):
                return domain + path
        ext = _extension(parts.path)
        if ext in rules.shadow_extensions:
            return ext
    for word in words:
        ext = _extension(word.rstrip(".,;:!?)\"'"))
        if ext in rules.shadow_extensions:
            return ext
    return None


def _files(msg: dict) -> list[dict]:
    files = list(msg.get("files") or [])
    if isinstance(msg.get("file"), dict):  # older messages carry one `file`
        files.append(msg["file"])
    return [f for f in files if isinstance(f, dict)]


def _block_elements(blocks: Iterable[Any]) -> Iterable[dict]:
    """Every element nested anywhere in Block Kit blocks (rich_text sections, lists, quotes)."""
    stack = [b for b in blocks if isinstance(b, dict)]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(e for e in node.get("elements") or [] if isinstance(e, dict))


def _host(link: str) -> str:
    if not _SCHEME.match(link) or link.lower().startswith(("mailto:", "tel:")):
        return ""
    try:
        return (urlsplit(link).hostname or "").removeprefix("www.")
    except ValueError:
        return ""


def _extension(name: str) -> str:
    base = name.lower().rsplit("/", 1)[-1]
    return "." + base.rsplit(".", 1)[1] if "." in base.strip(".") else ""


def _pick(obj: Any, keys: Iterable[str]) -> Any:
    return {k: obj[k] for k in keys if k in obj} if isinstance(obj, dict) else obj


def ts_key(ts: Any) -> tuple[int, int]:
    seconds, _, micros = str(ts or "0").partition(".")
    return (int(seconds or 0), int((micros + "000000")[:6]))


def ts_iso(ts: Any) -> str | None:
    if ts in (None, "", 0, "0"):
        return None
    seconds, micros = ts_key(ts)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros).isoformat()


def history_url(base: str, channel_id: str) -> str:
    """Provenance of a history row (no token, no cursor: the same for every page)."""
    return f"{base}conversations.history?channel={channel_id}"


def replies_url(base: str, channel_id: str, thread_ts: str) -> str:
    return f"{base}conversations.replies?channel={channel_id}&ts={thread_ts}"


def checkpoint(high: str | None, run: dict | None = None) -> str:
    """A channel's messages checkpoint (sync_state cursor): the newest ts fully read, and the
    window of a pass under way (see collectors/slack.py)."""
    return json.dumps({"high": high} if run is None else {"high": high, "pass": run})


def read_checkpoint(cursor: str | None) -> dict:
    return json.loads(cursor or "{}")


# --- users, channels and the rest -----------------------------------------------------------


def user_row(user: dict, source_url: str) -> dict:
    """A user, without avatars, phone numbers and status texts."""
    payload = {k: v for k, v in user.items() if k != "profile"}
    if isinstance(user.get("profile"), dict):
        payload["profile"] = {k: v for k, v in user["profile"].items() if not USER_DROP.match(k)}
    return plain_row(user["id"], payload, source_url, user.get("updated"))


def channel_row(channel: dict, source_url: str) -> dict:
    payload = dict(channel)
    if "members" in payload:  # export files list members; the API gives num_members
        payload["num_members"] = len(payload.pop("members") or [])
    return plain_row(channel["id"], payload, source_url, channel.get("updated"))


def plain_row(key: str, payload: dict, source_url: str, updated: Any = None) -> dict:
    if isinstance(updated, int | float) and updated > 10**11:  # milliseconds
        updated = updated / 1000
    return {"natural_key": key, "updated_at": ts_iso(int(updated)) if updated else None,
            "source_url": source_url, "payload": payload}


# --- which conversations are read -----------------------------------------------------------


def conversation_type(channel: dict) -> str:
    if channel.get("is_im"):
        return "im"
    if channel.get("is_mpim"):
        return "mpim"
    return "private" if channel.get("is_private") or channel.get("is_group") else "public"


def _matches(channel: dict, patterns: Iterable[str]) -> bool:
    name = channel.get("name") or ""
    return any(fnmatchcase(name, p.lstrip("#")) or channel.get("id") == p for p in patterns)


def select_channels(channels: list[dict], cfg: SlackConfig) -> tuple[list[dict], list[str]]:
    """(conversations to read, configured names that match none): public channels matching
    `channels`, private ones only when listed in `private_channels`, DMs only with include_dms."""
    chosen = []
    for ch in channels:
        kind = conversation_type(ch)
        if ((kind == "public" and _matches(ch, cfg.channels))
                or (kind == "private" and _matches(ch, cfg.private_channels))
                or (kind in ("im", "mpim") and cfg.include_dms)):
            chosen.append(ch)
    named = [p for p in [*cfg.channels, *cfg.private_channels] if not any(c in p for c in "*?[")]
    missing = [p for p in named if not any(_matches(ch, [p]) for ch in channels)]
    return chosen, missing


def conversation_types(cfg: SlackConfig) -> str:
    """The conversations.list `types` the config needs (asking for more needs more scopes)."""
    types = ["public_channel"]
    if cfg.private_channels:
        types.append("private_channel")
    if cfg.include_dms:
        types += ["im", "mpim"]
    return ",".join(types)
