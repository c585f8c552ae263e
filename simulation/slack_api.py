"""The simulated workspace as Slack Web API JSON: pure payload builders, no HTTP.

`Workspace(org)` turns `org.slack` and the people into the objects Slack returns (users.list
members, conversations.list channels, conversations.history / replies messages, usergroups.list,
bots.info, team.info), indexed for the emulator's paging. The emulator (slack_emulator.py), the
export writer (slack_export.py) and the fast loader (processhealth/simload/slack.py) all build their
JSON here, so the three paths serve byte-identical messages.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from .model import Org, Person, SlackBot, SlackChannel, SlackMessage, SlackUserGroup

SLACKBOT_ID = "USLACKBOT"
_BARE_URL = re.compile(r"(?<![<|])\bhttps?://[^\s<>|]+")

TsKey = tuple[int, int]


def ts_key(ts: str | float | int | None) -> TsKey:
    """Order Slack timestamps exactly ("1700000000.000100" -> (1700000000, 100)); floats lose
    the last digits, string order breaks on "0" or "1700000000.5"."""
    if ts is None or ts == "":
        return (0, 0)
    text = str(ts)
    seconds, _, micros = text.partition(".")
    return (int(seconds or 0), int((micros + "000000")[:6]))


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _hex(*parts: object, n: int = 12) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()[:n]


def slack_text(text: str) -> str:
    """Slack stores links in message text as <https://...>; the simulation writes them bare."""
    return _BARE_URL.sub(lambda m: f"<{m.group(0)}>", text)


# --- users ----------------------------------------------------------------------------------


def user_payload(p: Person, team_id: str, deleted: bool, with_email: bool = True,
                 bot_id: str | None = None) -> dict:
    """A users.list member. Emails need the users:read.email scope, as in real Slack."""
    parts = p.name.split(" ", 1)
    profile = {
        "title": "", "phone": "", "skype": "",
        "real_name": p.slack_real_name or p.name,
        "real_name_normalized": p.slack_real_name or p.name,
        "display_name": p.slack_name or "",
        "display_name_normalized": p.slack_name or "",
        "fields": None, "status_text": "", "status_emoji": "", "status_expiration": 0,
        "avatar_hash": _hex(p.slack_id),
        "first_name": parts[0], "last_name": parts[1] if len(parts) > 1 else "",
        "image_72": f"https://avatars.slack-edge.com/{_hex(p.slack_id)}_72.png",
        "team": team_id,
    }
    if with_email and p.slack_email:
        profile["email"] = p.slack_email
    user = {
        "id": p.slack_id, "team_id": team_id, "name": p.slack_name, "deleted": deleted,
        "color": _hex(p.pid, n=6), "real_name": p.slack_real_name or p.name,
        "tz": p.tz_name or "Europe/Amsterdam", "tz_label": p.tz_name or "Central European Time",
        "tz_offset": p.tz_offset_min * 60 if p.tz_name else 3600,
        "profile": profile,
        "is_admin": False, "is_owner": False, "is_primary_owner": False,
        "is_restricted": False, "is_ultra_restricted": False,
        "is_bot": p.is_bot, "is_app_user": False,
        "updated": epoch(datetime.combine(p.left_on or p.joined_on, time(9), UTC)),
    }
    if bot_id:
        profile["bot_id"] = bot_id
    return user


def slackbot_payload(team_id: str) -> dict:
    return {
        "id": SLACKBOT_ID, "team_id": team_id, "name": "slackbot", "deleted": False,
        "color": "757575", "real_name": "Slackbot", "tz": "America/Los_Angeles",
        "tz_label": "Pacific Standard Time", "tz_offset": -28800,
        "profile": {"real_name": "Slackbot", "real_name_normalized": "Slackbot",
                    "display_name": "Slackbot", "display_name_normalized": "Slackbot",
                    "first_name": "slackbot", "last_name": "", "team": team_id},
        "is_admin": False, "is_owner": False, "is_primary_owner": False,
        "is_restricted": False, "is_ultra_restricted": False,
        "is_bot": False, "is_app_user": False, "updated": 0,
    }


# --- channels, groups, bots, team -----------------------------------------------------------


def channel_payload(ch: SlackChannel, org: Org, is_member: bool) -> dict:
    """A conversations.list entry (a public or private channel, or an IM)."""
    slack_id = {p.pid: p.slack_id for p in org.people}
    created = epoch(ch.created)
    if ch.is_im:
        other = ch.members[1] if len(ch.members) > 1 else ch.members[0]
        return {"id": ch.id, "created": created, "is_archived": False, "is_im": True,
                "is_org_shared": False, "context_team_id": org.slack.team_id,
                "updated": created * 1000, "user": slack_id.get(other),
                "is_user_deleted": False, "priority": 0}
    return {
        "id": ch.id, "name": ch.name, "is_channel": not ch.is_private,
        "is_group": ch.is_private, "is_im": False, "is_mpim": False,
        "is_private": ch.is_private, "created": created, "is_archived": False,
        "is_general": ch.name == "general", "unlinked": 0, "name_normalized": ch.name,
        "is_shared": False, "is_org_shared": False, "is_pending_ext_shared": False,
        "pending_shared": [], "context_team_id": org.slack.team_id, "updated": created * 1000,
        "parent_conversation": None, "creator": slack_id.get(ch.creator_pid),
        "is_ext_shared": False, "shared_team_ids": [org.slack.team_id],
        "pending_connected_team_ids": [], "is_member": is_member,
        "topic": {"value": "", "creator": "", "last_set": 0},
        "purpose": {"value": ch.purpose, "creator": slack_id.get(ch.creator_pid),
                    "last_set": created},
        "previous_names": [], "num_members": len(ch.members),
    }


def usergroup_payload(g: SlackUserGroup, org: Org, created: int) -> dict:
    members = [org.person(pid).slack_id for pid in g.member_pids]
    return {
        "id": g.id, "team_id": org.slack.team_id, "is_usergroup": True, "is_subteam": True,
        "name": g.name, "description": "", "handle": g.handle, "is_external": False,
        "date_create": created, "date_update": created, "date_delete": 0, "auto_type": None,
        "auto_provision": False, "enterprise_subteam_id": "",
        "created_by": members[0] if members else None, "updated_by": None, "deleted_by": None,
        "prefs": {"channels": [], "groups": []}, "users": members, "user_count": len(members),
    }


def bot_payload(bot: SlackBot, updated: int) -> dict:
    return {
        "id": bot.id, "deleted": False, "name": bot.name, "updated": updated,
        "app_id": bot.app_id, "user_id": bot.user_id,
        "icons": {"image_36": f"https://avatars.slack-edge.com/{bot.id}_36.png"},
    }


def team_payload(org: Org) -> dict:
    s = org.slack
    return {
        "id": s.team_id, "name": s.team_name, "url": f"https://{s.domain}.slack.com/",
        "domain": s.domain, "email_domain": "", "is_verified": False,
        "icon": {"image_default": True}, "avatar_base_url": "https://ca.slack-edge.com/",
    }


# --- messages -------------------------------------------------------------------------------


@dataclass
class _Names:
    slack_id: dict[str, str | None]
    bots: dict[str, SlackBot]


def message_payload(m: SlackMessage, names: _Names, parent: SlackMessage | None = None) -> dict:
    """A message as conversations.history (top level) or conversations.replies returns it."""
    msg: dict = {"type": "message", "text": slack_text(m.text), "ts": m.ts}
    if m.slackbot:
        msg["user"] = SLACKBOT_ID
    elif m.bot_id:
        bot = names.bots.get(m.bot_id)
        msg.update(subtype=m.subtype or "bot_message", bot_id=m.bot_id,
                   username=bot.name if bot else m.bot_id)
        if bot:
            msg["app_id"] = bot.app_id
    else:
        if m.subtype:
            msg["subtype"] = m.subtype
        msg["user"] = names.slack_id.get(m.user_pid or "")
        msg["client_msg_id"] = _uuid(m.channel_id, m.ts)
        msg["blocks"] = [{"type": "rich_text", "block_id": _hex(m.ts, n=5), "elements": [
            {"type": "rich_text_section",
             "elements": [{"type": "text", "text": m.text}]}]}]
    if parent is not None:
        msg["thread_ts"] = parent.ts
        msg["parent_user_id"] = _author(parent, names)
    elif m.replies:
        users = list(dict.fromkeys(_author(r, names) for r in m.replies))
        msg.update(thread_ts=m.ts, reply_count=len(m.replies), reply_users_count=len(users),
                   latest_reply=max((r.ts for r in m.replies), key=ts_key),
                   reply_users=users[:5], is_locked=False, subscribed=False)
    return msg


def _author(m: SlackMessage, names: _Names) -> str | None:
    if m.slackbot:
        return SLACKBOT_ID
    if m.bot_id:
        bot = names.bots.get(m.bot_id)
        return bot.user_id if bot else None
    return names.slack_id.get(m.user_pid or "")


def _uuid(*parts: object) -> str:
    h = _hex(*parts, n=32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# --- the indexed workspace ------------------------------------------------------------------


@dataclass
class ChannelIndex:
    """One conversation's top-level messages in ts order, with their keys for bisecting."""

    channel: SlackChannel
    messages: list[dict] = field(default_factory=list)
    keys: list[TsKey] = field(default_factory=list)
    threads: dict[str, list[dict]] = field(default_factory=dict)  # parent ts -> [parent, *replies]

    def window(self, oldest: str | None, latest: str | None, inclusive: bool) -> tuple[int, int]:
        """Index range [lo, hi) of messages with oldest < ts < latest (<= with inclusive)."""
        lo = 0 if oldest is None else (
            bisect_left if inclusive else bisect_right)(self.keys, ts_key(oldest))
        hi = len(self.keys) if latest is None else (
            bisect_right if inclusive else bisect_left)(self.keys, ts_key(latest))
        return lo, max(lo, hi)


class Workspace:
    """Everything the Slack API serves for one simulated organization, built once."""

    def __init__(self, org: Org, member_of: set[str] | None = None, with_email: bool = True):
        self.org = org
        s = org.slack
        names = _Names({p.pid: p.slack_id for p in org.people}, {b.id: b for b in s.bots})
        ended = org.end
        bot_of_user = {b.user_id: b.id for b in s.bots}
        self.users = [user_payload(p, s.team_id, bool(p.left_on and p.left_on <= ended),
                                   with_email, bot_of_user.get(p.slack_id or ""))
                      for p in org.people if p.slack_id]
        self.users.append(slackbot_payload(s.team_id))
        self.users.sort(key=lambda u: u["id"])
        updated = epoch(datetime.combine(org.start, time(9), UTC))
        self.team = team_payload(org)
        self.usergroups = [usergroup_payload(g, org, updated) for g in s.usergroups]
        self.bots = {b.id: bot_payload(b, updated) for b in s.bots}
        if member_of is None:
            member_of = {c.id for c in s.channels if not c.is_im}
        self.member_of = member_of
        self.channels = [channel_payload(c, org, c.id in member_of) for c in s.channels]
        self.index: dict[str, ChannelIndex] = {}
        for ch in s.channels:
            idx = ChannelIndex(ch)
            for m in sorted(ch.messages, key=lambda m: ts_key(m.ts)):
                idx.messages.append(message_payload(m, names))
                idx.keys.append(ts_key(m.ts))
                if m.replies:
                    replies = sorted(m.replies, key=lambda r: ts_key(r.ts))
                    idx.threads[m.ts] = [idx.messages[-1]] + [
                        message_payload(r, names, parent=m) for r in replies]
            self.index[ch.id] = idx

    def channel(self, channel_id: str) -> dict | None:
        return next((c for c in self.channels if c["id"] == channel_id), None)

    def thread_messages(self, channel_id: str) -> list[dict]:
        """Every message of a conversation, top level and replies, in ts order (export files)."""
        idx = self.index[channel_id]
        out = list(idx.messages)
        for thread in idx.threads.values():
            out.extend(thread[1:])
        out.sort(key=lambda m: ts_key(m["ts"]))
        return out
