"""PyGithub, set up for bulk reading: raw list pages, retries that say when they wait, clear errors.

PyGithub's model classes complete themselves on attribute access (one GET per object) and
`raw_data` completes too. List pages are therefore read into `RawItem`, a non-completable
object that keeps each item's payload exactly as the list returned it; PyGithub still does the
requests, the authentication, the `Link` pagination and the retries.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import requests
from github import Auth, Github, GithubException, GithubRetry
from github.GithubException import BadCredentialsException, RateLimitExceededException
from github.GithubObject import NonCompletableGithubObject
from github.PaginatedList import PaginatedList
from github.Requester import Requester

from processhealth import __version__, ui
from processhealth.config_models import GitHubConfig
from processhealth.errors import SourceError
from processhealth.github_app_key import read_private_key

Json = dict[str, Any]
TRUNCATED_RETRIES = 3
# A body that ends early: invalid JSON, or a connection reset before Content-Length was read.
CUT_OFF = (ValueError, requests.exceptions.ChunkedEncodingError)
TIMEOUT = 15  # seconds per request (PyGithub's default); a silent server counts as a failure


class RawItem(NonCompletableGithubObject):
    """A list item kept as the API sent it: no parsing, never completed by another GET."""

    def _initAttributes(self) -> None:
        pass

    def _useAttributes(self, attributes: Any) -> None:
        pass


class WaitingRetry(GithubRetry):
    """GithubRetry (primary limits wait for x-ratelimit-reset, secondary ones for Retry-After,
    5xx back off) that reports every wait of a second or more before sleeping."""

    def __init__(self, on_wait: Callable[[float, Any], None] | None = None, **kwargs: Any):
        self.on_wait = on_wait
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> WaitingRetry:
        kw["on_wait"] = self.on_wait
        return super().new(**kw)  # type: ignore[return-value]

    def sleep(self, response: Any = None) -> None:
        wait = (self.get_retry_after(response) if response is not None else None)
        wait = wait or self.get_backoff_time()
        if wait >= 1 and self.on_wait is not None:
            self.on_wait(wait, response)
        super().sleep(response)


def host_of(config: GitHubConfig) -> str:
    return urlparse(config.base_url).netloc or config.base_url


def announce_wait(host: str) -> Callable[[float, Any], None]:
    def say(wait: float, response: Any) -> None:
        until = (datetime.now(UTC) + timedelta(seconds=wait)).strftime("%H:%M:%S")
        status = getattr(response, "status", None)
        why = ("rate limit reached" if status in (403, 429)
               else f"answered {status}" if status else "did not answer")
        ui.warn(f"GitHub at {host} {why}; waiting {wait:.0f} s (until {until} UTC), "
                f"then the collection continues by itself.")
    return say


LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def throttle(config: GitHubConfig) -> float | None:
    """Seconds between requests: as configured, else PyGithub's default, none on loopback."""
    if config.seconds_between_requests is not None:
        return config.seconds_between_requests or None
    return None if urlparse(config.base_url).hostname in LOOPBACK else 0.25


def client(config: GitHubConfig) -> Github:
    """A PyGithub client for the configured host: per_page, retries, optional throttle.

    With auth = "app" the first installation token is fetched here, so a refused App sign-in
    is reported as such (not as a failure of the first list). PyGithub renews the token itself
    when less than 20 s of its hour are left, on whichever request comes next."""
    retry = WaitingRetry(
        on_wait=announce_wait(host_of(config)), total=config.retries,
        backoff_factor=config.retry_backoff, max_rate_limit_wait=config.max_rate_limit_wait)
    gh = Github(
        auth=credentials(config), base_url=config.base_url.rstrip("/"), per_page=config.per_page,
        retry=retry, timeout=TIMEOUT, seconds_between_requests=throttle(config),
        seconds_between_writes=None, user_agent=f"processhealth/{__version__}")
    if config.auth == "app":
        doing = f"an installation token (POST /app/installations/{config.installation_id}/" \
                f"access_tokens)"
        with source_errors(config, lambda: doing):
            try:
                assert gh.requester.auth is not None
                gh.requester.auth.token  # noqa: B018 - the property asks GitHub for the token
            except GithubException as exc:
                if exc.status not in (401, 403, 404):
                    raise
                raise SourceError(app_refused(config, exc, doing)) from None
    return gh


def credentials(config: GitHubConfig) -> Auth.Auth:
    """PyGithub's own auth: the personal token, or the App's installation auth (JWT-signed)."""
    if config.auth == "app":
        assert config.app_id is not None and config.installation_id is not None
        app = Auth.AppAuth(config.app_id, read_private_key(config))
        return app.get_installation_auth(config.installation_id)
    return Auth.Token(config.token.resolve(key="github.token"))


def identity(config: GitHubConfig, requester: Requester) -> str:
    """Who the collector reads as: the token's login (GET /user), or the App (GET /app, signed
    with the App's JWT) and its installation. Falls back to the id if GitHub will not say."""
    if config.auth == "app":
        app_auth = Auth.AppAuth(config.app_id or 0, read_private_key(config))
        try:
            app = requester.withAuth(app_auth).requestJsonAndCheck("GET", "/app")[1]
            name = f"{app.get('slug') or app.get('name')} (id {config.app_id})"
        except GithubException:
            name = f"id {config.app_id}"
        return f"GitHub App {name}, installation {config.installation_id}"
    try:
        login = requester.requestJsonAndCheck("GET", "/user")[1].get("login")
    except GithubException as exc:
        if isinstance(exc, BadCredentialsException):
            raise
        login = None
    return f"token of {login}" if login else "a token"


class ShortPage(ValueError):
    """A page that is empty although its Link header names a next page."""


class CheckedList(PaginatedList):
    """PyGithub's list, which ends silently at an empty page and follows any next link: here
    an empty page whose Link header promises more is an error the caller asks again for, and a
    next link already followed (a pagination loop) stops the list."""

    def _fetchNextPage(self) -> list:
        url = self._PaginatedList__nextUrl  # type: ignore[attr-defined]
        seen = self.__dict__.setdefault("_ph_seen", set())
        if url in seen:
            raise SourceError(
                f"GitHub's pagination led back to a page already read ({url}); the list loops. "
                f"Everything before it is saved; run `processhealth collect` again later.")
        page = super()._fetchNextPage()
        seen.add(url)
        return page

    def _getPage(self, data: Any, headers: Any) -> list:
        if self.is_rest and not data and 'rel="next"' in str((headers or {}).get("link", "")):
            raise ShortPage("an empty page whose Link header names a next page")
        return super()._getPage(data, headers)


def items(requester: Requester, url: str, params: dict[str, str]) -> Iterator[Json]:
    """Every item of a paged list, following the server's Link headers.

    A cut-off body (invalid JSON, a reset mid-body) or an empty page that promises more is asked
    for again, up to TRUNCATED_RETRIES times; PyGithub's list keeps its place, so nothing
    already yielded is yielded twice."""
    plist = CheckedList(RawItem, requester, url, dict(params))
    done = failures = 0
    while True:
        try:
            for n, item in enumerate(plist):
                if n >= done:
                    done += 1
                    yield _checked(requester, url, item.raw_data)
            return
        except CUT_OFF as exc:
            failures += 1
            _cut_off(url, failures, exc)


def pages(requester: Requester, url: str, params: dict[str, str], size: int
          ) -> Iterator[list[Json]]:
    """`items` in batches of one page (the last may be shorter)."""
    batch: list[Json] = []
    for item in items(requester, url, params):
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def get(requester: Requester, url: str) -> Json:
    """One object (GET), asked for again if its body arrives cut off."""
    for failures in range(1, TRUNCATED_RETRIES + 2):
        try:
            data = requester.requestJsonAndCheck("GET", url)[1]
            if not isinstance(data, dict) or _not_json(data):
                raise ValueError("the body is not a JSON object")
            return data
        except CUT_OFF as exc:
            _cut_off(url, failures, exc)
    raise AssertionError("unreachable")


def _not_json(data: Any) -> bool:
    """PyGithub hands a body that is not JSON (a proxy's HTML page) over as {"data": text}."""
    return isinstance(data, dict) and list(data) == ["data"] and isinstance(data["data"], str)


def _checked(requester: Requester, url: str, item: Any) -> Json:
    """A list item must be a JSON object. PyGithub turns a page that is not JSON into one
    {"data": text} whose key it then lists as an item, and ends the list there: stop rather
    than save a wrong row or miss the rest of the list."""
    if isinstance(item, dict):
        return item
    raise SourceError(
        f"GitHub at {urlparse(requester.base_url).netloc} answered {url} with a page that is "
        f"not JSON (a proxy or gateway may have answered instead of GitHub). Everything before "
        f"it is saved; run `processhealth collect` again to resume."
    )


def _cut_off(url: str, failures: int, exc: Exception) -> None:
    """Warn and let the caller ask again, or give up after TRUNCATED_RETRIES."""
    if failures > TRUNCATED_RETRIES:
        raise SourceError(
            f"GitHub returned an unreadable (cut-off) or short response {failures} times in a "
            f"row for {url}: {exc}. Everything before it is saved; run `processhealth collect` "
            f"again to resume."
        ) from None
    ui.warn(f"GitHub sent a cut-off or short response for {url} ({exc}); asking again.")


@contextlib.contextmanager
def source_errors(config: GitHubConfig, doing: Callable[[], str]) -> Iterator[None]:
    """Turn client failures into one-paragraph SourceErrors naming host, thing and variable."""
    host, var = host_of(config), config.token.var
    reader = (f"the GitHub App {config.app_id} (installation {config.installation_id})"
              if config.auth == "app" else f"the token in {var}")
    try:
        yield
    except BadCredentialsException as exc:
        if config.auth == "app":
            raise SourceError(app_refused(config, exc, doing())) from None
        raise SourceError(
            f"GitHub at {host} refused the token (401 Bad credentials) while reading "
            f"{doing()}. The token is read from the environment variable {var} ([github] "
            f"token); set it to a valid token for {host} that can read the organization's "
            f"repositories, then run `processhealth collect` again. Nothing was saved for the "
            f"request that failed."
        ) from None
    except RateLimitExceededException as exc:
        raise SourceError(
            f"GitHub at {host} kept answering with its rate limit while reading {doing()} "
            f"({_message(exc)}), longer than [github] max_rate_limit_wait = "
            f"{config.max_rate_limit_wait:g} s allows. Everything read so far is saved; run "
            f"`processhealth collect` again after the limit resets (reading as {reader})."
        ) from None
    except GithubException as exc:
        if config.auth == "app" and exc.status == 401:  # a JWT GitHub could not verify
            raise SourceError(app_refused(config, exc, doing())) from None
        hint = {404: "it does not exist, or {reader} cannot see it (private repositories "
                     "need the repo scope, or the App installed on them)",
                403: "{reader} is not allowed to read it"}.get(exc.status, "see the message")
        raise SourceError(
            f"GitHub at {host} answered {exc.status} ({_message(exc)}) while reading "
            f"{doing()}: {hint.format(reader=reader)}. Check [github] org and repos in the config. "
            f"Everything read before it is saved."
        ) from None
    except requests.exceptions.RetryError as exc:  # 5xx answers outlasted [github] retries
        why = getattr(getattr(exc.args[0] if exc.args else None, "reason", None), "args", ())
        raise SourceError(
            f"GitHub at {host} kept failing while reading {doing()} ({why[0] if why else exc}) "
            f"after {config.retries} retries ([github] retries). Everything read before it is "
            f"saved; run `processhealth collect` again later to resume."
        ) from None
    except requests.exceptions.RequestException as exc:
        raise SourceError(
            f"Could not get an answer from GitHub at {host} while reading {doing()}: {exc}. "
            f"Check [github] base_url and the network; everything read before it is saved, "
            f"and `processhealth collect` resumes from there."
        ) from None


def app_refused(config: GitHubConfig, exc: GithubException, doing: str) -> str:
    """One paragraph for a refused App sign-in: which App, installation and key, what to check."""
    host = host_of(config)
    key = (f'the environment variable {config.private_key.var} ([github] private_key)'
           if config.private_key is not None else f"{config.private_key_file}")
    if exc.status == 404:
        what = (f"knows no installation {config.installation_id} of the GitHub App "
                f"{config.app_id} (404 Not Found)")
        fix = ("check [github] installation_id: it is the number at the end of the "
               "installation's settings URL (.../settings/installations/<id>) on the organization")
    else:
        what = f"refused the GitHub App sign-in ({exc.status} {_message(exc)})"
        fix = (f"check that [github] app_id = {config.app_id} is the App's id (its settings "
               f"page, \"App ID\") installed as installation {config.installation_id}, that the "
               f"private key from {key} was generated for that App "
               f"on {host}, and that this machine's clock is right (the signed request is valid "
               f"for minutes only)")
    return (f"GitHub at {host} {what} while reading {doing}: {fix}. Nothing was saved for the "
            f"request that failed; run `processhealth collect` again once fixed.")


def paging_limited(exc: GithubException) -> bool:
    """GitHub's 422 for a list paged past what it serves: "In order to keep the API fast for
    everyone, pagination is limited for this resource." (a repository's issue comments, past
    about 40,000: singer-io/tap-github#61, which followed the Link header into it), or, for
    page numbers deep in a repository's issues, "Pagination with the page parameter is not
    supported for large datasets" (google/go-github#3565, josegonzalez/python-github-backup#429)."""
    said = message_of(exc).lower()
    return exc.status == 422 and ("pagination is limited" in said
                                  or "pagination with the page parameter" in said)


def message_of(exc: GithubException) -> str:
    """What GitHub said in an error answer (its `message`), else the exception's text."""
    return _message(exc)


def _message(exc: GithubException) -> str:
    data = exc.data
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])
    return str(data or exc)
