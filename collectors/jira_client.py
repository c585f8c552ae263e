"""Connecting the `jira` library (>= 3.10.5) and turning its failures into one-paragraph errors.

Retries stay in the client's transport, under the library's ResilientSession: the adapter waits
out a 429 or 503 with Retry-After exactly as long as Jira asks (the library would ask again
sooner, see RetryAfterAdapter), and its urllib3 retries take the gateway errors the library
leaves alone (500/502/504, and 503 without Retry-After). What reaches the library is a 429
without Retry-After and connection errors, which it retries with its own backoff (its warnings
are forwarded to the terminal). A body cut off mid-way ends the run with a message; the next run
resumes from the last page saved.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse, urlsplit

import requests
from jira import JIRA, JIRAError
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from collectors.clock import Clock
from processhealth import ui
from processhealth.config_models import JiraConfig
from processhealth.errors import SourceError

TIMEOUT = 60  # seconds per request
MAX_RETRY_DELAY = 60  # longest wait of the library between retries (its default)
RETRY_AFTER_WAITS = 10  # waits for one request answered 429 (or 503) with Retry-After


class GatewayRetry(Retry):
    """Gateway errors (500/502/504), and a 503 without Retry-After, which the library gives up
    on at once (jira.resilientsession retries 503 only with the header; Jira sends it "sometimes":
    Atlassian's rate-limiting guide). 429, and a 503 with Retry-After, go to RetryAfterAdapter."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 503 and not has_retry_after and self.total:
            return method.upper() in (self.allowed_methods or ())
        return super().is_retry(method, status_code, has_retry_after)


GATEWAY_RETRY = GatewayRetry(total=3, connect=0, read=0, status=3,
                             status_forcelist=(500, 502, 504),
                             allowed_methods=frozenset({"GET"}), backoff_factor=0.5,
                             raise_on_status=False, respect_retry_after_header=False)


def host_of(config: JiraConfig) -> str:
    return urlparse(config.base_url or "").netloc or str(config.base_url)


class RetryAfterAdapter(HTTPAdapter):
    """Waits out a 429, or a 503 with Retry-After, exactly as long as Jira asks, then asks again.

    The library retries these itself after min(max_retry_delay = 60, 2 x Retry-After) seconds
    times a random 0.5-1 (jira.resilientsession, __recoverable): a Retry-After above 30 s could
    be asked again too early, one above 60 s always was, three times in a few minutes, and then
    the whole collection stopped. Asking early does not help: "If you reissue the request before
    the retry period expires, the request will fail and return the same or longer Retry-After
    period" (Atlassian, Jira Cloud "Rate limiting"). Each wait is announced, so a cron log shows
    why the run pauses, and sleeps on `clock` (tests scale it). A Retry-After longer than
    [jira] max_rate_limit_wait, or one more after RETRY_AFTER_WAITS waits, stops the run at once
    with a message; everything read before is saved and the next run resumes there."""

    def __init__(self, config: JiraConfig, clock: Clock) -> None:
        super().__init__(max_retries=GATEWAY_RETRY)
        self.host, self.longest, self.clock = host_of(config), config.max_rate_limit_wait, clock

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
             ) -> requests.Response:
        for waits in range(RETRY_AFTER_WAITS + 1):
            response = super().send(request, *args, **kwargs)
            seconds = retry_after(response)
            if seconds is None:
                return response
            what = (f"HTTP {response.status_code} to {request.method} "
                    f"{urlsplit(request.url or '').path}")
            until = (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%H:%M:%S")
            if seconds > self.longest:
                raise SourceError(
                    f"Jira at {self.host} answered {what} and asked to wait {seconds:.0f} s "
                    f"(Retry-After), longer than [jira] max_rate_limit_wait = {self.longest:g} s "
                    f"allows. Everything read so far is saved; run `processhealth collect` again "
                    f"after {until} UTC.")
            if waits == RETRY_AFTER_WAITS:
                raise SourceError(
                    f"Jira at {self.host} still answered {what} after {waits} waits as long as "
                    f"it asked (Retry-After). Everything read so far is saved; run `processhealth "
                    f"collect` again later.")
            response.close()
            ui.warn(f"Jira at {self.host} answered {what} and asked to wait {seconds:.0f} s "
                    f"(Retry-After); waiting until {until} UTC, then retrying.")
            self.clock.sleep(seconds)
        raise AssertionError("unreachable")  # the loop returns or raises


def retry_after(response: requests.Response) -> float | None:
    """Seconds a 429 or 503 asks to wait (Retry-After: seconds or an HTTP date), else None."""
    value = response.headers.get("Retry-After")
    if response.status_code not in (429, 503) or value is None:
        return None
    try:
        return float(GATEWAY_RETRY.parse_retry_after(value))
    except InvalidHeader:
        return None  # unreadable: the library's own backoff (429) or the gateway retries (503)


def connect(config: JiraConfig, clock: Clock | None = None) -> JIRA:
    """A client for config.base_url that has asked serverInfo (version, deployment) through
    the retry adapters, so that a rate limit on that first request is waited out as on any
    other (the library's constructor would ask it before they are mounted, and wait its own
    time). Waits for Retry-After sleep on `clock` (tests pass a ScaledClock)."""
    token = config.token.resolve(key="jira.token")
    options = {"server": config.base_url, "rest_api_version": "2", "check_update": False}
    auth: dict[str, Any] = {"token_auth": token} if config.auth == "pat" else {
        "basic_auth": (config.email.resolve(key="jira.email"), token)}
    what = "the server information (serverInfo)"
    with errors(config, what):
        client = JIRA(options=options, timeout=TIMEOUT, max_retries=3, get_server_info=False,
                      **auth)
    client._session.max_retry_delay = MAX_RETRY_DELAY  # JIRA() does not pass it on
    adapter = RetryAfterAdapter(config, clock or Clock())
    for prefix in ("http://", "https://"):  # the session is the library's; no public hook
        client._session.mount(prefix, adapter)
    with errors(config, what):
        info = client.server_info()
    # what JIRA() sets from it when it asks itself (jira 3.x, JIRA.__init__): the version picks
    # the API of some calls, the deployment type Cloud's or Data Center's
    try:
        client._version = tuple(info["versionNumbers"])
    except (KeyError, TypeError):
        raise SourceError(f"Jira at {host_of(config)} answered {what} without versionNumbers; "
                          f"is {config.base_url} a Jira site?") from None
    client.deploymentType = info.get("deploymentType")
    return client


def is_cloud(client: JIRA, config: JiraConfig) -> bool:
    if config.flavour != "auto":
        return config.flavour == "cloud"
    return client.deploymentType == "Cloud"


def count_requests(client: JIRA) -> Callable[[], int]:
    """Count the HTTP responses the client receives, from the serverInfo call the constructor
    made (for the progress line)."""
    seen = [1]

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        seen[0] += 1

    client._session.hooks["response"].append(hook)  # the library exposes no public hook
    return lambda: seen[0]


class _RetryNotes(logging.Handler):
    """Shows the library's "will retry ... in Ns" warnings (a 429 without Retry-After, a
    connection error) on the terminal."""

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if "will retry" in text:
            ui.warn("Jira: " + text.split(" Err: ")[0].replace("Got recoverable error", "got a "
                    "retryable answer"))


@contextlib.contextmanager
def retry_notes() -> Iterator[None]:
    log = logging.getLogger("jira")
    handler = _RetryNotes(logging.WARNING)
    log.addHandler(handler)
    try:
        yield
    finally:
        log.removeHandler(handler)


@contextlib.contextmanager
def errors(config: JiraConfig, what: str, project: str | None = None) -> Iterator[None]:
    """Turn JIRAError / network failures while fetching `what` into a SourceError."""
    try:
        yield
    except JIRAError as exc:
        raise SourceError(_describe(config, what, project, exc)) from None
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise SourceError(
            f"Cannot reach Jira at {config.base_url} while fetching {what}: {_first_line(exc)}. "
            f"Check jira.base_url in the config and the network; `processhealth collect` resumes "
            f"where it stopped."
        ) from None
    except ValueError as exc:  # the library's JSON decoding of a cut-off or non-JSON body
        raise SourceError(
            f"Jira at {host_of(config)} sent an unreadable answer for {what} ({_first_line(exc)}); "
            f"expected JSON. Run `processhealth collect` again: it resumes from the last page "
            f"saved."
        ) from None
    except requests.RequestException as exc:  # e.g. the connection broke off mid-body
        raise SourceError(
            f"Jira at {host_of(config)} broke off its answer for {what} ({_first_line(exc)}). "
            f"Run `processhealth collect` again: it resumes from the last page saved."
        ) from None


def _describe(config: JiraConfig, what: str, project: str | None, exc: JIRAError) -> str:
    host = host_of(config)
    status = exc.status_code
    said = _first_line(exc.text) if exc.text and "<html" not in exc.text.lower() else ""
    detail = f" (Jira said: {said})" if said else ""
    token, email = f"${config.token.var}", f"${config.email.var}"
    if status == 401:
        how = (f"{email} and {token} must hold the account's email and an API token"
               if config.auth == "basic" else
               f"{token} must hold a valid personal access token")
        return (f"Jira at {host} rejected the credentials with HTTP 401 while fetching {what}"
                f"{detail}. With jira.auth = \"{config.auth}\", {how}; check them, or switch "
                f"jira.auth (\"basic\" for Cloud, \"pat\" for Data Center).")
    if status == 400 and project and "does not exist for the field 'project'" in (exc.text or ""):
        who = email if config.auth == "basic" else token
        return (f"Jira at {host} has no project {project} that the account in {who} can see"
                f"{detail}. Check the key in jira.projects (keys are case-sensitive, e.g. PAY) "
                f"and that the account may browse that project.")
    if status == 403:
        return (f"Jira at {host} refused access to {what} with HTTP 403{detail}. The account "
                f"in {email if config.auth == 'basic' else token} lacks permission for it.")
    if status == 410:
        return (f"Jira at {host} answered HTTP 410 Gone for {what}{detail}: it retired that API. "
                f"Set jira.flavour = \"cloud\" so the /search/jql API is used.")
    if status == 404:
        return (f"Jira at {host} answered HTTP 404 for {what}{detail}. Check jira.base_url "
                f"(the site root, e.g. https://acme.atlassian.net) and jira.flavour.")
    return (f"Jira at {host} answered HTTP {status} for {what}{detail}. If it is a server-side "
            f"problem, run `processhealth collect` again later: it resumes where it stopped.")


def _first_line(value: Any) -> str:
    text = str(value).strip().splitlines()[0] if str(value).strip() else ""
    return text[:300]
