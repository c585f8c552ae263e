"""A loopback Slack Web API over the simulated workspace, faithful enough for slack-sdk.

    app = SlackEmulator(org, token="xoxb-test")   # limited=True: 2025 non-Marketplace limits
    with serve(app) as served:
        WebClient(token="xoxb-test", base_url=served.url + "/api/")

POST /api/<method> with form-encoded bodies (slack-sdk sends every argument in the body), Bearer
auth or a `token` argument. Errors are Slack's: HTTP 200 with {"ok": false, "error": ...}
(not_authed, invalid_auth, missing_scope with needed/provided, channel_not_found, not_in_channel,
thread_not_found, invalid_cursor, unknown_method), and HTTP 429 with an integer Retry-After.

`limited=True` applies the limits Slack gives commercially distributed non-Marketplace apps since
May 2025: conversations.history and conversations.replies return at most 15 messages a page and
answer one request a minute. `time_scale` shrinks that minute for tests (0.001: one every 0.06 s);
Retry-After stays in unscaled seconds, so a client sleeping through a clock scaled the same way
behaves exactly as it would against Slack.

`deleted_threads` (parent ts values a test plants; no generated workspace has one): threads deleted
after the history page that lists them was served. conversations.replies answers thread_not_found
for them, as Slack does for a thread no longer there (slackapi/bolt-js#2307).
"""

from __future__ import annotations

import base64
import json
import math
import time
from collections import Counter
from collections.abc import Callable

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .model import Org
from .server import Emulator
from .slack_api import Workspace, ts_key

DEFAULT_SCOPES = frozenset({
    "channels:read", "channels:history", "groups:read", "groups:history", "im:read",
    "im:history", "mpim:read", "mpim:history", "users:read", "users:read.email",
    "usergroups:read", "team:read",
})
LIMITED_METHODS = ("conversations.history", "conversations.replies")
LIMITED_PAGE = 15
LIMITED_INTERVAL = 60.0  # seconds between accepted requests per method, before time_scale
MAX_LIMIT = {"conversations.history": 999, "conversations.replies": 1000,
             "conversations.list": 1000, "users.list": 1000}
DEFAULT_LIMIT = {"conversations.history": 100, "conversations.replies": 1000,
                 "conversations.list": 100, "users.list": 0}
_TYPE_SCOPE = {"public_channel": "channels", "private_channel": "groups", "im": "im",
               "mpim": "mpim"}


def _json(data: dict, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status, headers=headers,
                    content_type="application/json; charset=utf-8")


def _error(error: str, **extra: object) -> Response:
    return _json({"ok": False, "error": error, **extra})


def encode_cursor(kind: str, value: str) -> str:
    return base64.b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(cursor: str, kind: str) -> str | None:
    try:
        found, _, value = base64.b64decode(cursor, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return value if found == kind and value else None


class SlackEmulator(Emulator):
    url_map = Map([Rule("/api/<method>", endpoint="method")])

    def __init__(self, org: Org, token: str, *, scopes: frozenset[str] = DEFAULT_SCOPES,
                 member_of: set[str] | None = None, limited: bool = False,
                 time_scale: float = 1.0) -> None:
        super().__init__()
        self.org = org
        self.token = token
        self.scopes = scopes
        self.member_of = member_of
        self.limited = limited
        self.time_scale = time_scale
        self.last_accepted: dict[str, float] = {}
        self.fail_after: int | None = None  # every request after this many answers HTTP 500
        self.deleted_threads: set[str] = set()  # replies answer thread_not_found (tests plant)
        self.refresh()
        self.methods: dict[str, tuple[str | None, Callable[[dict], Response]]] = {
            "auth.test": (None, self.auth_test),
            "team.info": ("team:read", self.team_info),
            "users.list": ("users:read", self.users_list),
            "conversations.list": (None, self.conversations_list),
            "conversations.history": (None, self.conversations_history),
            "conversations.replies": (None, self.conversations_replies),
            "usergroups.list": ("usergroups:read", self.usergroups_list),
            "bots.info": ("users:read", self.bots_info),
        }

    def refresh(self) -> None:
        """Re-read the organization (tests add messages and replies between collections)."""
        self.ws = Workspace(self.org, self.member_of, "users:read.email" in self.scopes)

    # --- the base server's hooks ----------------------------------------------------------

    def check_auth(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else request.values.get("token")
        if not token:
            return _error("not_authed")
        if token != self.token:
            return _error("invalid_auth")
        return None

    def rate_limited(self, request: Request) -> Response:
        remaining = max(0.0, self.faults.limited_until - time.monotonic())
        return self._too_many(remaining)

    def _too_many(self, remaining_real: float) -> Response:
        retry_after = max(1, math.ceil(remaining_real / self.time_scale))
        return _json({"ok": False, "error": "ratelimited"}, 429,
                     {"Retry-After": str(retry_after)})

    def server_error(self, request: Request, status: int) -> Response:
        if status == 500:
            return _json({"ok": False, "error": "fatal_error"}, 500)
        return Response("<html><body><h1>Bad Gateway</h1></body></html>", status=status,
                        content_type="text/html")

    def not_found(self, request: Request, error: Exception) -> Response:
        return Response("<html><body>404 Not Found</body></html>", status=404,
                        content_type="text/html")

    def on_method(self, request: Request, method: str) -> Response:
        found = self.methods.get(method)
        if found is None:
            return _error("unknown_method", req_method=method)
        if self.fail_after is not None and self.stats.total > self.fail_after:
            return self.server_error(request, 500)
        scope, handler = found
        if scope and scope not in self.scopes:
            return self._missing(scope)
        if self.limited and method in LIMITED_METHODS:
            wait = self._limited_wait(method)
            if wait > 0:
                return self._too_many(wait)
        return handler(request.values.to_dict())

    def _limited_wait(self, method: str) -> float:
        """Real seconds until `method` may be answered again (0: answer now and count it)."""
        interval = LIMITED_INTERVAL * self.time_scale
        now = time.monotonic()
        with self.lock:
            last = self.last_accepted.get(method)
            if last is not None and now - last < interval:
                return last + interval - now
            self.last_accepted[method] = now
        return 0.0

    def _missing(self, needed: str) -> Response:
        return _error("missing_scope", needed=needed, provided=",".join(sorted(self.scopes)))

    def _limit(self, method: str, args: dict) -> int:
        try:
            asked = int(args.get("limit") or DEFAULT_LIMIT[method])
        except ValueError:
            asked = DEFAULT_LIMIT[method]
        cap = MAX_LIMIT[method]
        if self.limited and method in LIMITED_METHODS:
            cap = LIMITED_PAGE
        return cap if asked <= 0 else min(asked, cap)

    # --- methods --------------------------------------------------------------------------

    def auth_test(self, args: dict) -> Response:
        team = self.ws.team
        return _json({"ok": True, "url": team["url"], "team": team["name"],
                      "user": "processhealth", "team_id": team["id"], "user_id": "U0COLLECT1",
                      "bot_id": "B0COLLECT1", "is_enterprise_install": False})

    def team_info(self, args: dict) -> Response:
        return _json({"ok": True, "team": self.ws.team})

    def users_list(self, args: dict) -> Response:
        users = self.ws.users
        start = 0
        if args.get("cursor"):
            after = decode_cursor(args["cursor"], "user")
            if after is None:
                return _error("invalid_cursor")
            start = next((i for i, u in enumerate(users) if u["id"] > after), len(users))
        limit = self._limit("users.list", args)
        page = users[start:start + limit] if limit else users[start:]
        more = start + len(page) < len(users)
        return _json({"ok": True, "members": page, "cache_ts": int(time.time()),
                      "response_metadata": {
                          "next_cursor": encode_cursor("user", page[-1]["id"]) if more else ""}})

    def conversations_list(self, args: dict) -> Response:
        types = [t.strip() for t in (args.get("types") or "public_channel").split(",") if t]
        for t in types:
            if t not in _TYPE_SCOPE:
                return _error("invalid_types")
            if f"{_TYPE_SCOPE[t]}:read" not in self.scopes:
                return self._missing(f"{_TYPE_SCOPE[t]}:read")
        visible = [c for c in self.ws.channels if self._type(c) in types and self._visible(c)]
        start = 0
        if args.get("cursor"):
            after = decode_cursor(args["cursor"], "channel")
            if after is None:
                return _error("invalid_cursor")
            start = next((i + 1 for i, c in enumerate(visible) if c["id"] == after), len(visible))
        limit = self._limit("conversations.list", args)
        page = visible[start:start + limit]
        more = start + len(page) < len(visible)
        return _json({"ok": True, "channels": page, "response_metadata": {
            "next_cursor": encode_cursor("channel", page[-1]["id"]) if more else ""}})

    @staticmethod
    def _type(channel: dict) -> str:
        if channel.get("is_im"):
            return "im"
        if channel.get("is_mpim"):
            return "mpim"
        return "private_channel" if channel.get("is_private") else "public_channel"

    def _visible(self, channel: dict) -> bool:
        # A bot sees private channels only when it is in them; IMs with the im:read scope.
        return self._type(channel) != "private_channel" or channel["id"] in self.ws.member_of

    def _readable(self, args: dict) -> tuple[dict | None, Response | None]:
        channel = self.ws.channel(args.get("channel", ""))
        if channel is None or not self._visible(channel):
            return None, _error("channel_not_found")
        scope = f"{_TYPE_SCOPE[self._type(channel)]}:history"
        if scope not in self.scopes:
            return None, self._missing(scope)
        if self._type(channel) != "im" and channel["id"] not in self.ws.member_of:
            return None, _error("not_in_channel")
        return channel, None

    def conversations_history(self, args: dict) -> Response:
        channel, denied = self._readable(args)
        if denied is not None:
            return denied
        idx = self.ws.index[channel["id"]]
        inclusive = args.get("inclusive") in ("1", "true")
        latest = args.get("latest") or None
        if args.get("cursor"):
            latest = decode_cursor(args["cursor"], "next_ts")
            if latest is None:
                return _error("invalid_cursor")
            inclusive_hi = False
        else:
            inclusive_hi = inclusive
        lo, hi = idx.window(args.get("oldest") or None, None, inclusive)
        if latest is not None:
            _, hi = idx.window(None, latest, inclusive_hi)
        hi = max(lo, hi)
        limit = self._limit("conversations.history", args)
        page = idx.messages[max(lo, hi - limit):hi][::-1]  # newest first
        more = hi - lo > limit
        body = {"ok": True, "messages": page, "has_more": more, "pin_count": 0,
                "channel_actions_ts": None, "channel_actions_count": 0}
        for key in ("oldest", "latest"):
            if args.get(key):
                body[key] = args[key]
        if more:
            body["response_metadata"] = {"next_cursor": encode_cursor("next_ts", page[-1]["ts"])}
        return _json(body)

    def conversations_replies(self, args: dict) -> Response:
        channel, denied = self._readable(args)
        if denied is not None:
            return denied
        idx = self.ws.index[channel["id"]]
        ts = args.get("ts", "")
        if ts in self.deleted_threads:
            return _error("thread_not_found")
        thread = idx.threads.get(ts)
        if thread is None:
            i = idx.window(ts, ts, True)
            if i[1] - i[0] != 1:
                return _error("thread_not_found")
            thread = [idx.messages[i[0]]]
        parent, replies = thread[0], thread[1:]
        oldest, latest = args.get("oldest"), args.get("latest")
        inclusive = args.get("inclusive") in ("1", "true")
        keep = [r for r in replies if _within(r["ts"], oldest, latest, inclusive)]
        start = 0
        if args.get("cursor"):
            position = decode_cursor(args["cursor"], "reply")
            if position is None or not position.isdigit():
                return _error("invalid_cursor")
            start = int(position)
        limit = self._limit("conversations.replies", args)
        # The parent leads the first page and counts towards its limit.
        first = start == 0
        page = ([parent] if first else []) + keep[start:start + limit - first]
        end = start + len(page) - first
        body = {"ok": True, "messages": page, "has_more": end < len(keep)}
        if end < len(keep):
            body["response_metadata"] = {"next_cursor": encode_cursor("reply", str(end))}
        return _json(body)

    def usergroups_list(self, args: dict) -> Response:
        with_users = args.get("include_users") in ("1", "true")
        groups = [g if with_users else {k: v for k, v in g.items() if k != "users"}
                  for g in self.ws.usergroups]
        return _json({"ok": True, "usergroups": groups})

    def bots_info(self, args: dict) -> Response:
        bot = self.ws.bots.get(args.get("bot", ""))
        if bot is None:
            return _error("bot_not_found")
        return _json({"ok": True, "bot": bot})


def _within(ts: str, oldest: str | None, latest: str | None, inclusive: bool) -> bool:
    key = ts_key(ts)
    if oldest and (key < ts_key(oldest) or (key == ts_key(oldest) and not inclusive)):
        return False
    return not (latest and (key > ts_key(latest) or (key == ts_key(latest) and not inclusive)))


def minimum_requests(org: Org, channel_ids: list[str], limited: bool = False) -> Counter:
    """The fewest requests that read these conversations of `org` completely: team.info, the
    users.list and conversations.list pages, usergroups.list, each channel's history pages, one
    conversations.replies per thread with replies (more pages only past the page size), and one
    bots.info per bot that posted."""
    def pages(n: int, size: int) -> int:
        return max(1, -(-n // size))

    history = LIMITED_PAGE if limited else MAX_LIMIT["conversations.history"]
    replies = LIMITED_PAGE if limited else MAX_LIMIT["conversations.replies"]
    users = sum(1 for p in org.people if p.slack_id) + 1  # + Slackbot
    counts = Counter({"team.info": 1, "users.list": pages(users, MAX_LIMIT["users.list"]),
                      "usergroups.list": 1, "conversations.list": pages(
                          len(org.slack.channels), MAX_LIMIT["conversations.list"])})
    bots = set()
    for ch in org.slack.channels:
        if ch.id not in channel_ids:
            continue
        counts["conversations.history"] += pages(len(ch.messages), history)
        for m in ch.messages:
            bots |= {x.bot_id for x in [m, *m.replies] if x.bot_id}
            if m.replies:
                counts["conversations.replies"] += pages(len(m.replies) + 1, replies)
    if bots:
        counts["bots.info"] = len(bots)
    return counts
