"""slack-sdk's WebClient, set up once: base URL, token, retries, pacing, errors that say what to do.

Retries live here and only here, as slack-sdk retry handlers: 429 through a subclass of slack-sdk's
RateLimitErrorRetryHandler that honours Retry-After; 5xx, dropped connections and cut-off bodies
with a short backoff. Every wait goes through one `Waiter`, which shows it on the progress line and
sleeps on a `Clock` that tests and benchmarks replace (collectors/clock.py: a scaled clock runs a
Slack minute in 60 ms).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator
from http.client import HTTPException, IncompleteRead, RemoteDisconnected
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RateLimitErrorRetryHandler, RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from collectors.clock import Clock
from processhealth import ui
from processhealth.config_models import SlackConfig
from processhealth.errors import SourceError

# Slack's 2025 limits for non-Marketplace apps: these methods, one request a minute each.
LIMITED_METHODS = ("conversations.history", "conversations.replies")
# The list each paged method answers with (a page without it is short, not empty).
LIST_KEYS = {"conversations.history": "messages", "conversations.replies": "messages",
             "conversations.list": "channels", "users.list": "members",
             "usergroups.list": "usergroups"}
SHORT_RETRIES = 2
LIMITED_INTERVAL = 60.0
TIMEOUT = 60  # seconds per request
AUTH_ERRORS = {"not_authed", "invalid_auth", "account_inactive", "token_revoked",
               "token_expired", "no_permission", "not_allowed_token_type"}


class Waiter:
    """Sleeps on the clock, says why on the progress line, and counts the waits."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.bar: ui.Step | None = None
        self.count = 0
        self.seconds = 0.0

    def wait(self, seconds: float, why: str) -> None:
        if seconds <= 0:
            return
        self.count += 1
        self.seconds += seconds
        if self.bar is not None:
            previous = self.bar.note_text
            self.bar.note(f"waiting {seconds:.0f}s: {why}")
        self.clock.sleep(seconds)
        if self.bar is not None:
            self.bar.note(previous)


def api_base(url: str) -> str:
    """The Web API root with its slash: "https://slack.com/api/"; a bare server URL (an emulator's,
    a proxy's) gets the /api/ every Slack method lives under."""
    root = url.rstrip("/")
    return (root if root.endswith("/api") else root + "/api") + "/"


def _method(request: HttpRequest) -> str:
    return urlsplit(request.url).path.rsplit("/", 1)[-1]


class RetryAfterHandler(RateLimitErrorRetryHandler):
    """slack-sdk's 429 handler, waiting exactly Retry-After through the Waiter."""

    def __init__(self, waiter: Waiter, max_retry_count: int = 20, hint: bool = True) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.waiter = waiter
        self.hint = hint  # say once when the waits look like the non-Marketplace limits

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None,
                                 error: Exception | None = None) -> None:
        if response is None:
            raise error  # type: ignore[misc]
        state.next_attempt_requested = True
        header = next((v for k, v in response.headers.items() if k.lower() == "retry-after"),
                      None)
        value = header[0] if isinstance(header, list) else header
        seconds = int(value) if value and str(value).isdigit() else 1
        method = _method(request)
        if self.hint and method in LIMITED_METHODS and seconds >= 20:
            self.hint = False
            ui.warn(f"slack: {method} is limited to about one request a minute: this looks like "
                    f"an app without Slack Marketplace approval. Set slack.limited_app = true to "
                    f"pace requests, or import an export for the history (see README).")
        self.waiter.wait(seconds, f"Slack rate limit on {method} (Retry-After)")
        state.increment_current_attempt()


class TransientErrorHandler(RetryHandler):
    """5xx answers, dropped or reset connections, cut-off bodies: retry after 1, 2, 4, ... 32 s."""

    def __init__(self, waiter: Waiter, max_retry_count: int = 6) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.waiter = waiter

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        if response is not None:
            return response.status_code >= 500
        return isinstance(error, json.JSONDecodeError | ConnectionError | RemoteDisconnected
                          | URLError | TimeoutError | IncompleteRead)

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None,
                                 error: Exception | None = None) -> None:
        state.next_attempt_requested = True
        what = f"HTTP {response.status_code}" if response is not None else type(error).__name__
        self.waiter.wait(2 ** state.current_attempt, f"{what} from {_method(request)}, retrying")
        state.increment_current_attempt()


class SlackCallError(SourceError):
    """A Slack method answered ok: false; `code` is Slack's error string."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class SlackApi:
    """The WebClient plus pacing, page counting and error translation."""

    def __init__(self, cfg: SlackConfig, token: str, clock: Clock | None = None) -> None:
        self.waiter = Waiter(clock or Clock())
        self.base_url = api_base(cfg.base_url)
        self.host = urlsplit(self.base_url).netloc or self.base_url
        self.token_var = cfg.token.var
        logger = logging.getLogger("collectors.slack.sdk")
        logger.propagate = False  # failures surface as SourceError, retries on the progress line
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())
        self.client = WebClient(
            token=token, base_url=self.base_url, timeout=TIMEOUT, logger=logger,
            retry_handlers=[RetryAfterHandler(self.waiter, hint=not cfg.limited_app),
                            TransientErrorHandler(self.waiter)],
        )
        self.interval = {m: LIMITED_INTERVAL for m in LIMITED_METHODS} if cfg.limited_app else {}
        self.last: dict[str, float] = {}
        self.calls: Counter[str] = Counter()

    def call(self, method: str, **params: Any) -> dict:
        return next(self.pages(method, **params))

    def pages(self, method: str, **params: Any) -> Iterator[dict]:
        """Each page of `method`, following next_cursor (as slack-sdk's iteration does).

        A list page without its list, or empty although it says has_more, is asked for again
        (SHORT_RETRIES times), then stops the run; a cursor already followed (a pagination
        loop), or has_more without a cursor, stops it too: a short list must not pass as
        complete."""
        call = getattr(self.client, method.replace(".", "_"))
        cursor = params.pop("cursor", None)
        followed: set[str] = set()
        try:
            while True:
                data = self._page(method, call, params, cursor)
                yield data
                cursor = (data.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    if data.get("has_more") and method in LIST_KEYS:
                        raise self._short(method, params, "has_more without a next_cursor")
                    return
                if cursor in followed:
                    raise self._short(method, params, "a next_cursor it had sent before "
                                                      "(the pagination loops)")
                followed.add(cursor)
        except SlackApiError as exc:
            self.calls[method] += 1
            raise self._error(method, params, exc) from None
        except (URLError, OSError, HTTPException, json.JSONDecodeError) as exc:
            raise SourceError(
                f"Could not read {method} from Slack at {self.host}: {exc}. Check slack.base_url "
                f"({self.base_url}) and the network; the next run resumes where this one stopped."
            ) from None

    def _page(self, method: str, call: Any, params: dict, cursor: str | None) -> dict:
        key = LIST_KEYS.get(method)
        for attempt in range(SHORT_RETRIES + 1):
            self._pace(method)
            page = call(**params, cursor=cursor) if cursor else call(**params)
            self.calls[method] += 1
            self.last[method] = self.waiter.clock.now()
            data = page.data if isinstance(page.data, dict) else {}
            found = data.get(key) if key else None
            if key is None or (isinstance(found, list) and (found or not data.get("has_more"))):
                return data
            if attempt < SHORT_RETRIES:
                ui.warn(f"Slack at {self.host} sent a short {method} page; asking again.")
        raise self._short(method, params, f"no {key}" if not isinstance(found, list)
                          else f"no {key} although has_more is true")

    def _short(self, method: str, params: dict, what: str) -> SourceError:
        where = f" for channel {params['channel']}" if "channel" in params else ""
        return SourceError(
            f"Slack at {self.host} answered {method}{where} with {what}. Everything before it "
            f"is saved; run `processhealth collect` again to resume.")

    def _pace(self, method: str) -> None:
        interval = self.interval.get(method)
        last = self.last.get(method)
        if interval and last is not None:
            self.waiter.wait(last + interval - self.waiter.clock.now(),
                             f"{method} allows one request a minute (slack.limited_app)")

    def _error(self, method: str, params: dict, exc: SlackApiError) -> SourceError:
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        code = str(data.get("error") or f"HTTP {exc.response.status_code}")
        where = f" for channel {params['channel']}" if "channel" in params else ""
        if code in AUTH_ERRORS:
            return SlackCallError(
                f"Slack at {self.host} refused the token in ${self.token_var} ({code}) when "
                f"calling {method}. Set {self.token_var} to the bot token (xoxb-...) of the app "
                f"installed in this workspace, or fix slack.token in the config.", code)
        if code == "missing_scope":
            needed, provided = data.get("needed", "?"), data.get("provided", "?")
            return SlackCallError(
                f"Slack at {self.host} says the token in ${self.token_var} lacks the scope "
                f"{needed} needed for {method}{where} (it has: {provided}). Add {needed} to the "
                f"app's Bot Token Scopes, reinstall the app, and run again.", code)
        if code == "ratelimited":
            return SlackCallError(
                f"Slack at {self.host} kept answering {method}{where} with 429 (rate limited) "
                f"after {self.waiter.count} waits. Run again later: collection resumes where it "
                f"stopped. If this app is not Marketplace-approved, set slack.limited_app = true "
                f"or import an export (`processhealth import slack-export`).", code)
        if code.startswith("Received a response in a non-JSON format"):
            return SlackCallError(
                f"Slack at {self.host} answered {method}{where} with a page that is not JSON (a "
                f"proxy or gateway may have answered instead of Slack). Run `processhealth "
                f"collect` again: it resumes where this run stopped. If it persists, check "
                f"slack.base_url ({self.base_url}).", "not_json")
        return SlackCallError(
            f"Slack at {self.host} answered {method}{where} with error {code!r}. "
            f"Check slack.base_url ({self.base_url}) and the channel settings in [slack].", code)
